/*
 * The filesystem store: objects are files under a root directory, laid out
 * exactly as their names say, so the directory can be served as-is.
 *
 * Durable write of a write-once object (put):
 *   1. open("<name>.tmp", O_CREAT|O_TRUNC), write all bytes
 *   2. PRB_SYNC_FILES: fsync(tmp)          (PRB_SYNC_FS: deferred)
 *   3. rename("<name>.tmp", "<name>")      -- readers see all or nothing
 *   4. remember the parent directory (and any directory created)
 * sync():
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

typedef struct {
	prb_store base;
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
		if (mkdirat(d->rootfd, dir, 0755) == 0) {
			/* a new entry in the parent must be made durable too */
			char *ps = strrchr(dir, '/');
			if (ps) {
				*ps = 0;
				int rc = note_dir(d, dir, err);
				*ps = '/';
				if (rc)
					return rc;
			} else if (note_dir(d, ".", err)) {
				return PRB_ENOMEM;
			}
		} else if (errno != EEXIST) {
			return sys_err(err, dir, "mkdir");
		}
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
		return sys_err(err, name, "create");
	if (write_all(fd, data, len) != 0) {
		int rc = sys_err(err, name, "write");
		close(fd);
		unlinkat(d->rootfd, tmp, 0);
		return rc;
	}
	if (durable && fsync(fd) != 0) {
		int rc = sys_err(err, name, "fsync");
		close(fd);
		return rc;
	}
	if (close(fd) != 0)
		return sys_err(err, name, "close");
	if (renameat(d->rootfd, tmp, d->rootfd, name) != 0)
		return sys_err(err, name, "rename");
	return 0;
}

static int
ds_put(prb_store *s, const char *name, const uint8_t *data, size_t len,
       prb_err *err)
{
	dir_store *d = (dir_store *)s;
	int rc = ensure_parent(d, name, err);
	if (rc)
		return rc;
	return write_file(d, name, data, len, d->sync_mode == PRB_SYNC_FILES,
	                  err);
}

static int
fsync_dir(dir_store *d, const char *dir, prb_err *err)
{
	int fd = openat(d->rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sys_err(err, dir, "open directory");
	int rc = fsync(fd) == 0 ? 0 : sys_err(err, dir, "fsync directory");
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
	int rc = 0;
	if (d->sync_mode == PRB_SYNC_FS) {
		if (syncfs(d->rootfd) != 0)
			rc = sys_err(err, d->root, "syncfs");
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
	return read_at((dir_store *)s, name, data, len, err);
}

static int
ds_set_checkpoint(prb_store *s, const uint8_t *old, size_t old_len,
                  const uint8_t *data, size_t len, prb_err *err)
{
	dir_store *d = (dir_store *)s;
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
	rc = write_file(d, "checkpoint", data, len, 1, err);
	if (rc == 0)
		rc = fsync_dir(d, ".", err);
	return rc;
}

static int
ds_list(prb_store *s, const char *prefix, int (*fn)(void *, const char *),
        void *ctx, prb_err *err)
{
	dir_store *d = (dir_store *)s;
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
	if (unlinkat(d->rootfd, name, 0) != 0 && errno != ENOENT)
		return sys_err(err, name, "unlink");
	/* drop the ".p" directory once it is empty */
	char dir[512];
	const char *slash = strrchr(name, '/');
	if (slash && slash - name > 2 && (size_t)(slash - name) < sizeof dir &&
	    memcmp(slash - 2, ".p", 2) == 0) {
		memcpy(dir, name, (size_t)(slash - name));
		dir[slash - name] = 0;
		(void)unlinkat(d->rootfd, dir, AT_REMOVEDIR); /* ENOTEMPTY ok */
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
