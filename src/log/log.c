/*
 * The log: batched, durable appends to a tlog-tiles tree, proofs from
 * tiles, full verification.
 *
 * Invariants (DESIGN.md):
 *  1. An append is acknowledged only after its entries, every tile and
 *     bundle it changes, and a signed checkpoint covering it are durable:
 *       prb_log_append_start: put() every new full tile/bundle as it
 *       fills, put() the new partial tiles/bundle, sign, then
 *       commit() (the store syncs those puts, then set_checkpoint());
 *       prb_log_append_wait: the commit's result, in order.
 *     A store without commit() gets sync() and set_checkpoint() from
 *     prb_log_append_wait. The checkpoint is the single commit point.
 *  2. Recovery is prb_log_open: it trusts only what the checkpoint names;
 *     anything written after it is ignored and later overwritten.
 *  3. Files the checkpoint names are never rewritten with other bytes: a
 *     batch writes only tiles whose (level, index, width) the previous
 *     checkpoint does not name (identical partials are skipped), and the
 *     partials of earlier checkpoints are deleted only after the commit of
 *     a checkpoint that names the full tile.
 *  4. The handle holds only the right edge: per level the hashes of the
 *     current partial tile, plus the partial entry bundle.
 *  5. Pipelining: while batch k commits, batch k+1 is hashed and written
 *     as if k were committed (its `old` is k's size, its checkpoint's
 *     compare-and-swap expects k's). Nothing staged removes a file that the
 *     last durable checkpoint names: before a commit, only enter_dir
 *     removes files, and only ones beyond the checkpoint the log was opened
 *     at, in directories this handle has not written to yet. If
 *     batch k fails, every later one fails too (the store runs no commit
 *     after a failed one), and each failed batch's files are removed when
 *     its failure is collected (finish_batch). At most INFLIGHT batches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/log.h"
#include "probity/tile.h"
#include "base/util.h"

#define LEVELS 8 /* 256^8 = 2^64 leaves */

/* The right edge of a tree: per level, the hashes of its partial tile. */
struct prb_log_edge {
	prb_hash h[LEVELS][PRB_TILE_WIDTH];
	unsigned n[LEVELS];
	uint64_t size;
};
typedef struct prb_log_edge edge;

/* Called when the tile (level, index) becomes full, with its 256 hashes. */
typedef int (*full_fn)(void *ctx, unsigned level, uint64_t index,
                       const prb_hash *h, prb_err *err);

#define INFLIGHT 2 /* batches started and not yet waited for */

struct prb_log;
static void discard_batch(struct prb_log *log, uint64_t old,
                          uint64_t reached);

/* Proof reads cache CACHE_WAYS hash tiles per level, each with every
 * perfect subtree inside it hashed once: a proof then costs a tile read
 * and its subtree hashes only where it leaves the cached tiles (in a
 * large log, the bottom level), not at every level it crosses. */
#define CACHE_WAYS 8
#define PYR_SIZE (2 * PRB_TILE_WIDTH - 1)

/* Height k of the pyramid holds the hashes of hashes i*2^k .. (i+1)*2^k-1
 * of the tile at p[pyr_at(k, i)], for the subtrees inside its width. */
typedef struct {
	uint64_t index;
	unsigned width; /* 0: an empty slot */
	uint64_t used;  /* when it was last read, for eviction */
	prb_hash p[PYR_SIZE];
} tile_pyr;

static unsigned
pyr_at(unsigned k, unsigned i)
{
	return 2 * PRB_TILE_WIDTH - (2 * PRB_TILE_WIDTH >> k) + i;
}

/* A batch whose commit was started and not yet waited for. */
typedef struct {
	uint64_t old;   /* it appends entries old .. cp.size-1 */
	prb_checkpoint cp;
	char *note;     /* its signed checkpoint; NULL for an empty batch */
	size_t note_len;
} batch;

struct prb_log {
	prb_store *st;
	prb_signer *signer;
	prb_checkpoint cp; /* the latest durable checkpoint */
	char *note;
	size_t note_len;
	edge e;            /* at the size of the last batch started */
	uint8_t *bundle; /* the partial bundle's bytes */
	size_t bundle_len, bundle_cap;
	int failed;        /* appends refused: the edge is ahead of what can
	                      still commit */
	int broken;        /* a batch failed: later ones in flight cannot
	                      commit */
	batch fl[INFLIGHT]; /* in flight, oldest at fl_head */
	unsigned fl_head, fl_n;
	int staging;        /* entries staged for the next batch ... */
	uint64_t stage_old; /* ... from this size */
	uint64_t open_size; /* the checkpoint's size when opened */
	uint64_t entered[LEVELS + 1]; /* per level, bundles first: 1 + the
	                                 last directory cleared (enter_dir) */
	prb_err rerr; /* the last tile read error of node_reader */
	tile_pyr *cache[LEVELS]; /* CACHE_WAYS each, allocated when used */
	uint64_t cache_clock;
};

/* Forgets every cached tile: partial ones change as the log grows. */
static void
cache_drop(prb_log *log)
{
	for (int l = 0; l < LEVELS; l++)
		if (log->cache[l])
			for (int w = 0; w < CACHE_WAYS; w++)
				log->cache[l][w].width = 0;
}

/* MTH of n (a power of two) consecutive hashes. */
static void
perfect_hash(const prb_hash *h, unsigned n, prb_hash *out)
{
	if (n == 1) {
		*out = h[0];
		return;
	}
	prb_hash l, r;
	perfect_hash(h, n / 2, &l);
	perfect_hash(h + n / 2, n / 2, &r);
	prb_merkle_node_hash(&l, &r, out);
}

/* Root of the tree an edge describes: its perfect subtrees, left to
 * right, folded from the right. */
static void
edge_root(const edge *e, prb_hash *out)
{
	prb_hash parts[LEVELS * 8];
	int np = 0;
	if (e->size == 0) {
		prb_merkle_empty_root(out);
		return;
	}
	for (int l = LEVELS - 1; l >= 0; l--) {
		unsigned off = 0;
		for (int k = 7; k >= 0; k--)
			if (e->n[l] & (1u << k)) {
				perfect_hash(&e->h[l][off], 1u << k, &parts[np++]);
				off += 1u << k;
			}
	}
	prb_hash acc = parts[np - 1];
	for (int i = np - 2; i >= 0; i--)
		prb_merkle_node_hash(&parts[i], &acc, &acc);
	*out = acc;
}

/* Adds a hash at `level`; full tiles go to fn and up one level. */
static int
edge_push(edge *e, unsigned level, const prb_hash *h, full_fn fn, void *ctx,
          prb_err *err)
{
	e->h[level][e->n[level]++] = *h;
	if (e->n[level] < PRB_TILE_WIDTH)
		return 0;
	uint64_t index = (e->size >> (PRB_TILE_HEIGHT * (level + 1))) - 1;
	int rc = fn(ctx, level, index, e->h[level], err);
	if (rc)
		return rc;
	prb_hash up;
	perfect_hash(e->h[level], PRB_TILE_WIDTH, &up);
	e->n[level] = 0;
	return edge_push(e, level + 1, &up, fn, ctx, err);
}

/* Appends one leaf hash. */
static int
edge_add_leaf(edge *e, const prb_hash *leaf, full_fn fn, void *ctx,
              prb_err *err)
{
	e->size++;
	return edge_push(e, 0, leaf, fn, ctx, err);
}

static void
tile_path(char *buf, int level, uint64_t index, unsigned width)
{
	/* cannot fail: level and width are in range by construction */
	(void)prb_tile_path(buf, PRB_TILE_PATH_MAX, level, index, width);
}

static void
encode_hashes(const prb_hash *h, unsigned n, uint8_t *out)
{
	for (unsigned i = 0; i < n; i++)
		memcpy(out + i * PRB_HASH_SIZE, h[i].b, PRB_HASH_SIZE);
}

/* Width of tile (level, index) in the tree of `size` leaves. level may be
 * PRB_ENTRIES_LEVEL (bundles count like level 0). */
static unsigned
tile_width(int level, uint64_t index, uint64_t size)
{
	uint64_t count = prb_tile_level_count(size, level < 0 ? 0 : (unsigned)level);
	return (index + 1) * PRB_TILE_WIDTH <= count
	               ? PRB_TILE_WIDTH
	               : (unsigned)(count - index * PRB_TILE_WIDTH);
}

/* Gets tile (level, index) of width w; if that partial tile is gone (a
 * later checkpoint made it full and it was pruned, as tlog-tiles allows),
 * gets the full tile instead. *got is the width actually read; path
 * receives its name. */
static int
get_tile(prb_store *st, int level, uint64_t index, unsigned w, char *path,
         uint8_t **data, size_t *len, unsigned *got, prb_err *err)
{
	tile_path(path, level, index, w);
	*got = w;
	int rc = st->ops->get(st, path, data, len, err);
	if (rc == PRB_ENOTFOUND && w < PRB_TILE_WIDTH) {
		char full[PRB_TILE_PATH_MAX];
		tile_path(full, level, index, PRB_TILE_WIDTH);
		rc = st->ops->get(st, full, data, len, NULL);
		if (rc == 0) {
			memcpy(path, full, sizeof full);
			*got = PRB_TILE_WIDTH;
		}
	}
	return rc;
}

/* Reads the first `w` hashes of tile (level, index) of the tree of `size`
 * leaves, w being that tile's width at that size. */
static int
read_tile(prb_store *st, unsigned level, uint64_t index, uint64_t size,
          prb_hash *h, unsigned *width, prb_err *err)
{
	char path[PRB_TILE_PATH_MAX];
	uint8_t *data;
	size_t len;
	unsigned w = tile_width((int)level, index, size), got;
	int rc = get_tile(st, (int)level, index, w, path, &data, &len, &got, err);
	if (rc)
		return rc;
	if (len != (size_t)got * PRB_HASH_SIZE) {
		free(data);
		return prb_err_set(err, PRB_ECORRUPT, path, len,
		                   "tile is %zu bytes, expected %u", len,
		                   got * PRB_HASH_SIZE);
	}
	for (unsigned i = 0; i < w; i++)
		memcpy(h[i].b, data + i * PRB_HASH_SIZE, PRB_HASH_SIZE);
	free(data);
	*width = w;
	return 0;
}

/* Reads the bundle holding entry `index` of a tree of `size` leaves;
 * *count is the number of entries the file read holds. */
static int
read_bundle(prb_store *st, uint64_t index, uint64_t size, uint8_t **data,
            size_t *len, unsigned *count, char *path, prb_err *err)
{
	uint64_t b = index / PRB_TILE_WIDTH;
	return get_tile(st, PRB_ENTRIES_LEVEL, b,
	                tile_width(PRB_ENTRIES_LEVEL, b, size), path, data, len,
	                count, err);
}

/* Reads a checkpoint note without a key: its structure must be a signed
 * note carrying a signature line by the origin's name (not verified). */
static int
peek_checkpoint(const uint8_t *note, size_t len, prb_checkpoint *cp,
                prb_err *err)
{
	prb_note *n = NULL;
	int rc = prb_note_parse(note, len, &n, err);
	if (rc == 0)
		rc = prb_checkpoint_parse(n->text, n->text_len, cp, err);
	if (rc == 0) {
		int named = 0;
		for (size_t i = 0; i < n->nsigs; i++)
			named |= strcmp(n->sigs[i].name, cp->origin) == 0;
		if (!named)
			rc = prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX,
			                 "no signature by the log's key \"%s\"",
			                 cp->origin);
	}
	prb_note_free(n);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "checkpoint");
	return rc;
}

struct bundle_ctx {
	prb_log *log;
	const edge *e;
	const char *path;
	prb_err *err;
};

/* Checks a loaded partial bundle entry against the level-0 partial tile
 * and keeps its bytes. */
static int
bundle_entry(void *ctx, const uint8_t *data, size_t len, unsigned i)
{
	struct bundle_ctx *b = ctx;
	prb_hash h;
	if (i >= b->e->n[0])
		return 0; /* a full bundle read in place of a deleted partial */
	prb_merkle_leaf_hash(data, len, &h);
	if (!prb_hash_equal(&h, &b->e->h[0][i]))
		return prb_err_set(b->err, PRB_ECORRUPT, b->path, i,
		                   "entry %u does not hash to the level 0 tile",
		                   i);
	return 0;
}

/* Loads the right edge of the checkpoint's tree and checks it. */
static int
load_edge(prb_log *log, prb_err *err)
{
	edge *e = &log->e;
	uint64_t size = log->cp.size;
	memset(e, 0, sizeof *e);
	e->size = size;
	for (unsigned l = 0; l < LEVELS; l++) {
		unsigned w = prb_tile_partial_width(size, l);
		if (w == 0)
			continue;
		uint64_t idx = prb_tile_level_count(size, l) / PRB_TILE_WIDTH;
		unsigned got;
		int rc = read_tile(log->st, l, idx, size, e->h[l], &got, err);
		if (rc)
			return rc;
		e->n[l] = w;
	}
	prb_hash root;
	edge_root(e, &root);
	if (!prb_hash_equal(&root, &log->cp.root))
		return prb_err_set(err, PRB_ECORRUPT, "checkpoint", UINT64_MAX,
		                   "the tiles' root does not match the "
		                   "checkpoint's root (run probity verify)");
	if (e->n[0] == 0) {
		log->bundle_len = 0; /* no partial bundle at this size */
		return 0;
	}
	char path[PRB_TILE_PATH_MAX];
	uint8_t *data;
	size_t len;
	unsigned count;
	int rc = read_bundle(log->st, size - 1, size, &data, &len, &count, path,
	                     err);
	if (rc)
		return rc;
	struct bundle_ctx bc = {log, e, path, err};
	rc = prb_bundle_parse(data, len, count, bundle_entry, &bc, err);
	if (rc == PRB_EMALFORMED && err) {
		snprintf(err->where, sizeof err->where, "%s", path);
		rc = PRB_ECORRUPT;
	}
	if (rc == 0 && count == PRB_TILE_WIDTH) {
		/* the partial was replaced by the full bundle: keep our part */
		size_t off = 0;
		for (unsigned i = 0; i < e->n[0]; i++)
			off += 2 + load_be16(data + off);
		len = off;
	}
	if (rc == 0) {
		free(log->bundle);
		log->bundle = data;
		log->bundle_len = log->bundle_cap = len;
		return 0;
	}
	free(data);
	return rc;
}

uint64_t
prb_log_size(const prb_log *log)
{
	return log->cp.size;
}

void
prb_log_root(const prb_log *log, prb_hash *out)
{
	*out = log->cp.root;
}

const char *
prb_log_checkpoint(const prb_log *log, size_t *len)
{
	*len = log->note_len;
	return log->note;
}

/* Replaces the checkpoint file with `note` (same tree): CAS from the
 * current bytes; the handle is failed on an I/O error. */
static int
replace_note(prb_log *log, const char *note, size_t len, prb_err *err)
{
	if (log->fl_n > 0 || log->staging)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "batches are in flight");
	char *copy = malloc(len + 1);
	if (!copy)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	memcpy(copy, note, len);
	copy[len] = 0;
	int rc = log->st->ops->set_checkpoint(log->st, (const uint8_t *)log->note,
	                                      log->note_len, (const uint8_t *)copy,
	                                      len, err);
	if (rc) {
		free(copy);
		if (rc != PRB_ECONFLICT)
			log->failed = 1;
		return rc;
	}
	free(log->note);
	log->note = copy;
	log->note_len = len;
	return 0;
}

int
prb_log_publish(prb_log *log, const char *note, size_t len, prb_err *err)
{
	prb_note *n = NULL;
	size_t own = prb_note_first_sig_end(log->note, log->note_len);
	if (own == 0 || len <= own || memcmp(note, log->note, own) != 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "not the current checkpoint with its own "
		                   "signature and more signatures");
	int rc = prb_note_parse((const uint8_t *)note, len, &n, err);
	prb_note_free(n);
	return rc ? rc : replace_note(log, note, len, err);
}

int
prb_log_sync_checkpoint(prb_log *log, prb_err *err)
{
	char *same = malloc(log->note_len + 1);
	if (!same)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	memcpy(same, log->note, log->note_len);
	int rc = replace_note(log, same, log->note_len, err);
	free(same);
	return rc;
}

prb_store *
prb_log_store(prb_log *log)
{
	return log->st;
}

void
prb_log_close(prb_log *log)
{
	if (!log)
		return;
	while (log->fl_n > 0) /* results dropped; failed batches cleaned up */
		prb_log_append_wait(log, NULL, NULL);
	if (log->staging) /* never committed */
		discard_batch(log, log->stage_old, log->e.size);
	free(log->note);
	free(log->bundle);
	for (int l = 0; l < LEVELS; l++)
		free(log->cache[l]);
	free(log);
}

/* Parses a checkpoint note and, when the log has a signer, checks that its
 * origin is the key's name and that the key signed it. */
static int
check_note(prb_log *log, const uint8_t *note, size_t len, prb_checkpoint *cp,
           prb_err *err)
{
	int rc = peek_checkpoint(note, len, cp, err);
	if (rc || !log->signer)
		return rc;
	prb_verifier v;
	prb_signer_verifier(log->signer, &v);
	if (strcmp(cp->origin, v.name) != 0)
		return prb_err_set(err, PRB_EORIGIN, "checkpoint", UINT64_MAX,
		                   "the key is named \"%s\" but the log's origin "
		                   "is \"%s\"", v.name, cp->origin);
	rc = prb_checkpoint_open(note, len, &v, 1, cp, NULL, err);
	if (rc == PRB_ENOSIG || rc == PRB_EBADSIG)
		rc = prb_err_set(err, PRB_EBADSIG, "checkpoint", UINT64_MAX,
		                 "the checkpoint is not signed by this key (same "
		                 "name \"%s\", different key)", v.name);
	else if (rc && err)
		snprintf(err->where, sizeof err->where, "checkpoint");
	return rc;
}

/* Reads, checks and adopts the stored checkpoint. */
static int
read_checkpoint(prb_log *log, prb_err *err)
{
	uint8_t *note;
	size_t len;
	int rc = log->st->ops->get(log->st, "checkpoint", &note, &len, err);
	if (rc == PRB_ENOTFOUND)
		return prb_err_set(err, rc, "checkpoint", UINT64_MAX,
		                   "no checkpoint: not a probity log (run "
		                   "probity init)");
	if (rc)
		return rc;
	rc = check_note(log, note, len, &log->cp, err);
	if (rc) {
		free(note);
		return rc;
	}
	free(log->note);
	log->note = (char *)note;
	log->note_len = len;
	return 0;
}

static int node_reader(void *ctx, unsigned height, uint64_t index,
                       prb_hash *out);

/* Whether the tiles prove the tree of cp extends the log's current one. */
static int
extends(prb_log *log, const prb_checkpoint *old, prb_err *err)
{
	prb_hash proof[PRB_MAX_PROOF];
	size_t n;
	int rc = load_edge(log, err);
	if (rc == 0)
		rc = prb_merkle_prove_consistency(node_reader, log, old->size,
		                                  log->cp.size, proof, &n);
	if (rc == 0)
		rc = prb_merkle_verify_consistency(old->size, log->cp.size, proof,
		                                   n, &old->root, &log->cp.root);
	return rc;
}

/* Crash recovery for a checkpoint write that was cut short (store.h item
 * 4): the pending checkpoint was signed only after every file it names
 * was durable, so if it is ours and the tiles prove it extends the current
 * one, it is installed; otherwise it is removed. Either way no second
 * signed checkpoint of one size is left where it could be served. */
static int
adopt_pending(prb_log *log, prb_err *err)
{
	uint8_t *note;
	size_t len;
	prb_checkpoint cp, old = log->cp;
	prb_err e;
	int rc = log->st->ops->get(log->st, PRB_CHECKPOINT_PENDING, &note, &len,
	                           err);
	if (rc == PRB_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	rc = check_note(log, note, len, &cp, &e);
	if (rc == 0 && cp.size > old.size) {
		log->cp = cp;
		cache_drop(log);
		rc = extends(log, &old, &e);
		if (rc == 0)
			rc = log->st->ops->set_checkpoint(
			        log->st, (const uint8_t *)log->note, log->note_len,
			        note, len, &e);
		if (rc == 0) {
			free(log->note);
			log->note = (char *)note;
			log->note_len = len;
			return 0;
		}
		log->cp = old;
		cache_drop(log);
	}
	free(note);
	/* Only a definite verdict removes it: not ours, not newer, or not
	 * supported by the tiles. Anything else (an I/O error, no memory)
	 * fails the open and leaves it for the next try. */
	if (rc != 0 && rc != PRB_EMALFORMED && rc != PRB_EBADSIG &&
	    rc != PRB_ENOSIG && rc != PRB_EORIGIN && rc != PRB_ECORRUPT &&
	    rc != PRB_EPROOF && rc != PRB_ENOTFOUND) {
		if (err)
			*err = e;
		return rc;
	}
	rc = log->st->ops->remove(log->st, PRB_CHECKPOINT_PENDING, err);
	return rc == PRB_ENOTFOUND ? 0 : rc;
}

struct stale {
	prb_store *st;
	unsigned min_width;
	prb_err *err;
};

static int
remove_stale(void *ctx, const char *name)
{
	struct stale *s = ctx;
	int level;
	uint64_t n;
	unsigned w;
	size_t len = strlen(name);
	int tmp = len > 4 && strcmp(name + len - 4, ".tmp") == 0;
	if (!tmp && (prb_tile_parse_path(name, &level, &n, &w) ||
	             w < s->min_width))
		return 0;
	return s->st->ops->remove(s->st, name, s->err);
}

/*
 * Removes the partial files of tile (level, index) of width >= min_width
 * (and leftover temporary files there). Partial files are named by a
 * checkpoint only while their width is below the tile's width in it, so
 * this keeps one rule true: every partial file on disk holds the first W
 * hashes or entries of a tree some checkpoint committed, which verify
 * checks. A crash can leave partials of a batch that never committed;
 * they are removed on open (the current tile) and by enter_dir before
 * this handle writes into their directory.
 */
static int
remove_partials(prb_log *log, int level, uint64_t index, unsigned min_width,
                prb_err *err)
{
	char prefix[PRB_TILE_PATH_MAX + 4];
	struct stale s = {log->st, min_width, err};
	tile_path(prefix, level, index, PRB_TILE_WIDTH);
	strcat(prefix, ".p/");
	return log->st->ops->list(log->st, prefix, remove_stale, &s, err);
}

/* On open for writing: at each level, partials wider than the
 * checkpoint's and full tiles beyond it were written by a batch that never
 * committed (a crash). They go, so that no full tile is ever rewritten
 * with other bytes (DESIGN.md invariant 3) and every partial left holds a
 * committed prefix. A batch writes full tiles in a row, so the first
 * absent one ends the search. */
static int
remove_uncommitted(prb_log *log, prb_err *err)
{
	int rc = 0;
	char path[PRB_TILE_PATH_MAX];
	for (int l = PRB_ENTRIES_LEVEL; l < LEVELS && rc == 0; l++) {
		uint64_t count = prb_tile_level_count(log->cp.size,
		                                      l < 0 ? 0 : (unsigned)l);
		uint64_t t = count / PRB_TILE_WIDTH;
		rc = remove_partials(log, l, t,
		                     (unsigned)(count % PRB_TILE_WIDTH) + 1, err);
		for (uint64_t i = t; rc == 0; i++) {
			tile_path(path, l, i, PRB_TILE_WIDTH);
			rc = log->st->ops->remove(log->st, path, err);
			if (rc == 0 && i > t)
				rc = remove_partials(log, l, i, 0, err);
		}
		if (rc == PRB_ENOTFOUND)
			rc = 0;
	}
	return rc;
}

struct leftovers {
	prb_log *log;
	int level;
	uint64_t t;  /* the tile partial at the open checkpoint ... */
	unsigned w;  /* ... and its width there (0: none) */
	prb_err *err;
};

static int
remove_leftover(void *ctx, const char *name)
{
	struct leftovers *lo = ctx;
	char path[PRB_TILE_PATH_MAX + 8];
	size_t n = strlen(name);
	int level, rc = 0;
	uint64_t m;
	unsigned w;
	if (n > 4 && strcmp(name + n - 4, ".tmp") == 0) {
		rc = lo->log->st->ops->remove(lo->log->st, name, lo->err);
	} else if (n > 2 && strcmp(name + n - 2, ".p") == 0 &&
	           n + 3 < sizeof path) {
		snprintf(path, sizeof path, "%s/1", name); /* its directory */
		if (prb_tile_parse_path(path, &level, &m, &w) == 0 &&
		    level == lo->level && m >= lo->t)
			rc = remove_partials(lo->log, level, m,
			                     m == lo->t ? lo->w + 1 : 0, lo->err);
	} else if (prb_tile_parse_path(name, &level, &m, &w) == 0 &&
	           level == lo->level && w == PRB_TILE_WIDTH && m >= lo->t) {
		rc = lo->log->st->ops->remove(lo->log->st, name, lo->err);
	}
	return rc == PRB_ENOTFOUND ? 0 : rc;
}

/*
 * Before this handle's first write into the directory holding tile
 * (level, index): everything there beyond the checkpoint the log was
 * opened at (full tiles from its partial tile on, that tile's wider
 * partials, partials of later tiles, temporary files) was left by batches
 * that never committed, and goes. One list() per directory: a level's
 * tiles are written in increasing order, and nothing of this handle's is
 * in a directory before it enters it. From then on the only files there
 * beyond the durable checkpoint are this handle's, so no batch needs to
 * look for leftovers (a failed batch removes its own and fails the
 * handle; the next open looks again).
 */
static int
enter_dir(prb_log *log, int level, uint64_t index, prb_err *err)
{
	uint64_t *done = &log->entered[level + 1], group = index / 1000 + 1;
	if (*done >= group)
		return 0;
	char prefix[PRB_TILE_PATH_MAX];
	tile_path(prefix, level, index, PRB_TILE_WIDTH);
	strrchr(prefix, '/')[1] = 0;
	uint64_t count = prb_tile_level_count(log->open_size,
	                                      level < 0 ? 0 : (unsigned)level);
	struct leftovers lo = {log, level, count / PRB_TILE_WIDTH,
	                       (unsigned)(count % PRB_TILE_WIDTH), err};
	int rc = log->st->ops->list(log->st, prefix, remove_leftover, &lo, err);
	if (rc == 0)
		*done = group;
	return rc;
}

/* Whether tile (level, index) was partial in the tree of `size`. */
static int
was_partial(int level, uint64_t index, uint64_t size)
{
	unsigned lv = level < 0 ? 0 : (unsigned)level;
	return prb_tile_partial_width(size, lv) > 0 &&
	       prb_tile_level_count(size, lv) / PRB_TILE_WIDTH == index;
}

/* After the commit of the batch from `old` to `size`: the partials that
 * earlier checkpoints named of a tile it made full (only the tile partial
 * at `old` had any) go, as tlog-tiles allows. Best effort. */
static void
remove_full_partials(prb_log *log, uint64_t old, uint64_t size)
{
	for (int l = PRB_ENTRIES_LEVEL; l < LEVELS; l++) {
		unsigned lv = l < 0 ? 0 : (unsigned)l;
		uint64_t from = prb_tile_level_count(old, lv) / PRB_TILE_WIDTH;
		uint64_t to = prb_tile_level_count(size, lv) / PRB_TILE_WIDTH;
		if (from < to && was_partial(l, from, old))
			remove_partials(log, l, from, 0, NULL);
	}
}

int
prb_log_open(prb_store *st, prb_signer *signer, int lock_wait_ms,
             prb_log **out, prb_err *err)
{
	prb_log *log = calloc(1, sizeof *log);
	int rc;
	if (!log)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	log->st = st;
	log->signer = signer;
	cache_drop(log);
	if (signer && (rc = st->ops->lock(st, lock_wait_ms, err)))
		goto fail;
	/* A reader racing a writer may see a partial deleted under it;
	 * read_tile falls back to full tiles, and a changed checkpoint is
	 * simply read again. */
	for (int attempt = 0;; attempt++) {
		rc = read_checkpoint(log, err);
		if (rc == 0 && signer)
			rc = adopt_pending(log, err);
		if (rc == 0)
			rc = load_edge(log, err);
		if (rc == 0 || signer || attempt == 3 ||
		    (rc != PRB_ENOTFOUND && rc != PRB_ECORRUPT))
			break;
	}
	if (rc == 0 && signer)
		rc = remove_uncommitted(log, err);
	if (rc)
		goto fail;
	log->open_size = log->cp.size;
	*out = log;
	return 0;
fail:
	prb_log_close(log);
	return rc;
}

/* Signs the text of cp into a new note. */
static int
sign_checkpoint(prb_signer *signer, const prb_checkpoint *cp, char **note,
                size_t *len, prb_err *err)
{
	char text[PRB_CHECKPOINT_MAX];
	int n = prb_checkpoint_format(cp, text, sizeof text);
	if (n < 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "checkpoint too long");
	return prb_note_sign(text, (size_t)n, &signer, 1, note, len, err);
}

/* A list() callback: notes that a name exists and stops. */
static int
any_name(void *ctx, const char *name)
{
	(void)name;
	*(int *)ctx = 1;
	return 1;
}

int
prb_log_create(prb_store *st, prb_signer *signer, prb_err *err)
{
	prb_checkpoint cp;
	char *note;
	size_t len;
	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", prb_signer_name(signer));
	prb_merkle_empty_root(&cp.root);
	int rc = st->ops->lock(st, 0, err);
	if (rc)
		return rc;
	uint8_t *old;
	size_t oldlen;
	if (st->ops->get(st, "checkpoint", &old, &oldlen, NULL) == 0) {
		free(old);
		return prb_err_set(err, PRB_EEXIST, "checkpoint", UINT64_MAX,
		                   "a log already exists here");
	}
	/* tiles of an earlier log would be overwritten by different ones,
	 * and its checkpoints contradicted under the same key */
	int found = 0;
	rc = st->ops->list(st, "tile/", any_name, &found, err);
	if (found) /* any_name stopped the listing */
		rc = prb_err_set(err, PRB_EEXIST, "tile/", UINT64_MAX,
		                 "tiles of an earlier log are here");
	if (rc)
		return rc;
	rc = sign_checkpoint(signer, &cp, &note, &len, err);
	if (rc)
		return rc;
	rc = st->ops->set_checkpoint(st, NULL, 0, (const uint8_t *)note, len,
	                             err);
	free(note);
	return rc;
}

/* full_fn for appends: write the full hash tile. */
static int
put_full_tile(void *ctx, unsigned level, uint64_t index, const prb_hash *h,
              prb_err *err)
{
	prb_log *log = ctx;
	uint8_t buf[PRB_TILE_WIDTH * PRB_HASH_SIZE];
	char path[PRB_TILE_PATH_MAX];
	int rc = enter_dir(log, (int)level, index, err);
	if (rc)
		return rc;
	encode_hashes(h, PRB_TILE_WIDTH, buf);
	tile_path(path, (int)level, index, PRB_TILE_WIDTH);
	return log->st->ops->put(log->st, path, buf, sizeof buf, err);
}

/* Adds one entry to the partial bundle; writes it when full. */
static int
bundle_add(prb_log *log, const uint8_t *data, size_t len, prb_err *err)
{
	if (log->bundle_cap - log->bundle_len < len + 2) {
		size_t cap = log->bundle_cap ? log->bundle_cap : 4096;
		while (cap - log->bundle_len < len + 2)
			cap *= 2;
		uint8_t *b = realloc(log->bundle, cap);
		if (!b)
			return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		log->bundle = b;
		log->bundle_cap = cap;
	}
	store_be16(log->bundle + log->bundle_len, (uint16_t)len);
	memcpy(log->bundle + log->bundle_len + 2, data, len);
	log->bundle_len += len + 2;
	if ((log->e.size + 1) % PRB_TILE_WIDTH != 0)
		return 0;
	char path[PRB_TILE_PATH_MAX];
	uint64_t index = log->e.size / PRB_TILE_WIDTH;
	int rc = enter_dir(log, PRB_ENTRIES_LEVEL, index, err);
	tile_path(path, PRB_ENTRIES_LEVEL, index, PRB_TILE_WIDTH);
	if (rc == 0)
		rc = log->st->ops->put(log->st, path, log->bundle,
		                       log->bundle_len, err);
	log->bundle_len = 0;
	return rc;
}

/* Writes the partial tiles and bundle of the new size that the old
 * checkpoint does not already name. */
static int
put_partials(prb_log *log, uint64_t old, prb_err *err)
{
	uint64_t size = log->e.size;
	char path[PRB_TILE_PATH_MAX];
	uint8_t buf[PRB_TILE_WIDTH * PRB_HASH_SIZE];
	for (unsigned l = 0; l < LEVELS; l++) {
		unsigned w = log->e.n[l];
		uint64_t count = prb_tile_level_count(size, l);
		if (count == prb_tile_level_count(old, l))
			break; /* this level and all above are unchanged */
		if (w == 0)
			continue;
		int rc = enter_dir(log, (int)l, count / PRB_TILE_WIDTH, err);
		if (rc)
			return rc;
		tile_path(path, (int)l, count / PRB_TILE_WIDTH, w);
		encode_hashes(log->e.h[l], w, buf);
		rc = log->st->ops->put(log->st, path, buf, w * PRB_HASH_SIZE,
		                       err);
		if (rc)
			return rc;
	}
	if (log->e.n[0] == 0 || size == old)
		return 0;
	int rc = enter_dir(log, PRB_ENTRIES_LEVEL, size / PRB_TILE_WIDTH, err);
	if (rc)
		return rc;
	tile_path(path, PRB_ENTRIES_LEVEL, size / PRB_TILE_WIDTH, log->e.n[0]);
	return log->st->ops->put(log->st, path, log->bundle, log->bundle_len,
	                         err);
}

/* After a failed batch from `old` to `reached`: best-effort removal of
 * what it wrote, none of which a committed checkpoint names (so a full
 * disk is not left fuller). */
static void
discard_batch(prb_log *log, uint64_t old, uint64_t reached)
{
	char path[PRB_TILE_PATH_MAX];
	prb_store *st = log->st;
	if (old == reached)
		return;
	for (int l = PRB_ENTRIES_LEVEL; l < LEVELS; l++) {
		unsigned lv = l < 0 ? 0 : (unsigned)l;
		uint64_t from = prb_tile_level_count(old, lv) / PRB_TILE_WIDTH;
		uint64_t to = prb_tile_level_count(reached, lv) / PRB_TILE_WIDTH;
		for (uint64_t i = from; i < to; i++) {
			tile_path(path, l, i, PRB_TILE_WIDTH);
			st->ops->remove(st, path, NULL);
		}
		unsigned w = prb_tile_partial_width(reached, lv);
		if (w && prb_tile_level_count(reached, lv) !=
		                 prb_tile_level_count(old, lv)) {
			tile_path(path, l, to, w);
			st->ops->remove(st, path, NULL);
		}
	}
}

/* Signs the edge's size as batch b's checkpoint. */
static int
sign_batch(prb_log *log, batch *b, prb_err *err)
{
	b->cp = log->cp;
	b->cp.size = log->e.size;
	b->cp.n_extensions = 0;
	edge_root(&log->e, &b->cp.root);
	return sign_checkpoint(log->signer, &b->cp, &b->note, &b->note_len,
	                       err);
}

/* The checkpoint the next commit replaces: the newest batch's in flight,
 * else the durable one. */
static const batch *
newest_batch(const prb_log *log)
{
	if (log->fl_n == 0)
		return NULL;
	return &log->fl[(log->fl_head + log->fl_n - 1) % INFLIGHT];
}

/* What prb_log_append_stage and _start check before touching anything. */
static int
append_check(const prb_log *log, const size_t *lens, size_t n, prb_err *err)
{
	if (log->failed)
		return prb_err_set(err, PRB_EFAILED, NULL, UINT64_MAX,
		                   "an earlier append failed; reopen the log");
	if (!log->signer)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "log opened without a key is read-only");
	for (size_t i = 0; i < n; i++)
		if (lens[i] > PRB_MAX_ENTRY)
			return prb_err_set(err, PRB_ETOOBIG, NULL, i,
			                   "entry of %zu bytes is over the "
			                   "%d-byte limit", lens[i], PRB_MAX_ENTRY);
	if (log->e.size > (UINT64_C(1) << 62) - n)
		return prb_err_set(err, PRB_ETOOBIG, NULL, UINT64_MAX,
		                   "log is full");
	return 0;
}

/* Hashes entries into the batch being staged and hands every tile and
 * bundle they fill to the store. */
static int
stage(prb_log *log, const uint8_t *const *entries, const size_t *lens,
      size_t n, prb_err *err)
{
	int rc = 0;
	if (!log->staging) {
		log->staging = 1;
		log->stage_old = log->e.size;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		prb_hash leaf;
		prb_merkle_leaf_hash(entries[i], lens[i], &leaf);
		rc = bundle_add(log, entries[i], lens[i], err);
		if (rc == 0)
			rc = edge_add_leaf(&log->e, &leaf, put_full_tile, log, err);
	}
	if (rc) {
		log->failed = 1; /* the edge is ahead of what can commit */
		log->staging = 0;
		discard_batch(log, log->stage_old, log->e.size);
	}
	return rc;
}

int
prb_log_append_stage(prb_log *log, const uint8_t *const *entries,
                     const size_t *lens, size_t n, prb_err *err)
{
	int rc = append_check(log, lens, n, err);
	return rc ? rc : stage(log, entries, lens, n, err);
}

int
prb_log_append_start(prb_log *log, const uint8_t *const *entries,
                     const size_t *lens, size_t n, prb_err *err)
{
	int rc = append_check(log, lens, n, err);
	if (rc == 0 && log->fl_n == INFLIGHT)
		rc = prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                 "%d batches in flight: wait for one first",
		                 INFLIGHT);
	if (rc == 0 && n > 0)
		rc = stage(log, entries, lens, n, err);
	if (rc)
		return rc;
	const batch *prev = newest_batch(log);
	batch *b = &log->fl[(log->fl_head + log->fl_n) % INFLIGHT];
	uint64_t old = log->staging ? log->stage_old : log->e.size;
	log->staging = 0;
	memset(b, 0, sizeof *b);
	b->old = old;
	if (old == log->e.size) { /* nothing to commit; its wait reports */
		b->cp = log->cp;
		b->cp.size = old;
		log->fl_n++;
		return 0;
	}
	rc = put_partials(log, old, err);
	if (rc == 0)
		rc = sign_batch(log, b, err);
	if (rc == 0 && log->st->ops->commit) {
		const char *tip = prev && prev->note ? prev->note : log->note;
		size_t tip_len = prev && prev->note ? prev->note_len
		                                    : log->note_len;
		rc = log->st->ops->commit(log->st, (const uint8_t *)tip, tip_len,
		                          (const uint8_t *)b->note, b->note_len,
		                          err);
	}
	if (rc) {
		free(b->note);
		b->note = NULL;
		log->failed = 1; /* the edge is ahead of what can commit */
		discard_batch(log, old, log->e.size);
		return rc;
	}
	log->fl_n++;
	return 0;
}

/* The commit of batch b, for a store without commit(): every put so far
 * is made durable, then the checkpoint replaced. */
static int
commit_now(prb_log *log, const batch *b, prb_err *err)
{
	int rc = log->st->ops->sync(log->st, err);
	if (rc)
		return rc;
	rc = log->st->ops->set_checkpoint(log->st, (const uint8_t *)log->note,
	                                  log->note_len, (const uint8_t *)b->note,
	                                  b->note_len, err);
	if (rc && rc != PRB_ECONFLICT) { /* ECONFLICT: refused, nothing written */
		if (err)
			err->code = PRB_EINDOUBT;
		rc = PRB_EINDOUBT;
	}
	return rc;
}

/* Collects batch b's commit; on success b's checkpoint becomes the log's
 * (b->note moves there), else b and every later batch are failed. */
static int
finish_batch(prb_log *log, batch *b, prb_err *err)
{
	int rc;
	if (!b->note) /* an empty batch */
		rc = log->broken ? PRB_EFAILED : 0;
	else if (log->st->ops->commit) /* none runs after a failed one */
		rc = log->st->ops->commit_wait(log->st, err);
	else if (log->broken)
		rc = PRB_EFAILED; /* never committed after a failed one */
	else
		rc = commit_now(log, b, err);
	if (rc == PRB_EFAILED)
		prb_err_set(err, rc, NULL, UINT64_MAX,
		            "not committed: an earlier batch failed");
	if (rc == PRB_EINDOUBT && err)
		snprintf(err->msg + strlen(err->msg),
		         sizeof err->msg - strlen(err->msg),
		         " (while committing the checkpoint)");
	if (rc == 0) {
		if (b->note) {
			free(log->note);
			log->note = b->note;
			log->note_len = b->note_len;
			b->note = NULL;
			log->cp = b->cp;
			cache_drop(log); /* cached partial tiles may be stale */
			remove_full_partials(log, b->old, b->cp.size);
		}
		return 0;
	}
	log->failed = 1;
	log->broken = 1;
	/* in doubt, its files stay: its checkpoint may name them */
	if (rc != PRB_EINDOUBT)
		discard_batch(log, b->old, b->cp.size);
	return rc;
}

int
prb_log_append_wait(prb_log *log, uint64_t *size, prb_err *err)
{
	if (log->fl_n == 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "no batch in flight");
	batch *b = &log->fl[log->fl_head];
	log->fl_head = (log->fl_head + 1) % INFLIGHT;
	log->fl_n--;
	int rc = finish_batch(log, b, err);
	free(b->note);
	b->note = NULL;
	if (log->fl_n == 0)
		log->broken = 0; /* every failure reported; `failed` stays */
	if (rc == 0 && size)
		*size = b->cp.size;
	return rc;
}

int
prb_log_append(prb_log *log, const uint8_t *const *entries,
               const size_t *lens, size_t n, prb_err *err)
{
	if (log->fl_n > 0 || log->staging)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "batches in flight: wait for them first");
	int rc = prb_log_append_start(log, entries, lens, n, err);
	return rc ? rc : prb_log_append_wait(log, NULL, err);
}

/* The cached tile (level, index) at the log's size, read and its
 * subtrees hashed on a miss (in the slot used longest ago). */
static int
cached_tile(prb_log *log, unsigned level, uint64_t index, tile_pyr **out)
{
	tile_pyr *ways = log->cache[level], *t;
	if (!ways && !(ways = log->cache[level] =
	                       calloc(CACHE_WAYS, sizeof *ways)))
		return prb_err_set(&log->rerr, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	t = &ways[0];
	for (int w = 0; w < CACHE_WAYS; w++) {
		if (ways[w].width && ways[w].index == index) {
			t = &ways[w];
			t->used = ++log->cache_clock;
			*out = t;
			return 0;
		}
		if (!ways[w].width) /* an empty slot before any other */
			ways[w].used = 0;
		if (ways[w].used < t->used)
			t = &ways[w];
	}
	t->width = 0;
	int rc = read_tile(log->st, level, index, log->cp.size, t->p, &t->width,
	                   &log->rerr);
	if (rc) {
		t->width = 0;
		return rc;
	}
	for (unsigned k = 1; k <= PRB_TILE_HEIGHT; k++)
		for (unsigned i = 0; i < t->width >> k; i++)
			prb_merkle_node_hash(&t->p[pyr_at(k - 1, 2 * i)],
			                     &t->p[pyr_at(k - 1, 2 * i + 1)],
			                     &t->p[pyr_at(k, i)]);
	t->index = index;
	t->used = ++log->cache_clock;
	*out = t;
	return 0;
}

/* prb_node_reader over the log's tiles (relative to its latest size). */
static int
node_reader(void *ctx, unsigned height, uint64_t index, prb_hash *out)
{
	prb_log *log = ctx;
	if (log->failed)
		return PRB_EFAILED; /* the edge is ahead of the checkpoint */
	unsigned level = height / PRB_TILE_HEIGHT, r = height % PRB_TILE_HEIGHT;
	uint64_t first = index << r; /* first hash at `level` */
	uint64_t tidx = first / PRB_TILE_WIDTH;
	unsigned off = (unsigned)(first % PRB_TILE_WIDTH), n = 1u << r;
	uint64_t count = prb_tile_level_count(log->cp.size, level);
	if (level >= LEVELS || first + n > count)
		return PRB_EINVAL;
	if (tidx == count / PRB_TILE_WIDTH && log->e.n[level] >= off + n) {
		perfect_hash(&log->e.h[level][off], n, out); /* in memory */
		return 0;
	}
	tile_pyr *t = NULL;
	int rc = cached_tile(log, level, tidx, &t);
	if (rc)
		return rc;
	if (off + n > t->width)
		return PRB_ECORRUPT;
	*out = t->p[pyr_at(r, off >> r)];
	return 0;
}

static int
in_flight(prb_err *err)
{
	return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
	                   "appends in flight: wait for them first");
}

static int
proof_err(prb_log *log, int rc, prb_err *err)
{
	if (rc == PRB_EFAILED)
		return prb_err_set(err, rc, NULL, UINT64_MAX,
		                   "an earlier append failed; reopen the log");
	if (err) {
		*err = log->rerr;
		err->code = rc;
	}
	return rc;
}

static int
not_matching(prb_err *err)
{
	return prb_err_set(err, PRB_ECORRUPT, NULL, UINT64_MAX,
	                   "the tiles do not match the signed checkpoint, so "
	                   "no valid proof can be made (run probity verify)");
}

/* The root of the tree of `size` leaves that a proof may be checked
 * against: the signed one, or for an older size the root from the tiles,
 * proven consistent with the signed one. */
static int
trusted_root(prb_log *log, uint64_t size, prb_hash *root, prb_err *err)
{
	prb_hash proof[PRB_MAX_PROOF];
	size_t n;
	if (size == log->cp.size) {
		*root = log->cp.root;
		return 0;
	}
	int rc = prb_merkle_root(node_reader, log, size, root);
	if (rc == 0)
		rc = prb_merkle_prove_consistency(node_reader, log, size,
		                                  log->cp.size, proof, &n);
	if (rc)
		return proof_err(log, rc, err);
	if (prb_merkle_verify_consistency(size, log->cp.size, proof, n, root,
	                                  &log->cp.root))
		return not_matching(err);
	return 0;
}

int
prb_log_prove_inclusion(prb_log *log, uint64_t index, uint64_t size,
                        prb_hash *proof, size_t *len, prb_err *err)
{
	if (log->fl_n > 0 || log->staging)
		return in_flight(err);
	if (size > log->cp.size || index >= size)
		return prb_err_set(err, PRB_EINVAL, NULL, index,
		                   "index %llu is not in a tree of size %llu",
		                   (unsigned long long)index,
		                   (unsigned long long)size);
	uint8_t *entry;
	size_t elen;
	prb_hash leaf, root;
	int rc = prb_merkle_prove_inclusion(node_reader, log, index, size,
	                                    proof, len);
	if (rc)
		return proof_err(log, rc, err);
	if ((rc = prb_log_read_entry(log, index, &entry, &elen, err)))
		return rc;
	prb_merkle_leaf_hash(entry, elen, &leaf);
	free(entry);
	if ((rc = trusted_root(log, size, &root, err)))
		return rc;
	if (prb_merkle_verify_inclusion(&leaf, index, size, proof, *len, &root))
		return not_matching(err);
	return 0;
}

int
prb_log_prove_consistency(prb_log *log, uint64_t m, uint64_t n,
                          prb_hash *proof, size_t *len, prb_err *err)
{
	if (log->fl_n > 0 || log->staging)
		return in_flight(err);
	if (m > n || n > log->cp.size)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "need OLD <= NEW <= %llu (the log's size)",
		                   (unsigned long long)log->cp.size);
	prb_hash root_m, root_n;
	int rc = prb_merkle_prove_consistency(node_reader, log, m, n, proof, len);
	if (rc == 0)
		rc = prb_merkle_root(node_reader, log, m, &root_m);
	if (rc)
		return proof_err(log, rc, err);
	if ((rc = trusted_root(log, n, &root_n, err)))
		return rc;
	if (prb_merkle_verify_consistency(m, n, proof, *len, &root_m, &root_n))
		return not_matching(err);
	return 0;
}

int
prb_log_root_at(prb_log *log, uint64_t size, prb_hash *out, prb_err *err)
{
	if (log->fl_n > 0 || log->staging)
		return in_flight(err);
	if (size > log->cp.size)
		return prb_err_set(err, PRB_EINVAL, NULL, size,
		                   "size beyond the log");
	return trusted_root(log, size, out, err);
}

struct pick {
	unsigned want;
	uint8_t *data;
	size_t len;
};

static int
pick_entry(void *ctx, const uint8_t *data, size_t len, unsigned i)
{
	struct pick *p = ctx;
	if (i != p->want)
		return 0;
	p->data = malloc(len + 1);
	if (!p->data)
		return PRB_ENOMEM;
	memcpy(p->data, data, len);
	p->len = len;
	return 1; /* found: stop */
}

int
prb_log_read_entry(prb_log *log, uint64_t index, uint8_t **data,
                   size_t *len, prb_err *err)
{
	if (index >= log->cp.size)
		return prb_err_set(err, PRB_EINVAL, NULL, index,
		                   "index beyond the log");
	char path[PRB_TILE_PATH_MAX];
	uint8_t *b;
	size_t blen;
	unsigned count;
	int rc = read_bundle(log->st, index, log->cp.size, &b, &blen, &count,
	                     path, err);
	if (rc)
		return rc;
	struct pick p = {(unsigned)(index % PRB_TILE_WIDTH), NULL, 0};
	rc = prb_bundle_parse(b, blen, 0, pick_entry, &p, err);
	free(b);
	if (rc == 1) {
		*data = p.data;
		*len = p.len;
		return 0;
	}
	return prb_err_set(err, rc == PRB_ENOMEM ? rc : PRB_ECORRUPT, path,
	                   index, "entry %llu is missing from its bundle",
	                   (unsigned long long)index);
}

/* ---- verification ---------------------------------------------------- */

typedef struct {
	prb_store *st;
	uint64_t size;
	prb_progress_fn progress;
	void *pctx;
} verifier;

static void
b64(const prb_hash *h, char out[48])
{
	prb_b64_encode(h->b, PRB_HASH_SIZE, out);
}

/* Partial tiles and bundles of earlier checkpoints, still on disk, must
 * hold a prefix of what the verified tree has there. */
struct old_partials {
	verifier *v;
	int level;
	uint64_t index;
	unsigned w;            /* the tile's width in the verified tree */
	const prb_hash *h;     /* its hashes (hash tiles) */
	const uint8_t *bundle; /* or its bytes (bundles) */
	size_t blen;
	prb_err *err;
};

/* Bytes of the first `w` entries of a bundle (0 if it has fewer). */
static size_t
bundle_prefix(const uint8_t *b, size_t len, unsigned w)
{
	size_t off = 0;
	for (unsigned i = 0; i < w; i++) {
		if (len - off < 2 || len - off - 2 < load_be16(b + off))
			return 0;
		off += 2 + load_be16(b + off);
	}
	return off;
}

static int
check_partial(void *ctx, const char *name)
{
	struct old_partials *o = ctx;
	int level;
	uint64_t n;
	unsigned w;
	uint8_t *data;
	size_t len;
	if (prb_tile_parse_path(name, &level, &n, &w) || level != o->level ||
	    n != o->index || w == PRB_TILE_WIDTH ||
	    (o->w < PRB_TILE_WIDTH && w >= o->w))
		return 0; /* a temporary file, or beyond the verified tree */
	int rc = o->v->st->ops->get(o->v->st, name, &data, &len, o->err);
	if (rc == PRB_ENOTFOUND)
		return 0; /* pruned by a writer since it was listed */
	if (rc)
		return prb_err_set(o->err, PRB_ECORRUPT, name, UINT64_MAX,
		                   "unreadable: %s", prb_strerror(rc));
	int same;
	if (o->bundle) {
		size_t want = bundle_prefix(o->bundle, o->blen, w);
		same = want && len == want && memcmp(data, o->bundle, len) == 0;
	} else {
		same = len == (size_t)w * PRB_HASH_SIZE;
		for (unsigned i = 0; same && i < w; i++)
			same = memcmp(data + i * PRB_HASH_SIZE, o->h[i].b,
			              PRB_HASH_SIZE) == 0;
	}
	free(data);
	if (!same)
		return prb_err_set(o->err, PRB_ECORRUPT, name, UINT64_MAX,
		                   "partial %s of an earlier checkpoint is not the "
		                   "first %u %s recomputed from the entries",
		                   o->bundle ? "bundle" : "tile", w,
		                   o->bundle ? "entries" : "hashes");
	return 0;
}

static int
verify_old_partials(struct old_partials *o)
{
	char prefix[PRB_TILE_PATH_MAX + 4];
	tile_path(prefix, o->level, o->index, PRB_TILE_WIDTH);
	strcat(prefix, ".p/");
	return o->v->st->ops->list(o->v->st, prefix, check_partial, o, o->err);
}

/* Compares computed hashes with the stored tile (level, index, width). */
static int
compare_tile(verifier *v, unsigned level, uint64_t index, unsigned w,
             const prb_hash *h, prb_err *err)
{
	char path[PRB_TILE_PATH_MAX];
	uint8_t *data;
	size_t len;
	unsigned got;
	int rc = get_tile(v->st, (int)level, index, w, path, &data, &len, &got,
	                  err);
	if (rc == PRB_EIO || rc == PRB_ENOMEM)
		return rc; /* a transport failure, not the log's data */
	if (rc)
		return prb_err_set(err, PRB_ECORRUPT, path, UINT64_MAX,
		                   "missing or unreadable: %s", prb_strerror(rc));
	if (len != (size_t)got * PRB_HASH_SIZE) {
		rc = prb_err_set(err, PRB_ECORRUPT, path, len,
		                 "tile is %zu bytes, expected %u (%u hashes)", len,
		                 got * PRB_HASH_SIZE, got);
		goto out;
	}
	for (unsigned i = 0; i < w; i++) {
		if (memcmp(data + i * PRB_HASH_SIZE, h[i].b, PRB_HASH_SIZE) == 0)
			continue;
		prb_hash found;
		char e[48], f[48];
		memcpy(found.b, data + i * PRB_HASH_SIZE, PRB_HASH_SIZE);
		b64(&h[i], e);
		b64(&found, f);
		uint64_t first = (index * PRB_TILE_WIDTH + i)
		                 << (PRB_TILE_HEIGHT * level);
		if (level == 0) {
			char bundle[PRB_TILE_PATH_MAX];
			tile_path(bundle, PRB_ENTRIES_LEVEL, index, w);
			rc = prb_err_set(err, PRB_ECORRUPT, path, i,
			                 "hash %u (entry %llu, entry %u of %s): "
			                 "expected %s (recomputed from the entry "
			                 "bundle), found %s",
			                 i, (unsigned long long)first, i, bundle, e,
			                 f);
			break;
		}
		rc = prb_err_set(err, PRB_ECORRUPT, path, i,
		                 "hash %u (covering entries from %llu): expected "
		                 "%s (recomputed from the entry bundles), found %s",
		                 i, (unsigned long long)first, e, f);
		break;
	}
out:
	free(data);
	if (rc == 0) {
		struct old_partials o = {v, (int)level, index, w, h, NULL, 0, err};
		rc = verify_old_partials(&o);
	}
	return rc;
}

static int
verify_full(void *ctx, unsigned level, uint64_t index, const prb_hash *h,
            prb_err *err)
{
	return compare_tile(ctx, level, index, PRB_TILE_WIDTH, h, err);
}

struct vb {
	verifier *v;
	edge *e;
	const char *path;
	unsigned have; /* entries of this bundle the edge already holds */
	unsigned want; /* entries of this bundle in the verified tree */
	prb_err *err;
};

static int
verify_entry(void *ctx, const uint8_t *data, size_t len, unsigned i)
{
	struct vb *b = ctx;
	prb_hash leaf;
	if (i >= b->want)
		return 0; /* a full bundle read in place of a pruned partial */
	prb_merkle_leaf_hash(data, len, &leaf);
	if (i < b->have) {
		/* already verified: the bundle must still hold it */
		if (prb_hash_equal(&leaf, &b->e->h[0][i]))
			return 0;
		char e[48], f[48];
		b64(&b->e->h[0][i], e);
		b64(&leaf, f);
		return prb_err_set(b->err, PRB_ECORRUPT, b->path, i,
		                   "entry %u (index %llu) changed since the last "
		                   "verified tree: leaf hash expected %s, found %s",
		                   i,
		                   (unsigned long long)(b->e->size - b->have + i),
		                   e, f);
	}
	return edge_add_leaf(b->e, &leaf, verify_full, b->v, b->err);
}

/* Reads and hashes every bundle from the edge's size on, checking tiles
 * as they fill. */
static int
verify_bundles(verifier *v, edge *e, prb_err *err)
{
	for (uint64_t b = e->size / PRB_TILE_WIDTH; b * PRB_TILE_WIDTH < v->size;
	     b++) {
		unsigned w = tile_width(PRB_ENTRIES_LEVEL, b, v->size), got;
		char path[PRB_TILE_PATH_MAX];
		uint8_t *data;
		size_t len;
		int rc = get_tile(v->st, PRB_ENTRIES_LEVEL, b, w, path, &data,
		                  &len, &got, err);
		if (rc == PRB_EIO || rc == PRB_ENOMEM || rc == PRB_ETOOBIG)
			return rc; /* a transport failure, not the log's data */
		if (rc)
			return prb_err_set(err, PRB_ECORRUPT, path, UINT64_MAX,
			                   "missing or unreadable entry bundle: %s",
			                   prb_strerror(rc));
		unsigned have = (unsigned)(e->size - b * PRB_TILE_WIDTH);
		struct vb ctx = {v, e, path, have, w, err};
		rc = prb_bundle_parse(data, len, got, verify_entry, &ctx, err);
		if (rc == PRB_EMALFORMED && err) {
			snprintf(err->where, sizeof err->where, "%s", path);
			rc = PRB_ECORRUPT;
		}
		if (rc == 0) {
			struct old_partials o = {v,   PRB_ENTRIES_LEVEL, b, w, NULL,
			                         data, len,              err};
			rc = verify_old_partials(&o);
		}
		free(data);
		if (rc)
			return rc;
		if (v->progress)
			v->progress(v->pctx, e->size, v->size);
	}
	return 0;
}

/* Extends e to v->size and compares the partial tiles of that size. */
static int
verify_extend(verifier *v, edge *e, prb_err *err)
{
	int rc = verify_bundles(v, e, err);
	for (unsigned l = 0; l < LEVELS && rc == 0; l++)
		if (e->n[l])
			rc = compare_tile(v, l,
			                  prb_tile_level_count(v->size, l) /
			                          PRB_TILE_WIDTH,
			                  e->n[l], e->h[l], err);
	return rc;
}

int
prb_log_verify(prb_store *st, const prb_verifier *vkey,
               prb_progress_fn progress, void *pctx, uint64_t *size_out,
               prb_err *err)
{
	uint8_t *note;
	size_t len;
	prb_checkpoint cp;
	int rc = st->ops->get(st, "checkpoint", &note, &len, err);
	if (rc)
		return rc;
	rc = prb_checkpoint_open(note, len, vkey, 1, &cp, NULL, err);
	free(note);
	if (rc) {
		if (err)
			snprintf(err->where, sizeof err->where, "checkpoint");
		return rc;
	}
	verifier v = {st, cp.size, progress, pctx};
	edge *e = calloc(1, sizeof *e);
	if (!e)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	rc = verify_extend(&v, e, err);
	prb_hash root;
	if (rc == 0) {
		edge_root(e, &root);
		if (!prb_hash_equal(&root, &cp.root)) {
			char a[48], b[48];
			b64(&root, a);
			b64(&cp.root, b);
			rc = prb_err_set(err, PRB_ECORRUPT, "checkpoint", 3,
			                 "root hash: expected %s (recomputed), "
			                 "found %s", a, b);
		}
	}
	free(e);
	if (rc == 0 && size_out)
		*size_out = cp.size;
	return rc;
}

/* ---- incremental verification (the monitor) ---------------------------- */

int
prb_log_edge_new(prb_log_edge **out, prb_err *err)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	return 0;
}

void
prb_log_edge_free(prb_log_edge *e)
{
	free(e);
}

void
prb_log_edge_copy(prb_log_edge *dst, const prb_log_edge *src)
{
	memcpy(dst, src, sizeof *dst);
}

uint64_t
prb_log_edge_size(const prb_log_edge *e)
{
	return e->size;
}

void
prb_log_edge_root(const prb_log_edge *e, prb_hash *out)
{
	edge_root(e, out);
}

size_t
prb_log_edge_encode(const prb_log_edge *e, uint8_t *buf, size_t cap)
{
	size_t need = 8;
	for (unsigned l = 0; l < LEVELS; l++)
		need += (size_t)e->n[l] * PRB_HASH_SIZE;
	if (need > cap)
		return 0;
	store_be64(buf, e->size);
	size_t off = 8;
	for (unsigned l = 0; l < LEVELS; l++) {
		encode_hashes(e->h[l], e->n[l], buf + off);
		off += (size_t)e->n[l] * PRB_HASH_SIZE;
	}
	return off;
}

int
prb_log_edge_decode(const uint8_t *buf, size_t len, prb_log_edge *e,
                    prb_err *err)
{
	if (len < 8)
		return prb_err_set(err, PRB_EMALFORMED, NULL, len,
		                   "edge shorter than its size field");
	uint64_t size = load_be64(buf);
	if (size > INT64_MAX)
		return prb_err_set(err, PRB_EMALFORMED, NULL, 0,
		                   "edge size out of range");
	size_t need = 8;
	for (unsigned l = 0; l < LEVELS; l++)
		need += (size_t)prb_tile_partial_width(size, l) * PRB_HASH_SIZE;
	if (len != need)
		return prb_err_set(err, PRB_EMALFORMED, NULL, len,
		                   "edge of size %llu is %zu bytes, expected %zu",
		                   (unsigned long long)size, len, need);
	memset(e, 0, sizeof *e);
	e->size = size;
	size_t off = 8;
	for (unsigned l = 0; l < LEVELS; l++) {
		e->n[l] = prb_tile_partial_width(size, l);
		for (unsigned i = 0; i < e->n[l]; i++, off += PRB_HASH_SIZE)
			memcpy(e->h[l][i].b, buf + off, PRB_HASH_SIZE);
	}
	return 0;
}

int
prb_log_verify_extend(prb_store *st, prb_log_edge *e, uint64_t size,
                      prb_progress_fn progress, void *pctx, prb_err *err)
{
	if (size < e->size)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "cannot extend a tree of %llu to %llu",
		                   (unsigned long long)e->size,
		                   (unsigned long long)size);
	verifier v = {st, size, progress, pctx};
	edge *work = malloc(sizeof *work);
	if (!work)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	*work = *e;
	int rc = size == e->size ? 0 : verify_extend(&v, work, err);
	if (rc == 0)
		*e = *work;
	free(work);
	return rc;
}
