/*
 * RFC 6962 Merkle tree hashing, proofs and their verification.
 *
 * Hashing is probity/sha256.h's one-shot SHA-256 (a per-thread context,
 * so the hot path costs no allocation or algorithm lookup per hash).
 */
#include <assert.h>
#include <string.h>

#include <openssl/crypto.h>

#include "probity/merkle.h"
#include "probity/error.h"
#include "probity/sha256.h"

void
prb_merkle_leaf_hash(const uint8_t *entry, size_t len, prb_hash *out)
{
	static const uint8_t zero = 0x00;
	prb_sha256_2(&zero, 1, entry, len, out->b);
}

void
prb_merkle_node_hash(const prb_hash *left, const prb_hash *right,
                     prb_hash *out)
{
	uint8_t buf[1 + 2 * PRB_HASH_SIZE];
	buf[0] = 0x01;
	memcpy(buf + 1, left->b, PRB_HASH_SIZE);
	memcpy(buf + 1 + PRB_HASH_SIZE, right->b, PRB_HASH_SIZE);
	prb_sha256(buf, sizeof buf, out->b);
}

void
prb_merkle_empty_root(prb_hash *out)
{
	prb_sha256(NULL, 0, out->b);
}

int
prb_hash_equal(const prb_hash *a, const prb_hash *b)
{
	return CRYPTO_memcmp(a->b, b->b, PRB_HASH_SIZE) == 0;
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	assert(n >= 2);
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static int
is_pow2(uint64_t n)
{
	return n && (n & (n - 1)) == 0;
}

static unsigned
log2u(uint64_t n)
{
	unsigned l = 0;
	while (n > 1) {
		n >>= 1;
		l++;
	}
	return l;
}

int
prb_merkle_range_hash(prb_node_reader rd, void *ctx, uint64_t begin,
                      uint64_t end, prb_hash *out)
{
	if (begin >= end)
		return PRB_EINVAL;
	uint64_t n = end - begin;
	if (is_pow2(n) && begin % n == 0)
		return rd(ctx, log2u(n), begin / n, out);
	if (n == 1)
		return PRB_EINVAL; /* unaligned single leaf cannot happen */
	uint64_t k = split_point(n);
	prb_hash l, r;
	int rc = prb_merkle_range_hash(rd, ctx, begin, begin + k, &l);
	if (rc == 0)
		rc = prb_merkle_range_hash(rd, ctx, begin + k, end, &r);
	if (rc == 0)
		prb_merkle_node_hash(&l, &r, out);
	return rc;
}

int
prb_merkle_root(prb_node_reader rd, void *ctx, uint64_t size, prb_hash *out)
{
	if (size == 0) {
		prb_merkle_empty_root(out);
		return 0;
	}
	return prb_merkle_range_hash(rd, ctx, 0, size, out);
}

/* RFC 6962 PATH(m, D[begin:end]), appended leaf-to-root. */
static int
path(prb_node_reader rd, void *ctx, uint64_t m, uint64_t begin, uint64_t end,
     prb_hash *proof, size_t *len)
{
	uint64_t n = end - begin;
	if (n == 1)
		return 0;
	uint64_t k = split_point(n);
	int rc;
	if (m < k) {
		rc = path(rd, ctx, m, begin, begin + k, proof, len);
		if (rc == 0)
			rc = prb_merkle_range_hash(rd, ctx, begin + k, end,
			                           &proof[(*len)]);
	} else {
		rc = path(rd, ctx, m - k, begin + k, end, proof, len);
		if (rc == 0)
			rc = prb_merkle_range_hash(rd, ctx, begin, begin + k,
			                           &proof[(*len)]);
	}
	if (rc == 0)
		(*len)++;
	return rc;
}

int
prb_merkle_prove_inclusion(prb_node_reader rd, void *ctx, uint64_t index,
                           uint64_t size, prb_hash *proof, size_t *len)
{
	*len = 0;
	if (index >= size || size > (UINT64_C(1) << 63))
		return PRB_EINVAL;
	return path(rd, ctx, index, 0, size, proof, len);
}

/* RFC 6962 SUBPROOF(m, D[begin:end], b). */
static int
subproof(prb_node_reader rd, void *ctx, uint64_t m, uint64_t begin,
         uint64_t end, int b, prb_hash *proof, size_t *len)
{
	uint64_t n = end - begin;
	int rc = 0;
	if (m == n) {
		if (!b)
			rc = prb_merkle_range_hash(rd, ctx, begin, end,
			                           &proof[(*len)++]);
		return rc;
	}
	uint64_t k = split_point(n);
	if (m <= k) {
		rc = subproof(rd, ctx, m, begin, begin + k, b, proof, len);
		if (rc == 0)
			rc = prb_merkle_range_hash(rd, ctx, begin + k, end,
			                           &proof[(*len)++]);
	} else {
		rc = subproof(rd, ctx, m - k, begin + k, end, 0, proof, len);
		if (rc == 0)
			rc = prb_merkle_range_hash(rd, ctx, begin, begin + k,
			                           &proof[(*len)++]);
	}
	return rc;
}

int
prb_merkle_prove_consistency(prb_node_reader rd, void *ctx, uint64_t m,
                             uint64_t n, prb_hash *proof, size_t *len)
{
	*len = 0;
	if (m > n || n > (UINT64_C(1) << 63))
		return PRB_EINVAL;
	if (m == 0 || m == n)
		return 0;
	return subproof(rd, ctx, m, 0, n, 1, proof, len);
}

int
prb_merkle_verify_inclusion(const prb_hash *leaf, uint64_t index,
                            uint64_t size, const prb_hash *proof, size_t len,
                            const prb_hash *root)
{
	if (index >= size)
		return PRB_EPROOF;
	uint64_t fn = index, sn = size - 1;
	prb_hash r = *leaf;
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return PRB_EPROOF;
		if ((fn & 1) || fn == sn) {
			prb_merkle_node_hash(&proof[i], &r, &r);
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			prb_merkle_node_hash(&r, &proof[i], &r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return PRB_EPROOF;
	return prb_hash_equal(&r, root) ? 0 : PRB_EPROOF;
}

int
prb_merkle_verify_consistency(uint64_t m, uint64_t n, const prb_hash *proof,
                              size_t len, const prb_hash *root_m,
                              const prb_hash *root_n)
{
	if (m > n)
		return PRB_EPROOF;
	if (m == n)
		return len == 0 && prb_hash_equal(root_m, root_n) ? 0
		                                                   : PRB_EPROOF;
	if (m == 0)
		return len == 0 ? 0 : PRB_EPROOF;
	if (len == 0)
		return PRB_EPROOF;
	/* RFC 9162 2.1.4.2: if m is a power of two, the old root is the
	 * implicit first element of the proof. */
	const prb_hash *first = is_pow2(m) ? root_m : &proof[0];
	size_t i = is_pow2(m) ? 0 : 1;
	uint64_t fn = m - 1, sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	prb_hash fr = *first, sr = *first;
	for (; i < len; i++) {
		if (sn == 0)
			return PRB_EPROOF;
		if ((fn & 1) || fn == sn) {
			prb_merkle_node_hash(&proof[i], &fr, &fr);
			prb_merkle_node_hash(&proof[i], &sr, &sr);
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			prb_merkle_node_hash(&sr, &proof[i], &sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return PRB_EPROOF;
	return prb_hash_equal(&fr, root_m) && prb_hash_equal(&sr, root_n)
	               ? 0
	               : PRB_EPROOF;
}
