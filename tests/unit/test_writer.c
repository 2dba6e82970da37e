/*
 * The writer (include/probity/writer.h): every state a batch goes through,
 * driven through a fault-injecting store (faulty.h) that the writer opens
 * afresh when it recovers. Checks that a batch is reported IN only when
 * the reopened log holds it, OUT only when it does not, that results come
 * in order and every batch after a failed one fails, that the index is
 * never ahead of the durable log, and that the writer goes on after
 * recovering (or refuses everything, saying why, when it cannot).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "probity/entry.h"
#include "probity/index.h"
#include "probity/ingest.h"
#include "probity/writer.h"

#include "faulty.h"
#include "t.h"

static char tmproot[] = "/tmp/probity-test-writer-XXXXXX";

/* What the writer opens: a faulty wrapper around the filesystem store of
 * dir; `arm` is the fault the next open gets (then disarmed, so the
 * recovery's reopen sees a healthy store unless fail_open is set). */
typedef struct {
	char dir[256];
	faulty f;
	prb_store *in;
	faulty arm;
	int fail_open; /* opens fail from now on */
	int opens;
	int other;     /* the next open first lets another writer commit
	                  this many entries of its own */
} rig;

static prb_signer *signer_;

/* Another writer (as on a bucket two machines share) commits n entries
 * "other-i" to the log in dir. */
static void
other_writer(const char *dir, int n)
{
	prb_store *st;
	prb_log *log;
	prb_err err;
	const uint8_t *p[8];
	size_t l[8];
	for (int i = 0; i < n && i < 8; i++) {
		p[i] = (const uint8_t *)"other";
		l[i] = 5;
	}
	if (prb_store_open_dir(dir, PRB_SYNC_FILES, &st, &err) ||
	    prb_log_open(st, signer_, 0, &log, &err))
		abort();
	CHECK(prb_log_append(log, p, l, (size_t)n, &err) == 0,
	      "the other writer commits: %s", err.msg);
	prb_log_close(log);
	prb_store_close(st);
}

static int
rig_open(void *ctx, prb_store **out, prb_err *err)
{
	rig *r = ctx;
	r->opens++;
	if (r->fail_open)
		return prb_err_set(err, PRB_EIO, r->dir, UINT64_MAX,
		                   "injected: the store cannot be opened");
	prb_store_close(r->in); /* the previous one: the writer closed f */
	r->in = NULL;
	if (r->other) {
		other_writer(r->dir, r->other);
		r->other = 0;
	}
	int rc = prb_store_open_dir(r->dir, PRB_SYNC_FILES, &r->in, err);
	if (rc)
		return rc;
	faulty_wrap(&r->f, r->in);
	r->f.op = r->arm.op;
	r->f.at = r->arm.at;
	r->f.after = r->arm.after;
	r->f.code = r->arm.code;
	memset(&r->arm, 0, sizeof r->arm);
	r->arm.op = -1;
	*out = &r->f.base;
	return 0;
}

/* A new log in a fresh directory and a writer on it, whose first store
 * gets the fault `arm` (op -1: none). */
static prb_writer *
rig_start(rig *r, const char *name, int op, int at, int after)
{
	memset(r, 0, sizeof *r);
	snprintf(r->dir, sizeof r->dir, "%s/%s", tmproot, name);
	mkdir(r->dir, 0755);
	prb_store *st;
	prb_err err;
	if (prb_store_open_dir(r->dir, PRB_SYNC_FILES, &st, &err) ||
	    prb_log_create(st, signer_, &err))
		abort();
	prb_store_close(st);
	r->arm.op = op;
	r->arm.at = at;
	r->arm.after = after;
	r->arm.code = PRB_EIO;
	prb_writer_cfg cfg = {.dir = r->dir, .sync_mode = PRB_SYNC_FILES,
	                      .signer = signer_, .open_store = rig_open,
	                      .store_ctx = r};
	prb_writer *w = NULL;
	int rc = prb_writer_open(&cfg, &w, &err);
	CHECK(rc == 0, "%s: open: %s", name, err.msg);
	return w;
}

static void
rig_end(rig *r, prb_writer *w)
{
	prb_writer_close(w);
	prb_store_close(r->in);
}

/* Adds n entries "NAME-i" and ships them. */
static int
add_batch(prb_writer *w, const char *name, uint64_t from, size_t n,
          prb_err *err)
{
	char buf[64][32];
	const uint8_t *p[64];
	size_t l[64];
	for (size_t i = 0; i < n && i < 64; i++) {
		l[i] = (size_t)snprintf(buf[i], sizeof buf[i], "%s-%llu", name,
		                        (unsigned long long)(from + i));
		p[i] = (const uint8_t *)buf[i];
	}
	int rc = prb_writer_append(w, p, l, n, err);
	return rc ? rc : prb_writer_ship(w, err);
}

/* The durable size of the log in dir, read afresh. */
static uint64_t
size_on_disk(const char *dir)
{
	prb_store *st;
	prb_log *log;
	prb_err err;
	if (prb_store_open_dir(dir, PRB_SYNC_FILES, &st, &err))
		return UINT64_MAX;
	uint64_t n = UINT64_MAX;
	if (prb_log_open(st, NULL, 0, &log, &err) == 0) {
		n = prb_log_size(log);
		prb_log_close(log);
	}
	prb_store_close(st);
	return n;
}

static void
test_pipelined(void)
{
	rig r;
	prb_writer *w = rig_start(&r, "pipe", -1, 0, 0);
	prb_err err;
	CHECK(add_batch(w, "a", 0, 10, &err) == 0, "ship 1: %s", err.msg);
	CHECK(add_batch(w, "a", 10, 5, &err) == 0, "ship 2: %s", err.msg);
	CHECK(prb_writer_in_flight(w) == 2, "two in flight");
	CHECK(prb_writer_next_leaf(w) == 15, "next leaf counts what is in "
	      "flight: %llu", (unsigned long long)prb_writer_next_leaf(w));
	CHECK(add_batch(w, "a", 15, 1, &err) == PRB_EINVAL,
	      "a third batch in flight is refused");
	prb_writer_batch b;
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.first == 0 && b.n == 10 &&
	      b.size == 10 && b.rc == 0, "batch 1 IN at 0..9, size 10");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.first == 10 && b.n == 5 &&
	      b.size == 15, "batch 2 IN at 10..14, size 15");
	CHECK(prb_writer_collect(w, &b) == PRB_EINVAL, "nothing left");
	CHECK(prb_writer_size(w) == 15 && size_on_disk(r.dir) == 15,
	      "size 15, on disk too");
	rig_end(&r, w);
}

/* The checkpoint's replacement fails before (after = 0) or after
 * (after = 1) it reached the store: the commit is in doubt, and the
 * writer settles it by reopening: OUT or IN. */
static void
test_in_doubt(int after)
{
	rig r;
	prb_writer *w = rig_start(&r, after ? "doubt-in" : "doubt-out",
	                          OP_CKPT, 2, after);
	prb_err err;
	prb_writer_batch b;
	CHECK(add_batch(w, "d", 0, 4, &err) == 0, "ship 1");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN, "batch 1 is in");
	CHECK(add_batch(w, "d", 4, 3, &err) == 0, "ship 2");
	prb_writer_collect(w, &b);
	CHECK(b.rc != 0, "batch 2's commit failed");
	CHECK(b.settled == 1, "reopening settled it");
	if (after) {
		CHECK(b.state == PRB_BATCH_IN && b.size == 7,
		      "a checkpoint that reached the store: IN, size 7");
		CHECK(size_on_disk(r.dir) == 7, "the log holds it");
	} else {
		CHECK(b.state == PRB_BATCH_OUT,
		      "a checkpoint that never reached the store: OUT");
		CHECK(size_on_disk(r.dir) == 4, "the log does not hold it");
	}
	CHECK(r.opens == 2, "the store was opened again: %d", r.opens);
	uint64_t next = prb_writer_next_leaf(w);
	CHECK(add_batch(w, "d", next, 2, &err) == 0,
	      "the writer goes on after recovering: %s", err.msg);
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.first == next,
	      "the next batch is IN where the log ended");
	rig_end(&r, w);
}

/* The commit is in doubt and, before the writer reopens, another writer
 * commits a tree of the same size without the batch (a bucket shared by
 * two machines): the batch is OUT, not IN by its size alone. */
static void
test_in_doubt_other_tree(void)
{
	rig r;
	prb_writer *w = rig_start(&r, "doubt-other", OP_CKPT, 2, 0);
	prb_err err;
	prb_writer_batch b;
	CHECK(add_batch(w, "d", 0, 4, &err) == 0, "ship 1");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN, "batch 1 is in");
	r.other = 3;
	CHECK(add_batch(w, "d", 4, 3, &err) == 0, "ship 2");
	prb_writer_collect(w, &b);
	CHECK(b.rc != 0 && b.settled == 1, "batch 2 was in doubt, settled");
	CHECK(b.state == PRB_BATCH_OUT,
	      "another tree of size 7 does not hold it: OUT (state %d)",
	      b.state);
	CHECK(size_on_disk(r.dir) == 7 && prb_writer_size(w) == 7,
	      "the log is the other writer's, size 7");
	CHECK(add_batch(w, "d", 7, 2, &err) == 0, "the writer goes on: %s",
	      err.msg);
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.first == 7 && b.size == 9,
	      "after the other writer's entries");
	rig_end(&r, w);
}

/* A failed sync while a later batch is in flight: the failed batch is
 * OUT (not in doubt: the checkpoint was never touched) and so is the one
 * after it, whose checkpoint would cover it. */
static void
test_pipelined_failure(void)
{
	rig r;
	prb_writer *w = rig_start(&r, "pipefail", OP_SYNC, 2, 0);
	prb_err err;
	prb_writer_batch b;
	CHECK(add_batch(w, "p", 0, 3, &err) == 0, "ship 1");
	CHECK(add_batch(w, "p", 3, 3, &err) == 0, "ship 2");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.size == 3, "batch 1 in");
	CHECK(add_batch(w, "p", 6, 3, &err) == 0, "ship 3 while 2 in flight");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_OUT && b.rc != 0 && !b.settled,
	      "batch 2: its sync failed: OUT");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_OUT && b.rc != 0 && b.first == 6,
	      "batch 3, after it: OUT too");
	CHECK(size_on_disk(r.dir) == 3, "the log holds batch 1 only");
	CHECK(prb_writer_next_leaf(w) == 3, "the next entry goes at 3");
	CHECK(add_batch(w, "p", 3, 2, &err) == 0, "the writer goes on");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.size == 5, "and commits");
	rig_end(&r, w);
}

/* Reopening fails: the writer is broken and says why, everywhere. */
static void
test_broken(void)
{
	rig r;
	prb_writer *w = rig_start(&r, "broken", OP_SYNC, 1, 0);
	prb_err err, why;
	prb_writer_batch b;
	r.fail_open = 1;
	CHECK(add_batch(w, "b", 0, 3, &err) == 0, "ship");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_OUT, "the failed batch is OUT");
	CHECK(prb_writer_broken(w, &why) == 1, "the writer is broken");
	CHECK(strstr(why.msg, "cannot be opened") != NULL, "why: %s", why.msg);
	CHECK(prb_writer_log(w) == NULL, "it has no log");
	const uint8_t *e = (const uint8_t *)"x";
	size_t l = 1;
	CHECK(prb_writer_append(w, &e, &l, 1, &err) == PRB_EFAILED &&
	      strstr(err.msg, "cannot be opened") != NULL,
	      "appends are refused with the reason: %s", err.msg);
	rig_end(&r, w);
}

/* A staging failure (a tile put fails) loses the batch being built only;
 * the batch in flight before it still commits. */
static void
test_lost_build(void)
{
	rig r;
	prb_writer *w = rig_start(&r, "lost", -1, 0, 0);
	prb_err err;
	prb_writer_batch b;
	char many[300][16];
	const uint8_t *p[300];
	size_t l[300];
	for (int i = 0; i < 300; i++) {
		l[i] = (size_t)snprintf(many[i], sizeof many[i], "m-%d", i);
		p[i] = (const uint8_t *)many[i];
	}
	CHECK(prb_writer_append(w, p, l, 300, &err) == 0 &&
	      prb_writer_ship(w, &err) == 0, "ship 300");
	r.f.op = OP_PUT; /* the next put: a tile of the next batch */
	r.f.at = r.f.calls[OP_PUT] + 1;
	r.f.code = PRB_EIO;
	int rc = prb_writer_append(w, p, l, 300, &err);
	if (rc == 0)
		rc = prb_writer_ship(w, &err);
	CHECK(rc != 0, "the batch being built fails");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.size == 300,
	      "the batch before it is IN");
	CHECK(size_on_disk(r.dir) == 300, "the log holds 300");
	CHECK(prb_writer_building(w) == 0 && prb_writer_next_leaf(w) == 300,
	      "the lost batch is gone");
	CHECK(add_batch(w, "after", 300, 2, &err) == 0, "the writer goes on");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.size == 302, "and commits");
	rig_end(&r, w);
}

/* A CloudTrail record with the given event id. */
static int
record(const char *id, prb_event *ev, prb_entry *en)
{
	char src[512];
	int n = snprintf(src, sizeof src,
	                 "{\"eventVersion\":\"1.08\",\"eventTime\":"
	                 "\"2024-01-02T03:04:05Z\",\"eventSource\":"
	                 "\"s3.amazonaws.com\",\"eventName\":\"CreateBucket\","
	                 "\"awsRegion\":\"eu-west-1\",\"eventID\":\"%s\","
	                 "\"eventType\":\"AwsApiCall\",\"userIdentity\":"
	                 "{\"type\":\"IAMUser\",\"accountId\":\"1\"},"
	                 "\"recipientAccountId\":\"1\"}", id);
	json_t *j = json_loadb(src, (size_t)n, PRB_JSON_FLAGS, NULL);
	prb_err err;
	int rc = j ? prb_event_from_record(PRB_FMT_AUTO, j, ev, &err) : -1;
	if (rc == 0)
		rc = prb_entry_from_record(j, src, (size_t)n, en, &err);
	json_decref(j);
	return rc;
}

/* The index covers the size and root it was last committed with. */
static uint64_t
index_covers(const char *dir)
{
	char path[300];
	snprintf(path, sizeof path, "%s/%s", dir, PRB_INDEX_FILE);
	prb_index *ix;
	prb_err err;
	uint64_t size = UINT64_MAX;
	prb_hash root;
	if (prb_index_open_readonly(path, &ix, &err) == 0) {
		if (prb_index_covers(ix, &size, &root, &err) != 0)
			size = UINT64_MAX;
		prb_index_close(ix);
	}
	return size;
}

/* Records: new, duplicate, conflict; the index follows the log and is
 * never ahead of it, also when a commit fails. */
static void
test_records(void)
{
	rig r;
	prb_writer *w = rig_start(&r, "records", OP_SYNC, 5, 0);
	prb_err err;
	prb_writer_batch b;
	prb_event ev;
	prb_entry en;
	uint64_t leaf;
	int out = -1;
	CHECK(add_batch(w, "plain", 0, 2, &err) == 0, "plain batch");
	CHECK(record("r1", &ev, &en) == 0, "a record");
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == PRB_EINVAL,
	      "a record while a batch is in flight is refused");
	prb_writer_collect(w, &b);
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == 0 &&
	      out == PRB_WRITER_NEW && leaf == 2, "r1 new at 2: %s", err.msg);
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == 0 &&
	      out == PRB_WRITER_DUPLICATE && leaf == 2,
	      "r1 again in the same batch: a duplicate of 2");
	CHECK(prb_writer_ship(w, &err) == 0, "ship the records");
	CHECK(prb_writer_in_flight(w) == 1,
	      "a records batch is committed by ship, reported by collect");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.n == 1 && b.index_rc == 0,
	      "the records batch is in");
	CHECK(index_covers(r.dir) == 3, "the index covers 3 now");
	prb_event_free(&ev);
	prb_entry_free(&en);
	/* a batch holds plain entries or records, never both */
	const uint8_t *pe = (const uint8_t *)"plain";
	size_t pl = 5;
	CHECK(prb_writer_append(w, &pe, &pl, 1, &err) == 0, "a plain entry");
	CHECK(record("mix", &ev, &en) == 0, "a record");
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == PRB_EINVAL,
	      "a record after plain entries is refused: %s", err.msg);
	CHECK(prb_writer_building(w) == 1 && prb_writer_ship(w, &err) == 0,
	      "the plain batch is intact and ships");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && b.size == 4, "and is in, at 3");
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == 0 &&
	      leaf == 4, "then the record, at 4");
	CHECK(prb_writer_append(w, &pe, &pl, 1, &err) == PRB_EINVAL,
	      "plain entries after a record are refused");
	CHECK(prb_writer_ship(w, &err) == 0, "the records batch ships");
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && index_covers(r.dir) == 5,
	      "and is in and indexed, covering 5");
	prb_event_free(&ev);
	prb_entry_free(&en);
	/* the next records batch fails (the armed sync): not indexed */
	CHECK(record("r2", &ev, &en) == 0, "another record");
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == 0 &&
	      out == PRB_WRITER_NEW && leaf == 5, "r2 new at 5");
	prb_writer_ship(w, &err);
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_OUT, "its commit failed: OUT");
	CHECK(index_covers(r.dir) == 5 && size_on_disk(r.dir) == 5,
	      "the index is not ahead of the log (5 and 5)");
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == 0 &&
	      out == PRB_WRITER_NEW && leaf == 5,
	      "after recovery r2 is new again, at 5");
	prb_writer_ship(w, &err);
	prb_writer_collect(w, &b);
	CHECK(b.state == PRB_BATCH_IN && index_covers(r.dir) == 6,
	      "and goes in, indexed");
	prb_event_free(&ev);
	prb_entry_free(&en);
	/* a record of another content under the same id: a conflict */
	CHECK(record("r1", &ev, &en) == 0, "r1 again");
	en.bytes[en.len - 2] = ' '; /* other bytes, same event id */
	CHECK(prb_writer_record(w, &ev, &en, &leaf, &out, &err) == 0 &&
	      out == PRB_WRITER_CONFLICT && leaf == 2,
	      "same id, other entry: a conflict with leaf 2");
	CHECK(prb_writer_ship(w, &err) == 0 && prb_writer_in_flight(w) == 0,
	      "nothing new: nothing shipped");
	prb_event_free(&ev);
	prb_entry_free(&en);
	rig_end(&r, w);
}

/* An index of another log is refused, naming what is wrong. */
static void
test_foreign_index(void)
{
	rig a, c;
	prb_writer *wa = rig_start(&a, "own", -1, 0, 0);
	prb_writer *wc = rig_start(&c, "other", -1, 0, 0);
	prb_err err;
	prb_writer_batch b;
	prb_event ev;
	prb_entry en;
	uint64_t leaf;
	int out;
	CHECK(record("x1", &ev, &en) == 0, "a record");
	CHECK(prb_writer_record(wa, &ev, &en, &leaf, &out, &err) == 0 &&
	      prb_writer_ship(wa, &err) == 0, "indexed in log a");
	prb_writer_collect(wa, &b);
	CHECK(add_batch(wc, "other", 0, 5, &err) == 0, "log c grows");
	prb_writer_collect(wc, &b);
	rig_end(&a, wa);
	char from[300], to[300];
	snprintf(from, sizeof from, "%s/%s", a.dir, PRB_INDEX_FILE);
	snprintf(to, sizeof to, "%s/%s", c.dir, PRB_INDEX_FILE);
	CHECK(rename(from, to) == 0, "log a's index moved beside log c");
	int opens = c.opens;
	int rc = prb_writer_index_open(wc, &err);
	CHECK(rc == PRB_ECORRUPT && strstr(err.msg, "another log") != NULL,
	      "refused: %s", err.msg);
	CHECK(prb_writer_record(wc, &ev, &en, &leaf, &out, &err) ==
	      PRB_ECORRUPT, "so is a record");
	CHECK(c.opens == opens && !prb_writer_broken(wc, NULL),
	      "the log was not reopened for it (its lock kept)");
	CHECK(add_batch(wc, "other", 5, 2, &err) == 0, "plain entries go on");
	prb_writer_collect(wc, &b);
	CHECK(b.state == PRB_BATCH_IN && b.size == 7, "and commit");
	prb_event_free(&ev);
	prb_entry_free(&en);
	rig_end(&c, wc);
}

int
main(void)
{
	if (!mkdtemp(tmproot)) {
		perror("mkdtemp");
		return 1;
	}
	if (prb_signer_generate("test.example/writer", &signer_, NULL))
		return 1;
	test_pipelined();
	test_in_doubt(0);
	test_in_doubt(1);
	test_in_doubt_other_tree();
	test_pipelined_failure();
	test_broken();
	test_lost_build();
	test_records();
	test_foreign_index();
	prb_signer_free(signer_);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", tmproot);
	return T_DONE("test_writer");
}
