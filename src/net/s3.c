/*
 * The S3 client (include/probity/s3.h): libcurl does HTTP and SigV4; this
 * file builds the URL, the signed headers and the retry loop, and reads
 * the few response fields the log needs.
 *
 * One request (request()):
 *   1. the URL: path style  ENDPOINT/BUCKET/KEY?QUERY
 *               virtual     SCHEME://BUCKET.HOST/KEY?QUERY
 *      (keys are restricted or escaped so the path needs no further
 *      encoding; query parameters are escaped and sorted by name, as
 *      SigV4's canonical query string is and curl 7.88 does not do)
 *   2. headers: x-amz-content-sha256 (the payload's SHA-256, so the
 *      server checks the bytes), x-amz-security-token, the condition and
 *      Range (no "Expect:" to suppress 100-continue: curl 7.88 would sign
 *      the header it then leaves out)
 *   3. curl_easy_perform on the client's handle, reset before each
 *      request (curl keeps the connection alive across a reset)
 *   4. a retryable failure (prb_s3_retryable) waits prb_s3_backoff_ms
 *      and goes again, at most max_tries attempts and max_wait_ms of
 *      waiting in all
 */
#include "probity/s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "probity/sha256.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000
#define ERR_BODY_MAX 4096 /* an error response is read this far */

struct prb_s3 {
	const prb_s3_cfg *cfg;
	char bucket[PRB_S3_BUCKET_MAX];
	CURL *curl;
	int etag_unquoted; /* the server wants If-Match without quotes */
	uint64_t requests;
	uint64_t rnd;      /* xorshift state for jitter */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
curl_init(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* ---- configuration ------------------------------------------------------ */

static int
env_copy(const char *name, char *out, size_t cap, int required,
         prb_err *err)
{
	const char *v = getenv(name);
	out[0] = 0;
	if (!v || !*v)
		return required ? prb_err_set(err, PRB_EINVAL, name, UINT64_MAX,
		                              "not set (the S3 store needs "
		                              "AWS_ACCESS_KEY_ID and "
		                              "AWS_SECRET_ACCESS_KEY)")
		                : 0;
	if (strlen(v) >= cap)
		return prb_err_set(err, PRB_EINVAL, name, UINT64_MAX,
		                   "longer than %zu bytes", cap - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int
is_ip_or_localhost(const char *host, size_t n)
{
	if (n == 9 && strncmp(host, "localhost", 9) == 0)
		return 1;
	if (n > 0 && host[0] == '[')
		return 1; /* an IPv6 literal */
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)host[i]) && host[i] != '.')
			return 0;
	return n > 0;
}

int
prb_s3_endpoint_parse(const char *url, char endpoint[256], int *path_style,
                      prb_err *err)
{
	if (strchr(url, '@')) /* not echoed: it may hold a password */
		return prb_err_set(err, PRB_EINVAL, "AWS_ENDPOINT_URL", UINT64_MAX,
		                   "holds a user (\"@\"); credentials come from "
		                   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
	size_t skip = strncmp(url, "http://", 7) == 0    ? 7
	              : strncmp(url, "https://", 8) == 0 ? 8
	                                                 : 0;
	size_t n = strlen(url);
	while (n > skip && url[n - 1] == '/')
		n--;
	if (skip == 0 || n == skip || n >= 256)
		return prb_err_set(err, PRB_EINVAL, "AWS_ENDPOINT_URL", UINT64_MAX,
		                   "\"%s\" is not http[s]://HOST[:PORT]", url);
	const char *host = url + skip;
	size_t hl = n - skip;
	if (memchr(host, '/', hl) || memchr(host, '?', hl))
		return prb_err_set(err, PRB_EINVAL, "AWS_ENDPOINT_URL", UINT64_MAX,
		                   "\"%s\": only http[s]://HOST[:PORT] is "
		                   "supported (no path or query)", url);
	size_t hostlen = hl;
	const char *colon = host[0] == '[' ? memchr(host, ']', hl) : host;
	colon = colon ? memchr(colon, ':', hl - (size_t)(colon - host)) : NULL;
	if (colon)
		hostlen = (size_t)(colon - host);
	memcpy(endpoint, url, n);
	endpoint[n] = 0;
	*path_style = is_ip_or_localhost(host, hostlen);
	return 0;
}

static int
parse_bool(const char *name, const char *v, int *out, prb_err *err)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		*out = 0;
	else
		return prb_err_set(err, PRB_EINVAL, name, UINT64_MAX,
		                   "\"%s\" is not true, false, 1 or 0", v);
	return 0;
}

int
prb_s3_cfg_env(prb_s3_cfg *cfg, prb_err *err)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_tries = 8;
	cfg->max_wait_ms = 30000;
	cfg->timeout_ms = 30000;
	int rc = env_copy("AWS_ACCESS_KEY_ID", cfg->access_key,
	                  sizeof cfg->access_key, 1, err);
	if (rc == 0)
		rc = env_copy("AWS_SECRET_ACCESS_KEY", cfg->secret_key,
		              sizeof cfg->secret_key, 1, err);
	if (rc == 0)
		rc = env_copy("AWS_REGION", cfg->region, sizeof cfg->region, 0,
		              err);
	if (rc == 0 && !cfg->region[0])
		rc = env_copy("AWS_DEFAULT_REGION", cfg->region,
		              sizeof cfg->region, 0, err);
	if (rc == 0 && !cfg->region[0])
		snprintf(cfg->region, sizeof cfg->region, "us-east-1");
	for (const char *p = cfg->region; rc == 0 && *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			rc = prb_err_set(err, PRB_EINVAL, "AWS_REGION", UINT64_MAX,
			                 "\"%s\" is not a region name",
			                 cfg->region);
	const char *ep = getenv("AWS_ENDPOINT_URL");
	if (rc == 0 && ep && *ep) {
		rc = prb_s3_endpoint_parse(ep, cfg->endpoint, &cfg->path_style,
		                           err);
	} else if (rc == 0) {
		snprintf(cfg->endpoint, sizeof cfg->endpoint,
		         "https://s3.%s.amazonaws.com", cfg->region);
		cfg->path_style = 0;
	}
	const char *ps = getenv("AWS_S3_FORCE_PATH_STYLE");
	if (rc == 0 && ps && *ps)
		rc = parse_bool("AWS_S3_FORCE_PATH_STYLE", ps, &cfg->path_style,
		                err);
	const char *tok = getenv("AWS_SESSION_TOKEN");
	if (rc == 0 && tok && *tok && !(cfg->session_token = strdup(tok)))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc != 0)
		prb_s3_cfg_clear(cfg);
	return rc;
}

void
prb_s3_cfg_clear(prb_s3_cfg *cfg)
{
	if (cfg->session_token) {
		OPENSSL_cleanse(cfg->session_token, strlen(cfg->session_token));
		free(cfg->session_token);
	}
	OPENSSL_cleanse(cfg, sizeof *cfg);
}

static int
bucket_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) ||
	    !isalnum((unsigned char)b[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) ||
		      b[i] == '.' || b[i] == '-'))
			return 0;
	return 1;
}

static int
key_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '~' ||
	       c == '-' || c == '/';
}

int
prb_s3_url_parse(const char *url, char bucket[PRB_S3_BUCKET_MAX],
                 char prefix[513], prb_err *err)
{
	if (strncmp(url, "s3://", 5) != 0)
		return prb_err_set(err, PRB_EINVAL, url, UINT64_MAX,
		                   "not an s3://BUCKET/PREFIX URL");
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b);
	if (!bucket_ok(b, bl))
		return prb_err_set(err, PRB_EINVAL, url, UINT64_MAX,
		                   "the bucket name must be 3 to 63 lower-case "
		                   "letters, digits, '.' or '-'");
	memcpy(bucket, b, bl);
	bucket[bl] = 0;
	const char *p = slash ? slash + 1 : "";
	size_t pl = strlen(p);
	while (pl > 0 && p[pl - 1] == '/')
		pl--;
	if (pl > 512)
		return prb_err_set(err, PRB_EINVAL, url, UINT64_MAX,
		                   "the prefix is longer than 512 bytes");
	for (size_t i = 0, seg = 0; i <= pl; i++) {
		if (i < pl && !key_char_ok(p[i]))
			return prb_err_set(err, PRB_EINVAL, url, UINT64_MAX,
			                   "the prefix may hold only letters, "
			                   "digits and . _ ~ - /");
		if (i == pl || p[i] == '/') {
			size_t sl = i - seg;
			if (pl > 0 && (sl == 0 || (sl == 1 && p[seg] == '.') ||
			               (sl == 2 && p[seg] == '.' &&
			                p[seg + 1] == '.')))
				return prb_err_set(err, PRB_EINVAL, url, UINT64_MAX,
				                   "the prefix has an empty, \".\" "
				                   "or \"..\" segment");
			seg = i + 1;
		}
	}
	memcpy(prefix, p, pl);
	prefix[pl] = 0;
	return 0;
}

/* ---- retries ------------------------------------------------------------ */

int
prb_s3_retryable(int curl_code, long status)
{
	switch (curl_code) {
	case CURLE_OK:
		return status >= 500 || status == 429 || status == 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

long
prb_s3_backoff_ms(int attempt, double r01)
{
	long cap = BACKOFF_BASE_MS;
	for (int i = 1; i < attempt && cap < BACKOFF_CAP_MS; i++)
		cap *= 2;
	if (cap > BACKOFF_CAP_MS)
		cap = BACKOFF_CAP_MS;
	return (long)(r01 * (double)(cap + 1));
}

static double
rand01(prb_s3 *c)
{
	c->rnd ^= c->rnd << 13;
	c->rnd ^= c->rnd >> 7;
	c->rnd ^= c->rnd << 17;
	return (double)(c->rnd >> 11) / 9007199254740992.0;
}

/* Whether a failed transfer may have reached the server. */
static int
may_have_sent(int curl_code)
{
	return curl_code != CURLE_COULDNT_RESOLVE_HOST &&
	       curl_code != CURLE_COULDNT_CONNECT;
}

int
prb_s3_etag_unquote(const char *v, size_t len, char out[PRB_S3_ETAG_MAX])
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' ||
	                   v[len - 1] == '\r' || v[len - 1] == '\n'))
		len--;
	if (len >= 2 && v[0] == 'W' && v[1] == '/') {
		v += 2;
		len -= 2;
	}
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	if (len == 0 || len >= PRB_S3_ETAG_MAX || memchr(v, '"', len))
		return -1;
	memcpy(out, v, len);
	out[len] = 0;
	return 0;
}

/* ---- one request -------------------------------------------------------- */

int
prb_s3_open(const prb_s3_cfg *cfg, const char *bucket, prb_s3 **out,
            prb_err *err)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (!curl_ok)
		return prb_err_set(err, PRB_EIO, NULL, UINT64_MAX,
		                   "libcurl failed to initialise");
	if (!bucket_ok(bucket, strlen(bucket)))
		return prb_err_set(err, PRB_EINVAL, bucket, UINT64_MAX,
		                   "not a bucket name");
	prb_s3 *c = calloc(1, sizeof *c);
	if (!c || !(c->curl = curl_easy_init())) {
		free(c);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	}
	c->cfg = cfg;
	snprintf(c->bucket, sizeof c->bucket, "%s", bucket);
	if (RAND_bytes((unsigned char *)&c->rnd, sizeof c->rnd) != 1 ||
	    c->rnd == 0)
		c->rnd = (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid();
	*out = c;
	return 0;
}

void
prb_s3_close(prb_s3 *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

uint64_t
prb_s3_requests(const prb_s3 *c)
{
	return c->requests;
}

const char *
prb_s3_meta(const prb_s3_info *info, const char *name)
{
	for (size_t i = 0; i < info->nmeta; i++)
		if (strcmp(info->meta[i].name, name) == 0)
			return info->meta[i].value;
	return NULL;
}

/* What one request sends and what it got back. */
typedef struct {
	const char *method;  /* GET, HEAD, PUT, DELETE */
	const char *key;     /* "" for the bucket */
	const char *query;   /* sorted and escaped, or NULL */
	const uint8_t *body; /* PUT */
	size_t body_len, body_off;
	const char *cond;    /* a condition header line, or NULL */
	const char *range;   /* a Range header line, or NULL */
	size_t cap;          /* response body, at most */
	uint8_t *resp;       /* malloc'd */
	size_t resp_len, resp_cap;
	int too_big, no_mem;
	int maybe_applied;   /* an attempt that failed may have taken effect */
	int tries;           /* attempts at most; 0: the config's */
	int retryable;       /* the last attempt failed retryably */
	prb_s3_info *info;
} req;

static size_t
on_body(char *p, size_t sz, size_t nm, void *ctx)
{
	req *r = ctx;
	size_t n = sz * nm;
	if (n > r->cap - r->resp_len) {
		r->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (r->resp_len + n + 1 > r->resp_cap) {
		size_t want = r->resp_cap ? r->resp_cap : 4096;
		while (want < r->resp_len + n + 1)
			want *= 2;
		if (want > r->cap + 1)
			want = r->cap + 1;
		uint8_t *q = realloc(r->resp, want);
		if (!q) {
			r->no_mem = 1;
			return 0; /* aborts the transfer */
		}
		r->resp = q;
		r->resp_cap = want;
	}
	memcpy(r->resp + r->resp_len, p, n);
	r->resp_len += n;
	r->resp[r->resp_len] = 0;
	return n;
}

static size_t
on_upload(char *p, size_t sz, size_t nm, void *ctx)
{
	req *r = ctx;
	size_t n = sz * nm, left = r->body_len - r->body_off;
	if (n > left)
		n = left;
	memcpy(p, r->body + r->body_off, n);
	r->body_off += n;
	return n;
}

static int
header_is(const char *line, size_t n, const char *name, size_t *vstart)
{
	size_t k = strlen(name);
	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return 0;
	*vstart = k + 1;
	return 1;
}

static void
copy_trimmed(char *out, size_t cap, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
	                 v[n - 1] == ' '))
		n--;
	if (n >= cap) {
		out[0] = 0;
		return;
	}
	memcpy(out, v, n);
	out[n] = 0;
}

static size_t
on_header(char *line, size_t sz, size_t nm, void *ctx)
{
	req *r = ctx;
	prb_s3_info *in = r->info;
	size_t n = sz * nm, v;
	char num[64];
	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response */
		memset(in, 0, sizeof *in);
	} else if (header_is(line, n, "etag", &v)) {
		if (prb_s3_etag_unquote(line + v, n - v, in->etag) != 0)
			in->etag[0] = 0;
	} else if (header_is(line, n, "content-length", &v) &&
	           !in->has_length) {
		copy_trimmed(num, sizeof num, line + v, n - v);
		char *end;
		in->length = strtoull(num, &end, 10);
		in->has_length = num[0] && *end == 0;
	} else if (header_is(line, n, "content-range", &v)) {
		copy_trimmed(num, sizeof num, line + v, n - v);
		const char *slash = strrchr(num, '/');
		char *end;
		if (slash && slash[1] != '*') {
			in->length = strtoull(slash + 1, &end, 10);
			in->has_length = *end == 0;
		}
	} else if (n > 11 && strncasecmp(line, "x-amz-meta-", 11) == 0 &&
	           in->nmeta < PRB_S3_META_MAX) {
		const char *colon = memchr(line, ':', n);
		size_t nl = colon ? (size_t)(colon - line) - 11 : 0;
		if (colon && nl > 0 && nl < sizeof in->meta[0].name) {
			char *name = in->meta[in->nmeta].name;
			for (size_t i = 0; i < nl; i++)
				name[i] = (char)tolower((unsigned char)line[11 + i]);
			name[nl] = 0;
			size_t vs = (size_t)(colon - line) + 1;
			copy_trimmed(in->meta[in->nmeta].value,
			             sizeof in->meta[0].value, line + vs, n - vs);
			if (in->meta[in->nmeta].value[0] || n - vs <= 2)
				in->nmeta++;
		}
	}
	return n;
}

/* The URL of key with query into buf. */
static int
make_url(const prb_s3 *c, const char *key, const char *query, char *buf,
         size_t cap)
{
	const char *ep = c->cfg->endpoint;
	int n;
	if (c->cfg->path_style) {
		n = snprintf(buf, cap, "%s/%s/%s%s%s", ep, c->bucket, key,
		             query ? "?" : "", query ? query : "");
	} else {
		const char *host = strstr(ep, "://") + 3;
		n = snprintf(buf, cap, "%.*s%s.%s/%s%s%s", (int)(host - ep), ep,
		             c->bucket, host, key, query ? "?" : "",
		             query ? query : "");
	}
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The text of <tag>..</tag> in xml[0..n) from *pos on, entity-decoded
 * into out; *pos moves past it. Returns 0, -1 if absent or too long. */
static int
xml_text(const char *xml, size_t n, size_t *pos, const char *tag,
         char *out, size_t cap)
{
	char open[64], close[64];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	size_t ol = strlen(open), cl = strlen(close), i = *pos;
	const char *s = NULL, *e = NULL;
	for (; i + ol <= n; i++)
		if (memcmp(xml + i, open, ol) == 0) {
			s = xml + i + ol;
			break;
		}
	for (size_t j = s ? (size_t)(s - xml) : n; j + cl <= n; j++)
		if (memcmp(xml + j, close, cl) == 0) {
			e = xml + j;
			break;
		}
	if (!s || !e)
		return -1;
	size_t o = 0;
	static const struct { const char *ent; char c; } ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
		{"&quot;", '"'}, {"&apos;", '\''}};
	for (const char *p = s; p < e; o++) {
		if (o + 1 >= cap)
			return -1;
		char ch = *p++;
		if (ch == '&') {
			size_t k = 0;
			while (k < 5 && strncmp(p - 1, ents[k].ent,
			                         strlen(ents[k].ent)) != 0)
				k++;
			if (k == 5)
				return -1; /* no numeric references in our keys */
			ch = ents[k].c;
			p += strlen(ents[k].ent) - 1;
		}
		out[o] = ch;
	}
	out[o] = 0;
	*pos = (size_t)(e - xml) + cl;
	return 0;
}

static int
fail_status(prb_s3 *c, const req *r, prb_err *err)
{
	char where[sizeof err->where], code[128] = "";
	size_t pos = 0;
	snprintf(where, sizeof where, "s3://%s/%s", c->bucket, r->key);
	long st = r->info->status;
	if (r->resp)
		xml_text((const char *)r->resp, r->resp_len, &pos, "Code", code,
		         sizeof code);
	if (st == 404)
		return prb_err_set(err, PRB_ENOTFOUND, where, UINT64_MAX,
		                   "no such object%s%s", code[0] ? ": " : "",
		                   code);
	if (st == 412)
		return prb_err_set(err, PRB_ECONFLICT, where, UINT64_MAX,
		                   "%s: precondition failed (412)", r->method);
	return prb_err_set(err, PRB_EIO, where, UINT64_MAX,
	                   "%s answered HTTP %ld%s%s", r->method, st,
	                   code[0] ? " " : "", code);
}

static struct curl_slist *
add_header(struct curl_slist *h, const char *line, int *ok)
{
	struct curl_slist *n = curl_slist_append(h, line);
	if (!n)
		*ok = 0;
	return n ? n : h;
}

/* One attempt; returns the CURLcode. */
static int
attempt(prb_s3 *c, req *r, const char *url, struct curl_slist *hdrs)
{
	CURL *h = c->curl;
	char sigv4[96];
	curl_easy_reset(h);
	snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", c->cfg->region);
	free(r->resp);
	r->resp = NULL;
	r->resp_len = r->resp_cap = 0;
	r->too_big = r->no_mem = 0;
	r->body_off = 0;
	memset(r->info, 0, sizeof *r->info);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, c->cfg->access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, c->cfg->secret_key);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
		                 (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "DELETE") == 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	c->requests++;
	int cc = (int)curl_easy_perform(h);
	long st = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	r->info->status = st;
	return cc;
}

/* The signed headers of r: the payload's hash, the session token, the
 * condition and the range. NULL (err set) on failure. */
static struct curl_slist *
make_headers(prb_s3 *c, const req *r, prb_err *err)
{
	char line[8192], hex[65];
	int ok = 1;
	struct curl_slist *hdrs = NULL;
	prb_sha256_hex(r->body ? (const void *)r->body : "", r->body_len, hex);
	snprintf(line, sizeof line, "x-amz-content-sha256: %s", hex);
	hdrs = add_header(hdrs, line, &ok);
	if (c->cfg->session_token) {
		int n = snprintf(line, sizeof line, "x-amz-security-token: %s",
		                 c->cfg->session_token);
		if (n < 0 || (size_t)n >= sizeof line) {
			curl_slist_free_all(hdrs);
			prb_err_set(err, PRB_EINVAL, "AWS_SESSION_TOKEN", UINT64_MAX,
			            "longer than %zu bytes", sizeof line - 32);
			return NULL;
		}
		hdrs = add_header(hdrs, line, &ok);
	}
	if (r->cond)
		hdrs = add_header(hdrs, r->cond, &ok);
	if (r->range)
		hdrs = add_header(hdrs, r->range, &ok);
	OPENSSL_cleanse(line, sizeof line); /* it held the token */
	if (!ok) {
		curl_slist_free_all(hdrs);
		prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
		return NULL;
	}
	return hdrs;
}

/* The error of a transfer that failed for good (cc, after n attempts):
 * a PUT or DELETE that may have reached the server is in doubt. */
static int
transport_failed(const req *r, int cc, const char *where, const char *why,
                 prb_err *err)
{
	int writes = strcmp(r->method, "PUT") == 0 ||
	             strcmp(r->method, "DELETE") == 0;
	return prb_err_set(err,
	                   writes && cc != CURLE_OK && may_have_sent(cc)
	                           ? PRB_EINDOUBT
	                           : PRB_EIO,
	                   where, UINT64_MAX, "%s failed %s: %s", r->method, why,
	                   cc != CURLE_OK ? curl_easy_strerror((CURLcode)cc)
	                                  : "server busy");
}

/*
 * Runs r with the retries of s3.h. Returns 0 for a 2xx (206 for a range),
 * else the error (fail_status, or the transport's).
 */
static int
request(prb_s3 *c, req *r, prb_err *err)
{
	char url[PRB_S3_KEY_MAX + 2048], where[sizeof err->where], why[64];
	snprintf(where, sizeof where, "s3://%s/%s", c->bucket, r->key);
	if (make_url(c, r->key, r->query, url, sizeof url) != 0)
		return prb_err_set(err, PRB_EINVAL, where, UINT64_MAX,
		                   "URL too long");
	struct curl_slist *hdrs = make_headers(c, r, err);
	if (!hdrs)
		return err ? err->code : PRB_ENOMEM;
	long waited = 0;
	int rc;
	for (int n = 1;; n++) {
		int cc = attempt(c, r, url, hdrs);
		long st = r->info->status;
		if (r->too_big || r->no_mem) {
			rc = r->too_big ? prb_err_set(err, PRB_ETOOBIG, where,
			                              UINT64_MAX, "the response is "
			                              "longer than %zu bytes", r->cap)
			                : prb_err_set(err, PRB_ENOMEM, where,
			                              UINT64_MAX, "out of memory");
			break;
		}
		r->retryable = prb_s3_retryable(cc, st);
		if (!r->retryable ||
		    n >= (r->tries ? r->tries : c->cfg->max_tries)) {
			snprintf(why, sizeof why, "after %d attempt%s", n,
			         n == 1 ? "" : "s");
			rc = cc != CURLE_OK || st == 0
			             ? transport_failed(r, cc, where, why, err)
			     : st >= 200 && st < 300 ? 0
			                             : fail_status(c, r, err);
			break;
		}
		/* a 5xx, or a transfer cut after it may have reached the
		 * server: the write may be done, and its retry then fails
		 * its own condition */
		if (st >= 500 || (cc != CURLE_OK && may_have_sent(cc)))
			r->maybe_applied = 1;
		long ms = prb_s3_backoff_ms(n, rand01(c));
		if (waited + ms > c->cfg->max_wait_ms) {
			snprintf(why, sizeof why, "for %ld ms of retries", waited);
			rc = transport_failed(r, cc, where, why, err);
			break;
		}
		waited += ms;
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	curl_slist_free_all(hdrs);
	return rc;
}

/* ---- operations --------------------------------------------------------- */

static int
key_ok(prb_s3 *c, const char *key, prb_err *err)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < n; i++)
		if (!key_char_ok(key[i]))
			return prb_err_set(err, PRB_EINVAL, key, UINT64_MAX,
			                   "an S3 key here may hold only letters, "
			                   "digits and . _ ~ - /");
	if (n == 0 || n > PRB_S3_KEY_MAX)
		return prb_err_set(err, PRB_EINVAL, c->bucket, UINT64_MAX,
		                   "an S3 key must be 1 to %d bytes",
		                   PRB_S3_KEY_MAX);
	return 0;
}

int
prb_s3_get(prb_s3 *c, const char *key, uint64_t off, uint64_t len,
           size_t cap, uint8_t **data, size_t *n, prb_s3_info *info,
           prb_err *err)
{
	prb_s3_info scratch;
	char range[80];
	*data = NULL;
	*n = 0;
	int rc = key_ok(c, key, err);
	if (rc)
		return rc;
	req r = {.method = "GET", .key = key, .cap = cap,
	         .info = info ? info : &scratch};
	if (len > 0)
		snprintf(range, sizeof range, "Range: bytes=%llu-%llu",
		         (unsigned long long)off,
		         (unsigned long long)(off + len - 1));
	else if (off > 0)
		snprintf(range, sizeof range, "Range: bytes=%llu-",
		         (unsigned long long)off);
	if (len > 0 || off > 0)
		r.range = range;
	rc = request(c, &r, err);
	if (rc == 0 && r.range && r.info->status != 206)
		rc = prb_err_set(err, PRB_EIO, key, UINT64_MAX,
		                 "the server ignored Range (HTTP %ld)",
		                 r.info->status);
	if (rc == 0 && !r.resp && !(r.resp = calloc(1, 1)))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc != 0) {
		free(r.resp);
		return rc;
	}
	*data = r.resp;
	*n = r.resp_len;
	return 0;
}

int
prb_s3_head(prb_s3 *c, const char *key, prb_s3_info *info, prb_err *err)
{
	int rc = key_ok(c, key, err);
	req r = {.method = "HEAD", .key = key, .cap = 0, .info = info};
	if (rc == 0)
		rc = request(c, &r, err);
	free(r.resp);
	return rc;
}

/* One PUT with its retries; *maybe_applied (may be NULL) is set when an
 * attempt that failed may have taken effect. */
static int
put_once(prb_s3 *c, const char *key, const uint8_t *data, size_t len,
         const char *cond, prb_s3_info *info, int *maybe_applied,
         prb_err *err)
{
	req r = {.method = "PUT", .key = key, .body = data, .body_len = len,
	         .cond = cond, .cap = ERR_BODY_MAX, .info = info};
	int rc = request(c, &r, err);
	free(r.resp);
	if (maybe_applied && r.maybe_applied)
		*maybe_applied = 1;
	return rc;
}

/* An If-Match PUT whose retry got 412 after an earlier attempt that may
 * have taken effect: that 412 may be our own write, which a third party
 * may have replaced since; it is in doubt, not a conflict. */
static int
replace_result(const prb_s3 *c, int rc, int maybe_applied, const char *key,
               prb_err *err)
{
	char where[sizeof err->where];
	if (rc != PRB_ECONFLICT || !maybe_applied)
		return rc;
	snprintf(where, sizeof where, "s3://%s/%s", c->bucket, key);
	return prb_err_set(err, PRB_EINDOUBT, where, UINT64_MAX,
	                   "PUT If-Match failed (412) on a retry after an "
	                   "attempt that may have taken effect: the object "
	                   "may or may not have been replaced");
}

int
prb_s3_put(prb_s3 *c, const char *key, const uint8_t *data, size_t len,
           int cond, const char *etag, prb_s3_info *info, prb_err *err)
{
	prb_s3_info scratch, head;
	char line[PRB_S3_ETAG_MAX + 20];
	int rc = key_ok(c, key, err);
	if (rc)
		return rc;
	if (!info)
		info = &scratch;
	if (cond == PRB_S3_CREATE)
		return put_once(c, key, data, len, "If-None-Match: *", info, NULL,
		                err);
	if (cond != PRB_S3_REPLACE)
		return put_once(c, key, data, len, NULL, info, NULL, err);
	if (!etag || !etag[0] || strlen(etag) >= PRB_S3_ETAG_MAX)
		return prb_err_set(err, PRB_EINVAL, key, UINT64_MAX,
		                   "a conditional PUT needs an ETag");
	char want[PRB_S3_ETAG_MAX]; /* etag may point into *info */
	snprintf(want, sizeof want, "%s", etag);
	etag = want;
	snprintf(line, sizeof line, c->etag_unquoted ? "If-Match: %s"
	                                              : "If-Match: \"%s\"",
	         etag);
	int maybe = 0;
	rc = put_once(c, key, data, len, line, info, &maybe, err);
	if (rc != PRB_ECONFLICT || c->etag_unquoted)
		return replace_result(c, rc, maybe, key, err);
	/* Ceph RGW 16 fails a quoted If-Match that matches: if the object
	 * still has the ETag we sent, say it unquoted from now on (and no
	 * attempt took effect: ETags of other bytes differ). */
	prb_err e;
	if (prb_s3_head(c, key, &head, &e) != 0 || strcmp(head.etag, etag) != 0)
		return replace_result(c, rc, maybe, key, err);
	c->etag_unquoted = 1;
	snprintf(line, sizeof line, "If-Match: %s", etag);
	maybe = 0;
	rc = put_once(c, key, data, len, line, info, &maybe, err);
	return replace_result(c, rc, maybe, key, err);
}

static int
delete_tries(prb_s3 *c, const char *key, int tries, int *retry, prb_err *err)
{
	prb_s3_info info;
	int rc = key_ok(c, key, err);
	req r = {.method = "DELETE", .key = key, .cap = ERR_BODY_MAX,
	         .tries = tries, .info = &info};
	if (rc == 0)
		rc = request(c, &r, err);
	free(r.resp);
	if (retry)
		*retry = rc != 0 && r.retryable;
	return rc == PRB_ENOTFOUND ? 0 : rc;
}

int
prb_s3_delete(prb_s3 *c, const char *key, prb_err *err)
{
	return delete_tries(c, key, 0, NULL, err);
}

int
prb_s3_delete_once(prb_s3 *c, const char *key, int *retry, prb_err *err)
{
	return delete_tries(c, key, 1, retry, err);
}

/* Appends NAME=escaped(value)& to q. */
static int
query_add(CURL *h, char *q, size_t cap, const char *name, const char *value)
{
	char *e = curl_easy_escape(h, value, 0);
	if (!e)
		return -1;
	size_t k = strlen(q);
	int n = snprintf(q + k, cap - k, "%s%s=%s", k ? "&" : "", name, e);
	curl_free(e);
	return n < 0 || (size_t)n >= cap - k ? -1 : 0;
}

/* Calls fn for each <Contents> key and <CommonPrefixes> prefix of one
 * page; sets token ("" when the listing is complete). */
static int
list_page(const char *xml, size_t n, prb_s3_list_fn fn, void *ctx,
          char *token, size_t tcap, prb_err *err, const char *where)
{
	char key[PRB_S3_KEY_MAX + 1], num[32], trunc[16] = "";
	size_t pos = 0;
	int rc = 0;
	for (;;) { /* each <Contents> or <CommonPrefixes> element in order */
		const char *c = strstr(xml + pos, "<Contents>");
		const char *p = strstr(xml + pos, "<CommonPrefixes>");
		if (!c && !p)
			break;
		int is_prefix = !c || (p && p < c);
		pos = (size_t)((is_prefix ? p : c) - xml);
		uint64_t size = 0;
		if (xml_text(xml, n, &pos, is_prefix ? "Prefix" : "Key", key,
		             sizeof key) != 0)
			return prb_err_set(err, PRB_EMALFORMED, where, UINT64_MAX,
			                   "a ListObjectsV2 answer without a "
			                   "readable key");
		if (!is_prefix) {
			size_t sp = pos;
			if (xml_text(xml, n, &sp, "Size", num, sizeof num) == 0)
				size = strtoull(num, NULL, 10);
		}
		if ((rc = fn(ctx, key, is_prefix, size)) != 0)
			return rc;
	}
	pos = 0;
	token[0] = 0;
	xml_text(xml, n, &pos, "IsTruncated", trunc, sizeof trunc);
	pos = 0;
	if (strcmp(trunc, "true") == 0 &&
	    xml_text(xml, n, &pos, "NextContinuationToken", token, tcap) != 0)
		return prb_err_set(err, PRB_EMALFORMED, where, UINT64_MAX,
		                   "a truncated listing without a usable "
		                   "continuation token");
	return 0;
}

/* Keys grow from page to page: a page without a key or prefix past every
 * one before it (a token that repeats or cycles) ends the listing, which
 * would otherwise go on for as long as the server says "truncated". */
struct list_progress {
	prb_s3_list_fn fn;
	void *ctx;
	char max[PRB_S3_KEY_MAX + 1];
	int advanced;
};

static int
list_seen(void *ctx, const char *key, int is_prefix, uint64_t size)
{
	struct list_progress *lp = ctx;
	if (strcmp(key, lp->max) > 0) {
		snprintf(lp->max, sizeof lp->max, "%s", key);
		lp->advanced = 1;
	}
	return lp->fn(lp->ctx, key, is_prefix, size);
}

int
prb_s3_list(prb_s3 *c, const char *prefix, const char *delimiter,
            prb_s3_list_fn fn, void *ctx, prb_err *err)
{
	char q[4096], token[1024] = "", where[sizeof err->where];
	prb_s3_info info;
	struct list_progress lp = {.fn = fn, .ctx = ctx};
	snprintf(where, sizeof where, "s3://%s/%s", c->bucket, prefix);
	for (;;) {
		q[0] = 0; /* parameters sorted by name (SigV4) */
		if ((token[0] &&
		     query_add(c->curl, q, sizeof q, "continuation-token", token)) ||
		    (delimiter &&
		     query_add(c->curl, q, sizeof q, "delimiter", delimiter)) ||
		    query_add(c->curl, q, sizeof q, "list-type", "2") ||
		    query_add(c->curl, q, sizeof q, "prefix", prefix))
			return prb_err_set(err, PRB_EINVAL, where, UINT64_MAX,
			                   "listing query too long");
		req r = {.method = "GET", .key = "", .query = q,
		         .cap = (size_t)16 << 20, .info = &info};
		int rc = request(c, &r, err);
		lp.advanced = 0;
		if (rc == 0)
			rc = list_page(r.resp ? (const char *)r.resp : "",
			               r.resp_len, list_seen, &lp, token,
			               sizeof token, err, where);
		if (rc == 0 && token[0] && !lp.advanced)
			rc = prb_err_set(err, PRB_EMALFORMED, where, UINT64_MAX,
			                 "a truncated ListObjectsV2 page with no "
			                 "key past the pages before it");
		free(r.resp);
		if (rc != 0 || !token[0])
			return rc;
	}
}
