/*
 * Fuzz harness: log entries made from records and read back
 * (prb_entry_from_record, prb_entry_record), as reindex and verify read
 * entries from entry bundles that may hold anything.
 *
 * The input is read two ways. As a log entry: prb_entry_record must not
 * fail except for a stub whose blob is missing (PRB_ECORRUPT), and what it
 * returns must be a JSON object. As a record's source text: when it parses
 * as a JSON object, its entry read back must give an equal value, with the
 * same canonical flag and, for an entry over 65,535 bytes, a stub whose
 * blob is the record's bytes. A violation calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/entry.h"
#include "probity/tile.h"

typedef struct {
	const uint8_t *blob;
	size_t len;
} blob_ctx;

static int
get_blob(void *ctx, const char *hex, uint8_t **data, size_t *len,
         prb_err *err)
{
	blob_ctx *b = ctx;
	(void)hex;
	if (b->blob == NULL)
		return prb_err_set(err, PRB_ENOTFOUND, NULL, UINT64_MAX, "none");
	*data = malloc(b->len ? b->len : 1);
	check(*data != NULL);
	memcpy(*data, b->blob, b->len);
	*len = b->len;
	return 0;
}

static void
as_entry(const uint8_t *data, size_t size)
{
	blob_ctx none = {NULL, 0};
	json_t *rec;
	int canonical;
	char blob[65];
	prb_err err;
	int rc = prb_entry_record(data, size, get_blob, &none, &rec, &canonical,
	                          blob, &err);
	check(rc == 0 || rc == PRB_ECORRUPT);
	check(rc != 0 || rec == NULL || json_is_object(rec));
	json_decref(rec);
}

static void
as_record(const uint8_t *data, size_t size)
{
	json_t *v = json_loadb((const char *)data, size, PRB_JSON_FLAGS, NULL);
	if (!json_is_object(v)) {
		json_decref(v);
		return;
	}
	prb_entry e;
	prb_err err;
	if (prb_entry_from_record(v, (const char *)data, size, &e, &err) != 0) {
		json_decref(v);
		return;
	}
	blob_ctx b = {e.blob, e.blob_len};
	json_t *back;
	int canonical;
	char hex[65];
	check(prb_entry_record(e.bytes, e.len, get_blob, &b, &back, &canonical,
	                       hex, &err) == 0);
	check(back != NULL && json_equal(back, v));
	check(canonical == e.canonical);
	check((e.blob != NULL) == (hex[0] != '\0'));
	check(e.len <= PRB_MAX_ENTRY);
	if (e.blob == NULL && !e.canonical)
		check(e.len == size && memcmp(e.bytes, data, size) == 0);
	json_decref(back);
	prb_entry_free(&e);
	json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_entry(data, size);
	as_record(data, size);
	return 0;
}
