/*
 * A test shim (LD_PRELOAD) that loses S3 responses the way a network can:
 * the request reaches the server whole (and takes effect), and the
 * connection breaks before the answer arrives.
 *   PRB_S3SHIM=put:K:N  from the K-th PUT of an object named "checkpoint"
 *                       on (K = 1: the first), the answers to N of them
 *                       are lost
 *   PRB_S3SHIM=all:K:N  the same, but once the K-th PUT is reached the
 *                       answers to N requests of any method (GET, HEAD,
 *                       PUT) on "checkpoint" are lost
 * A request is recognised on the send(2) of its request line; the answer
 * is lost on the first recv(2) on that socket after every byte of the
 * body (Content-Length) has been sent, after 100 ms (so the server has
 * acted on it). Plain HTTP only. Used by tests/s3/test_s3_basic.sh.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAXFD 4096

static struct {
	int doomed;        /* the answer to the request on this fd is lost */
	long long body;    /* body bytes still to be sent */
	int in_headers;    /* the headers are still being sent */
} fds[MAXFD];

static int mode = -1; /* 0 off, 1 put, 2 all */
static long skip, left;
static int armed; /* the K-th PUT was reached */

static void
init(void)
{
	if (mode >= 0)
		return;
	const char *v = getenv("PRB_S3SHIM");
	mode = 0;
	if (!v)
		return;
	if (strncmp(v, "put:", 4) == 0)
		mode = 1;
	else if (strncmp(v, "all:", 4) == 0)
		mode = 2;
	char *end;
	skip = mode ? strtol(v + 4, &end, 10) - 1 : 0;
	left = mode && *end == ':' ? strtol(end + 1, NULL, 10) : 0;
}

static const char *
find(const char *buf, size_t n, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(buf + i, s, k) == 0)
			return buf + i;
	return NULL;
}

static void
on_send(int fd, const char *buf, size_t n)
{
	if (fd < 0 || fd >= MAXFD)
		return;
	const char *sp = n > 8 ? memchr(buf, ' ', 8) : NULL;
	const char *eol = find(buf, n, "\r\n");
	if (sp && eol && find(buf, (size_t)(eol - buf), " HTTP/1.1")) {
		/* a request line */
		const char *target = find(buf, (size_t)(eol - buf),
		                          "/checkpoint HTTP/1.1");
		int put = strncmp(buf, "PUT ", 4) == 0;
		fds[fd].doomed = target && skip == 0 && left > 0 &&
		                 (put || (mode == 2 && armed));
		if (target && put && skip > 0)
			skip--;
		if (fds[fd].doomed) {
			left--;
			armed = 1;
			fprintf(stderr, "shim: the answer to %.*s is lost\n",
			        (int)(eol - buf), buf);
		}
		fds[fd].body = 0;
		fds[fd].in_headers = 1;
	}
	if (fds[fd].in_headers) {
		const char *cl = find(buf, n, "Content-Length: ");
		if (cl)
			fds[fd].body = strtoll(cl + 16, NULL, 10);
		const char *end = find(buf, n, "\r\n\r\n");
		if (end) {
			fds[fd].in_headers = 0;
			fds[fd].body -= (long long)(n - (size_t)(end + 4 - buf));
		}
		return;
	}
	fds[fd].body -= (long long)n;
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);
	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, int))dlsym(RTLD_NEXT,
		                                                          "send");
	init();
	ssize_t r = real(fd, buf, n, flags);
	if (mode && r > 0)
		on_send(fd, buf, (size_t)r);
	return r;
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	static ssize_t (*real)(int, void *, size_t, int);
	if (!real)
		real = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT,
		                                                    "recv");
	init();
	if (mode && fd >= 0 && fd < MAXFD && fds[fd].doomed &&
	    !fds[fd].in_headers && fds[fd].body <= 0) {
		fds[fd].doomed = 0;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		shutdown(fd, SHUT_RDWR);
		errno = ECONNRESET;
		return -1;
	}
	return real(fd, buf, n, flags);
}
