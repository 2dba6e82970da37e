/* probity verify, probity verify-proof. */
#include <stdlib.h>
#include <string.h>

#include "probity/proof.h"
#include "util.h"
#include "cli.h"

static const char verify_usage[] =
	"usage: probity verify DIR --vkey VERIFIERKEY\n"
	"\n"
	"Checks the whole log with no trust in its files: the checkpoint's\n"
	"signature by VERIFIERKEY (a key string, or a file holding one) and its\n"
	"origin, then every entry bundle, every hash tile and the root, all\n"
	"recomputed from the entries. Reports the first discrepancy: file,\n"
	"position, expected and found. Exit status 0 only if all is well.\n";

static void
progress(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress_update(ctx, done, total, done);
}

int
cmd_verify(int argc, char **argv)
{
	const char *vkey = NULL, *pos[1];
	int npos, code;
	cli_opt opts[] = {{"--vkey", &vkey, NULL}, {0}};
	if (cli_parse("verify", verify_usage, argc, argv, opts, pos, 1, 1, &npos,
	              &code))
		return code;
	if (!vkey)
		return cli_usage_error("verify", verify_usage,
		                       "--vkey VERIFIERKEY is required");
	prb_err err;
	prb_verifier v;
	prb_store *st = NULL;
	uint64_t size = 0;
	cli_progress pr;
	prb_err_clear(&err);
	if (prb_verifier_load(vkey, &v, &err))
		return cli_fail("verify", &err);
	if (prb_store_open_dir(pos[0], PRB_SYNC_FILES, &st, &err))
		return cli_fail("verify", &err);
	cli_progress_init(&pr, "entries");
	int rc = prb_log_verify(st, &v, progress, &pr, &size, &err);
	cli_progress_done(&pr);
	prb_store_close(st);
	if (rc) {
		cli_prefix_where(&err, pos[0]);
		return cli_fail("verify", &err);
	}
	printf("verified %s: origin %s, size %llu, every tile and the root "
	       "recomputed from the entries\n", pos[0], v.name,
	       (unsigned long long)size);
	return EXIT_OK;
}

static const char verify_proof_usage[] =
	"usage: probity verify-proof PROOFFILE ENTRYFILE --vkey VERIFIERKEY\n"
	"\n"
	"Checks a c2sp.org/tlog-proof@v1 inclusion proof offline: that its\n"
	"checkpoint is signed by VERIFIERKEY (a key string or a file holding\n"
	"one) with the key's name as origin, and that the entry whose exact\n"
	"bytes are in ENTRYFILE (\"-\" for stdin) is at the proof's index in\n"
	"that tree.\n";

int
cmd_verify_proof(int argc, char **argv)
{
	const char *vkey = NULL, *pos[2];
	int npos, code;
	cli_opt opts[] = {{"--vkey", &vkey, NULL}, {0}};
	if (cli_parse("verify-proof", verify_proof_usage, argc, argv, opts, pos,
	              2, 2, &npos, &code))
		return code;
	if (!vkey)
		return cli_usage_error("verify-proof", verify_proof_usage,
		                       "--vkey VERIFIERKEY is required");
	prb_err err;
	prb_verifier v;
	prb_tlog_proof *p = NULL;
	prb_checkpoint cp;
	uint8_t *proof = NULL, *entry = NULL;
	size_t plen, elen;
	int rc = EXIT_FAIL;
	prb_err_clear(&err);
	if (prb_verifier_load(vkey, &v, &err) ||
	    prb_read_file(pos[0], 1 << 20, &proof, &plen, &err) ||
	    prb_read_file(pos[1], 1 << 20, &entry, &elen, &err))
		goto fail;
	if (prb_tlog_proof_parse(proof, plen, &p, &err)) {
		snprintf(err.where, sizeof err.where, "%s", pos[0]);
		goto fail;
	}
	if (prb_tlog_proof_verify(p, entry, elen, &v, 1, &cp, &err)) {
		snprintf(err.where, sizeof err.where, "%s", pos[0]);
		if (err.code == PRB_EPROOF && elen && entry[elen - 1] == '\n')
			snprintf(err.msg + strlen(err.msg),
			         sizeof err.msg - strlen(err.msg),
			         " (note: %s ends with a newline; entries added "
			         "by probity add have none)", pos[1]);
		goto fail;
	}
	printf("verified: entry %llu is in %s at tree size %llu\n",
	       (unsigned long long)p->index, cp.origin,
	       (unsigned long long)cp.size);
	rc = EXIT_OK;
	goto done;
fail:
	cli_fail("verify-proof", &err);
done:
	prb_tlog_proof_free(p);
	free(proof);
	free(entry);
	return rc;
}
