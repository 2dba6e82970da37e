/*
 * Fuzz harness: the encoding of a tree's right edge, which probity monitor
 * keeps in its state file (prb_log_edge_decode, prb_log_edge_encode).
 *
 * The input is an untrusted encoding. When it decodes, encoding the edge
 * again must give the input byte for byte, and its root must be
 * computable; when it does not, the error is PRB_EMALFORMED and the edge
 * is left as it was. A violation calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PRB_LOG_EDGE_MAX];
	prb_log_edge *e = NULL;
	prb_err err;
	check(prb_log_edge_new(&e, NULL) == 0);
	prb_hash before, after;
	prb_log_edge_root(e, &before);
	int rc = prb_log_edge_decode(data, size, e, &err);
	if (rc == 0) {
		size_t n = prb_log_edge_encode(e, out, sizeof out);
		check(n == size && memcmp(out, data, size) == 0);
		prb_log_edge_root(e, &after);
		check(prb_log_edge_size(e) > 0 ||
		      prb_hash_equal(&before, &after));
	} else {
		check(rc == PRB_EMALFORMED && err.code == rc);
		check(prb_log_edge_size(e) == 0);
	}
	prb_log_edge_free(e);
	return 0;
}
