/*
 * Corpus replay driver for the libFuzzer harnesses, so that `make check`
 * runs every seed through LLVMFuzzerTestOneInput without clang/libFuzzer.
 *
 *   fuzz_X DIR    runs every regular file of DIR (sorted by name, not
 *                 recursive) and prints "fuzz_X: N passed, 0 failed,
 *                 0 skipped"
 *   fuzz_X FILE   runs one file (e.g. a crash reproducer)
 *
 * A harness that finds a violated invariant abort()s and a sanitizer error
 * kills the process, so a crash is the failure: the result line is only
 * printed when every input ran. A missing or empty directory counts as one
 * failure. Set PRB_REPLAY_VERBOSE=1 to print each file name before it runs.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
failed(const char *name, const char *why, const char *arg)
{
	fprintf(stderr, "%s: %s: %s\n", name, arg, why);
	printf("%s: 0 passed, 1 failed, 0 skipped\n", name);
	return 1;
}

/* Reads the file into an allocation of exactly its size (so that ASan sees
 * any read past the input) and runs the harness on it. */
static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	int err = !buf || ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		return -1;
	}
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	if (getenv("PRB_REPLAY_VERBOSE"))
		fprintf(stderr, "running %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *name = argc > 0 ? base_name(argv[0]) : "fuzz";
	struct stat st;
	if (argc != 2)
		return failed(name, "usage: CORPUS-DIR (or one input FILE)",
		              argc > 1 ? argv[1] : "(none)");
	const char *dir = argv[1];
	if (stat(dir, &st) != 0)
		return failed(name, "no such corpus directory", dir);
	if (S_ISREG(st.st_mode)) {
		if (run_file(dir) != 0)
			return failed(name, "cannot read", dir);
		printf("%s: 1 passed, 0 failed, 0 skipped\n", name);
		return 0;
	}
	DIR *d = opendir(dir);
	if (!d)
		return failed(name, "cannot open corpus directory", dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof *nn);
			if (!nn)
				break;
			names = nn;
			cap = nc;
		}
		size_t l = strlen(e->d_name);
		if (!(names[n] = malloc(l + 1)))
			break;
		memcpy(names[n++], e->d_name, l + 1);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_names);
	size_t ran = 0;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		size_t pl = strlen(dir) + 1 + strlen(names[i]) + 1;
		char *path = malloc(pl);
		if (!path) {
			bad = 1;
			break;
		}
		snprintf(path, pl, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) == 0) {
				ran++;
			} else {
				fprintf(stderr, "%s: cannot read %s\n", name, path);
				bad = 1;
			}
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (bad) {
		printf("%s: %zu passed, 1 failed, 0 skipped\n", name, ran);
		return 1;
	}
	if (ran == 0)
		return failed(name, "no input files in corpus directory", dir);
	printf("%s: %zu passed, 0 failed, 0 skipped\n", name, ran);
	return 0;
}
