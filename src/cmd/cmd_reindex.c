/* probity reindex: the index rebuilt from the log alone. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "probity/index.h"
#include "cli.h"

static const cli_cmd reindex_cmd = {
	"reindex", "DIR [--lock-timeout SECONDS]",
	"Rebuilds DIR/index.sqlite from the log's entries alone: builds a new\n"
	"database beside it (index.sqlite.new) and renames it into place, so an\n"
	"interrupted reindex leaves the previous index and a corrupt one is\n"
	"simply replaced. Takes the log's writer lock, so no ingest runs\n"
	"meanwhile. Entries are read from the entry bundles as they are;\n"
	"probity verify checks those against the signed checkpoint and the\n"
	"index against them.\n",
	NULL, NULL, 1, 1};

int
cmd_reindex(int argc, char **argv)
{
	const char *wait = NULL, *pos[1];
	int npos, code;
	unsigned long long wait_s = 30;
	cli_opt opts[] = {CLI_OPT_LOCK_TIMEOUT(&wait), {0}};
	if (cli_parse(&reindex_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (wait && cli_u64("reindex", "--lock-timeout", wait, &wait_s))
		return EXIT_USAGE;
	prb_store *st = NULL;
	prb_log *log = NULL;
	prb_index *ix = NULL;
	prb_err err;
	prb_err_clear(&err);
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	tmp[0] = '\0';
	cli_progress pr;
	cli_progress_init(&pr, "entries");
	int rc = EXIT_FAIL;
	if (cli_open_log("reindex", pos[0], PRB_SYNC_FILES, NULL, 0, &st, &log))
		goto done;
	if (st->ops->lock(st, (int)(wait_s * 1000), &err) != 0) {
		if (strcmp(err.where, pos[0]) != 0) /* the store names DIR */
			cli_prefix_where(&err, pos[0]);
		cli_fail("reindex", &err);
		goto done;
	}
	/* the checkpoint may have moved while we waited for the lock */
	prb_log_close(log);
	log = NULL;
	prb_err_clear(&err);
	snprintf(path, sizeof path, "%s/%s", pos[0], PRB_INDEX_FILE);
	snprintf(tmp, sizeof tmp, "%s.new", path);
	if (prb_log_open(st, NULL, 0, &log, &err) != 0 ||
	    prb_index_create(tmp, &ix, &err) != 0)
		goto fail;
	prb_hash root;
	prb_log_root(log, &root);
	uint64_t size = prb_log_size(log);
	if (prb_index_build(ix, st, 0, size, &root, cli_progress_fn, &pr, &err))
		goto fail;
	prb_index_close(ix);
	ix = NULL;
	if (prb_index_install(tmp, path, &err) != 0)
		goto fail;
	cli_progress_done(&pr);
	printf("reindexed %s: %llu entries\n", pos[0], (unsigned long long)size);
	rc = EXIT_OK;
	goto done;
fail:
	cli_progress_done(&pr);
	prb_index_close(ix);
	ix = NULL;
	if (tmp[0] != '\0')
		prb_index_remove(tmp); /* the scratch database */
	if (err.code != 0) {
		if (strncmp(err.where, pos[0], strlen(pos[0])) != 0)
			cli_prefix_where(&err, pos[0]);
		cli_fail("reindex", &err);
	}
done:
	prb_index_close(ix);
	prb_log_close(log);
	prb_store_close(st);
	return rc;
}
