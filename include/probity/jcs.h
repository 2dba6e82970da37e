/*
 * RFC 8785 JSON Canonicalization Scheme (JCS) over jansson values.
 *
 * Values must come from a jansson parse with JSON_DECODE_INT_AS_REAL (so
 * every number is an IEEE 754 double, as JCS requires) and
 * JSON_REJECT_DUPLICATES. Thread-safe.
 */
#ifndef PROBITY_JCS_H
#define PROBITY_JCS_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* Containers nested deeper than this are refused (jansson's parser stops
 * at 2048). */
#define PRB_JCS_MAX_DEPTH 4096

/*
 * Writes the canonical form of v into a malloc'd buffer *out (caller frees;
 * not NUL-terminated) of *len bytes: object members sorted by their names'
 * UTF-16 code units, strings escaped as RFC 8785 section 3.2.2.2 says (NUL
 * included, as \u0000), numbers as ECMAScript's Number.prototype.toString
 * (so -0 is written "0"; a json_integer is first rounded to the nearest
 * double). On failure *out is NULL and *len 0: PRB_EMALFORMED for a
 * non-finite number or a string or member name that is not valid UTF-8
 * (lone surrogates included, which a jansson parse never yields),
 * PRB_ETOOBIG for nesting deeper than PRB_JCS_MAX_DEPTH, PRB_EINVAL for a
 * NULL v, PRB_ENOMEM.
 */
int prb_jcs_encode(const json_t *v, char **out, size_t *len, prb_err *err);

/*
 * 1 if the JSON number token tok[0..n) denotes exactly the same decimal
 * value as its JCS serialisation (e.g. "10", "1.5", "1e3", "0.1", "1.50"
 * are exact; "9007199254740993" and "1.00000000000000000001" are not), 0
 * if not, and PRB_EMALFORMED if tok is not a JSON number token (RFC 8259
 * section 6 grammar, nothing around it). The values are compared as
 * decimals, textually, not as doubles. "-0" (and "-0.0e5") counts as
 * exact: JCS writes -0 as "0", and the two are the same decimal value.
 * A nonzero token beyond the doubles' range (overflowing, or so small it
 * reads as 0) is not exact.
 */
int prb_jcs_number_exact(const char *tok, size_t n);

/*
 * Scans the JSON text s[0..n) for number tokens outside strings (skipping
 * strings, escapes included) and checks each with prb_jcs_number_exact.
 * Returns 1 if all are exact, 0 with *bad (if not NULL) set to the first
 * inexact token's byte offset otherwise. The text is assumed already
 * validated by a parser; should a token there not be a number after all,
 * PRB_EMALFORMED is returned with *bad set to it.
 */
int prb_jcs_numbers_exact(const char *s, size_t n, size_t *bad);

#endif
