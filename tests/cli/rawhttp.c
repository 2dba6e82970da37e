/*
 * A hostile HTTP client for tests/cli/test_hostile_net.sh (loopback
 * only; built by the test with $CC).
 *
 *   rawhttp send PORT FILE
 *       sends FILE's bytes as they are to 127.0.0.1:PORT, reads the
 *       answer (at most 10 s) and prints its status code, or 000 when the
 *       connection closed with no status line.
 *
 *   rawhttp keep PORT FILE SECONDS
 *       sends FILE (one keep-alive request), reads its answer for 1 s,
 *       then waits at most SECONDS for the server to close the idle
 *       connection. Prints "status S later B closed C": the answer's
 *       status, the bytes that came after the first second, and 1 if
 *       the server closed the connection in time (else 0).
 *
 *   rawhttp slow PORT SRC N SECONDS MS MODE
 *       opens N connections from address SRC (127.x.y.z) and, every MS
 *       milliseconds for SECONDS seconds, sends each one byte:
 *         head  a request head that never ends ("GET / HTTP/1.1\r\n"
 *               then "X: aaaa..." one byte at a time)
 *         body  a whole head of a POST /add announcing 10^6 body bytes
 *               (with "Authorization: Bearer $RAWHTTP_TOKEN" when that
 *               is set), then the body one byte at a time
 *         idle  nothing at all
 *       Prints "connected C refused R closed K answered408 A open O":
 *       C connections accepted, R refused (connect failed, or closed by
 *       the server before it read anything it could answer), K closed by
 *       the server later, A of those after a "408" status line, O still
 *       open at the end.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dial(int port, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	if (src) {
		inet_pton(AF_INET, src, &a.sin_addr);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
			close(fd);
			return -1;
		}
	}
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
cmd_send(int port, const char *file)
{
	static char buf[1 << 16];
	FILE *f = fopen(file, "rb");
	if (!f)
		return 2;
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	int fd = dial(port, NULL);
	if (fd < 0) {
		puts("000");
		return 0;
	}
	(void)!write(fd, buf, n);
	shutdown(fd, SHUT_WR);
	size_t got = 0;
	struct pollfd p = {fd, POLLIN, 0};
	double end = now() + 10;
	while (got < 12 && now() < end && poll(&p, 1, 1000) >= 0) {
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t r = read(fd, buf + got, sizeof buf - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got >= 12 && memcmp(buf, "HTTP/1.", 7) == 0)
		printf("%.3s\n", buf + 9);
	else
		puts("000");
	return 0;
}

/* Reads fd until it closes or `secs` pass; returns the bytes read (at
 * most cap kept in buf), *closed 1 if it closed. */
static size_t
read_for(int fd, char *buf, size_t cap, double secs, int *closed)
{
	size_t got = 0, kept = 0;
	struct pollfd p = {fd, POLLIN, 0};
	double end = now() + secs;
	*closed = 0;
	while (now() < end) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		char tmp[4096];
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r <= 0) {
			*closed = 1;
			break;
		}
		size_t k = (size_t)r < cap - kept ? (size_t)r : cap - kept;
		memcpy(buf + kept, tmp, k);
		kept += k;
		got += (size_t)r;
	}
	return got;
}

static int
cmd_keep(int port, const char *file, int secs)
{
	static char buf[1 << 16];
	FILE *f = fopen(file, "rb");
	if (!f)
		return 2;
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	int fd = dial(port, NULL), closed;
	if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
		puts("status 000 later 0 closed 0");
		return 0;
	}
	size_t got = read_for(fd, buf, sizeof buf, 1, &closed);
	char st[4] = "000";
	if (got >= 12 && memcmp(buf, "HTTP/1.", 7) == 0)
		memcpy(st, buf + 9, 3);
	size_t later = 0;
	if (!closed)
		later = read_for(fd, buf, sizeof buf, secs, &closed);
	printf("status %s later %zu closed %d\n", st, later, closed);
	close(fd);
	return 0;
}

typedef struct {
	int fd;
	size_t sent;
	int done;      /* closed by the server */
	int answered;  /* it read something before the close */
	char first[16];
	size_t flen;
} slow;

static const char head_pre[] = "GET /checkpoint HTTP/1.1\r\nHost: x\r\nX: ";
static char body_pre[512];

static int
cmd_slow(int port, const char *src, int n, int secs, int ms,
         const char *mode)
{
	slow *s = calloc((size_t)n, sizeof *s);
	int connected = 0, refused = 0;
	if (!s)
		return 2;
	const char *tok = getenv("RAWHTTP_TOKEN");
	snprintf(body_pre, sizeof body_pre,
	         "POST /add HTTP/1.1\r\nHost: x\r\n%s%s%s"
	         "Content-Length: 1000000\r\n\r\n",
	         tok ? "Authorization: Bearer " : "", tok ? tok : "",
	         tok ? "\r\n" : "");
	const char *pre = strcmp(mode, "body") == 0 ? body_pre
	                  : strcmp(mode, "head") == 0 ? head_pre
	                                                : NULL;
	for (int i = 0; i < n; i++) {
		s[i].fd = dial(port, src);
		if (s[i].fd < 0) {
			refused++;
			s[i].done = 1;
			continue;
		}
		connected++;
		fcntl(s[i].fd, F_SETFL, O_NONBLOCK);
	}
	/* the prefix at once for a body (its head is complete), a byte at a
	 * time for a head */
	double end = now() + secs;
	while (now() < end) {
		for (int i = 0; i < n; i++) {
			if (s[i].done)
				continue;
			char ch[4096];
			ssize_t r = read(s[i].fd, ch, sizeof ch);
			if (r > 0) {
				size_t k = (size_t)r;
				if (k > sizeof s[i].first - 1 - s[i].flen)
					k = sizeof s[i].first - 1 - s[i].flen;
				memcpy(s[i].first + s[i].flen, ch, k);
				s[i].flen += k;
				s[i].answered = 1;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				s[i].done = 1;
				continue;
			}
			if (!pre)
				continue;
			size_t pl = strlen(pre);
			const char *b = "a";
			size_t bl = 1;
			if (s[i].sent < pl && pre == body_pre) {
				b = pre;
				bl = pl;
			} else if (s[i].sent < pl) {
				b = pre + s[i].sent;
			}
			ssize_t w = send(s[i].fd, b, bl, MSG_NOSIGNAL);
			if (w > 0)
				s[i].sent += (size_t)w;
			else if (errno != EAGAIN)
				s[i].done = 1;
		}
		usleep((useconds_t)ms * 1000);
	}
	int closed = 0, a408 = 0, open_ = 0;
	for (int i = 0; i < n; i++) {
		if (s[i].fd < 0)
			continue;
		if (!s[i].done)
			open_++;
		else if (s[i].sent == 0 && !s[i].answered && pre)
			refused++;
		else
			closed++;
		if (s[i].done && s[i].flen >= 12 &&
		    memcmp(s[i].first + 9, "408", 3) == 0)
			a408++;
		close(s[i].fd);
	}
	printf("connected %d refused %d closed %d answered408 %d open %d\n",
	       connected, refused, closed, a408, open_);
	free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "send") == 0)
		return cmd_send(atoi(argv[2]), argv[3]);
	if (argc == 5 && strcmp(argv[1], "keep") == 0)
		return cmd_keep(atoi(argv[2]), argv[3], atoi(argv[4]));
	if (argc == 8 && strcmp(argv[1], "slow") == 0)
		return cmd_slow(atoi(argv[2]), argv[3], atoi(argv[4]),
		                atoi(argv[5]), atoi(argv[6]), argv[7]);
	fprintf(stderr, "usage: rawhttp send PORT FILE | rawhttp keep PORT "
	                "FILE SECONDS | rawhttp slow PORT SRC N SECONDS MS "
	                "head|body|idle\n");
	return 2;
}
