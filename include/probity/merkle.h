/*
 * RFC 6962 / RFC 9162 Merkle tree hashing over SHA-256, proof generation and
 * proof verification.
 *
 *   leaf hash  = SHA-256(0x00 || entry)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 *
 * Proof generation reads perfect-subtree hashes through a prb_node_reader,
 * so the same code serves an in-memory tree (tests) and a tiled log on disk.
 * Inclusion proofs are in RFC 6962 PATH order (leaf's sibling first);
 * consistency proofs in RFC 6962 PROOF order. All functions are thread-safe.
 */
#ifndef PROBITY_MERKLE_H
#define PROBITY_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define PRB_HASH_SIZE 32
/* Longest proof for a tree of up to 2^63 leaves (inclusion: 63 hashes;
 * consistency: at most 2*63). */
#define PRB_MAX_PROOF 128

typedef struct {
	uint8_t b[PRB_HASH_SIZE];
} prb_hash;

void prb_merkle_leaf_hash(const uint8_t *entry, size_t len, prb_hash *out);
void prb_merkle_node_hash(const prb_hash *left, const prb_hash *right,
                          prb_hash *out);
void prb_merkle_empty_root(prb_hash *out);

/* Constant-time equality of two hashes: 1 if equal. */
int prb_hash_equal(const prb_hash *a, const prb_hash *b);

/*
 * Reads the hash of the perfect subtree of height `level` at position
 * `index`, i.e. MTH(D[index * 2^level : (index + 1) * 2^level]). Returns 0 or
 * a PRB_E* code, which the proof functions pass back unchanged.
 */
typedef int (*prb_node_reader)(void *ctx, unsigned level, uint64_t index,
                               prb_hash *out);

/* MTH(D[begin:end]), 0 <= begin < end, for a range whose left edge is aligned
 * as RFC 6962's recursion leaves it (begin a multiple of the largest power of
 * two below end - begin, rounded up). Used for roots and proof nodes. */
int prb_merkle_range_hash(prb_node_reader rd, void *ctx, uint64_t begin,
                          uint64_t end, prb_hash *out);

/* Root of the tree of `size` leaves (the empty root for size 0). */
int prb_merkle_root(prb_node_reader rd, void *ctx, uint64_t size,
                    prb_hash *out);

/* Inclusion proof of leaf `index` in the tree of `size` leaves into
 * proof[0..*len); proof must hold PRB_MAX_PROOF hashes.
 * PRB_EINVAL unless index < size. */
int prb_merkle_prove_inclusion(prb_node_reader rd, void *ctx, uint64_t index,
                               uint64_t size, prb_hash *proof, size_t *len);

/* Consistency proof from tree size `m` to size `n`, 0 <= m <= n; empty when
 * m == 0 or m == n. proof must hold PRB_MAX_PROOF hashes. */
int prb_merkle_prove_consistency(prb_node_reader rd, void *ctx, uint64_t m,
                                 uint64_t n, prb_hash *proof, size_t *len);

/* RFC 9162 section 2.1.3.2. 0 if `leaf` at `index` is in the tree of `size`
 * leaves with root `root`, PRB_EPROOF otherwise (including index >= size and
 * a proof of the wrong length). */
int prb_merkle_verify_inclusion(const prb_hash *leaf, uint64_t index,
                                uint64_t size, const prb_hash *proof,
                                size_t len, const prb_hash *root);

/* RFC 9162 section 2.1.4.2. 0 if the tree of size m with root root_m is a
 * prefix of the tree of size n with root root_n, PRB_EPROOF otherwise.
 * m == n requires an empty proof and equal roots; m == 0 an empty proof. */
int prb_merkle_verify_consistency(uint64_t m, uint64_t n,
                                  const prb_hash *proof, size_t len,
                                  const prb_hash *root_m,
                                  const prb_hash *root_n);

#endif
