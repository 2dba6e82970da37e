/*
 * The object store: the log's objects in an S3 bucket under PREFIX, each
 * at its tlog-tiles path (PREFIX/tile/0/x001/002, PREFIX/checkpoint), so
 * the bucket can be served as-is by any static host. Keeps store.h's
 * contract over s3.h; DIR (local) holds the lock file and the index.
 *
 * put():  copied into a bounded queue that NWORKERS threads drain, each
 *         with its own connection (a batch's PUTs run in parallel; a
 *         batch costs one PUT per new tile, bundle and blob):
 *           PUT If-None-Match: *         -- write once
 *           412: GET it; the same bytes are fine (a retry of our own PUT,
 *           or a batch redone after a crash), other bytes fail the handle
 *           (another writer, or a leftover of a batch that no checkpoint
 *           names): every later put, sync and commit fails.
 * sync(): waits until no put is queued or running; S3 acknowledges a PUT
 *         only once it is durable, so that is all.
 * set_checkpoint(old, new): sync(), then
 *           PUT checkpoint If-Match: <ETag of old>   (old NULL:
 *           If-None-Match: *). The ETag is the one this handle got from
 *           its own fence or commit, or else with old when it read it; a
 *           checkpoint changed since then by anyone else fails the
 *           If-Match: PRB_ECONFLICT. new == old (the writer writing the
 *           checkpoint again after a commit in doubt) is written as a
 *           fence (below), so its ETag changes all the same.
 *           412 or a lost response: GET the checkpoint; our new bytes
 *           there mean it went through (a retry found its own write);
 *           else 412 is PRB_ECONFLICT, and a lost response PRB_EINDOUBT:
 *           the writer settles it by reopening and writing the
 *           checkpoint it finds again, which, a fence, makes any
 *           delayed copy of the request fail.
 * lock(): flock(DIR) against writers on this machine. Against writers
 *         elsewhere the commit's If-Match is enough until this handle
 *         deletes something; before its first delete it FENCES:
 *           B, E = the checkpoint and ETag the log read (get)
 *           PUT checkpoint B' If-Match: E
 *         where B' is B with its "— probity-fence" signature line (a
 *         line of a key no verifier knows, ignored by every verifier as
 *         c2sp.org/signed-note requires) replaced by a fresh random one.
 *         S3's ETag of a plain PUT is the MD5 of the bytes, so re-PUTting
 *         B itself would not change E: the fence must change the bytes.
 *         A 412 means the checkpoint moved since the log read it, so the
 *         log's idea of what lies beyond it is stale: nothing is deleted.
 *         Fencing only when there is something to delete lets a writer
 *         that finds nothing to clean up (and reindex, which takes the
 *         lock too) leave another machine's writer alone: of two writers
 *         racing for one round, the first commit wins and only the other
 *         fails.
 * remove(): only on a locked handle: HEAD the object (PRB_ENOTFOUND if
 *         absent, as store.h asks); the fence if this handle has not
 *         changed the checkpoint yet, else HEAD checkpoint, whose ETag
 *         must still be ours (else nothing is deleted, and the handle is
 *         fenced out: remove_fenced_out); DELETE.
 * list(): ListObjectsV2 with delimiter "/".
 *
 * Why two writers on two machines never fork the log, and why the loser
 * reports exactly what is committed (docs/durability.md says it at
 * length):
 *  1. The checkpoint only changes by a PUT conditional on the ETag of
 *     the bytes the writer's tree extends (read, or its own fence or
 *     commit). Between that and the PUT no other change can have
 *     happened, so every checkpoint a writer installs extends the one
 *     before it: the checkpoints are one chain of consistent trees.
 *  2. A writer commits a batch only after every object of it was
 *     acknowledged by S3 (sync), each written with If-None-Match: *, so
 *     the bytes at each name the checkpoint names are the ones this
 *     writer hashed: a name already taken by another writer's bytes
 *     failed the batch before its commit.
 *  3. A writer fences before it deletes anything: from the
 *     fence on, no other writer's commit can succeed (its If-Match names
 *     an ETag that no longer exists, and ETags of later checkpoints
 *     differ because their bytes differ), so the leftovers it deletes
 *     are never named by a checkpoint. An older writer that is fenced
 *     out deletes nothing: each remove() first checks that the
 *     checkpoint's ETag is still its own, before every attempt of the
 *     DELETE. (S3 has no conditional DELETE that RGW honours, so this
 *     check and the DELETE are two requests: between them another writer
 *     would have to fence, list, write that name and commit; the window
 *     is one DELETE request, not zero, and if it is hit a committed
 *     checkpoint names a deleted object: no fork, but a missing object.
 *     A store with conditional DELETE closes it.)
 *  4. The loser's commit fails with PRB_ECONFLICT: its batch is OUT and
 *     the writer reopens, reading the bucket's checkpoint: what it then
 *     reports as the log's size is exactly what the chain holds.
 */
#include "probity/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "probity/s3.h"
#include "probity/tile.h"
#include "base/util.h"

#define NWORKERS 8
#define QUEUE_BYTES ((size_t)32 << 20)
#define OBJECT_MAX ((size_t)64 << 20) /* a bundle is at most ~16 MiB */
#define NREADERS 16 /* idle connections kept for get() */
#define FENCE_NAME "probity-fence"
/* our checkpoint's ETag when it could not be learnt: no object has it,
 * so the next conditional PUT on it fails, and remove() sees the lease
 * as lost */
#define ETAG_UNKNOWN "-"

typedef struct sjob {
	struct sjob *next;
	size_t len;
	uint8_t *data;
	char name[];
} sjob;

typedef struct {
	prb_store base;
	prb_s3_cfg cfg;
	char bucket[PRB_S3_BUCKET_MAX];
	char prefix[513];
	char url[600];
	char dir[PATH_MAX];
	int dirfd;            /* flock'd while locked */
	prb_s3 *c;            /* the caller's connection */
	prb_s3 *wc[NWORKERS]; /* one per worker */
	prb_s3 *readers[NREADERS]; /* idle connections of get() */
	int nreaders;
	pthread_t th[NWORKERS];
	int nth;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	sjob *head, *tail;
	size_t qbytes;
	int running, stop;
	int failed;           /* a put failed: its error is ferr */
	prb_err ferr;
	int locked;           /* flock held; the bucket's lease comes with
	                         the first fence (cp then set) */
	int lost;             /* another writer changed the checkpoint */
	char etag[PRB_S3_ETAG_MAX]; /* of the checkpoint we last wrote */
	uint8_t *cp;          /* its bytes */
	size_t cp_len;
	uint8_t *from;        /* when cp is our fence: the bytes it fenced */
	size_t from_len;
	uint8_t *seen;        /* the checkpoint as get() last read it */
	size_t seen_len;
	char seen_etag[PRB_S3_ETAG_MAX];
	char **created;       /* names this handle's PUTs created since its */
	size_t ncreated, capcreated; /* last commit (under mu) */
} s3_store;

static void
key_of(const s3_store *s, const char *name, char *key, size_t cap)
{
	snprintf(key, cap, "%s%s%s", s->prefix, s->prefix[0] ? "/" : "", name);
}

/* Errors name the object by its store name (the CLI prefixes the URL). */
static int
rename_err(const s3_store *s, prb_err *err, const char *name, int rc)
{
	(void)s;
	if (err && name)
		snprintf(err->where, sizeof err->where, "%s", name);
	return rc;
}

/* ---- puts ---------------------------------------------------------------- */

/* Remembers that this handle's PUT created name (store_s3.c's top:
 * what a writer fenced out may still delete). */
static int
note_created(s3_store *s, const char *name, prb_err *err)
{
	char *copy = strdup(name);
	int rc = 0;
	pthread_mutex_lock(&s->mu);
	if (copy && s->ncreated == s->capcreated) {
		size_t cap = s->capcreated ? 2 * s->capcreated : 64;
		char **p = realloc(s->created, cap * sizeof *p);
		if (p) {
			s->created = p;
			s->capcreated = cap;
		}
	}
	if (copy && s->ncreated < s->capcreated)
		s->created[s->ncreated++] = copy;
	else
		rc = PRB_ENOMEM;
	pthread_mutex_unlock(&s->mu);
	if (rc) {
		free(copy);
		return prb_err_set(err, rc, name, UINT64_MAX, "out of memory");
	}
	return 0;
}

static void
forget_created(s3_store *s)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->ncreated; i++)
		free(s->created[i]);
	s->ncreated = 0;
	pthread_mutex_unlock(&s->mu);
}

static int
was_created(s3_store *s, const char *name)
{
	int found = 0;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->ncreated && !found; i++)
		found = strcmp(s->created[i], name) == 0;
	pthread_mutex_unlock(&s->mu);
	return found;
}

static int
put_once(s3_store *s, prb_s3 *c, const sjob *j, prb_err *err)
{
	char key[PRB_S3_KEY_MAX + 1];
	key_of(s, j->name, key, sizeof key);
	int rc = prb_s3_put(c, key, j->data, j->len, PRB_S3_CREATE, NULL, NULL,
	                    err);
	if (rc == 0)
		rc = note_created(s, j->name, err);
	if (rc != PRB_ECONFLICT)
		return rename_err(s, err, j->name, rc);
	uint8_t *have = NULL;
	size_t n = 0;
	rc = prb_s3_get(c, key, 0, 0, j->len + 1, &have, &n, NULL, err);
	if (rc == 0 && (n != j->len || memcmp(have, j->data, n) != 0))
		rc = prb_err_set(err, PRB_ECORRUPT, j->name, UINT64_MAX,
		                 "the bucket already holds other bytes under this "
		                 "name (written by another writer, or left by a "
		                 "batch no checkpoint names); objects are written "
		                 "once, so this writer stops");
	else if (rc == PRB_ETOOBIG)
		rc = prb_err_set(err, PRB_ECORRUPT, j->name, UINT64_MAX,
		                 "the bucket already holds a longer object under "
		                 "this name; objects are written once, so this "
		                 "writer stops");
	free(have);
	return rename_err(s, err, j->name, rc);
}

static void *
worker(void *arg)
{
	void **a = arg;
	s3_store *s = a[0];
	prb_s3 *c = a[1];
	free(a);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stop)
			pthread_cond_wait(&s->work, &s->mu);
		if (!s->head)
			break;
		sjob *j = s->head;
		s->head = j->next;
		if (!s->head)
			s->tail = NULL;
		s->running++;
		int skip = s->failed;
		pthread_mutex_unlock(&s->mu);
		prb_err e;
		prb_err_clear(&e);
		int rc = skip ? 0 : put_once(s, c, j, &e);
		pthread_mutex_lock(&s->mu);
		if (rc != 0 && !s->failed) {
			s->failed = 1;
			s->ferr = e;
		}
		s->qbytes -= j->len;
		s->running--;
		free(j);
		pthread_cond_broadcast(&s->idle);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Waits until no put is queued or running; the first failed one's error. */
static int
drain(s3_store *s, prb_err *err)
{
	pthread_mutex_lock(&s->mu);
	while (s->head || s->running)
		pthread_cond_wait(&s->idle, &s->mu);
	int failed = s->failed;
	if (failed && err)
		*err = s->ferr;
	pthread_mutex_unlock(&s->mu);
	return failed ? s->ferr.code : 0;
}

static int
s3s_put(prb_store *st, const char *name, const uint8_t *data, size_t len,
        prb_err *err)
{
	s3_store *s = (s3_store *)st;
	size_t nl = strlen(name);
	sjob *j = malloc(sizeof *j + nl + 1 + len);
	if (!j)
		return prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX,
		                   "out of memory");
	memcpy(j->name, name, nl + 1);
	j->data = (uint8_t *)j->name + nl + 1;
	memcpy(j->data, data, len);
	j->len = len;
	j->next = NULL;
	pthread_mutex_lock(&s->mu);
	while (s->qbytes > 0 && s->qbytes + len > QUEUE_BYTES && !s->failed)
		pthread_cond_wait(&s->idle, &s->mu);
	if (s->failed) {
		if (err)
			*err = s->ferr;
		pthread_mutex_unlock(&s->mu);
		free(j);
		return s->ferr.code;
	}
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->qbytes += len;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int
s3s_sync(prb_store *st, prb_err *err)
{
	return drain((s3_store *)st, err);
}

/* ---- reads --------------------------------------------------------------- */

/* A reader's connection from the pool (made when none is free). */
static prb_s3 *
reader_take(s3_store *s, prb_err *err)
{
	prb_s3 *c = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->nreaders > 0)
		c = s->readers[--s->nreaders];
	pthread_mutex_unlock(&s->mu);
	if (!c && prb_s3_open(&s->cfg, s->bucket, &c, err) != 0)
		return NULL;
	return c;
}

static void
reader_give(s3_store *s, prb_s3 *c)
{
	pthread_mutex_lock(&s->mu);
	if (s->nreaders < NREADERS) {
		s->readers[s->nreaders++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	prb_s3_close(c);
}

static int
copy_bytes(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len,
           prb_err *err)
{
	uint8_t *c = malloc(len ? len : 1);
	if (!c)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	memcpy(c, src, len);
	free(*dst);
	*dst = c;
	*dst_len = len;
	return 0;
}

static int
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a && alen == blen && memcmp(a, b, alen) == 0;
}

/* A writer read the checkpoint: what it read, and its ETag, are what its
 * first commit or fence replaces; one changed since our own last change
 * means another writer has taken over. */
static int
saw_checkpoint(s3_store *s, const uint8_t *b, size_t n, const char *etag,
               prb_err *err)
{
	/* read afresh before this handle changed anything, the log starts
	 * over from it (a fence that found it moved retries so) */
	s->lost = s->cp && strcmp(etag, s->etag) != 0;
	snprintf(s->seen_etag, sizeof s->seen_etag, "%s", etag);
	return copy_bytes(&s->seen, &s->seen_len, b, n, err);
}

/* Thread-safe (unlike the rest of a store handle): serve reads tiles
 * from many threads through one handle. */
static int
s3s_get(prb_store *st, const char *name, uint8_t **data, size_t *len,
        prb_err *err)
{
	s3_store *s = (s3_store *)st;
	char key[PRB_S3_KEY_MAX + 1];
	prb_s3_info info;
	int rc = drain(s, err);
	if (rc)
		return rc;
	key_of(s, name, key, sizeof key);
	prb_s3 *c = reader_take(s, err);
	if (!c)
		return rename_err(s, err, name, err ? err->code : PRB_ENOMEM);
	rc = prb_s3_get(c, key, 0, 0, OBJECT_MAX, data, len, &info, err);
	reader_give(s, c);
	if (rc == 0 && s->locked && strcmp(name, "checkpoint") == 0)
		rc = saw_checkpoint(s, *data, *len, info.etag, err);
	if (rc && *data) {
		free(*data);
		*data = NULL;
	}
	return rename_err(s, err, name, rc);
}

struct list_ctx {
	const s3_store *s;
	size_t skip; /* the store's prefix and '/' */
	int (*fn)(void *ctx, const char *name);
	void *ctx;
};

static int
list_one(void *ctx, const char *key, int is_prefix, uint64_t size)
{
	struct list_ctx *l = ctx;
	char name[PRB_S3_KEY_MAX + 1];
	(void)size;
	size_t n = strlen(key);
	if (n <= l->skip)
		return 0;
	snprintf(name, sizeof name, "%s", key + l->skip);
	n -= l->skip;
	if (is_prefix && name[n - 1] == '/')
		name[n - 1] = 0;
	return l->fn(l->ctx, name);
}

static int
s3s_list(prb_store *st, const char *prefix, int (*fn)(void *, const char *),
         void *ctx, prb_err *err)
{
	s3_store *s = (s3_store *)st;
	char key[PRB_S3_KEY_MAX + 1];
	int rc = drain(s, err);
	if (rc)
		return rc;
	key_of(s, prefix, key, sizeof key);
	struct list_ctx l = {s, s->prefix[0] ? strlen(s->prefix) + 1 : 0, fn,
	                     ctx};
	return prb_s3_list(s->c, key, "/", list_one, &l, err);
}

/* ---- the checkpoint and the lease ----------------------------------------- */

static int
keep_checkpoint(s3_store *s, const uint8_t *data, size_t len,
                const char *etag, prb_err *err)
{
	forget_created(s); /* now named, or left behind by no one */
	free(s->from);
	s->from = NULL;
	s->from_len = 0;
	snprintf(s->etag, sizeof s->etag, "%s", etag);
	return copy_bytes(&s->cp, &s->cp_len, data, len, err);
}

/* After a conditional PUT of the checkpoint that failed with rc: whether
 * our bytes are there anyway (a retry found its own earlier write). */
static int
settle_put(s3_store *s, const char *key, const uint8_t *data, size_t len,
           int rc, prb_err *err)
{
	uint8_t *have = NULL;
	size_t n;
	prb_s3_info info;
	prb_err e;
	int got = prb_s3_get(s->c, key, 0, 0, OBJECT_MAX, &have, &n, &info, &e);
	if (got == 0 && n == len && memcmp(have, data, len) == 0) {
		free(have);
		return keep_checkpoint(s, data, len, info.etag, err);
	}
	free(have);
	if (rc == PRB_ECONFLICT) {
		s->lost = 1;
		return prb_err_set(err, PRB_ECONFLICT, "checkpoint", UINT64_MAX,
		                   "another writer changed the checkpoint in %s "
		                   "since this writer last wrote it (the "
		                   "conditional PUT on its ETag failed): this "
		                   "batch is not committed", s->url);
	}
	if (rc == PRB_EINDOUBT || rc == PRB_EIO) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err ? err->msg : "no answer");
		return prb_err_set(
			err, PRB_EINDOUBT, "checkpoint", UINT64_MAX, "%.200s; %s",
			why,
			got == 0 ? "another writer's checkpoint is there now "
			           "(whether this batch went in before it is "
			           "settled by reading the log back)"
			         : "reading it back failed too: it may or may "
			           "not have been replaced");
	}
	return rc;
}

/* PUTs the checkpoint (If-None-Match: * when etag is NULL). */
static int
put_checkpoint(s3_store *s, const char *etag, const uint8_t *data,
               size_t len, prb_err *err)
{
	char key[PRB_S3_KEY_MAX + 1];
	prb_s3_info info;
	key_of(s, "checkpoint", key, sizeof key);
	int rc = prb_s3_put(s->c, key, data, len,
	                    etag ? PRB_S3_REPLACE : PRB_S3_CREATE, etag, &info,
	                    err);
	if (rc == 0 && !info.etag[0]) {
		/* no ETag in the answer: the one of our bytes, read back with
		 * them (a HEAD could give a later writer's ETag, and a commit
		 * on it would then replace that writer's checkpoint) */
		uint8_t *have = NULL;
		size_t n;
		prb_err e;
		if (prb_s3_get(s->c, key, 0, 0, OBJECT_MAX, &have, &n, &info,
		               &e) != 0 ||
		    !same(have, n, data, len) || !info.etag[0])
			snprintf(info.etag, sizeof info.etag, "%s", ETAG_UNKNOWN);
		free(have);
	}
	if (rc == 0)
		return keep_checkpoint(s, data, len, info.etag, err);
	if (rc == PRB_ECONFLICT || rc == PRB_EINDOUBT || rc == PRB_EIO)
		return settle_put(s, key, data, len, rc, err);
	return rc;
}

static int fence(s3_store *s, prb_err *err);

static int
s3s_set_checkpoint(prb_store *st, const uint8_t *old, size_t old_len,
                   const uint8_t *data, size_t len, prb_err *err)
{
	s3_store *s = (s3_store *)st;
	char key[PRB_S3_KEY_MAX + 1], etag[PRB_S3_ETAG_MAX];
	int rc = drain(s, err);
	if (rc)
		return rc;
	if (!old)
		return put_checkpoint(s, NULL, data, len, err);
	if (same(s->cp, s->cp_len, old, old_len) ||
	    same(s->from, s->from_len, old, old_len)) {
		/* ours, or what our fence replaced (the log holds that) */
		snprintf(etag, sizeof etag, "%s", s->etag);
	} else if (same(s->seen, s->seen_len, old, old_len)) {
		snprintf(etag, sizeof etag, "%s", s->seen_etag);
	} else { /* not what we wrote: compare with what is there */
		uint8_t *have = NULL;
		size_t n;
		prb_s3_info info;
		key_of(s, "checkpoint", key, sizeof key);
		rc = prb_s3_get(s->c, key, 0, 0, OBJECT_MAX, &have, &n, &info, err);
		int equal = rc == 0 && same(have, n, old, old_len);
		free(have);
		if (rc)
			return rename_err(s, err, "checkpoint", rc);
		if (!equal)
			return prb_err_set(err, PRB_ECONFLICT, "checkpoint",
			                   UINT64_MAX, "the checkpoint changed");
		snprintf(etag, sizeof etag, "%s", info.etag);
	}
	if (!same(old, old_len, data, len))
		return put_checkpoint(s, etag, data, len, err);
	/* the same bytes again: a fence, never the bytes themselves, whose
	 * ETag a writer fenced out may still hold */
	snprintf(s->seen_etag, sizeof s->seen_etag, "%s", etag);
	rc = copy_bytes(&s->seen, &s->seen_len, old, old_len, err);
	return rc ? rc : fence(s, err);
}

/* B with its fence line replaced by a fresh one. */
static int
fenced(const uint8_t *b, size_t n, uint8_t **out, size_t *outlen,
       prb_err *err)
{
	static const char mark[] = "\xe2\x80\x94 " FENCE_NAME " ";
	uint8_t rnd[20];
	char b64[40];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return prb_err_set(err, PRB_EIO, NULL, UINT64_MAX,
		                   "no random bytes for the fence");
	prb_b64_encode(rnd, sizeof rnd, b64);
	uint8_t *o = malloc(n + sizeof mark + sizeof b64 + 2);
	if (!o)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n;) { /* copy every line but an old fence */
		const uint8_t *nl = memchr(b + i, '\n', n - i);
		size_t ll = nl ? (size_t)(nl - (b + i)) + 1 : n - i;
		if (!(ll >= sizeof mark - 1 &&
		      memcmp(b + i, mark, sizeof mark - 1) == 0)) {
			memcpy(o + k, b + i, ll);
			k += ll;
		}
		i += ll;
	}
	k += (size_t)sprintf((char *)o + k, "%s%s\n", mark, b64);
	*out = o;
	*outlen = k;
	return 0;
}

/* The fence (see the top), before this handle's first delete: the
 * checkpoint the log read, with a fresh fence line, on its ETag. If it
 * changed since the log read it, the log's idea of what lies beyond it
 * is stale: PRB_ECONFLICT, and nothing is deleted. */
static int
fence(s3_store *s, prb_err *err)
{
	uint8_t *f = NULL;
	size_t fl = 0;
	if (!s->seen)
		return prb_err_set(err, PRB_EINVAL, "checkpoint", UINT64_MAX,
		                   "not read before a delete");
	int rc = fenced(s->seen, s->seen_len, &f, &fl, err);
	if (rc == 0)
		rc = put_checkpoint(s, s->seen_etag, f, fl, err);
	free(f);
	if (rc == PRB_ECONFLICT)
		rc = prb_err_set(err, rc, "checkpoint", UINT64_MAX,
		                 "another writer changed the checkpoint in %s "
		                 "since this writer read it (nothing is deleted "
		                 "or committed: reopen the log)", s->url);
	if (rc == 0)
		rc = copy_bytes(&s->from, &s->from_len, s->seen, s->seen_len, err);
	return rename_err(s, err, "checkpoint", rc);
}

static int
s3s_lock(prb_store *st, int wait_ms, prb_err *err)
{
	s3_store *s = (s3_store *)st;
	for (int waited = 0;; waited += 10) {
		if (flock(s->dirfd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return prb_err_set(err, PRB_EIO, s->dir, UINT64_MAX,
			                   "lock: %s", strerror(errno));
		if (waited >= wait_ms)
			return prb_err_set(err, PRB_ELOCKED, s->dir, UINT64_MAX,
			                   "another probity process is writing "
			                   "to this log");
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	s->locked = 1; /* the bucket's lease comes with the first delete */
	s->lost = 0;
	return 0;
}

/* Whether no checkpoint from the bucket's current one on can name the
 * partial tile `name`: its tile is full there, or wider than it. */
static int
passed(s3_store *s, const char *name)
{
	char key[PRB_S3_KEY_MAX + 1];
	uint8_t *b = NULL;
	size_t n;
	int level;
	uint64_t index, size;
	unsigned w;
	prb_err e;
	if (prb_tile_parse_path(name, &level, &index, &w) != 0 ||
	    w == PRB_TILE_WIDTH)
		return 0;
	key_of(s, "checkpoint", key, sizeof key);
	if (prb_s3_get(s->c, key, 0, 0, OBJECT_MAX, &b, &n, NULL, &e) != 0)
		return 0;
	const char *l2 = memchr(b, '\n', n);
	const char *end = l2 ? memchr(l2 + 1, '\n', n - (size_t)(l2 + 1 - (char *)b))
	                     : NULL;
	int ok = end && prb_parse_u64(l2 + 1, (size_t)(end - l2 - 1), UINT64_MAX,
	                              &size) == 0;
	free(b);
	uint64_t count = ok ? prb_tile_level_count(size, level < 0 ? 0
	                                                           : (unsigned)level)
	                    : 0;
	return ok && count > index * PRB_TILE_WIDTH + w;
}

/*
 * remove() on a handle another writer fenced out. It deletes only a
 * partial tile that this handle's own PUT created since its last commit
 * and that the bucket's current checkpoint has passed (passed): no later
 * checkpoint can name it, and left behind it would contradict the
 * committed tree where probity verify checks partials. Anything else
 * stays for the writer holding the lease: a full tile or a partial not
 * passed yet is beyond the checkpoint, so that writer's open removes it,
 * or its write-once PUT of that name finds it (same bytes: taken as its
 * own). A partial whose bytes the winner took as its own and named in a
 * checkpoint it has since passed may go with it: only a client still at
 * that older checkpoint misses it (it finds the full tile once there
 * is one).
 */
static int
remove_fenced_out(s3_store *s, const char *name, prb_err *err)
{
	char key[PRB_S3_KEY_MAX + 1];
	if (!was_created(s, name) || !passed(s, name))
		return prb_err_set(err, PRB_ECONFLICT, name, UINT64_MAX,
		                   "not deleted: another writer changed the "
		                   "checkpoint of %s (it has taken over the log)",
		                   s->url);
	key_of(s, name, key, sizeof key);
	return rename_err(s, err, name, prb_s3_delete(s->c, key, err));
}

static int
s3s_remove(prb_store *st, const char *name, prb_err *err)
{
	s3_store *s = (s3_store *)st;
	char key[PRB_S3_KEY_MAX + 1];
	prb_s3_info info;
	int rc = drain(s, err);
	if (rc)
		return rc;
	if (s->locked && s->lost)
		return remove_fenced_out(s, name, err);
	if (!s->locked)
		return prb_err_set(err, PRB_ECONFLICT, name, UINT64_MAX,
		                   "not deleted: this handle does not hold the "
		                   "lease on %s", s->url);
	key_of(s, name, key, sizeof key);
	rc = prb_s3_head(s->c, key, &info, err);
	if (rc) /* PRB_ENOTFOUND ends the log's search for leftovers */
		return rename_err(s, err, name, rc);
	int fenced_now = !s->cp;
	if (fenced_now && (rc = fence(s, err)) != 0)
		return rc;
	/* The lease check before every DELETE attempt: a retried DELETE
	 * would land up to the whole retry span after one check, time
	 * enough for another writer to fence, write that name and commit. */
	long waited = 0;
	for (int n = 1;; n++) {
		if (!fenced_now || n > 1) { /* is the checkpoint still ours? */
			char ck[PRB_S3_KEY_MAX + 1];
			key_of(s, "checkpoint", ck, sizeof ck);
			rc = prb_s3_head(s->c, ck, &info, err);
			if (rc)
				return rename_err(s, err, "checkpoint", rc);
			if (strcmp(info.etag, s->etag) != 0) {
				s->lost = 1;
				return remove_fenced_out(s, name, err);
			}
		}
		int retry = 0;
		uint16_t r16 = 0;
		rc = prb_s3_delete_once(s->c, key, &retry, err);
		if (!retry || n >= s->cfg.max_tries)
			break;
		if (RAND_bytes((unsigned char *)&r16, sizeof r16) != 1)
			r16 = 0x8000;
		long ms = prb_s3_backoff_ms(n, r16 / 65536.0);
		if (waited + ms > s->cfg.max_wait_ms)
			break;
		waited += ms;
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return rename_err(s, err, name, rc);
}

/* ---- open and close ------------------------------------------------------- */

static void
s3s_close(prb_store *st)
{
	s3_store *s = (s3_store *)st;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nth; i++)
		pthread_join(s->th[i], NULL);
	for (int i = 0; i < NWORKERS; i++)
		prb_s3_close(s->wc[i]);
	for (int i = 0; i < s->nreaders; i++)
		prb_s3_close(s->readers[i]);
	prb_s3_close(s->c);
	if (s->dirfd >= 0)
		close(s->dirfd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->idle);
	prb_s3_cfg_clear(&s->cfg);
	forget_created(s);
	free(s->created);
	free(s->cp);
	free(s->from);
	free(s->seen);
	free(s);
}

static const prb_store_ops s3_ops = {
	.get = s3s_get,
	.put = s3s_put,
	.sync = s3s_sync,
	.set_checkpoint = s3s_set_checkpoint,
	.list = s3s_list,
	.remove = s3s_remove,
	.lock = s3s_lock,
	.close = s3s_close,
};

static int
start_workers(s3_store *s, prb_err *err)
{
	for (int i = 0; i < NWORKERS; i++) {
		int rc = prb_s3_open(&s->cfg, s->bucket, &s->wc[i], err);
		if (rc)
			return rc;
		void **a = malloc(2 * sizeof *a);
		if (!a)
			return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		a[0] = s;
		a[1] = s->wc[i];
		if (pthread_create(&s->th[i], NULL, worker, a) != 0) {
			free(a);
			return prb_err_set(err, PRB_EIO, NULL, UINT64_MAX,
			                   "cannot start a thread");
		}
		s->nth++;
	}
	return 0;
}

int
prb_store_open_s3(const char *url, const char *dir, prb_store **out,
                  prb_err *err)
{
	*out = NULL;
	s3_store *s = calloc(1, sizeof *s);
	if (!s)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	s->base.ops = &s3_ops;
	s->dirfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->idle, NULL);
	int rc = prb_s3_url_parse(url, s->bucket, s->prefix, err);
	if (rc == 0 && strlen(dir) >= sizeof s->dir)
		rc = prb_err_set(err, PRB_EINVAL, dir, UINT64_MAX, "path too long");
	if (rc == 0) {
		snprintf(s->dir, sizeof s->dir, "%s", dir);
		snprintf(s->url, sizeof s->url, "s3://%s/%s", s->bucket,
		         s->prefix);
		s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0)
			rc = prb_err_set(err, errno == ENOENT ? PRB_ENOTFOUND
			                                      : PRB_EIO,
			                 dir, UINT64_MAX, "%s", strerror(errno));
	}
	if (rc == 0)
		rc = prb_s3_cfg_env(&s->cfg, err);
	if (rc == 0)
		rc = prb_s3_open(&s->cfg, s->bucket, &s->c, err);
	if (rc == 0)
		rc = start_workers(s, err);
	if (rc != 0) {
		s3s_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

/* ---- the store of a log directory ------------------------------------------ */

int
prb_store_url(const char *dir, char url[PRB_STORE_URL_MAX], prb_err *err)
{
	char path[PATH_MAX];
	uint8_t *b = NULL;
	size_t n;
	url[0] = 0;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
	                     PRB_STORE_URL_FILE) >= sizeof path)
		return prb_err_set(err, PRB_EINVAL, dir, UINT64_MAX,
		                   "path too long");
	int rc = prb_read_file(path, PRB_STORE_URL_MAX, &b, &n, err);
	if (rc == PRB_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	if (n == 0 || n >= PRB_STORE_URL_MAX || memchr(b, '\n', n) ||
	    memchr(b, 0, n))
		rc = prb_err_set(err, PRB_EMALFORMED, path, UINT64_MAX,
		                 "not one line holding the log's store URL");
	else {
		memcpy(url, b, n);
		url[n] = 0;
	}
	free(b);
	return rc;
}

int
prb_store_open(const char *dir, int sync_mode, prb_store **out,
               prb_err *err)
{
	char url[PRB_STORE_URL_MAX];
	int rc = prb_store_url(dir, url, err);
	if (rc)
		return rc;
	if (!url[0])
		return prb_store_open_dir(dir, sync_mode, out, err);
	rc = prb_store_open_s3(url, dir, out, err);
	if (rc && err && err->where[0] == 0)
		snprintf(err->where, sizeof err->where, "%.*s",
		         (int)sizeof err->where - 1, url);
	return rc;
}
