/*
 * Fuzz harness: RFC 8785 canonical JSON (include/probity/jcs.h).
 *
 * The input is untrusted JSON text. When jansson parses it (as the ingest
 * path does: numbers as doubles, no duplicate names, NUL allowed, any
 * top-level value), its canonical form must exist, parse again to an equal
 * value, be a fixed point (encoding the re-parsed value gives the same
 * bytes) and hold only exact numbers. prb_jcs_numbers_exact also scans the
 * raw input, parsed or not. The first 8 bytes, read as a double, are
 * encoded alone: the text must read back as that double. A violation
 * calls abort().
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "probity/jcs.h"

#define FLAGS \
	(JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | \
	 JSON_DECODE_ANY)

static void
check_canonical(const json_t *v)
{
	char *out = NULL, *again = NULL;
	size_t len = 0, alen = 0, bad = 0;
	prb_err err;
	int rc = prb_jcs_encode(v, &out, &len, &err);
	if (rc == PRB_ENOMEM)
		return;
	check(rc == 0 && out != NULL && len > 0);
	json_t *w = json_loadb(out, len, FLAGS, NULL);
	check(w != NULL);
	check(json_equal(v, w));
	rc = prb_jcs_encode(w, &again, &alen, NULL);
	check(rc == 0 || rc == PRB_ENOMEM);
	if (rc == 0)
		check(alen == len && memcmp(again, out, len) == 0);
	check(prb_jcs_numbers_exact(out, len, &bad) == 1);
	json_decref(w);
	free(again);
	free(out);
}

static void
check_double(const uint8_t *data)
{
	double d;
	memcpy(&d, data, sizeof d);
	json_t *v = json_real(d);
	if (!v) {
		check(!isfinite(d));
		return;
	}
	char *out = NULL, t[64];
	size_t len = 0;
	if (prb_jcs_encode(v, &out, &len, NULL) == 0) {
		check(len > 0 && len < sizeof t);
		memcpy(t, out, len);
		t[len] = '\0';
		check(strtod(t, NULL) == d);
		check(prb_jcs_number_exact(out, len) == 1);
	}
	free(out);
	json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad = SIZE_MAX;
	int rc = prb_jcs_numbers_exact((const char *)data, size, &bad);
	check(rc == 1 || rc == 0 || rc == PRB_EMALFORMED);
	check(rc == 1 ? bad == SIZE_MAX : bad < size);

	json_t *v = json_loadb((const char *)data, size, FLAGS, NULL);
	if (v) {
		/* A valid text has only number tokens outside strings. */
		check(rc != PRB_EMALFORMED);
		check_canonical(v);
		json_decref(v);
	}
	if (size >= 8)
		check_double(data);
	return 0;
}
