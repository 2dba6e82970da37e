/*
 * Fuzz harness: splitting an export file into records (prb_records_scan)
 * and normalising each record (prb_event_from_record).
 *
 * The input is an untrusted export file. Every record the scan reports
 * must be an exact slice of the input: in order, not overlapping, braced,
 * on the line it says, numbered 1, 2, ..., and re-parsing to a value equal
 * to the record. A failed scan fills err with its code, an offset inside
 * the input and a "line L, record N: " message. Each record is normalised
 * with format detection and with every hint: a detected format is the one
 * hint that succeeds (with the same event), an event has an id, a time in
 * RFC 3339 UTC and an operation and never an empty field, and a failure
 * leaves the event empty. A violation calls abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "probity/ingest.h"

#define PARSE_FLAGS \
	(JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)
#define STOP 7 /* a callback's own return value */

typedef struct {
	const uint8_t *data;
	size_t size;
	uint64_t n, end, newlines, counted; /* newlines in data[0..counted) */
	int stop_at;
} state;

static int
is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* YYYY-MM-DDTHH:MM:SS[.digits]Z */
static int
is_utc_time(const char *t)
{
	size_t n = strlen(t);
	if (n < 20 || t[n - 1] != 'Z' || t[4] != '-' || t[7] != '-' ||
	    t[10] != 'T' || t[13] != ':' || t[16] != ':')
		return 0;
	if (!is_digits(t, 4) || !is_digits(t + 5, 2) || !is_digits(t + 8, 2) ||
	    !is_digits(t + 11, 2) || !is_digits(t + 14, 2) ||
	    !is_digits(t + 17, 2))
		return 0;
	return n == 20 || (t[19] == '.' && n > 21 && is_digits(t + 20, n - 21));
}

static int
same_event(const prb_event *a, const prb_event *b)
{
	if (a->format != b->format)
		return 0;
	for (size_t i = 0; i < PRB_EVENT_NFIELDS; i++) {
		const char *x = prb_event_field(a, i), *y = prb_event_field(b, i);
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			return 0;
	}
	return 1;
}

static int
is_empty(const prb_event *ev)
{
	prb_event zero;
	memset(&zero, 0, sizeof zero);
	return memcmp(ev, &zero, sizeof zero) == 0;
}

static void
check_event(const prb_event *ev)
{
	check(ev->format >= PRB_FMT_CLOUDTRAIL && ev->format <= PRB_FMT_K8S);
	check(ev->event_id && ev->time && ev->operation);
	check(is_utc_time(ev->time));
	for (size_t i = 0; i < PRB_EVENT_NFIELDS; i++)
		check(!prb_event_field(ev, i) || prb_event_field(ev, i)[0] != '\0');
}

/* Auto-detection, then every hint: the detected format is the only hint
 * that succeeds, and gives the same event. */
static void
normalise(const json_t *rec)
{
	prb_event ev, hinted;
	prb_err err;
	int rc = prb_event_from_record(PRB_FMT_AUTO, rec, &ev, &err);
	if (rc == 0)
		check_event(&ev);
	else
		check(rc < 0 && err.code == rc && is_empty(&ev));
	int ambiguous = rc != 0 && strncmp(err.msg, "ambiguous", 9) == 0;
	for (int f = PRB_FMT_CLOUDTRAIL; f <= PRB_FMT_K8S; f++) {
		int hrc = prb_event_from_record((prb_format)f, rec, &hinted, &err);
		if (hrc == 0) {
			check_event(&hinted);
			check(hinted.format == (prb_format)f);
			check(ambiguous || (rc == 0 && same_event(&ev, &hinted)));
			prb_event_free(&hinted);
		} else {
			check(hrc == PRB_EMALFORMED && err.code == hrc &&
			      is_empty(&hinted));
			check(rc != 0 || ev.format != (prb_format)f);
		}
	}
	prb_event_free(&ev);
}

static uint64_t
line_at(state *s, uint64_t off)
{
	for (; s->counted < off; s->counted++)
		s->newlines += s->data[s->counted] == '\n';
	return s->newlines + 1;
}

static int
on_record(void *ctx, json_t *rec, const prb_record_pos *p)
{
	state *s = ctx;
	check(json_is_object(rec));
	check(p->number == s->n + 1);
	check(p->offset >= s->end && p->length >= 2 &&
	      p->length <= s->size - p->offset);
	const char *slice = (const char *)s->data + p->offset;
	check(slice[0] == '{' && slice[p->length - 1] == '}');
	check(p->line == line_at(s, p->offset));
	json_t *again = json_loadb(slice, p->length, PARSE_FLAGS, NULL);
	check(again != NULL && json_equal(again, rec));
	json_decref(again);
	s->n++;
	s->end = p->offset + p->length;
	if (s->stop_at)
		return s->n == (uint64_t)s->stop_at ? STOP : 0;
	normalise(rec);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	state s = {data, size, 0, 0, 0, 0, 0};
	prb_err err;
	prb_err_clear(&err);
	int rc = prb_records_scan((const char *)data, size, on_record, &s, &err);
	if (rc != 0) {
		check(rc < 0 && err.code == rc);
		check(err.offset <= size);
		check(strncmp(err.msg, "line ", 5) == 0 &&
		      strstr(err.msg, ", record "));
		check(strnlen(err.msg, sizeof err.msg) < sizeof err.msg);
	}
	/* The same scan stopped by its callback after the first record. */
	uint64_t records = s.n;
	state t = {data, size, 0, 0, 0, 0, 1};
	int stopped = prb_records_scan((const char *)data, size, on_record, &t,
	                               NULL);
	check(records == 0 ? stopped == rc : stopped == STOP);
	return 0;
}
