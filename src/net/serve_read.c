/*
 * probity serve: the log read as c2sp.org/tlog-tiles resources. Nothing
 * here touches the log handle: GET /checkpoint serves the copy the
 * committer leaves in s->checkpoint, and tiles and bundles are read from
 * their files once their path names a resource of the committed tree
 * (s->size), so nothing served can later change (invariant 2 of
 * include/probity/serve.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "probity/tile.h"
#include "base/util.h"
#include "net/serve_int.h"

/* 1 if tile (level, n, width) belongs to the tree of `size` leaves
 * (a full tile; or a partial one no wider than the level's count). */
static int
in_tree(uint64_t size, int level, uint64_t n, unsigned width)
{
	unsigned lv = level == PRB_ENTRIES_LEVEL ? 0 : (unsigned)level;
	uint64_t count = prb_tile_level_count(size, lv);
	uint64_t full = count / PRB_TILE_WIDTH;
	if (width == PRB_TILE_WIDTH)
		return n < full;
	/* a partial tile of a tile now full: still what it was */
	return n < full || (n == full && width <= count % PRB_TILE_WIDTH);
}

/* gzip of data into a malloc'd buffer; -1 on failure. */
static int
gzip_bytes(const uint8_t *data, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	uLong cap = deflateBound(&z, (uLong)len) + 32;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*outlen = (size_t)z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* 1 if Accept-Encoding lists gzip (or "*") without q=0. */
static int
accepts_gzip(struct MHD_Connection *c)
{
	const char *ae = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	for (const char *p = ae; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t;,");
		int gz = (n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		         (n == 1 && *p == '*');
		p += n;
		double q = 1;
		while (*p && *p != ',') { /* parameters: ";q=0.5" */
			p += strspn(p, " \t;");
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
				q = strtod(p + 2, NULL);
			p += strcspn(p, ";,");
		}
		if (gz && q > 0)
			return 1;
	}
	return 0;
}

/* A tile or bundle of the committed tree (in_tree checked) of a log
 * whose objects are not files under DIR: with --redirect, a 302 to the
 * bucket's public URL (the object is immutable there too); else its
 * bytes read through the log's store (cfg.objects, e.g. S3). */
static enum MHD_Result
serve_tile_elsewhere(prb_server *s, struct MHD_Connection *c,
                     const char *path)
{
	if (s->cfg.redirect) {
		char url[4096];
		size_t n = strlen(s->cfg.redirect);
		while (n > 0 && s->cfg.redirect[n - 1] == '/')
			n--;
		snprintf(url, sizeof url, "%.*s/%s", (int)n, s->cfg.redirect,
		         path);
		return prb_httpd_replyf_header(c, MHD_HTTP_FOUND,
		                               MHD_HTTP_HEADER_LOCATION, url,
		                               "see %s\n", url);
	}
	uint8_t *data;
	size_t len;
	prb_err err;
	int rc = s->cfg.objects->ops->get(s->cfg.objects, path, &data, &len,
	                                  &err);
	if (rc == PRB_ENOTFOUND)
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND, "%s not found",
		                        path);
	if (rc != 0)
		return prb_httpd_replyf_header(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                               MHD_HTTP_HEADER_RETRY_AFTER, "1",
		                               "%s: %s", path, err.msg);
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        s->cfg.public_read
	                                ? "public, max-age=31536000, immutable"
	                                : "private, max-age=31536000, "
	                                  "immutable");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
serve_read_tile(prb_server *s, struct MHD_Connection *c, const char *path)
{
	int level;
	uint64_t n;
	unsigned width;
	if (prb_tile_parse_path(path, &level, &n, &width) != 0)
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND,
		                        "no such resource");
	pthread_mutex_lock(&s->mu);
	uint64_t size = s->size;
	pthread_mutex_unlock(&s->mu);
	if (!in_tree(size, level, n, width))
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND,
		                        "%s is not in the tree of size %llu",
		                        path, (unsigned long long)size);
	if (s->cfg.redirect || s->cfg.objects)
		return serve_tile_elsewhere(s, c, path);
	char file[4096];
	uint8_t *data;
	size_t len;
	snprintf(file, sizeof file, "%s/%s", s->cfg.dir, path);
	if (prb_read_file(file, (size_t)PRB_TILE_WIDTH * (PRB_MAX_ENTRY + 2),
	                  &data, &len, NULL) != 0)
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND, "%s not found",
		                        path);
	const char *cache = s->cfg.public_read
	                            ? "public, max-age=31536000, immutable"
	                            : "private, max-age=31536000, immutable";
	struct MHD_Response *r;
	uint8_t *gz = NULL;
	size_t gzlen = 0;
	int zipped = level == PRB_ENTRIES_LEVEL && accepts_gzip(c) &&
	             gzip_bytes(data, len, &gz, &gzlen) == 0;
	if (zipped) {
		free(data);
		r = MHD_create_response_from_buffer(gzlen, gz,
		                                    MHD_RESPMEM_MUST_FREE);
	} else {
		r = MHD_create_response_from_buffer(len, data,
		                                    MHD_RESPMEM_MUST_FREE);
	}
	if (!r) {
		free(zipped ? gz : data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	if (level == PRB_ENTRIES_LEVEL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
		                        "Accept-Encoding");
	if (zipped)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
		                        "gzip");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
serve_read_checkpoint(prb_server *s, struct MHD_Connection *c)
{
	enum MHD_Result r;
	pthread_mutex_lock(&s->mu);
	if (s->checkpoint)
		r = prb_httpd_reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8",
		                    "no-cache", s->checkpoint,
		                    s->checkpoint_len);
	else
		r = prb_httpd_replyf_header(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                            MHD_HTTP_HEADER_RETRY_AFTER, "1",
		                            "no checkpoint has been cosigned by "
		                            "enough witnesses yet; retry later");
	pthread_mutex_unlock(&s->mu);
	return r;
}
