/* gzip decoding of whole export files (see gzip.h). */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ingest/gzip.h"

int
prb_is_gzip(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/* Grows *buf to hold at least need + 1 bytes, up to limit + 1. */
static int
grow(uint8_t **buf, size_t *cap, size_t need, size_t limit)
{
	if (need + 1 <= *cap)
		return 0;
	size_t c = *cap ? *cap : 1 << 16;
	while (c < need + 1)
		c = c > SIZE_MAX / 2 ? SIZE_MAX : c * 2;
	if (c > limit + 1)
		c = limit + 1;
	uint8_t *n = realloc(*buf, c);
	if (n == NULL)
		return PRB_ENOMEM;
	*buf = n;
	*cap = c;
	return 0;
}

int
prb_gunzip(const uint8_t *in, size_t len, size_t limit, uint8_t **out,
           size_t *outlen, prb_err *err)
{
	*out = NULL;
	*outlen = 0;
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "zlib: out of memory");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, pos = 0;
	int rc = 0;
	while (rc == 0) {
		if (n == limit) {
			rc = prb_err_set(err, PRB_ETOOBIG, NULL, pos,
			                 "decompresses to more than %zu bytes",
			                 limit);
			break;
		}
		if (grow(&buf, &cap, n + (n < limit / 2 ? n + 1 : limit - n),
		         limit)) {
			rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                 "out of memory");
			break;
		}
		size_t room = cap - 1 - n, chunk = len - pos;
		z.next_in = (Bytef *)(uintptr_t)(in + pos);
		z.avail_in = chunk > UINT_MAX ? UINT_MAX : (uInt)chunk;
		z.next_out = buf + n;
		z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		uInt in0 = z.avail_in, out0 = z.avail_out;
		int zr = inflate(&z, Z_NO_FLUSH);
		pos += in0 - z.avail_in;
		n += out0 - z.avail_out;
		if (zr == Z_STREAM_END) {
			/* another member may follow (RFC 1952 section 2.2) */
			if (pos == len)
				break;
			inflateReset(&z);
			continue;
		}
		if (zr == Z_OK || (zr == Z_BUF_ERROR && z.avail_out == 0))
			continue;
		if (zr == Z_BUF_ERROR && pos == len)
			rc = prb_err_set(err, PRB_EMALFORMED, NULL, pos,
			                 "gzip data ends early (truncated file)");
		else if (zr == Z_MEM_ERROR)
			rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                 "zlib: out of memory");
		else
			rc = prb_err_set(err, PRB_EMALFORMED, NULL, pos,
			                 "bad gzip data: %s",
			                 z.msg ? z.msg : "corrupt stream");
	}
	inflateEnd(&z);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	buf[n] = 0;
	*out = buf;
	*outlen = n;
	return 0;
}
