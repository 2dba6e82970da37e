/* Encodings and small helpers. base64 rides on OpenSSL's EVP block coder;
 * this file only adds the strictness checks a signed format needs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "base/util.h"

size_t
prb_b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
prb_b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t done = 0;
	/* EVP_EncodeBlock takes an int length: feed it in bounded slices of a
	 * multiple of 3 bytes so the output concatenates. */
	while (n - done > 0) {
		size_t chunk = n - done > 3u << 20 ? 3u << 20 : n - done;
		int w = EVP_EncodeBlock((unsigned char *)out +
		                                prb_b64_encoded_len(done),
		                        in + done, (int)chunk);
		(void)w;
		done += chunk;
	}
	out[prb_b64_encoded_len(n)] = '\0';
	return prb_b64_encoded_len(n);
}

static int
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
prb_b64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen)
{
	if (len % 4 != 0 || len > (size_t)1 << 30)
		return PRB_EMALFORMED;
	size_t pad = 0;
	if (len >= 1 && in[len - 1] == '=')
		pad++;
	if (len >= 2 && in[len - 2] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!b64_char(in[i]))
			return PRB_EMALFORMED;
	if (len == 0) {
		*outlen = 0;
		return 0;
	}
	int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0)
		return PRB_EMALFORMED;
	*outlen = (size_t)n - pad; /* EVP_DecodeBlock counts padding bytes */
	return 0;
}

int
prb_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return PRB_EMALFORMED;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return PRB_EMALFORMED;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return PRB_EMALFORMED;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
prb_read_file(const char *path, size_t limit, uint8_t **data, size_t *len,
              prb_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return prb_err_set(err, errno == ENOENT ? PRB_ENOTFOUND : PRB_EIO,
		                   path, UINT64_MAX, "%s", strerror(errno));
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap + 1);
	int rc = 0;
	if (!buf) {
		rc = prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX, "out of memory");
		goto out;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= limit) {
				rc = prb_err_set(err, PRB_ETOOBIG, path, limit,
				                 "file is larger than %zu bytes", limit);
				goto out;
			}
			cap = cap * 2 > limit ? limit : cap * 2;
			uint8_t *nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
				                 "out of memory");
				goto out;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f))
				rc = prb_err_set(err, PRB_EIO, path, n, "read failed");
			break;
		}
	}
out:
	if (f != stdin)
		fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = 0;
	*data = buf;
	*len = n;
	return 0;
}

size_t
prb_utf8_bad_at(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = s[i];
		size_t need;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (len - i - 1 < need)
			return i;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += need + 1;
	}
	return len;
}

int
prb_utf8_valid(const uint8_t *s, size_t len)
{
	return prb_utf8_bad_at(s, len) == len;
}

void
prb_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
prb_sqlite_code(int rc)
{
	switch (rc & 0xff) { /* the primary code of an extended one */
	case SQLITE_FULL:
		return PRB_ENOSPC;
	case SQLITE_NOMEM:
		return PRB_ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return PRB_ECORRUPT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return PRB_ELOCKED;
	case SQLITE_CONSTRAINT:
		return PRB_EEXIST;
	default:
		return PRB_EIO;
	}
}

int
prb_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* openat2(2) beneath dirfd, never through a link; retried on EAGAIN,
 * which RESOLVE_BENEATH returns when a rename anywhere raced the lookup. */
static int
openat2_beneath(int dirfd, const char *name, int flags, unsigned mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)flags,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		           RESOLVE_NO_MAGICLINKS,
	};
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN || tries == 100)
			return fd >= 0 ? (int)fd : -1;
	}
}

int
prb_open_beneath(int dirfd, const char *name, int flags, unsigned mode)
{
	int isfile = !(flags & (O_DIRECTORY | O_PATH));
	int trunc = flags & O_TRUNC;
	if (isfile)
		flags = (flags & ~O_TRUNC) | O_NONBLOCK | O_NOCTTY;
	int fd = openat2_beneath(dirfd, name, flags | O_CLOEXEC, mode);
	if (fd < 0 || !isfile)
		return fd;
	struct stat st;
	int e = 0;
	if (fstat(fd, &st) != 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = ENODEV;
	else if ((flags & O_ACCMODE) != O_RDONLY && st.st_nlink > 1)
		e = EMLINK;
	else if (trunc && st.st_size > 0 && ftruncate(fd, 0) != 0)
		e = errno;
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
prb_parent_beneath(int dirfd, const char *name, const char **leaf)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(name, '/');
	*leaf = slash ? slash + 1 : name;
	size_t n = slash ? (size_t)(slash - name) : 0;
	if (n >= sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, n ? name : ".", n ? n : 1);
	dir[n ? n : 1] = 0;
	return prb_open_beneath(dirfd, dir, O_RDONLY | O_DIRECTORY, 0);
}

int
prb_mkdir_beneath(int dirfd, const char *name, unsigned mode)
{
	const char *leaf;
	int pfd = prb_parent_beneath(dirfd, name, &leaf);
	if (pfd < 0)
		return -1;
	int rc = mkdirat(pfd, leaf, (mode_t)mode), e = errno;
	close(pfd);
	errno = e;
	return rc;
}

int
prb_unlink_beneath(int dirfd, const char *name, int flags)
{
	const char *leaf;
	int pfd = prb_parent_beneath(dirfd, name, &leaf);
	if (pfd < 0)
		return -1;
	int rc = unlinkat(pfd, leaf, flags), e = errno;
	close(pfd);
	errno = e;
	return rc;
}

const char *
prb_beneath_strerror(int e)
{
	switch (e) {
	case ELOOP:
		return "a symbolic link, or behind one: refused (nothing "
		       "outside the directory is opened)";
	case EXDEV:
		return "outside the directory: refused";
	case ENODEV:
	case ENXIO:
		return "not a regular file (a FIFO, device or socket): refused";
	case EMLINK:
		return "a file with other hard links: refused (writing it "
		       "would change them)";
	case ENOSYS:
		return "openat2(2) is missing: Linux 5.6 or later is needed to "
		       "open files safely";
	default:
		return strerror(e);
	}
}

int
prb_read_file_at(int dirfd, const char *name, size_t limit, uint8_t **data,
                 size_t *len, prb_err *err)
{
	int fd = prb_open_beneath(dirfd, name, O_RDONLY, 0);
	if (fd < 0)
		return prb_err_set(err, errno == ENOENT ? PRB_ENOTFOUND : PRB_EIO,
		                   name, UINT64_MAX, "open: %s",
		                   prb_beneath_strerror(errno));
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0, got = 0;
	int rc = 0;
	if (fstat(fd, &st) != 0) {
		rc = prb_err_set(err, PRB_EIO, name, UINT64_MAX, "fstat: %s",
		                 strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > limit) {
		rc = prb_err_set(err, PRB_ETOOBIG, name, limit,
		                 "file is larger than %zu bytes", limit);
		goto out;
	}
	n = (size_t)st.st_size;
	if (!(buf = malloc(n + 1))) {
		rc = prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX, "out of memory");
		goto out;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? prb_err_set(err, PRB_EIO, name, got, "read: %s",
			                         strerror(errno))
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

/* fsync of the directory `dir` (relative to dirfd); 0 or an errno. */
static int
fsync_dir_at(int dirfd, const char *dir)
{
	int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int e = fsync(fd) == 0 ? 0 : errno;
	close(fd);
	return e;
}

int
prb_fsync_dir(const char *dir, prb_err *err)
{
	int e = fsync_dir_at(AT_FDCWD, dir);
	return e ? prb_err_set(err, PRB_EIO, dir, UINT64_MAX,
	                       "fsync of the directory: %s", strerror(e))
	         : 0;
}

/* The directory holding path: "." for a bare name, "/" for "/x". */
static int
parent_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	if (n + 2 > cap)
		return -1;
	if (n == 0)
		memcpy(dir, ".", 2);
	else {
		memcpy(dir, path, n);
		dir[n] = 0;
	}
	return 0;
}

int
prb_fsync_parent(const char *path)
{
	char p[PATH_MAX], dir[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, path, n + 1);
	while (n > 1 && p[n - 1] == '/') /* "a/b/" is b's parent, a */
		p[--n] = 0;
	parent_of(p, dir, sizeof dir);
	int e = fsync_dir_at(AT_FDCWD, dir);
	errno = e;
	return e ? -1 : 0;
}

static int
durable_err(prb_err *err, const char *name, int e, const char *what)
{
	int code = e == ENOSPC || e == EDQUOT ? PRB_ENOSPC
	           : e == EEXIST              ? PRB_EEXIST
	           : e == ENAMETOOLONG        ? PRB_EINVAL
	                                      : PRB_EIO;
	return prb_err_set(err, code, name, UINT64_MAX, "%s: %s", what,
	                   prb_beneath_strerror(e));
}

int
prb_write_durable(int dirfd, const char *name, const void *data, size_t len,
                  unsigned mode, int flags, prb_err *err)
{
	char tmp[NAME_MAX + 8], dir[PATH_MAX];
	const char *leaf;
	struct stat st;
	int e = 0, isnew = flags & PRB_DURABLE_NEW, fd = -1;
	/* The caller's own path (AT_FDCWD) is followed as given up to the
	 * parent; under a directory fd, nothing leaves it. The file itself
	 * is never reached through a link. */
	int pfd = dirfd == AT_FDCWD
	                  ? (parent_of(name, dir, sizeof dir) != 0
	                             ? (errno = ENAMETOOLONG, -1)
	                             : open(dir, O_RDONLY | O_DIRECTORY |
	                                                 O_CLOEXEC))
	                  : prb_parent_beneath(dirfd, name, &leaf);
	if (pfd < 0)
		return durable_err(err, name, errno, "cannot open the directory");
	leaf = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	const char *what = NULL;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s%s", leaf,
	                     isnew ? "" : ".tmp") >= sizeof tmp)
		e = ENAMETOOLONG, what = "cannot create";
	else if (!isnew && fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	         !S_ISREG(st.st_mode)) {
		/* renaming over it would be safe; a planted name is refused */
		close(pfd);
		return durable_err(err, name, S_ISLNK(st.st_mode) ? ELOOP : ENODEV,
		                   "cannot replace");
	} else if ((fd = prb_open_beneath(pfd, tmp,
	                                  O_WRONLY | O_CREAT |
	                                          (isnew ? O_EXCL : O_TRUNC),
	                                  mode)) < 0) {
		e = errno;
		snprintf(dir, sizeof dir, "%s%s", name, isnew ? "" : ".tmp");
		close(pfd);
		return durable_err(err, dir, e, "cannot create");
	} else if ((mode & 077) == 0 && fchmod(fd, (mode_t)mode) != 0)
		e = errno, what = "chmod";
	else if ((e = prb_write_all(fd, data, len)) != 0)
		what = "write";
	else if (fsync(fd) != 0)
		e = errno, what = "fsync";
	if (fd >= 0 && close(fd) != 0 && !what)
		e = errno, what = "close";
	if (!what && !isnew && renameat(pfd, tmp, pfd, leaf) != 0)
		e = errno, what = "rename";
	if (what && fd >= 0)
		unlinkat(pfd, tmp, 0);
	if (!what && !(flags & PRB_DURABLE_NODIR) && fsync(pfd) != 0)
		e = errno, what = "fsync of the directory";
	close(pfd);
	return what ? durable_err(err, name, e, what) : 0;
}

int
prb_dir_check_empty(const char *dir, prb_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return prb_err_set(err, PRB_EIO, dir, UINT64_MAX, "cannot read: %s",
		                   strerror(errno));
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = prb_err_set(err, PRB_EEXIST, dir, UINT64_MAX,
			                 "exists and is not empty: holds %.200s",
			                 de->d_name);
	if (rc == 0 && errno != 0) /* readdir failed: not known empty */
		rc = prb_err_set(err, PRB_EIO, dir, UINT64_MAX, "cannot read: %s",
		                 strerror(errno));
	closedir(d);
	return rc;
}

double
prb_now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
