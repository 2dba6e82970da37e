/*
 * A small HTTP client over libcurl, for the parts of probity that talk to
 * other servers: the log sending checkpoints to witnesses, the monitor
 * following a remote log. One request at a time per handle; a handle
 * reuses its connection between requests.
 *
 * Every request is bounded: the response body may be at most max_body
 * bytes (PRB_ETOOBIG beyond) and the whole exchange at most timeout_ms
 * milliseconds (PRB_EIO "timed out"). Redirects are not followed. A
 * transport failure (refused, reset, TLS, timeout) is PRB_EIO with
 * err->where = the URL; any HTTP status, including 4xx and 5xx, is a
 * successful request whose status the caller reads.
 */
#ifndef PROBITY_HTTPC_H
#define PROBITY_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct prb_http prb_http;

typedef struct {
	long status;           /* HTTP status code */
	uint8_t *body;         /* malloc'd, NUL-terminated (not counted) */
	size_t len;
	char content_type[128]; /* "" when the response has none */
	char retry_after[32];   /* Retry-After header value, "" when absent */
} prb_http_resp;

/* 1 if url starts with http:// or https://, the only schemes a client
 * follows. */
int prb_http_url_ok(const char *url);

/* Creates a client. `bearer` (may be NULL) is sent as
 * "Authorization: Bearer <bearer>" on every request. */
int prb_http_new(const char *bearer, long timeout_ms, size_t max_body,
                 prb_http **out, prb_err *err);
void prb_http_free(prb_http *h);

/* GET url. */
int prb_http_get(prb_http *h, const char *url, prb_http_resp *resp,
                 prb_err *err);

/* POST body (content_type may be NULL) to url. */
int prb_http_post(prb_http *h, const char *url, const char *content_type,
                  const uint8_t *body, size_t len, prb_http_resp *resp,
                  prb_err *err);

/* Frees resp->body and clears resp. */
void prb_http_resp_free(prb_http_resp *resp);

#endif
