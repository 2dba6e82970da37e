/*
 * The verifiable log: a tlog-tiles tree behind a prb_store, appended in
 * batches, each batch committed by one signed checkpoint.
 *
 * Memory is bounded whatever the log's size: the handle keeps the right
 * edge of the tree (at most 255 hashes per level) and the last partial
 * entry bundle (at most 255 entries); proofs read tiles from the store.
 * A handle is not thread-safe; one writer per log is enforced by the
 * store's lock, taken by prb_log_open when a signer is given.
 */
#ifndef PROBITY_LOG_H
#define PROBITY_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "error.h"
#include "merkle.h"
#include "note.h"
#include "store.h"

typedef struct prb_log prb_log;

/* Creates an empty log in `st` (no checkpoint may exist yet): writes the
 * signed size-0 checkpoint whose origin is the signer's name. */
int prb_log_create(prb_store *st, prb_signer *signer, prb_err *err);

/*
 * Opens the log in `st`. With a signer, the log is opened for appending:
 * the lock is taken (waiting up to lock_wait_ms), the signer's name must be
 * the checkpoint's origin (PRB_EORIGIN) and the checkpoint must verify with
 * its key (PRB_EBADSIG). Without one, read-only; the checkpoint is parsed
 * but its signature not checked. Either way the right edge of the tree is
 * loaded and checked against the checkpoint's root (PRB_ECORRUPT naming the
 * file). This is also crash recovery: whatever was written after the last
 * checkpoint is ignored and later overwritten. The log does not own `st`
 * or `signer`; both must outlive it.
 */
int prb_log_open(prb_store *st, prb_signer *signer, int lock_wait_ms,
                 prb_log **out, prb_err *err);

/* Closes. Accepts NULL. */
void prb_log_close(prb_log *log);

/* Size and root of the latest durable checkpoint (batches in flight are
 * not counted until they are waited for). */
uint64_t prb_log_size(const prb_log *log);
void prb_log_root(const prb_log *log, prb_hash *out);

/* The latest durable signed checkpoint note, valid until the next
 * append, append_wait or close. */
const char *prb_log_checkpoint(const prb_log *log, size_t *len);

/*
 * Makes the current checkpoint durable by writing its bytes again through
 * the store's compare-and-swap (a new file, synced, renamed, the directory
 * synced). For a commit in doubt settled by reopening the log: what the
 * reopened log read may still be only in the page cache when the failure
 * was the directory sync after the checkpoint's rename. 0 only when it is
 * durable; refuses while batches are staged or in flight (PRB_EINVAL).
 */
int prb_log_sync_checkpoint(prb_log *log, prb_err *err);

/*
 * Replaces the durable checkpoint with `note`, which must have the current
 * checkpoint's text and its first signature line (the log's own), followed
 * by other signature lines (cosignatures, which replace any the current
 * one carries), as a compare-and-swap of the store's checkpoint (store
 * contract item 4). The tree does not change. PRB_EINVAL if batches are
 * staged or in flight, if `note` is not of that form, or if it is not a
 * well-formed note; PRB_ECONFLICT if the stored checkpoint changed
 * underneath; an I/O error as for a commit (PRB_EINDOUBT included: reopen).
 */
int prb_log_publish(prb_log *log, const char *note, size_t len,
                    prb_err *err);

/* The store the log was opened on (for content beside the tree, such as
 * the blobs of large records). */
prb_store *prb_log_store(prb_log *log);

/*
 * Appends n entries as one batch and returns only when every entry, every
 * tile and bundle it changes, and the new signed checkpoint are durable
 * (store contract items 3 and 4). On failure nothing of the batch is
 * committed (the log keeps its previous checkpoint), except PRB_EINDOUBT:
 * writing the new checkpoint itself failed midway and only reopening the
 * log tells whether the batch is in. After an I/O failure the handle
 * refuses further appends (PRB_EFAILED): reopen to recover. Entries longer than PRB_MAX_ENTRY: PRB_ETOOBIG, nothing written
 * (err->offset = the entry's position in the batch).
 */
int prb_log_append(prb_log *log, const uint8_t *const *entries,
                   const size_t *lens, size_t n, prb_err *err);

/*
 * Pipelined appends (group commit that overlaps batches): while one batch
 * is being made durable, the next is hashed and written.
 *
 * prb_log_append_start() does what prb_log_append does up to the commit:
 * checks, hashes, hands every tile and bundle to the store, signs the new
 * checkpoint and starts its commit; it returns once the batch is staged,
 * not durable, and the entries' memory may then be reused. At most two
 * batches may be in flight (started, not yet waited for); a third start
 * is refused with PRB_EINVAL. Its errors are prb_log_append's except the
 * commit's own: PRB_ETOOBIG (nothing staged, the handle still usable) or
 * an I/O error (this batch is not committed and the handle refuses
 * further starts with PRB_EFAILED; batches already in flight may still
 * commit: wait for them).
 *
 * prb_log_append_stage() hashes and hands to the store entries of the
 * next batch without starting its commit, so a batch can be fed in
 * pieces from a small buffer; prb_log_append_start() then commits
 * everything staged plus its own entries (n may be 0) as one batch. A
 * staging I/O error fails the whole batch as for prb_log_append_start.
 *
 * prb_log_append_wait() waits for the oldest batch in flight and returns
 * its result: 0 when it is durable, with the log's new size in *size
 * (optional; prb_log_size() now returns it too); PRB_EINDOUBT as for
 * prb_log_append; any other error when it is not committed. Once a batch
 * has failed, every batch started after it fails too (PRB_EFAILED, "not
 * committed"), since its checkpoint would cover the failed one; what the
 * failed batches wrote is removed. Results come in the order the batches
 * were started. PRB_EINVAL if none is in flight.
 *
 * prb_log_append() is start then wait, and refuses (PRB_EINVAL) while
 * batches are staged or in flight; so do the proof functions
 * (prb_log_read_entry reads the durable log meanwhile). prb_log_close()
 * waits for the batches in flight, dropping their results, and drops
 * staged entries.
 */
int prb_log_append_stage(prb_log *log, const uint8_t *const *entries,
                         const size_t *lens, size_t n, prb_err *err);
int prb_log_append_start(prb_log *log, const uint8_t *const *entries,
                         const size_t *lens, size_t n, prb_err *err);
int prb_log_append_wait(prb_log *log, uint64_t *size, prb_err *err);

/* Inclusion proof for `index` in the tree of `size` <= prb_log_size().
 * The proof is checked before it is returned: against the entry read from
 * its bundle and the checkpoint's signed root (for an older size, a root
 * computed from the tiles and proven consistent with the signed one), so
 * corrupt tiles give PRB_ECORRUPT, never a wrong proof. */
int prb_log_prove_inclusion(prb_log *log, uint64_t index, uint64_t size,
                            prb_hash *proof, size_t *len, prb_err *err);

/* Consistency proof between sizes m <= n <= prb_log_size(), checked the
 * same way before it is returned. */
int prb_log_prove_consistency(prb_log *log, uint64_t m, uint64_t n,
                              prb_hash *proof, size_t *len, prb_err *err);

/* Root of the tree of `size` <= prb_log_size() leaves: the signed root, or
 * for an older size the root from the tiles, proven consistent with it. */
int prb_log_root_at(prb_log *log, uint64_t size, prb_hash *out, prb_err *err);

/* The entry at `index` (malloc'd copy into *data). */
int prb_log_read_entry(prb_log *log, uint64_t index, uint8_t **data,
                       size_t *len, prb_err *err);

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
