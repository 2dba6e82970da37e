/* HTTP client over libcurl: see include/probity/httpc.h. */
#include "probity/httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct prb_http {
	CURL *curl;
	char *auth;    /* "Authorization: Bearer ..." or NULL */
	long timeout_ms;
	size_t max_body;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void
curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
prb_http_url_ok(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	       strncmp(url, "https://", 8) == 0;
}

int
prb_http_new(const char *bearer, long timeout_ms, size_t max_body,
             prb_http **out, prb_err *err)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return prb_err_set(err, PRB_EIO, NULL, UINT64_MAX,
		                   "curl_global_init: %s",
		                   curl_easy_strerror(curl_init_rc));
	prb_http *h = calloc(1, sizeof *h);
	if (!h)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	h->timeout_ms = timeout_ms;
	h->max_body = max_body;
	h->curl = curl_easy_init();
	if (bearer) {
		size_t n = strlen("Authorization: Bearer ") + strlen(bearer) + 1;
		h->auth = malloc(n);
		if (h->auth)
			snprintf(h->auth, n, "Authorization: Bearer %s", bearer);
	}
	if (!h->curl || (bearer && !h->auth)) {
		prb_http_free(h);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	}
	*out = h;
	return 0;
}

void
prb_http_free(prb_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	if (h->auth)
		OPENSSL_cleanse(h->auth, strlen(h->auth)); /* a credential */
	free(h->auth);
	free(h);
}

void
prb_http_resp_free(prb_http_resp *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

typedef struct {
	prb_http_resp *resp;
	size_t cap, max;
	int too_big;
} sink;

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	sink *s = ctx;
	size_t add = size * n;
	if (add > s->max - s->resp->len) {
		s->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (s->resp->len + add + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->resp->len + add + 1)
			cap *= 2;
		uint8_t *b = realloc(s->resp->body, cap);
		if (!b)
			return 0;
		s->resp->body = b;
		s->cap = cap;
	}
	memcpy(s->resp->body + s->resp->len, p, add);
	s->resp->len += add;
	s->resp->body[s->resp->len] = 0;
	return add;
}

/* Copies the value of header `name` (case-insensitive) from one header
 * line into dst, trimmed. */
static void
take_header(const char *line, size_t len, const char *name, char *dst,
            size_t cap)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	const char *v = line + nl + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	size_t vl = (size_t)(end - v);
	if (vl >= cap)
		vl = cap - 1;
	memcpy(dst, v, vl);
	dst[vl] = 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	prb_http_resp *r = ctx;
	size_t len = size * n;
	/* a new status line (after a 100 Continue) resets what was read */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		r->content_type[0] = 0;
		r->retry_after[0] = 0;
	}
	take_header(p, len, "Content-Type", r->content_type,
	            sizeof r->content_type);
	take_header(p, len, "Retry-After", r->retry_after,
	            sizeof r->retry_after);
	return len;
}

/* Runs the request set up on h->curl; `extra` (may be NULL) is one more
 * request header line. */
static int
perform(prb_http *h, const char *url, const char *extra, prb_http_resp *resp,
        prb_err *err)
{
	CURL *c = h->curl;
	struct curl_slist *hdrs = NULL, *t;
	memset(resp, 0, sizeof *resp);
	sink s = {resp, 0, h->max_body, 0};
	if (h->auth) {
		t = curl_slist_append(hdrs, h->auth);
		if (!t)
			goto nomem;
		hdrs = t;
	}
	if (extra) {
		t = curl_slist_append(hdrs, extra);
		if (!t)
			goto nomem;
		hdrs = t;
	}
	/* no "Expect: 100-continue" round trip on POST */
	t = curl_slist_append(hdrs, "Expect:");
	if (!t)
		goto nomem;
	hdrs = t;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* every encoding libcurl can decode (tlog-tiles: logs may gzip entry
	 * bundles without negotiation); max_body bounds the decoded bytes */
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);
	if (s.too_big) {
		prb_http_resp_free(resp);
		return prb_err_set(err, PRB_ETOOBIG, url, UINT64_MAX,
		                   "response body over %zu bytes", h->max_body);
	}
	if (rc != CURLE_OK) {
		prb_http_resp_free(resp);
		return prb_err_set(err, rc == CURLE_WRITE_ERROR ? PRB_ENOMEM
		                                               : PRB_EIO,
		                   url, UINT64_MAX, "%s", curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (!resp->body) {
		resp->body = calloc(1, 1);
		if (!resp->body)
			return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
	}
	return 0;
nomem:
	curl_slist_free_all(hdrs);
	return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
}

int
prb_http_get(prb_http *h, const char *url, prb_http_resp *resp, prb_err *err)
{
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	return perform(h, url, NULL, resp, err);
}

int
prb_http_post(prb_http *h, const char *url, const char *content_type,
              const uint8_t *body, size_t len, prb_http_resp *resp,
              prb_err *err)
{
	char ct[160];
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (const char *)body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)len);
	if (content_type)
		snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
	return perform(h, url, content_type ? ct : NULL, resp, err);
}
