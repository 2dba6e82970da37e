/*
 * prove_rate: inclusion proofs per second from the library, for
 * bench/audit, beside this machine's SHA-256 rate on the same kind of work.
 *
 *   prove_rate LOGDIR COUNT SEED
 *
 * Opens the log read-only and asks prb_log_prove_inclusion (what `probity
 * prove` and `probity audit` use) for COUNT proofs of pseudo-random leaves
 * against the latest checkpoint; each proof is checked against the signed
 * root before it is returned. Then, for the limit, times RFC 6962 node
 * hashes (SHA-256 of 65 bytes, OpenSSL EVP, one thread) and divides by the
 * hashes one proof's check needs (the proof length plus one). Prints:
 *
 *   size=N proofs=C seconds=S proofs_per_s=X hashes_per_proof=H
 *   hash_per_s=Y limit_proofs_per_s=Z
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#include "probity/log.h"
#include "probity/store.h"

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: prove_rate LOGDIR COUNT SEED\n");
		return 2;
	}
	unsigned long long count = strtoull(argv[2], NULL, 10);
	uint64_t x = strtoull(argv[3], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
	prb_store *st = NULL;
	prb_log *log = NULL;
	prb_err err;
	prb_err_clear(&err);
	if (prb_store_open_dir(argv[1], PRB_SYNC_FILES, &st, &err) ||
	    prb_log_open(st, NULL, 0, &log, &err)) {
		fprintf(stderr, "prove_rate: %s: %s\n", err.where, err.msg);
		return 1;
	}
	uint64_t size = prb_log_size(log);
	if (size == 0 || count == 0) {
		fprintf(stderr, "prove_rate: empty log or no proofs asked\n");
		return 1;
	}
	prb_hash proof[PRB_MAX_PROOF];
	size_t len = 0, total = 0;
	double t0 = now();
	for (unsigned long long i = 0; i < count; i++) {
		x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
		uint64_t leaf = (x * 0x2545F4914F6CDD1DULL) % size;
		if (prb_log_prove_inclusion(log, leaf, size, proof, &len, &err)) {
			fprintf(stderr, "prove_rate: leaf %llu: %s\n",
			        (unsigned long long)leaf, err.msg);
			return 1;
		}
		total += len;
	}
	double secs = now() - t0;
	double hashes_per_proof = (double)total / (double)count + 1.0;
	/* the limit: node hashes on one thread, for about as long */
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	unsigned char buf[65] = {1}, out[32];
	unsigned long long nh = 0;
	double h0 = now(), h1;
	do {
		for (int k = 0; k < 10000; k++) {
			EVP_DigestInit_ex(ctx, md, NULL);
			EVP_DigestUpdate(ctx, buf, sizeof buf);
			EVP_DigestFinal_ex(ctx, out, NULL);
			buf[1 + (k & 31)] = out[0];
		}
		nh += 10000;
		h1 = now();
	} while (h1 - h0 < 1.0);
	double hps = (double)nh / (h1 - h0);
	printf("size=%llu proofs=%llu seconds=%.6f proofs_per_s=%.0f "
	       "hashes_per_proof=%.1f hash_per_s=%.0f limit_proofs_per_s=%.0f "
	       "check=%02x\n",
	       (unsigned long long)size, count, secs, (double)count / secs,
	       hashes_per_proof, hps, hps / hashes_per_proof, out[0]);
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	prb_log_close(log);
	prb_store_close(st);
	return 0;
}
