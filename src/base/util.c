/* Encodings and small helpers. base64 rides on OpenSSL's EVP block coder;
 * this file only adds the strictness checks a signed format needs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
prb_fsync_dir(const char *dir, prb_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return prb_err_set(err, PRB_EIO, dir, UINT64_MAX,
		                   "fsync of the directory: %s", strerror(e));
	}
	close(fd);
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
