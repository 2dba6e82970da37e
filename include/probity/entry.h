/*
 * Log entries made from cloud audit records, and back.
 *
 * A record's entry is its RFC 8785 (JCS) canonical form, so anyone holding
 * the provider's export can re-derive the exact leaf. Two exceptions, both
 * loud (the index marks them), never a silent change:
 *  - A record holding a number JCS cannot carry exactly (an integer beyond
 *    2^53 that is not a double, a decimal with more digits than a double
 *    holds) is committed as its exact source text instead: the bytes of the
 *    record as they stand in the export file (canonical = 0).
 *  - A record whose entry would exceed 65,535 bytes is committed by digest:
 *    the entry is the stub {"length":N,"sha256":"<hex>","type":PRB_BLOB_TYPE}
 *    in JCS form followed by a newline (so that no line appended by
 *    `probity add` can pose as one), and its bytes (the JCS form, or the
 *    source text as above) go to the content-addressed store (blob.h).
 * Thread-safe.
 */
#ifndef PROBITY_ENTRY_H
#define PROBITY_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "blob.h"
#include "error.h"
#include "sha256.h" /* prb_sha256_hex, for the blob digests */

#define PRB_BLOB_TYPE "probity.dev/blob/v1"

/* jansson decoding flags for records: every number a double (as JCS has
 * it), duplicate keys refused (I-JSON), NUL in strings allowed. */
#define PRB_JSON_FLAGS \
	(JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

typedef struct {
	uint8_t *bytes;     /* the log entry (malloc'd) */
	size_t len;
	int canonical;      /* 1: JCS form; 0: exact source text */
	uint8_t *blob;      /* the record's bytes when the entry is a stub
	                       (malloc'd), else NULL */
	size_t blob_len;
	char blob_hex[65];  /* SHA-256 hex of blob, "" when none */
} prb_entry;

/* Makes the entry for record `rec` whose source text is src[0..srclen).
 * PRB_EMALFORMED (a string JCS refuses), PRB_ENOMEM. On failure *out holds
 * nothing to free. */
int prb_entry_from_record(const json_t *rec, const char *src, size_t srclen,
                          prb_entry *out, prb_err *err);
void prb_entry_free(prb_entry *e);

/* 1 when entry[0..len) is the stub of a large record, with *blob_len and
 * blob_hex (the SHA-256 hex) of the record it stands for; else 0. */
int prb_entry_stub(const uint8_t *entry, size_t len, char blob_hex[65],
                   size_t *blob_len);

/*
 * The record an entry holds. *rec is NULL (and 0 returned) when the entry
 * is not a JSON object (a plain line appended by `probity add`). For a
 * stub, the blob is fetched with `get` and checked by prb_blob_get
 * (PRB_ECORRUPT naming the blob when it is missing or not the stub's; or
 * not a JSON object). *canonical and blob_hex are as in prb_entry. Caller
 * json_decref()s *rec.
 */
int prb_entry_record(const uint8_t *entry, size_t len, prb_blob_get_fn get,
                     void *ctx, json_t **rec, int *canonical,
                     char blob_hex[65], prb_err *err);

#endif
