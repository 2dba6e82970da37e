/* Argument parsing, error printing and progress for the subcommands. */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probity/index.h"
#include "cli.h"

#define HELP_COL 28  /* where option descriptions start in --help */
#define HELP_WIDTH 79
#define LONG_BASE 256 /* getopt_long's value for opts[i]: LONG_BASE + i */
#define MAX_OPTS 64

void
cli_print_exits(FILE *f, const char *extra)
{
	fprintf(f, "\nExit status:\n"
	        "  0  done\n"
	        "  1  failed (one line on stderr: probity CMD: where: what)\n"
	        "  2  usage error (the command line is wrong)\n%s",
	        extra ? extra : "");
}

/* Writes text from column col on, wrapped at word boundaries. */
static void
print_wrapped(FILE *f, const char *text, int col)
{
	int at = col;
	while (*text) {
		size_t w = strcspn(text, " ");
		if (at > col && at + 1 + (int)w > HELP_WIDTH) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", (int)w, text);
		at += (int)w;
		text += w;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

static void
print_opt(FILE *f, char key, const char *name, const char *arg,
          const char *help)
{
	int n = key ? fprintf(f, "  -%c, --%s", key, name)
	            : fprintf(f, "      --%s", name);
	if (arg)
		n += fprintf(f, "=%s", arg);
	if (n >= HELP_COL - 1) {
		fprintf(f, "\n");
		n = 0;
	}
	fprintf(f, "%*s", HELP_COL - n, "");
	print_wrapped(f, help, HELP_COL);
}

/* --help: in the form help2man makes a manual page of. */
static void
print_help(const cli_cmd *c, const cli_opt *opts)
{
	FILE *f = stdout;
	const char *s = c->synopsis;
	for (int first = 1; *s; first = 0) {
		int n = (int)strcspn(s, "\n");
		fprintf(f, "%s probity %s %.*s\n", first ? "Usage:" : "  or: ",
		        c->name, n, s);
		s += n + (s[n] == '\n');
	}
	fprintf(f, "\n%s\nOptions:\n", c->about);
	for (const cli_opt *o = opts; o && o->name; o++)
		print_opt(f, o->key, o->name, o->arg, o->help);
	print_opt(f, 'h', "help", NULL, "print this help and exit");
	if (c->after)
		fprintf(f, "\n%s", c->after);
	cli_print_exits(f, c->exits);
}

int
cli_usage_error(const cli_cmd *c, const char *what)
{
	int n = (int)strcspn(c->synopsis, "\n");
	fprintf(stderr, "probity %s: %s (usage: probity %s %.*s; see probity "
	        "%s --help)\n", c->name, what, c->name, n, c->synopsis,
	        c->name);
	return EXIT_USAGE;
}

static int
usage_errorf(const cli_cmd *c, int *exit_code, const char *fmt,
             const char *a)
{
	char what[256];
	snprintf(what, sizeof what, fmt, a);
	*exit_code = cli_usage_error(c, what);
	return 1;
}

/* Stores one option's value; 0, or 1 after a usage error. */
static int
take(const cli_cmd *c, cli_opt *o, const char *v, int *exit_code)
{
	if (o->flag)
		*o->flag = 1;
	else if (o->value)
		*o->value = v;
	else if (*o->n == o->max) {
		char what[128];
		snprintf(what, sizeof what, "--%s given more than %d times",
		         o->name, o->max);
		*exit_code = cli_usage_error(c, what);
		return 1;
	} else {
		o->list[(*o->n)++] = v;
	}
	return 0;
}

/* getopt_long's tables for opts: the long options in lo (opts[i] as
 * LONG_BASE + i, then --help), the short ones in so. Sets every repeatable
 * option's count to 0. */
static void
getopt_tables(cli_opt *opts, struct option *lo, char *so)
{
	int n = 0, k = 0;
	so[k++] = '-'; /* operands come back in order, as 1 */
	so[k++] = ':'; /* a missing value comes back as ':' */
	so[k++] = 'h';
	for (; opts && opts[n].name; n++) {
		assert(n < MAX_OPTS && opts[n].key != 'h');
		lo[n] = (struct option){opts[n].name,
		                        opts[n].arg ? required_argument
		                                    : no_argument,
		                        NULL, LONG_BASE + n};
		if (opts[n].n)
			*opts[n].n = 0;
		if (opts[n].key) {
			so[k++] = opts[n].key;
			if (opts[n].arg)
				so[k++] = ':';
		}
	}
	lo[n] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n + 1] = (struct option){NULL, 0, NULL, 0};
	so[k] = 0;
}

/* The option getopt_long just refused, as typed: "-k" for a short one,
 * else the argument it was in. */
static const char *
typed(int opt, char **argv, char b[4])
{
	if (opt > 0 && opt < LONG_BASE) {
		snprintf(b, 4, "-%c", opt);
		return b;
	}
	return argv[optind - 1];
}

/* Appends operand v; 0, or 1 after a usage error (one too many). */
static int
operand(const cli_cmd *c, const char *v, const char **pos, int *npos,
        int *exit_code)
{
	if (*npos == c->maxpos)
		return usage_errorf(c, exit_code, "unexpected argument %s", v);
	pos[(*npos)++] = v;
	return 0;
}

int
cli_parse(const cli_cmd *c, cli_opt *opts, int argc, char **argv,
          const char **pos, int *npos, int *exit_code)
{
	struct option lo[MAX_OPTS + 2];
	char so[3 * MAX_OPTS + 8], b[4];
	getopt_tables(opts, lo, so);
	opterr = 0;
	optind = 0; /* glibc: start afresh */
	*npos = 0;
	for (int ch; (ch = getopt_long(argc, argv, so, lo, NULL)) != -1;) {
		const char *v = optarg;
		if (ch == 'h') {
			print_help(c, opts);
			*exit_code = EXIT_OK;
			return 1;
		}
		if (ch == '?' && optopt >= LONG_BASE)
			return usage_errorf(c, exit_code, "--%s takes no value",
			                    opts[optopt - LONG_BASE].name);
		if (ch == '?')
			return usage_errorf(c, exit_code, "unknown option %s",
			                    typed(optopt, argv, b));
		if (ch == ':')
			return usage_errorf(c, exit_code, "%s needs a value",
			                    typed(optopt, argv, b));
		if (ch == 1) {
			if (operand(c, v, pos, npos, exit_code))
				return 1;
			continue;
		}
		int i = ch - LONG_BASE;
		if (ch < LONG_BASE) {
			for (i = 0; opts[i].key != ch; i++)
				;
			/* "-o=FILE" was accepted before getopt_long: still */
			if (v && v[0] == '=' && v == argv[optind - 1] + 2)
				v++;
		}
		if (take(c, &opts[i], v, exit_code))
			return 1;
	}
	for (; optind < argc; optind++) /* after "--" */
		if (operand(c, argv[optind], pos, npos, exit_code))
			return 1;
	if (*npos < c->minpos)
		return usage_errorf(c, exit_code, "missing %s", "operands");
	return 0;
}

int
cli_fail(const char *cmd, const prb_err *err)
{
	if (err->where[0])
		fprintf(stderr, "probity %s: %s: %s\n", cmd, err->where, err->msg);
	else
		fprintf(stderr, "probity %s: %s\n", cmd,
		        err->msg[0] ? err->msg : prb_strerror(err->code));
	return EXIT_FAIL;
}

int
cli_failf(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "probity %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

void
cli_acks_on_stdout(void)
{
	signal(SIGPIPE, SIG_IGN);
}

int
cli_stdout_flush(void)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	int e = errno ? errno : EIO;
	clearerr(stdout);
	return e;
}

int
cli_stdout_done(const char *cmd)
{
	int e = cli_stdout_flush();
	return e ? cli_failf(cmd, "stdout: %s", strerror(e)) : EXIT_OK;
}

int
cli_u64(const char *cmd, const char *what, const char *s,
        unsigned long long *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (*end == 0 && errno == 0)
		return 0;
bad:
	fprintf(stderr, "probity %s: %s must be a non-negative integer, not "
	        "\"%s\"\n", cmd, what, s);
	return -1;
}

/* One limit: absent, or 1..max. */
static int
limit_arg(const char *cmd, const char *what, const char *arg,
          unsigned long long max, unsigned *out)
{
	unsigned long long v;
	if (!arg)
		return 0;
	if (cli_u64(cmd, what, arg, &v))
		return -1;
	if (v == 0 || v > max) {
		cli_failf(cmd, "%s must be 1 to %llu", what, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int
cli_httpd_limits_parse(const char *cmd, const cli_httpd_args *a,
                       cli_httpd_limits *out)
{
	memset(out, 0, sizeof *out);
	return limit_arg(cmd, "--connections", a->connections, 60000,
	                 &out->conn_limit) ||
	       limit_arg(cmd, "--per-client", a->per_client, 60000,
	                 &out->per_client) ||
	       limit_arg(cmd, "--idle-timeout", a->idle, 86400,
	                 &out->timeout_s) ||
	       limit_arg(cmd, "--head-timeout", a->head, 86400,
	                 &out->head_s) ||
	       limit_arg(cmd, "--body-timeout", a->body, 86400, &out->body_s)
	               ? -1
	               : 0;
}

int
cli_key_outside(const char *cmd, const char *keyfile, const char *dir)
{
	char k[PATH_MAX], d[PATH_MAX];
	if (!realpath(keyfile, k) || !realpath(dir, d))
		return 0; /* missing files are reported by their own checks */
	size_t n = strlen(d);
	if (strncmp(k, d, n) == 0 && k[n] == '/') {
		cli_failf(cmd, "%s: the key file is inside the log directory %s, "
		          "which is published; keep secrets elsewhere", keyfile,
		          dir);
		return -1;
	}
	return 0;
}

int
cli_sync_mode(const char *cmd, const char *arg, int *mode)
{
	if (!arg || strcmp(arg, "files") == 0)
		*mode = PRB_SYNC_FILES; /* the default: DESIGN.md invariant 6 */
	else if (strcmp(arg, "fs") == 0)
		*mode = PRB_SYNC_FS; /* checked against the filesystem at open */
	else {
		cli_failf(cmd, "--sync must be \"files\" or \"fs\", not \"%s\"",
		          arg);
		return -1;
	}
	return 0;
}

void
cli_prefix_where(prb_err *err, const char *dir)
{
	char url[PRB_STORE_URL_MAX];
	const char *w = err ? err->where : "";
	/* an object of a log kept elsewhere is named by its URL there */
	int object = strncmp(w, "tile/", 5) == 0 ||
	             strncmp(w, "blob/", 5) == 0 ||
	             strncmp(w, "checkpoint", 10) == 0;
	if (object && prb_store_url(dir, url, NULL) == 0 && url[0])
		prb_err_prefix(err, url);
	else
		prb_err_prefix(err, dir);
}

int
cli_open_log(const char *cmd, const char *dir, int sync_mode,
             prb_signer *signer, int lock_wait_ms, prb_store **st,
             prb_log **log)
{
	prb_err err;
	prb_err_clear(&err);
	*st = NULL;
	*log = NULL;
	if (prb_store_open(dir, sync_mode, st, &err) ||
	    prb_log_open(*st, signer, lock_wait_ms, log, &err)) {
		if (strcmp(err.where, dir) != 0)
			cli_prefix_where(&err, dir);
		prb_store_close(*st);
		*st = NULL;
		return cli_fail(cmd, &err);
	}
	return 0;
}

int
cli_open_objects(const char *cmd, const char *dir, prb_store **st)
{
	char url[PRB_STORE_URL_MAX];
	prb_err err;
	prb_err_clear(&err);
	*st = NULL;
	if (prb_store_url(dir, url, &err) == 0 &&
	    (!url[0] || prb_store_open(dir, PRB_SYNC_FILES, st, &err) == 0))
		return 0;
	return cli_fail(cmd, &err) ? -1 : 0;
}

int
cli_open_writer(const char *cmd, const prb_writer_cfg *cfg, prb_writer **w)
{
	prb_err err;
	prb_err_clear(&err);
	if (prb_writer_open(cfg, w, &err)) {
		if (strcmp(err.where, cfg->dir) != 0)
			cli_prefix_where(&err, cfg->dir);
		return cli_fail(cmd, &err);
	}
	return 0;
}

void
cli_progress_init(cli_progress *p, const char *unit)
{
	p->on = isatty(STDERR_FILENO);
	p->start = prb_now_mono();
	p->last = p->start - 1; /* the first update draws at once */
	p->unit = unit;
	p->of_unit = NULL;
}

void
cli_progress_update(cli_progress *p, unsigned long long done,
                    unsigned long long total, unsigned long long items)
{
	if (!p->on)
		return;
	double t = prb_now_mono();
	if (t - p->last < 0.2)
		return;
	p->last = t;
	double rate = (double)items / (t - p->start > 1e-9 ? t - p->start : 1e-9);
	char bar[33] = "";
	if (total) {
		int pct = (int)(100.0 * (double)done / (double)total);
		pct = pct > 100 ? 100 : pct;
		bar[0] = '[';
		for (int i = 0; i < 30; i++)
			bar[1 + i] = i < pct * 30 / 100 ? '#' : '.';
		bar[31] = ']';
		bar[32] = 0;
		fprintf(stderr, "\r\033[K%s %3d%%  ", bar, pct);
		if (p->of_unit)
			fprintf(stderr, "%llu/%llu %s  ", done, total, p->of_unit);
		fprintf(stderr, "%llu %s  %.0f %s/s", items, p->unit, rate,
		        p->unit);
	} else {
		fprintf(stderr, "\r\033[K%llu %s  %.0f %s/s", items, p->unit, rate,
		        p->unit);
	}
	fflush(stderr);
}

void
cli_progress_fn(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress_update(ctx, done, total, done);
}

void
cli_progress_done(cli_progress *p)
{
	if (p->on && p->last > p->start) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

int
cli_open_index(const char *cmd, const char *dir, prb_index **ix)
{
	char path[PATH_MAX];
	prb_err err;
	prb_err_clear(&err);
	snprintf(path, sizeof path, "%s/%s", dir, PRB_INDEX_FILE);
	if (prb_index_open(path, ix, &err) != 0) {
		size_t n = strlen(err.msg);
		snprintf(err.msg + n, sizeof err.msg - n,
		         " (the index is derived data: probity reindex %s "
		         "rebuilds it from the log)", dir);
		return cli_fail(cmd, &err);
	}
	return 0;
}

int
cli_witnesses(const char *cmd, const char **args, int n,
              prb_cosign_witness *ws)
{
	for (int i = 0; i < n; i++) {
		prb_err err;
		prb_err_clear(&err);
		if (prb_cosign_witness_parse(args[i], &ws[i], &err)) {
			cli_failf(cmd, "--witness %s: %s", args[i], err.msg);
			return 1;
		}
		if (ws[i].vkey.type != PRB_SIG_COSIGV1) {
			cli_failf(cmd, "--witness %s: not a cosignature/v1 "
			          "verifier key (probity keygen --witness makes "
			          "one)", args[i]);
			return 1;
		}
	}
	return 0;
}
