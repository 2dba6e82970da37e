/*
 * Verifying a log with no trust in its files: every entry bundle read and
 * hashed into the right edge of the tree, every hash tile compared with
 * the recomputed one as it fills, and the root compared with the signed
 * checkpoint's (prb_log_verify); the same from a saved edge for a monitor
 * (prb_log_verify_extend, the prb_log_edge API).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "log/log_int.h"

/* ---- the right edge ---------------------------------------------------- */

void
prb_log_perfect_hash(const prb_hash *h, unsigned n, prb_hash *out)
{
	if (n == 1) {
		*out = h[0];
		return;
	}
	prb_hash l, r;
	prb_log_perfect_hash(h, n / 2, &l);
	prb_log_perfect_hash(h + n / 2, n / 2, &r);
	prb_merkle_node_hash(&l, &r, out);
}

/* Root of the tree an edge describes: its perfect subtrees, left to
 * right, folded from the right. */
void
prb_log_edge_root(const edge *e, prb_hash *out)
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
				prb_log_perfect_hash(&e->h[l][off], 1u << k,
				                     &parts[np++]);
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
	prb_log_perfect_hash(e->h[level], PRB_TILE_WIDTH, &up);
	e->n[level] = 0;
	return edge_push(e, level + 1, &up, fn, ctx, err);
}

int
prb_log_edge_add_leaf(edge *e, const prb_hash *leaf, full_fn fn, void *ctx,
                      prb_err *err)
{
	e->size++;
	return edge_push(e, 0, leaf, fn, ctx, err);
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
	int rc = prb_log_get_tile(v->st, (int)level, index, w, path, &data,
	                          &len, &got, err);
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
	return prb_log_edge_add_leaf(b->e, &leaf, verify_full, b->v, b->err);
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
		int rc = prb_log_get_tile(v->st, PRB_ENTRIES_LEVEL, b, w, path,
		                          &data, &len, &got, err);
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
		prb_log_edge_root(e, &root);
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
