/*
 * Fuzz harness: what probity serve and probity witness parse of an HTTP
 * request before any other work. The first input byte picks the parser,
 * the rest is its untrusted input:
 *
 *   0 mod 4  the raw request target (prb_httpd_target_ok; bit 4 of the
 *            first byte: "/add" takes a query, else no path does). It
 *            must be accepted exactly when an independent check of rule
 *            5 of include/probity/http.h accepts it.
 *   1 mod 4  a tile or bundle path (prb_tile_parse_path, then
 *            serve_tile_in_tree). A path that parses must be the one
 *            prb_tile_path makes of its fields (one name per resource),
 *            be in the smallest tree that holds it and not in the tree one
 *            leaf smaller, and stay in every larger tree.
 *   2 mod 4  a plain POST /add body (serve_split_lines). Split, the lines
 *            joined with '\n' must be the body (a final '\n' optional),
 *            each at most 65,535 bytes; refused exactly when the body is
 *            empty or a line is longer.
 *   3 mod 4  an Accept-Encoding value (serve_accepts_gzip): never gzip
 *            unless the value names gzip or '*'.
 *
 * Witness add-checkpoint bodies are fuzzed by fuzz_witness.c. A violation
 * calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "probity/http.h"
#include "probity/tile.h"
#include "net/serve_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
in_set(unsigned char ch, const char *set)
{
	return ch != 0 && strchr(set, ch) != NULL;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static void
fuzz_target(const uint8_t *t, size_t len, int query_add)
{
	const char *qp = query_add ? "/add" : NULL;
	int got = prb_httpd_target_ok((const char *)t, len, qp);
	size_t i = 0;
	while (i < len && in_set(t[i], ALNUM "._/-"))
		i++;
	int want = len > 0 && t[0] == '/';
	if (want && i < len) { /* a query, only on /add */
		want = t[i] == '?' && qp && i == 4 && memcmp(t, "/add", 4) == 0;
		for (size_t k = i + 1; want && k < len; k++)
			want = in_set(t[k], ALNUM "._~=&,-");
	}
	check(got == want);
}

/* c * 256^level, or 0 on overflow. */
static uint64_t
scale(uint64_t c, unsigned level)
{
	for (unsigned l = 0; l < level; l++) {
		if (c > UINT64_MAX / 256)
			return 0;
		c *= 256;
	}
	return c;
}

static void
fuzz_tile(const uint8_t *data, size_t len)
{
	char path[256], again[PRB_TILE_PATH_MAX];
	int level;
	uint64_t n;
	unsigned width;
	if (len >= sizeof path || memchr(data, 0, len))
		return;
	memcpy(path, data, len);
	path[len] = 0;
	if (prb_tile_parse_path(path, &level, &n, &width) != 0)
		return;
	check(width >= 1 && width <= PRB_TILE_WIDTH);
	check(prb_tile_path(again, sizeof again, level, n, width) == 0);
	check(strcmp(again, path) == 0);
	unsigned lv = level == PRB_ENTRIES_LEVEL ? 0 : (unsigned)level;
	if (n > (UINT64_MAX - width) / PRB_TILE_WIDTH)
		return;
	uint64_t smallest = scale(n * PRB_TILE_WIDTH + width, lv);
	if (smallest == 0)
		return;
	check(serve_tile_in_tree(smallest, level, n, width));
	check(!serve_tile_in_tree(smallest - 1, level, n, width));
	check(serve_tile_in_tree(UINT64_MAX, level, n, width) ||
	      scale(n * PRB_TILE_WIDTH + PRB_TILE_WIDTH, lv) == 0);
	if (smallest <= UINT64_MAX / 3)
		check(serve_tile_in_tree(smallest * 3, level, n, width));
}

static void
fuzz_lines(const uint8_t *body, size_t len)
{
	serve_job *j = calloc(1, sizeof *j);
	char why[600];
	size_t lines = 0, longest = 0, cur = 0;
	check(j != NULL);
	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\n') {
			lines++;
			cur = 0;
		} else if (++cur > longest) {
			longest = cur;
		}
	}
	lines += cur > 0;
	int rc = serve_split_lines(j, body, len, why, sizeof why);
	check(rc == 0 || rc == -1 || rc == -2);
	if (rc == -1)
		check(len == 0 || longest > PRB_MAX_ENTRY);
	if (rc == 0) {
		check(len > 0 && longest <= PRB_MAX_ENTRY && j->n == lines);
		size_t off = 0;
		for (size_t k = 0; k < j->n; k++) {
			check(j->lens[k] <= PRB_MAX_ENTRY);
			check(j->ents[k] == body + off);
			check(!memchr(j->ents[k], '\n', j->lens[k]));
			off += j->lens[k];
			check(off == len || body[off] == '\n');
			off += off < len;
		}
		check(off == len);
	}
	serve_job_free(j);
}

static void
fuzz_accept(const uint8_t *data, size_t len)
{
	char *v = malloc(len + 1);
	check(v != NULL);
	memcpy(v, data, len);
	v[len] = 0;
	int gz = serve_accepts_gzip(v);
	int named = strchr(v, '*') != NULL;
	for (size_t i = 0; !named && v[i]; i++)
		named = strncasecmp(v + i, "gzip", 4) == 0;
	check(gz == 0 || gz == 1);
	if (gz)
		check(named);
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_target(data + 1, size - 1, (data[0] & 0x10) != 0);
		break;
	case 1:
		fuzz_tile(data + 1, size - 1);
		break;
	case 2:
		fuzz_lines(data + 1, size - 1);
		break;
	default:
		fuzz_accept(data + 1, size - 1);
	}
	return 0;
}
