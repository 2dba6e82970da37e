/*
 * batch_drive: feeds a writer exact batches, for bench/s3.
 *
 *   batch_drive B INPUT ACKS COMMAND [ARG...]
 *
 * Runs COMMAND (probity add DIR --key K) with its stdin and stdout on
 * pipes, writes it the lines of INPUT B at a time and, after each B,
 * waits until it prints "size N" with N at least the number of lines
 * written so far (closed loop: one batch in flight, so every batch is
 * exactly B lines). The "size N" lines go to ACKS. Prints
 *
 *   batches=K steady_s=S total_s=T
 *
 * K being the B-line batches acknowledged, S the seconds from the first
 * acknowledgement to the last (the log's open and the first batch left
 * out), T from the start of COMMAND. Exits 1 if COMMAND fails or stops
 * early. Each batch goes down the pipe in one write(2), the pipe
 * enlarged to 1 MiB (F_SETPIPE_SZ), so that a batch that fits is read
 * whole: probity add commits what is ready when its input pauses, and a
 * batch delivered in pieces would be committed in several.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "batch_drive: %s\n", what);
	exit(1);
}

int
main(int argc, char **argv)
{
	char *end;
	long b = argc > 4 ? strtol(argv[1], &end, 10) : 0;
	if (argc < 5 || *end != '\0' || b < 1) {
		fprintf(stderr, "usage: batch_drive B INPUT ACKS COMMAND [ARG...]\n");
		return 2;
	}
	FILE *in = fopen(argv[2], "r");
	FILE *acks = fopen(argv[3], "w");
	if (in == NULL || acks == NULL)
		die("cannot open INPUT or ACKS");
	int to[2], from[2];
	if (pipe(to) || pipe(from))
		die("pipe");
	signal(SIGPIPE, SIG_IGN);
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	(void)fcntl(to[1], F_SETPIPE_SZ, 1 << 20); /* best effort */
	FILE *r = fdopen(from[0], "r");
	if (r == NULL)
		die("fdopen");
	char *line = NULL, *ack = NULL, *chunk = NULL;
	size_t cap = 0, acap = 0, ccap = 0;
	unsigned long long written = 0, batches = 0;
	double t1 = 0, t2 = 0;
	int ok = 1;
	for (;;) {
		long k = 0;
		size_t used = 0;
		ssize_t n = 0;
		while (k < b && (n = getline(&line, &cap, in)) > 0) {
			if (used + (size_t)n > ccap) {
				ccap = (used + (size_t)n) * 2;
				chunk = realloc(chunk, ccap);
				if (chunk == NULL)
					die("out of memory");
			}
			memcpy(chunk + used, line, (size_t)n);
			used += (size_t)n;
			k++;
		}
		if (k == 0)
			break;
		for (size_t off = 0; off < used;) {
			ssize_t m = write(to[1], chunk + off, used - off);
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				ok = 0;
				break;
			}
			off += (size_t)m;
		}
		if (!ok)
			break;
		written += (unsigned long long)k;
		unsigned long long size = 0;
		while (size < written) {
			if (getline(&ack, &acap, r) <= 0 ||
			    sscanf(ack, "size %llu", &size) != 1) {
				ok = 0;
				break;
			}
			fputs(ack, acks);
		}
		if (!ok)
			break;
		if (k == b)
			batches++;
		t2 = now();
		if (batches == 1 && t1 == 0)
			t1 = t2;
		if (k < b)
			break;
	}
	close(to[1]);
	while (getline(&ack, &acap, r) > 0)
		fputs(ack, acks);
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ok = 0;
	if (fclose(acks) != 0)
		ok = 0;
	if (!ok)
		die("the command failed or stopped before its input ended");
	printf("batches=%llu steady_s=%.6f total_s=%.6f\n", batches, t2 - t1,
	       now() - t0);
	free(line);
	free(ack);
	free(chunk);
	fclose(in);
	fclose(r);
	return 0;
}
