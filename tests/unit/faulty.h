/*
 * A fault-injecting store for the unit tests: it wraps another store and
 * fails the at-th call of one operation (before or after passing it on),
 * or every call after die_at calls (a killed process). It has no
 * commit(): the log calls sync() and set_checkpoint() itself. Closing it
 * does not close the store it wraps.
 */
#ifndef PRB_T_FAULTY_H
#define PRB_T_FAULTY_H

#include "probity/store.h"

enum { OP_PUT, OP_SYNC, OP_CKPT, NOPS };

typedef struct {
	prb_store base;
	prb_store *in;
	int op, at, code, after; /* fail the at-th call of op */
	int calls[NOPS];
	int fired;
	long die_at, nops;  /* die_at > 0: every call after that many fails,
	                       as if the process had been killed */
	int fail_tile_reads; /* reads of tiles fail once, transiently */
} faulty;

/* Its operations (to copy and change one), and its close(), which does
 * nothing. */
extern const prb_store_ops faulty_ops;
void faulty_close(prb_store *s);

/* Makes f a wrapper around `in` with no fault armed. */
void faulty_wrap(faulty *f, prb_store *in);

#endif
