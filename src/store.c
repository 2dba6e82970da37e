/*
 * The filesystem store: objects are files under a root directory, laid out
 * exactly as their names say, so the directory can be served as-is.
 *
 * put() copies the object into a bounded queue that NWORKERS threads
 * drain (file creation, not bandwidth, is what costs on ext4; two threads
 * overlap it with the caller's hashing). Each queued write (do_put):
 *   1. open("<name>.tmp", O_CREAT|O_TRUNC), write all bytes
 *   2. PRB_SYNC_FILES: fsync(tmp)          (PRB_SYNC_FS: deferred)
 *   3. rename("<name>.tmp", "<name>")      -- readers see all or nothing
 *   4. remember the parent directory (and any directory created)
 * sync():
 *   wait until the queue is empty; the first failed write fails sync
 *   PRB_SYNC_FILES: fsync each remembered directory
 *   PRB_SYNC_FS:    one syncfs(root) covers data, inodes and directories
 * The commit point (set_checkpoint) always does, in this order:
 *   sync() already returned 0 for the batch, then
 *   write "checkpoint.tmp", fsync, rename to "checkpoint", fsync(root).
 * A crash before the final fsync(root) leaves the old checkpoint (or the
 * new one, fully written); files written after the old checkpoint are not
 * named by it and are overwritten by the next batch. An fsync failure is
 * reported and never retried (the page cache may have dropped the data).
 *
 * The single-writer lock is flock(2) on the root directory's descriptor.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probity/store.h"
#include "util.h"

#define MAX_DIRS 4096
#define NWORKERS 2
#define QUEUE_BYTES ((size_t)32 << 20)

typedef struct job {
	struct job *next;
	char *name;
	uint8_t *data;
	size_t len;
} job;

typedef struct {
	prb_store base;
	/* the write queue and its workers (started by the first put) */
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	job *head, *tail;
	size_t qbytes;
	int busy, stop, nthreads;
	pthread_t th[NWORKERS];
	const char *running[NWORKERS]; /* names being written, or NULL */
	int failed; /* first error of a queued write, reported by sync */
	prb_err ferr;
	pthread_mutex_t dmu; /* guards known[], dirs[] */
	char *root;
	int rootfd;
	int sync_mode;
	char known[16][256]; /* directories known to exist (a small ring) */
	unsigned nknown;
	char *dirs[MAX_DIRS]; /* directories to fsync at sync() */
	size_t ndirs;
} dir_store;

static int
sys_err(prb_err *err, const char *name, const char *what)
{
	int e = errno;
	int code = e == ENOSPC || e == EDQUOT ? PRB_ENOSPC
	           : e == ENOENT             ? PRB_ENOTFOUND
	                                     : PRB_EIO;
	return prb_err_set(err, code, name, UINT64_MAX, "%s: %s", what,
	                   strerror(e));
}

/* As sys_err, for writes: a missing file there is an I/O failure. */
static int
write_err(prb_err *err, const char *name, const char *what)
{
	int e = errno;
	int code = e == ENOSPC || e == EDQUOT ? PRB_ENOSPC : PRB_EIO;
	return prb_err_set(err, code, name, UINT64_MAX, "%s: %s", what,
	                   strerror(e));
}

/* Remembers dir (relative to root) for fsync at sync(). */
static int
note_dir(dir_store *d, const char *dir, prb_err *err)
{
	if (d->sync_mode != PRB_SYNC_FILES)
		return 0;
	for (size_t i = d->ndirs; i > 0; i--)
		if (strcmp(d->dirs[i - 1], dir) == 0)
			return 0;
	if (d->ndirs == MAX_DIRS)
		return prb_err_set(err, PRB_EIO, dir, UINT64_MAX,
		                   "too many directories in one batch");
	d->dirs[d->ndirs] = strdup(dir);
	if (!d->dirs[d->ndirs])
		return prb_err_set(err, PRB_ENOMEM, dir, UINT64_MAX, "out of memory");
	d->ndirs++;
	return 0;
}

/* mkdir -p of the parent directory of `name`, relative to root. */
static int
ensure_parent(dir_store *d, const char *name, prb_err *err)
{
	char dir[512];
	const char *slash = strrchr(name, '/');
	if (!slash)
		return note_dir(d, ".", err);
	size_t n = (size_t)(slash - name);
	if (n >= sizeof dir)
		return prb_err_set(err, PRB_EINVAL, name, UINT64_MAX, "name too long");
	memcpy(dir, name, n);
	dir[n] = 0;
	for (unsigned i = 0; i < 16; i++)
		if (strcmp(dir, d->known[i]) == 0)
			return note_dir(d, dir, err);
	for (char *p = dir;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char c = *p;
		*p = 0;
		if (mkdirat(d->rootfd, dir, 0755) != 0 && errno != EEXIST)
			return write_err(err, dir, "mkdir");
		/* A new entry in the parent must be made durable too; so must
		 * one an earlier, killed writer made and never synced. */
		char *ps = strrchr(dir, '/');
		if (ps)
			*ps = 0;
		int rc = note_dir(d, ps ? dir : ".", err);
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
	return note_dir(d, dir, err);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes name via name.tmp + rename; fsyncs first when `durable`. */
static int
write_file(dir_store *d, const char *name, const uint8_t *data, size_t len,
           int durable, prb_err *err)
{
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s.tmp", name);
	int fd = openat(d->rootfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	                0644);
	if (fd < 0)
		return write_err(err, name, "create");
	if (write_all(fd, data, len) != 0) {
		int rc = write_err(err, name, "write");
		close(fd);
		unlinkat(d->rootfd, tmp, 0);
		return rc;
	}
	if (durable && fsync(fd) != 0) {
		int rc = write_err(err, name, "fsync");
		close(fd);
		unlinkat(d->rootfd, tmp, 0);
		return rc;
	}
	if (close(fd) != 0) {
		int rc = write_err(err, name, "close");
		unlinkat(d->rootfd, tmp, 0);
		return rc;
	}
	if (renameat(d->rootfd, tmp, d->rootfd, name) != 0) {
		int rc = write_err(err, name, "rename");
		unlinkat(d->rootfd, tmp, 0);
		return rc;
	}
	return 0;
}

/* One queued write, on a worker thread. */
static int
do_put(dir_store *d, const job *j, prb_err *err)
{
	pthread_mutex_lock(&d->dmu);
	int rc = ensure_parent(d, j->name, err);
	pthread_mutex_unlock(&d->dmu);
	if (rc)
		return rc;
	return write_file(d, j->name, j->data, j->len,
	                  d->sync_mode == PRB_SYNC_FILES, err);
}

static void
free_job(job *j)
{
	free(j->name);
	free(j->data);
	free(j);
}

static void *
worker(void *arg)
{
	dir_store *d = arg;
	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->head && !d->stop)
			pthread_cond_wait(&d->work, &d->mu);
		if (!d->head)
			break;
		job *j = d->head;
		d->head = j->next;
		if (!d->head)
			d->tail = NULL;
		d->busy++;
		int slot = 0;
		while (d->running[slot])
			slot++;
		d->running[slot] = j->name;
		int skip = d->failed; /* after a failure, drop the rest */
		pthread_mutex_unlock(&d->mu);
		prb_err e;
		int rc = skip ? 0 : do_put(d, j, &e);
		pthread_mutex_lock(&d->mu);
		d->running[slot] = NULL;
		d->busy--;
		d->qbytes -= j->len;
		if (rc && !d->failed) {
			d->failed = rc;
			d->ferr = e;
		}
		free_job(j);
		pthread_cond_broadcast(&d->idle);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Waits until every queued write is done; returns the first failure. */
static int
drain(dir_store *d, prb_err *err)
{
	pthread_mutex_lock(&d->mu);
	while (d->head || d->busy)
		pthread_cond_wait(&d->idle, &d->mu);
	int rc = d->failed;
	if (rc && err)
		*err = d->ferr;
	pthread_mutex_unlock(&d->mu);
	return rc;
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

/* Whether a put of `name` is queued or being written (mu held). */
static int
pending(const dir_store *d, const char *name)
{
	for (const job *q = d->head; q; q = q->next)
		if (strcmp(q->name, name) == 0)
			return 1;
	for (int i = 0; i < NWORKERS; i++)
		if (d->running[i] && strcmp(d->running[i], name) == 0)
			return 1;
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
	job *j = calloc(1, sizeof *j);
	if (j) {
		j->name = strdup(name);
		j->data = malloc(len ? len : 1);
	}
	if (!j || !j->name || !j->data) {
		if (j)
			free_job(j);
		return prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX,
		                   "out of memory");
	}
	memcpy(j->data, data, len);
	j->len = len;
	pthread_mutex_lock(&d->mu);
	if (pending(d, name)) /* keep puts of one name in order */
		while (d->head || d->busy)
			pthread_cond_wait(&d->idle, &d->mu);
	while (d->qbytes > 0 && d->qbytes + len > QUEUE_BYTES)
		pthread_cond_wait(&d->idle, &d->mu);
	rc = d->failed;
	if (rc) {
		if (err)
			*err = d->ferr;
		pthread_mutex_unlock(&d->mu);
		free_job(j);
		return rc;
	}
	if (d->tail)
		d->tail->next = j;
	else
		d->head = j;
	d->tail = j;
	d->qbytes += len;
	pthread_cond_signal(&d->work);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

static int
fsync_dir(dir_store *d, const char *dir, prb_err *err)
{
	int fd = openat(d->rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return write_err(err, dir, "open directory");
	int rc = fsync(fd) == 0 ? 0 : write_err(err, dir, "fsync directory");
	close(fd);
	return rc;
}

static void
clear_dirs(dir_store *d)
{
	for (size_t i = 0; i < d->ndirs; i++)
		free(d->dirs[i]);
	d->ndirs = 0;
}

static int
ds_sync(prb_store *s, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	int rc = drain(d, err);
	if (rc)
		return rc;
	if (d->sync_mode == PRB_SYNC_FS) {
		if (syncfs(d->rootfd) != 0)
			rc = write_err(err, d->root, "syncfs");
	} else {
		for (size_t i = 0; i < d->ndirs && rc == 0; i++)
			rc = fsync_dir(d, d->dirs[i], err);
	}
	clear_dirs(d);
	return rc;
}

static int
read_at(dir_store *d, const char *name, uint8_t **data, size_t *len,
        prb_err *err)
{
	int fd = openat(d->rootfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_err(err, name, "open");
	struct stat st;
	uint8_t *buf = NULL;
	int rc = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = prb_err_set(err, PRB_EIO, name, UINT64_MAX, "not a file");
		goto out;
	}
	size_t n = (size_t)st.st_size, got = 0;
	if (!(buf = malloc(n + 1))) {
		rc = prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX, "out of memory");
		goto out;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? sys_err(err, name, "read")
			           : prb_err_set(err, PRB_EIO, name, got,
			                         "file shrank while reading");
			goto out;
		}
		got += (size_t)r;
	}
	buf[n] = 0;
	*data = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
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
	int fd = openat(d->rootfd, PRB_CHECKPOINT_PENDING, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return write_err(err, "checkpoint", "open pending");
	int rc = fsync(fd) == 0 ? 0 : write_err(err, "checkpoint", "fsync");
	close(fd);
	if (rc == 0 && renameat(d->rootfd, PRB_CHECKPOINT_PENDING, d->rootfd,
	                        "checkpoint") != 0)
		rc = write_err(err, "checkpoint", "rename");
	return rc;
}

static int
ds_set_checkpoint(prb_store *s, const uint8_t *old, size_t old_len,
                  const uint8_t *data, size_t len, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	uint8_t *cur = NULL;
	size_t curlen = 0;
	prb_err e;
	int rc = drain(d, err);
	if (rc)
		return rc; /* a failed write: never commit over it */
	rc = read_at(d, "checkpoint", &cur, &curlen, &e);
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
	if (rc > 0)
		rc = write_file(d, "checkpoint", data, len, 1, err);
	if (rc == 0 && (rc = fsync_dir(d, ".", err)) && err)
		snprintf(err->where, sizeof err->where, "checkpoint");
	return rc;
}

static int
ds_list(prb_store *s, const char *prefix, int (*fn)(void *, const char *),
        void *ctx, prb_err *err)
{
	dir_store *d = (dir_store *)s;
	drain(d, NULL);
	int fd = openat(d->rootfd, prefix, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
	drain(d, NULL);
	if (unlinkat(d->rootfd, name, 0) != 0)
		return sys_err(err, name, "unlink"); /* ENOENT: PRB_ENOTFOUND */
	/* drop the ".p" directory once it is empty */
	char dir[512];
	const char *slash = strrchr(name, '/');
	if (slash && slash - name > 2 && (size_t)(slash - name) < sizeof dir &&
	    memcmp(slash - 2, ".p", 2) == 0) {
		memcpy(dir, name, (size_t)(slash - name));
		dir[slash - name] = 0;
		if (unlinkat(d->rootfd, dir, AT_REMOVEDIR) == 0) {
			pthread_mutex_lock(&d->dmu); /* it must be made again */
			for (unsigned i = 0; i < 16; i++)
				if (strcmp(d->known[i], dir) == 0)
					d->known[i][0] = 0;
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
	d->stop = 1;
	pthread_cond_broadcast(&d->work);
	pthread_mutex_unlock(&d->mu);
	for (int i = 0; i < d->nthreads; i++)
		pthread_join(d->th[i], NULL); /* workers finish the queue */
	pthread_mutex_destroy(&d->mu);
	pthread_mutex_destroy(&d->dmu);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->idle);
	clear_dirs(d);
	if (d->rootfd >= 0)
		close(d->rootfd); /* releases the flock */
	free(d->root);
	free(d);
}

static const prb_store_ops dir_ops = {
	ds_get, ds_put, ds_sync, ds_set_checkpoint,
	ds_list, ds_remove, ds_lock, ds_close,
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
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->dmu, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->idle, NULL);
	d->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d->root = strdup(dir);
	if (d->rootfd < 0 || !d->root) {
		int rc = d->rootfd < 0 ? sys_err(err, dir, "open log directory")
		                       : PRB_ENOMEM;
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
