/* gzip decoding of whole export files (zlib). Internal to probity. */
#ifndef PRB_INGEST_GZIP_H
#define PRB_INGEST_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "probity/error.h"

/* 1 if data starts with the gzip magic bytes 1f 8b. */
int prb_is_gzip(const uint8_t *data, size_t len);

/*
 * Decompresses a gzip file (one or more members, as RFC 1952 allows) into a
 * malloc'd buffer with a NUL after the data (caller frees). More than
 * `limit` decompressed bytes: PRB_ETOOBIG. A corrupt or truncated stream:
 * PRB_EMALFORMED with err->offset the compressed byte offset. Thread-safe.
 */
int prb_gunzip(const uint8_t *in, size_t len, size_t limit, uint8_t **out,
               size_t *outlen, prb_err *err);

#endif
