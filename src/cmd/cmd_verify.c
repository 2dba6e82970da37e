/* probity verify, probity verify-proof. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probity/index.h"
#include "probity/proof.h"
#include "base/util.h"
#include "cli.h"

static const cli_cmd verify_cmd = {
	"verify", "DIR --vkey VERIFIERKEY",
	"Checks the whole log with no trust in its files: the checkpoint's\n"
	"signature by VERIFIERKEY and its origin, then every entry bundle,\n"
	"every hash tile and the root, all recomputed from the entries. Then\n"
	"rebuilds the index from the entries (checking the blob of every large\n"
	"record committed by digest) and, when DIR/index.sqlite exists, checks\n"
	"that it matches, row by row, for the entries it covers (after a crash\n"
	"it may lag behind the log; the next ingest or reindex catches it up,\n"
	"and verify says so). Reports the first discrepancy: file, position,\n"
	"expected and found. Exit status 0 only if all is well.\n",
	NULL, NULL, 1, 1};

typedef struct {
	prb_log *log; /* the log the index was rebuilt from */
	prb_store *st;
} index_check;

/* The stored index must cover a prefix of the log: its size at most the
 * log's, its root the log's root at that size. An index ahead of the
 * rebuilt one (an ingest committed meanwhile) is checked against the log's
 * newer checkpoint, and its rows compared up to the rebuilt size. */
static int
check_covered(void *ctx, uint64_t size, const prb_hash *root, uint64_t *upto,
              prb_err *err)
{
	index_check *c = ctx;
	prb_log *log = c->log, *newer = NULL;
	prb_hash lroot;
	*upto = size;
	int rc = 0;
	if (size > prb_log_size(c->log)) {
		*upto = prb_log_size(c->log);
		rc = prb_log_open(c->st, NULL, 0, &newer, err);
		log = newer;
	}
	if (rc == 0 && size > prb_log_size(log))
		rc = prb_err_set(err, PRB_ECORRUPT, NULL, UINT64_MAX,
		                 "the index covers %llu entries, the log has "
		                 "only %llu: run probity reindex",
		                 (unsigned long long)size,
		                 (unsigned long long)prb_log_size(log));
	if (rc == 0)
		rc = prb_log_root_at(log, size, &lroot, err);
	if (rc == 0 && memcmp(root->b, lroot.b, 32) != 0)
		rc = prb_err_set(err, PRB_ECORRUPT, NULL, UINT64_MAX,
		                 "the index's root for size %llu is not the "
		                 "log's: it indexes another log; run probity "
		                 "reindex",
		                 (unsigned long long)size);
	prb_log_close(newer);
	return rc;
}

/* Checks DIR's index, if any, against the one rebuilt from the log.
 * Sets *covers (UINT64_MAX when DIR has no index). */
static int
compare_index(const char *dir, prb_store *st, prb_log *log,
              prb_index *rebuilt, uint64_t *covers, prb_err *err)
{
	char stored[PATH_MAX];
	snprintf(stored, sizeof stored, "%s/%s", dir, PRB_INDEX_FILE);
	struct stat sb;
	*covers = UINT64_MAX;
	if (stat(stored, &sb) != 0)
		return 0;
	index_check c = {log, st};
	int rc = prb_index_compare(rebuilt, stored, check_covered, &c, covers,
	                           err);
	if (rc != 0) {
		snprintf(err->where, sizeof err->where, "%s", PRB_INDEX_FILE);
		cli_prefix_where(err, dir);
	}
	return rc;
}

/* Rebuilds the index of the verified log aside (in $TMPDIR), which also
 * checks every large record's blob, and compares DIR's index with it. */
static int
verify_index(const char *dir, prb_store *st, cli_progress *pr,
             uint64_t *covers, prb_err *err)
{
	prb_log *log = NULL;
	prb_index *ix = NULL;
	char tmp[PATH_MAX];
	const char *td = getenv("TMPDIR");
	snprintf(tmp, sizeof tmp, "%s/probity-verify-XXXXXX",
	         td && *td ? td : "/tmp");
	int fd = mkstemp(tmp);
	if (fd < 0)
		return prb_err_set(err, PRB_EIO, tmp, UINT64_MAX,
		                   "cannot create a temporary file");
	close(fd);
	int rc = prb_log_open(st, NULL, 0, &log, err);
	if (rc == 0)
		rc = prb_index_open(tmp, &ix, err);
	if (rc == 0) {
		prb_hash root;
		prb_log_root(log, &root);
		rc = prb_index_build(ix, st, 0, prb_log_size(log), &root,
		                     cli_progress_fn, pr, err);
		if (rc != 0)
			cli_prefix_where(err, dir);
	}
	if (rc == 0)
		rc = compare_index(dir, st, log, ix, covers, err);
	prb_index_close(ix);
	prb_log_close(log);
	prb_index_remove(tmp);
	return rc;
}

int
cmd_verify(int argc, char **argv)
{
	const char *vkey = NULL, *pos[1];
	int npos, code;
	cli_opt opts[] = {CLI_OPT_VKEY(&vkey), {0}};
	if (cli_parse(&verify_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!vkey)
		return cli_usage_error(&verify_cmd,
		                       "--vkey VERIFIERKEY is required");
	prb_err err;
	prb_verifier v;
	prb_store *st = NULL;
	uint64_t size = 0;
	cli_progress pr;
	prb_err_clear(&err);
	if (prb_verifier_load(vkey, &v, &err))
		return cli_fail("verify", &err);
	if (prb_store_open(pos[0], PRB_SYNC_FILES, &st, &err))
		return cli_fail("verify", &err);
	cli_progress_init(&pr, "entries");
	uint64_t covers = UINT64_MAX;
	int rc = prb_log_verify(st, &v, cli_progress_fn, &pr, &size, &err);
	if (rc)
		cli_prefix_where(&err, pos[0]);
	else
		rc = verify_index(pos[0], st, &pr, &covers, &err);
	cli_progress_done(&pr);
	prb_store_close(st);
	if (rc)
		return cli_fail("verify", &err);
	printf("verified %s: origin %s, size %llu, every tile and the root "
	       "recomputed from the entries\n", pos[0], v.name,
	       (unsigned long long)size);
	if (covers == UINT64_MAX)
		printf("index: none (no %s); every large record's blob "
		       "checked\n", PRB_INDEX_FILE);
	else if (covers >= size)
		printf("index: matches the log, row by row\n");
	else
		printf("index: matches the log, row by row, for the first %llu "
		       "entries; entries %llu..%llu are not indexed yet (the "
		       "next ingest or probity reindex indexes them)\n",
		       (unsigned long long)covers, (unsigned long long)covers,
		       (unsigned long long)size - 1);
	return cli_stdout_done("verify");
}

static const cli_cmd verify_proof_cmd = {
	"verify-proof", "PROOFFILE ENTRYFILE --vkey VERIFIERKEY",
	"Checks a c2sp.org/tlog-proof@v1 inclusion proof offline: that its\n"
	"checkpoint is signed by VERIFIERKEY with the key's name as origin,\n"
	"and that the entry whose exact bytes are in ENTRYFILE (\"-\" for\n"
	"stdin) is at the proof's index in that tree.\n",
	NULL, NULL, 2, 2};

int
cmd_verify_proof(int argc, char **argv)
{
	const char *vkey = NULL, *pos[2];
	int npos, code;
	cli_opt opts[] = {CLI_OPT_VKEY(&vkey), {0}};
	if (cli_parse(&verify_proof_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!vkey)
		return cli_usage_error(&verify_proof_cmd,
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
