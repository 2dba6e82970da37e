/*
 * Reading a log: tiles and entry bundles from the store (a pruned partial
 * read as the full tile that replaced it), entries, roots of earlier
 * sizes and inclusion and consistency proofs, each proof checked against
 * the signed checkpoint before it is returned. Proof reads go through a
 * small cache of tiles with their subtrees hashed (log_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "log/log_int.h"

static unsigned
pyr_at(unsigned k, unsigned i)
{
	return 2 * PRB_TILE_WIDTH - (2 * PRB_TILE_WIDTH >> k) + i;
}

void
prb_log_cache_drop(prb_log *log)
{
	for (int l = 0; l < LEVELS; l++)
		if (log->cache[l])
			for (int w = 0; w < CACHE_WAYS; w++)
				log->cache[l][w].width = 0;
}

int
prb_log_get_tile(prb_store *st, int level, uint64_t index, unsigned w,
                 char *path, uint8_t **data, size_t *len, unsigned *got,
                 prb_err *err)
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

int
prb_log_read_tile(prb_store *st, unsigned level, uint64_t index,
                  uint64_t size, prb_hash *h, unsigned *width, prb_err *err)
{
	char path[PRB_TILE_PATH_MAX];
	uint8_t *data;
	size_t len;
	unsigned w = tile_width((int)level, index, size), got;
	int rc = prb_log_get_tile(st, (int)level, index, w, path, &data, &len,
	                          &got, err);
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

int
prb_log_read_bundle(prb_store *st, uint64_t index, uint64_t size,
                    uint8_t **data, size_t *len, unsigned *count, char *path,
                    prb_err *err)
{
	uint64_t b = index / PRB_TILE_WIDTH;
	return prb_log_get_tile(st, PRB_ENTRIES_LEVEL, b,
	                        tile_width(PRB_ENTRIES_LEVEL, b, size), path,
	                        data, len, count, err);
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
	int rc = prb_log_read_tile(log->st, level, index, log->cp.size, t->p,
	                           &t->width, &log->rerr);
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

int
prb_log_node_reader(void *ctx, unsigned height, uint64_t index, prb_hash *out)
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
		/* in memory */
		prb_log_perfect_hash(&log->e.h[level][off], n, out);
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
	int rc = prb_merkle_root(prb_log_node_reader, log, size, root);
	if (rc == 0)
		rc = prb_merkle_prove_consistency(prb_log_node_reader, log,
		                                  size, log->cp.size, proof,
		                                  &n);
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
	int rc = prb_merkle_prove_inclusion(prb_log_node_reader, log, index,
	                                    size, proof, len);
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
	int rc = prb_merkle_prove_consistency(prb_log_node_reader, log, m, n,
	                                      proof, len);
	if (rc == 0)
		rc = prb_merkle_root(prb_log_node_reader, log, m, &root_m);
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
	int rc = prb_log_read_bundle(log->st, index, log->cp.size, &b, &blen,
	                             &count, path, err);
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