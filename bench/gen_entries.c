/*
 * gen_entries: writes COUNT lines of exactly LEN printable bytes (plus
 * "\n") to stdout, for bench/ingest.
 *
 *   gen_entries COUNT LEN [SEED]
 *
 * Each line starts with its 0-based index in decimal (so lines differ),
 * then a space, then pseudo-random characters from the base64 alphabet
 * (xorshift64*, deterministic for a given SEED). LEN must be at least 24.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint64_t state;

static uint64_t
next(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * UINT64_C(2685821657736338717);
}

static int
parse(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long long count, len, seed = 1;
	if ((argc != 3 && argc != 4) || parse(argv[1], 1ULL << 40, &count) ||
	    parse(argv[2], 65535, &len) || len < 24 ||
	    (argc == 4 && parse(argv[3], UINT64_MAX, &seed))) {
		fprintf(stderr, "usage: gen_entries COUNT LEN(24..65535) [SEED]\n");
		return 2;
	}
	state = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
	if (state == 0)
		state = 1;

	static char buf[1 << 20];
	size_t used = 0, line = (size_t)len + 1;
	for (unsigned long long i = 0; i < count; i++) {
		if (sizeof buf - used < line) {
			if (fwrite(buf, 1, used, stdout) != used)
				goto werr;
			used = 0;
		}
		char *p = buf + used;
		int n = snprintf(p, 22, "%llu ", i);
		size_t k = (size_t)n;
		while (k < len) {
			uint64_t r = next();
			for (int j = 0; j < 10 && k < len; j++, r >>= 6)
				p[k++] = alphabet[r & 63];
		}
		p[len] = '\n';
		used += line;
	}
	if (fwrite(buf, 1, used, stdout) != used || fflush(stdout) != 0)
		goto werr;
	return 0;
werr:
	perror("gen_entries: write");
	return 1;
}
