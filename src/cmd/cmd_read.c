/* probity checkpoint, probity prove, probity consistency. */
#include <stdlib.h>
#include <string.h>

#include "probity/proof.h"
#include "cli.h"

static const cli_cmd checkpoint_cmd = {
	"checkpoint", "DIR",
	"Prints the log's latest signed checkpoint (c2sp.org/tlog-checkpoint).\n",
	NULL, NULL, 1, 1};

int
cmd_checkpoint(int argc, char **argv)
{
	const char *pos[1];
	int npos, code;
	if (cli_parse(&checkpoint_cmd, NULL, argc, argv, pos, &npos, &code))
		return code;
	prb_store *st;
	prb_log *log;
	if (cli_open_log("checkpoint", pos[0], PRB_SYNC_FILES, NULL, 0, &st,
	                 &log))
		return EXIT_FAIL;
	size_t len;
	const char *note = prb_log_checkpoint(log, &len);
	fwrite(note, 1, len, stdout);
	prb_log_close(log);
	prb_store_close(st);
	return cli_stdout_done("checkpoint");
}

static const cli_cmd prove_cmd = {
	"prove", "DIR INDEX",
	"Prints a c2sp.org/tlog-proof@v1 inclusion proof of entry INDEX against\n"
	"the log's latest checkpoint, which it embeds. Check it offline with\n"
	"probity verify-proof.\n",
	NULL, NULL, 2, 2};

int
cmd_prove(int argc, char **argv)
{
	const char *pos[2];
	int npos, code;
	unsigned long long index;
	if (cli_parse(&prove_cmd, NULL, argc, argv, pos, &npos, &code))
		return code;
	if (cli_u64("prove", "INDEX", pos[1], &index))
		return EXIT_USAGE;
	prb_store *st;
	prb_log *log;
	if (cli_open_log("prove", pos[0], PRB_SYNC_FILES, NULL, 0, &st, &log))
		return EXIT_FAIL;
	prb_err err;
	prb_hash path[PRB_MAX_PROOF];
	size_t n, len, cplen;
	char *out = NULL;
	int rc = EXIT_FAIL;
	prb_err_clear(&err);
	if (index >= prb_log_size(log)) {
		cli_failf("prove", "index %llu is out of range: the log has %llu "
		          "entries", index, (unsigned long long)prb_log_size(log));
		goto done;
	}
	if (prb_log_prove_inclusion(log, index, prb_log_size(log), path, &n,
	                            &err)) {
		cli_fail("prove", &err);
		goto done;
	}
	const char *cp = prb_log_checkpoint(log, &cplen);
	if (prb_tlog_proof_format(index, path, n, NULL, 0, cp, cplen, &out,
	                          &len)) {
		cli_failf("prove", "out of memory");
		goto done;
	}
	fwrite(out, 1, len, stdout);
	rc = cli_stdout_done("prove");
done:
	free(out);
	prb_log_close(log);
	prb_store_close(st);
	return rc;
}

static const cli_cmd consistency_cmd = {
	"consistency", "DIR OLD [NEW]",
	"Prints the RFC 6962 consistency proof from tree size OLD to tree size\n"
	"NEW (default: the latest checkpoint's size), one base64 hash per line\n"
	"(nothing when OLD is 0 or OLD equals NEW).\n",
	NULL, NULL, 2, 3};

int
cmd_consistency(int argc, char **argv)
{
	const char *pos[3];
	int npos, code;
	unsigned long long m, n = 0;
	if (cli_parse(&consistency_cmd, NULL, argc, argv, pos, &npos, &code))
		return code;
	if (cli_u64("consistency", "OLD", pos[1], &m) ||
	    (npos == 3 && cli_u64("consistency", "NEW", pos[2], &n)))
		return EXIT_USAGE;
	prb_store *st;
	prb_log *log;
	if (cli_open_log("consistency", pos[0], PRB_SYNC_FILES, NULL, 0, &st,
	                 &log))
		return EXIT_FAIL;
	unsigned long long size = prb_log_size(log);
	prb_hash proof[PRB_MAX_PROOF];
	size_t len, outlen;
	char *out = NULL;
	prb_err err;
	int rc = EXIT_FAIL;
	prb_err_clear(&err);
	if (npos < 3)
		n = size;
	if (n > size || m > n) {
		cli_failf("consistency", "need OLD <= NEW <= %llu (the log's "
		          "size), got OLD %llu NEW %llu", size, m, n);
		goto done;
	}
	if (prb_log_prove_consistency(log, m, n, proof, &len, &err)) {
		cli_fail("consistency", &err);
		goto done;
	}
	if (prb_proof_lines_format(proof, len, &out, &outlen)) {
		cli_failf("consistency", "out of memory");
		goto done;
	}
	fwrite(out, 1, outlen, stdout);
	rc = cli_stdout_done("consistency");
done:
	free(out);
	prb_log_close(log);
	prb_store_close(st);
	return rc;
}
