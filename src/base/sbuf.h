/*
 * A growing text buffer for output built in pieces (a report page, the
 * metrics text). Internal to the library.
 *
 * Start from a zeroed prb_sbuf; p is NUL-terminated once anything was
 * added and is the caller's to free. Running out of memory sets oom and
 * makes every later call do nothing: check oom once at the end.
 */
#ifndef PRB_BASE_SBUF_H
#define PRB_BASE_SBUF_H

#include <stddef.h>

typedef struct {
	char *p;
	size_t len, cap;
	int oom;
} prb_sbuf;

/* Appends s[0..n). */
void prb_sbuf_put(prb_sbuf *b, const char *s, size_t n);
/* Appends the string s. */
void prb_sbuf_str(prb_sbuf *b, const char *s);
/* Appends printf output, whatever its length. */
void prb_sbuf_printf(prb_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#endif
