/*
 * The helpers the format adapters are built from (see fx.h): reading a
 * record, filling a prb_event, RFC 3339 time; and prb_event's fields
 * (probity/ingest.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/fx.h"
#include "probity/jcs.h"

/* ---- prb_event's fields ---------------------------------------------- */

/* Every string field of prb_event, for freeing and for naming a field in
 * an error. */
static const struct {
	size_t off;
	const char *name;
} event_fields[] = {
#define F(x) {offsetof(prb_event, x), #x}
	F(event_id), F(time), F(account), F(tenant), F(principal),
	F(principal_account), F(principal_type), F(service), F(operation),
	F(resource_id), F(resource_type), F(region), F(location), F(result),
	F(error_code), F(source_ip), F(user_agent), F(request), F(response),
#undef F
};
#define NFIELDS (sizeof event_fields / sizeof event_fields[0])

_Static_assert(NFIELDS == PRB_EVENT_NFIELDS &&
                       sizeof(prb_event) == offsetof(prb_event, event_id) +
                                                    NFIELDS * sizeof(char *),
               "event_fields lists every string field of prb_event");

const char *
prb_event_field_name(size_t i)
{
	return i < NFIELDS ? event_fields[i].name : NULL;
}

const char *
prb_event_field(const prb_event *ev, size_t i)
{
	if (!ev || i >= NFIELDS)
		return NULL;
	return *(char *const *)((const char *)ev + event_fields[i].off);
}

void
prb_event_free(prb_event *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < NFIELDS; i++) {
		char **p = (char **)((char *)ev + event_fields[i].off);
		free(*p);
		*p = NULL;
	}
}

/* ---- reading a record ------------------------------------------------ */

const json_t *
fx_at(const json_t *obj, const char *path)
{
	char key[128];
	while (obj && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof key || !json_is_object(obj))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		path += n + (path[n] == '.');
	}
	return obj;
}

const char *
fx_str(const json_t *obj, const char *path)
{
	const json_t *v = fx_at(obj, path);
	return json_is_string(v) && json_string_length(v) > 0
	               ? json_string_value(v)
	               : NULL;
}

int
fx_is(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

json_t *
fx_parse_string(const json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	return json_loadb(json_string_value(v), json_string_length(v),
	                  FX_JSON_FLAGS, NULL);
}

void
fx_missing(fx_match *m, const char *what)
{
	size_t used = strlen(m->missing);
	snprintf(m->missing + used, sizeof m->missing - used, "%s%s",
	         used ? ", " : "", what);
}

/* A field "counts" when present and neither null nor "". */
static int
field_counts(const json_t *obj, const char *name, size_t n)
{
	char key[64];
	if (n >= sizeof key)
		return 0;
	memcpy(key, name, n);
	key[n] = '\0';
	const json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v) &&
	       !(json_is_string(v) && json_string_length(v) == 0);
}

void
fx_require(const json_t *obj, const char *const *groups, size_t n,
           fx_match *m)
{
	for (size_t i = 0; i < n; i++) {
		const char *g = groups[i];
		int found = 0;
		while (!found && *g) {
			size_t k = strcspn(g, "|");
			found = field_counts(obj, g, k);
			g += k + (g[k] == '|');
		}
		m->needed++;
		if (found) {
			m->present++;
			continue;
		}
		/* "a|b" is written "a or b" in the message. */
		char what[128];
		size_t w = 0;
		for (g = groups[i]; *g && w + 4 < sizeof what; g++) {
			if (*g == '|') {
				memcpy(what + w, " or ", 4);
				w += 4;
			} else {
				what[w++] = *g;
			}
		}
		what[w] = '\0';
		fx_missing(m, what);
	}
}

/* ---- filling an event ------------------------------------------------ */

static const char *
field_name(const fx_out *o, char **dst)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if ((char *)o->ev + event_fields[i].off == (char *)dst)
			return event_fields[i].name;
	return "field";
}

void
fx_fail(fx_out *o, const char *fmt, ...)
{
	if (o->rc)
		return;
	va_list ap;
	char msg[sizeof o->err->msg];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->rc = prb_err_set(o->err, PRB_EMALFORMED, NULL, UINT64_MAX, "%s",
	                    msg);
}

static void
out_of_memory(fx_out *o)
{
	if (!o->rc)
		o->rc = prb_err_set(o->err, PRB_ENOMEM, NULL, UINT64_MAX,
		                    "out of memory");
}

void
fx_setn(fx_out *o, char **dst, const char *s, size_t n)
{
	if (*dst || n == 0)
		return;
	if (memchr(s, '\0', n)) {
		fx_fail(o, "%s would hold U+0000, which it cannot keep",
		        field_name(o, dst));
		return;
	}
	if (!(*dst = malloc(n + 1))) {
		out_of_memory(o);
		return;
	}
	memcpy(*dst, s, n);
	(*dst)[n] = '\0';
}

void
fx_set(fx_out *o, char **dst, const json_t *v)
{
	if (json_is_string(v))
		fx_setn(o, dst, json_string_value(v), json_string_length(v));
}

void
fx_set_first(fx_out *o, char **dst, const json_t *obj, ...)
{
	va_list ap;
	va_start(ap, obj);
	for (const char *p = va_arg(ap, const char *); p && !*dst;
	     p = va_arg(ap, const char *))
		fx_set(o, dst, fx_at(obj, p));
	va_end(ap);
}

void
fx_setf(fx_out *o, char **dst, const char *fmt, ...)
{
	if (*dst)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		out_of_memory(o);
		return;
	}
	fx_setn(o, dst, s, (size_t)n);
	free(s);
}

void
fx_set_number(fx_out *o, char **dst, const json_t *v)
{
	if (!json_is_number(v))
		return;
	fx_set_json(o, dst, v); /* RFC 8785's number form, as in the entry */
}

void
fx_set_json(fx_out *o, char **dst, const json_t *v)
{
	if (*dst || !v || json_is_null(v))
		return;
	/* RFC 8785 form: the same text whatever the member order of the
	 * record it came from (the export's or the canonical entry's) */
	char *s;
	size_t n;
	int rc = prb_jcs_encode(v, &s, &n, NULL);
	if (rc == PRB_ENOMEM) {
		out_of_memory(o);
		return;
	}
	if (rc != 0)
		return;
	fx_setn(o, dst, s, n);
	free(s);
}

void
fx_set_time(fx_out *o, const json_t *v, const char *name)
{
	if (o->ev->time || !v || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0))
		return; /* absent: the next candidate field may have it */
	size_t n = json_is_string(v) ? json_string_length(v) : 0;
	char *t = malloc(n + 1);
	if (!t) {
		out_of_memory(o);
		return;
	}
	if (n == 0 || fx_time_utc(json_string_value(v), n, t) != 0) {
		free(t);
		fx_fail(o, "%s is not an RFC 3339 date-time", name);
		return;
	}
	o->ev->time = t;
}

/* ---- RFC 3339 -------------------------------------------------------- */

/* n decimal digits at s, or -1. */
static int
digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The zone suffix at s[0..n): "Z", or "+hh:mm" / "-hh:mm" as seconds east
 * of UTC into *off. */
static int
zone_offset(const char *s, size_t n, long *off)
{
	if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 0;
	}
	if (n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return -1;
	int h = digits(s + 1, 2), m = digits(s + 4, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*off = (s[0] == '-' ? -1L : 1L) * (h * 3600L + m * 60L);
	return 0;
}

int
fx_time_utc(const char *s, size_t n, char *out)
{
	struct tm tm = {0}, utc;
	size_t i = 19, frac = 0;
	long off;
	if (n < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
	    s[16] != ':' || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2),
	    h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 59)
		return -1;
	while (s[i] == '.' && i + 1 + frac < n && s[i + 1 + frac] >= '0' &&
	       s[i + 1 + frac] <= '9')
		frac++;
	if (s[i] == '.' && frac == 0)
		return -1;
	i += frac ? frac + 1 : 0;
	if (zone_offset(s + i, n - i, &off) != 0)
		return -1;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
	time_t t = timegm(&tm); /* normalises a day past the month's end */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	t -= off;
	if (!gmtime_r(&t, &utc) || utc.tm_year < -1900 ||
	    utc.tm_year > 9999 - 1900)
		return -1;
	char head[64];
	snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d",
	         utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
	         utc.tm_min, utc.tm_sec);
	size_t f = frac ? frac + 1 : 0; /* ".digits" kept as written */
	memcpy(out, head, 19);
	memcpy(out + 19, s + 19, f);
	out[19 + f] = 'Z';
	out[20 + f] = '\0';
	return 0;
}
