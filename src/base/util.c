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
#include <unistd.h>

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
	                                      : PRB_EIO;
	return prb_err_set(err, code, name, UINT64_MAX, "%s: %s", what,
	                   strerror(e));
}

int
prb_write_durable(int dirfd, const char *name, const void *data, size_t len,
                  unsigned mode, int flags, prb_err *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int e, isnew = flags & PRB_DURABLE_NEW;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s%s", name,
	                     isnew ? "" : ".tmp") >= sizeof tmp ||
	    parent_of(name, dir, sizeof dir) != 0)
		return prb_err_set(err, PRB_EINVAL, name, UINT64_MAX,
		                   "path too long");
	int fd = openat(dirfd, tmp,
	                O_WRONLY | O_CREAT | O_CLOEXEC |
	                        (isnew ? O_EXCL : O_TRUNC),
	                (mode_t)mode);
	if (fd < 0)
		return durable_err(err, name, errno, "cannot create");
	const char *what = NULL;
	if ((mode & 077) == 0 && fchmod(fd, (mode_t)mode) != 0)
		e = errno, what = "chmod";
	else if ((e = prb_write_all(fd, data, len)) != 0)
		what = "write";
	else if (fsync(fd) != 0)
		e = errno, what = "fsync";
	if (close(fd) != 0 && !what)
		e = errno, what = "close";
	if (!what && !isnew && renameat(dirfd, tmp, dirfd, name) != 0)
		e = errno, what = "rename";
	if (what) {
		unlinkat(dirfd, tmp, 0);
		return durable_err(err, name, e, what);
	}
	if (!(flags & PRB_DURABLE_NODIR) && (e = fsync_dir_at(dirfd, dir)))
		return durable_err(err, name, e, "fsync of the directory");
	return 0;
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
