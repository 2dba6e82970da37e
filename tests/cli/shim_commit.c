/*
 * A test shim (LD_PRELOAD) that makes the commit of a checkpoint fail
 * once, the way a disk can:
 *   PRB_SHIM=dirsync  the first fsync(2) of a directory right after a
 *                     rename onto "checkpoint" on the same thread fails
 *                     with EIO (the checkpoint's directory sync: the batch
 *                     is in)
 *   PRB_SHIM=rename   the first rename onto "checkpoint" fails with EIO
 *                     (before it: the batch is not in)
 *   PRB_SHIM=filesync the first fsync(2) of a file under tile/ fails with
 *                     EIO (with the default --sync files, the batch's
 *                     files are not durable: it is not in)
 *   PRB_SHIM=syncfs   the first syncfs(2) fails with EIO (the same, with
 *                     --sync fs)
 *   PRB_SHIM=write    the first write(2) to a file under tile/ fails
 *                     with ENOSPC (a full disk)
 * "WHAT:N" fails the N-th such call instead of the first; for dirsync,
 * syncfs and filesync that is the N-th batch's commit (filesync: the
 * first tile fsync of the N-th round, filesync_armed). Used by
 * tests/cli/test_indoubt.sh.
 * PRB_SHIM_SLOW_MS=N makes every syncfs(2), and every fsync(2) of
 * checkpoint.tmp, take N ms longer (a slow disk), so that requests pile
 * up behind a batch (tests/cli/test_serve_crash.sh).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
armed(const char *what)
{
	static int fired, calls;
	const char *e = getenv("PRB_SHIM");
	size_t n = strlen(what);
	if (!e || strncmp(e, what, n) != 0 || (e[n] != 0 && e[n] != ':'))
		return 0;
	int at = e[n] == ':' ? atoi(e + n + 1) : 1;
	if (__atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) != at ||
	    __atomic_exchange_n(&fired, 1, __ATOMIC_SEQ_CST))
		return 0;
	return 1;
}

static __thread int renamed_cp; /* this thread renamed onto checkpoint */
static int renamed_since = 1; /* a rename onto checkpoint since the last
                                 round of tile fsyncs started */

/* Whether fd's path contains `part`. */
static int
path_has(int fd, const char *part)
{
	char p[64], path[4096];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t k = readlink(p, path, sizeof path - 1);
	if (k <= 0)
		return 0;
	path[k] = 0;
	return strstr(path, part) != NULL;
}

/* filesync:N: once, at the first tile fsync of the N-th round of them (a
 * round starts at the first tile fsync after a rename onto checkpoint, or
 * at the first one of all: with --sync files, a commit's round). */
static int
filesync_armed(int fd)
{
	static int fired, rounds, round;
	const char *e = getenv("PRB_SHIM");
	if (!e || strncmp(e, "filesync", 8) != 0 || (e[8] != 0 && e[8] != ':') ||
	    !path_has(fd, "/tile/"))
		return 0;
	int at = e[8] == ':' ? atoi(e + 9) : 1;
	if (__atomic_exchange_n(&renamed_since, 0, __ATOMIC_SEQ_CST))
		__atomic_store_n(&round,
		                 __atomic_add_fetch(&rounds, 1, __ATOMIC_SEQ_CST),
		                 __ATOMIC_SEQ_CST);
	return __atomic_load_n(&round, __ATOMIC_SEQ_CST) == at &&
	       !__atomic_exchange_n(&fired, 1, __ATOMIC_SEQ_CST);
}

int
fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	struct stat st;
	if (fstat(fd, &st) != 0)
		return real(fd);
	if (S_ISDIR(st.st_mode) && renamed_cp) {
		renamed_cp = 0;
		if (armed("dirsync")) {
			errno = EIO;
			return -1;
		}
	}
	if (S_ISREG(st.st_mode) && filesync_armed(fd)) {
		errno = EIO;
		return -1;
	}
	const char *slow = getenv("PRB_SHIM_SLOW_MS");
	if (slow && S_ISREG(st.st_mode) && path_has(fd, "/checkpoint.tmp"))
		usleep((useconds_t)atoi(slow) * 1000);
	return real(fd);
}

int
syncfs(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "syncfs");
	const char *slow = getenv("PRB_SHIM_SLOW_MS");
	if (slow)
		usleep((useconds_t)atoi(slow) * 1000);
	if (armed("syncfs")) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

int
renameat(int ofd, const char *old, int nfd, const char *new)
{
	int (*real)(int, const char *, int, const char *) =
	        (int (*)(int, const char *, int, const char *))dlsym(
	                RTLD_NEXT, "renameat");
	if (strcmp(new, "checkpoint") == 0 && armed("rename")) {
		errno = EIO;
		return -1;
	}
	int rc = real(ofd, old, nfd, new);
	if (rc == 0 && strcmp(new, "checkpoint") == 0) {
		renamed_cp = 1;
		__atomic_store_n(&renamed_since, 1, __ATOMIC_SEQ_CST);
	}
	return rc;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	ssize_t (*real)(int, const void *, size_t) =
	        (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
	                                                      "write");
	const char *e = getenv("PRB_SHIM");
	if (e && strncmp(e, "write", 5) == 0 && path_has(fd, "/tile/") &&
	    armed("write")) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, n);
}
