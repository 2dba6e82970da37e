/*
 * The S3 client's parts that need no S3 server: URL, endpoint and
 * environment parsing, ETag quoting, retry classification and backoff
 * bounds; then the client against a small fake S3 on 127.0.0.1
 * (libmicrohttpd) for what a hostile or busy server can do: a body longer
 * than the caller's cap (whatever Content-Length says), 503 SlowDown and
 * 429 retried within the bound, other 4xx final at once, If-Match sent
 * quoted and, where the server only takes it unquoted (Ceph RGW 16),
 * again unquoted, user metadata, ranges, and ListObjectsV2 continuation
 * with entity-encoded keys. The real thing is tests/s3/test_s3_basic.sh.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probity/s3.h"
#include "probity/store.h"
#include "t.h"

static void
urls(void)
{
	char b[PRB_S3_BUCKET_MAX], p[513];
	CHECK(prb_s3_url_parse("s3://my-bucket/logs/one", b, p, NULL) == 0 &&
	              strcmp(b, "my-bucket") == 0 && strcmp(p, "logs/one") == 0,
	      "bucket and prefix");
	CHECK(prb_s3_url_parse("s3://my.bucket", b, p, NULL) == 0 &&
	              strcmp(p, "") == 0,
	      "no prefix");
	CHECK(prb_s3_url_parse("s3://bkt/a/b/", b, p, NULL) == 0 &&
	              strcmp(p, "a/b") == 0,
	      "a trailing slash is dropped");
	const char *badu[] = {"http://bkt/x", "s3://", "s3://ab/x",
	                      "s3://Upper/x", "s3://-bkt/x", "s3://bkt-/x",
	                      "s3://bkt/a//b", "s3://bkt/a/../b", "s3://bkt/./b",
	                      "s3://bkt/a b", "s3://bkt/a?b", "s3://bkt/%41",
	                      "s3://bkt_x/a"};
	for (size_t i = 0; i < sizeof badu / sizeof *badu; i++) {
		prb_err e;
		CHECK(prb_s3_url_parse(badu[i], b, p, &e) == PRB_EINVAL &&
		              e.msg[0],
		      "refused: %s", badu[i]);
	}
	char longp[600] = "s3://bkt/";
	memset(longp + 9, 'a', 520);
	CHECK(prb_s3_url_parse(longp, b, p, NULL) == PRB_EINVAL,
	      "a prefix over 512 bytes");
}

static void
endpoints(void)
{
	char ep[256];
	int ps = -1;
	CHECK(prb_s3_endpoint_parse("http://127.0.0.1:8000/", ep, &ps, NULL) ==
	                      0 &&
	              strcmp(ep, "http://127.0.0.1:8000") == 0 && ps == 1,
	      "an IPv4 endpoint: path style");
	CHECK(prb_s3_endpoint_parse("http://localhost:9000", ep, &ps, NULL) ==
	                      0 && ps == 1,
	      "localhost: path style");
	CHECK(prb_s3_endpoint_parse("http://[::1]:9000", ep, &ps, NULL) == 0 &&
	              ps == 1,
	      "an IPv6 literal: path style");
	CHECK(prb_s3_endpoint_parse("https://s3.example.net", ep, &ps, NULL) ==
	                      0 && ps == 0,
	      "a DNS name: virtual-hosted style");
	const char *bad[] = {"ftp://x", "http://", "127.0.0.1:80",
	                     "http://h/path", "http://u@h", "http://h?x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK(prb_s3_endpoint_parse(bad[i], ep, &ps, NULL) == PRB_EINVAL,
		      "refused: %s", bad[i]);
	prb_err e;
	CHECK(prb_s3_endpoint_parse("http://AK:Secret9/x@h:1/p", ep, &ps, &e) ==
	                      PRB_EINVAL &&
	              !strstr(e.msg, "Secret9") && !strstr(e.where, "Secret9"),
	      "a password in the endpoint is not echoed: %s", e.msg);
	CHECK(prb_s3_endpoint_parse("ftp://AK:Secret9@h", ep, &ps, &e) ==
	                      PRB_EINVAL && !strstr(e.msg, "Secret9"),
	      "nor in an endpoint refused for its scheme: %s", e.msg);
}

static void
environment(void)
{
	prb_s3_cfg c;
	prb_err e;
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	CHECK(prb_s3_cfg_env(&c, &e) == PRB_EINVAL &&
	              strcmp(e.where, "AWS_ACCESS_KEY_ID") == 0,
	      "missing access key named: %s", e.where);
	setenv("AWS_ACCESS_KEY_ID", "AK", 1);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_S3_FORCE_PATH_STYLE");
	unsetenv("AWS_SESSION_TOKEN");
	CHECK(prb_s3_cfg_env(&c, &e) == 0 && strcmp(c.region, "us-east-1") == 0 &&
	              strcmp(c.endpoint, "https://s3.us-east-1.amazonaws.com") ==
	                      0 &&
	              c.path_style == 0 && !c.session_token,
	      "defaults: us-east-1 on AWS, virtual-hosted");
	prb_s3_cfg_clear(&c);
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8000", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	CHECK(prb_s3_cfg_env(&c, &e) == 0 && strcmp(c.region, "eu-west-1") == 0 &&
	              c.path_style == 1 && c.session_token &&
	              strcmp(c.session_token, "tok") == 0,
	      "AWS_DEFAULT_REGION, an IP endpoint, a session token");
	prb_s3_cfg_clear(&c);
	setenv("AWS_REGION", "ap-south-2", 1);
	setenv("AWS_S3_FORCE_PATH_STYLE", "false", 1);
	CHECK(prb_s3_cfg_env(&c, &e) == 0 && strcmp(c.region, "ap-south-2") == 0 &&
	              c.path_style == 0,
	      "AWS_REGION wins; path style forced off");
	prb_s3_cfg_clear(&c);
	setenv("AWS_S3_FORCE_PATH_STYLE", "maybe", 1);
	CHECK(prb_s3_cfg_env(&c, &e) == PRB_EINVAL, "a bad boolean");
	setenv("AWS_S3_FORCE_PATH_STYLE", "1", 1);
	setenv("AWS_REGION", "us east", 1);
	CHECK(prb_s3_cfg_env(&c, &e) == PRB_EINVAL, "a bad region");
	setenv("AWS_REGION", "us-east-1", 1);
	unsetenv("AWS_SESSION_TOKEN");
}

static void
etags(void)
{
	char o[PRB_S3_ETAG_MAX];
	CHECK(prb_s3_etag_unquote(" \"abc\"\r\n", 8, o) == 0 &&
	              strcmp(o, "abc") == 0,
	      "quoted, with spaces and CRLF");
	CHECK(prb_s3_etag_unquote("abc", 3, o) == 0 && strcmp(o, "abc") == 0,
	      "unquoted (RGW sends it so in listings' entities)");
	CHECK(prb_s3_etag_unquote("W/\"x-2\"", 7, o) == 0 &&
	              strcmp(o, "x-2") == 0,
	      "weak marker dropped");
	CHECK(prb_s3_etag_unquote("\"\"", 2, o) == -1, "empty refused");
	CHECK(prb_s3_etag_unquote("a\"b", 3, o) == -1, "inner quote refused");
	char big[200];
	memset(big, 'a', sizeof big);
	CHECK(prb_s3_etag_unquote(big, sizeof big, o) == -1, "too long");
}

static void
retries(void)
{
	CHECK(prb_s3_retryable(0, 500) && prb_s3_retryable(0, 503) &&
	              prb_s3_retryable(0, 429),
	      "5xx, SlowDown and throttling are retried");
	CHECK(!prb_s3_retryable(0, 200) && !prb_s3_retryable(0, 404) &&
	              !prb_s3_retryable(0, 412) && !prb_s3_retryable(0, 403) &&
	              !prb_s3_retryable(0, 400),
	      "success and other 4xx are final");
	CHECK(prb_s3_retryable(7, 0) && prb_s3_retryable(56, 0) &&
	              prb_s3_retryable(52, 0) && prb_s3_retryable(28, 0),
	      "refused, reset, empty reply, timeout are retried");
	CHECK(!prb_s3_retryable(3, 0) && !prb_s3_retryable(1, 0),
	      "a malformed URL or unsupported protocol is final");
	CHECK(prb_s3_backoff_ms(1, 0.999) <= 100 &&
	              prb_s3_backoff_ms(2, 0.999) <= 200 &&
	              prb_s3_backoff_ms(2, 0.999) > 100,
	      "doubling from 100 ms");
	CHECK(prb_s3_backoff_ms(40, 0.999) <= 5000 &&
	              prb_s3_backoff_ms(40, 0.999) > 4000 &&
	              prb_s3_backoff_ms(40, 0.0) == 0,
	      "capped at 5 s, full jitter");
}

/* ---- a fake S3 ---------------------------------------------------------- */

static int busy_left;      /* 503s still to answer on /b/busy */
static int busy_hits;      /* requests seen there */
static int final_hits;     /* requests seen on /b/denied */
static char stored[256];   /* the body of /b/cas */
static const char *cas_etag = "e1";
static const char *lost_etag = "f1"; /* /b/lost's ETag now */
static const char *cp_etag = "\"c1\""; /* /bkt/p/checkpoint's */
static int del_hits, deleted;        /* DELETEs of /bkt/p/tile/0/000 */
static int q_gen = 1;   /* /bkt/q/checkpoint: 1, then 3 (another's) */
static int q_forks;     /* PUTs that replaced the other writer's */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned st, const char *body,
      const char *h1, const char *v1)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (h1)
		MHD_add_response_header(r, h1, v1);
	enum MHD_Result ret = MHD_queue_response(c, st, r);
	MHD_destroy_response(r);
	return ret;
}

static const char page1[] =
	"<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true"
	"</IsTruncated><CommonPrefixes><Prefix>p/d&amp;1/</Prefix>"
	"</CommonPrefixes><Contents><Key>p/a&lt;b</Key><Size>7</Size>"
	"</Contents><NextContinuationToken>t+/=1</NextContinuationToken>"
	"</ListBucketResult>";
static const char page2[] =
	"<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>false"
	"</IsTruncated><Contents><Key>p/z</Key><Size>1</Size></Contents>"
	"</ListBucketResult>";

static const char page_loop[] =
	"<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true"
	"</IsTruncated><Contents><Key>loop/a</Key><Size>1</Size></Contents>"
	"<NextContinuationToken>same</NextContinuationToken>"
	"</ListBucketResult>";
static int loop_pages;

static enum MHD_Result
fake(void *cls, struct MHD_Connection *c, const char *url, const char *method,
     const char *version, const char *up, size_t *uplen, void **state)
{
	(void)cls;
	(void)version;
	if (!*state) { /* the first call: headers only */
		*state = (void *)1;
		return MHD_YES;
	}
	if (*uplen) { /* a PUT body: keep /b/cas's */
		size_t n = *uplen < sizeof stored - 1 ? *uplen : sizeof stored - 1;
		if (strcmp(url, "/bkt/cas") == 0) {
			memcpy(stored, up, n);
			stored[n] = 0;
		}
		*uplen = 0;
		return MHD_YES;
	}
	if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                 "x-amz-content-sha256") ||
	    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"))
		return reply(c, 403, "<Error><Code>Unsigned</Code></Error>", NULL,
		             NULL);
	if (strcmp(url, "/bkt/big") == 0) { /* 100000 bytes, over any cap here */
		static char big[100000];
		memset(big, 'x', sizeof big);
		struct MHD_Response *r = MHD_create_response_from_buffer(
			sizeof big, big, MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/bkt/busy") == 0) {
		busy_hits++;
		if (busy_left-- > 0)
			return reply(c, busy_left % 2 ? 503 : 429,
			             "<Error><Code>SlowDown</Code></Error>", NULL,
			             NULL);
		return reply(c, 200, "done", "x-amz-meta-digest-signature", "ab12");
	}
	if (strcmp(url, "/bkt/denied") == 0) {
		final_hits++;
		return reply(c, 403, "<Error><Code>AccessDenied</Code></Error>",
		             NULL, NULL);
	}
	if (strcmp(url, "/bkt/range") == 0) {
		const char *rg = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             "Range");
		if (rg && strcmp(rg, "bytes=2-4") == 0)
			return reply(c, 206, "234", "Content-Range",
			             "bytes 2-4/10");
		return reply(c, 200, "0123456789", NULL, NULL);
	}
	if (strcmp(url, "/bkt/cas") == 0) { /* RGW: If-Match only unquoted */
		const char *im = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             "If-Match");
		if (strcmp(method, "HEAD") == 0)
			return reply(c, 200, "", "ETag", "\"e1\"");
		if (!im || strcmp(im, cas_etag) != 0)
			return reply(c, 412, "", NULL, NULL);
		return reply(c, 200, "", "ETag", "\"e2\"");
	}
	if (strcmp(url, "/bkt/lost") == 0) { /* applies, answers 500 */
		const char *im = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             "If-Match");
		if (strcmp(method, "HEAD") == 0)
			return reply(c, 200, "", "ETag", lost_etag);
		if (!im || (strcmp(im, "\"f1\"") != 0 && strcmp(im, "f1") != 0) ||
		    strcmp(lost_etag, "f1") != 0)
			return reply(c, 412, "", NULL, NULL);
		lost_etag = "\"f2\"";
		return reply(c, 500, "<Error><Code>InternalError</Code></Error>",
		             NULL, NULL);
	}
	if (strcmp(url, "/bkt/p/checkpoint") == 0) { /* a store's lease */
		if (strcmp(method, "PUT") == 0) { /* the fence, on c1 */
			const char *im = MHD_lookup_connection_value(
				c, MHD_HEADER_KIND, "If-Match");
			if (!im || strcmp(im, cp_etag) != 0)
				return reply(c, 412, "", NULL, NULL);
			cp_etag = "\"fenced\"";
		}
		return reply(c, 200, "log\n1\nroot\n", "ETag", cp_etag);
	}
	if (strcmp(url, "/bkt/q/checkpoint") == 0) { /* PUT answers no ETag */
		const char *im = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             "If-Match");
		char want[16], wantq[16];
		snprintf(want, sizeof want, "q%d", q_gen);
		snprintf(wantq, sizeof wantq, "\"q%d\"", q_gen);
		if (strcmp(method, "PUT") != 0)
			return reply(c, 200, q_gen == 1 ? "log\n1\nA\n"
			                                : "log\n9\nother\n",
			             "ETag", wantq);
		if (!im || (strcmp(im, want) != 0 && strcmp(im, wantq) != 0))
			return reply(c, 412, "", NULL, NULL);
		if (q_gen == 3)
			q_forks++;
		q_gen = 3; /* ours landed; another writer replaced it at once */
		return reply(c, 200, "", NULL, NULL);
	}
	if (strcmp(url, "/bkt/p/tile/0/000") == 0) {
		if (strcmp(method, "DELETE") != 0)
			return reply(c, 200, "", "ETag", "\"t\"");
		if (del_hits++ == 0) { /* lost; another writer fences meanwhile */
			cp_etag = "\"other\"";
			return reply(c, 503, "<Error><Code>SlowDown</Code></Error>",
			             NULL, NULL);
		}
		deleted = 1;
		return reply(c, 204, "", NULL, NULL);
	}
	const char *lp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	                                             "prefix");
	if (strcmp(url, "/bkt/") == 0 && lp && strcmp(lp, "loop/") == 0)
		/* truncated for ever with one token (bounded here) */
		return reply(c, 200, ++loop_pages < 50 ? page_loop : page2, NULL,
		             NULL);
	if (strcmp(url, "/bkt/") == 0) {
		const char *tok = MHD_lookup_connection_value(
			c, MHD_GET_ARGUMENT_KIND, "continuation-token");
		return reply(c, 200, tok && strcmp(tok, "t+/=1") == 0 ? page2
		                                                     : page1,
		             NULL, NULL);
	}
	return reply(c, 404, "<Error><Code>NoSuchKey</Code></Error>", NULL,
	             NULL);
}

static char listed[512];

static int
on_key(void *ctx, const char *key, int is_prefix, uint64_t size)
{
	(void)ctx;
	size_t n = strlen(listed);
	snprintf(listed + n, sizeof listed - n, "%s%s:%llu ", key,
	         is_prefix ? "(dir)" : "", (unsigned long long)size);
	return 0;
}

/* A store's DELETE that fails retryably is sent again only after the
 * lease is checked again: here another writer fenced in between, so the
 * object (which that writer may have taken over and committed) stays. */
static void
store_lease(unsigned port)
{
	char dir[] = "/tmp/prb-s3-XXXXXX", ep[64];
	prb_store *st = NULL;
	prb_err e;
	memset(&e, 0, sizeof e);
	uint8_t *b = NULL;
	size_t n;
	if (!mkdtemp(dir)) {
		SKIP("mkdtemp");
		return;
	}
	snprintf(ep, sizeof ep, "http://127.0.0.1:%u", port);
	setenv("AWS_ENDPOINT_URL", ep, 1);
	setenv("AWS_ACCESS_KEY_ID", "AK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SK", 1);
	CHECK(prb_store_open_s3("s3://bkt/p", dir, &st, &e) == 0, "open: %s",
	      e.msg);
	if (st && st->ops->lock(st, 0, &e) == 0 &&
	    st->ops->get(st, "checkpoint", &b, &n, &e) == 0) {
		int rc = st->ops->remove(st, "tile/0/000", &e);
		CHECK(rc == PRB_ECONFLICT && !deleted && del_hits == 1,
		      "a DELETE is not retried past a lease lost meanwhile "
		      "(rc %d, %d DELETEs, deleted %d): %s", rc, del_hits,
		      deleted, e.msg);
	} else {
		CHECK(0, "lock and read the checkpoint: %s", e.msg);
	}
	free(b);
	b = NULL;
	if (st)
		st->ops->close(st);
	st = NULL;
	/* a PUT answered without an ETag: the checkpoint's ETag is learnt
	 * with our bytes, not by a HEAD that may see a later writer's */
	static const char b2[] = "log\n2\nB\n", b3[] = "log\n3\nC\n";
	if (prb_store_open_s3("s3://bkt/q", dir, &st, &e) == 0 &&
	    st->ops->lock(st, 0, &e) == 0 &&
	    st->ops->get(st, "checkpoint", &b, &n, &e) == 0) {
		int rc1 = st->ops->set_checkpoint(st, b, n, (const uint8_t *)b2,
		                                  sizeof b2 - 1, &e);
		int rc2 = st->ops->set_checkpoint(st, (const uint8_t *)b2,
		                                  sizeof b2 - 1,
		                                  (const uint8_t *)b3,
		                                  sizeof b3 - 1, &e);
		CHECK(rc1 == 0 && rc2 == PRB_ECONFLICT && q_forks == 0,
		      "no commit on another writer's ETag (rc %d %d, %d "
		      "replaced): %s", rc1, rc2, q_forks, e.msg);
	} else {
		CHECK(0, "open, lock, read the checkpoint: %s", e.msg);
	}
	free(b);
	if (st)
		st->ops->close(st);
	unsetenv("AWS_ENDPOINT_URL");
	t_rm_rf(dir);
}

static void
against_fake(void)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, fake, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	if (!d) {
		SKIP("cannot start a local HTTP server");
		return;
	}
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	prb_s3_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	snprintf(cfg.endpoint, sizeof cfg.endpoint, "http://127.0.0.1:%u",
	         (unsigned)di->port);
	snprintf(cfg.region, sizeof cfg.region, "us-east-1");
	snprintf(cfg.access_key, sizeof cfg.access_key, "AK");
	snprintf(cfg.secret_key, sizeof cfg.secret_key, "SK");
	cfg.path_style = 1;
	cfg.max_tries = 6;
	cfg.max_wait_ms = 20000;
	cfg.timeout_ms = 5000;
	prb_s3 *c = NULL;
	prb_err e;
	uint8_t *data = NULL;
	size_t n = 0;
	prb_s3_info info;
	CHECK(prb_s3_open(&cfg, "bkt", &c, &e) == 0, "open: %s", e.msg);
	if (!c) {
		MHD_stop_daemon(d);
		return;
	}
	CHECK(prb_s3_get(c, "big", 0, 0, 4096, &data, &n, NULL, &e) ==
	                      PRB_ETOOBIG && !data,
	      "a body over the cap is refused, not allocated");
	busy_left = 4;
	CHECK(prb_s3_get(c, "busy", 0, 0, 100, &data, &n, &info, &e) == 0 &&
	              n == 4 && memcmp(data, "done", 4) == 0 && busy_hits == 5,
	      "503 and 429 retried until it answers (%d requests)", busy_hits);
	CHECK(prb_s3_meta(&info, "digest-signature") &&
	              strcmp(prb_s3_meta(&info, "digest-signature"), "ab12") ==
	                      0 &&
	              !prb_s3_meta(&info, "other"),
	      "user metadata read");
	free(data);
	busy_hits = 0;
	busy_left = 100;
	CHECK(prb_s3_head(c, "busy", &info, &e) == PRB_EIO && busy_hits == 6,
	      "a server busy for ever: retries end after max_tries (%d)",
	      busy_hits);
	CHECK(prb_s3_get(c, "denied", 0, 0, 100, &data, &n, NULL, &e) ==
	                      PRB_EIO && final_hits == 1 &&
	              strstr(e.msg, "AccessDenied"),
	      "403 is final at once, with S3's code: %s", e.msg);
	CHECK(prb_s3_get(c, "nokey", 0, 0, 100, &data, &n, NULL, &e) ==
	              PRB_ENOTFOUND,
	      "404 is PRB_ENOTFOUND");
	CHECK(prb_s3_get(c, "range", 2, 3, 100, &data, &n, &info, &e) == 0 &&
	              n == 3 && memcmp(data, "234", 3) == 0 && info.length == 10,
	      "a range, and the object's length from Content-Range");
	free(data);
	CHECK(prb_s3_put(c, "cas", (const uint8_t *)"new", 3, PRB_S3_REPLACE,
	                 "e1", &info, &e) == 0 &&
	              strcmp(info.etag, "e2") == 0 && strcmp(stored, "new") == 0,
	      "If-Match retried unquoted where only that works: %s", e.msg);
	CHECK(prb_s3_put(c, "cas", (const uint8_t *)"x", 1, PRB_S3_REPLACE,
	                 "e9", &info, &e) == PRB_ECONFLICT,
	      "a stale ETag is PRB_ECONFLICT");
	CHECK(prb_s3_put(c, "lost", (const uint8_t *)"x", 1, PRB_S3_REPLACE,
	                 "f1", &info, &e) == PRB_EINDOUBT,
	      "If-Match applied, answered 500, its retry 412: in doubt, not "
	      "a conflict: %s", e.msg);
	CHECK(prb_s3_put(c, "a b", (const uint8_t *)"x", 1, PRB_S3_ANY, NULL,
	                 NULL, &e) == PRB_EINVAL,
	      "a key that would need escaping is refused");
	listed[0] = 0;
	CHECK(prb_s3_list(c, "p/", "/", on_key, NULL, &e) == 0 &&
	              strcmp(listed, "p/d&1/(dir):0 p/a<b:7 p/z:1 ") == 0,
	      "two pages, entities decoded: %s", listed);
	listed[0] = 0;
	CHECK(prb_s3_list(c, "loop/", "/", on_key, NULL, &e) ==
	                      PRB_EMALFORMED && loop_pages == 2,
	      "a listing whose pages do not advance ends (%d pages): %s",
	      loop_pages, e.msg);
	prb_s3_close(c);
	store_lease(di->port);
	MHD_stop_daemon(d);
}

static void
store_urls(void)
{
	char dir[] = "/tmp/prb-s3-XXXXXX", path[64], url[PRB_STORE_URL_MAX];
	if (!mkdtemp(dir)) {
		SKIP("mkdtemp");
		return;
	}
	CHECK(prb_store_url(dir, url, NULL) == 0 && url[0] == 0,
	      "no DIR/store: the directory is the store");
	snprintf(path, sizeof path, "%s/store", dir);
	FILE *f = fopen(path, "w");
	fputs("s3://bkt/p\n", f);
	fclose(f);
	CHECK(prb_store_url(dir, url, NULL) == 0 && strcmp(url, "s3://bkt/p") == 0,
	      "DIR/store read: %s", url);
	f = fopen(path, "w");
	fputs("s3://bkt/p\ns3://other/q\n", f);
	fclose(f);
	CHECK(prb_store_url(dir, url, NULL) == PRB_EMALFORMED,
	      "two lines refused");
	t_rm_rf(dir);
}

int
main(void)
{
	urls();
	endpoints();
	environment();
	etags();
	retries();
	against_fake();
	store_urls();
	return T_DONE("test_s3");
}
