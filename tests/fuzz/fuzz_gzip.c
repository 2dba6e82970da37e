/*
 * Fuzz harness: gzip decoding of export files (prb_gunzip).
 *
 * The input is an untrusted .gz file. Decoding must either fail with
 * PRB_EMALFORMED or PRB_ETOOBIG, or give at most the limit of bytes
 * followed by a NUL; what it gives must compress and decode back to the
 * same bytes. A violation calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fuzz.h"
#include "ingest/gzip.h"

#define LIMIT (1u << 20)

static void
round_trip(const uint8_t *d, size_t n)
{
	uLong cap = compressBound((uLong)n) + 32;
	uint8_t *z = malloc(cap);
	check(z != NULL);
	z_stream s;
	memset(&s, 0, sizeof s);
	check(deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	                   Z_DEFAULT_STRATEGY) == Z_OK);
	s.next_in = (Bytef *)(uintptr_t)d;
	s.avail_in = (uInt)n;
	s.next_out = z;
	s.avail_out = (uInt)cap;
	check(deflate(&s, Z_FINISH) == Z_STREAM_END);
	size_t zlen = cap - s.avail_out;
	deflateEnd(&s);
	uint8_t *back;
	size_t blen;
	check(prb_gunzip(z, zlen, LIMIT, &back, &blen, NULL) == 0);
	check(blen == n && memcmp(back, d, n) == 0);
	free(back);
	free(z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out;
	size_t n;
	prb_err err;
	int rc = prb_gunzip(data, size, LIMIT, &out, &n, &err);
	if (rc != 0) {
		check(rc == PRB_EMALFORMED || rc == PRB_ETOOBIG);
		check(err.code == rc && err.msg[0] != '\0');
		return 0;
	}
	check(n <= LIMIT && out[n] == 0);
	check(prb_is_gzip(data, size));
	round_trip(out, n);
	free(out);
	return 0;
}
