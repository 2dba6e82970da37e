/*
 * The writer: include/probity/writer.h states the batch states; here is
 * the function behind each transition and the order of every step.
 *
 * Invariants:
 *  1. Acknowledged means durable: a batch is reported IN only after the
 *     log's commit of it returned 0 (prb_log_append_wait: every tile,
 *     bundle and blob put before it synced, then the checkpoint replaced
 *     and synced), or after a reopened log's checkpoint covers it and has
 *     been written and synced again (settle).
 *  2. The index is never ahead of the durable log: a batch with index
 *     rows is committed synchronously (ship_indexed) and its transaction
 *     commits only after the log's commit returned; on any failure it is
 *     rolled back.
 *  3. Batches are reported in the order shipped (the queue q); after a
 *     failure every later batch fails too (the log commits nothing after
 *     a failed batch), and recovery (recover: reopen the store and the
 *     log) runs only once the log has nothing in flight.
 *
 * Transitions:
 *   BUILDING:   prb_writer_append (prb_log_append_stage),
 *               prb_writer_record (begin_index, then prb_index_add,
 *               blob put, prb_log_append_stage)
 *   IN FLIGHT:  prb_writer_ship -> prb_log_append_start
 *   DONE:       wait_oldest -> prb_log_append_wait; then for an indexed
 *               batch index_done; on failure fail_rest, recover, settle
 */
#include "probity/writer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/blob.h"
#include "probity/index.h"
#include "probity/sha256.h"
#include "base/util.h"

#define REOPEN_WAIT_MS 5000 /* another writer may take the lock while the
                               log is reopened after a failure */

/* A shipped batch not yet collected. */
typedef struct {
	uint64_t first, n;
	prb_hash root; /* of the tree the batch makes (settle compares it) */
	int waiting; /* in the log's flight: its result is not known yet */
	prb_writer_batch res;
} wbatch;

struct prb_writer {
	prb_writer_cfg cfg;
	char dir[PATH_MAX];
	prb_store *st;
	prb_log *log;
	prb_index *ix;
	int txn;              /* the batch being built has index rows */
	uint64_t size;        /* the latest durable size (kept when broken) */
	uint64_t build_first; /* the batch being built: its first leaf */
	size_t build_n;
	int failed;           /* a failure: recover once nothing waits */
	int broken;           /* recovery failed: everything is refused */
	prb_err broken_err;   /* why */
	wbatch q[PRB_WRITER_INFLIGHT + 1]; /* shipped, oldest first */
	unsigned qn;
};

static unsigned
waiting(const prb_writer *w)
{
	unsigned k = 0;
	for (unsigned i = 0; i < w->qn; i++)
		k += (unsigned)w->q[i].waiting;
	return k;
}

static int
refuse(const prb_writer *w, prb_err *err)
{
	return prb_err_set(err, PRB_EFAILED, NULL, UINT64_MAX,
	                   "the log is unusable after a failed batch: it "
	                   "could not be reopened (%s)", w->broken_err.msg);
}

int
prb_writer_broken(const prb_writer *w, prb_err *why)
{
	if (w->broken && why)
		*why = w->broken_err;
	return w->broken;
}

static int
open_log(prb_writer *w, int wait_ms, prb_err *err)
{
	int rc = w->cfg.open_store
	                 ? w->cfg.open_store(w->cfg.store_ctx, &w->st, err)
	                 : prb_store_open(w->dir, w->cfg.sync_mode, &w->st,
	                                      err);
	if (rc == 0)
		rc = prb_log_open(w->st, w->cfg.signer, wait_ms, &w->log, err);
	if (rc != 0) {
		prb_log_close(w->log);
		prb_store_close(w->st);
		w->log = NULL;
		w->st = NULL;
		return rc;
	}
	w->size = prb_log_size(w->log);
	return 0;
}

int
prb_writer_open(const prb_writer_cfg *cfg, prb_writer **out, prb_err *err)
{
	*out = NULL;
	prb_writer *w = calloc(1, sizeof *w);
	if (!w)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	w->cfg = *cfg;
	if (strlen(cfg->dir) >= sizeof w->dir) {
		free(w);
		return prb_err_set(err, PRB_EINVAL, cfg->dir, UINT64_MAX,
		                   "path too long");
	}
	snprintf(w->dir, sizeof w->dir, "%s", cfg->dir);
	w->cfg.dir = w->dir;
	int rc = open_log(w, cfg->lock_wait_ms, err);
	if (rc != 0) {
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

static void
end_txn(prb_writer *w)
{
	if (w->txn && w->ix)
		prb_index_rollback(w->ix);
	w->txn = 0;
}

void
prb_writer_close(prb_writer *w)
{
	if (!w)
		return;
	end_txn(w);
	prb_index_close(w->ix);
	prb_log_close(w->log); /* waits for what is in flight */
	prb_store_close(w->st);
	free(w);
}

prb_log *
prb_writer_log(prb_writer *w)
{
	return w->log;
}

uint64_t
prb_writer_size(const prb_writer *w)
{
	return w->size;
}

uint64_t
prb_writer_next_leaf(const prb_writer *w)
{
	uint64_t next = w->size;
	for (unsigned i = 0; i < w->qn; i++)
		if (w->q[i].waiting)
			next = w->q[i].first + w->q[i].n;
	return next + w->build_n;
}

size_t
prb_writer_building(const prb_writer *w)
{
	return w->build_n;
}

unsigned
prb_writer_in_flight(const prb_writer *w)
{
	return w->qn;
}

/*
 * Recovery, once the log has nothing in flight: close the store and the
 * log (dropping the batch being built) and open them again; opening is
 * the log's crash recovery. Then every batch in doubt is settled against
 * the reopened checkpoint. Failing to reopen breaks the writer. An open
 * index transaction is left to its batch (index_done).
 */
static int
reopen(prb_writer *w)
{
	prb_log_close(w->log);
	prb_store_close(w->st);
	w->log = NULL;
	w->st = NULL;
	w->build_n = 0;
	if (open_log(w, REOPEN_WAIT_MS, &w->broken_err) != 0) {
		w->broken = 1;
		return -1;
	}
	return 0;
}

/* A batch in doubt against the reopened log: IN if its checkpoint
 * covers it with the batch's own root at the batch's size and could be
 * made durable again, OUT if the log has its old size or another tree
 * of its size. Returns -1 if re-syncing the checkpoint failed (the handle then
 * refuses appends). */
static int
settle(prb_writer *w, wbatch *b)
{
	prb_writer_batch *r = &b->res;
	if (r->state != PRB_BATCH_DOUBT)
		return 0;
	uint64_t size = prb_log_size(w->log);
	prb_hash root;
	prb_err e;
	/* the size alone would not do: another writer on the same bucket
	 * may have committed a tree of that size without this batch */
	int ours = size >= b->first + b->n &&
	           prb_log_root_at(w->log, b->first + b->n, &root, &e) == 0 &&
	           memcmp(root.b, b->root.b, sizeof root.b) == 0;
	if (!ours && size != b->first && size < b->first + b->n)
		return 0; /* stays in doubt */
	/* Written again: what the reopened log read may be only in the page
	 * cache (a failed directory sync after the rename); on S3 this
	 * changes the checkpoint's ETag, so a delayed copy of the lost
	 * commit can no longer land after the batch was reported OUT. */
	if (prb_log_sync_checkpoint(w->log, &e) != 0)
		return -1;
	r->state = ours ? PRB_BATCH_IN : PRB_BATCH_OUT; /* OUT: the old size,
	                                                  or another's tree */
	if (ours)
		r->size = b->first + b->n;
	r->settled = 1;
	return 0;
}

static void
recover(prb_writer *w)
{
	if (!w->failed || waiting(w) > 0 || w->broken)
		return;
	if (reopen(w) != 0)
		return;
	int resync_failed = 0;
	for (unsigned i = 0; i < w->qn; i++)
		resync_failed |= settle(w, &w->q[i]) != 0;
	if (resync_failed && reopen(w) != 0)
		return;
	w->failed = 0;
}

/* A failure of the batch being built (before it was shipped): it is lost;
 * the writer recovers once nothing is in flight. */
static int
lose_build(prb_writer *w, int rc)
{
	end_txn(w);
	w->build_n = 0;
	w->failed = 1;
	recover(w);
	return rc;
}

/* Waits for the log's oldest batch in flight (the first waiting one of
 * the queue) and records its result. */
static void
wait_oldest(prb_writer *w)
{
	wbatch *b = NULL;
	for (unsigned i = 0; i < w->qn && !b; i++)
		if (w->q[i].waiting)
			b = &w->q[i];
	if (!b)
		return;
	prb_writer_batch *r = &b->res;
	uint64_t size = 0;
	prb_err_clear(&r->err);
	r->rc = prb_log_append_wait(w->log, &size, &r->err);
	b->waiting = 0;
	if (r->rc == 0) {
		r->state = PRB_BATCH_IN;
		r->size = size;
		w->size = size;
		return;
	}
	r->state = r->rc == PRB_EINDOUBT ? PRB_BATCH_DOUBT : PRB_BATCH_OUT;
	w->failed = 1;
}

/* After a failed batch: the later ones in flight fail too (the log says
 * why); then recovery settles a commit in doubt. */
static void
fail_rest(prb_writer *w)
{
	while (waiting(w) > 0)
		wait_oldest(w);
	recover(w);
}

/* The index's transaction for a batch that is now IN, or rolled back. */
static void
index_done(prb_writer *w, prb_writer_batch *r)
{
	if (!w->txn)
		return;
	w->txn = 0;
	if (r->state != PRB_BATCH_IN || !w->log || !w->ix) {
		if (w->ix)
			prb_index_rollback(w->ix);
		return;
	}
	prb_hash root;
	prb_log_root(w->log, &root);
	prb_err_clear(&r->index_err);
	r->index_rc = prb_index_commit(w->ix, prb_log_size(w->log), &root,
	                               &r->index_err);
}

int
prb_writer_collect(prb_writer *w, prb_writer_batch *out)
{
	if (w->qn == 0) {
		memset(out, 0, sizeof *out);
		out->state = PRB_BATCH_OUT;
		out->rc = prb_err_set(&out->err, PRB_EINVAL, NULL, UINT64_MAX,
		                      "no batch in flight");
		return out->rc;
	}
	if (w->q[0].waiting)
		wait_oldest(w);
	if (w->failed)
		fail_rest(w);
	*out = w->q[0].res;
	memmove(&w->q[0], &w->q[1], (w->qn - 1) * sizeof w->q[0]);
	w->qn--;
	return 0;
}

int
prb_writer_append(prb_writer *w, const uint8_t *const *ents,
                  const size_t *lens, size_t n, prb_err *err)
{
	if (w->broken || !w->log)
		return refuse(w, err);
	if (w->failed)
		return prb_err_set(err, PRB_EFAILED, NULL, UINT64_MAX,
		                   "an earlier batch failed: collect it first");
	if (w->txn)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "the batch being built holds records: ship "
		                   "it before plain entries");
	if (n == 0)
		return 0;
	if (w->build_n == 0)
		w->build_first = prb_writer_next_leaf(w);
	int rc = prb_log_append_stage(w->log, ents, lens, n, err);
	if (rc == PRB_ETOOBIG)
		return rc;
	if (rc != 0)
		return lose_build(w, rc);
	w->build_n += n;
	return 0;
}

/* Opens the index if needed and brings it up to the durable log, with
 * the checks that tell an index of another log. Nothing may be in
 * flight or staged. */
static int
index_ready(prb_writer *w, prb_err *err)
{
	char path[PATH_MAX + 16];
	int rc;
	if (!w->ix) {
		snprintf(path, sizeof path, "%s/%s", w->dir, PRB_INDEX_FILE);
		rc = prb_index_open(path, &w->ix, err);
		if (rc != 0) {
			size_t k = strlen(err->msg);
			snprintf(err->msg + k, sizeof err->msg - k,
			         " (the index is derived data: probity reindex %s "
			         "rebuilds it from the log)", w->dir);
			return rc;
		}
	} else {
		snprintf(path, sizeof path, "%s/%s", w->dir, PRB_INDEX_FILE);
	}
	uint64_t isize, lsize = prb_log_size(w->log);
	prb_hash iroot, lroot;
	rc = prb_index_covers(w->ix, &isize, &iroot, err);
	if (rc == 0 && isize > lsize)
		rc = prb_err_set(err, PRB_ECORRUPT, path, UINT64_MAX,
		                 "the index covers %llu entries but the log has "
		                 "%llu: it belongs to another log; run probity "
		                 "reindex",
		                 (unsigned long long)isize,
		                 (unsigned long long)lsize);
	if (rc == 0)
		rc = prb_log_root_at(w->log, isize, &lroot, err);
	if (rc == 0 && memcmp(lroot.b, iroot.b, 32) != 0)
		rc = prb_err_set(err, PRB_ECORRUPT, path, UINT64_MAX,
		                 "the index's root for size %llu is not the "
		                 "log's: it belongs to another log; run probity "
		                 "reindex",
		                 (unsigned long long)isize);
	if (rc == 0 && isize < lsize) {
		if (w->cfg.on_catch_up)
			w->cfg.on_catch_up(w->cfg.ctx, isize, lsize);
		prb_log_root(w->log, &lroot);
		rc = prb_index_build(w->ix, w->st, isize, lsize, &lroot, NULL,
		                     NULL, err);
	}
	size_t k = strlen(w->dir);
	if (rc != 0 && err->where[0] &&
	    (strncmp(err->where, w->dir, k) != 0 || err->where[k] != '/'))
		prb_err_prefix(err, w->dir); /* a tile, bundle or blob */
	if (rc != 0) {
		prb_index_close(w->ix);
		w->ix = NULL;
	}
	return rc;
}

int
prb_writer_index_open(prb_writer *w, prb_err *err)
{
	if (w->broken || !w->log)
		return refuse(w, err);
	if (w->qn > 0 || w->build_n > 0 || w->txn)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "batches are in flight");
	return index_ready(w, err);
}

/* The first record of a batch: the index, caught up, in a transaction. */
static int
begin_index(prb_writer *w, prb_err *err)
{
	if (w->qn > 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "batches are in flight: collect them before "
		                   "a batch with records");
	if (w->build_n > 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "the batch being built holds plain entries: "
		                   "ship it before records");
	int rc = index_ready(w, err);
	if (rc == 0)
		rc = prb_index_begin(w->ix, err);
	if (rc == 0)
		w->txn = 1;
	return rc;
}

int
prb_writer_record(prb_writer *w, const prb_event *ev, const prb_entry *en,
                  uint64_t *leaf, int *outcome, prb_err *err)
{
	if (w->broken || !w->log)
		return refuse(w, err);
	if (w->failed)
		return prb_err_set(err, PRB_EFAILED, NULL, UINT64_MAX,
		                   "an earlier batch failed: collect it first");
	int rc;
	if (!w->txn && (rc = begin_index(w, err)) != 0)
		return rc; /* nothing was staged: the log is untouched */
	if (w->build_n == 0)
		w->build_first = prb_writer_next_leaf(w);
	char hex[65], had[65];
	*leaf = prb_writer_next_leaf(w);
	prb_sha256_hex(en->bytes, en->len, hex);
	rc = prb_index_add(w->ix, *leaf, ev, en->canonical,
	                   en->blob ? en->blob_hex : NULL, hex, err);
	if (rc == 0) {
		rc = prb_index_lookup(w->ix, ev->format, ev->event_id, leaf, had,
		                      err);
		if (rc == 0)
			rc = prb_err_set(err, PRB_ECORRUPT, NULL, UINT64_MAX,
			                 "event id %s refused by the index but "
			                 "not found in it", ev->event_id);
		if (rc < 0)
			return lose_build(w, rc);
		*outcome = strcmp(had, hex) ? PRB_WRITER_CONFLICT
		                            : PRB_WRITER_DUPLICATE;
		return 0;
	}
	if (rc < 0)
		return lose_build(w, rc);
	if (en->blob) {
		rc = prb_blob_put(w->st, en->blob_hex, en->blob, en->blob_len,
		                  err);
		if (rc != 0)
			return lose_build(w, rc);
	}
	const uint8_t *e = en->bytes;
	rc = prb_log_append_stage(w->log, &e, &en->len, 1, err);
	if (rc != 0)
		return lose_build(w, rc);
	w->build_n++;
	*outcome = PRB_WRITER_NEW;
	return 0;
}

int
prb_writer_ship(prb_writer *w, prb_err *err)
{
	if (w->broken || !w->log)
		return refuse(w, err);
	if (w->failed)
		return prb_err_set(err, PRB_EFAILED, NULL, UINT64_MAX,
		                   "an earlier batch failed: collect it first");
	if (w->build_n == 0) {
		end_txn(w); /* only duplicates: no rows were added */
		return 0;
	}
	if (w->qn >= PRB_WRITER_INFLIGHT)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "%u batches in flight: collect one first",
		                   w->qn);
	int rc = prb_log_append_start(w->log, NULL, NULL, 0, err);
	if (rc != 0)
		return lose_build(w, rc);
	wbatch *b = &w->q[w->qn++];
	memset(b, 0, sizeof *b);
	b->first = w->build_first;
	b->n = w->build_n;
	prb_log_staged_root(w->log, &b->root);
	b->waiting = 1;
	b->res.first = b->first;
	b->res.n = b->n;
	w->build_n = 0;
	if (w->txn) { /* the index follows the log: commit it now */
		wait_oldest(w);
		if (w->failed)
			fail_rest(w);
		index_done(w, &b->res);
	}
	return 0;
}

static int
prove_consistency(void *ctx, uint64_t m, uint64_t n, prb_hash *proof,
                  size_t *len, prb_err *err)
{
	return prb_log_prove_consistency(ctx, m, n, proof, len, err);
}

int
prb_writer_cosign(prb_writer *w, prb_writer_cosigned *out, prb_err *err)
{
	memset(out, 0, sizeof *out);
	prb_err_clear(&out->warn);
	prb_err_clear(&out->publish_err);
	if (w->broken || !w->log)
		return refuse(w, err);
	if (!w->cfg.cosign || w->qn > 0 || w->build_n > 0 || w->txn)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "no witnesses, or batches in flight");
	size_t len;
	const char *cp = prb_log_checkpoint(w->log, &len);
	out->size = prb_log_size(w->log);
	int rc = prb_cosign_collect(w->cfg.cosign, cp, len, out->size,
	                            prove_consistency, w->log, &out->note,
	                            &out->len, &out->got, &out->warn);
	if (rc != 0) {
		*err = out->warn;
		prb_err_clear(&out->warn);
		return rc;
	}
	out->publish_rc = prb_log_publish(w->log, out->note, out->len,
	                                  &out->publish_err);
	if (out->publish_rc != 0 && out->publish_rc != PRB_ECONFLICT &&
	    out->publish_rc != PRB_EINVAL) {
		w->failed = 1; /* the handle refuses appends after I/O errors */
		recover(w);
	}
	return 0;
}
