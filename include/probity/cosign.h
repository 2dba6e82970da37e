/*
 * The log side of witnessing: each new checkpoint is sent to the log's
 * witnesses (c2sp.org/tlog-witness add-checkpoint) with a consistency
 * proof from the size each witness last cosigned, and the cosignatures
 * that come back are collected, checked and appended to the checkpoint.
 *
 * A witness's last size is learnt from the protocol itself: the first
 * request assumes 0, and a 409 answer carries the witness's size, after
 * which the request is retried once with a proof from that size. A witness
 * that fails (down, timing out, answering garbage or refusing) is reported
 * and then skipped for a back-off period (doubling from 1 s up to 60 s), so
 * one dead witness does not slow every checkpoint down.
 * Not thread-safe: one caller at a time.
 */
#ifndef PROBITY_COSIGN_H
#define PROBITY_COSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "merkle.h"
#include "note.h"

typedef struct {
	char url[512];     /* witness base URL ("/add-checkpoint" is added) */
	prb_verifier vkey; /* its cosignature/v1 key */
} prb_cosign_witness;

typedef struct prb_cosign prb_cosign;

/* Writes the consistency proof between tree sizes m <= n into proof (at
 * most 63 hashes), its length in *len. */
typedef int (*prb_cosign_prove_fn)(void *ctx, uint64_t m, uint64_t n,
                                   prb_hash *proof, size_t *len,
                                   prb_err *err);

/* Parses "URL=VKEY" (the --witness argument form), split at the first
 * '=': the URL (http:// or https://) may not contain one. */
int prb_cosign_witness_parse(const char *arg, prb_cosign_witness *out,
                             prb_err *err);

/* quorum: how many cosignatures a checkpoint needs (1..n). timeout_ms
 * bounds each request. `ws` is copied. */
int prb_cosign_new(const prb_cosign_witness *ws, size_t n, size_t quorum,
                   long timeout_ms, prb_cosign **out, prb_err *err);
void prb_cosign_free(prb_cosign *c);

/*
 * Asks every witness not backing off to cosign the signed checkpoint
 * `note` of tree size `size` (its text and first signature line, the
 * log's own: cosignatures it carries already are dropped). Returns 0 when
 * at least quorum cosigned, with *out (malloc'd, NUL-terminated) = that
 * note followed by the new cosignature lines; PRB_ENOSIG when fewer did (*out NULL). *ncosigs (optional) is how
 * many cosigned either way. Each witness that failed is described in
 * err->msg ("URL: why; ..."), also on success.
 */
int prb_cosign_collect(prb_cosign *c, const char *note, size_t len,
                       uint64_t size, prb_cosign_prove_fn prove, void *pctx,
                       char **out, size_t *outlen, size_t *ncosigs,
                       prb_err *err);

/* How many of the configured witnesses have a valid cosignature on
 * `note`, which must also verify with the log's key `logkey` (else 0). */
size_t prb_cosign_count(const prb_cosign *c, const char *note, size_t len,
                        const prb_verifier *logkey);

#endif
