/*
 * RFC 8785 JSON Canonicalization Scheme over jansson values.
 *
 * Numbers follow ECMAScript's Number::toString (ES2015 section 7.1.12.1
 * with its Note 2): the fewest significant digits that read back as the
 * same double, the one nearest the double when several qualify (ties to
 * even), then a fixed layout. The digits come from the C library:
 * printf's "%.*e" is correctly rounded and strtod is exact, so trying 1,
 * 2, ... 17 digits finds the shortest. One refinement: at a power of two
 * the gap to the next double below is half the gap above, so the nearest
 * p-digit decimal can fall outside the round-trip interval while the one
 * above it falls inside (2^-24 is 5.960464477539063e-8, not the 17 digits
 * of 5.9604644775390625e-8). There, the next p-digit decimal up is tried
 * too.
 *
 * Text is built with digits and an exponent only ("17e-1", never "1.7"),
 * and the digits of printf's output are read around whatever radix
 * character it writes, so the results do not depend on LC_NUMERIC.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/jcs.h"
#include "base/util.h"

#define DIG_MAX 17 /* significant digits that identify any double */
#define NUM_MAX 32 /* longest number text, "-0.000001" plus 17 digits, + 1 */

/* A positive decimal 0.dig[0..k) * 10^pt, dig without trailing zeros:
 * ECMAScript's s (the k digits) and n (pt). */
typedef struct {
	char dig[DIG_MAX + 1];
	int k;
	int pt;
} decimal;

/* ------------------------------------------------------------------ */
/* Numbers                                                             */

static int
reads_back(const decimal *x, double d)
{
	char t[NUM_MAX + 8];
	snprintf(t, sizeof t, "%.*se%d", x->k, x->dig, x->pt - x->k);
	return strtod(t, NULL) == d;
}

/* The p-digit decimal one unit above x in its last place. */
static void
next_up(decimal *x)
{
	int i = x->k - 1;
	while (i >= 0 && x->dig[i] == '9')
		x->dig[i--] = '0';
	if (i >= 0) {
		x->dig[i]++;
	} else {
		x->dig[0] = '1';
		x->pt++;
	}
}

/* d rounded to p significant digits, nearest (ties to even). */
static void
round_to(double d, int p, decimal *x)
{
	char t[NUM_MAX + 8];
	snprintf(t, sizeof t, "%.*e", p - 1, d);
	const char *c = t;
	x->k = 0;
	for (; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9' && x->k < DIG_MAX)
			x->dig[x->k++] = *c;
	x->dig[x->k] = '\0';
	x->pt = *c ? (int)strtol(c + 1, NULL, 10) + 1 : 1;
}

static int
power_of_two(double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	/* Zero fraction, and not the smallest exponent (whose gaps below
	 * and above are equal). */
	return (bits & 0x000fffffffffffffu) == 0 &&
	       (bits >> 52 & 0x7ff) > 1;
}

/* The shortest decimal that reads back as d, finite and positive. */
static void
shortest(double d, decimal *x)
{
	int p;
	for (p = 1; p < DIG_MAX; p++) {
		round_to(d, p, x);
		if (reads_back(x, d))
			break;
		if (power_of_two(d)) {
			decimal up = *x;
			next_up(&up);
			if (reads_back(&up, d)) {
				*x = up;
				break;
			}
		}
	}
	if (p == DIG_MAX)
		round_to(d, p, x); /* 17 digits always read back */
	while (x->k > 1 && x->dig[x->k - 1] == '0')
		x->k--;
	x->dig[x->k] = '\0';
}

static size_t
put_zeros(char *o, int n)
{
	memset(o, '0', (size_t)n);
	return (size_t)n;
}

/* ECMAScript's layout of s and n (Number::toString steps 6 to 10). */
static size_t
layout(const decimal *x, int neg, char o[NUM_MAX])
{
	size_t l = 0;
	int k = x->k, n = x->pt;
	if (neg)
		o[l++] = '-';
	if (k <= n && n <= 21) {
		memcpy(o + l, x->dig, (size_t)k);
		l += (size_t)k + put_zeros(o + l + k, n - k);
	} else if (0 < n && n <= 21) {
		memcpy(o + l, x->dig, (size_t)n);
		o[l + n] = '.';
		memcpy(o + l + n + 1, x->dig + n, (size_t)(k - n));
		l += (size_t)k + 1;
	} else if (-6 < n && n <= 0) {
		o[l++] = '0';
		o[l++] = '.';
		l += put_zeros(o + l, -n);
		memcpy(o + l, x->dig, (size_t)k);
		l += (size_t)k;
	} else {
		o[l++] = x->dig[0];
		if (k > 1) {
			o[l++] = '.';
			memcpy(o + l, x->dig + 1, (size_t)(k - 1));
			l += (size_t)(k - 1);
		}
		l += (size_t)snprintf(o + l, NUM_MAX - l, "e%c%d",
		                      n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	return l;
}

/* Writes d's JCS text to o; returns its length, or 0 if d is not finite. */
static size_t
format_number(double d, char o[NUM_MAX])
{
	decimal x;
	if (!isfinite(d))
		return 0;
	if (d == 0) { /* -0 too: ECMAScript writes it as "0" */
		o[0] = '0';
		return 1;
	}
	shortest(fabs(d), &x);
	return layout(&x, d < 0, o);
}

/* ------------------------------------------------------------------ */
/* Exactness of number tokens                                          */

/* Length of the run of ASCII digits at s[0..n). */
static size_t
digit_run(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* Splits a JSON number token (RFC 8259 section 6) into its integer and
 * fraction digits and the value of its exponent, saturated at +-10^9.
 * Returns 0, or PRB_EMALFORMED if tok is not a number token. */
static int
split_token(const char *tok, size_t n, const char **in, size_t *nin,
            const char **fr, size_t *nfr, long long *exp)
{
	size_t i = tok[0] == '-';
	*in = tok + i;
	*nin = digit_run(tok + i, n - i);
	if (*nin == 0 || (*nin > 1 && **in == '0'))
		return PRB_EMALFORMED;
	i += *nin;
	*fr = tok + i;
	*nfr = 0;
	if (i < n && tok[i] == '.') {
		*fr = tok + ++i;
		if ((*nfr = digit_run(tok + i, n - i)) == 0)
			return PRB_EMALFORMED;
		i += *nfr;
	}
	*exp = 0;
	if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
		int neg = ++i < n && tok[i] == '-';
		i += i < n && (tok[i] == '-' || tok[i] == '+');
		size_t ne = digit_run(tok + i, n - i);
		if (ne == 0)
			return PRB_EMALFORMED;
		for (size_t j = i; j < i + ne; j++)
			if ((*exp = *exp * 10 + (tok[j] - '0')) > 1000000000)
				*exp = 1000000000;
		*exp = neg ? -*exp : *exp;
		i += ne;
	}
	return i == n ? 0 : PRB_EMALFORMED;
}

int
prb_jcs_number_exact(const char *tok, size_t n)
{
	const char *in, *fr;
	size_t nin, nfr;
	long long exp;
	if (n == 0 || split_token(tok, n, &in, &nin, &fr, &nfr, &exp))
		return PRB_EMALFORMED;
	/* The token as 0.D * 10^pt, D its significant digits. */
	decimal t = {.k = 0};
	long long pt = exp + (long long)nin, lead = -1, last = -1;
	for (size_t j = 0; j < nin + nfr; j++) {
		char c = j < nin ? in[j] : fr[j - nin];
		if (c != '0') {
			lead = lead < 0 ? (long long)j : lead;
			last = (long long)j;
		}
	}
	if (lead < 0)
		return 1; /* zero, or "-0": JCS writes both as "0" */
	if (last - lead + 1 > DIG_MAX)
		return 0; /* JCS never writes more than 17 digits */
	for (long long j = lead; j <= last; j++)
		t.dig[t.k++] = j < (long long)nin ? in[j] : fr[j - (long long)nin];
	t.dig[t.k] = '\0';
	pt -= lead;
	if (pt > 400 || pt < -400)
		return 0; /* far outside the doubles' range */
	t.pt = (int)pt;

	char buf[NUM_MAX + 8];
	snprintf(buf, sizeof buf, "%se%d", t.dig, t.pt - t.k);
	double d = strtod(buf, NULL);
	if (!isfinite(d) || d == 0)
		return 0; /* overflows or underflows */
	decimal canon;
	shortest(fabs(d), &canon);
	return canon.pt == t.pt && strcmp(canon.dig, t.dig) == 0;
}

int
prb_jcs_numbers_exact(const char *s, size_t n, size_t *bad)
{
	size_t i = 0;
	while (i < n) {
		char c = s[i];
		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				i += s[i] == '\\'; /* skips the escaped byte */
			i++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t j = i + 1;
			while (j < n && s[j] && strchr("0123456789+-.eE", s[j]))
				j++;
			int rc = prb_jcs_number_exact(s + i, j - i);
			if (rc != 1) {
				if (bad)
					*bad = i;
				return rc;
			}
			i = j;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			while (i < n && ((s[i] >= 'a' && s[i] <= 'z') ||
			                 (s[i] >= 'A' && s[i] <= 'Z')))
				i++; /* true, false, null */
		} else {
			i++;
		}
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */

/* A growable output buffer; a failed allocation sets oom and later
 * writes are dropped, so callers check once at the end. */
typedef struct {
	char *p;
	size_t len, cap;
	int oom;
} buffer;

static void
put(buffer *b, const void *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = 1;
				return;
			}
			cap *= 2;
		}
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
putc_(buffer *b, char c)
{
	put(b, &c, 1);
}

static int
bad_utf8(prb_err *err, const char *what)
{
	return prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX,
	                   "%s is not valid UTF-8 (or holds a lone surrogate)",
	                   what);
}

/* The escape of a byte that must not be written as is: the two-character
 * forms RFC 8785 section 3.2.2.2 names, else \u00xx in lower case. */
static size_t
escape(unsigned char c, char e[8])
{
	static const char two[][2] = {
		{'"', '"'}, {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'},
		{'\n', 'n'}, {'\r', 'r'}, {'\t', 't'},
	};
	e[0] = '\\';
	for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
		if (c == (unsigned char)two[i][0]) {
			e[1] = two[i][1];
			return 2;
		}
	return (size_t)snprintf(e, 8, "\\u%04x", c);
}

/* Only '"', '\\' and U+0000..U+001F are escaped; everything else, "/" and
 * U+2028 included, is written as is. */
static int
put_string(buffer *b, const char *s, size_t n, prb_err *err)
{
	if (!prb_utf8_valid((const uint8_t *)s, n))
		return bad_utf8(err, "a string");
	size_t run = 0;
	putc_(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char e[8];
		put(b, s + run, i - run);
		put(b, e, escape(c, e));
		run = i + 1;
	}
	put(b, s + run, n - run);
	putc_(b, '"');
	return 0;
}

typedef struct {
	const char *key;
	size_t len;
	json_t *val;
} member;

/* The code point starting at s[0] (valid UTF-8), ranked so that ranks
 * order as the code points' UTF-16 code units do: U+E000..U+FFFF come
 * after the supplementary planes, whose high surrogates are 0xD800..DBFF. */
static uint32_t
utf16_rank(const unsigned char *s)
{
	uint32_t c = s[0];
	if (c >= 0xf0)
		c = (c & 0x07) << 18 | (s[1] & 0x3fu) << 12 |
		    (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
	else if (c >= 0xe0)
		c = (c & 0x0f) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
	else if (c >= 0xc0)
		c = (c & 0x1f) << 6 | (s[1] & 0x3fu);
	return c >= 0xe000 && c <= 0xffff ? c + 0x110000 : c;
}

/* Orders member names by UTF-16 code units. UTF-8 byte order is code
 * point order, which differs only where utf16_rank says: compare at the
 * first code point that differs. */
static int
member_cmp(const void *pa, const void *pb)
{
	const member *a = pa, *b = pb;
	const unsigned char *x = (const unsigned char *)a->key,
	                    *y = (const unsigned char *)b->key;
	size_t i = 0, n = a->len < b->len ? a->len : b->len;
	while (i < n && x[i] == y[i])
		i++;
	if (i == n)
		return (a->len > b->len) - (a->len < b->len);
	while (i > 0 && (x[i] & 0xc0) == 0x80)
		i--; /* to the start of the differing code point */
	uint32_t rx = utf16_rank(x + i), ry = utf16_rank(y + i);
	return (rx > ry) - (rx < ry);
}

static int put_value(buffer *b, const json_t *v, int depth, prb_err *err);

static int
put_object(buffer *b, const json_t *v, int depth, prb_err *err)
{
	size_t n = json_object_size(v), i = 0;
	member *m = calloc(n ? n : 1, sizeof *m);
	int rc = 0;
	if (!m)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	json_t *o = (json_t *)v; /* jansson's iterators take no const */
	for (void *it = json_object_iter(o); it && i < n;
	     it = json_object_iter_next(o, it), i++) {
		m[i].key = json_object_iter_key(it);
		m[i].len = json_object_iter_key_len(it);
		m[i].val = json_object_iter_value(it);
		if (!prb_utf8_valid((const uint8_t *)m[i].key, m[i].len)) {
			rc = bad_utf8(err, "a member name");
			goto out;
		}
	}
	qsort(m, i, sizeof *m, member_cmp);
	putc_(b, '{');
	for (size_t j = 0; j < i && rc == 0; j++) {
		if (j)
			putc_(b, ',');
		if ((rc = put_string(b, m[j].key, m[j].len, err)) == 0) {
			putc_(b, ':');
			rc = put_value(b, m[j].val, depth + 1, err);
		}
	}
	putc_(b, '}');
out:
	free(m);
	return rc;
}

static int
put_value(buffer *b, const json_t *v, int depth, prb_err *err)
{
	char num[NUM_MAX];
	size_t n;
	if (depth > PRB_JCS_MAX_DEPTH)
		return prb_err_set(err, PRB_ETOOBIG, NULL, UINT64_MAX,
		                   "nested deeper than %d levels",
		                   PRB_JCS_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(b, v, depth, err);
	case JSON_ARRAY:
		putc_(b, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				putc_(b, ',');
			int rc = put_value(b, json_array_get(v, i), depth + 1, err);
			if (rc)
				return rc;
		}
		putc_(b, ']');
		return 0;
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v),
		                  err);
	case JSON_INTEGER: /* as the double it becomes in ECMAScript */
	case JSON_REAL:
		if (!(n = format_number(json_number_value(v), num)))
			return prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX,
			                   "a number is not finite");
		put(b, num, n);
		return 0;
	case JSON_TRUE:
		put(b, "true", 4);
		return 0;
	case JSON_FALSE:
		put(b, "false", 5);
		return 0;
	case JSON_NULL:
		put(b, "null", 4);
		return 0;
	}
	return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
	                   "not a jansson value");
}

int
prb_jcs_encode(const json_t *v, char **out, size_t *len, prb_err *err)
{
	buffer b = {0};
	*out = NULL;
	*len = 0;
	if (!v)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "no value to encode");
	int rc = put_value(&b, v, 0, err);
	if (rc == 0 && b.oom)
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
