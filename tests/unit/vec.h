/*
 * Helpers shared by the unit tests: whole files, JSON vectors, strict hex
 * and base64, and a reference SHA-256 Merkle hasher that does not go
 * through the code under test. None of them record checks: they return an
 * error and the test decides what it means. Not thread-safe (none of the
 * tests are threaded).
 */
#ifndef PRB_TEST_VEC_H
#define PRB_TEST_VEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "probity/merkle.h"

/* The whole file in a malloc'd buffer with a NUL after the last byte (so a
 * text file is also a C string); *len excludes the NUL. NULL on failure. */
uint8_t *vec_read_file(const char *path, size_t *len);

/* Parses a JSON file. flags are jansson decoding flags (e.g.
 * JSON_DECODE_INT_AS_REAL for files holding integers beyond int64).
 * Prints the reason and returns NULL on failure; json_decref the result. */
json_t *vec_load_json(const char *path, size_t flags);

/* The string member `key` of `obj`, or "" when absent or not a string. */
const char *vec_str(const json_t *obj, const char *key);

/* The non-negative integer member `key` of `obj`, or UINT64_MAX. */
uint64_t vec_u64(const json_t *obj, const char *key);

/* Finds `"key":` in raw JSON text and parses the decimal that follows as a
 * uint64 (jansson stops at int64). 0 or -1. */
int vec_raw_u64(const char *json_text, const char *key, uint64_t *out);

/* Lowercase or uppercase hex into out[0..*len). 0, or -1 when the input is
 * not hex, has odd length or does not fit in cap bytes. */
int vec_hex(const char *s, uint8_t *out, size_t cap, size_t *len);

/* Exactly 64 hex digits into a hash: 0 or -1. */
int vec_hex_hash(const char *s, prb_hash *out);

/* Standard base64 with padding (RFC 4648 section 4), strictly: length a
 * multiple of 4, '=' only as the last one or two characters, no spaces.
 * 0 and the decoded length, or -1 (also when it exceeds cap). */
int vec_b64(const char *s, uint8_t *out, size_t cap, size_t *len);

/* As vec_b64, into a malloc'd buffer (at least one byte, so an empty
 * decoding is not NULL). NULL when invalid. */
uint8_t *vec_b64_alloc(const char *s, size_t *len);

/* Base64 of exactly 32 bytes into a hash: 0 or -1. */
int vec_b64_hash(const char *s, prb_hash *out);

/* Base64 of in[0..len) into out, NUL-terminated; out must hold
 * 4 * ((len + 2) / 3) + 1 bytes. */
void vec_b64_encode(const uint8_t *in, size_t len, char *out);

/* Reference RFC 6962 hashing with OpenSSL's SHA-256 directly. */
void vec_ref_leaf(const uint8_t *entry, size_t len, prb_hash *out);
void vec_ref_node(const prb_hash *l, const prb_hash *r, prb_hash *out);

#endif
