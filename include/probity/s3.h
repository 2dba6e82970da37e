/*
 * The one S3 client: GET (whole or a byte range), HEAD, conditional PUT,
 * DELETE and ListObjectsV2 against any S3-compatible object store (AWS S3,
 * Ceph RGW, MinIO, R2, GCS interoperability), over libcurl, which signs
 * every request with SigV4 (CURLOPT_AWS_SIGV4) and keeps connections alive
 * between the requests of one client.
 *
 * Configuration is the one every S3 tool reads (prb_s3_cfg_env):
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   credentials (required)
 *   AWS_SESSION_TOKEN      sent as x-amz-security-token (optional)
 *   AWS_REGION             else AWS_DEFAULT_REGION, else us-east-1
 *   AWS_ENDPOINT_URL       e.g. http://127.0.0.1:8000 (Ceph RGW, MinIO);
 *                          unset: https://s3.REGION.amazonaws.com
 *   AWS_S3_FORCE_PATH_STYLE  "true"/"1": http://HOST/BUCKET/KEY (path
 *                          style); "false"/"0": http://BUCKET.HOST/KEY
 *                          (virtual-hosted). Unset: path style when the
 *                          endpoint's host is an IP address or
 *                          "localhost" (no DNS name per bucket exists
 *                          there), virtual-hosted style otherwise.
 *
 * Retries (prb_s3_retryable): a lost connection or timeout, 5xx (incl.
 * 503 SlowDown) and 429 are retried with exponential backoff and full
 * jitter (base 100 ms, doubling, each wait at most 5 s) until the
 * request succeeds, max_tries attempts were made or max_wait_ms would be
 * exceeded; any other 4xx is final at once. A retried conditional PUT may
 * find its own earlier attempt in place (412). For If-None-Match: * the
 * caller tells by comparing the object's bytes (store_s3.c does); an
 * If-Match PUT whose retry gets 412 after an attempt that may have taken
 * effect (a 5xx, or a transfer cut after sending) is PRB_EINDOUBT, not
 * PRB_ECONFLICT: our write may have landed and been replaced since.
 *
 * Bodies: a response body is read into memory of at most the caller's
 * cap; a longer one (whatever Content-Length says) is PRB_ETOOBIG.
 *
 * ETags are kept unquoted in prb_s3_info (the hex digest, or digest-N of
 * a multipart upload). If-Match is sent quoted (RFC 9110); Ceph RGW 16
 * compares If-Match with the unquoted form only and answers 412 to the
 * quoted one, so a 412 whose HEAD shows the very ETag we sent is retried
 * unquoted, and the client remembers to send it unquoted from then on.
 *
 * Errors: 404 is PRB_ENOTFOUND, 412 PRB_ECONFLICT, other statuses PRB_EIO
 * with the status and S3's error code in the message. A transport
 * failure after the retries is PRB_EIO, except for a PUT or DELETE that
 * may have reached the server: PRB_EINDOUBT (it may or may not have
 * taken effect). err->where is "s3://BUCKET/KEY".
 *
 * A client (prb_s3) is one connection and is not thread-safe: a thread
 * uses its own (prb_s3_open is cheap). The config is read-only after
 * prb_s3_cfg_env and may be shared by clients in several threads.
 */
#ifndef PROBITY_S3_H
#define PROBITY_S3_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PRB_S3_BUCKET_MAX 64   /* S3 bucket names are 3..63 bytes */
#define PRB_S3_KEY_MAX 1024    /* S3 keys are at most 1024 bytes */
#define PRB_S3_ETAG_MAX 80     /* unquoted; an MD5 hex digest is 32 */
#define PRB_S3_META_MAX 8      /* x-amz-meta-* headers kept per response */

typedef struct {
	char endpoint[256];   /* scheme://host[:port], no trailing '/' */
	char region[64];
	char access_key[128];
	char secret_key[128];
	char *session_token;  /* malloc'd or NULL (tokens run to ~2 KiB) */
	int path_style;       /* 1: path style, 0: virtual-hosted */
	int max_tries;        /* attempts per request, >= 1 (default 8) */
	long max_wait_ms;     /* backoff, summed, at most (default 30000) */
	long timeout_ms;      /* one attempt at most (default 30000) */
} prb_s3_cfg;

/* Fills cfg from the environment as above. PRB_EINVAL (naming the
 * variable) when credentials are missing or a value is malformed.
 * Free with prb_s3_cfg_clear. */
int prb_s3_cfg_env(prb_s3_cfg *cfg, prb_err *err);
/* Wipes the secrets and frees the token. Accepts a zeroed cfg. */
void prb_s3_cfg_clear(prb_s3_cfg *cfg);

/* Parses an endpoint URL "http[s]://host[:port][/]" into cfg->endpoint,
 * and the default addressing style for it into *path_style (1 for an IP
 * address or localhost). PRB_EINVAL otherwise. */
int prb_s3_endpoint_parse(const char *url, char endpoint[256],
                          int *path_style, prb_err *err);

/* Parses "s3://BUCKET[/PREFIX]" into bucket and prefix (without leading
 * or trailing '/'; "" for none). The bucket must be a valid S3 bucket
 * name (3..63 of [a-z0-9.-], starting and ending with a letter or
 * digit); the prefix at most 512 bytes of [A-Za-z0-9._~/-] without
 * empty, "." or ".." segments (so a key needs no escaping and the
 * objects' paths are the same over plain HTTP). PRB_EINVAL otherwise. */
int prb_s3_url_parse(const char *url, char bucket[PRB_S3_BUCKET_MAX],
                     char prefix[513], prb_err *err);

/* Whether a failed attempt is retried: curl_code is the CURLcode of the
 * transfer (0: it completed) and status the HTTP status (0 if none). */
int prb_s3_retryable(int curl_code, long status);

/* The ETag value without quotes or a weak "W/" marker, into out
 * (PRB_S3_ETAG_MAX). Returns 0, or -1 if it does not fit or is empty. */
int prb_s3_etag_unquote(const char *v, size_t len,
                        char out[PRB_S3_ETAG_MAX]);

/* The wait before attempt `attempt` (1 = the first retry), in ms:
 * uniformly random in [0, min(5000, 100 * 2^(attempt-1))]; r01 is a
 * uniform random number in [0,1). */
long prb_s3_backoff_ms(int attempt, double r01);

typedef struct prb_s3 prb_s3;

/* A client of cfg (not copied: it must outlive the client) for bucket. */
int prb_s3_open(const prb_s3_cfg *cfg, const char *bucket, prb_s3 **out,
                prb_err *err);
void prb_s3_close(prb_s3 *c);

/* What a response said about an object. */
typedef struct {
	long status;                 /* the final HTTP status */
	char etag[PRB_S3_ETAG_MAX];  /* unquoted; "" if none */
	uint64_t length;             /* Content-Length of HEAD, or the
	                                object's size from Content-Range */
	int has_length;
	size_t nmeta;                /* x-amz-meta-NAME: VALUE, NAME in
	                                lower case, at most PRB_S3_META_MAX
	                                (more are dropped); values over 511
	                                bytes are dropped */
	struct {
		char name[64];
		char value[512];
	} meta[PRB_S3_META_MAX];
} prb_s3_info;

/* The value of user metadata NAME (lower case, without "x-amz-meta-"),
 * or NULL. Valid as long as info. */
const char *prb_s3_meta(const prb_s3_info *info, const char *name);

/*
 * GET key into a malloc'd buffer (caller frees; NUL-terminated, the NUL
 * not counted) of at most cap bytes (PRB_ETOOBIG beyond). len 0 reads
 * the whole object from off (off 0: all of it); else bytes off..off+len-1
 * (Range; a server that ignores Range and sends the whole object is
 * PRB_EIO). info may be NULL.
 */
int prb_s3_get(prb_s3 *c, const char *key, uint64_t off, uint64_t len,
               size_t cap, uint8_t **data, size_t *n, prb_s3_info *info,
               prb_err *err);

/* HEAD key. */
int prb_s3_head(prb_s3 *c, const char *key, prb_s3_info *info,
                prb_err *err);

/* Conditions of a PUT. */
enum {
	PRB_S3_ANY = 0,      /* unconditional */
	PRB_S3_CREATE = 1,   /* If-None-Match: * (412 if the key exists) */
	PRB_S3_REPLACE = 2,  /* If-Match: etag (412 if it has another) */
};

/* PUT data at key under `cond` (etag: the unquoted ETag for
 * PRB_S3_REPLACE, else NULL). The payload's SHA-256 is signed, so the
 * server checks the bytes. info (may be NULL) gets the new ETag. */
int prb_s3_put(prb_s3 *c, const char *key, const uint8_t *data, size_t len,
               int cond, const char *etag, prb_s3_info *info, prb_err *err);

/* DELETE key. S3 answers 204 whether or not it existed: 0 either way. */
int prb_s3_delete(prb_s3 *c, const char *key, prb_err *err);
/* One DELETE attempt, no retry: *retry says whether it failed in a way
 * prb_s3_retryable would retry. For a caller that must check something
 * before each attempt (store_s3.c's lease), since a retried DELETE lands
 * up to the whole retry span after the check. */
int prb_s3_delete_once(prb_s3 *c, const char *key, int *retry, prb_err *err);

/*
 * ListObjectsV2 of the keys starting with prefix ("" for all), following
 * continuation tokens. With delimiter (e.g. "/"; NULL for none), keys
 * that continue past it are rolled up: fn gets each such common prefix
 * once (ending in the delimiter) with is_prefix = 1, and each key
 * directly under prefix with is_prefix = 0 and its size. fn returns 0 to
 * go on; any other value stops the listing and is returned. Keys are
 * passed in the order the server lists them (UTF-8 binary order). A
 * truncated page with no key or prefix past those of the pages before
 * it (a repeated or cycling continuation token) is PRB_EMALFORMED.
 */
typedef int (*prb_s3_list_fn)(void *ctx, const char *key, int is_prefix,
                              uint64_t size);
int prb_s3_list(prb_s3 *c, const char *prefix, const char *delimiter,
                prb_s3_list_fn fn, void *ctx, prb_err *err);

/* Requests sent by this client (each attempt counts), for bench/. */
uint64_t prb_s3_requests(const prb_s3 *c);

#endif
