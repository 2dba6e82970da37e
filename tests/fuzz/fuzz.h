/*
 * Shared by the fuzz harnesses: invariant checks that abort (so libFuzzer
 * or the corpus replay reports a crash) and parsing of a harness's fixed
 * verifier keys.
 */
#ifndef PRB_FUZZ_H
#define PRB_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/note.h"

static void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
	abort();
}
#define check(c) ((c) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #c))

/* Parses vkeys[0..n) into vs once; a constant key that fails is a bug in
 * the harness. */
static inline void
fuzz_verifiers(const char *const *vkeys, size_t n, prb_verifier *vs)
{
	static int done;
	if (done)
		return;
	for (size_t i = 0; i < n; i++)
		check(prb_verifier_parse(vkeys[i], strlen(vkeys[i]), &vs[i],
		                         NULL) == 0);
	done = 1;
}

#endif
