/* Log entries from cloud audit records and back (see probity/entry.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/entry.h"
#include "probity/jcs.h"
#include "probity/sha256.h"
#include "probity/tile.h"
#include "base/util.h"

static uint8_t *
dup_bytes(const void *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d != NULL && n)
		memcpy(d, p, n);
	return d;
}

/* Turns e->bytes (the record's bytes) into a stub entry plus blob. */
static int
make_stub(prb_entry *e, prb_err *err)
{
	prb_sha256_hex(e->bytes, e->len, e->blob_hex);
	char stub[200];
	int n = snprintf(stub, sizeof stub,
	                 "{\"length\":%zu,\"sha256\":\"%s\",\"type\":\"%s\"}\n",
	                 e->len, e->blob_hex, PRB_BLOB_TYPE);
	uint8_t *s = dup_bytes(stub, (size_t)n);
	if (s == NULL)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	e->blob = e->bytes;
	e->blob_len = e->len;
	e->bytes = s;
	e->len = (size_t)n;
	return 0;
}

int
prb_entry_from_record(const json_t *rec, const char *src, size_t srclen,
                      prb_entry *out, prb_err *err)
{
	memset(out, 0, sizeof *out);
	size_t bad;
	if (prb_jcs_numbers_exact(src, srclen, &bad)) {
		char *c;
		size_t clen;
		int rc = prb_jcs_encode(rec, &c, &clen, err);
		if (rc != 0)
			return rc;
		out->bytes = (uint8_t *)c;
		out->len = clen;
		out->canonical = 1;
	} else {
		out->bytes = dup_bytes(src, srclen);
		if (out->bytes == NULL)
			return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		out->len = srclen;
	}
	if (out->len > PRB_MAX_ENTRY) {
		int rc = make_stub(out, err);
		if (rc != 0) {
			prb_entry_free(out);
			return rc;
		}
	}
	return 0;
}

void
prb_entry_free(prb_entry *e)
{
	if (e == NULL)
		return;
	free(e->bytes);
	free(e->blob);
	memset(e, 0, sizeof *e);
}

/* 1 if obj is exactly a blob stub; fills hex and length. */
static int
is_stub(json_t *obj, char hex[65], size_t *length)
{
	if (json_object_size(obj) != 3)
		return 0;
	json_t *t = json_object_get(obj, "type");
	json_t *h = json_object_get(obj, "sha256");
	json_t *l = json_object_get(obj, "length");
	if (!json_is_string(t) || strcmp(json_string_value(t), PRB_BLOB_TYPE) ||
	    !json_is_string(h) || json_string_length(h) != 64 ||
	    !json_is_number(l))
		return 0;
	const char *hs = json_string_value(h);
	for (int i = 0; i < 64; i++)
		if (!((hs[i] >= '0' && hs[i] <= '9') ||
		      (hs[i] >= 'a' && hs[i] <= 'f')))
			return 0;
	double v = json_number_value(l);
	if (v < 0 || v > 1e15 || v != (double)(size_t)v)
		return 0;
	memcpy(hex, hs, 65);
	*length = (size_t)v;
	return 1;
}

/* Parses JSON text as a record; *rec NULL if it is not a JSON object. */
static int
parse_object(const uint8_t *p, size_t n, json_t **rec, int *canonical)
{
	*rec = NULL;
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	                 p[i] == '\r'))
		i++;
	if (i == n || p[i] != '{')
		return 0;
	json_error_t je;
	json_t *v = json_loadb((const char *)p, n, PRB_JSON_FLAGS, &je);
	if (v == NULL || !json_is_object(v)) {
		json_decref(v);
		return 0;
	}
	char *c = NULL;
	size_t clen = 0;
	*canonical = prb_jcs_encode(v, &c, &clen, NULL) == 0 && clen == n &&
	             memcmp(c, p, n) == 0;
	free(c);
	*rec = v;
	return 0;
}

int
prb_entry_stub(const uint8_t *entry, size_t len, char blob_hex[65],
               size_t *blob_len)
{
	json_t *v;
	int canonical = 0, stub = 0;
	/* a stub is its JCS text and a newline, which no line appended by
	 * probity add can be */
	if (len > 1 && entry[len - 1] == '\n') {
		parse_object(entry, len - 1, &v, &canonical);
		stub = v != NULL && canonical && is_stub(v, blob_hex, blob_len);
		json_decref(v);
	}
	return stub;
}

int
prb_entry_record(const uint8_t *entry, size_t len, prb_blob_get_fn get,
                 void *ctx, json_t **rec, int *canonical, char blob_hex[65],
                 prb_err *err)
{
	*rec = NULL;
	*canonical = 0;
	blob_hex[0] = '\0';
	json_t *v;
	char hex[65];
	size_t blen;
	if (!prb_entry_stub(entry, len, hex, &blen)) {
		parse_object(entry, len, &v, canonical);
		*rec = v;
		return 0;
	}
	uint8_t *b;
	int rc = prb_blob_get(get, ctx, hex, blen, &b, err);
	if (rc != 0)
		return rc;
	parse_object(b, blen, &v, canonical);
	free(b);
	if (v == NULL) {
		char name[PRB_BLOB_NAME_MAX];
		prb_blob_name(hex, name);
		return prb_err_set(err, PRB_ECORRUPT, name, UINT64_MAX,
		                   "blob is not a JSON object");
	}
	memcpy(blob_hex, hex, 65);
	*rec = v;
	return 0;
}
