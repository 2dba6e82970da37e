/*
 * RFC 6962 / RFC 9162 Merkle hashing, proof generation and verification
 * (include/probity/merkle.h), checked against:
 *   - known answers written in below (always run);
 *   - $PRB_SHARED/vectors: rfc6962.json, log1000.json and the
 *     transparency-dev/merkle verification probes (skipped when absent);
 *   - a property test over random trees of up to 600 leaves, whose
 *     subtree hashes and reference RFC 6962 PATH/PROOF are computed here
 *     with OpenSSL directly (vec_ref_*), not by the code under test.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probity/error.h"
#include "probity/merkle.h"
#include "t.h"
#include "vec.h"

/* ------------------------------------------------------------------ */
/* An in-memory tree behind a prb_node_reader.                         */

/* lv[l][i] = MTH(D[i * 2^l : (i + 1) * 2^l]), hashed by vec_ref_*. Reads of
 * a subtree reaching past `limit` fail: proofs for a tree of size s must
 * only need the perfect subtrees of D[0:s] (a tiled log has nothing else). */
typedef struct {
	prb_hash *lv[64];
	uint64_t count[64];
	uint64_t size;
	uint64_t limit;
	unsigned bad_reads;
	int fail_with; /* non-zero: every read fails with this code */
} mem_tree;

static void
tree_free(mem_tree *t)
{
	for (int l = 0; l < 64; l++)
		free(t->lv[l]);
	memset(t, 0, sizeof *t);
}

/* Builds the tree over `size` leaf hashes. 0 or -1 (out of memory). */
static int
tree_init(mem_tree *t, const prb_hash *leaves, uint64_t size)
{
	memset(t, 0, sizeof *t);
	t->size = t->limit = size;
	t->count[0] = size;
	t->lv[0] = malloc((size ? size : 1) * sizeof(prb_hash));
	if (!t->lv[0])
		return -1;
	memcpy(t->lv[0], leaves, size * sizeof(prb_hash));
	for (int l = 1; l < 64 && t->count[l - 1] >= 2; l++) {
		uint64_t n = t->count[l - 1] / 2;
		t->lv[l] = malloc(n * sizeof(prb_hash));
		if (!t->lv[l]) {
			tree_free(t);
			return -1;
		}
		for (uint64_t i = 0; i < n; i++)
			vec_ref_node(&t->lv[l - 1][2 * i], &t->lv[l - 1][2 * i + 1],
			             &t->lv[l][i]);
		t->count[l] = n;
	}
	return 0;
}

static int
mem_read(void *ctx, unsigned level, uint64_t index, prb_hash *out)
{
	mem_tree *t = ctx;

	if (t->fail_with)
		return t->fail_with;
	if (level >= 64 || index >= t->count[level] ||
	    ((index + 1) << level) > t->limit) {
		t->bad_reads++;
		return PRB_ENOTFOUND;
	}
	*out = t->lv[level][index];
	return 0;
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* Reference MTH(D[b:e]) straight from RFC 6962 section 2.1. */
static void
ref_mth(const mem_tree *t, uint64_t b, uint64_t e, prb_hash *out)
{
	uint64_t n = e - b;

	if (n == 0) {
		vec_hex_hash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
		             "a495991b7852b855", out);
		return;
	}
	for (int l = 0; l < 64; l++) { /* aligned perfect subtree: table */
		if (n == (uint64_t)1 << l && b % n == 0) {
			*out = t->lv[l][b >> l];
			return;
		}
	}
	prb_hash left, right;
	uint64_t k = split_point(n);
	ref_mth(t, b, b + k, &left);
	ref_mth(t, b + k, e, &right);
	vec_ref_node(&left, &right, out);
}

/* Reference PATH(m, D[b:e]) (RFC 6962 section 2.1.1), appended to p. */
static void
ref_path(const mem_tree *t, uint64_t m, uint64_t b, uint64_t e, prb_hash *p,
         size_t *len)
{
	uint64_t n = e - b;

	if (n <= 1)
		return;
	uint64_t k = split_point(n);
	if (m < k) {
		ref_path(t, m, b, b + k, p, len);
		ref_mth(t, b + k, e, &p[(*len)++]);
	} else {
		ref_path(t, m - k, b + k, e, p, len);
		ref_mth(t, b, b + k, &p[(*len)++]);
	}
}

/* Reference SUBPROOF(m, D[b:e], whole) (RFC 6962 section 2.1.2). */
static void
ref_subproof(const mem_tree *t, uint64_t m, uint64_t b, uint64_t e,
             bool whole, prb_hash *p, size_t *len)
{
	uint64_t n = e - b;

	if (m == n) {
		if (!whole)
			ref_mth(t, b, e, &p[(*len)++]);
		return;
	}
	uint64_t k = split_point(n);
	if (m <= k) {
		ref_subproof(t, m, b, b + k, whole, p, len);
		ref_mth(t, b + k, e, &p[(*len)++]);
	} else {
		ref_subproof(t, m - k, b + k, e, false, p, len);
		ref_mth(t, b, b + k, &p[(*len)++]);
	}
}

/* PROOF(m, D[n]); empty for m == 0 and m == n as merkle.h specifies. */
static void
ref_proof(const mem_tree *t, uint64_t m, uint64_t n, prb_hash *p,
          size_t *len)
{
	*len = 0;
	if (m > 0 && m < n)
		ref_subproof(t, m, 0, n, true, p, len);
}

/* The verifiers get a heap copy of exactly `len` hashes, so that
 * AddressSanitizer reports any read past the end of a proof. */
static prb_hash *
exact_copy(const prb_hash *p, size_t len)
{
	prb_hash *q = malloc(len ? len * sizeof *q : 1);

	if (q && len)
		memcpy(q, p, len * sizeof *q);
	return q;
}

static int
v_incl(const prb_hash *leaf, uint64_t index, uint64_t size,
       const prb_hash *proof, size_t len, const prb_hash *root)
{
	prb_hash *q = exact_copy(proof, len);
	int rc = q ? prb_merkle_verify_inclusion(leaf, index, size, q, len, root)
	           : PRB_ENOMEM;
	free(q);
	return rc;
}

static int
v_cons(uint64_t m, uint64_t n, const prb_hash *proof, size_t len,
       const prb_hash *root_m, const prb_hash *root_n)
{
	prb_hash *q = exact_copy(proof, len);
	int rc = q ? prb_merkle_verify_consistency(m, n, q, len, root_m, root_n)
	           : PRB_ENOMEM;
	free(q);
	return rc;
}

static bool
proofs_equal(const prb_hash *a, size_t alen, const prb_hash *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen * sizeof *a) == 0;
}

static bool
hash_is(const prb_hash *h, const char *hex)
{
	prb_hash want;
	return vec_hex_hash(hex, &want) == 0 && memcmp(h, &want, sizeof want) == 0;
}

/* Parses a JSON array of hex or base64 hashes into p. 0 or -1. */
static int
json_hashes(const json_t *arr, bool b64, prb_hash *p, size_t *len)
{
	size_t i;
	json_t *v;

	*len = 0;
	if (!json_is_array(arr) || json_array_size(arr) > PRB_MAX_PROOF)
		return -1;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		if (!s || (b64 ? vec_b64_hash(s, &p[i]) : vec_hex_hash(s, &p[i])))
			return -1;
	}
	*len = json_array_size(arr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Known answers, always run.                                          */

/* transparency-dev/merkle testonly/constants.go: LeafInputs and RootHashes
 * (sizes 1..8) of the RFC 6962 test tree; the empty root is SHA-256(""). */
static const char *const kat_leaf_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *const kat_root_hex[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void
kat_hashing(void)
{
	prb_hash h, a, b;

	/* SHA-256("") and HashLeaf("L123456"): transparency-dev/merkle
	 * rfc6962/rfc6962_test.go. */
	prb_merkle_empty_root(&h);
	CHECK(hash_is(&h, kat_root_hex[0]), "empty root");
	prb_merkle_leaf_hash((const uint8_t *)"", 0, &h);
	CHECK(hash_is(&h, kat_root_hex[1]), "HashLeaf(\"\")");
	prb_merkle_leaf_hash((const uint8_t *)"L123456", 7, &h);
	CHECK(hash_is(&h, "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7"
	                  "ad547639252b4d56"),
	      "HashLeaf(\"L123456\")");
	/* RootHashes[2] = HashChildren(HashLeaf(""), HashLeaf("\x00")). */
	prb_merkle_leaf_hash((const uint8_t *)"", 0, &a);
	prb_merkle_leaf_hash((const uint8_t *)"\0", 1, &b);
	prb_merkle_node_hash(&a, &b, &h);
	CHECK(hash_is(&h, kat_root_hex[2]), "HashChildren of leaves 0, 1");

	CHECK(prb_hash_equal(&a, &a) == 1, "hash_equal(a, a)");
	b = a;
	b.b[31] ^= 1;
	CHECK(prb_hash_equal(&a, &b) == 0, "hash_equal differs in last byte");
	b = a;
	b.b[0] ^= 0x80;
	CHECK(prb_hash_equal(&a, &b) == 0, "hash_equal differs in first byte");
}

/* The 8-leaf tree of constants.go, leaf hashes by prb_merkle_leaf_hash. */
static int
kat_tree8(mem_tree *t)
{
	prb_hash leaves[8];

	for (int i = 0; i < 8; i++) {
		uint8_t buf[16];
		size_t len = 0;
		vec_hex(kat_leaf_hex[i], buf, sizeof buf, &len);
		prb_merkle_leaf_hash(buf, len, &leaves[i]);
	}
	return tree_init(t, leaves, 8);
}

static void
kat_roots8(void)
{
	mem_tree t;
	prb_hash h;

	if (kat_tree8(&t)) {
		CHECK(0, "out of memory");
		return;
	}
	for (uint64_t n = 0; n <= 8; n++) {
		t.limit = n;
		int rc = prb_merkle_root(mem_read, &t, n, &h);
		CHECK(rc == 0 && hash_is(&h, kat_root_hex[n]),
		      "RFC 6962 test tree root at size %llu (rc %d)",
		      (unsigned long long)n, rc);
	}
	CHECK(t.bad_reads == 0, "root read %u nodes past the tree size",
	      t.bad_reads);
	tree_free(&t);
}

/* transparency-dev/merkle testdata/inclusion/2/happy-path.json and
 * testdata/consistency/2/happy-path.json (cmd/proofgen): leaf 5 of 8 and
 * the consistency proof 6 -> 8 of the constants.go tree. */
static const char *const kat_incl_5_8[3] = {
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
};
static const char *const kat_cons_6_8[3] = {
	"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
};

static void
kat_proofs8(void)
{
	mem_tree t;
	prb_hash want[3], p[PRB_MAX_PROOF], r6, r8;
	size_t len = 0;
	int rc;

	if (kat_tree8(&t)) {
		CHECK(0, "out of memory");
		return;
	}
	vec_hex_hash(kat_root_hex[6], &r6);
	vec_hex_hash(kat_root_hex[8], &r8);

	for (int i = 0; i < 3; i++)
		vec_hex_hash(kat_incl_5_8[i], &want[i]);
	rc = prb_merkle_prove_inclusion(mem_read, &t, 5, 8, p, &len);
	CHECK(rc == 0 && proofs_equal(p, len, want, 3),
	      "inclusion proof 5/8 (rc %d, len %zu)", rc, len);
	rc = v_incl(&t.lv[0][5], 5, 8, want, 3, &r8);
	CHECK(rc == 0, "published inclusion proof 5/8 verifies (rc %d)", rc);
	rc = v_incl(&t.lv[0][4], 5, 8, want, 3, &r8);
	CHECK(rc == PRB_EPROOF, "leaf 4 at index 5 rejected (rc %d)", rc);

	for (int i = 0; i < 3; i++)
		vec_hex_hash(kat_cons_6_8[i], &want[i]);
	rc = prb_merkle_prove_consistency(mem_read, &t, 6, 8, p, &len);
	CHECK(rc == 0 && proofs_equal(p, len, want, 3),
	      "consistency proof 6->8 (rc %d, len %zu)", rc, len);
	rc = v_cons(6, 8, want, 3, &r6, &r8);
	CHECK(rc == 0, "published consistency proof 6->8 verifies (rc %d)", rc);
	rc = v_cons(6, 8, want, 3, &r8, &r6);
	CHECK(rc == PRB_EPROOF, "swapped roots rejected (rc %d)", rc);
	tree_free(&t);
}

/* Builds the log1000 tree: entry i is "entry-<i>" (log1000.json). */
static int
log1000_tree(mem_tree *t)
{
	static prb_hash leaves[1000];

	for (int i = 0; i < 1000; i++) {
		char e[32];
		int n = snprintf(e, sizeof e, "entry-%d", i);
		prb_merkle_leaf_hash((const uint8_t *)e, (size_t)n, &leaves[i]);
	}
	return tree_init(t, leaves, 1000);
}

/* Roots of log1000.json (generated with golang.org/x/mod/sumdb/tlog). */
static void
kat_log1000(void)
{
	static const struct {
		uint64_t size;
		const char *hex;
	} roots[] = {
		{255, "45da9f374748e17a372f71c00422b12e2bf96842f1f61c5740fe494e4becff0f"},
		{256, "f85f4ead34080710b4d1e808301543aaab81aa04deb88599350dc26a4f2f58de"},
		{257, "918b1cec64f317c76e3cf55c0536841c039eff06772ebb8828ce7c176028b5ac"},
		{1000, "d03d63b772af99019817ee3e018286d36a26161bdb5bfe8228e92c02abe9115d"},
	};
	mem_tree t;
	prb_hash h;

	if (log1000_tree(&t)) {
		CHECK(0, "out of memory");
		return;
	}
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		t.limit = roots[i].size;
		int rc = prb_merkle_root(mem_read, &t, roots[i].size, &h);
		CHECK(rc == 0 && hash_is(&h, roots[i].hex),
		      "log1000 root at %llu (rc %d)",
		      (unsigned long long)roots[i].size, rc);
	}
	tree_free(&t);
}

/* Proof generation at the edges of merkle.h's contract. */
static void
api_edges_prove(void)
{
	mem_tree t;
	prb_hash p[PRB_MAX_PROOF];
	size_t len = 99;
	int rc;

	if (kat_tree8(&t)) {
		CHECK(0, "out of memory");
		return;
	}
	rc = prb_merkle_prove_inclusion(mem_read, &t, 8, 8, p, &len);
	CHECK(rc == PRB_EINVAL, "prove_inclusion index == size (rc %d)", rc);
	rc = prb_merkle_prove_inclusion(mem_read, &t, 0, 0, p, &len);
	CHECK(rc == PRB_EINVAL, "prove_inclusion in empty tree (rc %d)", rc);
	rc = prb_merkle_prove_consistency(mem_read, &t, 5, 4, p, &len);
	CHECK(rc < 0, "prove_consistency m > n fails (rc %d)", rc);
	len = 99;
	rc = prb_merkle_prove_consistency(mem_read, &t, 0, 8, p, &len);
	CHECK(rc == 0 && len == 0, "consistency 0->8 is empty (rc %d)", rc);
	len = 99;
	rc = prb_merkle_prove_consistency(mem_read, &t, 8, 8, p, &len);
	CHECK(rc == 0 && len == 0, "consistency 8->8 is empty (rc %d)", rc);
	len = 99;
	rc = prb_merkle_prove_inclusion(mem_read, &t, 0, 1, p, &len);
	CHECK(rc == 0 && len == 0, "inclusion 0/1 is empty (rc %d)", rc);
	tree_free(&t);
}

/* Verification, range hashes and reader errors at the contract's edges. */
static void
api_edges_verify(void)
{
	mem_tree t;
	prb_hash p[PRB_MAX_PROOF], h, r;
	size_t len = 0;
	int rc;

	if (kat_tree8(&t)) {
		CHECK(0, "out of memory");
		return;
	}
	vec_hex_hash(kat_root_hex[8], &r);
	rc = v_incl(&t.lv[0][0], 8, 8, p, 0, &r);
	CHECK(rc == PRB_EPROOF, "verify index == size (rc %d)", rc);
	rc = v_cons(8, 8, p, 0, &r, &r);
	CHECK(rc == 0, "verify 8->8, empty proof, same root (rc %d)", rc);
	rc = v_cons(9, 8, p, 0, &r, &r);
	CHECK(rc == PRB_EPROOF, "verify m > n (rc %d)", rc);
	prb_merkle_empty_root(&h);
	rc = v_cons(0, 8, p, 0, &h, &r);
	CHECK(rc == 0, "verify 0->8 with an empty proof (rc %d)", rc);
	rc = v_cons(0, 8, &r, 1, &h, &r);
	CHECK(rc == PRB_EPROOF, "verify 0->8 with a non-empty proof (rc %d)",
	      rc);

	/* range_hash: MTH(D[4:7]) of the 8-leaf tree, begin aligned. */
	t.limit = 8;
	rc = prb_merkle_range_hash(mem_read, &t, 4, 7, &h);
	ref_mth(&t, 4, 7, &r);
	CHECK(rc == 0 && memcmp(&h, &r, sizeof h) == 0, "MTH(D[4:7]) (rc %d)",
	      rc);
	rc = prb_merkle_range_hash(mem_read, &t, 6, 7, &h);
	CHECK(rc == 0 && memcmp(&h, &t.lv[0][6], sizeof h) == 0,
	      "MTH(D[6:7]) is leaf 6 (rc %d)", rc);

	/* Reader errors come back unchanged. */
	t.fail_with = PRB_EIO;
	rc = prb_merkle_root(mem_read, &t, 5, &h);
	CHECK(rc == PRB_EIO, "reader error from root (rc %d)", rc);
	rc = prb_merkle_prove_inclusion(mem_read, &t, 1, 5, p, &len);
	CHECK(rc == PRB_EIO, "reader error from prove_inclusion (rc %d)", rc);
	rc = prb_merkle_prove_consistency(mem_read, &t, 3, 5, p, &len);
	CHECK(rc == PRB_EIO, "reader error from prove_consistency (rc %d)", rc);
	tree_free(&t);
}

/* ------------------------------------------------------------------ */
/* rfc6962.json                                                        */

static void
rfc6962_inclusion(const json_t *arr, mem_tree *t)
{
	size_t i;
	json_t *v;
	unsigned bad_gen = 0, bad_ver = 0;

	json_array_foreach(arr, i, v) {
		prb_hash want[PRB_MAX_PROOF], got[PRB_MAX_PROOF], leaf, root;
		size_t wlen, glen = 0;
		uint64_t idx = vec_u64(v, "leafIdx"), n = vec_u64(v, "treeSize");

		if (json_hashes(json_object_get(v, "proof"), false, want, &wlen) ||
		    vec_hex_hash(vec_str(v, "leafHash"), &leaf) ||
		    vec_hex_hash(vec_str(v, "root"), &root)) {
			CHECK(0, "rfc6962.json inclusion_proofs[%zu] unreadable", i);
			continue;
		}
		t->limit = n;
		int rc = prb_merkle_prove_inclusion(mem_read, t, idx, n, got, &glen);
		if (rc || !proofs_equal(got, glen, want, wlen)) {
			bad_gen++;
			fprintf(stderr, "inclusion %llu/%llu: rc %d, len %zu (want %zu)\n",
			        (unsigned long long)idx, (unsigned long long)n, rc,
			        glen, wlen);
		}
		if (v_incl(&leaf, idx, n, want, wlen, &root))
			bad_ver++;
	}
	CHECK(json_array_size(arr) == 36, "36 inclusion proofs, got %zu",
	      json_array_size(arr));
	CHECK(bad_gen == 0, "%u rfc6962.json inclusion proofs generated wrong",
	      bad_gen);
	CHECK(bad_ver == 0, "%u rfc6962.json inclusion proofs do not verify",
	      bad_ver);
}

static void
rfc6962_consistency(const json_t *arr, mem_tree *t)
{
	size_t i;
	json_t *v;
	unsigned bad_gen = 0, bad_ver = 0;

	json_array_foreach(arr, i, v) {
		prb_hash want[PRB_MAX_PROOF], got[PRB_MAX_PROOF], r1, r2;
		size_t wlen, glen = 0;
		uint64_t m = vec_u64(v, "size1"), n = vec_u64(v, "size2");

		if (json_hashes(json_object_get(v, "proof"), false, want, &wlen) ||
		    vec_hex_hash(vec_str(v, "root1"), &r1) ||
		    vec_hex_hash(vec_str(v, "root2"), &r2)) {
			CHECK(0, "rfc6962.json consistency_proofs[%zu] unreadable", i);
			continue;
		}
		t->limit = n;
		int rc = prb_merkle_prove_consistency(mem_read, t, m, n, got, &glen);
		if (rc || !proofs_equal(got, glen, want, wlen)) {
			bad_gen++;
			fprintf(stderr, "consistency %llu->%llu: rc %d, len %zu (want %zu)\n",
			        (unsigned long long)m, (unsigned long long)n, rc,
			        glen, wlen);
		}
		if (v_cons(m, n, want, wlen, &r1, &r2))
			bad_ver++;
	}
	CHECK(json_array_size(arr) == 36, "36 consistency proofs, got %zu",
	      json_array_size(arr));
	CHECK(bad_gen == 0, "%u rfc6962.json consistency proofs generated wrong",
	      bad_gen);
	CHECK(bad_ver == 0, "%u rfc6962.json consistency proofs do not verify",
	      bad_ver);
}

static void
rfc6962_hashes(const json_t *j, mem_tree *t)
{
	size_t i;
	json_t *v;
	prb_hash h;

	json_array_foreach(json_object_get(j, "leaf_inputs_hex"), i, v) {
		uint8_t buf[64];
		size_t len = 0;
		const char *want = json_string_value(
		        json_array_get(json_object_get(j, "leaf_hashes"), i));
		vec_hex(json_string_value(v), buf, sizeof buf, &len);
		prb_merkle_leaf_hash(buf, len, &h);
		CHECK(want && hash_is(&h, want), "rfc6962.json leaf hash %zu", i);
	}
	json_array_foreach(json_object_get(j, "roots"), i, v) {
		uint64_t n = vec_u64(v, "size");
		t->limit = n;
		int rc = prb_merkle_root(mem_read, t, n, &h);
		CHECK(rc == 0 && hash_is(&h, vec_str(v, "root")),
		      "rfc6962.json root at %llu (rc %d)", (unsigned long long)n, rc);
	}
	t->limit = t->size;
	json_array_foreach(json_object_get(j, "node_hashes"), i, v) {
		uint64_t l = vec_u64(v, "level"), x = vec_u64(v, "index");
		int rc = prb_merkle_range_hash(mem_read, t, x << l, (x + 1) << l, &h);
		CHECK(rc == 0 && hash_is(&h, vec_str(v, "hash")),
		      "rfc6962.json node (%llu, %llu) (rc %d)",
		      (unsigned long long)l, (unsigned long long)x, rc);
	}
}

static void
vectors_rfc6962(void)
{
	const char *path = t_shared("vectors/rfc6962.json");
	mem_tree t;
	json_t *j;

	if (!path) {
		SKIP("vectors/rfc6962.json not found (set PRB_SHARED)");
		return;
	}
	if (!(j = vec_load_json(path, 0)) || kat_tree8(&t)) {
		CHECK(0, "cannot load %s", path);
		json_decref(j);
		return;
	}
	rfc6962_hashes(j, &t);
	rfc6962_inclusion(json_object_get(j, "inclusion_proofs"), &t);
	rfc6962_consistency(json_object_get(j, "consistency_proofs"), &t);
	CHECK(t.bad_reads == 0, "proofs read %u nodes past their tree size",
	      t.bad_reads);
	tree_free(&t);
	json_decref(j);
}

/* ------------------------------------------------------------------ */
/* log1000.json                                                        */

static void
log1000_proofs(const json_t *j, mem_tree *t)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(j, "inclusion_proofs"), i, v) {
		prb_hash want[PRB_MAX_PROOF], got[PRB_MAX_PROOF], leaf, lh, root;
		size_t wlen = 0, glen = 0;
		uint64_t idx = vec_u64(v, "leaf_index"), n = vec_u64(v, "tree_size");
		const char *e = vec_str(v, "entry");
		int ok = !json_hashes(json_object_get(v, "proof"), true, want, &wlen) &&
		         !vec_b64_hash(vec_str(v, "leaf_hash"), &leaf) &&
		         !vec_b64_hash(vec_str(v, "root"), &root);
		prb_merkle_leaf_hash((const uint8_t *)e, strlen(e), &lh);
		t->limit = n;
		int rc = prb_merkle_prove_inclusion(mem_read, t, idx, n, got, &glen);
		CHECK(ok && memcmp(&lh, &leaf, sizeof lh) == 0, "leaf hash of %s", e);
		CHECK(rc == 0 && proofs_equal(got, glen, want, wlen),
		      "log1000 inclusion %llu/%llu (rc %d)", (unsigned long long)idx,
		      (unsigned long long)n, rc);
		rc = v_incl(&leaf, idx, n, want, wlen, &root);
		CHECK(rc == 0, "log1000 inclusion %llu verifies (rc %d)",
		      (unsigned long long)idx, rc);
	}
	json_array_foreach(json_object_get(j, "consistency_proofs"), i, v) {
		prb_hash want[PRB_MAX_PROOF], got[PRB_MAX_PROOF], r1, r2;
		size_t wlen = 0, glen = 0;
		uint64_t m = vec_u64(v, "size1"), n = vec_u64(v, "size2");
		int ok = !json_hashes(json_object_get(v, "proof"), true, want, &wlen) &&
		         !vec_b64_hash(vec_str(v, "root1"), &r1) &&
		         !vec_b64_hash(vec_str(v, "root2"), &r2);
		t->limit = n;
		int rc = prb_merkle_prove_consistency(mem_read, t, m, n, got, &glen);
		CHECK(ok && rc == 0 && proofs_equal(got, glen, want, wlen),
		      "log1000 consistency %llu->%llu (rc %d)",
		      (unsigned long long)m, (unsigned long long)n, rc);
		rc = v_cons(m, n, want, wlen, &r1, &r2);
		CHECK(rc == 0, "log1000 consistency %llu->%llu verifies (rc %d)",
		      (unsigned long long)m, (unsigned long long)n, rc);
	}
}

static void
vectors_log1000(void)
{
	const char *path = t_shared("vectors/log1000.json");
	mem_tree t;
	json_t *j, *v;
	size_t i;
	prb_hash h, want;

	if (!path) {
		SKIP("vectors/log1000.json not found (set PRB_SHARED)");
		return;
	}
	if (!(j = vec_load_json(path, 0)) || log1000_tree(&t)) {
		CHECK(0, "cannot load %s", path);
		json_decref(j);
		return;
	}
	json_array_foreach(json_object_get(j, "roots"), i, v) {
		uint64_t n = vec_u64(v, "size");
		t.limit = n;
		int rc = prb_merkle_root(mem_read, &t, n, &h);
		CHECK(rc == 0 && vec_b64_hash(vec_str(v, "root"), &want) == 0 &&
		              memcmp(&h, &want, sizeof h) == 0,
		      "log1000.json root at %llu (rc %d)", (unsigned long long)n, rc);
	}
	log1000_proofs(j, &t);
	CHECK(t.bad_reads == 0, "proofs read %u nodes past their tree size",
	      t.bad_reads);
	tree_free(&t);
	json_decref(j);
}

/* ------------------------------------------------------------------ */
/* transparency-dev/merkle probes (vectors/merkle, see its README.md)  */

/* A probe's byte field as a prb_hash. Probes also hold fields that are not
 * 32 bytes ("", "WrongLeaf", "don't care 1"); such a field cannot be a
 * prb_hash, so it is zero-padded (or cut) to 32 bytes, which keeps equal
 * fields equal and unequal ones unequal. Returns the decoded length or -1. */
static long
probe_hash(const char *b64, prb_hash *out)
{
	uint8_t buf[256];
	size_t len;

	memset(out, 0, sizeof *out);
	if (vec_b64(b64, buf, sizeof buf, &len))
		return -1;
	memcpy(out->b, buf, len < 32 ? len : 32);
	return (long)len;
}

/* "proof": null or an array of base64 strings. 0 or -1. */
static int
probe_proof(const json_t *arr, prb_hash *p, size_t *len)
{
	size_t i;
	json_t *v;

	*len = 0;
	if (json_is_null(arr) || !arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > PRB_MAX_PROOF)
		return -1;
	json_array_foreach(arr, i, v) {
		if (probe_hash(json_string_value(v) ? json_string_value(v) : "!",
		               &p[i]) < 0)
			return -1;
	}
	*len = json_array_size(arr);
	return 0;
}

typedef struct {
	unsigned files, mismatches;
} probe_tally;

static void
probe_inclusion(const char *path, const char *text, const json_t *j,
                probe_tally *pt)
{
	prb_hash leaf, root, p[PRB_MAX_PROOF];
	uint64_t idx, n;
	size_t len;
	bool want_err = json_is_true(json_object_get(j, "wantErr"));
	long leaf_len = probe_hash(vec_str(j, "leafHash"), &leaf);

	if (vec_raw_u64(text, "leafIdx", &idx) ||
	    vec_raw_u64(text, "treeSize", &n) ||
	    probe_hash(vec_str(j, "root"), &root) < 0 ||
	    probe_proof(json_object_get(j, "proof"), p, &len) || leaf_len < 0) {
		CHECK(0, "%s: unreadable probe", path);
		return;
	}
	pt->files++;
	if (leaf_len != PRB_HASH_SIZE) {
		/* Rejected by the type: a leaf hash is 32 bytes. */
		CHECK(want_err, "%s: %ld-byte leaf hash but wantErr false", path,
		      leaf_len);
		return;
	}
	int rc = v_incl(&leaf, idx, n, p, len, &root);
	bool ok = want_err ? rc == PRB_EPROOF : rc == 0;
	if (!ok)
		pt->mismatches++;
	CHECK(ok, "%s: wantErr %d, verify_inclusion returned %d", path,
	      want_err, rc);
}

/*
 * merkle.h departs from transparency-dev/merkle for m == 0: Go always
 * rejects ("consistency proof from empty tree is meaningless"), while
 * merkle.h says "m == 0 [requires] an empty proof" (the empty tree is a
 * prefix of every tree) and "m == n requires an empty proof and equal
 * roots". Probes with size1 == 0 are therefore judged by merkle.h.
 */
static bool
cons_expect_ok(uint64_t m, uint64_t n, size_t len, bool roots_equal,
               bool want_err)
{
	if (m != 0)
		return !want_err;
	return m <= n && len == 0 && (m < n || roots_equal);
}

static void
probe_consistency(const char *path, const char *text, const json_t *j,
                  probe_tally *pt)
{
	prb_hash r1, r2, p[PRB_MAX_PROOF];
	uint64_t m, n;
	size_t len;
	const char *s1 = vec_str(j, "root1"), *s2 = vec_str(j, "root2");
	bool want_err = json_is_true(json_object_get(j, "wantErr"));

	if (vec_raw_u64(text, "size1", &m) || vec_raw_u64(text, "size2", &n) ||
	    probe_hash(s1, &r1) < 0 || probe_hash(s2, &r2) < 0 ||
	    probe_proof(json_object_get(j, "proof"), p, &len)) {
		CHECK(0, "%s: unreadable probe", path);
		return;
	}
	pt->files++;
	bool expect_ok = cons_expect_ok(m, n, len, strcmp(s1, s2) == 0, want_err);
	int rc = v_cons(m, n, p, len, &r1, &r2);
	bool ok = expect_ok ? rc == 0 : rc == PRB_EPROOF;
	if (!ok)
		pt->mismatches++;
	CHECK(ok, "%s: expected %s (wantErr %d), verify_consistency returned %d",
	      path, expect_ok ? "success" : "PRB_EPROOF", want_err, rc);
}

typedef void (*probe_fn)(const char *path, const char *text, const json_t *j,
                         probe_tally *pt);

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(const char *dir, probe_fn fn, probe_tally *pt);

static void
visit(const char *path, probe_fn fn, probe_tally *pt)
{
	struct stat st;
	size_t len, n = strlen(path);

	if (stat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		walk(path, fn, pt);
		return;
	}
	if (n < 5 || strcmp(path + n - 5, ".json") != 0)
		return;
	char *text = (char *)vec_read_file(path, &len);
	json_error_t jerr;
	/* leafIdx can be 2^64 - 1: integers are re-read by vec_raw_u64. */
	json_t *j = text ? json_loads(text, JSON_DECODE_INT_AS_REAL, &jerr) : NULL;
	if (j)
		fn(path, text, j, pt);
	else
		CHECK(0, "%s: cannot parse", path);
	json_decref(j);
	free(text);
}

/* Visits every entry of dir in name order. */
static void
walk(const char *dir, probe_fn fn, probe_tally *pt)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char **nn;
		if (e->d_name[0] == '.' ||
		    !(nn = realloc(names, (n + 1) * sizeof *names)))
			continue;
		names = nn;
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (names[n])
			sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		visit(names[i], fn, pt);
		free(names[i]);
	}
	free(names);
}

static void
vectors_probes(void)
{
	const char *readme = t_shared("vectors/merkle/README.md");
	char dir[4096];
	probe_tally incl = {0, 0}, cons = {0, 0};

	if (!readme) {
		SKIP("vectors/merkle not found (set PRB_SHARED)");
		return;
	}
	snprintf(dir, sizeof dir, "%.*s/inclusion",
	         (int)(strlen(readme) - strlen("/README.md")), readme);
	walk(dir, probe_inclusion, &incl);
	snprintf(dir, sizeof dir, "%.*s/consistency",
	         (int)(strlen(readme) - strlen("/README.md")), readme);
	walk(dir, probe_consistency, &cons);
	/* merkle/README.md: 98 inclusion and 98 consistency probes. */
	CHECK(incl.files == 98, "read %u inclusion probes, want 98", incl.files);
	CHECK(cons.files == 98, "read %u consistency probes, want 98", cons.files);
	if (incl.mismatches || cons.mismatches)
		fprintf(stderr, "probes: %u inclusion and %u consistency mismatches\n",
		        incl.mismatches, cons.mismatches);
}

/* ------------------------------------------------------------------ */
/* Property test: random trees, every proof verifies, tampering fails. */

#define PROP_LEAVES 600

static uint64_t rng = 0x2545f4914f6cdd1dULL; /* fixed seed */

static uint64_t
rnd(void)
{
	rng ^= rng >> 12; /* xorshift64* */
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* Failures of one kind over many proofs, reported as one check. */
typedef struct {
	unsigned tried, bad;
	char first[200];
} tally;

static void
tally_add(tally *t, bool ok, const char *fmt, ...)
{
	t->tried++;
	if (ok)
		return;
	if (t->bad++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(t->first, sizeof t->first, fmt, ap);
		va_end(ap);
	}
}

typedef struct {
	mem_tree t;
	prb_hash roots[PROP_LEAVES + 1];
	tally gen, verify, tamper;
} prop_ctx;

/* Flips bit `bit` of p[k] for a copy and verifies; must fail. */
static void
incl_flip(prop_ctx *c, uint64_t i, uint64_t n, const prb_hash *p, size_t len,
          size_t k, unsigned bit)
{
	prb_hash q[PRB_MAX_PROOF];

	memcpy(q, p, len * sizeof *p);
	q[k].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	int rc = v_incl(&c->t.lv[0][i], i, n, q, len,
	                                     &c->roots[n]);
	tally_add(&c->tamper, rc == PRB_EPROOF,
	          "inclusion %llu/%llu: bit %u of hash %zu flipped: rc %d",
	          (unsigned long long)i, (unsigned long long)n, bit, k, rc);
}

/* Drops hash k, then inserts a random hash before position k. */
static void
incl_resize(prop_ctx *c, uint64_t i, uint64_t n, const prb_hash *p,
            size_t len, size_t k)
{
	prb_hash q[PRB_MAX_PROOF + 1];
	const prb_hash *leaf = &c->t.lv[0][i];
	int rc;

	if (k < len) {
		memcpy(q, p, k * sizeof *p);
		memcpy(q + k, p + k + 1, (len - k - 1) * sizeof *p);
		rc = v_incl(leaf, i, n, q, len - 1, &c->roots[n]);
		tally_add(&c->tamper, rc == PRB_EPROOF,
		          "inclusion %llu/%llu: hash %zu dropped: rc %d",
		          (unsigned long long)i, (unsigned long long)n, k, rc);
	}
	memcpy(q, p, k * sizeof *p);
	for (size_t b = 0; b < sizeof q[k].b; b++)
		q[k].b[b] = (uint8_t)rnd();
	memcpy(q + k + 1, p + k, (len - k) * sizeof *p);
	rc = v_incl(leaf, i, n, q, len + 1, &c->roots[n]);
	tally_add(&c->tamper, rc == PRB_EPROOF,
	          "inclusion %llu/%llu: hash inserted at %zu: rc %d",
	          (unsigned long long)i, (unsigned long long)n, k, rc);
}

/* Claims the proof for other (index, size) pairs, with the true root of
 * the claimed size: the leaf is not there, so verification must fail. */
static void
incl_move(prop_ctx *c, uint64_t i, uint64_t n, const prb_hash *p, size_t len)
{
	const uint64_t idx[] = {i - 1, i + 1, i ^ 1, 0, n - 1, n, UINT64_MAX};
	const uint64_t sz[] = {n - 1, n + 1, 2 * n, n / 2, i};
	const prb_hash *leaf = &c->t.lv[0][i];

	for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
		if (idx[k] == i)
			continue;
		int rc = v_incl(leaf, idx[k], n, p, len,
		                                     &c->roots[n]);
		tally_add(&c->tamper, rc == PRB_EPROOF,
		          "inclusion %llu/%llu claimed at index %llu: rc %d",
		          (unsigned long long)i, (unsigned long long)n,
		          (unsigned long long)idx[k], rc);
	}
	for (size_t k = 0; k < sizeof sz / sizeof sz[0]; k++) {
		if (sz[k] == n || sz[k] > PROP_LEAVES)
			continue;
		int rc = v_incl(leaf, i, sz[k], p, len,
		                                     &c->roots[sz[k]]);
		tally_add(&c->tamper, rc == PRB_EPROOF,
		          "inclusion %llu/%llu claimed for size %llu: rc %d",
		          (unsigned long long)i, (unsigned long long)n,
		          (unsigned long long)sz[k], rc);
	}
	prb_hash bad = c->roots[n];
	bad.b[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8));
	int rc = v_incl(leaf, i, n, p, len, &bad);
	tally_add(&c->tamper, rc == PRB_EPROOF,
	          "inclusion %llu/%llu: wrong root accepted (rc %d)",
	          (unsigned long long)i, (unsigned long long)n, rc);
	if (n > 1) {
		const prb_hash *other = &c->t.lv[0][i ? i - 1 : 1];
		rc = v_incl(other, i, n, p, len, &c->roots[n]);
		tally_add(&c->tamper, rc == PRB_EPROOF,
		          "inclusion %llu/%llu: wrong leaf accepted (rc %d)",
		          (unsigned long long)i, (unsigned long long)n, rc);
	}
}

static void
prop_inclusion(prop_ctx *c, uint64_t i, uint64_t n)
{
	prb_hash p[PRB_MAX_PROOF], want[PRB_MAX_PROOF];
	size_t len = 0, wlen = 0;

	ref_path(&c->t, i, 0, n, want, &wlen);
	c->t.limit = n;
	int rc = prb_merkle_prove_inclusion(mem_read, &c->t, i, n, p, &len);
	tally_add(&c->gen, rc == 0 && proofs_equal(p, len, want, wlen),
	          "inclusion %llu/%llu: rc %d, len %zu, want RFC 6962 PATH of %zu",
	          (unsigned long long)i, (unsigned long long)n, rc, len, wlen);
	rc = v_incl(&c->t.lv[0][i], i, n, want, wlen,
	                                 &c->roots[n]);
	tally_add(&c->verify, rc == 0, "inclusion %llu/%llu: rc %d",
	          (unsigned long long)i, (unsigned long long)n, rc);

	bool every_bit = n <= 9; /* small trees: every bit; else 3 per hash */
	for (size_t k = 0; k < wlen; k++) {
		for (unsigned b = 0; b < 256; b++)
			if (every_bit || b < 3)
				incl_flip(c, i, n, want, wlen, k,
				          every_bit ? b : (unsigned)(rnd() % 256));
	}
	for (size_t k = 0; k <= wlen; k++)
		incl_resize(c, i, n, want, wlen, k);
	incl_move(c, i, n, want, wlen);
}

/* Verifies a tampered consistency claim. A claim for other sizes (with
 * their true roots) is true of the tree, so it may pass only with the
 * honest proof for those sizes; anything else must fail. */
static void
cons_try(prop_ctx *c, uint64_t m, uint64_t n, const prb_hash *q, size_t len,
         const prb_hash *rm, const prb_hash *rn, const char *what)
{
	prb_hash honest[PRB_MAX_PROOF];
	size_t hlen;
	bool true_roots = m <= n && n <= PROP_LEAVES &&
	                  !memcmp(rm, &c->roots[m], sizeof *rm) &&
	                  !memcmp(rn, &c->roots[n], sizeof *rn);

	int rc = v_cons(m, n, q, len, rm, rn);
	if (rc == 0 && true_roots) {
		ref_proof(&c->t, m, n, honest, &hlen);
		if (proofs_equal(q, len, honest, hlen))
			return;
	}
	tally_add(&c->tamper, rc == PRB_EPROOF, "consistency %llu->%llu %s: rc %d",
	          (unsigned long long)m, (unsigned long long)n, what, rc);
}

static void
cons_tamper(prop_ctx *c, uint64_t m, uint64_t n, const prb_hash *p,
            size_t len)
{
	prb_hash q[PRB_MAX_PROOF + 1];
	const prb_hash *rm = &c->roots[m], *rn = &c->roots[n];

	for (size_t k = 0; k < len; k++) {
		for (unsigned b = 0; b < (n <= 9 ? 256u : 3u); b++) {
			unsigned bit = n <= 9 ? b : (unsigned)(rnd() % 256);
			memcpy(q, p, len * sizeof *p);
			q[k].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			cons_try(c, m, n, q, len, rm, rn, "bit flipped");
		}
		memcpy(q, p, k * sizeof *p); /* drop hash k */
		memcpy(q + k, p + k + 1, (len - k - 1) * sizeof *p);
		cons_try(c, m, n, q, len - 1, rm, rn, "hash dropped");
	}
	for (size_t k = 0; k <= len; k++) { /* insert a random hash at k */
		memcpy(q, p, k * sizeof *p);
		for (size_t b = 0; b < sizeof q[k].b; b++)
			q[k].b[b] = (uint8_t)rnd();
		memcpy(q + k + 1, p + k, (len - k) * sizeof *p);
		cons_try(c, m, n, q, len + 1, rm, rn, "hash inserted");
	}
	const uint64_t ms[] = {m - 1, m + 1}, ns[] = {n - 1, n + 1};
	for (size_t k = 0; k < 2; k++) {
		if (ms[k] <= PROP_LEAVES && ms[k] != 0)
			cons_try(c, ms[k], n, p, len, &c->roots[ms[k]], rn, "moved m");
		if (ns[k] <= PROP_LEAVES && ns[k] >= m)
			cons_try(c, m, ns[k], p, len, rm, &c->roots[ns[k]], "moved n");
	}
	if (m == 0)
		return; /* merkle.h checks neither root when m == 0 < n */
	if (m != n)
		cons_try(c, m, n, p, len, rn, rm, "roots swapped");
	prb_hash bad = *rn;
	bad.b[rnd() % 32] ^= 0x10;
	cons_try(c, m, n, p, len, rm, &bad, "wrong root_n");
	{
		bad = *rm;
		bad.b[rnd() % 32] ^= 0x04;
		cons_try(c, m, n, p, len, &bad, rn, "wrong root_m");
	}
}

static void
prop_consistency(prop_ctx *c, uint64_t m, uint64_t n)
{
	prb_hash p[PRB_MAX_PROOF], want[PRB_MAX_PROOF];
	size_t len = 0, wlen = 0;

	ref_proof(&c->t, m, n, want, &wlen);
	c->t.limit = n;
	int rc = prb_merkle_prove_consistency(mem_read, &c->t, m, n, p, &len);
	tally_add(&c->gen, rc == 0 && proofs_equal(p, len, want, wlen),
	          "consistency %llu->%llu: rc %d, len %zu, want RFC 6962 PROOF of %zu",
	          (unsigned long long)m, (unsigned long long)n, rc, len, wlen);
	rc = v_cons(m, n, want, wlen, &c->roots[m],
	                                   &c->roots[n]);
	tally_add(&c->verify, rc == 0, "consistency %llu->%llu: rc %d",
	          (unsigned long long)m, (unsigned long long)n, rc);
	cons_tamper(c, m, n, want, wlen);
}

/* Sizes m to prove consistency from, for a tree of n leaves. */
static size_t
cons_sizes(uint64_t n, uint64_t *ms)
{
	size_t k = 0;

	if (n <= 40) {
		for (uint64_t m = 0; m <= n; m++)
			ms[k++] = m;
		return k;
	}
	ms[k++] = 0;
	ms[k++] = 1;
	ms[k++] = n - 1;
	ms[k++] = n;
	for (uint64_t p = 2; p < n; p <<= 1) {
		ms[k++] = p;
		ms[k++] = p + 1;
	}
	for (int r = 0; r < 12; r++)
		ms[k++] = 1 + rnd() % n;
	return k;
}

static void
prop_report(const char *what, const tally *t)
{
	CHECK(t->bad == 0, "%s: %u of %u failed; first: %s", what, t->bad,
	      t->tried, t->first);
}

static void
prop_tree_size(prop_ctx *c, uint64_t n)
{
	prb_hash root;
	uint64_t ms[64];

	c->t.limit = n;
	int rc = prb_merkle_root(mem_read, &c->t, n, &root);
	tally_add(&c->gen, rc == 0 && !memcmp(&root, &c->roots[n], sizeof root),
	          "root at %llu: rc %d", (unsigned long long)n, rc);
	for (uint64_t i = 0; i < n; i++)
		prop_inclusion(c, i, n);
	size_t k = cons_sizes(n, ms);
	for (size_t x = 0; x < k; x++)
		prop_consistency(c, ms[x], n);
}

static void
property(void)
{
	static prop_ctx c;
	static prb_hash leaves[PROP_LEAVES];
	uint64_t sizes[48];
	size_t ns = 0;

	for (int i = 0; i < PROP_LEAVES; i++) {
		uint8_t e[16];
		for (size_t b = 0; b < sizeof e; b++)
			e[b] = (uint8_t)rnd();
		vec_ref_leaf(e, 1 + rnd() % sizeof e, &leaves[i]);
	}
	if (tree_init(&c.t, leaves, PROP_LEAVES)) {
		CHECK(0, "out of memory");
		return;
	}
	for (uint64_t n = 0; n <= PROP_LEAVES; n++)
		ref_mth(&c.t, 0, n, &c.roots[n]);
	for (uint64_t n = 1; n <= 17; n++)
		sizes[ns++] = n;
	const uint64_t edges[] = {31, 32, 33, 64, 127, 255, 256, 257, 511, 512,
	                          513, PROP_LEAVES};
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		sizes[ns++] = edges[i];
	for (int r = 0; r < 6; r++)
		sizes[ns++] = 1 + rnd() % PROP_LEAVES;

	for (size_t i = 0; i < ns; i++)
		prop_tree_size(&c, sizes[i]);
	prop_report("property: generated proofs equal RFC 6962 PATH/PROOF", &c.gen);
	prop_report("property: honest proofs verify", &c.verify);
	prop_report("property: tampered proofs rejected with PRB_EPROOF",
	            &c.tamper);
	CHECK(c.t.bad_reads == 0, "property: %u reads past the tree size",
	      c.t.bad_reads);
	fprintf(stderr, "property: %zu tree sizes, %u proofs, %u tampered\n", ns,
	        c.verify.tried, c.tamper.tried);
	tree_free(&c.t);
}

int
main(void)
{
	kat_hashing();
	kat_roots8();
	kat_proofs8();
	kat_log1000();
	api_edges_prove();
	api_edges_verify();
	vectors_rfc6962();
	vectors_log1000();
	vectors_probes();
	property();
	return T_DONE("test_merkle");
}
