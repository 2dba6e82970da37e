/*
 * Verifying a log with no trust in its files, whole (prb_log_verify) or
 * from the right edge of a tree verified before (prb_log_verify_extend,
 * for a monitor). Only a prb_store is needed, not a prb_log handle;
 * log.h includes this header.
 */
#ifndef PROBITY_LOG_VERIFY_H
#define PROBITY_LOG_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "merkle.h"
#include "note.h"
#include "store.h"

/* Progress callback for long operations: done of total units. */
typedef void (*prb_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Verifies a whole log with no trust in its files: the checkpoint must be
 * signed by `vkey` with origin = its name; every entry bundle is parsed,
 * every entry hashed, every hash tile (full and the partial ones of the
 * checkpoint's size) recomputed and compared, and the root recomputed.
 * Stops at the first discrepancy: err->where is the file, err->offset the
 * hash or byte position, err->msg says expected vs found.
 * *size_out (optional) receives the verified size.
 */
int prb_log_verify(prb_store *st, const prb_verifier *vkey,
                   prb_progress_fn progress, void *pctx, uint64_t *size_out,
                   prb_err *err);

/*
 * Incremental verification, for a monitor following a log it does not
 * hold: the right edge of a verified tree (per level, the hashes of its
 * partial tile: O(log n), at most 255 hashes per level) is extended with
 * the entries a store serves.
 *
 * prb_log_edge_new() makes the edge of the empty tree; free with
 * prb_log_edge_free() (accepts NULL). An edge is a plain value: not
 * thread-safe, copied with prb_log_edge_copy().
 */
typedef struct prb_log_edge prb_log_edge;

int prb_log_edge_new(prb_log_edge **out, prb_err *err);
void prb_log_edge_free(prb_log_edge *e);
void prb_log_edge_copy(prb_log_edge *dst, const prb_log_edge *src);
uint64_t prb_log_edge_size(const prb_log_edge *e);
/* Root of the tree the edge describes (the empty root for size 0). */
void prb_log_edge_root(const prb_log_edge *e, prb_hash *out);

/* Longest encoding: the size and 255 hashes on each of 8 levels. */
#define PRB_LOG_EDGE_MAX (8 + 8 * 255 * 32)
/* Encodes as big-endian uint64 size || the partial tiles' hashes, level
 * 0 first. Returns the length, or 0 if cap is too small. */
size_t prb_log_edge_encode(const prb_log_edge *e, uint8_t *buf, size_t cap);
/* Decodes that encoding into e (whose widths the size fixes); PRB_EMALFORMED
 * on any other length. */
int prb_log_edge_decode(const uint8_t *buf, size_t len, prb_log_edge *e,
                        prb_err *err);

/*
 * Extends `e` from its size to `size` with the entries of `st`, checking
 * as prb_log_verify does: the bundles from the one holding entry
 * prb_log_edge_size(e) on are read (a partial bundle that is gone is read
 * as the full one) and every new entry hashed; entries of that first
 * bundle the edge already holds must hash as before; every hash tile that
 * becomes full, and the partial tiles of `size` at every level, are read
 * and compared with the recomputed hashes. The checkpoint is not read:
 * the caller compares prb_log_edge_root() with the root it trusts.
 * Only the store's get() is used (list() too, for partial tiles of
 * earlier sizes, where the store can list). On success e is the edge of
 * `size`; on failure e is unchanged. PRB_ECORRUPT at the first
 * discrepancy (err->where the object, err->offset the entry or hash
 * position, err->msg expected vs found); PRB_EIO or PRB_ENOMEM from
 * the store pass through unchanged.
 */
int prb_log_verify_extend(prb_store *st, prb_log_edge *e, uint64_t size,
                          prb_progress_fn progress, void *pctx,
                          prb_err *err);

#endif
