/*
 * Reading a log opened with prb_log_open() (log.h, which includes this
 * header): entries, and roots and proofs computed from its tiles, every
 * one checked against the signed checkpoint before it is returned. The
 * tiles read are cached in the handle; like the handle, not thread-safe.
 */
#ifndef PROBITY_LOG_READ_H
#define PROBITY_LOG_READ_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "merkle.h"

typedef struct prb_log prb_log;

/* Inclusion proof for `index` in the tree of `size` <= prb_log_size().
 * The proof is checked before it is returned: against the entry read from
 * its bundle and the checkpoint's signed root (for an older size, a root
 * computed from the tiles and proven consistent with the signed one), so
 * corrupt tiles give PRB_ECORRUPT, never a wrong proof. */
int prb_log_prove_inclusion(prb_log *log, uint64_t index, uint64_t size,
                            prb_hash *proof, size_t *len, prb_err *err);

/* Consistency proof between sizes m <= n <= prb_log_size(), checked the
 * same way before it is returned. */
int prb_log_prove_consistency(prb_log *log, uint64_t m, uint64_t n,
                              prb_hash *proof, size_t *len, prb_err *err);

/* Root of the tree of `size` <= prb_log_size() leaves: the signed root, or
 * for an older size the root from the tiles, proven consistent with it. */
int prb_log_root_at(prb_log *log, uint64_t size, prb_hash *out, prb_err *err);

/* The entry at `index` (malloc'd copy into *data). */
int prb_log_read_entry(prb_log *log, uint64_t index, uint8_t **data,
                       size_t *len, prb_err *err);

#endif
