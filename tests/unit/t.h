/*
 * A minimal test harness: CHECK records a pass or a failure with its
 * location; T_DONE prints "N passed, N failed[, N skipped]" and returns the
 * exit status. Shared vectors live in $PRB_SHARED (default ../shared
 * relative to the repository root, which is the working directory).
 */
#ifndef PRB_T_H
#define PRB_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail, t_skip;


#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (cond) {                                                \
			t_pass++;                                          \
		} else {                                                   \
			t_fail++;                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,      \
			        __LINE__, #cond);                          \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

#define SKIP(...)                                                          \
	do {                                                               \
		t_skip++;                                                  \
		fprintf(stderr, "SKIP: ");                                 \
		fprintf(stderr, __VA_ARGS__);                              \
		fputc('\n', stderr);                                       \
	} while (0)

#define T_DONE(name)                                                       \
	(printf("%s: %d passed, %d failed, %d skipped\n", (name), t_pass,   \
	        t_fail, t_skip),                                           \
	 t_fail ? 1 : 0)

/* Removes a test's scratch directory and everything in it (a path made
 * by mkdtemp: no quote in it). */
static inline void
t_rm_rf(const char *path)
{
	char cmd[4400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
}

/* Path of a file under the shared directory, or NULL if that directory is
 * absent. Returns a static buffer. */
static inline const char *
t_shared(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("PRB_SHARED");
	if (!root)
		root = "../shared";
	snprintf(buf, sizeof buf, "%s/%s", root, rel);
	FILE *f = fopen(buf, "rb");
	if (!f)
		return NULL;
	fclose(f);
	return buf;
}

#endif
