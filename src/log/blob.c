/* Large records kept by digest beside the log (see probity/blob.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "probity/blob.h"
#include "probity/sha256.h"
#include "base/util.h"

void
prb_blob_name(const char *hex, char name[PRB_BLOB_NAME_MAX])
{
	snprintf(name, PRB_BLOB_NAME_MAX, "blob/sha256/%s", hex);
}

int
prb_blob_put(prb_store *st, const char *hex, const uint8_t *data, size_t len,
             prb_err *err)
{
	char name[PRB_BLOB_NAME_MAX];
	prb_blob_name(hex, name);
	return st->ops->put(st, name, data, len, err);
}

int
prb_blob_from_store(void *st, const char *hex, uint8_t **data, size_t *len,
                    prb_err *err)
{
	prb_store *s = st;
	char name[PRB_BLOB_NAME_MAX];
	prb_blob_name(hex, name);
	return s->ops->get(s, name, data, len, err);
}

int
prb_blob_get(prb_blob_get_fn get, void *ctx, const char *hex, size_t len,
             uint8_t **data, prb_err *err)
{
	char name[PRB_BLOB_NAME_MAX];
	prb_blob_name(hex, name);
	uint8_t *b;
	size_t n;
	char got[PRB_SHA256_HEX_SIZE];
	*data = NULL;
	int rc = get(ctx, hex, &b, &n, err);
	if (rc == PRB_ENOTFOUND)
		return prb_err_set(err, PRB_ECORRUPT, name, UINT64_MAX,
		                   "blob named by a log entry is missing");
	if (rc != 0)
		return rc;
	prb_sha256_hex(b, n, got);
	if (n != len || strcmp(got, hex) != 0) {
		free(b);
		return prb_err_set(err, PRB_ECORRUPT, name, UINT64_MAX,
		                   "blob holds %zu bytes with SHA-256 %s, the "
		                   "log entry says %zu bytes with %s",
		                   n, got, len, hex);
	}
	*data = b;
	return 0;
}
