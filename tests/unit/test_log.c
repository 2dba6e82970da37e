/*
 * The log over the filesystem store: property tests (random batch sizes
 * give the same tree as one batch, every proof verifies, tampered proofs
 * fail), fault injection through the storage interface (a failing write,
 * a failing fsync, a full disk, a failing commit, before and after the
 * operation persists), the single-writer lock, and bad input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probity/log.h"
#include "probity/tile.h"
#include "faulty.h"
#include "t.h"

/* ---- reference tree: all leaf hashes in memory ---------------------- */

typedef struct {
	prb_hash *leaf;
	size_t n, cap;
} ref_tree;

static int
ref_reader(void *ctx, unsigned level, uint64_t index, prb_hash *out)
{
	ref_tree *t = ctx;
	uint64_t first = index << level, n = UINT64_C(1) << level;
	if (first + n > t->n)
		return PRB_EINVAL;
	if (level == 0) {
		*out = t->leaf[first];
		return 0;
	}
	prb_hash l, r;
	ref_reader(ctx, level - 1, 2 * index, &l);
	ref_reader(ctx, level - 1, 2 * index + 1, &r);
	prb_merkle_node_hash(&l, &r, out);
	return 0;
}

static void
ref_add(ref_tree *t, const uint8_t *e, size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->leaf = realloc(t->leaf, t->cap * sizeof *t->leaf);
		if (!t->leaf)
			abort();
	}
	prb_merkle_leaf_hash(e, len, &t->leaf[t->n++]);
}

/* ---- helpers ---------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Entry i of a test log: "entry-<i>" padded with a few varied bytes. */
static size_t
make_entry(uint64_t i, uint8_t *buf)
{
	int n = sprintf((char *)buf, "entry-%llu", (unsigned long long)i);
	size_t pad = i % 7;
	for (size_t k = 0; k < pad; k++)
		buf[n + k] = (uint8_t)(i * 31 + k);
	return (size_t)n + pad;
}

static char tmproot[] = "/tmp/probity-test-log-XXXXXX";

static void
new_dir(char *out, const char *name)
{
	sprintf(out, "%s/%s", tmproot, name);
	t_rm_rf(out);
	mkdir(out, 0755);
}

static prb_signer *
signer(const char *name)
{
	prb_signer *s = NULL;
	if (prb_signer_generate(name, &s, NULL))
		abort();
	return s;
}

/* Appends entries [from, to) in one batch. */
static int
append_range(prb_log *log, uint64_t from, uint64_t to, ref_tree *ref,
             prb_err *err)
{
	size_t n = (size_t)(to - from);
	uint8_t *buf = malloc(n * 40 + 1);
	const uint8_t **p = calloc(n + 1, sizeof *p);
	size_t *l = calloc(n + 1, sizeof *l);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		p[i] = buf + off;
		l[i] = make_entry(from + i, buf + off);
		off += l[i];
	}
	int rc = prb_log_append(log, p, l, n, err);
	if (rc == 0 && ref)
		for (size_t i = 0; i < n; i++)
			ref_add(ref, p[i], l[i]);
	free(buf);
	free(p);
	free(l);
	return rc;
}

/* Stages entries [from, to) for the next batch (start = 0), or starts the
 * batch with them (start = 1), without waiting for it. */
static int
stage_range(prb_log *log, uint64_t from, uint64_t to, int start,
            prb_err *err)
{
	size_t n = (size_t)(to - from);
	uint8_t *buf = malloc(n * 40 + 1);
	const uint8_t **p = calloc(n + 1, sizeof *p);
	size_t *l = calloc(n + 1, sizeof *l);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		p[i] = buf + off;
		l[i] = make_entry(from + i, buf + off);
		off += l[i];
	}
	int rc = start ? prb_log_append_start(log, p, l, n, err)
	               : prb_log_append_stage(log, p, l, n, err);
	memset(buf, 0xee, off); /* the log must not read them any more */
	free(buf);
	free(p);
	free(l);
	return rc;
}

static int
start_range(prb_log *log, uint64_t from, uint64_t to, prb_err *err)
{
	return stage_range(log, from, to, 1, err);
}

static int
open_log(const char *dir, prb_signer *s, prb_store **st, prb_log **log,
         prb_err *err)
{
	int rc = prb_store_open_dir(dir, PRB_SYNC_FILES, st, err);
	if (rc == 0)
		rc = prb_log_open(*st, s, 0, log, err);
	return rc;
}

static int
create_log(const char *dir, prb_signer *s)
{
	prb_store *st;
	int rc = prb_store_open_dir(dir, PRB_SYNC_FILES, &st, NULL);
	if (rc == 0)
		rc = prb_log_create(st, s, NULL);
	prb_store_close(st);
	return rc;
}

/* Proofs from the log equal the reference's, verify, and fail when
 * tampered with. */
static void
check_proofs(prb_log *log, ref_tree *ref)
{
	uint64_t size = prb_log_size(log);
	prb_hash root, pa[PRB_MAX_PROOF], pb[PRB_MAX_PROOF];
	size_t na, nb;
	prb_log_root(log, &root);
	for (int k = 0; k < 12 && size > 0; k++) {
		uint64_t i = k == 0 ? size - 1 : k == 1 ? 0 : rnd() % size;
		int rc = prb_log_prove_inclusion(log, i, size, pa, &na, NULL);
		prb_merkle_prove_inclusion(ref_reader, ref, i, size, pb, &nb);
		CHECK(rc == 0 && na == nb && memcmp(pa, pb, na * sizeof *pa) == 0,
		      "inclusion proof %llu/%llu equals the reference",
		      (unsigned long long)i, (unsigned long long)size);
		CHECK(prb_merkle_verify_inclusion(&ref->leaf[i], i, size, pa, na,
		                                  &root) == 0,
		      "inclusion proof %llu verifies", (unsigned long long)i);
		if (na > 0) {
			pa[rnd() % na].b[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8));
			CHECK(prb_merkle_verify_inclusion(&ref->leaf[i], i, size, pa,
			                                  na, &root) != 0,
			      "tampered inclusion proof fails");
		}
		uint64_t m = rnd() % (size + 1);
		prb_hash rm;
		rc = prb_log_prove_consistency(log, m, size, pa, &na, NULL);
		prb_merkle_prove_consistency(ref_reader, ref, m, size, pb, &nb);
		prb_merkle_root(ref_reader, ref, m, &rm);
		CHECK(rc == 0 && na == nb && memcmp(pa, pb, na * sizeof *pa) == 0,
		      "consistency proof %llu->%llu equals the reference",
		      (unsigned long long)m, (unsigned long long)size);
		CHECK(prb_merkle_verify_consistency(m, size, pa, na, &rm, &root) ==
		              0,
		      "consistency proof %llu->%llu verifies",
		      (unsigned long long)m, (unsigned long long)size);
		prb_hash at;
		CHECK(prb_log_root_at(log, m, &at, NULL) == 0 &&
		              prb_hash_equal(&at, &rm),
		      "root at %llu from tiles", (unsigned long long)m);
	}
}

/* ---- property tests --------------------------------------------------- */

static void
test_random_batches(uint64_t total, size_t maxbatch, int reopen_every)
{
	char a[4200], b[4200];
	prb_signer *s = signer("example.com/prop");
	ref_tree ref = {0};
	prb_store *st, *st2;
	prb_log *log, *one;
	prb_err err;
	new_dir(a, "batches");
	new_dir(b, "onebatch");
	create_log(a, s);
	create_log(b, s);
	open_log(a, s, &st, &log, NULL);
	int batches = 0, ok = 1;
	for (uint64_t done = 0; done < total;) {
		uint64_t n = 1 + rnd() % maxbatch;
		if (n > total - done)
			n = total - done;
		ok &= append_range(log, done, done + n, &ref, &err) == 0;
		done += n;
		prb_hash want, got;
		prb_log_root(log, &got);
		if (total <= 5000) {
			prb_merkle_root(ref_reader, &ref, done, &want);
			ok &= prb_hash_equal(&want, &got);
		}
		if (reopen_every && ++batches % reopen_every == 0) {
			prb_log_close(log);
			prb_store_close(st);
			ok &= open_log(a, s, &st, &log, &err) == 0;
		}
	}
	CHECK(ok, "%llu entries in random batches: every append ok and every "
	      "root equals the reference", (unsigned long long)total);
	open_log(b, s, &st2, &one, NULL);
	CHECK(append_range(one, 0, total, NULL, NULL) == 0, "one batch");
	prb_hash r1, r2, rr;
	prb_log_root(log, &r1);
	prb_log_root(one, &r2);
	prb_merkle_root(ref_reader, &ref, total, &rr);
	CHECK(prb_hash_equal(&r1, &r2) && prb_hash_equal(&r1, &rr),
	      "random batches give the same root as one batch (%llu)",
	      (unsigned long long)total);
	check_proofs(log, &ref);
	uint8_t *e, want[64];
	size_t elen;
	uint64_t i = rnd() % total;
	CHECK(prb_log_read_entry(log, i, &e, &elen, NULL) == 0 &&
	              elen == make_entry(i, want) && memcmp(e, want, elen) == 0,
	      "entry %llu reads back", (unsigned long long)i);
	free(e);
	prb_verifier v;
	prb_signer_verifier(s, &v);
	uint64_t vs = 0;
	prb_err_clear(&err);
	CHECK(prb_log_verify(st, &v, NULL, NULL, &vs, &err) == 0 && vs == total,
	      "the log verifies: %s %s", err.where, err.msg);
	prb_log_close(log);
	prb_log_close(one);
	prb_store_close(st);
	prb_store_close(st2);
	prb_signer_free(s);
	free(ref.leaf);
}

/* Partial tiles of earlier checkpoints are deleted once full. */
static void
test_prune(void)
{
	char d[4200], p[4300];
	prb_signer *s = signer("example.com/prune");
	prb_store *st;
	prb_log *log;
	new_dir(d, "prune");
	create_log(d, s);
	open_log(d, s, &st, &log, NULL);
	append_range(log, 0, 100, NULL, NULL);
	sprintf(p, "%s/tile/0/000.p/100", d);
	CHECK(access(p, F_OK) == 0, "partial tile of size 100 exists");
	append_range(log, 100, 200, NULL, NULL);
	CHECK(access(p, F_OK) == 0, "earlier partial kept while tile partial");
	append_range(log, 200, 300, NULL, NULL);
	sprintf(p, "%s/tile/0/000.p", d);
	CHECK(access(p, F_OK) != 0, "partials gone once tile/0/000 is full");
	sprintf(p, "%s/tile/entries/000.p", d);
	CHECK(access(p, F_OK) != 0, "bundle partials gone once full");
	prb_log_close(log);
	prb_store_close(st);
	prb_signer_free(s);
}

/* ---- fault injection: tests/unit/faulty.h ---- */

/* A log of n entries in a fresh directory d; *st is its store and f a
 * fault-injecting wrapper around it (no fault armed). */
static void
faulty_log(const char *name, prb_signer *s, uint64_t n, char *d,
           prb_store **st, faulty *f)
{
	prb_log *log;
	new_dir(d, name);
	create_log(d, s);
	open_log(d, s, st, &log, NULL);
	if (n)
		append_range(log, 0, n, NULL, NULL);
	prb_log_close(log);
	faulty_wrap(f, *st);
}

/* Pipelined batches (two in flight) over the filesystem store, whose
 * commits run in the background (async 1, or 2 with --sync fs), or over a
 * store without commit() (async 0): the
 * same tree as one batch, sizes reported in order, and everything that
 * needs the durable tree refused while batches are in flight. */
static void
test_pipelined(uint64_t total, size_t maxbatch, int async)
{
	char a[4200];
	prb_signer *s = signer("example.com/pipe");
	ref_tree ref = {0};
	prb_store *st;
	prb_log *log;
	prb_err err;
	prb_verifier v;
	prb_hash proof[PRB_MAX_PROOF];
	size_t plen;
	uint64_t ends[2], vs = 0, size;
	const char *kind = async == 2   ? "background commits, --sync fs"
	                   : async == 1 ? "background commits"
	                                : "no commit()";
	int inflight = 0, ok = 1, refused = 1;
	faulty f; /* no fault armed: the filesystem store without commit() */
	faulty_log(async ? "pipe-async" : "pipe-sync", s, 0, a, &st, &f);
	if (async == 2) { /* one syncfs a commit */
		prb_store_close(st);
		prb_store_open_dir(a, PRB_SYNC_FS, &st, NULL);
	}
	prb_store *use = async ? st : &f.base;
	ok &= prb_log_open(use, s, 0, &log, &err) == 0;
	for (uint64_t done = 0, started = 0; done < total;) {
		if (started < total && inflight < 2) {
			uint64_t n = 1 + rnd() % maxbatch;
			if (n > total - started)
				n = total - started;
			/* its first k entries staged in growing pieces */
			uint64_t k = rnd() % (n + 1);
			for (uint64_t p = 0, q; p < k; p = q) {
				q = p + 1 + p / 2 < k ? p + 1 + p / 2 : k;
				ok &= stage_range(log, started + p, started + q, 0,
				                  &err) == 0;
			}
			ok &= start_range(log, started + k, started + n, &err) == 0;
			for (uint64_t i = started; i < started + n; i++) {
				uint8_t buf[64];
				ref_add(&ref, buf, make_entry(i, buf));
			}
			started += n;
			ends[inflight++] = started;
			if (inflight == 2) {
				refused &= start_range(log, started, started + 1,
				                       NULL) == PRB_EINVAL;
				refused &= append_range(log, started, started + 1,
				                        NULL, NULL) == PRB_EINVAL;
				refused &= prb_log_prove_inclusion(
				                   log, 0, prb_log_size(log), proof,
				                   &plen, NULL) == PRB_EINVAL ||
				           prb_log_size(log) == 0;
			}
			if (inflight < 2 && started < total)
				continue; /* two in flight before the first wait */
		}
		ok &= prb_log_append_wait(log, &size, &err) == 0 &&
		      size == ends[0] && prb_log_size(log) == size;
		prb_hash want, got;
		prb_log_root(log, &got);
		prb_merkle_root(ref_reader, &ref, size, &want);
		ok &= prb_hash_equal(&want, &got);
		done = ends[0];
		ends[0] = ends[1];
		inflight--;
	}
	CHECK(ok, "%s: %llu entries in pipelined batches: sizes in order, "
	      "every root equals the reference (%s)", kind,
	      (unsigned long long)total, err.msg);
	CHECK(refused, "%s: a third batch, a plain append and proofs are "
	      "refused while two are in flight", kind);
	CHECK(prb_log_append_wait(log, NULL, NULL) == PRB_EINVAL,
	      "%s: waiting with nothing in flight is refused", kind);
	check_proofs(log, &ref);
	prb_signer_verifier(s, &v);
	prb_err_clear(&err);
	CHECK(prb_log_verify(st, &v, NULL, NULL, &vs, &err) == 0 && vs == total,
	      "%s: the log verifies: %s %s", kind, err.where, err.msg);
	/* a batch left in flight is committed by close; staged entries are
	 * not, and proofs wait for neither */
	ok = start_range(log, total, total + 300, NULL) == 0 &&
	     stage_range(log, total + 300, total + 400, 0, NULL) == 0;
	refused = prb_log_prove_inclusion(log, 0, prb_log_size(log), proof,
	                                  &plen, NULL) == PRB_EINVAL &&
	          append_range(log, total + 300, total + 301, NULL, NULL) ==
	                  PRB_EINVAL;
	prb_log_close(log);
	prb_store_close(st);
	ok &= open_log(a, s, &st, &log, &err) == 0 &&
	      prb_log_size(log) == total + 300;
	CHECK(ok && refused, "%s: close waits for the batch in flight and "
	      "drops staged entries", kind);
	ok = append_range(log, total + 300, total + 400, NULL, NULL) == 0;
	prb_err_clear(&err);
	CHECK(ok && prb_log_verify(st, &v, NULL, NULL, &vs, &err) == 0 &&
	              vs == total + 400,
	      "%s: and the log grows over what was dropped: %s %s", kind,
	      err.where, err.msg);
	prb_log_close(log);
	prb_store_close(st);
	prb_signer_free(s);
	free(ref.leaf);
}

/* One faulty batch of 700 entries on a log of 300: the batch fails, the
 * handle refuses more, and after reopening the log verifies at 300 (or at
 * 1000 when the fault came after the checkpoint was durable), then grows. */
static int
fault_case(int op, int at, int code, int after)
{
	char d[4200];
	prb_signer *s = signer("example.com/fault");
	prb_verifier v;
	prb_store *st, *st2;
	prb_log *log;
	prb_err err;
	faulty f;
	int ok = 1;
	prb_signer_verifier(s, &v);
	faulty_log("fault", s, 300, d, &st, &f);
	f.op = op, f.at = at, f.code = code, f.after = after;
	ok &= prb_log_open(&f.base, s, 0, &log, NULL) == 0;
	prb_err_clear(&err);
	int rc = append_range(log, 300, 1000, NULL, &err);
	int fired = f.fired;
	if (fired) {
		ok &= rc == (op == OP_CKPT ? PRB_EINDOUBT : code) &&
		      strcmp(err.where, "injected") == 0;
		ok &= append_range(log, 1000, 1001, NULL, NULL) == PRB_EFAILED;
	}
	prb_log_close(log);
	prb_store_close(st);
	ok &= open_log(d, s, &st2, &log, &err) == 0;
	uint64_t want = fired && !(op == OP_CKPT && after) ? 300 : 1000, got = 0;
	ok &= log && prb_log_size(log) == want;
	ok &= log && append_range(log, want, want + 5, NULL, NULL) == 0;
	ok &= prb_log_verify(st2, &v, NULL, NULL, &got, &err) == 0 &&
	      got == want + 5;
	prb_log_close(log);
	prb_store_close(st2);
	prb_signer_free(s);
	return fired ? ok : -1; /* -1: fewer calls than `at` */
}

/* Runs fault case fn at every store call (1..99, EIO and ENOSPC in turn)
 * for each operation, before and after it persists; *cases per sweep. */
static void
fault_sweep(int (*fn)(int op, int at, int code, int after), int min_cases,
            const char *what)
{
	static const char *names[] = {"write", "sync", "checkpoint"};
	for (int op = 0; op < NOPS; op++)
		for (int after = 0; after < 2; after++) {
			int cases = 0, ok = 1;
			for (int at = 1; at < 100; at++) {
				int code = at % 2 ? PRB_EIO : PRB_ENOSPC;
				int r = fn(op, at, code, after);
				if (r < 0)
					break;
				cases++;
				ok &= r;
			}
			CHECK(cases >= min_cases && ok,
			      "%s, failing %s %s persisting (%d cases)", what,
			      names[op], after ? "after" : "before", cases);
		}
}

static void
test_faults(void)
{
	fault_sweep(fault_case, 1,
	            "batch refused, log verifies at the last commit, then "
	            "grows");
}

/* Two pipelined batches on a log of 300 (300..700, staged in two pieces,
 * then 700..1000 started before the first is waited for) while one store
 * call fails. The first
 * failure is the injected one; every batch after it fails too; after
 * reopening, the log holds exactly the acknowledged batches (and the
 * failed one only if its checkpoint was in fact written), verifies and
 * grows. */
static int
pipe_fault_case(int op, int at, int code, int after)
{
	char d[4200];
	prb_signer *s = signer("example.com/pipefault");
	prb_verifier v;
	prb_store *st, *st2;
	prb_log *log;
	prb_err ea, eb;
	faulty f;
	int ok = 1;
	prb_signer_verifier(s, &v);
	faulty_log("pipefault", s, 300, d, &st, &f);
	f.op = op, f.at = at, f.code = code, f.after = after;
	ok &= prb_log_open(&f.base, s, 0, &log, NULL) == 0;
	prb_err_clear(&ea);
	prb_err_clear(&eb);
	int sa = stage_range(log, 300, 500, 0, &ea); /* A in two pieces */
	if (sa == 0)
		sa = start_range(log, 500, 700, &ea);
	int sb = start_range(log, 700, 1000, &eb);
	int ra = sa ? sa : prb_log_append_wait(log, NULL, &ea);
	int rb = sb ? sb : prb_log_append_wait(log, NULL, &eb);
	int fired = f.fired;
	uint64_t acked = ra ? 300 : rb ? 700 : 1000;
	if (fired) {
		int first = ra ? ra : rb;
		prb_err *fe = ra ? &ea : &eb;
		ok &= first == (op == OP_CKPT ? PRB_EINDOUBT : code) &&
		      strcmp(fe->where, "injected") == 0;
		ok &= ra == 0 || rb == PRB_EFAILED; /* nothing after a failure */
		ok &= append_range(log, 1000, 1001, NULL, NULL) == PRB_EFAILED;
	} else {
		ok &= ra == 0 && rb == 0;
	}
	prb_log_close(log);
	prb_store_close(st);
	ok &= open_log(d, s, &st2, &log, &ea) == 0;
	uint64_t want = acked, got = 0;
	if (fired && op == OP_CKPT && after)
		want += ra ? 400 : 300; /* in doubt, and in fact committed */
	ok &= log && prb_log_size(log) == want;
	ok &= log && append_range(log, want, want + 5, NULL, NULL) == 0;
	ok &= prb_log_verify(st2, &v, NULL, NULL, &got, &ea) == 0 &&
	      got == want + 5;
	if (!ok)
		fprintf(stderr, "pipelined fault op %d at %d after %d: %d %d, "
		        "size %llu: %s %s\n", op, at, after, ra, rb,
		        (unsigned long long)(log ? prb_log_size(log) : 0),
		        ea.where, ea.msg);
	prb_log_close(log);
	prb_store_close(st2);
	prb_signer_free(s);
	return fired ? ok : -1; /* -1: fewer calls than `at` */
}

static void
test_pipe_faults(void)
{
	fault_sweep(pipe_fault_case, 2,
	            "two batches in flight: the failed batch and every later "
	            "one refused, the log verifies at the last commit");
}

/* ---- power loss: a store that forgets what was not synced ------------- */

/* Objects live in two layers: `durable` survives a crash, `pending` holds
 * puts not yet synced. A crash (after `budget` operations every call
 * fails, as if the process died) then loses, tears or keeps each pending
 * object at random — what a power cut may do to unsynced page cache. */
typedef struct {
	char *name;
	uint8_t *data;
	size_t len;
	int durable;
} mobj;

typedef struct {
	prb_store base;
	mobj *o;
	size_t n, cap;
	long budget; /* operations left before the crash; <0: never */
} memstore;

static mobj *
m_find(memstore *m, const char *name, int durable)
{
	for (size_t i = m->n; i > 0; i--)
		if (m->o[i - 1].durable == durable &&
		    strcmp(m->o[i - 1].name, name) == 0)
			return &m->o[i - 1];
	return NULL;
}

static int
m_alive(memstore *m, prb_err *err)
{
	if (m->budget < 0)
		return 0;
	if (m->budget == 0)
		return prb_err_set(err, PRB_EIO, "power", UINT64_MAX, "power cut");
	m->budget--;
	return 0;
}

static void
m_set(memstore *m, const char *name, const uint8_t *d, size_t l, int durable)
{
	mobj *o = m_find(m, name, durable);
	if (!o) {
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 64;
			m->o = realloc(m->o, m->cap * sizeof *m->o);
			if (!m->o)
				abort();
		}
		o = &m->o[m->n++];
		o->name = strdup(name);
		o->durable = durable;
		o->data = NULL;
	}
	free(o->data);
	o->data = malloc(l + 1);
	memcpy(o->data, d, l);
	o->len = l;
}

static int
m_get(prb_store *s, const char *name, uint8_t **d, size_t *l, prb_err *e)
{
	memstore *m = (memstore *)s;
	int rc = m_alive(m, e);
	if (rc)
		return rc;
	mobj *o = m_find(m, name, 0);
	if (!o)
		o = m_find(m, name, 1);
	if (!o)
		return prb_err_set(e, PRB_ENOTFOUND, name, UINT64_MAX, "no object");
	*d = malloc(o->len + 1);
	memcpy(*d, o->data, o->len);
	*l = o->len;
	return 0;
}

static int
m_put(prb_store *s, const char *name, const uint8_t *d, size_t l, prb_err *e)
{
	memstore *m = (memstore *)s;
	int rc = m_alive(m, e);
	if (rc == 0)
		m_set(m, name, d, l, 0);
	return rc;
}

#define DROPPED ((size_t)-1) /* an object's len when marked for removal */

/* Frees and removes the objects marked DROPPED. */
static void
m_compact(memstore *m)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->o[i].len == DROPPED) {
			free(m->o[i].name);
			free(m->o[i].data);
		} else {
			m->o[k++] = m->o[i];
		}
	}
	m->n = k;
}

/* Makes every pending object durable. */
static void
m_flush(memstore *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (!m->o[i].durable) {
			m_set(m, m->o[i].name, m->o[i].data, m->o[i].len, 1);
			m->o[i].len = DROPPED;
		}
	m_compact(m);
}

static int
m_sync(prb_store *s, prb_err *e)
{
	memstore *m = (memstore *)s;
	int rc = m_alive(m, e);
	if (rc == 0)
		m_flush(m);
	return rc;
}

static int
m_ckpt(prb_store *s, const uint8_t *old, size_t ol, const uint8_t *d, size_t l,
       prb_err *e)
{
	memstore *m = (memstore *)s;
	int rc = m_alive(m, e);
	if (rc)
		return rc;
	mobj *o = m_find(m, "checkpoint", 1);
	if ((o == NULL) != (old == NULL) ||
	    (o && (o->len != ol || memcmp(o->data, old, ol) != 0)))
		return prb_err_set(e, PRB_ECONFLICT, "checkpoint", UINT64_MAX,
		                   "changed");
	m_set(m, "checkpoint", d, l, 1); /* atomic and durable, as in store.c */
	return 0;
}

/* Objects directly under the prefix, and each "directory" there once. */
static int
m_list(prb_store *s, const char *prefix, int (*fn)(void *, const char *),
       void *c, prb_err *e)
{
	memstore *m = (memstore *)s;
	int rc = m_alive(m, e);
	size_t pl = strlen(prefix), nn = 0;
	char (*names)[256] = calloc(m->n + 1, sizeof *names);
	for (size_t i = 0; rc == 0 && i < m->n; i++) {
		const char *o = m->o[i].name, *slash;
		if (strncmp(o, prefix, pl) != 0)
			continue;
		slash = strchr(o + pl, '/');
		size_t len = slash ? (size_t)(slash - o) : strlen(o);
		int seen = 0;
		for (size_t k = 0; k < nn && !seen; k++)
			seen = strlen(names[k]) == len &&
			       strncmp(names[k], o, len) == 0;
		if (!seen && len < sizeof names[0])
			snprintf(names[nn++], sizeof names[0], "%.*s", (int)len, o);
	}
	for (size_t k = 0; rc == 0 && k < nn; k++)
		rc = fn(c, names[k]); /* fn may remove objects */
	free(names);
	return rc;
}

static int
m_remove(prb_store *s, const char *name, prb_err *e)
{
	memstore *m = (memstore *)s;
	int rc = m_alive(m, e);
	if (rc)
		return rc;
	/* a deletion is durable at once here: the harshest case */
	int found = 0;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->o[i].name, name) == 0) {
			free(m->o[i].name);
			free(m->o[i].data);
			m->o[i--] = m->o[--m->n];
			found = 1;
		}
	return found ? 0
	             : prb_err_set(e, PRB_ENOTFOUND, name, UINT64_MAX, "none");
}

static int
m_lock(prb_store *s, int w, prb_err *e)
{
	(void)w;
	return m_alive((memstore *)s, e);
}

static const prb_store_ops mem_ops = {m_get,  m_put,    m_sync, m_ckpt,
                                      m_list, m_remove, m_lock, faulty_close,
                                      NULL,   NULL};

/* The power cut: each pending object is lost, torn or kept. */
static void
m_crash(memstore *m)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		mobj *o = &m->o[i];
		unsigned fate = (unsigned)(rnd() % 3);
		if (!o->durable && fate == 0) {
			free(o->name);
			free(o->data);
			continue;
		}
		if (!o->durable) {
			if (fate == 1)
				o->len = o->len ? (size_t)(rnd() % o->len) : 0;
			mobj *d = m_find(m, o->name, 1);
			if (d)
				d->len = DROPPED; /* replaced */
			o->durable = 1;
		}
		m->o[k++] = *o;
	}
	m->n = k;
	m_compact(m);
	m->budget = -1;
}

static void
m_free(memstore *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->o[i].name);
		free(m->o[i].data);
	}
	free(m->o);
}

/* Many power cuts at random moments of a run of random batches: after
 * each, the log reopens, verifies, holds every acknowledged entry, and
 * grows again. */
static void
test_power_loss(void)
{
	prb_signer *s = signer("example.com/power");
	prb_verifier v;
	memstore m;
	int cuts = 0, ok = 1;
	prb_signer_verifier(s, &v);
	memset(&m, 0, sizeof m);
	m.base.ops = &mem_ops;
	m.budget = -1;
	prb_log_create(&m.base, s, NULL);
	uint64_t acked = 0;
	for (int round = 0; round < 60; round++) {
		prb_log *log = NULL;
		prb_err err;
		if (prb_log_open(&m.base, s, 0, &log, &err)) {
			ok = 0;
			fprintf(stderr, "reopen failed: %s %s\n", err.where, err.msg);
			break;
		}
		uint64_t size = prb_log_size(log);
		ok &= size >= acked;
		prb_err_clear(&err);
		uint64_t got = 0;
		ok &= prb_log_verify(&m.base, &v, NULL, NULL, &got, &err) == 0 &&
		      got == size;
		uint8_t *e, want[64];
		size_t elen;
		if (acked > 0) {
			uint64_t i = acked - 1;
			ok &= prb_log_read_entry(log, i, &e, &elen, NULL) == 0 &&
			      elen == make_entry(i, want) &&
			      memcmp(e, want, elen) == 0;
			free(e);
		}
		acked = size;
		m.budget = (long)(rnd() % 120); /* the cut comes mid-run */
		for (int b = 0; b < 20; b++) {
			uint64_t n = 1 + rnd() % 300;
			if (append_range(log, acked, acked + n, NULL, NULL))
				break;
			acked += n;
		}
		prb_log_close(log);
		cuts += m.budget == 0;
		m_crash(&m);
	}
	CHECK(ok && cuts > 40,
	      "%d power cuts at random moments: every reopen verifies and "
	      "holds every acknowledged entry (last size %llu)", cuts,
	      (unsigned long long)acked);
	m_free(&m);
	prb_signer_free(s);
}

/* ---- a checkpoint write cut short ------------------------------------- */

/* A crash after "checkpoint.tmp" was written and synced but before its
 * rename leaves a second signed checkpoint in the directory. The next
 * writer installs it when it extends the log, and removes it otherwise. */
static int
cut_ckpt(prb_store *s, const uint8_t *o, size_t ol, const uint8_t *d, size_t l,
         prb_err *e)
{
	faulty *f = (faulty *)s;
	(void)o, (void)ol;
	if (f->in->ops->put(f->in, PRB_CHECKPOINT_PENDING, d, l, e) ||
	    f->in->ops->sync(f->in, e))
		return PRB_EIO;
	f->fired = 1;
	return prb_err_set(e, PRB_EIO, "checkpoint", UINT64_MAX, "killed");
}

static void
test_pending(void)
{
	char d[4200], p[4300];
	prb_signer *s = signer("example.com/pending");
	prb_verifier v;
	prb_store *st;
	prb_log *log;
	prb_err err;
	faulty f;
	prb_store_ops ops = faulty_ops;
	uint64_t got = 0;
	ops.set_checkpoint = cut_ckpt;
	prb_signer_verifier(s, &v);
	faulty_log("pending", s, 300, d, &st, &f);
	f.base.ops = &ops;
	prb_log_open(&f.base, s, 0, &log, NULL);
	CHECK(append_range(log, 300, 1000, NULL, &err) == PRB_EINDOUBT &&
	              f.fired,
	      "a checkpoint write cut short is in doubt (%s)", err.msg);
	prb_log_close(log);
	sprintf(p, "%s/%s", d, PRB_CHECKPOINT_PENDING);
	CHECK(access(p, F_OK) == 0, "the pending checkpoint is on disk");
	f.fired = 0;
	f.fail_tile_reads = 1;
	log = NULL;
	CHECK(prb_log_open(&f.base, s, 0, &log, &err) == PRB_EIO && f.fired &&
	              access(p, F_OK) == 0,
	      "an I/O error while checking it fails the open and keeps it");
	prb_log_close(log);
	CHECK(prb_log_open(st, s, 0, &log, &err) == 0 &&
	              prb_log_size(log) == 1000 && access(p, F_OK) != 0,
	      "reopening installs it: size 1000, nothing pending (%s)", err.msg);
	prb_log_close(log);
	CHECK(prb_log_verify(st, &v, NULL, NULL, &got, NULL) == 0 && got == 1000,
	      "and the log verifies at 1000");

	/* a pending checkpoint that does not extend the log is removed */
	char text[256], *note;
	size_t len;
	sprintf(text, "example.com/pending\n2000\n"
	              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	prb_note_sign(text, strlen(text), &s, 1, &note, &len, NULL);
	st->ops->put(st, PRB_CHECKPOINT_PENDING, (uint8_t *)note, len, NULL);
	st->ops->sync(st, NULL);
	free(note);
	CHECK(prb_log_open(st, s, 0, &log, &err) == 0 &&
	              prb_log_size(log) == 1000 && access(p, F_OK) != 0,
	      "a pending checkpoint the tiles do not support is removed (%s)",
	      err.msg);
	prb_log_close(log);
	prb_store_close(st);
	prb_signer_free(s);
}

/* ---- the process killed at every step of a batch ---------------------- */

/* One kill: a log of `start` entries, a batch of 300 killed after `at`
 * store calls; then, as a fresh process: grow to the next multiple of 256
 * and 100 beyond (a new partial tile, wider than any leftover), and verify. Returns -1 when the
 * batch finished before `at` calls. */
static int
kill_case(uint64_t start, long at)
{
	char d[4200];
	prb_signer *s = signer("example.com/kill");
	prb_verifier v;
	prb_store *st, *st2;
	prb_log *log;
	prb_err err;
	faulty f;
	int ok = 1;
	prb_signer_verifier(s, &v);
	faulty_log("kill", s, start, d, &st, &f);
	f.die_at = at;
	if (prb_log_open(&f.base, s, 0, &log, NULL) == 0) {
		/* other bytes than the entries that later take these places */
		append_range(log, start + 1000000, start + 1000300, NULL, NULL);
		prb_log_close(log);
	}
	int killed = f.fired;
	prb_store_close(st); /* the dead process's lock goes with it */
	ok &= open_log(d, s, &st2, &log, &err) == 0;
	uint64_t size = log ? prb_log_size(log) : 0, got = 0;
	ok &= size == start || size == start + 300;
	uint64_t next = (size / 256 + 1) * 256;
	ok &= log && append_range(log, size, next, NULL, NULL) == 0 &&
	      append_range(log, next, next + 100, NULL, NULL) == 0;
	prb_err_clear(&err);
	ok &= prb_log_verify(st2, &v, NULL, NULL, &got, &err) == 0 &&
	      got == next + 100;
	if (!ok)
		fprintf(stderr, "kill at call %ld from %llu: %s %s\n", at,
		        (unsigned long long)start, err.where, err.msg);
	prb_log_close(log);
	prb_store_close(st2);
	prb_signer_free(s);
	return killed ? ok : -1;
}

static void
test_kill_points(void)
{
	static const uint64_t starts[] = {0, 10, 250};
	for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
		int cases = 0, ok = 1;
		for (long at = 1; at < 400; at++) {
			int r = kill_case(starts[k], at);
			if (r < 0)
				break;
			cases++;
			ok &= r;
		}
		CHECK(cases > 10 && ok,
		      "killed at each of %d store calls of a batch from %llu: the "
		      "log reopens, grows into new tiles and verifies", cases,
		      (unsigned long long)starts[k]);
	}
}

/* ---- the filesystem store's own promises ------------------------------ */

static int
get_is(prb_store *st, const char *name, const char *want)
{
	uint8_t *d;
	size_t l;
	if (st->ops->get(st, name, &d, &l, NULL))
		return 0;
	int same = l == strlen(want) && memcmp(d, want, l) == 0;
	free(d);
	return same;
}

/* Whether PRB_SYNC_FS may be used under the test directory (it is refused
 * where syncfs(2) is not known to sync, e.g. overlayfs or FUSE). */
static int
fs_mode_allowed(void)
{
	prb_store *st;
	if (prb_store_open_dir(tmproot, PRB_SYNC_FS, &st, NULL) != 0)
		return 0;
	prb_store_close(st);
	return 1;
}

/* The store's contract (store.h), in sync mode `mode`. */
static void
test_store(int mode)
{
	char d[4200], p[4300];
	prb_store *st;
	struct stat a, b;
	new_dir(d, mode == PRB_SYNC_FS ? "store-fs" : "store-files");
	prb_store_open_dir(d, mode, &st, NULL);

	/* two puts of one name take effect in order, even when the first is
	 * still being written by a worker thread */
	size_t big = (size_t)16 << 20;
	uint8_t *buf = calloc(1, big);
	int ok = 1;
	for (int i = 0; i < 10 && ok; i++) {
		struct timespec ms = {0, 2000000}; /* the first is being written */
		ok &= st->ops->put(st, "tile/0/000", buf, big, NULL) == 0;
		nanosleep(&ms, NULL);
		ok &= st->ops->put(st, "tile/0/000", (const uint8_t *)"last", 4,
		                   NULL) == 0;
		ok &= st->ops->sync(st, NULL) == 0 && get_is(st, "tile/0/000", "last");
	}
	free(buf);
	CHECK(ok, "puts of one name take effect in order");

	/* a directory emptied and removed is made again by the next put */
	ok = st->ops->put(st, "tile/0/001.p/5", (const uint8_t *)"a", 1, NULL) == 0 &&
	     st->ops->sync(st, NULL) == 0 &&
	     st->ops->remove(st, "tile/0/001.p/5", NULL) == 0;
	sprintf(p, "%s/tile/0/001.p", d);
	ok &= access(p, F_OK) != 0;
	ok &= st->ops->put(st, "tile/0/001.p/7", (const uint8_t *)"b", 1, NULL) == 0 &&
	      st->ops->sync(st, NULL) == 0 && get_is(st, "tile/0/001.p/7", "b");
	CHECK(ok, "a removed .p directory is made again");
	CHECK(st->ops->remove(st, "tile/0/001.p/5", NULL) == PRB_ENOTFOUND,
	      "removing what is not there says so");

	/* a pending checkpoint holding the new bytes is renamed into place,
	 * not rewritten (a crash while rewriting it would lose it) */
	st->ops->set_checkpoint(st, NULL, 0, (const uint8_t *)"one\n", 4, NULL);
	st->ops->put(st, PRB_CHECKPOINT_PENDING, (const uint8_t *)"two\n", 4,
	             NULL);
	st->ops->sync(st, NULL);
	sprintf(p, "%s/%s", d, PRB_CHECKPOINT_PENDING);
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
	utimensat(AT_FDCWD, p, old, 0); /* a rewrite would change it */
	stat(p, &a);
	ok = st->ops->set_checkpoint(st, (const uint8_t *)"one\n", 4,
	                             (const uint8_t *)"two\n", 4, NULL) == 0;
	sprintf(p, "%s/checkpoint", d);
	stat(p, &b);
	CHECK(ok && a.st_ino == b.st_ino && b.st_mtime == 1000000000 &&
	              get_is(st, "checkpoint", "two\n"),
	      "a pending checkpoint with the same bytes is renamed into place");
	CHECK(st->ops->set_checkpoint(st, (const uint8_t *)"one\n", 4,
	                              (const uint8_t *)"three\n", 6, NULL) ==
	              PRB_ECONFLICT,
	      "set_checkpoint is a compare-and-swap");

	/* commits in the background (store.h item 8) */
	const uint8_t *two = (const uint8_t *)"two\n", *c3 = (const uint8_t *)"c3\n",
	              *c4 = (const uint8_t *)"c4\n";
	prb_err e;
	ok = st->ops->put(st, "tile/0/002", (const uint8_t *)"x", 1, NULL) == 0 &&
	     st->ops->commit(st, two, 4, c3, 3, NULL) == 0 &&
	     st->ops->put(st, "tile/0/003", (const uint8_t *)"y", 1, NULL) == 0 &&
	     st->ops->commit(st, c3, 3, c4, 3, NULL) == 0 &&
	     st->ops->commit_wait(st, NULL) == 0 &&
	     st->ops->commit_wait(st, NULL) == 0;
	CHECK(ok && get_is(st, "checkpoint", "c4\n") &&
	              get_is(st, "tile/0/003", "y"),
	      "commits run in order, each against the one queued before it");
	prb_err_clear(&e);
	ok = st->ops->commit(st, two, 4, (const uint8_t *)"c5\n", 3, NULL) == 0 &&
	     st->ops->commit(st, c4, 3, (const uint8_t *)"c6\n", 3, NULL) == 0 &&
	     st->ops->commit_wait(st, &e) == PRB_ECONFLICT &&
	     st->ops->commit_wait(st, &e) == PRB_EFAILED;
	CHECK(ok && get_is(st, "checkpoint", "c4\n"),
	      "after a failed commit the next one is not run, though it "
	      "would have succeeded (%s)", e.msg);
	ok = st->ops->commit(st, c4, 3, (const uint8_t *)"c7\n", 3, NULL) == 0 &&
	     st->ops->commit_wait(st, NULL) == 0;
	CHECK(ok && get_is(st, "checkpoint", "c7\n"),
	      "once both failures are reported, commits run again");
	CHECK(st->ops->commit_wait(st, NULL) == PRB_EINVAL,
	      "waiting with no commit queued is refused");
	ok = st->ops->commit(st, (const uint8_t *)"c7\n", 3,
	                     (const uint8_t *)"c8\n", 3, NULL) == 0;
	prb_store_close(st); /* runs the queued commit */
	prb_store_open_dir(d, mode, &st, NULL);
	CHECK(ok && get_is(st, "checkpoint", "c8\n"),
	      "close runs the commits still queued");
	/* a failed write fails the commits after it, not the ones before */
	sprintf(p, "%s/tile/9", d);
	FILE *plain = fopen(p, "w"); /* where a directory must go */
	if (plain)
		fclose(plain);
	prb_err_clear(&e);
	ok = st->ops->put(st, "tile/0/004", (const uint8_t *)"z", 1, NULL) == 0 &&
	     st->ops->commit(st, (const uint8_t *)"c8\n", 3,
	                     (const uint8_t *)"c9\n", 3, NULL) == 0;
	int bad = st->ops->put(st, "tile/9/000", (const uint8_t *)"w", 1, NULL);
	int c10 = bad ? bad : st->ops->commit(st, (const uint8_t *)"c9\n", 3,
	                                      (const uint8_t *)"c10\n", 4, NULL);
	ok &= st->ops->commit_wait(st, NULL) == 0;
	if (c10 == 0)
		c10 = st->ops->commit_wait(st, &e);
	prb_store_close(st); /* it refuses reads after a failed write */
	prb_store_open_dir(d, mode, &st, NULL);
	CHECK(ok && c10 == PRB_EIO && get_is(st, "checkpoint", "c9\n") &&
	              get_is(st, "tile/0/004", "z"),
	      "a failed write fails only the commits made after it (%s %s)",
	      e.where, e.msg);

	/* A writer may take a later write from another directory while the
	 * other writer is in the first one; if that later write fails, the
	 * earlier writes still queued are dropped, and then the commit they
	 * belong to must fail too, never commit without them. */
	big = (size_t)16 << 20;
	buf = calloc(1, big);
	ok = st->ops->put(st, "tile/1/x005/000", buf, big, NULL) == 0 &&
	     st->ops->put(st, "tile/1/x005/001", (const uint8_t *)"b", 1,
	                  NULL) == 0 &&
	     st->ops->commit(st, (const uint8_t *)"c9\n", 3,
	                     (const uint8_t *)"c11\n", 4, NULL) == 0;
	bad = st->ops->put(st, "tile/9/001", (const uint8_t *)"w", 1, NULL);
	c10 = bad ? bad : st->ops->commit(st, (const uint8_t *)"c11\n", 4,
	                                  (const uint8_t *)"c12\n", 4, NULL);
	int c11 = st->ops->commit_wait(st, NULL);
	if (c10 == 0)
		c10 = st->ops->commit_wait(st, NULL);
	free(buf);
	prb_store_close(st);
	prb_store_open_dir(d, mode, &st, NULL);
	CHECK(ok && c10 != 0 &&
	              (c11 != 0 ? get_is(st, "checkpoint", "c9\n")
	                        : get_is(st, "checkpoint", "c11\n") &&
	                                  get_is(st, "tile/1/x005/001", "b")),
	      "a commit never succeeds without a write made before it (%s)",
	      c11 ? "it failed" : "it succeeded, the write is there");
	prb_store_close(st);
}

/* ---- lock, bad input, wrong keys, corruption -------------------------- */

static void
test_lock_and_keys(void)
{
	char d[4200], p[4300];
	prb_signer *s = signer("example.com/lock");
	prb_signer *other = signer("example.com/other");
	prb_signer *same = signer("example.com/lock");
	prb_store *st, *st2;
	prb_log *log, *log2 = NULL;
	prb_err err;
	new_dir(d, "lock");
	create_log(d, s);
	CHECK(create_log(d, s) == PRB_EEXIST, "create refuses an existing log");
	{ /* an earlier log's tiles without its checkpoint: refused too */
		char d2[4200], cp[4300];
		new_dir(d2, "lock-stale");
		create_log(d2, s);
		open_log(d2, s, &st, &log, NULL);
		const uint8_t *e1[1] = {(const uint8_t *)"x"};
		size_t l1[1] = {1};
		prb_log_append(log, e1, l1, 1, NULL);
		prb_log_close(log);
		prb_store_close(st);
		sprintf(cp, "%s/checkpoint", d2);
		unlink(cp);
		prb_err_clear(&err);
		CHECK(prb_store_open_dir(d2, PRB_SYNC_FILES, &st, NULL) == 0 &&
		              prb_log_create(st, s, &err) == PRB_EEXIST &&
		              strstr(err.msg, "earlier log") != NULL &&
		              access(cp, F_OK) != 0,
		      "create refuses a store holding tiles, writes nothing: %s",
		      err.msg);
		prb_store_close(st);
	}
	open_log(d, s, &st, &log, NULL);
	CHECK(open_log(d, s, &st2, &log2, &err) == PRB_ELOCKED,
	      "second writer gets PRB_ELOCKED: %s", err.msg);
	prb_store_close(st2);
	uint8_t big[PRB_MAX_ENTRY + 1];
	memset(big, 'x', sizeof big);
	const uint8_t *pp[2] = {big, big};
	size_t ll[2] = {10, sizeof big};
	prb_err_clear(&err);
	CHECK(prb_log_append(log, pp, ll, 2, &err) == PRB_ETOOBIG &&
	              err.offset == 1 && prb_log_size(log) == 0,
	      "oversize entry refused, nothing appended");
	ll[1] = PRB_MAX_ENTRY;
	CHECK(prb_log_append(log, pp, ll, 2, NULL) == 0 &&
	              prb_log_size(log) == 2,
	      "a 65,535-byte entry is accepted");
	prb_log_close(log);
	prb_store_close(st);
	CHECK(open_log(d, s, &st2, &log2, NULL) == 0, "lock released on close");
	prb_log_close(log2);
	prb_store_close(st2);
	CHECK(open_log(d, other, &st2, &log2, &err) == PRB_EORIGIN,
	      "key of another name: PRB_EORIGIN (%s)", err.msg);
	prb_store_close(st2);
	CHECK(open_log(d, same, &st2, &log2, &err) == PRB_EBADSIG,
	      "same name, other key: PRB_EBADSIG (%s)", err.msg);
	prb_store_close(st2);
	sprintf(p, "%s/tile/0/000.p/2", d);
	FILE *f = fopen(p, "r+b");
	fputc('!', f);
	fclose(f);
	prb_err_clear(&err);
	CHECK(open_log(d, s, &st2, &log2, &err) == PRB_ECORRUPT,
	      "a corrupt partial tile is found at open: %s %s", err.where,
	      err.msg);
	prb_store_close(st2);
	prb_signer_free(s);
	prb_signer_free(other);
	prb_signer_free(same);
}

/* ---- publishing cosigned checkpoints (prb_log_publish) ---------------- */

/* The current checkpoint file's bytes. */
static char *
checkpoint_file(const char *d)
{
	char p[4300];
	sprintf(p, "%s/checkpoint", d);
	FILE *f = fopen(p, "rb");
	static char buf[8192];
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

static void
test_publish(void)
{
	char d[4200], note[4096], more[8192];
	prb_signer *s = signer("example.com/publish");
	prb_store *st;
	prb_log *log;
	prb_err err;
	new_dir(d, "publish");
	create_log(d, s);
	open_log(d, s, &st, &log, NULL);
	const uint8_t *pp[1] = {(const uint8_t *)"one"};
	size_t ll[1] = {3};
	CHECK(prb_log_append(log, pp, ll, 1, NULL) == 0, "append");
	size_t len;
	const char *cp = prb_log_checkpoint(log, &len);
	if (len >= sizeof note)
		len = sizeof note - 1;
	memcpy(note, cp, len);
	note[len] = 0;
	/* a cosignature line of another key (not checked by the log) */
	static const char l1[] = "\xe2\x80\x94 w.example/a AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	static const char l2[] = "\xe2\x80\x94 w.example/b AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	snprintf(more, sizeof more, "%s%s", note, l1);
	CHECK(prb_log_publish(log, more, strlen(more), &err) == 0,
	      "publish the checkpoint with a cosignature: %s", err.msg);
	CHECK(strcmp(checkpoint_file(d), more) == 0,
	      "the checkpoint file holds it");
	snprintf(more, sizeof more, "%s%s", note, l2);
	CHECK(prb_log_publish(log, more, strlen(more), &err) == 0 &&
	              strcmp(checkpoint_file(d), more) == 0,
	      "a later publish replaces the cosignatures, not piling up");
	CHECK(prb_log_publish(log, note, len, &err) == PRB_EINVAL,
	      "no cosignature added: PRB_EINVAL");
	snprintf(more, sizeof more, "%s", note);
	more[0] ^= 1; /* another text */
	strcat(more, l1);
	CHECK(prb_log_publish(log, more, strlen(more), &err) == PRB_EINVAL,
	      "another text: PRB_EINVAL");
	snprintf(more, sizeof more, "%s%s", note, l1);
	more[len - 5] ^= 1; /* the log's own signature altered */
	CHECK(prb_log_publish(log, more, strlen(more), &err) == PRB_EINVAL,
	      "the log's signature altered: PRB_EINVAL");
	snprintf(more, sizeof more, "%s%s", note, "not a signature line\n");
	CHECK(prb_log_publish(log, more, strlen(more), &err) != 0,
	      "a malformed line refused");
	char before[8192];
	snprintf(before, sizeof before, "%s", checkpoint_file(d));
	CHECK(prb_log_sync_checkpoint(log, &err) == 0 &&
	              strcmp(checkpoint_file(d), before) == 0,
	      "sync_checkpoint rewrites the same bytes: %s", err.msg);
	const uint8_t *p2[1] = {(const uint8_t *)"two"};
	CHECK(prb_log_append(log, p2, ll, 1, &err) == 0 &&
	              prb_log_size(log) == 2,
	      "appends go on after publishing: %s", err.msg);
	prb_log_close(log);
	prb_store_close(st);
	CHECK(open_log(d, s, &st, &log, &err) == 0, "reopens: %s", err.msg);
	prb_log_close(log);
	prb_store_close(st);
	prb_signer_free(s);
}

/* ---- incremental verification (prb_log_verify_extend) ---------------- */

/* Root of the first n leaves of the reference. */
static void
ref_root_at(ref_tree *ref, uint64_t n, prb_hash *out)
{
	ref_tree t = {ref->leaf, (size_t)n, ref->cap};
	if (prb_merkle_root(ref_reader, &t, n, out))
		abort();
}

/* Flips one byte of a file. */
static void
flip_file_byte(const char *path, long off)
{
	FILE *f = fopen(path, "r+b");
	if (!f)
		abort();
	fseek(f, off, SEEK_SET);
	int c = fgetc(f);
	fseek(f, off, SEEK_SET);
	fputc(c ^ 1, f);
	fclose(f);
}

static void
test_verify_extend(void)
{
	char dir[4200], path[4400];
	new_dir(dir, "extend");
	prb_signer *s = signer("extend.example/log");
	ref_tree ref = {0};
	prb_store *st = NULL;
	prb_log *log = NULL;
	prb_err err;
	prb_log_edge *e = NULL, *d = NULL;
	uint8_t *enc = malloc(PRB_LOG_EDGE_MAX);
	CHECK(create_log(dir, s) == 0, "create");
	CHECK(open_log(dir, s, &st, &log, &err) == 0, "open: %s", err.msg);
	CHECK(prb_log_edge_new(&e, NULL) == 0 && prb_log_edge_new(&d, NULL) == 0,
	      "edges");
	uint64_t size = 0;
	int ok_all = 1;
	while (size < 3000) {
		uint64_t to = size + 1 + rnd() % 400;
		if (append_range(log, size, to, &ref, &err)) {
			CHECK(0, "append: %s", err.msg);
			break;
		}
		int rc = prb_log_verify_extend(st, e, to, NULL, NULL, &err);
		prb_hash got, want;
		prb_log_edge_root(e, &got);
		ref_root_at(&ref, to, &want);
		ok_all &= rc == 0 && prb_log_edge_size(e) == to &&
		          prb_hash_equal(&got, &want);
		/* the encoding round-trips */
		size_t n = prb_log_edge_encode(e, enc, PRB_LOG_EDGE_MAX);
		ok_all &= n > 0 && prb_log_edge_decode(enc, n, d, NULL) == 0;
		prb_log_edge_root(d, &got);
		ok_all &= prb_log_edge_size(d) == to && prb_hash_equal(&got, &want);
		size = to;
	}
	CHECK(ok_all, "every extension gives the reference root");
	/* from scratch to an older size: pruned partials are read full */
	for (int k = 0; k < 20; k++) {
		uint64_t at = 1 + rnd() % size;
		prb_log_edge *f = NULL;
		prb_hash got, want;
		CHECK(prb_log_edge_new(&f, NULL) == 0, "edge");
		int rc = prb_log_verify_extend(st, f, at, NULL, NULL, &err);
		prb_log_edge_root(f, &got);
		ref_root_at(&ref, at, &want);
		CHECK(rc == 0 && prb_hash_equal(&got, &want),
		      "fresh edge to %llu: %d %s", (unsigned long long)at, rc,
		      err.msg);
		prb_log_edge_free(f);
	}
	/* an edge cannot shrink; decoding refuses a wrong length */
	CHECK(prb_log_verify_extend(st, e, size - 1, NULL, NULL, NULL) ==
	              PRB_EINVAL, "shrink refused");
	size_t n = prb_log_edge_encode(e, enc, PRB_LOG_EDGE_MAX);
	CHECK(prb_log_edge_decode(enc, n - 1, d, NULL) == PRB_EMALFORMED,
	      "short edge refused");
	CHECK(prb_log_edge_encode(e, enc, 8) == 0, "small buffer refused");
	/* a tampered new entry: found, the edge unchanged */
	uint64_t old = size, add = 100 + ((size + 100) % 256 == 0);
	append_range(log, size, size + add, &ref, &err);
	size += add;
	char tp[PRB_TILE_PATH_MAX];
	prb_tile_path(tp, sizeof tp, PRB_ENTRIES_LEVEL, size / 256,
	              (unsigned)(size % 256));
	snprintf(path, sizeof path, "%s/%s", dir, tp);
	struct stat sb;
	long last = stat(path, &sb) == 0 ? (long)sb.st_size - 1 : 0;
	flip_file_byte(path, last); /* the last entry: a new one */
	prb_hash before, after;
	prb_log_edge_root(e, &before);
	int rc = prb_log_verify_extend(st, e, size, NULL, NULL, &err);
	prb_log_edge_root(e, &after);
	CHECK(rc == PRB_ECORRUPT && prb_log_edge_size(e) == old &&
	              prb_hash_equal(&before, &after),
	      "tampered bundle: %d, size %llu", rc,
	      (unsigned long long)prb_log_edge_size(e));
	CHECK(strstr(err.msg, tp) != NULL, "names the bundle: %s", err.msg);
	flip_file_byte(path, last);
	CHECK(prb_log_verify_extend(st, e, size, NULL, NULL, &err) == 0,
	      "restored: %s", err.msg);
	/* an entry the edge already holds, changed in the served bundle */
	add = 10 + ((size + 10) % 256 < 10); /* stays in the same bundle */
	if ((size + add) % 256 == 0 || (size + add) / 256 != size / 256)
		add = 0;
	CHECK(add > 0, "test geometry (size %llu)", (unsigned long long)size);
	append_range(log, size, size + add, &ref, &err);
	prb_tile_path(tp, sizeof tp, PRB_ENTRIES_LEVEL, size / 256,
	              (unsigned)((size + add) % 256));
	snprintf(path, sizeof path, "%s/%s", dir, tp);
	flip_file_byte(path, 5);
	rc = prb_log_verify_extend(st, e, size + add, NULL, NULL, &err);
	CHECK(rc == PRB_ECORRUPT && strstr(err.msg, "changed since") != NULL,
	      "changed old entry: %d %s", rc, err.msg);
	prb_log_close(log);
	prb_store_close(st);
	prb_log_edge_free(e);
	prb_log_edge_free(d);
	prb_signer_free(s);
	free(enc);
	free(ref.leaf);
}

int
main(void)
{
	if (!mkdtemp(tmproot)) {
		perror("mkdtemp");
		return 1;
	}
	test_random_batches(3000, 300, 5);
	test_random_batches(600, 3, 0);
	test_random_batches(70000, 9000, 2); /* crosses levels 1 and 2 */
	test_pipelined(3000, 300, 1);
	if (fs_mode_allowed())
		test_pipelined(3000, 300, 2);
	else
		SKIP("--sync fs is refused on the filesystem of %s", tmproot);
	test_pipelined(3000, 300, 0);
	test_pipelined(70000, 9000, 1);
	test_prune();
	test_faults();
	test_pipe_faults();
	test_power_loss();
	test_pending();
	test_kill_points();
	test_store(PRB_SYNC_FILES);
	if (fs_mode_allowed())
		test_store(PRB_SYNC_FS);
	test_lock_and_keys();
	test_publish();
	test_verify_extend();
	t_rm_rf(tmproot);
	return T_DONE("test_log");
}
