/* Internal helpers shared by the library modules: encodings, byte order,
 * whole-file reads. Not part of the public API. */
#ifndef PRB_UTIL_H
#define PRB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "probity/error.h"

static inline void
store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

static inline uint64_t
load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

/* Standard base64 (RFC 4648 section 4) with padding. */
size_t prb_b64_encoded_len(size_t n);
/* Writes the encoding and a NUL; returns its length (without NUL). */
size_t prb_b64_encode(const uint8_t *in, size_t n, char *out);
/* Strict decode: length a multiple of 4, padding only at the end, only
 * alphabet characters. out must hold 3*len/4 bytes. Returns 0 and the
 * decoded length in *outlen, or PRB_EMALFORMED. */
int prb_b64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen);

/* Parses a decimal uint64 with no sign, no leading zeros (except "0"),
 * at most `max`. Returns 0 or PRB_EMALFORMED. */
int prb_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/* Reads a whole file (at most `limit` bytes) into a malloc'd buffer with a
 * NUL after the data. PRB_ENOTFOUND, PRB_ETOOBIG, PRB_EIO. */
int prb_read_file(const char *path, size_t limit, uint8_t **data,
                  size_t *len, prb_err *err);

/* Writes all of data to fd, retrying short writes and EINTR. Returns 0
 * or the errno of the failure (ENOSPC for a full disk). */
int prb_write_all(int fd, const void *data, size_t len);

/*
 * Opening under a directory an attacker may write to (issue 13). Every
 * open, mkdir, rename and unlink under a log directory goes through
 * these, so nothing outside it is ever read or written:
 *   - `name` is resolved by openat2(2) with RESOLVE_BENEATH |
 *     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: a symbolic link in
 *     any component (ELOOP), a ".." or absolute path leaving dirfd (EXDEV)
 *     is refused by the kernel in the same lookup that opens the file, so
 *     no component can be swapped for a link between a check and the use;
 *   - a file (not O_DIRECTORY, not O_PATH) is opened O_NONBLOCK|O_NOCTTY
 *     (a FIFO or terminal never blocks or becomes ours) and must be a
 *     regular file (fstat, else ENODEV); one opened for writing must have
 *     no other hard link (else EMLINK): writing it would change a file
 *     elsewhere. O_TRUNC is applied only after those checks.
 * Linux 5.6 or later (openat2) is required: ENOSYS otherwise, never a
 * silent fall back to following links. Return an fd, or -1 with errno.
 */
int prb_open_beneath(int dirfd, const char *name, int flags, unsigned mode);

/* The directory holding `name` beneath dirfd (as prb_open_beneath, opened
 * O_PATH|O_DIRECTORY), and in *leaf the last component of name (a pointer
 * into it). A bare name gives dirfd's own directory. -1 with errno. */
int prb_parent_beneath(int dirfd, const char *name, const char **leaf);

/* mkdir of `name` beneath dirfd (its parent resolved as above). 0 or -1
 * with errno (EEXIST when something of that name exists). */
int prb_mkdir_beneath(int dirfd, const char *name, unsigned mode);

/* unlinkat(2) of `name` beneath dirfd (its parent resolved as above;
 * flags as unlinkat's). 0 or -1 with errno. */
int prb_unlink_beneath(int dirfd, const char *name, int flags);

/* The text for an errno of the calls above: the refusals explained
 * ("a symbolic link: refused ..."), else strerror. */
const char *prb_beneath_strerror(int e);

/* Reads the whole regular file `name` beneath dirfd (prb_open_beneath),
 * at most `limit` bytes (PRB_ETOOBIG, checked on fstat before reading),
 * into a malloc'd buffer with a NUL after the data. PRB_ENOTFOUND,
 * PRB_ETOOBIG, PRB_ENOMEM, PRB_EIO (a refusal, named). */
int prb_read_file_at(int dirfd, const char *name, size_t limit,
                     uint8_t **data, size_t *len, prb_err *err);

/* fsyncs the directory `dir`, so entries made in it are durable.
 * PRB_EIO naming it. */
int prb_fsync_dir(const char *dir, prb_err *err);

/* fsyncs the directory holding `path` (its last component's parent; "."
 * for a bare name), so a new entry there is durable. Returns 0 or -1 with
 * errno set. */
int prb_fsync_parent(const char *path);

/* Flags of prb_write_durable. */
#define PRB_DURABLE_NEW 1 /* create `name` itself, never over an existing
                             file (PRB_EEXIST): no temporary, no rename */
#define PRB_DURABLE_NODIR 2 /* leave the directory fsync to the caller,
                               who writes several files there and then
                               fsyncs it once (with PRB_DURABLE_NEW) */

/*
 * The one durable write of a whole file (DESIGN.md invariant 1, STYLE.md
 * "Durability"), in this order:
 *   1. open("<name>.tmp", O_CREAT|O_TRUNC), write every byte
 *   2. fsync, close
 *   3. rename("<name>.tmp", "<name>")  -- a reader sees old or new bytes
 *   4. fsync the directory holding <name>
 * so after a crash <name> holds its old bytes or all of the new ones, and
 * once it returns 0 the new ones survive a power cut. A crash between 2
 * and 3 leaves "<name>.tmp" complete (the log installs a pending
 * checkpoint from it: store.h item 4). With PRB_DURABLE_NEW, step 1
 * creates <name> itself with O_EXCL and step 3 is skipped.
 * `name` is relative to the directory dirfd (AT_FDCWD: the working
 * directory) and may contain '/'. `mode` is a new file's permission bits;
 * a mode without group or other bits (a secret) is set exactly, whatever
 * the umask. On failure nothing is renamed and the file this call created
 * is removed; err names `name`. A failed fsync is final: PRB_EIO, and the
 * caller must not retry it (the kernel may have dropped the pages).
 * Returns 0, PRB_EEXIST (PRB_DURABLE_NEW), PRB_ENOSPC, PRB_EINVAL (name
 * too long) or PRB_EIO.
 */
int prb_write_durable(int dirfd, const char *name, const void *data,
                      size_t len, unsigned mode, int flags, prb_err *err);

/* Whether directory `dir` holds anything: 0 if it is empty, PRB_EEXIST
 * naming one of its entries ("exists and is not empty: holds NAME"), or
 * PRB_EIO when it cannot be read. */
int prb_dir_check_empty(const char *dir, prb_err *err);

/* The PRB_E* code for a SQLite result code (SQLITE_FULL: PRB_ENOSPC,
 * SQLITE_BUSY: PRB_ELOCKED, SQLITE_CONSTRAINT: PRB_EEXIST, ...). */
int prb_sqlite_code(int sqlite_rc);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int prb_utf8_valid(const uint8_t *s, size_t len);
/* Where the first invalid UTF-8 sequence of s[0..len) starts; len if
 * there is none. */
size_t prb_utf8_bad_at(const uint8_t *s, size_t len);

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void prb_hex_encode(const uint8_t *in, size_t n, char *out);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for timeouts and
 * durations, never for dates. */
double prb_now_mono(void);

#endif
