/*
 * A test shim (LD_PRELOAD) that makes the commit of a checkpoint fail
 * once, the way a disk can:
 *   PRB_SHIM=dirsync  the first fsync(2) of a directory fails with EIO
 *                     (after the checkpoint's rename: the batch is in)
 *   PRB_SHIM=rename   the first rename onto "checkpoint" fails with EIO
 *                     (before it: the batch is not in)
 *   PRB_SHIM=syncfs   the first syncfs(2) fails with EIO (the batch's
 *                     files are not durable: it is not in)
 *   PRB_SHIM=write    the first write(2) to a file under tile/ fails
 *                     with ENOSPC (a full disk)
 * "WHAT:N" fails the N-th such call instead of the first (with
 * `add --sync fs`, the N-th batch's commit). Used by tests/cli/test_indoubt.sh.
 * PRB_SHIM_SLOW_MS=N makes every syncfs(2) take N ms longer (a slow disk),
 * so that requests pile up behind a batch (tests/cli/test_serve.sh).
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

int
fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && armed("dirsync")) {
		errno = EIO;
		return -1;
	}
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
	return real(ofd, old, nfd, new);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	ssize_t (*real)(int, const void *, size_t) =
	        (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
	                                                      "write");
	char p[64], path[4096];
	const char *e = getenv("PRB_SHIM");
	if (e && strncmp(e, "write", 5) == 0) {
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		ssize_t k = readlink(p, path, sizeof path - 1);
		if (k > 0) {
			path[k] = 0;
			if (strstr(path, "/tile/") && armed("write")) {
				errno = ENOSPC;
				return -1;
			}
		}
	}
	return real(fd, buf, n);
}
