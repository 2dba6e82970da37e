/*
 * c2sp.org/tlog-proof@v1 inclusion proof files, and consistency proofs as
 * base64 lines (one hash per line, the body form of c2sp.org/tlog-witness).
 */
#ifndef PROBITY_PROOF_H
#define PROBITY_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "error.h"
#include "merkle.h"
#include "note.h"

#define PRB_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"

typedef struct {
	uint64_t index;
	prb_hash path[PRB_MAX_PROOF];
	size_t path_len;
	uint8_t *extra; /* decoded extra data, NULL when absent */
	size_t extra_len;
	char *checkpoint; /* the signed checkpoint note, verbatim */
	size_t checkpoint_len;
} prb_tlog_proof;

/* Parses a tlog-proof. *out is freed with prb_tlog_proof_free.
 * PRB_EMALFORMED with err->offset = line number on any defect. */
int prb_tlog_proof_parse(const uint8_t *text, size_t len,
                         prb_tlog_proof **out, prb_err *err);
void prb_tlog_proof_free(prb_tlog_proof *p);

/* Formats a tlog-proof into a malloc'd NUL-terminated *out. extra may be
 * NULL. `checkpoint` is the signed note, copied verbatim. */
int prb_tlog_proof_format(uint64_t index, const prb_hash *path, size_t len,
                          const uint8_t *extra, size_t extra_len,
                          const char *checkpoint, size_t checkpoint_len,
                          char **out, size_t *outlen);

/* Verifies a parsed proof for `entry`: the checkpoint must be signed by
 * vs[0] (the log key; its name is the required origin; vs[1..] are further
 * known keys, e.g. witnesses) and the inclusion path must lead from the
 * entry's leaf hash to the checkpoint's root. *cp_out (optional) receives
 * the checkpoint. PRB_EPROOF, PRB_EBADSIG, PRB_ENOSIG, PRB_EORIGIN, ... */
int prb_tlog_proof_verify(const prb_tlog_proof *p, const uint8_t *entry,
                          size_t entry_len, const prb_verifier *vs, size_t nvs,
                          prb_checkpoint *cp_out, prb_err *err);

/* Consistency proofs as text: one base64 hash per line. */
int prb_proof_lines_format(const prb_hash *proof, size_t len, char **out,
                           size_t *outlen);
int prb_proof_lines_parse(const uint8_t *text, size_t len, prb_hash *proof,
                          size_t *n, prb_err *err);

#endif
