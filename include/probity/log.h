/*
 * The verifiable log: a tlog-tiles tree behind a prb_store, appended in
 * batches, each batch committed by one signed checkpoint.
 *
 * Memory is bounded whatever the log's size: the handle keeps the right
 * edge of the tree (at most 255 hashes per level) and the last partial
 * entry bundle (at most 255 entries); proofs read tiles from the store.
 * A handle is not thread-safe; one writer per log is enforced by the
 * store's lock, taken by prb_log_open when a signer is given.
 *
 * This header opens, creates and appends (src/log/log_append.c); it
 * includes log_read.h (entries, roots and proofs) and log_verify.h
 * (verification, whole or incremental), so one include gives the log.
 */
#ifndef PROBITY_LOG_H
#define PROBITY_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "error.h"
#include "merkle.h"
#include "log_read.h"
#include "log_verify.h"
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

/* The root of the tree of every entry staged or in flight (after
 * prb_log_append_start: the tree of the batch just started), so a caller
 * can tell its batch from another writer's tree of the same size. */
void prb_log_staged_root(const prb_log *log, prb_hash *out);

#endif
