/* probity monitor: follow a remote log (see include/probity/monitor.h). */
#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probity/monitor.h"
#include "base/util.h"
#include "cli.h"

#define CMD "monitor"
#define MAX_WITNESSES 32
#define TOKEN_MAX 4096

static const cli_cmd monitor_cmd = {
	CMD, "URL --vkey VERIFIERKEY [OPTION]...",
	"Follows the c2sp.org/tlog-tiles log at URL (its prefix, e.g.\n"
	"http://127.0.0.1:8080/ or https://host/path/). Each round gets\n"
	"URL/checkpoint, checks its signature by VERIFIERKEY (the origin must\n"
	"be the key's name) and the cosignatures of the witnesses, then\n"
	"compares it with the last verified checkpoint: a smaller tree is a\n"
	"rollback, another root for the same size a split view. For a larger\n"
	"tree it fetches only the entry bundles from the last verified size on\n"
	"(a partial bundle that is gone is fetched full), hashes every new\n"
	"entry into the stored right edge of the tree, compares every hash\n"
	"tile that fills and the partial tiles of the new size with the\n"
	"recomputed hashes, and requires the recomputed root to be the\n"
	"checkpoint's. The first checkpoint seen is verified the same way from\n"
	"entry 0 (trust on first use of the signed checkpoint).\n"
	"\n"
	"Prints one line per newly verified checkpoint on stdout:\n"
	"  verified size N root BASE64 (+K entries, W cosignatures)\n"
	"and nothing when the checkpoint has not changed.\n",
	"A split view, a rollback or a checkpoint that does not extend the last\n"
	"one is reported on stderr in a block starting with \"probity monitor:\n"
	"SPLIT VIEW\" or \"probity monitor: INCONSISTENT CHECKPOINT\"; both signed\n"
	"checkpoints are saved verbatim as DIR/evidence/TIME-KIND/stored.checkpoint\n"
	"and new.checkpoint, and the state is left as it was.\n"
	"When following, transport failures (refused, timed out, HTTP 5xx) and\n"
	"checkpoints lacking cosignatures are reported and retried next round;\n"
	"anything else ends the monitor; SIGINT or SIGTERM stop it (exit 0).\n",
	"  3  a split view or inconsistent checkpoint (evidence saved)\n"
	"  4  the log serves entries or tiles that do not verify (the message\n"
	"     names the URL, the position, expected and found)\n",
	1, 1};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Reads the bearer token: the file's first line, trimmed, printable. */
static int
read_token(const char *path, char *tok, size_t cap)
{
	uint8_t *data;
	size_t len;
	prb_err err;
	if (prb_read_file(path, TOKEN_MAX, &data, &len, &err))
		return cli_fail(CMD, &err);
	size_t a = 0, b = 0;
	while (a < len && (data[a] == ' ' || data[a] == '\t'))
		a++;
	b = a;
	while (b < len && data[b] != '\n' && data[b] != '\r')
		b++;
	while (b > a && (data[b - 1] == ' ' || data[b - 1] == '\t'))
		b--;
	int bad = b == a || b - a >= cap;
	for (size_t i = a; i < b && !bad; i++)
		bad = data[i] < 0x21 || data[i] > 0x7e;
	if (!bad) {
		memcpy(tok, data + a, b - a);
		tok[b - a] = 0;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	if (bad)
		return cli_failf(CMD, "%s: the token must be one line of "
		                      "printable ASCII without spaces",
		                 path);
	return 0;
}

static void
print_conflict(const char *url, const prb_monitor_result *r,
               const prb_err *err)
{
	char a[48], b[48];
	prb_b64_encode(r->stored.root.b, PRB_HASH_SIZE, a);
	prb_b64_encode(r->cp.root.b, PRB_HASH_SIZE, b);
	const char *head = r->conflict == PRB_CONFLICT_SPLIT_VIEW
	                           ? "SPLIT VIEW"
	                           : "INCONSISTENT CHECKPOINT";
	const char *kind =
	        r->conflict == PRB_CONFLICT_SPLIT_VIEW ? "split view"
	        : r->conflict == PRB_CONFLICT_ROLLBACK ? "rollback"
	                                               : "not an extension";
	fprintf(stderr,
	        "probity monitor: %s\n"
	        "  log:      %s (origin %s)\n"
	        "  kind:     %s: %s\n"
	        "  stored:   size %llu root %s (verified earlier)\n"
	        "  new:      size %llu root %s (signed by the log key)\n",
	        head, url, r->cp.origin, kind, r->reason,
	        (unsigned long long)r->stored.size, a,
	        (unsigned long long)r->cp.size, b);
	if (r->evidence_old[0])
		fprintf(stderr,
		        "  evidence: %s (the stored signed checkpoint)\n"
		        "            %s (the new signed checkpoint)\n",
		        r->evidence_old, r->evidence_new);
	else
		fprintf(stderr, "  evidence: NOT SAVED: %s\n", err->msg);
	fprintf(stderr, "  the monitor's state was not changed\n");
	fflush(stderr);
}

/* Waits `secs` seconds or until a signal. */
static void
pause_for(unsigned long long secs)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	for (unsigned long long i = 0; i < secs * 10 && !stop; i++)
		nanosleep(&ts, NULL);
}

static int
exit_for(int rc)
{
	switch (rc) {
	case PRB_ESPLIT:
		return EXIT_FINDINGS;
	case PRB_ECORRUPT:
	case PRB_ETOOBIG:
		return EXIT_BADDATA;
	default:
		return EXIT_FAIL;
	}
}

/* Runs rounds until --once is done, a signal, or a final error. */
static int
run(prb_monitor *m, const char *url, int once, unsigned long long interval)
{
	for (;;) {
		prb_monitor_result r;
		prb_err err;
		prb_err_clear(&err);
		int rc = prb_monitor_round(m, &r, &err);
		if (rc == PRB_ESPLIT) {
			print_conflict(url, &r, &err);
			return EXIT_FINDINGS;
		}
		if (rc == 0 && r.outcome == PRB_MONITOR_VERIFIED) {
			char root[48];
			prb_b64_encode(r.cp.root.b, PRB_HASH_SIZE, root);
			printf("verified size %llu root %s (+%llu entries, %zu "
			       "cosignatures)\n",
			       (unsigned long long)r.cp.size, root,
			       (unsigned long long)(r.cp.size - r.old_size),
			       r.cosigs);
			fflush(stdout);
		}
		if (rc) {
			cli_fail(CMD, &err);
			int transient = rc == PRB_EIO || r.few_cosigs;
			if (once || !transient)
				return exit_for(rc);
		}
		if (once || stop)
			return EXIT_OK;
		pause_for(interval);
		if (stop)
			return EXIT_OK;
	}
}

int
cmd_monitor(int argc, char **argv)
{
	const char *wit[MAX_WITNESSES];
	int nwit = 0, ec, npos, once = 0;
	const char *vkey = NULL, *nwits = NULL, *state = NULL, *token = NULL,
	           *interval_s = NULL, *timeout_s = NULL, *pos[1];
	cli_opt opts[] = {
		CLI_OPT_VKEY(&vkey),
		CLI_OPT_WITNESS_VKEY(wit, MAX_WITNESSES, &nwit, &nwits),
		{.name = "state-dir", .arg = "DIR", .value = &state,
		 .help = "where the state is kept (default: "
		         "./monitor-state/ORIGIN, ORIGIN being the key name with "
		         "bytes outside [A-Za-z0-9._-] as '_'): DIR/state holds "
		         "the last verified signed checkpoint verbatim and the "
		         "tree's right edge, replaced atomically; DIR/lock keeps "
		         "a second monitor out"},
		{.name = "state", .arg = "DIR", .value = &state,
		 .help = "the old spelling of --state-dir"},
		{.name = "token-file", .arg = "FILE", .value = &token,
		 .help = "send the token in FILE as \"Authorization: Bearer "
		         "TOKEN\" (a private log)"},
		{.name = "token", .arg = "FILE", .value = &token,
		 .help = "the old spelling of --token-file"},
		{.name = "once", .flag = &once, .help = "one round, then exit"},
		{.name = "interval", .arg = "SECONDS", .value = &interval_s,
		 .help = "seconds between rounds when following (default 60); "
		         "follows until SIGINT or SIGTERM (exit 0)"},
		{.name = "timeout", .arg = "SECONDS", .value = &timeout_s,
		 .help = "per HTTP request (default 30)"},
		{0}};
	if (cli_parse(&monitor_cmd, opts, argc, argv, pos, &npos, &ec))
		return ec;
	if (!vkey)
		return cli_usage_error(&monitor_cmd,
		                       "--vkey VERIFIERKEY is required");
	if (once && interval_s)
		return cli_usage_error(&monitor_cmd,
		                       "--once and --interval exclude each other");
	unsigned long long interval = 60, timeout = 30, need = (unsigned)nwit;
	if (interval_s && cli_u64(CMD, "--interval", interval_s, &interval))
		return EXIT_USAGE;
	if (timeout_s && cli_u64(CMD, "--timeout", timeout_s, &timeout))
		return EXIT_USAGE;
	if (nwits && cli_u64(CMD, "--witnesses", nwits, &need))
		return EXIT_USAGE;
	if (interval == 0 || interval > 86400)
		return cli_usage_error(&monitor_cmd,
		                       "--interval must be 1..86400 seconds");
	if (timeout == 0 || timeout > 3600)
		return cli_usage_error(&monitor_cmd,
		                       "--timeout must be 1..3600 seconds");
	if (need > (unsigned)nwit)
		return cli_usage_error(&monitor_cmd,
		                       "--witnesses N must be at most the number "
		                       "of --witness-vkey keys");
	prb_err err;
	prb_verifier lk, wv[MAX_WITNESSES];
	if (prb_verifier_load(vkey, &lk, &err))
		return cli_fail(CMD, &err);
	for (int i = 0; i < nwit; i++)
		if (prb_verifier_load(wit[i], &wv[i], &err))
			return cli_fail(CMD, &err);
	char statebuf[PRB_NAME_MAX + 32], tok[TOKEN_MAX];
	if (!state) {
		char name[PRB_NAME_MAX + 1];
		if (prb_monitor_state_name(lk.name, name, sizeof name))
			return cli_failf(CMD, "key name \"%s\" gives no state "
			                      "directory name", lk.name);
		snprintf(statebuf, sizeof statebuf, "monitor-state/%s", name);
		state = statebuf;
	}
	if (token && read_token(token, tok, sizeof tok))
		return EXIT_FAIL;
	prb_monitor_cfg cfg = {pos[0], &lk, wv, (size_t)nwit, (size_t)need,
	                       state, token ? tok : NULL,
	                       (long)timeout * 1000};
	prb_monitor *m = NULL;
	int rc = prb_monitor_open(&cfg, &m, &err);
	if (token)
		OPENSSL_cleanse(tok, sizeof tok);
	if (rc)
		return cli_fail(CMD, &err);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ec = run(m, pos[0], once, interval);
	prb_monitor_close(m);
	return ec;
}
