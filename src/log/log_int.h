/*
 * Internal to the log's three modules, not part of the public API:
 *   log_append.c  open (which is recovery), create, the append and commit
 *                 pipeline, publishing a checkpoint; its invariants
 *   log_read.c    tile and bundle reads, entries, roots and proofs from
 *                 the tiles (with a cache of hashed tiles)
 *   log_verify.c  the right edge of a tree; full and incremental
 *                 verification
 * What they share: the handle, the edge, and the tile reads.
 */
#ifndef PRB_LOG_INT_H
#define PRB_LOG_INT_H

#include <stdint.h>
#include <string.h>

#include "probity/log.h"
#include "probity/tile.h"

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

/* Proof reads cache CACHE_WAYS hash tiles per level, each with every
 * perfect subtree inside it hashed once: a proof then costs a tile read
 * and its subtree hashes only where it leaves the cached tiles (in a
 * large log, the bottom level), not at every level it crosses. */
#define CACHE_WAYS 8
#define PYR_SIZE (2 * PRB_TILE_WIDTH - 1)

/* Height k of the pyramid holds the hashes of hashes i*2^k .. (i+1)*2^k-1
 * of the tile at p[pyr_at(k, i)] (log_read.c), for the subtrees inside
 * its width. */
typedef struct {
	uint64_t index;
	unsigned width; /* 0: an empty slot */
	uint64_t used;  /* when it was last read, for eviction */
	prb_hash p[PYR_SIZE];
} tile_pyr;

/* A batch whose commit was started and not yet waited for. */
typedef struct {
	uint64_t old;   /* it appends entries old .. cp.size-1 */
	prb_checkpoint cp;
	char *note;     /* its signed checkpoint; NULL for an empty log_batch */
	size_t note_len;
} log_batch;

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
	log_batch fl[INFLIGHT]; /* in flight, oldest at fl_head */
	unsigned fl_head, fl_n;
	int staging;        /* entries staged for the next batch ... */
	uint64_t stage_old; /* ... from this size */
	uint64_t open_size; /* the checkpoint's size when opened */
	uint64_t entered[LEVELS + 1]; /* per level, bundles first: 1 + the
	                                 last directory cleared (enter_dir) */
	prb_err rerr; /* the last tile read error of prb_log_node_reader */
	tile_pyr *cache[LEVELS]; /* CACHE_WAYS each, allocated when used */
	uint64_t cache_clock;
};

static inline void
tile_path(char *buf, int level, uint64_t index, unsigned width)
{
	/* cannot fail: level and width are in range by construction */
	(void)prb_tile_path(buf, PRB_TILE_PATH_MAX, level, index, width);
}

static inline void
encode_hashes(const prb_hash *h, unsigned n, uint8_t *out)
{
	for (unsigned i = 0; i < n; i++)
		memcpy(out + i * PRB_HASH_SIZE, h[i].b, PRB_HASH_SIZE);
}

/* Width of tile (level, index) in the tree of `size` leaves. level may be
 * PRB_ENTRIES_LEVEL (bundles count like level 0). */
static inline unsigned
tile_width(int level, uint64_t index, uint64_t size)
{
	uint64_t count = prb_tile_level_count(size, level < 0 ? 0 : (unsigned)level);
	return (index + 1) * PRB_TILE_WIDTH <= count
	               ? PRB_TILE_WIDTH
	               : (unsigned)(count - index * PRB_TILE_WIDTH);
}

/* ---- log_verify.c: the right edge -------------------------------------- */

/* MTH of n (a power of two) consecutive hashes. */
void prb_log_perfect_hash(const prb_hash *h, unsigned n, prb_hash *out);

/* Appends one leaf hash to e; every tile it fills goes to fn (which may
 * fail the append) and its hash up one level. The root of an edge is
 * prb_log_edge_root(). */
int prb_log_edge_add_leaf(edge *e, const prb_hash *leaf, full_fn fn,
                          void *ctx, prb_err *err);

/* ---- log_read.c: tile reads, proofs ------------------------------------ */

/* Gets tile (level, index) of width w; if that partial tile is gone (a
 * later checkpoint made it full and it was pruned, as tlog-tiles allows),
 * gets the full tile instead. *got is the width actually read; path
 * (PRB_TILE_PATH_MAX bytes) receives its name. */
int prb_log_get_tile(prb_store *st, int level, uint64_t index, unsigned w,
                     char *path, uint8_t **data, size_t *len, unsigned *got,
                     prb_err *err);

/* Reads the first `w` hashes of tile (level, index) of the tree of `size`
 * leaves into h, w (in *width) being that tile's width at that size. */
int prb_log_read_tile(prb_store *st, unsigned level, uint64_t index,
                      uint64_t size, prb_hash *h, unsigned *width,
                      prb_err *err);

/* Reads the bundle holding entry `index` of a tree of `size` leaves;
 * *count is the number of entries the file read holds, path its name. */
int prb_log_read_bundle(prb_store *st, uint64_t index, uint64_t size,
                        uint8_t **data, size_t *len, unsigned *count,
                        char *path, prb_err *err);

/* prb_node_reader over the log's tiles (relative to its latest size);
 * ctx is the prb_log. A read error is kept in log->rerr. */
int prb_log_node_reader(void *ctx, unsigned height, uint64_t index,
                        prb_hash *out);

/* Forgets every cached tile: partial ones change as the log grows. */
void prb_log_cache_drop(prb_log *log);

#endif
