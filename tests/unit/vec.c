/*
 * Helpers shared by the unit tests; see vec.h.
 */
#include "vec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

uint8_t *
vec_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096 + 1) {
			size_t ncap = cap ? 2 * cap : 65536;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb)
				goto fail;
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

json_t *
vec_load_json(const char *path, size_t flags)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, flags, &jerr);

	if (!j)
		fprintf(stderr, "vec: %s:%d: %s\n", path, jerr.line, jerr.text);
	return j;
}

const char *
vec_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

uint64_t
vec_u64(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return UINT64_MAX;
	return (uint64_t)json_integer_value(v);
}

int
vec_raw_u64(const char *text, const char *key, uint64_t *out)
{
	char pat[128];
	const char *p;
	char *end;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	p = strstr(text, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
vec_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

int
vec_hex_hash(const char *s, prb_hash *out)
{
	size_t len;
	if (vec_hex(s, out->b, sizeof out->b, &len) || len != PRB_HASH_SIZE)
		return -1;
	return 0;
}

/* Checks the alphabet and the padding; returns the number of '=' or -1. */
static int
b64_check(const char *s, size_t n)
{
	int pad = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad) /* data after padding */
			return -1;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	return pad > 2 ? -1 : pad;
}

int
vec_b64(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);
	int pad = b64_check(s, n);
	uint8_t *tmp;

	if (pad < 0)
		return -1;
	if (n == 0) {
		*len = 0;
		return 0;
	}
	/* EVP_DecodeBlock writes padding as zero bytes: decode into a buffer
	 * of n / 4 * 3 bytes, then subtract the padding. */
	if (!(tmp = malloc(n / 4 * 3)))
		return -1;
	int got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	int rc = -1;
	if (got >= 0 && (size_t)got == n / 4 * 3 && (size_t)got - pad <= cap) {
		*len = (size_t)got - (size_t)pad;
		memcpy(out, tmp, *len);
		rc = 0;
	}
	free(tmp);
	return rc;
}

uint8_t *
vec_b64_alloc(const char *s, size_t *len)
{
	size_t cap = strlen(s) / 4 * 3 + 1; /* + 1: never malloc(0) */
	uint8_t *buf = malloc(cap);

	if (buf && vec_b64(s, buf, cap, len) == 0)
		return buf;
	free(buf);
	return NULL;
}

int
vec_b64_hash(const char *s, prb_hash *out)
{
	uint8_t buf[48];
	size_t len;

	if (vec_b64(s, buf, sizeof buf, &len) || len != PRB_HASH_SIZE)
		return -1;
	memcpy(out->b, buf, PRB_HASH_SIZE);
	return 0;
}

void
vec_b64_encode(const uint8_t *in, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static void
sha256_2(uint8_t prefix, const void *a, size_t alen, const void *b,
         size_t blen, prb_hash *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, &prefix, 1) ||
	    !EVP_DigestUpdate(ctx, a, alen) ||
	    !EVP_DigestUpdate(ctx, b, blen) ||
	    !EVP_DigestFinal_ex(ctx, out->b, &n)) {
		fprintf(stderr, "vec: SHA-256 failed\n");
		abort(); /* the test's own reference hasher cannot go on */
	}
	EVP_MD_CTX_free(ctx);
}

void
vec_ref_leaf(const uint8_t *entry, size_t len, prb_hash *out)
{
	sha256_2(0x00, entry, len, "", 0, out);
}

void
vec_ref_node(const prb_hash *l, const prb_hash *r, prb_hash *out)
{
	sha256_2(0x01, l->b, sizeof l->b, r->b, sizeof r->b, out);
}
