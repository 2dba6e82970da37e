/*
 * SHA-256 (FIPS 180-4), the one hash probity computes: Merkle leaves and
 * nodes, entry and blob digests, key IDs, policy and token digests. It is
 * OpenSSL's (which uses the CPU's SHA extensions), behind one API so that
 * no other file calls libcrypto for it.
 *
 * Every function is thread-safe. The one-shot ones use one digest context
 * per thread, made on the thread's first call and freed when it exits, so
 * a hash costs no allocation or algorithm lookup: they are what hot paths
 * (the Merkle tree) use. They cannot fail; they abort only if libcrypto
 * itself is broken (no SHA-256, or no memory for a thread's one context),
 * which no caller could recover from.
 */
#ifndef PROBITY_SHA256_H
#define PROBITY_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PRB_SHA256_SIZE 32
#define PRB_SHA256_HEX_SIZE (2 * PRB_SHA256_SIZE + 1) /* with the NUL */

/* SHA-256 of data[0..len). */
void prb_sha256(const void *data, size_t len, uint8_t out[PRB_SHA256_SIZE]);

/* SHA-256 of a[0..alen) || b[0..blen), without copying them together
 * (a prefix byte before an entry, say). Either may be empty. */
void prb_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                  uint8_t out[PRB_SHA256_SIZE]);

/* SHA-256 of data as 64 lowercase hex digits and a NUL. */
void prb_sha256_hex(const void *data, size_t len,
                    char out[PRB_SHA256_HEX_SIZE]);

/*
 * Incremental hashing, for input that arrives in pieces (a stream being
 * decompressed): new, update any number of times, final, free. The
 * context is the caller's: prb_sha256_new() returns NULL when out of
 * memory; prb_sha256_free() accepts NULL. After prb_sha256_final() the
 * context starts a new, empty hash. Not thread-safe: one context per
 * thread at a time.
 */
typedef struct prb_sha256_ctx prb_sha256_ctx;

prb_sha256_ctx *prb_sha256_new(void);
void prb_sha256_update(prb_sha256_ctx *c, const void *data, size_t len);
void prb_sha256_final(prb_sha256_ctx *c, uint8_t out[PRB_SHA256_SIZE]);
void prb_sha256_free(prb_sha256_ctx *c);

#endif
