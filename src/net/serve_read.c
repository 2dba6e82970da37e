/*
 * probity serve: the log read as c2sp.org/tlog-tiles resources. Nothing
 * here touches the log handle: GET /checkpoint serves the copy the
 * committer leaves in s->checkpoint, and tiles and bundles are read from
 * their files once their path names a resource of the committed tree
 * (s->size), so nothing served can later change (invariant 2 of
 * include/probity/serve.h). Files are opened below DIR's descriptor
 * following no symlink, must be regular, and are streamed (sendfile, or
 * gzip made block by block): a request holds a bounded amount of memory
 * whatever the file (invariant 7 of DESIGN.md). On a log in object
 * storage (cfg.objects) an object is read whole through the store and
 * held until sent, so at most SERVE_OBJECT_SLOTS are held at once: a
 * request that finds none free within SERVE_OBJECT_WAIT_S is answered 503
 * with Retry-After (or use --redirect, and the bucket serves them).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "probity/tile.h"
#include "base/util.h"
#include "net/serve_int.h"

int
serve_tile_in_tree(uint64_t size, int level, uint64_t n, unsigned width)
{
	unsigned lv = level == PRB_ENTRIES_LEVEL ? 0 : (unsigned)level;
	uint64_t count = prb_tile_level_count(size, lv);
	uint64_t full = count / PRB_TILE_WIDTH;
	if (width == PRB_TILE_WIDTH)
		return n < full;
	/* a partial tile of a tile now full: still what it was */
	return n < full || (n == full && width <= count % PRB_TILE_WIDTH);
}

/* ---- files under DIR (invariant 7 of DESIGN.md) ---- */

/* The largest file served: a full entry bundle of the largest entries. */
#define MAX_TILE_FILE ((uint64_t)PRB_TILE_WIDTH * (PRB_MAX_ENTRY + 2))

/* Objects of a log in object storage held at once (each at most
 * MAX_TILE_FILE, 16 MiB: 256 MiB in all), and how long a request waits
 * for one to come free. */
#define SERVE_OBJECT_SLOTS 16
#define SERVE_OBJECT_WAIT_S 5

int
serve_read_open(prb_server *s, prb_err *err)
{
	if (s->cfg.objects) {
		if (sem_init(&s->object_slots, 0, SERVE_OBJECT_SLOTS) != 0)
			return prb_err_set(err, PRB_EIO, s->cfg.dir, UINT64_MAX,
			                   "sem_init: %s", strerror(errno));
		s->object_slots_made = 1;
	}
	s->dirfd = open(s->cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return prb_err_set(err, PRB_EIO, s->cfg.dir, UINT64_MAX,
		                   "cannot open the log directory: %s",
		                   strerror(errno));
	return 0;
}

void
serve_read_close(prb_server *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
	if (s->object_slots_made)
		sem_destroy(&s->object_slots);
	s->object_slots_made = 0;
}

/* Opens DIR/path for reading through prb_open_beneath (no symlink in
 * any component, nothing outside DIR, a regular file, a FIFO refused
 * without blocking); the file must be at most MAX_TILE_FILE bytes.
 * Returns the descriptor with its size in *size, or -1. */
static int
open_in_dir(int dirfd, const char *path, uint64_t *size)
{
	struct stat st;
	int fd = prb_open_beneath(dirfd, path, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > MAX_TILE_FILE) {
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* ---- gzip, streamed ---- */

/* A gzip encoding of a file made as the response is sent: memory is
 * zlib's state (about 256 KiB at level 6) and one input block, whatever
 * the file's size. */
typedef struct {
	int fd;
	int eof, finished;
	z_stream z;
	uint8_t in[16384];
} gz_stream;

static ssize_t
gz_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	gz_stream *g = cls;
	(void)pos;
	if (g->finished)
		return MHD_CONTENT_READER_END_OF_STREAM;
	g->z.next_out = (Bytef *)buf;
	g->z.avail_out = (uInt)(max > (1u << 30) ? 1u << 30 : max);
	uInt cap = g->z.avail_out;
	while (g->z.avail_out > 0 && !g->finished) {
		if (g->z.avail_in == 0 && !g->eof) {
			ssize_t n = read(g->fd, g->in, sizeof g->in);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			g->eof = n == 0;
			g->z.next_in = g->in;
			g->z.avail_in = (uInt)n;
		}
		int rc = deflate(&g->z, g->eof ? Z_FINISH : Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			g->finished = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (cap == g->z.avail_out) /* nothing more: finished */
		return MHD_CONTENT_READER_END_OF_STREAM;
	return (ssize_t)(cap - g->z.avail_out);
}

static void
gz_free(void *cls)
{
	gz_stream *g = cls;
	deflateEnd(&g->z);
	close(g->fd);
	free(g);
}

/* A response streaming fd gzip-encoded; takes fd (closed on failure). */
static struct MHD_Response *
gz_response(int fd)
{
	gz_stream *g = calloc(1, sizeof *g);
	if (!g) {
		close(fd);
		return NULL;
	}
	g->fd = fd;
	if (deflateInit2(&g->z, 6, Z_DEFLATED, 15 + 16, 8,
	                 Z_DEFAULT_STRATEGY) != Z_OK) {
		close(fd);
		free(g);
		return NULL;
	}
	struct MHD_Response *r = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 32 * 1024, gz_read, g, gz_free);
	if (!r)
		gz_free(g);
	return r;
}

int
serve_accepts_gzip(const char *ae)
{
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

/* An object read whole from cfg.objects, held (in one of the
 * object_slots) until libmicrohttpd has sent it. */
typedef struct {
	uint8_t *data;
	size_t len;
	sem_t *slots;
} held_object;

static ssize_t
held_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	held_object *h = cls;
	if (pos >= h->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = h->len - (size_t)pos < max ? h->len - (size_t)pos : max;
	memcpy(buf, h->data + pos, n);
	return (ssize_t)n;
}

static void
held_free(void *cls)
{
	held_object *h = cls;
	free(h->data);
	sem_post(h->slots);
	free(h);
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
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SERVE_OBJECT_WAIT_S;
	int got;
	while ((got = sem_timedwait(&s->object_slots, &until)) != 0 &&
	       errno == EINTR)
		;
	if (got != 0)
		return prb_httpd_replyf_header(
			c, MHD_HTTP_SERVICE_UNAVAILABLE, MHD_HTTP_HEADER_RETRY_AFTER,
			"1", "busy: %d objects are being sent; try again",
			SERVE_OBJECT_SLOTS);
	held_object *h = calloc(1, sizeof *h);
	prb_err err;
	int rc = h ? s->cfg.objects->ops->get(s->cfg.objects, path, &h->data,
	                                      &h->len, &err)
	           : PRB_ENOMEM;
	if (rc != 0) {
		free(h);
		sem_post(&s->object_slots);
		if (rc == PRB_ENOTFOUND)
			return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND,
			                        "%s not found", path);
		return prb_httpd_replyf_header(
			c, MHD_HTTP_SERVICE_UNAVAILABLE,
			MHD_HTTP_HEADER_RETRY_AFTER, "1", "%s: %s", path,
			rc == PRB_ENOMEM ? "out of memory" : err.msg);
	}
	h->slots = &s->object_slots;
	struct MHD_Response *r = MHD_create_response_from_callback(
		h->len, 65536, held_read, h, held_free);
	if (!r) {
		held_free(h);
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
	if (!serve_tile_in_tree(size, level, n, width))
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND,
		                        "%s is not in the tree of size %llu",
		                        path, (unsigned long long)size);
	if (s->cfg.redirect || s->cfg.objects)
		return serve_tile_elsewhere(s, c, path);
	uint64_t fsize;
	int fd = open_in_dir(s->dirfd, path, &fsize);
	if (fd < 0)
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND, "%s not found",
		                        path);
	const char *cache = s->cfg.public_read
	                            ? "public, max-age=31536000, immutable"
	                            : "private, max-age=31536000, immutable";
	int zipped = level == PRB_ENTRIES_LEVEL &&
	             serve_accepts_gzip(MHD_lookup_connection_value(
			     c, MHD_HEADER_KIND,
			     MHD_HTTP_HEADER_ACCEPT_ENCODING));
	struct MHD_Response *r = zipped ? gz_response(fd)
	                                : MHD_create_response_from_fd64(fsize,
	                                                                fd);
	if (!r) {
		if (!zipped)
			close(fd);
		return prb_httpd_replyf(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                        "out of memory");
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
