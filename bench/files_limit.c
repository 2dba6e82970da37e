/*
 * The file-creation bound of a tile-per-file log on this filesystem: the
 * cost of creating, writing and syncing the files a tlog-tiles log of N
 * entries of LEN bytes consists of (one entry bundle of 256*(LEN+2) bytes
 * and one 8 KiB level-0 hash tile per 256 entries, in 1000-file
 * directories, each created under its name and written, as probity's
 * store writes a new file in either sync mode), with no hashing at all, by
 * two threads (bundles, tiles) as probity's store writes with two; one
 * syncfs(2) at the end, as `probity add --sync fs` (the cheapest way to
 * make them durable where syncfs is honoured; the default, --sync files,
 * fsyncs each file and directory instead).
 *
 * usage: files_limit DIR N LEN  ->  "files=F seconds=S entries_per_s=E"
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
put(const char *dir, const char *kind, long i, const char *buf, size_t len)
{
	char d[4096], name[4200];
	snprintf(d, sizeof d, "%s/%s/x%03ld", dir, kind, i / 1000);
	mkdir(d, 0755); /* EEXIST is fine */
	snprintf(name, sizeof name, "%s/%03ld", d, i % 1000);
	int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) != 0) {
		perror(name);
		return -1;
	}
	return 0;
}

struct job {
	const char *dir, *kind;
	long count;
	size_t len;
	int rc;
};

static void *
writer(void *arg)
{
	struct job *j = arg;
	char *buf = calloc(1, j->len);
	j->rc = buf ? 0 : -1;
	for (long i = 0; i < j->count && j->rc == 0; i++) {
		memset(buf, (int)(i & 0xff), 64); /* distinct contents */
		j->rc = put(j->dir, j->kind, i, buf, j->len);
	}
	free(buf);
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: files_limit DIR N LEN\n");
		return 2;
	}
	const char *dir = argv[1];
	long n = atol(argv[2]), len = atol(argv[3]);
	char e[4096], t[4096];
	snprintf(e, sizeof e, "%s/e", dir);
	snprintf(t, sizeof t, "%s/t", dir);
	if (mkdir(e, 0755) != 0 || mkdir(t, 0755) != 0) {
		perror(dir);
		return 1;
	}
	struct job jobs[2] = {
		{dir, "e", n / 256, (size_t)(256 * (len + 2)), 0},
		{dir, "t", n / 256, 8192, 0},
	};
	pthread_t th[2];
	double t0 = now();
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, writer, &jobs[i]) != 0)
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (jobs[0].rc || jobs[1].rc)
		return 1;
	long files = 2 * (n / 256);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || syncfs(fd) != 0) {
		perror("syncfs");
		return 1;
	}
	close(fd);
	double s = now() - t0;
	printf("files=%ld seconds=%.6f entries_per_s=%.0f\n", files, s,
	       (double)n / s);
	return 0;
}
