/* probity audit, probity verify-evidence. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probity/audit.h"
#include "probity/evidence.h"
#include "probity/index.h"
#include "probity/policy.h"
#include "base/util.h"
#include "cli.h"

/* The source tree's pack, for a program run from its build tree (the
 * Makefile sets it; empty: none). */
#ifndef PRB_SOURCE_POLICY_DIR
#define PRB_SOURCE_POLICY_DIR ""
#endif

/* Exit status of an audit with a finding at or above --fail-on. */
#define EXIT_FINDINGS 3

static const cli_cmd audit_cmd = {
	"audit", "DIR --out BUNDLEDIR [OPTION]...\nDIR --check BUNDLEDIR",
	"Runs SQL policies over DIR's index as of the log's latest checkpoint\n"
	"(the index must cover exactly that checkpoint: else run probity\n"
	"ingest or probity reindex) and writes an evidence bundle to\n"
	"BUNDLEDIR (new, or an empty directory): checkpoint, findings.json,\n"
	"and entries/<leaf>.json with proofs/<leaf>.tlog-proof for every\n"
	"cited entry. Nothing in DIR is written. Check a bundle with\n"
	"probity verify-evidence. A BUNDLEDIR ending in .tar, .tar.gz or\n"
	".tgz is written as one (new) tar file of those files.\n",
	"With --check, nothing is written: the policies BUNDLEDIR carries are\n"
	"run again, with its parameters, on DIR as it stood at the bundle's\n"
	"checkpoint (whose root DIR must have at that size), and the result\n"
	"must be BUNDLEDIR/findings.json byte for byte (exit 0), else exit 1\n"
	"saying where it differs. This checks what the bundle alone cannot:\n"
	"that its findings, their details included, are what the log holds.\n",
	"  3  a finding of severity --fail-on or above (0: the audit ran,\n"
	"     whatever it found)\n",
	1, 1};

static int
load_params(const char *file, prb_policy_set *ps)
{
	uint8_t *data;
	size_t len;
	prb_err err;
	prb_err_clear(&err);
	if (prb_read_file(file, 1u << 24, &data, &len, &err))
		return cli_fail("audit", &err);
	json_error_t je;
	json_t *v = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES |
	                       JSON_DECODE_INT_AS_REAL, &je);
	free(data);
	if (!v)
		return cli_failf("audit", "%s:%d: not JSON: %s", file, je.line,
		                 je.text);
	int rc = prb_policies_override(ps, v, file, &err);
	json_decref(v);
	return rc ? cli_fail("audit", &err) : 0;
}

static int
fail_on_arg(const char *s, int *sev)
{
	if (!s) {
		*sev = -1;
		return 0;
	}
	return prb_severity_parse(s, sev);
}

/* 1 if the directory exedir is in the source tree whose pack is
 * PRB_SOURCE_POLICY_DIR (ROOT/policies): ROOT or below it. */
static int
in_source_tree(const char *exedir)
{
	const char *slash = strrchr(PRB_SOURCE_POLICY_DIR, '/');
	size_t rl = slash ? (size_t)(slash - PRB_SOURCE_POLICY_DIR) : 0;
	return rl > 0 && strncmp(exedir, PRB_SOURCE_POLICY_DIR, rl) == 0 &&
	       (exedir[rl] == 0 || exedir[rl] == '/');
}

/* The default --policies into buf (see audit_usage): a program in its
 * source tree runs the tree's pack, an installed one the pack installed
 * beside it. NULL, saying what was tried, when there is none. */
static const char *
default_policies(char *buf, size_t size)
{
	const char *env = getenv("PROBITY_POLICY_DIR");
	if (env && *env)
		return env;
	struct stat sb;
	int have_src = PRB_SOURCE_POLICY_DIR[0] &&
	               stat(PRB_SOURCE_POLICY_DIR, &sb) == 0;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		if (have_src && in_source_tree(exe))
			return PRB_SOURCE_POLICY_DIR;
		if ((size_t)snprintf(buf, size, "%s/../share/probity/policies",
		                     exe) < size && stat(buf, &sb) == 0 &&
		    S_ISDIR(sb.st_mode))
			return buf;
	}
	if (have_src)
		return PRB_SOURCE_POLICY_DIR;
	cli_failf("audit", "no policy pack: PROBITY_POLICY_DIR is not set, "
	          "%s/../share/probity/policies is not a directory%s%s; "
	          "give --policies PATH", n > 0 ? exe : "(the program)",
	          PRB_SOURCE_POLICY_DIR[0] ? ", nor is " : "",
	          PRB_SOURCE_POLICY_DIR);
	return NULL;
}

/* A bundle given as one file (a tar) is unpacked into tmp, a private
 * directory the caller removes; tmp stays "" for a directory. */
static int
unpack_if_file(const char *bundle, char tmp[PRB_EVIDENCE_DIR_MAX],
               prb_err *err)
{
	struct stat st;
	if (stat(bundle, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	int rc = prb_evidence_unpack(bundle, tmp, err);
	if (rc && err->where[0] && strcmp(err->where, bundle) != 0)
		cli_prefix_where(err, bundle);
	return rc;
}

/* Replaces, in s (of size cap), each occurrence of from by to. */
static void
replace_in(char *s, size_t cap, const char *from, const char *to)
{
	char out[1024];
	size_t o = 0, fl = strlen(from);
	for (const char *p = s; *p && o + 1 < sizeof out;) {
		if (fl && strncmp(p, from, fl) == 0) {
			size_t tl = strlen(to);
			if (tl > sizeof out - 1 - o)
				tl = sizeof out - 1 - o;
			memcpy(out + o, to, tl);
			o += tl;
			p += fl;
		} else
			out[o++] = *p++;
	}
	if (o >= cap)
		o = cap - 1;
	memcpy(s, out, o);
	s[o] = 0;
}

/* probity audit DIR --check BUNDLE. */
static int
check_bundle(const char *dir, const char *bundle)
{
	prb_store *st = NULL;
	prb_log *log = NULL;
	prb_evidence_summary s;
	prb_err err;
	prb_err_clear(&err);
	char tmp[PRB_EVIDENCE_DIR_MAX] = "";
	if (cli_open_log("audit", dir, PRB_SYNC_FILES, NULL, 0, &st, &log))
		return EXIT_FAIL;
	int rc = unpack_if_file(bundle, tmp, &err);
	if (rc == 0)
		rc = prb_evidence_reproduce(tmp[0] ? tmp : bundle, log, dir, &s,
		                            &err);
	if (tmp[0]) { /* name the bundle the user gave, not where it was
	                 unpacked */
		replace_in(err.where, sizeof err.where, tmp, bundle);
		replace_in(err.msg, sizeof err.msg, tmp, bundle);
		prb_evidence_remove_dir(tmp);
	}
	prb_log_close(log);
	prb_store_close(st);
	if (rc)
		return cli_fail("audit", &err);
	printf("reproduced %s/findings.json: %zu findings of %zu policies on %s "
	       "at size %llu, byte for byte\n", bundle, s.findings, s.policies,
	       dir, (unsigned long long)s.cp.size);
	return cli_stdout_done("audit");
}

int
cmd_audit(int argc, char **argv)
{
	const char *pos[1], *out = NULL, *policies = NULL;
	const char *params = NULL, *fail_on = NULL, *check = NULL;
	int npos, code, fail_sev;
	cli_opt opts[] = {
		{.name = "out", .key = 'o', .arg = "BUNDLEDIR", .value = &out,
		 .help = "where to write the evidence bundle: a directory, or "
		         "one tar file (.tar, .tar.gz, .tgz) (required unless "
		         "--check)"},
		{.name = "check", .arg = "BUNDLEDIR", .value = &check,
		 .help = "re-run the bundle's policies on DIR, compare (below)"},
		{.name = "policies", .arg = "PATH", .value = &policies,
		 .help = "a directory of *.sql policies, or one policy file "
		         "(default: $PROBITY_POLICY_DIR if set; else, for a "
		         "program in its source tree, the tree's policies/; "
		         "else the installed pack, ../share/probity/policies "
		         "from the program's directory)"},
		{.name = "params", .arg = "FILE", .value = &params,
		 .help = "a JSON object of parameter values overriding the "
		         "policies' defaults (each of its default's JSON type)"},
		{.name = "fail-on", .arg = "SEVERITY", .value = &fail_on,
		 .help = "exit 3 if a finding of severity SEVERITY or above "
		         "exists (info, low, medium, high, critical)"},
		{0}};
	if (cli_parse(&audit_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (check) {
		if (out || params || fail_on || policies)
			return cli_usage_error(&audit_cmd, "--check "
			                       "takes no other option: the "
			                       "bundle names its policies and "
			                       "parameters");
		return check_bundle(pos[0], check);
	}
	if (!out)
		return cli_usage_error(&audit_cmd,
		                       "--out BUNDLEDIR is required");
	if (fail_on_arg(fail_on, &fail_sev))
		return cli_usage_error(&audit_cmd, "--fail-on takes "
		                       "info, low, medium, high or critical");
	prb_err err;
	prb_policy_set ps = {0};
	prb_store *st = NULL;
	prb_log *log = NULL;
	prb_finding *f = NULL;
	size_t n = 0;
	int rc = EXIT_FAIL;
	prb_err_clear(&err);
	char pbuf[PATH_MAX];
	if (!policies && !(policies = default_policies(pbuf, sizeof pbuf)))
		goto done;
	if (prb_policies_load(policies, &ps, &err)) {
		cli_fail("audit", &err);
		goto done;
	}
	if (params && load_params(params, &ps))
		goto done;
	if (cli_open_log("audit", pos[0], PRB_SYNC_FILES, NULL, 0, &st, &log))
		goto done;
	char ixpath[PATH_MAX];
	snprintf(ixpath, sizeof ixpath, "%s/%s", pos[0], PRB_INDEX_FILE);
	prb_hash root;
	prb_log_root(log, &root);
	if (prb_audit_run(ixpath, &ps, prb_log_size(log), &root, &f, &n, &err) ||
	    (prb_evidence_is_tar(out)
	             ? prb_evidence_write_tar(out, log, &ps, f, n, &err)
	             : prb_evidence_write(out, log, &ps, f, n, &err))) {
		cli_fail("audit", &err);
		goto done;
	}
	size_t by[PRB_SEV_CRITICAL + 1];
	size_t nf = prb_findings_count(&ps, f, n, by);
	printf("audited %s at size %llu with %zu policies: %zu findings "
	       "(critical %zu, high %zu, medium %zu, low %zu, info %zu); "
	       "evidence in %s\n", pos[0],
	       (unsigned long long)prb_log_size(log), ps.n, nf,
	       by[PRB_SEV_CRITICAL], by[PRB_SEV_HIGH], by[PRB_SEV_MEDIUM],
	       by[PRB_SEV_LOW], by[PRB_SEV_INFO], out);
	rc = EXIT_OK;
	for (int s = fail_sev; s >= 0 && s <= PRB_SEV_CRITICAL; s++)
		if (by[s])
			rc = EXIT_FINDINGS;
	if (cli_stdout_done("audit") != EXIT_OK)
		rc = EXIT_FAIL;
done:
	prb_findings_free(f, n);
	prb_policies_free(&ps);
	prb_log_close(log);
	prb_store_close(st);
	return rc;
}

/* At most this many --witness-vkey. */
#define MAX_WITNESSES 32

static const cli_cmd verify_evidence_cmd = {
	"verify-evidence", "BUNDLEDIR --vkey VERIFIERKEY [OPTION]...",
	"Checks an evidence bundle of probity audit offline, with no access to\n"
	"the log: the checkpoint's signature by VERIFIERKEY (its name is the\n"
	"required origin), that findings.json is of that checkpoint and in its\n"
	"RFC 8785 form, and that every cited entry is in the bundle with an\n"
	"inclusion proof against that checkpoint which verifies; and that the\n"
	"bundle holds no other file. The first fault is reported naming its\n"
	"file. BUNDLEDIR may be a bundle as one tar file (.tar, .tar.gz,\n"
	".tgz): the same checks, and links, devices, \"..\" and duplicate\n"
	"names in it are refused. Each file is bounded by its role (README:\n"
	"evidence bounds); a larger one is refused unread.\n",
	NULL, NULL, 1, 1};

/* Requires at least `need` of the witnesses vs[1..nvs) to have a verified
 * cosignature on the bundle's checkpoint; prints who cosigned. */
static int
check_witnesses(const char *dir, const char *shown, const prb_verifier *vs,
                size_t nvs, unsigned long long need)
{
	char path[PATH_MAX];
	uint8_t *cp;
	size_t cplen, have = 0;
	prb_err err;
	prb_checkpoint c;
	prb_note *note = NULL;
	prb_err_clear(&err);
	snprintf(path, sizeof path, "%s/checkpoint", shown);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = dfd < 0 ? prb_err_set(&err, PRB_EIO, dir, UINT64_MAX, "%s",
	                               strerror(errno))
	                 : prb_read_file_at(dfd, "checkpoint", PRB_NOTE_MAX_SIZE,
	                                    &cp, &cplen, &err);
	if (dfd >= 0)
		close(dfd);
	if (rc == 0) {
		rc = prb_checkpoint_open(cp, cplen, vs, nvs, &c, &note, &err);
		free(cp);
	}
	if (rc) {
		snprintf(err.where, sizeof err.where, "checkpoint");
		cli_prefix_where(&err, shown);
		return cli_fail("verify-evidence", &err);
	}
	for (size_t w = 1; w < nvs; w++) {
		const prb_note_sig *sig = NULL;
		for (size_t i = 0; i < note->nverified && !sig; i++)
			if (note->sigs[i].verifier == &vs[w])
				sig = &note->sigs[i];
		if (sig) {
			have++;
			printf("cosigned by witness %s", vs[w].name);
			if (vs[w].type == PRB_SIG_COSIGV1)
				printf(" at %llu", (unsigned long long)
				       sig->timestamp);
			printf("\n");
		} else {
			printf("not cosigned by witness %s\n", vs[w].name);
		}
	}
	prb_note_free(note);
	if (have < need)
		return cli_failf("verify-evidence", "%s: cosigned by %zu of the "
		                 "witnesses given, %llu required", path, have,
		                 need);
	return EXIT_OK;
}

int
cmd_verify_evidence(int argc, char **argv)
{
	const char *vkey = NULL, *need_arg = NULL, *pos[1];
	const char *wkeys[MAX_WITNESSES];
	int npos, code, nw;
	cli_opt opts[] = {
		CLI_OPT_VKEY(&vkey),
		CLI_OPT_WITNESS_VKEY(wkeys, MAX_WITNESSES, &nw, &need_arg),
		{0}};
	if (cli_parse(&verify_evidence_cmd, opts, argc, argv, pos, &npos,
	              &code))
		return code;
	if (!vkey)
		return cli_usage_error(&verify_evidence_cmd,
		                       "--vkey VERIFIERKEY is required");
	unsigned long long need = (unsigned long long)nw;
	if (need_arg && cli_u64("verify-evidence", "--witnesses", need_arg,
	                        &need))
		return EXIT_USAGE;
	if (need > (unsigned long long)nw)
		return cli_usage_error(&verify_evidence_cmd,
		                       "--witnesses N exceeds the number of "
		                       "--witness-vkey given");
	prb_err err;
	prb_verifier v[1 + MAX_WITNESSES];
	prb_evidence_summary s;
	prb_err_clear(&err);
	if (prb_verifier_load(vkey, &v[0], &err))
		return cli_fail("verify-evidence", &err);
	for (int i = 0; i < nw; i++)
		if (prb_verifier_load(wkeys[i], &v[1 + i], &err))
			return cli_fail("verify-evidence", &err);
	char tmp[PRB_EVIDENCE_DIR_MAX] = "";
	if (unpack_if_file(pos[0], tmp, &err))
		return cli_fail("verify-evidence", &err);
	const char *dir = tmp[0] ? tmp : pos[0];
	int rc = prb_evidence_verify(dir, v, 1 + (size_t)nw, &s, &err);
	if (rc && err.where[0])
		cli_prefix_where(&err, pos[0]);
	if (rc)
		cli_fail("verify-evidence", &err);
	else if (nw > 0)
		rc = check_witnesses(dir, pos[0], v, 1 + (size_t)nw, need);
	if (tmp[0])
		prb_evidence_remove_dir(tmp);
	if (rc)
		return EXIT_FAIL;
	printf("verified %s: checkpoint %s size %llu signed by %s; %zu "
	       "findings citing %zu entries, every entry proven included\n",
	       pos[0], s.cp.origin, (unsigned long long)s.cp.size, v[0].name,
	       s.findings, s.entries);
	return cli_stdout_done("verify-evidence");
}
