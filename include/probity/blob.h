/*
 * The content-addressed store of large records, beside the log.
 *
 * A record whose entry would exceed 65,535 bytes is committed by digest:
 * its entry is a stub naming the record's length and SHA-256 (entry.h),
 * and its bytes are kept in the log's store (store.h) as the object
 * blob/sha256/<hex>, hex the SHA-256 in lowercase. A blob is put in the
 * batch of the entry that names it, so the sync before that batch's
 * checkpoint makes it durable with the entry (store.h items 2 and 3).
 * Whoever reads a stub's record checks the blob against the stub, its
 * length and SHA-256 (prb_blob_get): the log's proofs cover the stub, the
 * stub covers the blob.
 * Thread-safe as far as the store handle is (store.h).
 */
#ifndef PROBITY_BLOB_H
#define PROBITY_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

#define PRB_BLOB_NAME_MAX 80 /* "blob/sha256/" + 64 hex + NUL */

/* "blob/sha256/<hex>", the store name of the blob with SHA-256 hex. */
void prb_blob_name(const char *hex, char name[PRB_BLOB_NAME_MAX]);

/* Puts data[0..len), whose SHA-256 is hex (the caller's, of these very
 * bytes), into st as its blob. Not durable until st syncs (store.h). */
int prb_blob_put(prb_store *st, const char *hex, const uint8_t *data,
                 size_t len, prb_err *err);

/* A source of blobs: the bytes (malloc'd, caller frees) of the blob with
 * SHA-256 hex, unchecked, or PRB_ENOTFOUND when it has none. */
typedef int (*prb_blob_get_fn)(void *ctx, const char *hex, uint8_t **data,
                               size_t *len, prb_err *err);

/* The prb_blob_get_fn of a log's store: ctx is the prb_store. */
int prb_blob_from_store(void *st, const char *hex, uint8_t **data,
                        size_t *len, prb_err *err);

/*
 * Fetches the blob with SHA-256 hex through `get` and checks it is the
 * record a stub names: `len` bytes with that SHA-256. *data (malloc'd,
 * caller frees; len bytes) on success. A missing blob, or one of another
 * length or digest: PRB_ECORRUPT with err->where its store name; other
 * errors as `get` returns them.
 */
int prb_blob_get(prb_blob_get_fn get, void *ctx, const char *hex,
                 size_t len, uint8_t **data, prb_err *err);

#endif
