/*
 * probity serve: see include/probity/serve.h for the endpoints and the
 * invariants.
 *
 * Threads: libmicrohttpd runs one thread per connection; a request
 * handler parses its body into entries, queues them (a serve_job) and
 * sleeps until the committer has made them durable. The committer thread
 * is the only one that touches the log's writer (include/probity/writer.h,
 * which owns the commit protocol): it takes every job queued (up to
 * batch_entries), hands them to the writer as one batch, and wakes their
 * handlers with the writer's result. Requests arriving meanwhile queue up
 * for the next batch; that is the group commit. The queue is bounded in
 * entries; a request that does not fit is answered 503 with Retry-After.
 *
 * Reads (checkpoint, tiles, bundles) never touch the writer: the
 * checkpoint is a copy taken under the lock after each commit, and tiles
 * are read from their files, after checking their path names a resource of
 * that committed tree (invariant 2; serve_read.c).
 *
 * This file: start and stop, the request dispatch, POST /add and the
 * committer. Credentials are in serve_auth.c, GET /metrics in
 * serve_metrics.c, the state they share in serve_int.h.
 */
#include "probity/serve.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probity/cosign.h"
#include "probity/entry.h"
#include "probity/http.h"
#include "probity/index.h"
#include "probity/ingest.h"
#include "probity/sha256.h"
#include "probity/tile.h"
#include "net/serve_int.h"
#include "base/util.h"

#define DEFAULT_MAX_BODY ((size_t)8 << 20)
#define DEFAULT_QUEUE 65536
#define DEFAULT_BATCH 65536

/* ---- the committer ---- */

void
serve_job_free(serve_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; j->recs && i < j->n; i++) {
		prb_event_free(&j->recs[i].ev);
		prb_entry_free(&j->recs[i].en);
	}
	free(j->recs);
	free(j->ents);
	free(j->lens);
	free(j->index);
	free(j->outcome);
	free(j);
}

/* Makes note the checkpoint readers get. Called with mu held. */
static void
set_served(prb_server *s, const char *note, size_t len, uint64_t size)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return; /* readers keep the previous one */
	memcpy(copy, note, len);
	copy[len] = 0;
	free(s->checkpoint);
	s->checkpoint = copy;
	s->checkpoint_len = len;
	s->published = size;
}

/* After a commit: the new size for tile reads, and without witnesses the
 * new checkpoint for readers. Called with mu held. */
static void
serve_committed(prb_server *s)
{
	prb_log *log = prb_writer_log(s->w);
	size_t len;
	if (!log)
		return;
	const char *cp = prb_log_checkpoint(log, &len);
	s->size = prb_log_size(log);
	if (!s->cosign)
		set_served(s, cp, len, s->size);
}

/* The writer could not reopen the log after a failure: appends are
 * refused from now on. */
static void
serve_check_broken(prb_server *s)
{
	prb_err why;
	if (!prb_writer_broken(s->w, &why))
		return;
	pthread_mutex_lock(&s->mu);
	int was = s->broken;
	s->broken = 1;
	pthread_mutex_unlock(&s->mu);
	if (!was)
		fprintf(stderr, "probity serve: %s: cannot reopen the log after "
		        "a failed batch: %s; appends are refused from now on\n",
		        s->cfg.dir, why.msg);
}

/* Has the latest checkpoint cosigned and, with a quorum, published. Runs
 * in the committer between batches. Returns 0 when a quorum cosigned. */
static int
witness_round(prb_server *s)
{
	prb_writer_cosigned c;
	prb_err err;
	prb_err_clear(&err);
	uint64_t size = prb_writer_size(s->w);
	int rc = prb_writer_cosign(s->w, &c, &err);
	if (rc == 0 && c.publish_rc)
		fprintf(stderr, "probity serve: %s: the cosigned checkpoint of "
		        "size %llu is served but may not be in the checkpoint "
		        "file: %s\n", s->cfg.dir, (unsigned long long)c.size,
		        c.publish_err.msg);
	else if (rc == 0 && c.warn.msg[0])
		fprintf(stderr, "probity serve: checkpoint size %llu cosigned by "
		        "%zu witnesses; %s\n", (unsigned long long)c.size, c.got,
		        c.warn.msg);
	else if (rc != 0)
		fprintf(stderr, "probity serve: checkpoint size %llu not "
		        "published: %s\n", (unsigned long long)size, err.msg);
	serve_check_broken(s);
	pthread_mutex_lock(&s->mu);
	if (rc == 0) {
		set_served(s, c.note, c.len, c.size);
		s->m_cosigned++;
	} else {
		s->m_uncosigned++;
	}
	pthread_mutex_unlock(&s->mu);
	free(c.note);
	return rc;
}

static void
jobs_fail(serve_job *jobs, int rc, int in_doubt, const prb_err *err)
{
	for (serve_job *j = jobs; j; j = j->next) {
		j->rc = rc;
		j->in_doubt = in_doubt;
		snprintf(j->msg, sizeof j->msg, "%s%s%s", err->where,
		         err->where[0] ? ": " : "", err->msg);
	}
}

/* Wakes the handlers of jobs, whose batch of n entries is done (each
 * job's rc says how), and counts it. */
static void
jobs_done(prb_server *s, serve_job *jobs, size_t n)
{
	double t = prb_now_mono();
	pthread_mutex_lock(&s->mu);
	if (jobs->rc == 0) {
		serve_committed(s);
		s->m_batches++;
		s->m_entries += n;
		hist_add(&s->m_batch, batch_bounds, NBATCH, (double)n);
	} else {
		s->m_failed_batches++;
	}
	for (serve_job *j = jobs, *nx; j; j = nx) {
		nx = j->next;
		if (j->rc == 0)
			hist_add(&s->m_lat, lat_bounds, NLAT, t - j->queued_at);
		j->done = 1;
	}
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->mu);
}

/* Answers the jobs of a batch of n entries by the writer's result. */
static void
jobs_answer(prb_server *s, serve_job *jobs, size_t n, const prb_writer_batch *r)
{
	if (r->state == PRB_BATCH_IN) {
		for (serve_job *j = jobs; j; j = j->next)
			j->rc = 0;
		if (r->index_rc)
			fprintf(stderr, "probity serve: %s: the index did not "
			        "record the batch (%s); it catches up from the log "
			        "before the next records\n",
			        s->cfg.dir, r->index_err.msg);
	} else {
		jobs_fail(jobs, r->rc, r->state == PRB_BATCH_DOUBT, &r->err);
		fprintf(stderr, "probity serve: %s: batch of %zu entries not "
		        "committed%s: %s\n", s->cfg.dir, n,
		        r->state == PRB_BATCH_DOUBT ? " (in doubt)" : "",
		        jobs->msg);
	}
	serve_check_broken(s);
	jobs_done(s, jobs, n);
}

/*
 * The batches shipped to the writer and not yet answered, oldest first
 * (the writer pipelines them: while one is made durable, the next is
 * hashed and written; its results come in the same order).
 */
typedef struct {
	serve_job *jobs;
	size_t n; /* entries */
} serve_flight;

typedef struct {
	serve_flight f[PRB_WRITER_INFLIGHT];
	int n;
} serve_flights;

static void
serve_finish_oldest(prb_server *s, serve_flights *fl)
{
	serve_flight f = fl->f[0];
	memmove(&fl->f[0], &fl->f[1], (size_t)(fl->n - 1) * sizeof fl->f[0]);
	fl->n--;
	prb_writer_batch r;
	prb_writer_collect(s->w, &r);
	jobs_answer(s, f.jobs, f.n, &r);
}

static void
serve_drain(prb_server *s, serve_flights *fl)
{
	while (fl->n > 0)
		serve_finish_oldest(s, fl);
}

/* Hands the jobs' entries and records to the writer's batch; each entry's
 * leaf index and each record's outcome go to its job. *n counts the new
 * entries. */
static int
build_batch(prb_server *s, serve_job *jobs, size_t *n, prb_err *err)
{
	*n = 0;
	for (serve_job *j = jobs; j; j = j->next) {
		if (!j->recs) {
			uint64_t first = prb_writer_next_leaf(s->w);
			int rc = prb_writer_append(s->w, j->ents, j->lens, j->n,
			                           err);
			if (rc)
				return rc;
			for (size_t i = 0; i < j->n; i++)
				j->index[i] = first + i;
			*n += j->n;
			continue;
		}
		for (size_t i = 0; i < j->n; i++) {
			int outcome;
			int rc = prb_writer_record(s->w, &j->recs[i].ev,
			                           &j->recs[i].en, &j->index[i],
			                           &outcome, err);
			if (rc)
				return rc;
			j->outcome[i] = (uint8_t)outcome;
			*n += outcome == PRB_WRITER_NEW;
		}
	}
	return 0;
}

/* Commits a batch of jobs through the writer. Plain entries are
 * pipelined (the batch before is answered once this one is shipped);
 * records wait for everything before them and are committed at once,
 * since the index follows the log in order. */
static void
run_batch(prb_server *s, serve_flights *fl, serve_job *jobs)
{
	prb_err err;
	prb_err_clear(&err);
	int records = jobs->recs != NULL; /* all of them, or none */
	if (records || fl->n == PRB_WRITER_INFLIGHT)
		serve_drain(s, fl);
	prb_writer_batch r;
	memset(&r, 0, sizeof r);
	r.state = PRB_BATCH_OUT;
	size_t n = 0;
	if (prb_writer_broken(s->w, NULL))
		r.rc = prb_err_set(&r.err, PRB_EFAILED, NULL, UINT64_MAX,
		                   "the log is unusable after a failed batch; "
		                   "restart the server");
	else if ((r.rc = build_batch(s, jobs, &n, &err)) == 0)
		r.rc = prb_writer_ship(s->w, &err);
	if (r.rc != 0 || n == 0) { /* not shipped: failed, or nothing new */
		if (r.rc != 0 && r.err.msg[0] == 0)
			r.err = err;
		if (r.rc == 0)
			r.state = PRB_BATCH_IN;
		serve_drain(s, fl); /* answers stay in order */
		jobs_answer(s, jobs, n, &r);
		return;
	}
	fl->f[fl->n].jobs = jobs;
	fl->f[fl->n++].n = n;
	if (records || fl->n == PRB_WRITER_INFLIGHT)
		serve_finish_oldest(s, fl);
}

/* 1 if a witness round is due now: the size has not been cosigned, and
 * it is new or the last attempt was a second ago or more. */
static int
witness_due(prb_server *s, uint64_t witnessed, uint64_t tried, double last_try)
{
	return s->cosign && !s->broken && s->size != witnessed &&
	       (s->size != tried || prb_now_mono() - last_try >= 1.0);
}

static void *
serve_committer(void *arg)
{
	prb_server *s = arg;
	serve_flights fl;
	uint64_t witnessed = UINT64_MAX, tried = UINT64_MAX;
	double last_try = 0, last_round = 0;
	memset(&fl, 0, sizeof fl);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stopping && fl.n == 0 &&
		       !witness_due(s, witnessed, tried, last_try)) {
			if (s->cosign && !s->broken && s->size != witnessed) {
				/* a failed round: retried a second later */
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += 1;
				pthread_cond_timedwait(&s->work, &s->mu, &ts);
			} else {
				pthread_cond_wait(&s->work, &s->mu);
			}
		}
		serve_job *jobs = s->head;
		if (jobs) { /* whole jobs, at least one, up to batch_entries,
		               all plain or all records (a writer's batch is
		               one or the other) */
			serve_job *last = jobs;
			size_t n = jobs->n;
			while (last->next &&
			       !last->next->recs == !jobs->recs &&
			       n + last->next->n <= s->cfg.batch_entries) {
				last = last->next;
				n += last->n;
			}
			s->head = last->next;
			if (!s->head)
				s->tail = NULL;
			last->next = NULL;
			s->queued -= n;
		}
		int stopping = s->stopping;
		pthread_mutex_unlock(&s->mu);

		if (jobs)
			run_batch(s, &fl, jobs);
		else if (fl.n > 0)
			serve_finish_oldest(s, &fl);
		else if (stopping)
			break;
		/* witnesses: whenever idle, and at least once a second under
		 * load (the proofs need nothing in flight) */
		if (s->cosign && (fl.n == 0 || prb_now_mono() - last_round >= 1.0)) {
			serve_drain(s, &fl);
			last_round = prb_now_mono();
			pthread_mutex_lock(&s->mu);
			int due = witness_due(s, witnessed, tried, last_try);
			pthread_mutex_unlock(&s->mu);
			if (due) {
				uint64_t size = prb_writer_size(s->w);
				tried = size;
				last_try = prb_now_mono();
				if (witness_round(s) == 0)
					witnessed = size;
			}
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queues a job and waits for its batch. Returns 0 when the job was
 * committed or failed (j->rc), -1 when the queue is full or the server
 * stopping (the job was not queued). */
static int
submit(prb_server *s, serve_job *j)
{
	pthread_mutex_lock(&s->mu);
	if (s->stopping || !s->running ||
	    s->queued + j->n > s->cfg.queue_entries) {
		s->m_rejected_full++;
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	s->inside++;
	j->queued_at = prb_now_mono();
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->queued += j->n;
	pthread_cond_signal(&s->work);
	while (!j->done)
		pthread_cond_wait(&s->done, &s->mu);
	s->inside--;
	pthread_cond_broadcast(&s->done); /* prb_serve_stop counts them */
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* ---- POST /add ---- */

int
serve_split_lines(serve_job *j, const uint8_t *body, size_t len, char *why,
                  size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += body[i] == '\n';
	if (len > 0 && body[len - 1] != '\n')
		n++;
	if (n == 0) {
		snprintf(why, cap, "the body holds no entries (one per line)");
		return -1;
	}
	j->ents = malloc(n * sizeof *j->ents);
	j->lens = malloc(n * sizeof *j->lens);
	j->index = malloc(n * sizeof *j->index);
	if (!j->ents || !j->lens || !j->index) {
		snprintf(why, cap, "out of memory");
		return -2;
	}
	const uint8_t *p = body, *end = body + len;
	for (size_t k = 0; k < n; k++) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l > PRB_MAX_ENTRY) {
			snprintf(why, cap, "line %zu: entry of %zu bytes is over "
			         "the limit of %d", k + 1, l, PRB_MAX_ENTRY);
			return -1;
		}
		j->ents[k] = p;
		j->lens[k] = l;
		p = nl ? nl + 1 : end;
	}
	j->n = n;
	return 0;
}

typedef struct {
	serve_job *j;
	prb_format hint;
	const char *buf;
	size_t cap;
	prb_err *err;
} rec_ctx;

static int
take_record(void *ctx, json_t *rec, const prb_record_pos *pos)
{
	rec_ctx *rc = ctx;
	serve_job *j = rc->j;
	if (j->n == rc->cap) {
		size_t c = rc->cap ? 2 * rc->cap : 64;
		serve_record *r = realloc(j->recs, c * sizeof *r);
		if (!r)
			return prb_err_set(rc->err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		j->recs = r;
		rc->cap = c;
	}
	serve_record *r = &j->recs[j->n];
	int e = prb_event_from_record(rc->hint, rec, &r->ev, rc->err);
	if (e == 0) {
		e = prb_entry_from_record(rec, rc->buf + pos->offset,
		                          (size_t)pos->length, &r->en, rc->err);
		if (e)
			prb_event_free(&r->ev);
	}
	if (e) {
		char m[sizeof rc->err->msg];
		snprintf(m, sizeof m, "%s", rc->err->msg);
		return prb_err_set(rc->err, e, NULL, pos->offset,
		                   "line %llu, record %llu: %s",
		                   (unsigned long long)pos->line,
		                   (unsigned long long)pos->number, m);
	}
	j->n++;
	return 0;
}

static int
parse_records(serve_job *j, prb_format hint, const uint8_t *body, size_t len,
              char *why, size_t cap)
{
	prb_err err;
	prb_err_clear(&err);
	rec_ctx rc = {j, hint, (const char *)body, 0, &err};
	int e = prb_records_scan((const char *)body, len, take_record, &rc,
	                         &err);
	if (e == 0 && j->n == 0) {
		snprintf(why, cap, "the body holds no records");
		return -1;
	}
	if (e) {
		snprintf(why, cap, "%s", err.msg);
		return e == PRB_ENOMEM ? -2 : -1;
	}
	j->index = malloc(j->n * sizeof *j->index);
	j->outcome = malloc(j->n);
	if (!j->index || !j->outcome) {
		snprintf(why, cap, "out of memory");
		return -2;
	}
	return 0;
}

static enum MHD_Result
reply_indexes(struct MHD_Connection *c, unsigned status, const serve_job *j)
{
	static const char *const tag[] = {"", " duplicate", " conflict"};
	size_t cap = j->n * 32 + 1, len = 0;
	char *out = malloc(cap);
	if (!out)
		return prb_httpd_replyf(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                        "out of memory (the entries ARE "
		                        "committed)");
	for (size_t i = 0; i < j->n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%llu%s\n",
		                        (unsigned long long)j->index[i],
		                        j->outcome ? tag[j->outcome[i]] : "");
	enum MHD_Result r = prb_httpd_reply(c, status,
	                                    "text/plain; charset=utf-8",
	                                    "no-store", out, len);
	free(out);
	return r;
}

static enum MHD_Result
handle_add(prb_server *s, struct MHD_Connection *c, prb_httpd_body *body)
{
	const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	                                              "format");
	prb_format hint = PRB_FMT_AUTO;
	if (fmt && prb_format_parse(fmt, &hint) != 0)
		return prb_httpd_replyf(c, MHD_HTTP_BAD_REQUEST,
		                        "unknown format \"%s\" (auto, cloudtrail, "
		                        "azure-activity, gcp-audit, k8s-audit)",
		                        fmt);
	serve_job *j = calloc(1, sizeof *j);
	char why[600];
	if (!j)
		return prb_httpd_replyf(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                        "out of memory");
	int p = fmt ? parse_records(j, hint, body->buf, body->len, why,
	                            sizeof why)
	            : serve_split_lines(j, body->buf, body->len, why,
	                                sizeof why);
	enum MHD_Result ret;
	unsigned st;
	if (p == -1)
		ret = prb_httpd_replyf(c, st = MHD_HTTP_BAD_REQUEST, "%s", why);
	else if (p)
		ret = prb_httpd_replyf(c, st = MHD_HTTP_INTERNAL_SERVER_ERROR,
		                       "%s", why);
	else if (j->n > s->cfg.queue_entries)
		ret = prb_httpd_replyf(c, st = MHD_HTTP_CONTENT_TOO_LARGE,
		                       "%zu entries in one request; at most %zu",
		                       j->n, s->cfg.queue_entries);
	else if (submit(s, j) != 0)
		ret = prb_httpd_replyf_header(
			c, st = MHD_HTTP_SERVICE_UNAVAILABLE,
			MHD_HTTP_HEADER_RETRY_AFTER, "1",
			"the append queue is full; retry later");
	else if (j->rc == 0)
		ret = reply_indexes(c, st = MHD_HTTP_OK, j);
	else
		ret = prb_httpd_replyf(
			c, st = MHD_HTTP_INTERNAL_SERVER_ERROR,
			"not committed%s: %s", j->in_doubt
				? " as far as the server knows (the commit is "
				  "in doubt: check the log's size)"
				: "",
			j->msg);
	serve_metrics_count_status(s, st);
	serve_job_free(j);
	return ret;
}

/* ---- dispatch ---- */

typedef struct {
	prb_httpd_body body;
	int is_add;
	int answered; /* a response was queued before the body was read */
} request;


/* The first call of a POST /add: check the credential and the declared
 * length before reading the body. Returns 1 if it answered. */
static int
add_precheck(prb_server *s, struct MHD_Connection *c, enum MHD_Result *ret)
{
	if (serve_auth_none(&s->tokens)) {
		*ret = prb_httpd_replyf(c, MHD_HTTP_FORBIDDEN,
		                        "appends are disabled: the server has no "
		                        "credentials (--tokens)");
		serve_metrics_count_status(s, 403);
		return 1;
	}
	unsigned st = serve_auth_deny(&s->tokens, c, RIGHT_APPEND, ret);
	if (st) {
		serve_metrics_count_status(s, st);
		return 1;
	}
	if (prb_httpd_declares_over(c, s->cfg.max_body)) {
		*ret = prb_httpd_replyf(c, MHD_HTTP_CONTENT_TOO_LARGE,
		                        "a body is at most %zu bytes",
		                        s->cfg.max_body);
		serve_metrics_count_status(s, 413);
		return 1;
	}
	return 0;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload,
        size_t *upload_size, void **con_cls)
{
	prb_server *s = cls;
	request *rq = *con_cls;
	enum MHD_Result ret;
	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		rq->body.max = s->cfg.max_body;
		rq->is_add = strcmp(method, "POST") == 0 &&
		             strcmp(url, "/add") == 0;
		if (rq->is_add && add_precheck(s, c, &ret)) {
			rq->answered = 1;
			return ret;
		}
		return MHD_YES;
	}
	if (rq->is_add) {
		if (*upload_size) {
			prb_httpd_body_add(&rq->body, upload, *upload_size);
			*upload_size = 0;
			return MHD_YES;
		}
		if (rq->answered)
			return MHD_YES;
		if (rq->body.oom)
			return prb_httpd_replyf(c, MHD_HTTP_SERVICE_UNAVAILABLE,
			                        "out of memory reading the body; "
			                        "nothing was committed");
		if (rq->body.too_big) {
			serve_metrics_count_status(s, 413);
			return prb_httpd_replyf(c, MHD_HTTP_CONTENT_TOO_LARGE,
			                        "a body is at most %zu bytes",
			                        s->cfg.max_body);
		}
		ret = handle_add(s, c, &rq->body);
		return ret;
	}
	if (*upload_size) { /* a body where none is wanted: dropped */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/add") == 0)
		return prb_httpd_replyf(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                        "POST entries to /add");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		if (strcmp(url, "/checkpoint") == 0 ||
		    strncmp(url, "/tile/", 6) == 0 ||
		    strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0)
			return prb_httpd_replyf(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                        "method %s not allowed here",
			                        method);
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND, "no such resource");
	}
	if (strcmp(url, "/checkpoint") == 0)
		return serve_read_checkpoint(s, c);
	if (strcmp(url, "/healthz") == 0) {
		pthread_mutex_lock(&s->mu);
		int broken = s->broken;
		pthread_mutex_unlock(&s->mu);
		return broken ? prb_httpd_replyf(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                                 "the log is unusable")
		              : prb_httpd_replyf(c, MHD_HTTP_OK, "ok");
	}
	int is_tile = strncmp(url, "/tile/", 6) == 0;
	if (!is_tile && strcmp(url, "/metrics") != 0)
		return prb_httpd_replyf(c, MHD_HTTP_NOT_FOUND, "no such resource");
	if (!s->cfg.public_read &&
	    serve_auth_deny(&s->tokens, c, RIGHT_READ, &ret))
		return ret;
	return is_tile ? serve_read_tile(s, c, url + 1)
	               : serve_metrics_get(s, c);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
          enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	request *rq = *con_cls;
	if (!rq)
		return;
	prb_httpd_body_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

/* ---- start, stop ---- */

int
prb_serve_start(const prb_serve_cfg *cfg, prb_server **out, prb_err *err)
{
	*out = NULL;
	prb_server *s = calloc(1, sizeof *s);
	if (!s) {
		prb_writer_close(cfg->writer);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	}
	s->cfg = *cfg;
	if (!s->cfg.max_body)
		s->cfg.max_body = DEFAULT_MAX_BODY;
	if (!s->cfg.queue_entries)
		s->cfg.queue_entries = DEFAULT_QUEUE;
	if (!s->cfg.batch_entries)
		s->cfg.batch_entries = DEFAULT_BATCH;
	s->w = cfg->writer;
	s->cosign = cfg->cosign;
	s->dirfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	serve_auth_init(&s->tokens);
	int rc = 0;
	if (cfg->tokens)
		rc = serve_auth_load(&s->tokens, cfg->tokens, err);
	if (rc || (rc = serve_read_open(s, err)) != 0)
		goto fail;
	serve_committed(s);
	if (s->cosign) { /* already cosigned by a quorum: served at once */
		prb_verifier lv;
		size_t len;
		const char *cp = prb_log_checkpoint(prb_writer_log(s->w), &len);
		prb_signer_verifier(cfg->signer, &lv);
		if (prb_cosign_count(s->cosign, cp, len, &lv) >= cfg->quorum)
			set_served(s, cp, len, s->size);
	}
	if (!s->cosign && !s->checkpoint) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
		goto fail;
	}
	prb_httpd_cfg hc = {
		.listen = cfg->listen,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.conn_limit = cfg->conn_limit,
		.timeout_s = cfg->timeout_s,
		.per_client = cfg->per_client,
		.head_s = cfg->head_s,
		.body_s = cfg->body_s,
		.query_path = "/add", /* ?format= */
		.handler = handler,
		.handler_ctx = s,
		.completed = completed,
		.completed_ctx = s,
	};
	/* listening first: until the committer runs, appends get 503 */
	rc = prb_httpd_start(&hc, &s->httpd, err);
	if (rc)
		goto fail;
	if (pthread_create(&s->committer, NULL, serve_committer, s) != 0) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "cannot start the committer thread");
		goto fail;
	}
	pthread_mutex_lock(&s->mu);
	s->started = s->running = 1;
	pthread_mutex_unlock(&s->mu);
	*out = s;
	return 0;
fail:
	prb_serve_stop(s);
	return rc;
}

int
prb_serve_reload(prb_server *s, prb_err *err)
{
	serve_tokens fresh = {0};
	int rc = 0;
	if (s->cfg.tokens)
		rc = serve_auth_load(&fresh, s->cfg.tokens, err);
	if (rc == 0)
		rc = prb_httpd_reload(s->httpd, err);
	if (rc == 0 && s->cfg.tokens)
		serve_auth_replace(&s->tokens, &fresh);
	serve_auth_free(&fresh);
	return rc;
}

const char *
prb_serve_url(const prb_server *s)
{
	return prb_httpd_url(s->httpd);
}

void
prb_serve_stop(prb_server *s)
{
	if (!s)
		return;
	/* no new connections; requests on open ones are refused (503);
	 * those queued or in a batch are committed and answered, and their
	 * answers given a moment to leave before the connections close */
	prb_httpd_quiesce(s->httpd);
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_signal(&s->work);
	while (s->inside > 0)
		pthread_cond_wait(&s->done, &s->mu);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; s->httpd && i < 40 && prb_httpd_connections(s->httpd);
	     i++)
		usleep(50 * 1000);
	prb_httpd_stop(s->httpd);
	if (s->started)
		pthread_join(s->committer, NULL);
	prb_writer_close(s->w);
	serve_auth_free(&s->tokens);
	serve_auth_destroy(&s->tokens);
	serve_read_close(s);
	free(s->checkpoint);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	free(s);
}
