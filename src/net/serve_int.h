/*
 * Internal to probity serve: the server's state, shared by
 *   serve.c          start and stop, request dispatch, POST /add and the
 *                    committer (the only thread that touches the log)
 *   serve_auth.c     bearer credentials (invariant 4 of probity/serve.h)
 *   serve_read.c     GET /checkpoint and the tiles and bundles
 *                    (invariant 2)
 *   serve_metrics.c  GET /metrics and the counts behind it
 * Not part of the public API.
 */
#ifndef PRB_NET_SERVE_INT_H
#define PRB_NET_SERVE_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>

#include "probity/sha256.h"

#include "probity/entry.h"
#include "probity/http.h"
#include "probity/index.h"
#include "probity/ingest.h"
#include "probity/serve.h"

#define RIGHT_READ 1u
#define RIGHT_APPEND 2u

/* Histograms of durable latency (seconds) and batch size (entries):
 * counted by the committer, printed by serve_metrics_get. */
static const double lat_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,   0.25,   0.5,   1,    2.5,   5};
#define NLAT (sizeof lat_bounds / sizeof lat_bounds[0])
static const double batch_bounds[] = {1,    4,    16,    64,   256,
                                      1024, 4096, 16384, 65536};
#define NBATCH (sizeof batch_bounds / sizeof batch_bounds[0])

typedef struct {
	uint64_t count[16]; /* per bound, then +Inf (not cumulative) */
	uint64_t n;
	double sum;
} histogram;

static inline void
hist_add(histogram *h, const double *bounds, size_t nb, double v)
{
	size_t i = 0;
	while (i < nb && v > bounds[i])
		i++;
	h->count[i]++;
	h->n++;
	h->sum += v;
}

/* The credentials of --tokens (serve_auth.c): SHA-256 digests of the
 * tokens and the rights (RIGHT_*) of each. */
typedef struct {
	uint8_t (*digest)[PRB_SHA256_SIZE];
	unsigned *rights;
	size_t n;
	pthread_rwlock_t lock; /* held to read the above once serving; the
	                          server's own (serve_auth_init) */
} serve_tokens;

/* One record of a ?format= request, parsed by its handler. */
typedef struct {
	prb_event ev;
	prb_entry en;
} serve_record;

/* One POST /add waiting for its batch. */
typedef struct serve_job {
	struct serve_job *next;
	size_t n;                /* entries (or records) */
	const uint8_t **ents;    /* plain entries: pointers into the body */
	size_t *lens;
	serve_record *recs;            /* ?format=: records instead */
	uint64_t *index;         /* out: each entry's leaf index */
	uint8_t *outcome;        /* out: PRB_WRITER_NEW/_DUPLICATE/_CONFLICT
	                            per serve_record */
	int done, rc;            /* set by the committer */
	int in_doubt;            /* rc != 0 but the batch may be in */
	char msg[sizeof(((prb_err *)0)->where) + sizeof(((prb_err *)0)->msg) + 2];
	double queued_at;
} serve_job;

struct prb_server {
	prb_serve_cfg cfg;
	prb_writer *w;           /* only the committer thread uses it */
	prb_httpd *httpd;
	pthread_t committer;
	int started;

	pthread_mutex_t mu;
	pthread_cond_t work, done;
	serve_job *head, *tail;
	size_t queued;           /* entries in the queue */
	int stopping;
	int running;             /* the committer runs: jobs are taken */
	unsigned inside;         /* handlers in submit() */
	int broken;              /* the log could not be reopened */
	char *checkpoint;        /* the checkpoint GET /checkpoint serves: */
	size_t checkpoint_len;   /* the latest durable one, or with witnesses
	                            the latest cosigned by a quorum (or NULL) */
	uint64_t size;           /* the latest durable tree size */
	uint64_t published;      /* the size of `checkpoint` */
	prb_cosign *cosign;      /* the writer's, NULL without witnesses */

	serve_tokens tokens;     /* replaced whole by a reload */
	int dirfd;               /* DIR, which tiles are opened below
	                            (serve_read_open) */
	sem_t object_slots;      /* objects read whole from cfg.objects and
	                            held until sent: at most SERVE_OBJECT_SLOTS
	                            (serve_read.c) */
	int object_slots_made;

	/* metrics (under mu) */
	uint64_t m_entries, m_batches, m_requests[7], m_rejected_full;
	uint64_t m_failed_batches, m_cosigned, m_uncosigned;
	histogram m_lat, m_batch;
};

/* ---- serve.c: the parsing behind POST /add, pure (fuzzed by
 * tests/fuzz/fuzz_http.c) ---- */

/* Splits a plain POST /add body into its lines, the entries (pointers
 * into body; a last line without '\n' is an entry; an entry is at most
 * PRB_MAX_ENTRY bytes) into j->ents, j->lens, j->n, and allocates
 * j->index. Returns 0; -1 for a bad body and -2 out of memory, with the
 * reason in why. */
int serve_split_lines(serve_job *j, const uint8_t *body, size_t len,
                      char *why, size_t cap);

/* Frees a job and what it holds. Accepts NULL. */
void serve_job_free(serve_job *j);

/* ---- serve_auth.c ---- */

/* Reads the token file at path into t (see "Token file" in
 * probity/serve.h). On failure t may hold the lines read before. */
int serve_auth_load(serve_tokens *t, const char *path, prb_err *err);

/* Wipes and frees the digests. */
void serve_auth_free(serve_tokens *t);

/* The lock of the server's credentials: before serve_auth_load, and
 * destroyed after serve_auth_free. */
void serve_auth_init(serve_tokens *t);
void serve_auth_destroy(serve_tokens *t);

/* Replaces the credentials of t by those of fresh (read by
 * serve_auth_load into a serve_tokens of its own) and frees the old
 * ones; fresh is left empty. Thread-safe against serve_auth_deny. */
void serve_auth_replace(serve_tokens *t, serve_tokens *fresh);

/* 1 when t holds no credential (appends are refused). Thread-safe. */
int serve_auth_none(serve_tokens *t);

/* Replies 401 (no known credential) or 403 (one without the right)
 * unless the request carries a token with every right of `need`
 * (RIGHT_*). Returns the status sent, with MHD's result in *ret; 0 if it
 * sent none. Thread-safe. */
unsigned serve_auth_deny(serve_tokens *t, struct MHD_Connection *c,
                         unsigned need, enum MHD_Result *ret);

/* ---- serve_read.c ---- */

/* 1 if tile (level, n, width) belongs to the tree of `size` leaves (a
 * full tile; or a partial one no wider than the level's count). Pure. */
int serve_tile_in_tree(uint64_t size, int level, uint64_t n,
                       unsigned width);

/* 1 if an Accept-Encoding value (NULL: none) lists gzip or "*" without
 * q=0. Pure. */
int serve_accepts_gzip(const char *accept_encoding);

/* Opens DIR (s->cfg.dir) for serve_read_tile; serve_read_close closes it
 * (also when never opened: dirfd -1). */
int serve_read_open(prb_server *s, prb_err *err);
void serve_read_close(prb_server *s);

/* GET /checkpoint: the checkpoint readers get (s->checkpoint), 503 while
 * there is none. Takes s->mu. */
enum MHD_Result serve_read_checkpoint(prb_server *s, struct MHD_Connection *c);

/* GET /<path> for a tile or entry bundle path ("tile/..."): the file,
 * if it is a resource of the tree of s->size (else 404) and a regular
 * file reached below DIR through no symlink (else 404), streamed;
 * bundles gzip-encoded, as they are sent, when the client accepts gzip.
 * Takes s->mu. */
enum MHD_Result serve_read_tile(prb_server *s, struct MHD_Connection *c,
                                const char *path);

/* ---- serve_metrics.c ---- */

/* Counts a POST /add answer by its status. Takes s->mu. */
void serve_metrics_count_status(prb_server *s, unsigned status);

/* GET /metrics: the counters in Prometheus text format. Takes s->mu. */
enum MHD_Result serve_metrics_get(prb_server *s, struct MHD_Connection *c);

#endif
