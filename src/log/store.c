/*
 * The filesystem store: objects are files under a root directory, laid out
 * exactly as their names say, so the directory can be served as-is.
 *
 * put() copies the object into a bounded queue that NWORKERS threads
 * drain (file creation, not bandwidth, is what costs on ext4; two threads
 * overlap it with the caller's hashing). Each queued write (do_put):
 *   1. remember the parent directory (and any directory created)
 *   a new name (put_file), both modes:
 *   2. open("<name>", O_CREAT|O_EXCL), write all bytes
 *   3. PRB_SYNC_FS: close
 *      PRB_SYNC_FILES: sync_file_range(WRITE) (writeback starts; a hint),
 *      and remember <name> and its descriptor, still open, for its
 *      epoch's commit (note_fresh; past HOLD_MAX open ones, close it and
 *      remember the name)
 *   a name that exists already (replace_file), both modes:
 *   2. open("<name>.tmp", O_CREAT|O_TRUNC), write all bytes, fsync
 *   3. rename("<name>.tmp", "<name>")      -- readers see old or new
 * No durable checkpoint names a file that O_EXCL could create (every file
 * it names is durable), so a new file needs no temporary: a crash may
 * leave it partly written, and the next writer's open removes it.
 * sync() and a commit make durable the writes before them (sync_epochs):
 *   wait until none of them is queued or running; the first failed write
 *   fails the sync
 *   PRB_SYNC_FILES: one round (sync_round) in which the calling thread and
 *     NSYNC-1 syncer threads fsync, NSYNC at a time, every file
 *     remembered in step 3 (through its descriptor, or opened by name)
 *     and every remembered directory (opened), then close them; so many
 *     fsyncs are in flight together and the device's cache flushes are
 *     shared among them, instead of one fsync after another
 *   PRB_SYNC_FS: one syncfs(root), only on the filesystems where it is
 *     known to sync (fs_kinds, checked at open)
 * The commit point (set_checkpoint, replace_checkpoint) always does, in
 * this order (prb_write_durable):
 *   sync() already returned 0 for the batch, then
 *   write "checkpoint.tmp", fsync, rename to "checkpoint", fsync(root).
 * So every tile and bundle a checkpoint names is durable before it is.
 * A crash before the final fsync(root) leaves the old checkpoint (or the
 * new one, fully written); files written after the old checkpoint are not
 * named by it and are removed or overwritten by the next writer. An fsync
 * failure is reported and never retried (the page cache may have dropped
 * the data): the sync or commit fails, and so does every later one on
 * the handle (sfailed).
 *
 * commit() (store.h item 8) is the same sequence run by a committer
 * thread, so the caller hashes and writes the next batch meanwhile. Every
 * put carries the number of commits made before it (its epoch); commit
 * number E (committer):
 *   1. waits until no write of epoch <= E is queued or running (the queue
 *      is FIFO, so its head and the running writes tell); a failed one of
 *      them fails the commit
 *   2. PRB_SYNC_FS: syncfs(root) (it may also flush later writes: harmless)
 *      PRB_SYNC_FILES: one round over the files written by puts of epoch
 *      <= E and each directory a write of epoch <= E touched
 *   3. replace_checkpoint(old, new) as above
 * A failed commit fails every commit queued after it, unrun, until
 * commit_wait() has reported them all (cfail). get() waits for every
 * queued write; list() and remove() only for those under the directory
 * they look at (drain_prefix), so the log's per-tile cleanup does not
 * stall the pipeline.
 *
 * Bounds: the queue holds at most QUEUE_BYTES. A file is fsynced through
 * the descriptor it was written with, which pins its inode, and with it a
 * writeback error, until that fsync reports it; at most HOLD_MAX such
 * descriptors (and a quarter of RLIMIT_NOFILE) are held, and files past
 * that are opened again by name for their fsync (Linux reports a
 * writeback error to the first fsync after it on any descriptor, unless
 * memory pressure evicted the clean inode meanwhile). A round opens at
 * most NSYNC more.
 *
 * Write buffers come from a pool bounded like the queue, so the memory a
 * batch passes through is reused rather than faulted in afresh. The
 * writer, committer and syncer threads run as SCHED_BATCH where Linux has
 * it: waking one must not preempt the caller's hashing thread.
 *
 * The single-writer lock is flock(2) on the root directory's descriptor
 * (no lock file).
 *
 * The directory may be writable by others (issue 13): every open, mkdir,
 * rename and unlink under it resolves its name beneath the root's
 * descriptor with no symbolic link in any component (prb_open_beneath,
 * prb_parent_beneath, prb_mkdir_beneath, prb_unlink_beneath: openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), and a file opened is a regular
 * one (fstat) and, when written, has no other hard link; anything else
 * planted there is refused with its name, never followed.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "probity/store.h"
#include "base/util.h"

#define MAX_DIRS 4096
#define NWORKERS 2
#define QUEUE_BYTES ((size_t)32 << 20)
#define POOL_MAX 1024  /* buffers kept for reuse, at most QUEUE_BYTES */
#define NAME_SLOTS 4096 /* counts of queued names by hash */
#define LOOKAHEAD 8     /* queued writes a writer looks at (take_job) */
#define NSYNC 16        /* threads that fsync a batch's files together */
#define HOLD_MAX 4096   /* descriptors kept open from write to fsync, at
                           most, and at most a quarter of RLIMIT_NOFILE */
#define SYNC_STACK ((size_t)256 << 10)

typedef struct job {
	struct job *next;
	uint64_t epoch; /* commits made before this put */
	uint8_t *data;  /* from the pool */
	size_t len, cap;
	uint64_t hash;  /* of the name (FNV-1a) */
	uint64_t dhash; /* of its directory part, dlen bytes */
	size_t dlen;
	char name[];
} job;

/* A commit request (store.h item 8). */
typedef struct creq {
	struct creq *next;
	uint64_t epoch; /* covers every put of an epoch <= this */
	uint8_t *old, *data;
	size_t old_len, len;
	int has_old, done, rc;
	prb_err err;
} creq;

/* A file written in place by a put of epoch `epoch`, to be fsynced by the
 * commit of that epoch (or sync()): through fd, the descriptor it was
 * written through, or by name when fd is -1 (more files than HOLD_MAX). */
typedef struct {
	uint64_t epoch;
	char *name;
	int fd;
} fresh_file;

/* What one thread of a sync round fsyncs: fd, or else name, opened. */
typedef struct {
	const char *name;
	int fd;
	int dir;
} sync_item;

typedef struct {
	char *name;
	uint64_t first, last; /* epochs of the first and last write in it
	                         since its last fsync */
	int gone; /* removed by remove() since: nothing in it to sync */
} dir_note;

typedef struct {
	prb_store base;
	/* the write queue and its workers (started by the first put) */
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	job *head, *tail;
	size_t qbytes;
	int stop, nthreads;
	pthread_t th[NWORKERS];
	job *running[NWORKERS]; /* writes in progress, or NULL */
	unsigned short names[NAME_SLOTS]; /* queued or running, by slot */
	int failed; /* first error of a queued write, reported by sync */
	uint64_t fepoch; /* the epoch of that write */
	prb_err ferr;
	uint64_t epoch; /* commits made so far */
	/* the buffer pool (mu) */
	struct {
		uint8_t *p;
		size_t cap;
	} pool[POOL_MAX];
	size_t npool, pool_bytes;
	/* commits (mu): requests in order; cnext is the next to run */
	pthread_cond_t cwork, cdone;
	creq *chead, *ctail, *cnext;
	int cthread, crunning, cfail;
	pthread_t cth;
	pthread_mutex_t dmu; /* guards known[], dirs[] */
	char *root;
	int rootfd;
	int sync_mode;
	char known[16][256]; /* directories known to exist (a small ring) */
	unsigned nknown;
	dir_note dirs[MAX_DIRS]; /* directories to fsync (PRB_SYNC_FILES) */
	size_t ndirs;
	uint64_t dir_epoch; /* epoch of the write being noted (dmu) */
	/* files written in place, not fsynced yet (PRB_SYNC_FILES; dmu) */
	fresh_file *fresh;
	size_t nfresh, capfresh;
	size_t nheld, maxheld; /* descriptors of fresh files held open */
	/* a round of fsyncs shared by NSYNC threads (sync_round; smu) */
	pthread_mutex_t smu;
	pthread_cond_t swork, sdone;
	const sync_item *sitems;
	size_t sn, snext, sbusy;
	int sstop, snthreads, src;
	prb_err serr;
	pthread_t sth[NSYNC];
	/* a failed sync: every later sync and commit fails with it (mu) */
	int sfailed;
	prb_err sferr;
} dir_store;

static int
sys_err(prb_err *err, const char *name, const char *what)
{
	int e = errno;
	int code = e == ENOSPC || e == EDQUOT ? PRB_ENOSPC
	           : e == ENOENT             ? PRB_ENOTFOUND
	                                     : PRB_EIO;
	return prb_err_set(err, code, name, UINT64_MAX, "%s: %s", what,
	                   prb_beneath_strerror(e));
}

/* As sys_err, for writes: a missing file there is an I/O failure. */
static int
write_err(prb_err *err, const char *name, const char *what)
{
	int e = errno;
	int code = e == ENOSPC || e == EDQUOT ? PRB_ENOSPC : PRB_EIO;
	return prb_err_set(err, code, name, UINT64_MAX, "%s: %s", what,
	                   prb_beneath_strerror(e));
}

/* Remembers dir (relative to root) for fsync at sync() or at the commit
 * of `epoch` (dmu held). */
static int
note_dir(dir_store *d, const char *dir, uint64_t epoch, prb_err *err)
{
	if (d->sync_mode != PRB_SYNC_FILES)
		return 0;
	for (size_t i = d->ndirs; i > 0; i--) {
		dir_note *n = &d->dirs[i - 1];
		if (strcmp(n->name, dir) != 0)
			continue;
		if (n->gone) { /* made again */
			n->gone = 0;
			n->first = n->last = epoch;
		}
		if (epoch > n->last)
			n->last = epoch;
		if (epoch < n->first)
			n->first = epoch;
		return 0;
	}
	if (d->ndirs == MAX_DIRS)
		return prb_err_set(err, PRB_EIO, dir, UINT64_MAX,
		                   "too many directories in one batch");
	d->dirs[d->ndirs].name = strdup(dir);
	if (!d->dirs[d->ndirs].name)
		return prb_err_set(err, PRB_ENOMEM, dir, UINT64_MAX, "out of memory");
	d->dirs[d->ndirs].first = d->dirs[d->ndirs].last = epoch;
	d->dirs[d->ndirs].gone = 0;
	d->ndirs++;
	return 0;
}

/* mkdir -p of the parent directory of `name`, relative to root. */
static int
ensure_parent(dir_store *d, const char *name, uint64_t epoch, prb_err *err)
{
	char dir[512];
	const char *slash = strrchr(name, '/');
	if (!slash)
		return note_dir(d, ".", epoch, err);
	size_t n = (size_t)(slash - name);
	if (n >= sizeof dir)
		return prb_err_set(err, PRB_EINVAL, name, UINT64_MAX, "name too long");
	memcpy(dir, name, n);
	dir[n] = 0;
	for (unsigned i = 0; i < 16; i++)
		if (strcmp(dir, d->known[i]) == 0)
			return note_dir(d, dir, epoch, err);
	for (char *p = dir;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char c = *p;
		*p = 0;
		if (prb_mkdir_beneath(d->rootfd, dir, 0755) != 0 &&
		    errno != EEXIST)
			return write_err(err, dir, "mkdir");
		/* A new entry in the parent must be made durable too; so must
		 * one an earlier, killed writer made and never synced. */
		char *ps = strrchr(dir, '/');
		if (ps)
			*ps = 0;
		int rc = note_dir(d, ps ? dir : ".", epoch, err);
		if (ps)
			*ps = '/';
		if (rc)
			return rc;
		*p = c;
		if (c == 0)
			break;
	}
	if (n < sizeof d->known[0])
		memcpy(d->known[d->nknown++ % 16], dir, n + 1);
	return note_dir(d, dir, epoch, err);
}

/* Writes all of data to the new file fd, fsyncs it when `durable`, and
 * closes it. On failure removes `path`, the file just created. */
static int
fill_file(dir_store *d, int fd, const char *path, const char *name,
          const uint8_t *data, size_t len, int durable, prb_err *err)
{
	const char *what = NULL;
	int e = prb_write_all(fd, data, len);
	if (e != 0)
		errno = e, what = "write";
	else if (durable && fsync(fd) != 0)
		what = "fsync";
	int rc = what ? write_err(err, name, what) : 0;
	if (close(fd) != 0 && rc == 0)
		rc = write_err(err, name, "close");
	if (rc)
		prb_unlink_beneath(d->rootfd, path, 0);
	return rc;
}

/* Replaces name via name.tmp + rename, so a reader sees the old bytes or
 * the new ones, fsyncing name.tmp first: a name that exists may be one a
 * checkpoint names (rewritten with the same bytes, invariant 3), and a
 * crash must not leave it renamed over but unwritten. The directory is
 * fsynced with the batch (note_dir). */
static int
replace_file(dir_store *d, const char *name, const uint8_t *data, size_t len,
             prb_err *err)
{
	return prb_write_durable(d->rootfd, name, data, len, 0644,
	                         PRB_DURABLE_NODIR, err);
}

/* Remembers a file written in place through fd for the fsync of its
 * epoch's commit, keeping fd open while fewer than maxheld are (dmu
 * held). Returns 1 if fd was kept, 0 if the caller is to close it. */
static int
note_fresh(dir_store *d, const char *name, uint64_t epoch, int fd,
           prb_err *err)
{
	if (d->nfresh == d->capfresh) {
		size_t cap = d->capfresh ? 2 * d->capfresh : 1024;
		fresh_file *f = realloc(d->fresh, cap * sizeof *f);
		if (!f)
			return prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX,
			                   "out of memory");
		d->fresh = f;
		d->capfresh = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX,
		                   "out of memory");
	int keep = d->nheld < d->maxheld;
	d->nheld += (size_t)keep;
	d->fresh[d->nfresh++] = (fresh_file){epoch, copy, keep ? fd : -1};
	return keep;
}

/* A put. A name with no file yet is written in place, half the directory
 * operations of a rename (store.h item 2 lets other readers see it partly
 * written until the put takes effect; the log names a file in a
 * checkpoint only once it is durable, so no durable checkpoint names a
 * file that O_EXCL could create). With PRB_SYNC_FILES its writeback is
 * started (sync_file_range WRITE: the commit's fsync then mostly waits for
 * I/O already under way) and it is fsynced later, with every other file
 * of its batch (sync_epochs), through the descriptor it was written
 * through: an open descriptor keeps the inode, and with it any writeback
 * error, until its fsync reports it. A file already there is replaced
 * atomically and durably (replace_file). */
static int
put_file(dir_store *d, const job *j, prb_err *err)
{
	int fd = prb_open_beneath(d->rootfd, j->name,
	                          O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 && errno != EEXIST)
		return write_err(err, j->name, "create");
	if (fd < 0)
		return replace_file(d, j->name, j->data, j->len, err);
	if (d->sync_mode != PRB_SYNC_FILES)
		return fill_file(d, fd, j->name, j->name, j->data, j->len, 0,
		                 err);
	int e = prb_write_all(fd, j->data, j->len), rc;
	if (e != 0) {
		errno = e;
		rc = write_err(err, j->name, "write");
	} else {
#ifdef SYNC_FILE_RANGE_WRITE
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint */
#endif
		pthread_mutex_lock(&d->dmu);
		rc = note_fresh(d, j->name, j->epoch, fd, err);
		pthread_mutex_unlock(&d->dmu);
		if (rc == 1)
			return 0; /* fd is held */
	}
	if (close(fd) != 0 && rc == 0)
		rc = write_err(err, j->name, "close");
	if (rc)
		prb_unlink_beneath(d->rootfd, j->name, 0);
	return rc;
}

/* One queued write, on a worker thread. */
static int
do_put(dir_store *d, const job *j, prb_err *err)
{
	pthread_mutex_lock(&d->dmu);
	int rc = ensure_parent(d, j->name, j->epoch, err);
	pthread_mutex_unlock(&d->dmu);
	if (rc)
		return rc;
	return put_file(d, j, err);
}

static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211u;
	return h;
}

/* A buffer of at least len bytes: a pooled one that fits (mu held), else
 * NULL and *cap the size to allocate. */
static uint8_t *
pool_get(dir_store *d, size_t len, size_t *cap)
{
	size_t best = d->npool;
	for (size_t i = 0; i < d->npool; i++)
		if (d->pool[i].cap >= len && d->pool[i].cap <= 2 * len + 4096 &&
		    (best == d->npool || d->pool[i].cap < d->pool[best].cap))
			best = i;
	if (best == d->npool) {
		*cap = (len + 4095) / 4096 * 4096;
		return NULL;
	}
	uint8_t *p = d->pool[best].p;
	*cap = d->pool[best].cap;
	d->pool_bytes -= *cap;
	d->pool[best] = d->pool[--d->npool];
	return p;
}

/* Keeps a buffer for reuse, or frees it (mu held). */
static void
pool_put(dir_store *d, uint8_t *p, size_t cap)
{
	if (p && d->npool < POOL_MAX && d->pool_bytes + cap <= QUEUE_BYTES) {
		d->pool[d->npool].p = p;
		d->pool[d->npool++].cap = cap;
		d->pool_bytes += cap;
	} else {
		free(p);
	}
}

/* Frees a job and keeps its buffer (mu held). */
static void
free_job(dir_store *d, job *j)
{
	pool_put(d, j->data, j->cap);
	free(j);
}

static void
batch_priority(void)
{
#ifdef SCHED_BATCH
	struct sched_param sp = {0};
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp); /* a hint */
#endif
}

/* Takes the next write (mu held, queue not empty): the oldest, unless
 * another writer is in its directory and one of the next few is
 * elsewhere. Two writers in one directory contend for its lock, and spin
 * on it while inode allocation is slow (ext4 without a journal skips
 * recently deleted inodes one by one). The queue stays in epoch order,
 * and puts of one name are never queued together (ds_put). */
static job *
take_job(dir_store *d)
{
	job **pp = &d->head, **pick = &d->head, *prev = NULL, *pick_prev = NULL;
	for (int k = 0; k < LOOKAHEAD && *pp; k++) {
		int clash = 0;
		for (int i = 0; i < NWORKERS; i++)
			clash |= d->running[i] &&
			         d->running[i]->dhash == (*pp)->dhash;
		if (!clash) {
			pick = pp;
			pick_prev = prev;
			break;
		}
		prev = *pp;
		pp = &(*pp)->next;
	}
	job *j = *pick; /* if all of them clash, the oldest */
	*pick = j->next;
	if (d->tail == j)
		d->tail = pick_prev;
	return j;
}

static void *
worker(void *arg)
{
	dir_store *d = arg;
	batch_priority();
	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->head && !d->stop)
			pthread_cond_wait(&d->work, &d->mu);
		if (!d->head)
			break;
		job *j = take_job(d);
		int slot = 0;
		while (d->running[slot])
			slot++;
		d->running[slot] = j;
		int skip = d->failed; /* after a failure, drop the rest */
		if (skip && j->epoch < d->fepoch)
			d->fepoch = j->epoch; /* not written: fails its commit */
		pthread_mutex_unlock(&d->mu);
		prb_err e;
		int rc = skip ? 0 : do_put(d, j, &e);
		pthread_mutex_lock(&d->mu);
		d->running[slot] = NULL;
		d->qbytes -= j->len;
		d->names[j->hash % NAME_SLOTS]--;
		if (rc && !d->failed) {
			d->failed = rc;
			d->fepoch = j->epoch;
			d->ferr = e;
		}
		free_job(d, j);
		pthread_cond_broadcast(&d->idle);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Whether no write of an epoch <= e is queued or running (mu held). */
static int
written(const dir_store *d, uint64_t e)
{
	if (d->head && d->head->epoch <= e)
		return 0;
	for (int i = 0; i < NWORKERS; i++)
		if (d->running[i] && d->running[i]->epoch <= e)
			return 0;
	return 1;
}

static int
busy(const dir_store *d)
{
	for (int i = 0; i < NWORKERS; i++)
		if (d->running[i])
			return 1;
	return d->head != NULL;
}

/* Waits until every queued write is done; returns the first failure. */
static int
drain(dir_store *d, prb_err *err)
{
	pthread_mutex_lock(&d->mu);
	while (busy(d))
		pthread_cond_wait(&d->idle, &d->mu);
	int rc = d->failed;
	if (rc && err)
		*err = d->ferr;
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* Whether job q's name starts with p[0..n), h being the hash of p when
 * p ends in '/': a write in that directory, or below it. */
static int
under(const job *q, const char *p, size_t n, uint64_t h)
{
	if (n > 0 && p[n - 1] == '/' && q->dlen <= n)
		return q->dlen == n && q->dhash == h &&
		       memcmp(q->name, p, n) == 0;
	return strncmp(q->name, p, n) == 0;
}

/* Whether a queued or running write has a name starting with p[0..n)
 * (mu held). */
static int
writing_under(const dir_store *d, const char *p, size_t n)
{
	uint64_t h = fnv(p, n);
	for (const job *q = d->head; q; q = q->next)
		if (under(q, p, n, h))
			return 1;
	for (int i = 0; i < NWORKERS; i++)
		if (d->running[i] && under(d->running[i], p, n, h))
			return 1;
	return 0;
}

/* Waits for the writes under a directory prefix only: list() and remove()
 * must see the puts before them (store.h item 2), and the writes of other
 * directories go on meanwhile. */
static void
drain_prefix(dir_store *d, const char *p, size_t n)
{
	pthread_mutex_lock(&d->mu);
	while (writing_under(d, p, n))
		pthread_cond_wait(&d->idle, &d->mu);
	pthread_mutex_unlock(&d->mu);
}

/* Waits until every queued commit has run (mu held). */
static void
commits_run(dir_store *d)
{
	while (d->cnext || d->crunning)
		pthread_cond_wait(&d->cdone, &d->mu);
}

static int
start_workers(dir_store *d, prb_err *err)
{
	while (d->nthreads < NWORKERS) {
		if (pthread_create(&d->th[d->nthreads], NULL, worker, d) != 0)
			break;
		d->nthreads++;
	}
	if (d->nthreads == 0)
		return prb_err_set(err, PRB_EIO, d->root, UINT64_MAX,
		                   "cannot start a writer thread");
	return 0;
}

/* Whether a put of j's name is queued or being written (mu held). */
static int
pending(const dir_store *d, const job *j)
{
	if (d->names[j->hash % NAME_SLOTS] == 0)
		return 0;
	for (const job *q = d->head; q; q = q->next)
		if (q->hash == j->hash && strcmp(q->name, j->name) == 0)
			return 1;
	for (int i = 0; i < NWORKERS; i++) {
		const job *r = d->running[i];
		if (r && r->hash == j->hash && strcmp(r->name, j->name) == 0)
			return 1;
	}
	return 0;
}

static int
ds_put(prb_store *s, const char *name, const uint8_t *data, size_t len,
       prb_err *err)
{
	dir_store *d = (dir_store *)s;
	int rc = d->nthreads ? 0 : start_workers(d, err);
	if (rc)
		return rc;
	size_t nlen = strlen(name);
	job *j = malloc(sizeof *j + nlen + 1);
	if (!j)
		return prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX,
		                   "out of memory");
	memcpy(j->name, name, nlen + 1);
	j->next = NULL;
	j->len = len;
	const char *slash = strrchr(name, '/');
	j->dlen = slash ? (size_t)(slash - name) + 1 : 0;
	j->dhash = fnv(name, j->dlen);
	j->hash = fnv(name, nlen);
	pthread_mutex_lock(&d->mu);
	if (pending(d, j)) /* keep puts of one name in order */
		while (busy(d))
			pthread_cond_wait(&d->idle, &d->mu);
	while (d->qbytes > 0 && d->qbytes + len > QUEUE_BYTES)
		pthread_cond_wait(&d->idle, &d->mu);
	j->data = pool_get(d, len, &j->cap);
	pthread_mutex_unlock(&d->mu);
	if (!j->data && !(j->data = malloc(j->cap))) {
		free(j);
		return prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX,
		                   "out of memory");
	}
	memcpy(j->data, data, len);
	pthread_mutex_lock(&d->mu);
	rc = d->failed;
	if (rc) {
		if (err)
			*err = d->ferr;
		free_job(d, j);
		pthread_mutex_unlock(&d->mu);
		return rc;
	}
	j->epoch = d->epoch;
	if (d->tail)
		d->tail->next = j;
	else
		d->head = j;
	d->tail = j;
	d->qbytes += len;
	d->names[j->hash % NAME_SLOTS]++;
	pthread_cond_signal(&d->work);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

/* fsyncs one item: a file through the descriptor it was written with
 * (the caller closes it), or a file or directory opened by name. A file
 * gone since it was written (removed by remove(), or a failed batch's
 * cleanup) has nothing left to make durable. */
static int
sync_one(dir_store *d, const sync_item *it, prb_err *err)
{
	int fd = it->fd;
	if (fd < 0) {
		fd = prb_open_beneath(d->rootfd, it->name,
		                      O_RDONLY | (it->dir ? O_DIRECTORY : 0), 0);
		if (fd < 0)
			return !it->dir && errno == ENOENT
			               ? 0
			               : write_err(err, it->name,
			                           it->dir ? "open directory"
			                                   : "open");
	}
	int rc = fsync(fd) == 0 ? 0
	                        : write_err(err, it->name,
	                                    it->dir ? "fsync directory"
	                                            : "fsync");
	if (fd != it->fd)
		close(fd);
	return rc;
}

static int
fsync_dir(dir_store *d, const char *dir, prb_err *err)
{
	sync_item it = {dir, -1, 1};
	return sync_one(d, &it, err);
}

/* Takes and syncs items of the current round until none is left (smu
 * held; on return too). After a failure the rest are skipped: the round
 * has failed, and a failed fsync is never retried. */
static void
sync_some(dir_store *d)
{
	while (d->snext < d->sn) {
		const sync_item *it = &d->sitems[d->snext++];
		d->sbusy++;
		pthread_mutex_unlock(&d->smu);
		prb_err e;
		int rc = sync_one(d, it, &e);
		pthread_mutex_lock(&d->smu);
		d->sbusy--;
		if (rc && !d->src) {
			d->src = rc;
			d->serr = e;
			d->snext = d->sn;
		}
	}
	if (d->sbusy == 0)
		pthread_cond_broadcast(&d->sdone);
}

static void *
syncer(void *arg)
{
	dir_store *d = arg;
	batch_priority();
	pthread_mutex_lock(&d->smu);
	for (;;) {
		while (!d->sstop && d->snext >= d->sn)
			pthread_cond_wait(&d->swork, &d->smu);
		if (d->sstop)
			break;
		sync_some(d);
	}
	pthread_mutex_unlock(&d->smu);
	return NULL;
}

/* fsyncs n items at once: the calling thread and up to NSYNC - 1 syncer
 * threads each fsync one at a time (sync_one), so the kernel has many
 * fsyncs in flight and can share the device's cache flushes among them
 * (one flush after many writes, not one per file). Returns the first
 * failure. One round at a time (the committer, or sync() once every
 * commit has run). */
static int
sync_round(dir_store *d, const sync_item *items, size_t n, prb_err *err)
{
	if (n == 0)
		return 0;
	pthread_mutex_lock(&d->smu);
	if (d->snthreads == 0 && n > 1) { /* started by the first round */
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, SYNC_STACK);
		while (d->snthreads < NSYNC - 1 &&
		       pthread_create(&d->sth[d->snthreads], &attr, syncer, d) ==
		               0)
			d->snthreads++; /* fewer threads: slower, still correct */
		pthread_attr_destroy(&attr);
	}
	d->sitems = items;
	d->sn = n;
	d->snext = 0;
	d->src = 0;
	pthread_cond_broadcast(&d->swork);
	sync_some(d);
	while (d->sbusy > 0)
		pthread_cond_wait(&d->sdone, &d->smu);
	int rc = d->src;
	if (rc && err)
		*err = d->serr;
	d->sitems = NULL;
	d->sn = d->snext = 0;
	pthread_mutex_unlock(&d->smu);
	return rc;
}

/* The files written in place by puts of epochs <= e (every one for
 * UINT64_MAX), moved out of d->fresh into items[0..*n) (dmu held). */
static void
take_fresh(dir_store *d, uint64_t e, sync_item *items, size_t *n)
{
	size_t k = 0;
	for (size_t i = 0; i < d->nfresh; i++) {
		if (d->fresh[i].epoch <= e) {
			items[(*n)++] = (sync_item){d->fresh[i].name,
			                            d->fresh[i].fd, 0};
			d->nheld -= d->fresh[i].fd >= 0;
			continue;
		}
		d->fresh[k++] = d->fresh[i];
	}
	d->nfresh = k;
}

/*
 * Makes durable what the writes of epochs <= e wrote (every one for
 * UINT64_MAX): PRB_SYNC_FS one syncfs(root); PRB_SYNC_FILES one round
 * (sync_round) over the files written in place and the remembered
 * directories those writes touched. A directory written again by a later
 * epoch stays remembered for that epoch's commit. Directory names stay
 * where they are while this runs: only this function drops them, and it
 * runs for one commit or sync at a time. A failure is final: every later
 * call fails with it (store.h item 3).
 */
static int
sync_epochs(dir_store *d, uint64_t e, prb_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&d->mu);
	if (d->sfailed) {
		rc = d->sfailed;
		if (err)
			*err = d->sferr;
	}
	pthread_mutex_unlock(&d->mu);
	if (rc)
		return rc;
	prb_err e2;
	sync_item *items = NULL;
	size_t n = 0, m = 0;
	if (d->sync_mode == PRB_SYNC_FS) {
		if (syncfs(d->rootfd) != 0)
			rc = write_err(&e2, d->root, "syncfs");
		goto out;
	}
	pthread_mutex_lock(&d->dmu);
	m = d->ndirs;
	items = malloc((d->nfresh + m + 1) * sizeof *items);
	if (!items) {
		pthread_mutex_unlock(&d->dmu);
		rc = prb_err_set(&e2, PRB_ENOMEM, d->root, UINT64_MAX,
		                 "out of memory");
		goto out;
	}
	take_fresh(d, e, items, &n);
	size_t nfiles = n;
	for (size_t i = 0; i < m; i++)
		if (d->dirs[i].first <= e && !d->dirs[i].gone)
			items[n++] = (sync_item){d->dirs[i].name, -1, 1};
	pthread_mutex_unlock(&d->dmu);
	rc = sync_round(d, items, n, &e2);
	for (size_t i = 0; i < nfiles; i++) {
		if (items[i].fd >= 0)
			close(items[i].fd); /* synced, or never to be */
		free((char *)items[i].name);
	}
	free(items);
	pthread_mutex_lock(&d->dmu);
	size_t k = 0;
	for (size_t i = 0; i < d->ndirs; i++) {
		dir_note dn = d->dirs[i];
		if (i < m && rc == 0 && (dn.first <= e || dn.gone)) {
			if (dn.last <= e || dn.gone) {
				free(dn.name);
				continue;
			}
			dn.first = e + 1; /* written since: synced again later */
		}
		d->dirs[k++] = dn;
	}
	d->ndirs = k;
	pthread_mutex_unlock(&d->dmu);
out:
	if (rc) {
		pthread_mutex_lock(&d->mu);
		if (!d->sfailed) {
			d->sfailed = rc;
			d->sferr = e2;
		}
		pthread_mutex_unlock(&d->mu);
		if (err)
			*err = e2;
	}
	return rc;
}

static int
ds_sync(prb_store *s, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	pthread_mutex_lock(&d->mu);
	commits_run(d);
	pthread_mutex_unlock(&d->mu);
	int rc = drain(d, err);
	return rc ? rc : sync_epochs(d, UINT64_MAX, err);
}

static int
read_at(dir_store *d, const char *name, uint8_t **data, size_t *len,
        prb_err *err)
{
	return prb_read_file_at(d->rootfd, name, SIZE_MAX - 1, data, len, err);
}

static int
ds_get(prb_store *s, const char *name, uint8_t **data, size_t *len,
       prb_err *err)
{
	dir_store *d = (dir_store *)s;
	int rc = drain(d, err);
	return rc ? rc : read_at(d, name, data, len, err);
}

/* When the pending checkpoint a crash left (store.h item 4) already holds
 * exactly these bytes, it is made durable and renamed into place rather
 * than rewritten, so a crash now cannot lose its only copy. Returns 1 if
 * there is no such file, else 0 or an error. */
static int
install_pending(dir_store *d, const uint8_t *data, size_t len, prb_err *err)
{
	uint8_t *cur;
	size_t n;
	if (read_at(d, PRB_CHECKPOINT_PENDING, &cur, &n, NULL))
		return 1;
	int same = n == len && memcmp(cur, data, len) == 0;
	free(cur);
	if (!same)
		return 1;
	int fd = prb_open_beneath(d->rootfd, PRB_CHECKPOINT_PENDING, O_RDONLY, 0);
	if (fd < 0)
		return write_err(err, "checkpoint", "open pending");
	int rc = fsync(fd) == 0 ? 0 : write_err(err, "checkpoint", "fsync");
	close(fd);
	if (rc == 0 && renameat(d->rootfd, PRB_CHECKPOINT_PENDING, d->rootfd,
	                        "checkpoint") != 0)
		rc = write_err(err, "checkpoint", "rename");
	return rc;
}

/* The commit point: compare-and-swap of "checkpoint" (store.h item 4),
 * once the batch's writes are durable. */
static int
replace_checkpoint(dir_store *d, const uint8_t *old, size_t old_len,
                   const uint8_t *data, size_t len, prb_err *err)
{
	uint8_t *cur = NULL;
	size_t curlen = 0;
	prb_err e;
	int rc = read_at(d, "checkpoint", &cur, &curlen, &e);
	if (rc && rc != PRB_ENOTFOUND) {
		if (err)
			*err = e;
		return rc;
	}
	int same = rc == PRB_ENOTFOUND
	                   ? old == NULL
	                   : old && curlen == old_len &&
	                             memcmp(cur, old, old_len) == 0;
	free(cur);
	if (!same)
		return prb_err_set(err, PRB_ECONFLICT, "checkpoint", UINT64_MAX,
		                   "checkpoint changed since it was read");
	rc = install_pending(d, data, len, err);
	if (rc > 0) /* checkpoint.tmp, fsync, rename, fsync root */
		return prb_write_durable(d->rootfd, "checkpoint", data, len, 0644,
		                         0, err);
	if (rc == 0 && (rc = fsync_dir(d, ".", err)) && err)
		snprintf(err->where, sizeof err->where, "checkpoint");
	return rc;
}

static int
ds_set_checkpoint(prb_store *s, const uint8_t *old, size_t old_len,
                  const uint8_t *data, size_t len, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	pthread_mutex_lock(&d->mu);
	commits_run(d);
	pthread_mutex_unlock(&d->mu);
	int rc = drain(d, err);
	if (rc)
		return rc; /* a failed write: never commit over it */
	return replace_checkpoint(d, old, old_len, data, len, err);
}

/* Steps 2 and 3 of a commit, on the committer thread. */
static int
run_commit(dir_store *d, const creq *c, prb_err *err)
{
	int rc = sync_epochs(d, c->epoch, err);
	if (rc)
		return rc;
	rc = replace_checkpoint(d, c->has_old ? c->old : NULL, c->old_len,
	                        c->data, c->len, err);
	if (rc && rc != PRB_ECONFLICT) {
		if (err)
			err->code = PRB_EINDOUBT;
		rc = PRB_EINDOUBT;
	}
	return rc;
}

static void *
committer(void *arg)
{
	dir_store *d = arg;
	batch_priority();
	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->cnext && !d->stop)
			pthread_cond_wait(&d->cwork, &d->mu);
		creq *c = d->cnext;
		if (!c)
			break;
		d->cnext = c->next;
		d->crunning = 1;
		while (!written(d, c->epoch)) /* step 1 */
			pthread_cond_wait(&d->idle, &d->mu);
		prb_err e;
		int rc;
		prb_err_clear(&e);
		if (d->cfail) {
			rc = prb_err_set(&e, PRB_EFAILED, "checkpoint", UINT64_MAX,
			                 "not committed: the commit of an earlier "
			                 "batch failed");
		} else if (d->failed && d->fepoch <= c->epoch) {
			rc = d->failed;
			e = d->ferr;
		} else {
			pthread_mutex_unlock(&d->mu);
			rc = run_commit(d, c, &e);
			pthread_mutex_lock(&d->mu);
		}
		if (rc)
			d->cfail = 1;
		c->rc = rc;
		c->err = e;
		c->done = 1;
		d->crunning = 0;
		pthread_cond_broadcast(&d->cdone);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void
free_creq(creq *c)
{
	free(c->old);
	free(c->data);
	free(c);
}

static int
ds_commit(prb_store *s, const uint8_t *old, size_t old_len,
          const uint8_t *data, size_t len, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	creq *c = calloc(1, sizeof *c);
	if (c) {
		c->data = malloc(len + 1);
		c->old = old ? malloc(old_len + 1) : NULL;
	}
	if (!c || !c->data || (old && !c->old)) {
		if (c)
			free_creq(c);
		return prb_err_set(err, PRB_ENOMEM, "checkpoint", UINT64_MAX,
		                   "out of memory");
	}
	memcpy(c->data, data, len);
	c->len = len;
	if (old)
		memcpy(c->old, old, old_len);
	c->old_len = old_len;
	c->has_old = old != NULL;
	pthread_mutex_lock(&d->mu);
	if (!d->cthread) {
		if (pthread_create(&d->cth, NULL, committer, d) != 0) {
			pthread_mutex_unlock(&d->mu);
			free_creq(c);
			return prb_err_set(err, PRB_EIO, d->root, UINT64_MAX,
			                   "cannot start the committer thread");
		}
		d->cthread = 1;
	}
	c->epoch = d->epoch++;
	if (d->ctail)
		d->ctail->next = c;
	else
		d->chead = c;
	d->ctail = c;
	if (!d->cnext)
		d->cnext = c;
	pthread_cond_signal(&d->cwork);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

static int
ds_commit_wait(prb_store *s, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	pthread_mutex_lock(&d->mu);
	creq *c = d->chead;
	if (!c) {
		pthread_mutex_unlock(&d->mu);
		return prb_err_set(err, PRB_EINVAL, "checkpoint", UINT64_MAX,
		                   "no commit to wait for");
	}
	while (!c->done)
		pthread_cond_wait(&d->cdone, &d->mu);
	d->chead = c->next;
	if (!d->chead) {
		d->ctail = NULL;
		d->cfail = 0; /* every failure has been reported */
	}
	pthread_mutex_unlock(&d->mu);
	int rc = c->rc;
	if (rc && err)
		*err = c->err;
	free_creq(c);
	return rc;
}

static int
ds_list(prb_store *s, const char *prefix, int (*fn)(void *, const char *),
        void *ctx, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	drain_prefix(d, prefix, strlen(prefix));
	int fd = prb_open_beneath(d->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : sys_err(err, prefix, "open directory");
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return sys_err(err, prefix, "opendir");
	}
	struct dirent *de;
	int rc = 0;
	char name[600];
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof name, "%s%s", prefix, de->d_name);
		rc = fn(ctx, name);
	}
	closedir(dir);
	return rc;
}

static int
ds_remove(prb_store *s, const char *name, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	const char *last = strrchr(name, '/');
	/* this name, and the directory it may empty and remove */
	drain_prefix(d, name, last ? (size_t)(last - name) + 1 : 0);
	if (prb_unlink_beneath(d->rootfd, name, 0) != 0)
		return sys_err(err, name, "unlink"); /* ENOENT: PRB_ENOTFOUND */
	/* drop the ".p" directory once it is empty */
	char dir[512];
	const char *slash = strrchr(name, '/');
	if (slash && slash - name > 2 && (size_t)(slash - name) < sizeof dir &&
	    memcmp(slash - 2, ".p", 2) == 0) {
		memcpy(dir, name, (size_t)(slash - name));
		dir[slash - name] = 0;
		if (prb_unlink_beneath(d->rootfd, dir, AT_REMOVEDIR) == 0) {
			pthread_mutex_lock(&d->dmu); /* it must be made again */
			for (unsigned i = 0; i < 16; i++)
				if (strcmp(d->known[i], dir) == 0)
					d->known[i][0] = 0;
			for (size_t i = 0; i < d->ndirs; i++)
				if (strcmp(d->dirs[i].name, dir) == 0)
					d->dirs[i].gone = 1; /* empty: no sync */
			pthread_mutex_unlock(&d->dmu);
		} /* else not empty yet: fine */
	}
	return 0;
}

static int
ds_lock(prb_store *s, int wait_ms, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	for (int waited = 0;; waited += 10) {
		if (flock(d->rootfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return sys_err(err, d->root, "lock");
		if (waited >= wait_ms)
			return prb_err_set(err, PRB_ELOCKED, d->root, UINT64_MAX,
			                   "another probity process is writing "
			                   "to this log");
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void
ds_close(prb_store *s)
{
	dir_store *d = (dir_store *)s;
	pthread_mutex_lock(&d->mu);
	commits_run(d); /* queued commits run; their results are dropped */
	d->stop = 1;
	pthread_cond_broadcast(&d->work);
	pthread_cond_broadcast(&d->cwork);
	pthread_mutex_unlock(&d->mu);
	for (int i = 0; i < d->nthreads; i++)
		pthread_join(d->th[i], NULL); /* workers finish the queue */
	if (d->cthread)
		pthread_join(d->cth, NULL);
	pthread_mutex_lock(&d->smu);
	d->sstop = 1;
	pthread_cond_broadcast(&d->swork);
	pthread_mutex_unlock(&d->smu);
	for (int i = 0; i < d->snthreads; i++)
		pthread_join(d->sth[i], NULL);
	for (size_t i = 0; i < d->nfresh; i++) {
		if (d->fresh[i].fd >= 0)
			close(d->fresh[i].fd);
		free(d->fresh[i].name); /* never committed: need no sync */
	}
	free(d->fresh);
	while (d->chead) {
		creq *c = d->chead;
		d->chead = c->next;
		free_creq(c);
	}
	for (size_t i = 0; i < d->npool; i++)
		free(d->pool[i].p);
	pthread_mutex_destroy(&d->mu);
	pthread_mutex_destroy(&d->dmu);
	pthread_mutex_destroy(&d->smu);
	pthread_cond_destroy(&d->swork);
	pthread_cond_destroy(&d->sdone);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->idle);
	pthread_cond_destroy(&d->cwork);
	pthread_cond_destroy(&d->cdone);
	for (size_t i = 0; i < d->ndirs; i++)
		free(d->dirs[i].name);
	if (d->rootfd >= 0)
		close(d->rootfd); /* releases the flock */
	free(d->root);
	free(d);
}

/*
 * Filesystems on which PRB_SYNC_FS is allowed, by statfs(2) f_type. On
 * each of these syncfs(2) runs the kernel's sync_filesystem(): it writes
 * back every dirty page and inode of the filesystem and waits for them,
 * calls the filesystem's own ->sync_fs(wait), which commits its journal or
 * transaction with a cache flush (ext4_sync_fs: a jbd2 commit, or
 * blkdev_issue_flush without a journal; xfs_fs_sync_fs: a synchronous log
 * force; btrfs_sync_fs: a transaction commit; f2fs_sync_fs: a
 * checkpoint), and then writes and waits for the block device's buffers
 * (metadata such as inode tables of ext4 without a journal). The
 * checkpoint's own fsync, a cache flush, comes after all of that, so a
 * checkpoint is never durable before what it names. tmpfs keeps nothing
 * across a power cut in any mode; syncfs is as good as fsync there.
 * 0xEF53 is shared by ext2, ext3 and ext4, all served by that path.
 * Refused, with the names the message gives: FUSE, whose syncfs(2)
 * returns 0 without reaching the server (the kernel forwards FUSE_SYNCFS
 * to virtiofs only; DESIGN.md invariant 6); network filesystems, whose
 * durability is the server's; overlayfs and other stacked or out-of-tree
 * filesystems (zfs), not checked here; and every f_type not listed.
 */
static const struct {
	uint32_t magic;
	int trusted;
	const char *name;
} fs_kinds[] = {
	{0xEF53, 1, "ext2/ext3/ext4"},
	{0x58465342, 1, "xfs"},
	{0x9123683E, 1, "btrfs"},
	{0xF2F52010, 1, "f2fs"},
	{0x01021994, 1, "tmpfs"},
	{0x65735546, 0, "FUSE"},
	{0x6969, 0, "nfs"},
	{0xFF534D42, 0, "cifs"},
	{0xFE534D42, 0, "smb2"},
	{0x00C36400, 0, "ceph"},
	{0x01021997, 0, "9p"},
	{0x794C7630, 0, "overlayfs"},
	{0x2FC12FC1, 0, "zfs"},
};

int
prb_store_syncfs_trusted(uint64_t f_type, const char **name)
{
	uint32_t m = (uint32_t)f_type; /* a 32-bit magic, sign-extended on
	                                  some ABIs */
	for (size_t i = 0; i < sizeof fs_kinds / sizeof fs_kinds[0]; i++)
		if (fs_kinds[i].magic == m) {
			if (name)
				*name = fs_kinds[i].name;
			return fs_kinds[i].trusted;
		}
	if (name)
		*name = "unknown";
	return 0;
}

/* PRB_SYNC_FS only where syncfs(2) is known to sync (fs_kinds). */
static int
check_sync_mode(dir_store *d, prb_err *err)
{
	struct statfs sf;
	const char *name;
	if (d->sync_mode == PRB_SYNC_FILES)
		return 0;
	if (d->sync_mode != PRB_SYNC_FS)
		return prb_err_set(err, PRB_EINVAL, d->root, UINT64_MAX,
		                   "unknown sync mode %d", d->sync_mode);
	if (fstatfs(d->rootfd, &sf) != 0)
		return sys_err(err, d->root, "statfs");
	if (prb_store_syncfs_trusted((uint64_t)sf.f_type, &name))
		return 0;
	return prb_err_set(err, PRB_EINVAL, d->root, UINT64_MAX,
	                   "sync mode fs refused: syncfs(2) is not known to "
	                   "make writes durable on this filesystem (%s, statfs "
	                   "type 0x%llx); use the default sync mode, files "
	                   "(an fsync of every file and directory)",
	                   name, (unsigned long long)(uint32_t)sf.f_type);
}

static const prb_store_ops dir_ops = {
	ds_get,  ds_put,    ds_sync, ds_set_checkpoint, ds_list,
	ds_remove, ds_lock, ds_close, ds_commit,        ds_commit_wait,
};

int
prb_store_open_dir(const char *dir, int sync_mode, prb_store **out,
                   prb_err *err)
{
	dir_store *d = calloc(1, sizeof *d);
	if (!d)
		return prb_err_set(err, PRB_ENOMEM, dir, UINT64_MAX, "out of memory");
	d->base.ops = &dir_ops;
	d->sync_mode = sync_mode;
	struct rlimit rl;
	d->maxheld = HOLD_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < d->maxheld)
		d->maxheld = (size_t)(rl.rlim_cur / 4);
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->dmu, NULL);
	pthread_mutex_init(&d->smu, NULL);
	pthread_cond_init(&d->swork, NULL);
	pthread_cond_init(&d->sdone, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->idle, NULL);
	pthread_cond_init(&d->cwork, NULL);
	pthread_cond_init(&d->cdone, NULL);
	d->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d->root = strdup(dir);
	int rc = d->rootfd < 0 ? sys_err(err, dir, "open log directory")
	         : !d->root    ? prb_err_set(err, PRB_ENOMEM, dir, UINT64_MAX,
	                                     "out of memory")
	                       : check_sync_mode(d, err);
	if (rc) {
		ds_close(&d->base);
		return rc;
	}
	*out = &d->base;
	return 0;
}

void
prb_store_close(prb_store *s)
{
	if (s)
		s->ops->close(s);
}
