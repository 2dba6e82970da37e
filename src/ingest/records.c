/*
 * Splitting an export file into records (prb_records_scan).
 *
 * The scanner walks the file's top level itself and hands every value to
 * jansson, so it knows each record's exact byte slice and holds one record
 * in memory at a time, however large the file:
 *
 *   '{'  the top-level object, member by member (each name and value one
 *        json_loadb call). A "Records", "records" or "value" member holding
 *        an array is streamed: each element is a record. An object with no
 *        such member is one record itself, built from its members.
 *        A first object that ends on line 1 and is followed by more
 *        objects on later lines makes the file JSON Lines: every non-blank
 *        line is then walked the same way (so a line may be an envelope).
 *   '['  each element of the top-level array is a record.
 *   else a top-level scalar: an error (records are objects).
 *   A leading UTF-8 byte order mark is skipped; an empty or all-blank
 *   file holds no records, as do [] and {"Records": []}.
 *
 * What this relies on in jansson (checked by test_ingest_formats.c): with
 * JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, json_loadb stops right after
 * the value and error.position counts the bytes consumed, also after a
 * number or literal (the lexer reads one byte past it and gives it back);
 * on failure error.position is where it stopped, the offending byte itself
 * for invalid UTF-8, and error.text is its first complaint. Duplicate
 * names within one object value are jansson's to catch
 * (JSON_REJECT_DUPLICATES); among the members this file walks, its own.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ingest/fx.h"

#define SCAN_FLAGS (FX_JSON_FLAGS | JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY)

typedef struct {
	const char *buf;
	size_t len;
	size_t pos;    /* the cursor */
	size_t lim;    /* end of what may be read now: len, or a line's end */
	uint64_t line; /* the line of buf[pos], 1-based */
	uint64_t nrec; /* records handed to fn */
	prb_record_fn fn;
	void *ctx;
	prb_err *err;
} scan;

static const char *const envelope_keys[] = {"Records", "records", "value"};

static uint64_t
newlines(const char *buf, size_t from, size_t to)
{
	uint64_t n = 0;
	const char *p = buf + from, *end = buf + to;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

static void
advance(scan *s, size_t to)
{
	s->line += newlines(s->buf, s->pos, to);
	s->pos = to;
}

static size_t
skip_ws_from(const scan *s, size_t i)
{
	while (i < s->lim && (s->buf[i] == ' ' || s->buf[i] == '\t' ||
	                      s->buf[i] == '\n' || s->buf[i] == '\r'))
		i++;
	return i;
}

static void
skip_ws(scan *s)
{
	advance(s, skip_ws_from(s, s->pos));
}

static int
peek(const scan *s)
{
	return s->pos < s->lim ? (unsigned char)s->buf[s->pos] : -1;
}

/* An error at byte `at`: "line L, record N: ...". */
static int
fail(const scan *s, int code, size_t at, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	uint64_t line = at >= s->pos ? s->line + newlines(s->buf, s->pos, at)
	                             : s->line - newlines(s->buf, at, s->pos);
	return prb_err_set(s->err, code, NULL, at,
	                   "line %" PRIu64 ", record %" PRIu64 ": %s", line,
	                   s->nrec + 1, what);
}

/* An error at the cursor, where `want` should have been. */
static int
unexpected(const scan *s, const char *want)
{
	int c = peek(s);
	if (c < 0)
		return fail(s, PRB_EMALFORMED, s->pos,
		            "premature end of input, expected %s", want);
	if (c >= 0x20 && c < 0x7f)
		return fail(s, PRB_EMALFORMED, s->pos, "expected %s, not '%c'",
		            want, c);
	return fail(s, PRB_EMALFORMED, s->pos, "expected %s, not byte 0x%02x",
	            want, (unsigned)c);
}

/* Parses the JSON value at the cursor and moves past it; NULL and *rc on
 * failure. */
static json_t *
parse_value(scan *s, int *rc)
{
	json_error_t je;
	const char *end;
	size_t avail = s->lim - s->pos;
	size_t n = avail > INT_MAX ? INT_MAX : avail;
	json_t *v = json_loadb(s->buf + s->pos, n, SCAN_FLAGS, &je);
	if (!v) {
		size_t at = s->pos + (je.position > 0 ? (size_t)je.position : 0);
		if (json_error_code(&je) == json_error_out_of_memory)
			*rc = fail(s, PRB_ENOMEM, at, "out of memory");
		else if (n < avail && at >= s->pos + n)
			*rc = fail(s, PRB_ETOOBIG, s->pos,
			           "a JSON value longer than %d bytes", INT_MAX);
		else if (s->lim < s->len && at == s->lim &&
		         (end = strstr(je.text, " near end of file")) != NULL)
			*rc = fail(s, PRB_EMALFORMED, at, "%.*s near end of line",
			           (int)(end - je.text), je.text);
		else
			*rc = fail(s, PRB_EMALFORMED, at, "%s", je.text);
		return NULL;
	}
	advance(s, s->pos + (size_t)je.position);
	return v;
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	default: return "an object";
	}
}

/* Hands rec (consumed), the value from `off` to the cursor, to fn. */
static int
emit(scan *s, json_t *rec, size_t off, uint64_t line)
{
	int rc;
	if (!json_is_object(rec)) {
		rc = fail(s, PRB_EMALFORMED, off,
		          "a record must be a JSON object, not %s", type_name(rec));
	} else {
		prb_record_pos p = {off, s->pos - off, line, ++s->nrec};
		rc = s->fn(s->ctx, rec, &p);
	}
	json_decref(rec);
	return rc;
}

/* The value at the cursor as a record. */
static int
scan_record(scan *s)
{
	size_t off = s->pos;
	uint64_t line = s->line;
	int rc = 0;
	json_t *v = parse_value(s, &rc);
	return v ? emit(s, v, off, line) : rc;
}

/* The elements of the array at the cursor, each a record. */
static int
scan_array(scan *s)
{
	int rc;
	advance(s, s->pos + 1);
	skip_ws(s);
	if (peek(s) == ']') {
		advance(s, s->pos + 1);
		return 0;
	}
	for (;;) {
		if ((rc = scan_record(s)) != 0)
			return rc;
		skip_ws(s);
		if (peek(s) == ']') {
			advance(s, s->pos + 1);
			return 0;
		}
		if (peek(s) != ',')
			return unexpected(s, "',' or ']' after a record");
		advance(s, s->pos + 1);
		skip_ws(s);
	}
}

static int
is_envelope_key(const json_t *key)
{
	for (size_t i = 0; i < sizeof envelope_keys / sizeof envelope_keys[0];
	     i++)
		if (fx_is(key, envelope_keys[i]))
			return 1;
	return 0;
}

/* One member of the object at the cursor into obj; an envelope's record
 * array is streamed (*envelope set) and kept as null, as is every member
 * after it. */
static int
scan_member(scan *s, json_t *obj, int *envelope)
{
	int rc = 0;
	size_t at = s->pos;
	json_t *key = NULL, *value = NULL;
	if (peek(s) != '"')
		return unexpected(s, "a member name");
	if (!(key = parse_value(s, &rc)))
		return rc;
	const char *k = json_string_value(key);
	size_t klen = json_string_length(key);
	if (memchr(k, '\0', klen))
		rc = fail(s, PRB_EMALFORMED, at, "NUL byte in object key");
	else if (json_object_getn(obj, k, klen))
		rc = fail(s, PRB_EMALFORMED, at, "duplicate object key \"%s\"", k);
	if (rc)
		goto out;
	skip_ws(s);
	if (peek(s) != ':') {
		rc = unexpected(s, "':'");
		goto out;
	}
	advance(s, s->pos + 1);
	skip_ws(s);
	if (is_envelope_key(key) && peek(s) == '[') {
		if (*envelope) {
			rc = fail(s, PRB_EMALFORMED, at,
			          "a second array of records, \"%s\"", k);
			goto out;
		}
		*envelope = 1;
		if ((rc = scan_array(s)) != 0)
			goto out;
	} else if (!(value = parse_value(s, &rc))) {
		goto out;
	}
	if (*envelope) {
		json_decref(value);
		value = NULL;
	}
	if (json_object_setn_new(obj, k, klen, value ? value : json_null()))
		rc = fail(s, PRB_ENOMEM, at, "out of memory");
	value = NULL;
out:
	json_decref(value);
	json_decref(key);
	return rc;
}

/* The object at the cursor: an envelope, or one record itself. */
static int
scan_object(scan *s)
{
	size_t start = s->pos;
	uint64_t line = s->line;
	int rc = 0, envelope = 0;
	json_t *obj = json_object();
	if (!obj)
		return fail(s, PRB_ENOMEM, start, "out of memory");
	advance(s, s->pos + 1);
	skip_ws(s);
	if (peek(s) != '}') {
		for (;;) {
			if ((rc = scan_member(s, obj, &envelope)) != 0)
				goto out;
			skip_ws(s);
			if (peek(s) != ',')
				break;
			advance(s, s->pos + 1);
			skip_ws(s);
		}
		if (peek(s) != '}') {
			rc = unexpected(s, "',' or '}'");
			goto out;
		}
	}
	advance(s, s->pos + 1);
	if (!envelope) {
		rc = emit(s, obj, start, line);
		obj = NULL;
	}
out:
	json_decref(obj);
	return rc;
}

/* JSON Lines after the first line: the cursor is at a line break. */
static int
scan_lines(scan *s)
{
	while (s->pos < s->len) {
		advance(s, s->pos + 1);
		const char *nl = memchr(s->buf + s->pos, '\n', s->len - s->pos);
		size_t eol = nl ? (size_t)(nl - s->buf) : s->len;
		int rc = 0;
		s->lim = eol;
		skip_ws(s);
		if (s->pos == eol)
			continue; /* a blank line */
		rc = peek(s) == '{' ? scan_object(s) : scan_record(s);
		if (rc)
			return rc;
		skip_ws(s);
		if (s->pos < eol)
			return unexpected(s, "the end of the line after a record");
	}
	return 0;
}

/* A file that starts with an object: one object, or JSON Lines. */
static int
scan_objects(scan *s)
{
	size_t start = s->pos;
	int rc = scan_object(s);
	if (rc)
		return rc;
	int one_line = !memchr(s->buf + start, '\n', s->pos - start);
	const char *nl = memchr(s->buf + s->pos, '\n', s->len - s->pos);
	size_t eol = nl ? (size_t)(nl - s->buf) : s->len;
	s->lim = eol;
	skip_ws(s);
	if (s->pos < eol)
		return unexpected(s, "a line break after the object");
	s->lim = s->len;
	size_t next = skip_ws_from(s, eol);
	if (next == s->len) {
		advance(s, s->len);
		return 0;
	}
	if (!one_line) {
		advance(s, next);
		return fail(s, PRB_EMALFORMED, next,
		            "more JSON after a multi-line object (JSON Lines "
		            "hold one object per line)");
	}
	return scan_lines(s);
}

int
prb_records_scan(const char *buf, size_t len, prb_record_fn fn, void *ctx,
                 prb_err *err)
{
	scan s = {buf, len, 0, len, 1, 0, fn, ctx, err};
	int rc;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		s.pos = 3; /* a UTF-8 byte order mark */
	skip_ws(&s);
	switch (peek(&s)) {
	case -1:
		return 0;
	case '{':
		return scan_objects(&s);
	case '[':
		if ((rc = scan_array(&s)) != 0)
			return rc;
		skip_ws(&s);
		return s.pos < len ? unexpected(&s, "the end of input after the "
		                                    "top-level array")
		                   : 0;
	default:
		return scan_record(&s);
	}
}
