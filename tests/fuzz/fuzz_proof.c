/*
 * Fuzz harness: proofs and tile-level encodings.
 *
 * The untrusted input is given, whole, to each of
 *   - prb_tlog_proof_parse (c2sp.org/tlog-proof@v1); a parsed proof is
 *     verified with prb_tlog_proof_verify against the fixed log1000 log key
 *     (and its witness) for the entry "entry-<index>" (the shared vectors'
 *     log1000 tree), then formatted with prb_tlog_proof_format and parsed
 *     again: same index, path, extra data and checkpoint;
 *   - prb_proof_lines_parse (consistency proofs, one base64 hash a line),
 *     with a format/parse round trip;
 *   - prb_tile_parse_path on a NUL-terminated copy; a parsed path must be
 *     what prb_tile_path writes for the same tile, byte for byte (up to
 *     zero-valued leading "x000/" groups, see canonical_of);
 *   - prb_bundle_parse (entry bundles), with and without an expected count.
 * A violated invariant calls abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/checkpoint.h"
#include "probity/merkle.h"
#include "probity/note.h"
#include "probity/proof.h"
#include "probity/tile.h"

static const char *const vkeys[] = {
	/* shared vectors: generated log1000 log key and its witness (0x04) */
	"example.com/log1000+1421a28f+ARteS+cPHncoRMO3XRdmEdbOhKXJLvdAigE0ES6StKKE",
	("witness.example.com/log1000-w1+e4d1643d+"
	 "BGGe9o1jlewxqHWu2TuNNKYxuO1gwRdvUE2lYBm/NvAL"),
};
#define NVKEYS (sizeof vkeys / sizeof vkeys[0])

static prb_verifier vs[NVKEYS];


static void
init_verifiers(void)
{
	fuzz_verifiers(vkeys, NVKEYS, vs);
}

static void
fuzz_tlog_proof(const uint8_t *data, size_t size)
{
	prb_tlog_proof *p = NULL, *q = NULL;
	prb_err err;
	prb_err_clear(&err);
	int rc = prb_tlog_proof_parse(data, size, &p, &err);
	if (rc != 0) {
		check(p == NULL && rc == err.code && err.offset >= 1);
		return;
	}
	check(p != NULL && p->index <= (uint64_t)INT64_MAX);
	check(p->path_len <= 63);
	check(p->checkpoint != NULL && p->checkpoint_len > 0 &&
	      p->checkpoint_len < size);
	check(p->checkpoint[p->checkpoint_len] == '\0');
	check(memcmp(p->checkpoint, data + size - p->checkpoint_len,
	             p->checkpoint_len) == 0);

	/* Verify against the log1000 key for the entry "entry-<index>". */
	char entry[64];
	int el = snprintf(entry, sizeof entry, "entry-%llu",
	                  (unsigned long long)p->index);
	check(el > 0 && (size_t)el < sizeof entry);
	prb_checkpoint cp;
	prb_err_clear(&err);
	rc = prb_tlog_proof_verify(p, (const uint8_t *)entry, (size_t)el, vs,
	                           NVKEYS, &cp, &err);
	if (rc == 0) {
		check(p->index < cp.size);
		check(strcmp(cp.origin, vs[0].name) == 0);
		/* The same proof cannot also prove another entry. */
		check(prb_tlog_proof_verify(p, (const uint8_t *)"x", 1, vs,
		                            NVKEYS, NULL, NULL) == PRB_EPROOF);
	} else {
		check(rc < 0 && rc == err.code);
	}

	/* Format and parse again. */
	char *out = NULL;
	size_t outlen = 0;
	check(prb_tlog_proof_format(p->index, p->path, p->path_len, p->extra,
	                            p->extra_len, p->checkpoint,
	                            p->checkpoint_len, &out, &outlen) == 0);
	check(out != NULL && out[outlen] == '\0');
	check(prb_tlog_proof_parse((const uint8_t *)out, outlen, &q, NULL) ==
	      0);
	check(q->index == p->index && q->path_len == p->path_len);
	check(p->path_len == 0 ||
	      memcmp(q->path, p->path, p->path_len * sizeof p->path[0]) == 0);
	check((q->extra == NULL) == (p->extra == NULL));
	check(q->extra_len == p->extra_len);
	check(p->extra_len == 0 ||
	      memcmp(q->extra, p->extra, p->extra_len) == 0);
	check(q->checkpoint_len == p->checkpoint_len);
	check(memcmp(q->checkpoint, p->checkpoint, p->checkpoint_len) == 0);
	/* Formatting is canonical: a second round gives the same bytes. */
	char *out2 = NULL;
	size_t outlen2 = 0;
	check(prb_tlog_proof_format(q->index, q->path, q->path_len, q->extra,
	                            q->extra_len, q->checkpoint,
	                            q->checkpoint_len, &out2, &outlen2) == 0);
	check(outlen2 == outlen && memcmp(out, out2, outlen) == 0);
	free(out2);
	free(out);
	prb_tlog_proof_free(q);
	prb_tlog_proof_free(p);
}

static void
fuzz_proof_lines(const uint8_t *data, size_t size)
{
	prb_hash proof[PRB_MAX_PROOF], again[PRB_MAX_PROOF];
	size_t n = 0, m = 0;
	if (prb_proof_lines_parse(data, size, proof, &n, NULL) != 0) {
		check(n <= PRB_MAX_PROOF);
		return;
	}
	check(n <= PRB_MAX_PROOF && size == n * 45);
	char *out = NULL;
	size_t outlen = 0;
	check(prb_proof_lines_format(proof, n, &out, &outlen) == 0);
	check(outlen == size && out[outlen] == '\0');
	check(prb_proof_lines_parse((const uint8_t *)out, outlen, again, &m,
	                            NULL) == 0);
	check(m == n && (n == 0 || memcmp(again, proof, n * sizeof *proof) ==
	                                   0));
	free(out);
}

/*
 * The tlog-tiles grammar admits zero-valued leading groups ("x000/001" for
 * tile 1; the shared vectors' tiles.json lists it as valid, though not
 * canonical), and prb_tile_parse_path accepts them. So a parsed path must
 * be the canonical one prb_tile_path writes, or that one with "x000/"
 * groups inserted before <N>, and nothing else.
 */
static int
canonical_of(const char *path, const char *canon)
{
	size_t pre = strncmp(canon, "tile/entries/", 13) == 0
	                     ? 13
	                     : (size_t)(strchr(canon + 5, '/') - canon) + 1;
	if (strncmp(path, canon, pre) != 0)
		return 0;
	const char *p = path + pre;
	int zeros = 0;
	while (strncmp(p, "x000/", 5) == 0) {
		p += 5;
		zeros++;
	}
	return zeros > 0 && strcmp(p, canon + pre) == 0;
}

static void
fuzz_tile_path(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	check(path != NULL);
	memcpy(path, data, size);
	path[size] = '\0';
	int level = 0;
	uint64_t n = 0;
	unsigned width = 0;
	if (prb_tile_parse_path(path, &level, &n, &width) == 0) {
		char buf[PRB_TILE_PATH_MAX];
		check(level >= PRB_ENTRIES_LEVEL && level <= PRB_TILE_MAX_LEVEL);
		check(width >= 1 && width <= PRB_TILE_WIDTH);
		check(prb_tile_path(buf, sizeof buf, level, n, width) == 0);
		check(strcmp(buf, path) == 0 || canonical_of(path, buf));
		int l2 = 0;
		uint64_t n2 = 0;
		unsigned w2 = 0;
		check(prb_tile_parse_path(buf, &l2, &n2, &w2) == 0);
		check(l2 == level && n2 == n && w2 == width);
	}
	free(path);
}

struct bundle_ctx {
	const uint8_t *begin, *end;
	unsigned count;
	size_t bytes;
	unsigned stop_at; /* return 7 from this entry; UINT32_MAX: never */
};

static int
bundle_entry(void *vctx, const uint8_t *entry, size_t len, unsigned index)
{
	struct bundle_ctx *c = vctx;
	check(index == c->count);
	check(len <= PRB_MAX_ENTRY);
	check(entry >= c->begin + 2 && entry <= c->end &&
	      len <= (size_t)(c->end - entry));
	check(entry == c->begin + c->bytes + 2);
	c->bytes += len + 2;
	c->count++;
	/* Touch every byte so that ASan checks the bounds. */
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < len; i++)
		sink ^= entry[i];
	(void)sink;
	return index == c->stop_at ? 7 : 0;
}

static void
fuzz_bundle(const uint8_t *data, size_t size)
{
	struct bundle_ctx c = {data, data + size, 0, 0, UINT32_MAX};
	int rc = prb_bundle_parse(data, size, 0, bundle_entry, &c, NULL);
	if (rc != 0) {
		check(rc == PRB_EMALFORMED);
		return;
	}
	check(c.bytes == size && c.count <= PRB_TILE_WIDTH);
	check(prb_bundle_parse(data, size, 0, NULL, NULL, NULL) == 0);
	if (c.count > 0) {
		unsigned count = c.count;
		check(prb_bundle_parse(data, size, count, NULL, NULL, NULL) == 0);
		if (count > 1)
			check(prb_bundle_parse(data, size, count - 1, NULL, NULL,
			                       NULL) == PRB_EMALFORMED);
		check(prb_bundle_parse(data, size, count + 1, NULL, NULL,
		                       NULL) == PRB_EMALFORMED);
		/* A callback's non-zero return stops the walk and is returned. */
		struct bundle_ctx s = {data, data + size, 0, 0, count / 2};
		check(prb_bundle_parse(data, size, 0, bundle_entry, &s, NULL) ==
		      7);
		check(s.count == count / 2 + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_verifiers();
	fuzz_tlog_proof(data, size);
	fuzz_proof_lines(data, size);
	fuzz_tile_path(data, size);
	fuzz_bundle(data, size);
	return 0;
}
