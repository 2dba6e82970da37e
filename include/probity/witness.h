/*
 * A c2sp.org/tlog-witness witness (the add-checkpoint call, answered with
 * c2sp.org/tlog-cosignature cosignature/v1 signatures) and the client a
 * log uses to ask a witness for a cosignature.
 *
 * The witness side is a pure function from a request body to a response
 * (status, content type, body), over a durable per-origin state kept in a
 * SQLite database: it knows nothing of HTTP, so tests and fuzzers drive it
 * directly and `probity witness` only puts it behind a server. The rules
 * it applies, in order, with the status each gets, are listed at the top
 * of src/net/witness.c.
 */
#ifndef PROBITY_WITNESS_H
#define PROBITY_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "httpc.h"
#include "merkle.h"
#include "note.h"

/* The client MUST NOT send more than 63 consistency proof lines. */
#define PRB_WITNESS_MAX_PROOF 63
/* Largest request body accepted: a note of PRB_NOTE_MAX_SIZE and room for
 * the old size line and 63 proof lines. Larger: 413. */
#define PRB_WITNESS_MAX_BODY (PRB_NOTE_MAX_SIZE + 4096)
/* At most this many log keys per origin. */
#define PRB_WITNESS_MAX_KEYS 16
/* The content type of a 409 response body. */
#define PRB_WITNESS_SIZE_CTYPE "text/x.tlog.size"

/* One trusted (origin, log key) pair. An origin may appear with several
 * keys; a checkpoint needs a valid signature from one of them. The key's
 * name need not equal the origin (the configuration binds them: e.g. Go's
 * checksum database signs origin "go.sum database tree" with a key named
 * sum.golang.org). The key must be an Ed25519 note key (type 0x01). */
typedef struct {
	const char *origin;
	prb_verifier key;
} prb_witness_log;

typedef struct prb_witness prb_witness;

/*
 * Opens the witness state database at `state_path` (created if missing;
 * ":memory:" gives a state that lives as long as the handle, for tests and
 * fuzzing), cosigning with `key` for the configured logs. `key` is borrowed
 * and must outlive the handle; `logs` is copied. PRB_EINVAL for a bad
 * configuration (no logs, an empty or over-long origin, a key that is not
 * type 0x01, two keys of one origin sharing name and key ID), PRB_EIO /
 * PRB_ECORRUPT for the database. Free with prb_witness_close.
 *
 * A handle may be used by any number of threads at once; several
 * processes may share one state file (each check-and-update runs in one
 * SQLite BEGIN IMMEDIATE transaction, so for each origin the stored size
 * never goes backwards and two requests from the same old size never both
 * succeed).
 */
int prb_witness_open(const char *state_path, const prb_cosigner *key,
                     const prb_witness_log *logs, size_t nlogs,
                     prb_witness **out, prb_err *err);

/* Closes the database and frees. Accepts NULL. */
void prb_witness_close(prb_witness *w);

/* A response: status code, content type (a static string) and a malloc'd
 * body of len bytes (NUL-terminated, not counted). */
typedef struct {
	unsigned status;
	const char *content_type;
	char *body;
	size_t len;
} prb_witness_resp;

/* Frees resp->body and clears resp. Accepts an already cleared resp. */
void prb_witness_resp_free(prb_witness_resp *resp);

/*
 * Processes one add-checkpoint request body (the bytes POSTed to
 * <prefix>/add-checkpoint) and fills *resp (always; free it with
 * prb_witness_resp_free). `now` is the cosignature timestamp in POSIX
 * seconds (0: the current time). Returns resp->status:
 *   200  body = the cosignature line(s), each ending in '\n'
 *   400  malformed body, or old size above the checkpoint size
 *   403  no valid signature by a key trusted for the origin, or an
 *        invalid one by such a key
 *   404  unknown origin
 *   409  old size is not the stored size; body = "<stored size>\n",
 *        content type text/x.tlog.size
 *   413  body over PRB_WITNESS_MAX_BODY
 *   422  proof or root hash inconsistent with the stored checkpoint
 *   500  the state could not be read or written (nothing was cosigned)
 * Error bodies are one line of text/plain explaining why.
 */
unsigned prb_witness_add(prb_witness *w, const uint8_t *body, size_t len,
                         uint64_t now, prb_witness_resp *resp);

/* The latest cosigned checkpoint for the origin whose SHA-256 is `hex`
 * (64 lowercase hex digits), as c2sp.org/tlog-witness's monitoring
 * GET <prefix>/<origin hash>/checkpoint serves it: the checkpoint text,
 * the log signatures the witness verified and its own cosignature.
 * Fills *resp: 200 (text/plain) or 404 (unknown origin or never cosigned),
 * 500 on a database failure. Returns resp->status. */
unsigned prb_witness_checkpoint(prb_witness *w, const char *hex,
                                prb_witness_resp *resp);

/* The stored state of `origin`: the size and root hash of the latest
 * cosigned checkpoint. PRB_ENOTFOUND if the witness never cosigned one. */
int prb_witness_state(prb_witness *w, const char *origin, uint64_t *size,
                      prb_hash *root, prb_err *err);

/* Test hook: called inside the check-and-update transaction, after the
 * stored state was read and before it is written (e.g. to hold the
 * transaction open while a racing request arrives). NULL removes it. */
void prb_witness_set_hook(prb_witness *w, void (*fn)(void *ctx),
                          void *ctx);

/* A parsed add-checkpoint request body. `note` points into the body. */
typedef struct {
	uint64_t old_size;
	prb_hash proof[PRB_WITNESS_MAX_PROOF];
	size_t proof_len;
	const uint8_t *note; /* the signed checkpoint note, to the body's end */
	size_t note_len;
} prb_witness_req;

/* Parses the framing of a request body: "old <size>\n", 0..63 base64
 * hash lines, an empty line, the rest (the note, not checked here).
 * PRB_EMALFORMED with err->offset = the 1-based line number. */
int prb_witness_parse_request(const uint8_t *body, size_t len,
                              prb_witness_req *req, prb_err *err);

/* Formats a request body into a malloc'd *out of *outlen bytes. */
int prb_witness_format_request(uint64_t old_size, const prb_hash *proof,
                               size_t proof_len, const uint8_t *note,
                               size_t note_len, uint8_t **out,
                               size_t *outlen);

/*
 * The log side: POSTs the signed checkpoint `note` with `old_size` and the
 * consistency proof from old_size to the checkpoint's size to
 * <base_url>/add-checkpoint (a trailing '/' of base_url is ignored), and
 * checks the answer.
 *
 *   200  a cosignature line by `witness` (a PRB_SIG_COSIGV1 verifier) must
 *        verify over the note's text with a non-zero timestamp; it is
 *        returned in *cosig_line (malloc'd, "— name base64", no '\n'; the
 *        caller frees) and 0 is returned. Lines by other keys are ignored.
 *        PRB_ENOSIG if no line is by `witness`, PRB_EBADSIG if one is but
 *        does not verify, PRB_EMALFORMED if the body is not signature lines.
 *   409  PRB_ECONFLICT with *witness_size = the witness's stored size (from
 *        the text/x.tlog.size body), so the caller can retry with that old
 *        size and a proof from it. A 409 without a valid size body is
 *        PRB_EMALFORMED.
 *   other statuses: 400 PRB_EMALFORMED, 403 PRB_EBADSIG, 404 PRB_ENOTFOUND,
 *        422 PRB_EPROOF, anything else PRB_EIO; err names the URL, the
 *        status and the first line of the body.
 * Transport failures are the prb_http_post errors. `witness_size` may be
 * NULL. Not thread-safe for one prb_http (see httpc.h).
 */
int prb_witness_add_checkpoint(prb_http *h, const char *base_url,
                               const uint8_t *note, size_t note_len,
                               uint64_t old_size, const prb_hash *proof,
                               size_t proof_len, const prb_verifier *witness,
                               char **cosig_line, uint64_t *witness_size,
                               prb_err *err);

#endif
