/*
 * c2sp.org/tlog-checkpoint note texts:
 *   <origin>\n<decimal size, no leading zeros>\n<base64 root>\n[extensions\n]
 */
#ifndef PROBITY_CHECKPOINT_H
#define PROBITY_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "merkle.h"
#include "note.h"

#define PRB_CHECKPOINT_MAX 4096 /* longest checkpoint text we format */

typedef struct {
	char origin[PRB_NAME_MAX + 1];
	uint64_t size;
	prb_hash root;
	size_t n_extensions; /* extension lines present (not interpreted) */
} prb_checkpoint;

/* Parses a checkpoint note *text* (not the signed note). Sizes above
 * 2^63 - 1 and origins longer than PRB_NAME_MAX are rejected.
 * PRB_EMALFORMED with err->offset = line number (1-based). */
int prb_checkpoint_parse(const char *text, size_t len, prb_checkpoint *out,
                         prb_err *err);

/* Parses the checkpoint in the signed note note[0..len) without checking
 * any signature (for reading what a checkpoint claims before deciding
 * whose key to check it with). Errors as for prb_note_parse and
 * prb_checkpoint_parse. */
int prb_checkpoint_peek(const uint8_t *note, size_t len, prb_checkpoint *out,
                        prb_err *err);

/* Formats the three mandatory lines (no extensions) into buf; returns the
 * length, or PRB_EINVAL if it does not fit. */
int prb_checkpoint_format(const prb_checkpoint *cp, char *buf, size_t cap);

/* Opens a signed checkpoint: prb_note_open with the given verifiers, then
 * parses the text, and requires the origin to equal the name of the first
 * verifier (the log's key). *note_out (optional) receives the opened note. */
int prb_checkpoint_open(const uint8_t *msg, size_t len,
                        const prb_verifier *vs, size_t nvs,
                        prb_checkpoint *out, prb_note **note_out,
                        prb_err *err);

#endif
