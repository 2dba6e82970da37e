/*
 * Private to src/ingest/: what the format adapters (cloudtrail.c, azure.c,
 * gcp.c, k8s.c) are built from. fx.c holds the helpers; formats.c, which
 * recognises a record's format, drives the adapters through their table
 * (adapters.h). The adapters depend on this header alone.
 *
 * Each format has a matcher and a filler. The matcher finds the event
 * object (the record itself, or the event inside a managed service's
 * wrapper) and counts which of the format's required fields it carries; the
 * filler copies the event's fields into a prb_event through the fx_set*
 * helpers, which keep the first value set for a field, so a chain of calls
 * reads as "this, else that".
 */
#ifndef PRB_INGEST_FX_H
#define PRB_INGEST_FX_H

#include <stddef.h>

#include <jansson.h>

#include "probity/ingest.h"

/* Parse flags for every JSON text of a record, including JSON found inside
 * a string (Azure's requestbody, an AKS or EKS wrapped event). */
#define FX_JSON_FLAGS \
	(JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* The result of a matcher. */
typedef struct {
	const json_t *core; /* the event object: the record or inside it */
	const json_t *wrap; /* the wrapper around core, or NULL */
	json_t *owned;      /* core when parsed from a string of the wrapper */
	int shape;          /* the format's own variant (e.g. Azure schemas) */
	int present;        /* required fields found (higher: closer fit) */
	int needed;         /* required fields in all */
	char missing[256];  /* what is absent, "eventTime, eventID" */
} fx_match;

/* The event being filled and the first failure. */
typedef struct {
	prb_event *ev;
	prb_err *err;
	int rc; /* 0, PRB_ENOMEM or PRB_EMALFORMED */
} fx_out;

/* One format: its name and the field names that feed ev->event_id,
 * ev->time and ev->operation (for the error when one is unusable). */
typedef struct {
	prb_format format;
	const char *name;
	const char *id_from, *time_from, *op_from;
	/* Fills *m; returns 1 when the record is complete for the format. */
	int (*match)(const json_t *rec, fx_match *m);
	void (*fill)(const fx_match *m, fx_out *o);
} fx_format;

/* ---- reading a record ------------------------------------------------ */

/* The member at a dotted path ("a.b.c"; keys must not contain '.'), or
 * NULL. */
const json_t *fx_at(const json_t *obj, const char *path);
/* The string at path if it is a non-empty string, else NULL. */
const char *fx_str(const json_t *obj, const char *path);
/* 1 if json_t v is a string equal to s. */
int fx_is(const json_t *v, const char *s);
/* Parses a JSON text held in a string (e.g. Azure's requestbody) with
 * FX_JSON_FLAGS; NULL when v is not a string or not JSON. Caller decrefs. */
json_t *fx_parse_string(const json_t *v);

/* Counts the groups of required fields obj carries and names the others
 * in m->missing. A group is one field name or alternatives "a|b"; a field
 * counts when present and neither null nor "". */
void fx_require(const json_t *obj, const char *const *groups, size_t n,
                fx_match *m);
/* Appends a description of something missing to m->missing. */
void fx_missing(fx_match *m, const char *what);

/* ---- filling an event ------------------------------------------------ */

/* Sets *dst (unless already set) to a copy of the string v; a non-string,
 * NULL or "" v leaves it unset. A string holding U+0000 is an error (the
 * field would be cut short). */
void fx_set(fx_out *o, char **dst, const json_t *v);
/* As fx_set with the first of several paths under obj that holds a
 * non-empty string (paths as fx_at; NULL-terminated). */
void fx_set_first(fx_out *o, char **dst, const json_t *obj, ...);
/* Sets *dst to a copy of s[0..n) (n > 0). */
void fx_setn(fx_out *o, char **dst, const char *s, size_t n);
/* Sets *dst to printf-formatted text. */
void fx_setf(fx_out *o, char **dst, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
/* Sets *dst to the number v as text ("201", "1.5"); non-numbers ignored. */
void fx_set_number(fx_out *o, char **dst, const json_t *v);
/* Sets *dst to the compact JSON text of v (null and NULL ignored). */
void fx_set_json(fx_out *o, char **dst, const json_t *v);
/* Sets ev->time from an RFC 3339 date-time string v, normalised to UTC
 * with a "Z" suffix; `name` names the field in the error when v is not
 * such a string. NULL v leaves the time unset. */
void fx_set_time(fx_out *o, const json_t *v, const char *name);
/* Records a malformed-record failure (the first one wins). */
void fx_fail(fx_out *o, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* Normalises an RFC 3339 date-time s[0..n) to UTC, "Z" suffix, fraction
 * kept. out must hold n + 1 bytes (the result is never longer). Returns 0
 * or -1 when s is not an RFC 3339 date-time. */
int fx_time_utc(const char *s, size_t n, char *out);

#endif
