/*
 * Evidence bundles as one file (evidence.h): a tar (.tar) or a gzipped
 * tar (.tar.gz, .tgz) of the bundle's files, read and written with
 * libarchive, streaming.
 *
 * Packing lists the files in the order SHA256SUMS gives (sorted), then
 * SHA256SUMS itself, each a regular file of mode 0644 and mtime 0, so the
 * same bundle gives the same tar. The tar is written as "<tar>.tmp",
 * fsynced and renamed to <tar> only if no such name exists
 * (RENAME_NOREPLACE), then its directory fsynced.
 *
 * Unpacking is into a private directory (mkdtemp, mode 0700) that
 * prb_evidence_verify then checks as it checks any bundle. Before a byte
 * of an entry is written, it is refused if it is anything but a regular
 * file or a directory (a symbolic or hard link, a device, a FIFO), if its
 * name is absolute, holds "..", "." or an empty component, or is deeper
 * than a bundle's one level of subdirectories, if that name came before,
 * if it is larger than its role can need (prb_evidence_role_max), or if
 * the entries so far exceed PRB_EVIDENCE_TAR_MAX bytes or
 * PRB_EVIDENCE_TAR_FILES files. Memory: one 64 KiB buffer and
 * libarchive's state, whatever the tar holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <archive.h>
#include <archive_entry.h>

#include "probity/evidence.h"
#include "base/util.h"
#include "audit/audit_int.h"

#define CHUNK ((size_t)1 << 16)
#define MANIFEST "SHA256SUMS"

int
prb_evidence_is_tar(const char *path)
{
	static const char *const ext[] = {".tar", ".tar.gz", ".tgz"};
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t e = strlen(ext[i]);
		if (n > e && strcmp(path + n - e, ext[i]) == 0)
			return 1;
	}
	return 0;
}

static int
gzipped(const char *path)
{
	size_t n = strlen(path);
	return (n > 3 && strcmp(path + n - 3, ".gz") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".tgz") == 0);
}

static int
arc_err(prb_err *err, struct archive *a, const char *where)
{
	return prb_err_set(err, PRB_EIO, where, UINT64_MAX, "%s",
	                   archive_error_string(a) ? archive_error_string(a)
	                                           : "tar error");
}

/* ---- packing ------------------------------------------------------------ */

/* Adds the bundle's file rel (beneath dirfd) to the tar a. */
static int
pack_file(struct archive *a, int dirfd, const char *rel, uint8_t *buf,
          prb_err *err)
{
	struct stat st;
	int fd = prb_open_beneath(dirfd, rel, O_RDONLY, 0);
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return prb_err_set(err, PRB_EIO, rel, UINT64_MAX, "%s",
		                   prb_beneath_strerror(e));
	}
	struct archive_entry *e = archive_entry_new();
	int rc = e ? 0 : prb_err_set(err, PRB_ENOMEM, rel, UINT64_MAX,
	                             "out of memory");
	if (rc == 0) {
		archive_entry_set_pathname(e, rel);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, st.st_size);
		archive_entry_set_mtime(e, 0, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			rc = arc_err(err, a, rel);
	}
	ssize_t r;
	while (rc == 0 && (r = read(fd, buf, CHUNK)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = prb_err_set(err, PRB_EIO, rel, UINT64_MAX, "read: %s",
			                 strerror(errno));
		else if (archive_write_data(a, buf, (size_t)r) != r)
			rc = arc_err(err, a, rel);
	}
	archive_entry_free(e);
	close(fd);
	return rc;
}

/* Adds the bundle's subdirectories that exist (an empty one has no file
 * to imply it, and verify requires entries/ and proofs/). */
static int
pack_dirs(struct archive *a, int dirfd, prb_err *err)
{
	static const char *const subs[] = {"entries", "proofs", "policies",
	                                   "blobs"};
	struct stat st;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof subs / sizeof subs[0]; i++) {
		if (fstatat(dirfd, subs[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		struct archive_entry *e = archive_entry_new();
		if (!e)
			return prb_err_set(err, PRB_ENOMEM, subs[i], UINT64_MAX,
			                   "out of memory");
		archive_entry_set_pathname(e, subs[i]);
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		archive_entry_set_mtime(e, 0, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			rc = arc_err(err, a, subs[i]);
		archive_entry_free(e);
	}
	return rc;
}

/* Adds the subdirectories, every file SHA256SUMS lists, then
 * SHA256SUMS. */
static int
pack_files(struct archive *a, int dirfd, prb_err *err)
{
	uint8_t *m = NULL, *buf = malloc(CHUNK);
	size_t len = 0;
	int rc = buf ? pack_dirs(a, dirfd, err)
	             : prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
	                           "out of memory");
	if (rc == 0)
		rc = prb_read_file_at(dirfd, MANIFEST, PRB_FINDINGS_MAX, &m, &len,
		                      err);
	for (size_t off = 0; rc == 0 && off < len;) {
		char *l = (char *)m + off, *nl = memchr(l, '\n', len - off);
		if (!nl || nl - l < 67)
			rc = prb_err_set(err, PRB_EMALFORMED, MANIFEST, off,
			                 "not \"<sha256 hex>  <path>\" lines");
		else {
			*nl = 0;
			rc = pack_file(a, dirfd, l + 66, buf, err);
			off = (size_t)(nl - (char *)m) + 1;
		}
	}
	if (rc == 0)
		rc = pack_file(a, dirfd, MANIFEST, buf, err);
	free(m);
	free(buf);
	return rc;
}

/* Writes the bundle in directory dir as the tar file tar (evidence.h). */
static int
pack(const char *dir, const char *tar, prb_err *err)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", tar) >= sizeof tmp)
		return prb_err_set(err, PRB_EINVAL, tar, UINT64_MAX,
		                   "path too long");
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = dirfd < 0 ? -1
	                   : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	                                       O_CLOEXEC,
	                          0644);
	int rc = dirfd < 0 || fd < 0
	         ? prb_err_set(err, PRB_EIO, dirfd < 0 ? dir : tmp, UINT64_MAX,
	                       "%s", prb_beneath_strerror(errno))
	         : 0;
	struct archive *a = rc ? NULL : archive_write_new();
	if (rc == 0 && !a)
		rc = prb_err_set(err, PRB_ENOMEM, tar, UINT64_MAX,
		                 "out of memory");
	if (rc == 0 && (archive_write_set_format_pax_restricted(a) ||
	                (gzipped(tar) && archive_write_add_filter_gzip(a)) ||
	                archive_write_open_fd(a, fd)))
		rc = arc_err(err, a, tar);
	if (rc == 0)
		rc = pack_files(a, dirfd, err);
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = arc_err(err, a, tar);
	if (a)
		archive_write_free(a);
	if (rc == 0 && fsync(fd) != 0)
		rc = prb_err_set(err, PRB_EIO, tmp, UINT64_MAX, "fsync: %s",
		                 strerror(errno));
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = prb_err_set(err, PRB_EIO, tmp, UINT64_MAX, "close: %s",
		                 strerror(errno));
	if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, tar,
	                         RENAME_NOREPLACE) != 0)
		rc = prb_err_set(err, errno == EEXIST ? PRB_EEXIST : PRB_EIO, tar,
		                 UINT64_MAX, "%s", errno == EEXIST
		                 ? "exists: a bundle is never written over a file"
		                 : strerror(errno));
	if (rc && fd >= 0)
		unlink(tmp);
	if (rc == 0 && prb_fsync_parent(tar) != 0)
		rc = prb_err_set(err, PRB_EIO, tar, UINT64_MAX,
		                 "fsync of the directory: %s", strerror(errno));
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/* Removes dir, a bundle's directory of files and one level of
 * subdirectories made by this program (never follows a link). */
void
prb_evidence_remove_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0 || errno != EISDIR)
			continue;
		int sfd = prb_open_beneath(fd, de->d_name,
		                           O_RDONLY | O_DIRECTORY, 0);
		DIR *s = sfd < 0 ? NULL : fdopendir(sfd);
		struct dirent *se;
		while (s && (se = readdir(s)) != NULL)
			if (strcmp(se->d_name, ".") && strcmp(se->d_name, ".."))
				unlinkat(sfd, se->d_name, 0);
		if (s)
			closedir(s);
		else if (sfd >= 0)
			close(sfd);
		unlinkat(fd, de->d_name, AT_REMOVEDIR);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	rmdir(dir);
}

int
prb_evidence_write_tar(const char *tar, prb_log *log,
                       const prb_policy_set *ps, const prb_finding *f,
                       size_t n, prb_err *err)
{
	char dir[PATH_MAX];
	struct stat st;
	if (lstat(tar, &st) == 0)
		return prb_err_set(err, PRB_EEXIST, tar, UINT64_MAX, "exists: a "
		                   "bundle is never written over a file");
	if ((size_t)snprintf(dir, sizeof dir, "%s.d.XXXXXX", tar) >=
	    sizeof dir)
		return prb_err_set(err, PRB_EINVAL, tar, UINT64_MAX,
		                   "path too long");
	if (!mkdtemp(dir))
		return prb_err_set(err, PRB_EIO, dir, UINT64_MAX, "mkdtemp: %s",
		                   strerror(errno));
	int rc = prb_evidence_write(dir, log, ps, f, n, err);
	if (rc == 0)
		rc = pack(dir, tar, err);
	prb_evidence_remove_dir(dir);
	return rc;
}

/* ---- unpacking ---------------------------------------------------------- */

/* Checks an entry's name (after any leading "./") and returns how many
 * components it has (1 or 2), or 0 when it is refused (why set). */
static int
check_name(const char *name, const char **why)
{
	int parts = 1;
	size_t n = strlen(name);
	*why = NULL;
	if (n == 0 || n > 255)
		*why = "an empty or over-long name";
	else if (name[0] == '/')
		*why = "an absolute name";
	for (const char *p = name; !*why && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			*why = "a control character or backslash in its name";
	for (const char *c = name; !*why && c < name + n;) {
		const char *s = strchr(c, '/');
		size_t l = s ? (size_t)(s - c) : strlen(c);
		if (l == 0 || (l == 1 && c[0] == '.') ||
		    (l == 2 && c[0] == '.' && c[1] == '.'))
			*why = "an empty, \".\" or \"..\" component in its name";
		if (!s)
			break;
		c = s + 1;
		if (++parts > 2)
			*why = "a name deeper than a bundle's subdirectories";
	}
	return *why ? 0 : parts;
}

/* What an entry of type t that is not a file or directory is. */
static const char *
type_name(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return "a hard link";
	switch (archive_entry_filetype(e)) {
	case AE_IFLNK: return "a symbolic link";
	case AE_IFIFO: return "a FIFO";
	case AE_IFCHR:
	case AE_IFBLK: return "a device";
	case AE_IFSOCK: return "a socket";
	case AE_IFREG:
	case AE_IFDIR: return NULL;
	default: return "not a regular file or directory";
	}
}

/* Writes the data of the current entry to rel beneath dirfd. */
static int
unpack_file(struct archive *a, int dirfd, const char *rel, uint8_t *buf,
            prb_err *err)
{
	const char *slash = strchr(rel, '/');
	if (slash) { /* its directory may come later in the tar, or never */
		char sub[256];
		memcpy(sub, rel, (size_t)(slash - rel));
		sub[slash - rel] = 0;
		if (prb_mkdir_beneath(dirfd, sub, 0700) != 0 && errno != EEXIST)
			return prb_err_set(err, PRB_EIO, sub, UINT64_MAX, "%s",
			                   prb_beneath_strerror(errno));
	}
	int fd = prb_open_beneath(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return prb_err_set(err, PRB_EPROOF, rel, UINT64_MAX, "%s",
		                   errno == EEXIST
		                   ? "a second entry of this name in the tar: "
		                     "refused"
		                   : prb_beneath_strerror(errno));
	int rc = 0;
	la_ssize_t r;
	while (rc == 0 && (r = archive_read_data(a, buf, CHUNK)) != 0) {
		if (r < 0)
			rc = arc_err(err, a, rel);
		else if ((rc = prb_write_all(fd, buf, (size_t)r)) != 0)
			rc = prb_err_set(err, PRB_EIO, rel, UINT64_MAX, "write: %s",
			                 strerror(rc));
	}
	close(fd);
	return rc;
}

/* Reads the next entry of a into dirfd, counting *files and *bytes. */
static int
unpack_entry(struct archive *a, struct archive_entry *e, int dirfd,
             uint8_t *buf, uint64_t *files, uint64_t *bytes, prb_err *err)
{
	char rel[512];
	const char *name = archive_entry_pathname(e), *why;
	if (!name)
		return prb_err_set(err, PRB_EPROOF, NULL, UINT64_MAX,
		                   "an entry of the tar has no name");
	if (strncmp(name, "./", 2) == 0)
		name += 2;
	snprintf(rel, sizeof rel, "%s", name);
	size_t n = strlen(rel);
	int dir = archive_entry_filetype(e) == AE_IFDIR;
	if (dir && n > 0 && rel[n - 1] == '/')
		rel[--n] = 0;
	if (dir && n == 0)
		return 0; /* "./": the bundle itself */
	const char *what = type_name(e);
	int parts = check_name(rel, &why);
	if (what || !parts)
		return prb_err_set(err, PRB_EPROOF, rel, UINT64_MAX, "%s: refused",
		                   what ? what : why);
	if (dir)
		return parts == 1 && (prb_mkdir_beneath(dirfd, rel, 0700) == 0 ||
		                      errno == EEXIST)
		       ? 0 : prb_err_set(err, PRB_EPROOF, rel, UINT64_MAX,
		                         "a directory a bundle does not have: "
		                         "refused");
	int64_t size = archive_entry_size(e);
	if (size < 0 || (uint64_t)size > prb_evidence_role_max(rel))
		return prb_err_set(err, PRB_ETOOBIG, rel, UINT64_MAX,
		                   "%lld bytes, over the %zu such a file can "
		                   "need: refused", (long long)size,
		                   prb_evidence_role_max(rel));
	*bytes += (uint64_t)size;
	if (++*files > PRB_EVIDENCE_TAR_FILES ||
	    *bytes > PRB_EVIDENCE_TAR_MAX)
		return prb_err_set(err, PRB_ETOOBIG, rel, UINT64_MAX,
		                   "the tar holds more than %llu files or %llu "
		                   "bytes: refused",
		                   (unsigned long long)PRB_EVIDENCE_TAR_FILES,
		                   (unsigned long long)PRB_EVIDENCE_TAR_MAX);
	return unpack_file(a, dirfd, rel, buf, err);
}

int
prb_evidence_unpack(const char *tar, char dir[PRB_EVIDENCE_DIR_MAX],
                    prb_err *err)
{
	const char *tmp = getenv("TMPDIR");
	struct stat st;
	dir[0] = 0;
	if (stat(tar, &st) != 0)
		return prb_err_set(err, errno == ENOENT ? PRB_ENOTFOUND : PRB_EIO,
		                   tar, UINT64_MAX, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return prb_err_set(err, PRB_EINVAL, tar, UINT64_MAX,
		                   "not a regular file");
	if ((size_t)snprintf(dir, PRB_EVIDENCE_DIR_MAX,
	                     "%s/probity-bundle.XXXXXX",
	                     tmp && tmp[0] == '/' ? tmp : "/tmp") >=
	            PRB_EVIDENCE_DIR_MAX ||
	    !mkdtemp(dir)) {
		int e = errno;
		dir[0] = 0;
		return prb_err_set(err, PRB_EIO, tar, UINT64_MAX,
		                   "cannot make a private directory: %s",
		                   strerror(e));
	}
	struct archive *a = archive_read_new();
	uint8_t *buf = malloc(CHUNK);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = !a || !buf || dirfd < 0
	         ? prb_err_set(err, PRB_ENOMEM, tar, UINT64_MAX,
	                       "out of memory")
	         : 0;
	if (rc == 0 && (archive_read_support_filter_gzip(a) ||
	                archive_read_support_format_tar(a) ||
	                archive_read_open_filename(a, tar, CHUNK)))
		rc = arc_err(err, a, tar);
	uint64_t files = 0, bytes = 0;
	struct archive_entry *e;
	int r;
	while (rc == 0 && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK)
			rc = arc_err(err, a, tar);
		else
			rc = unpack_entry(a, e, dirfd, buf, &files, &bytes, err);
	}
	if (a)
		archive_read_free(a);
	free(buf);
	if (dirfd >= 0)
		close(dirfd);
	if (rc) {
		prb_evidence_remove_dir(dir);
		dir[0] = 0;
	}
	return rc;
}
