/*
 * sha_limit: this machine's SHA-256 limit on probity's per-entry work,
 * for bench/ingest.
 *
 *   sha_limit FILE
 *
 * Reads FILE (one entry per line, "\n" excluded, as probity add does)
 * into memory, then times only the hashing: for every entry the RFC 6962
 * leaf hash SHA-256(0x00 || entry) and one node hash SHA-256(0x01 || a ||
 * b), with OpenSSL EVP (SHA256 fetched once, one EVP_MD_CTX reused), on
 * one thread. Then, for reference, the raw SHA-256 bandwidth over 64 KiB
 * buffers. Prints, one per line:
 *
 *   entries=N entry_bytes=B seconds=S entries_per_s=X entry_mb_per_s=Y
 *   raw_mb_per_s=Z
 *   check=<first 8 bytes of the final chained hash, hex>
 *
 * MB is 10^6 bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define RAW_BUF (64u * 1024u)
#define RAW_MIN_SECONDS 0.5

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "sha_limit: %s\n", what);
	exit(1);
}

/* SHA-256(prefix || a || b); prefix < 0 means no prefix byte. */
static void
digest(EVP_MD_CTX *ctx, const EVP_MD *md, int prefix,
       const void *a, size_t alen, const void *b, size_t blen,
       unsigned char out[32])
{
	unsigned char p = (unsigned char)prefix;
	if (!EVP_DigestInit_ex2(ctx, md, NULL) ||
	    (prefix >= 0 && !EVP_DigestUpdate(ctx, &p, 1)) ||
	    !EVP_DigestUpdate(ctx, a, alen) ||
	    (blen != 0 && !EVP_DigestUpdate(ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(ctx, out, NULL))
		die("EVP digest failed");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sha_limit FILE\n");
		return 2;
	}

	/* Load the file (not timed). */
	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(argv[1]);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	char *data = malloc(size + 1);
	if (data == NULL)
		die("out of memory");
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r <= 0) {
			perror(argv[1]);
			return 1;
		}
		got += (size_t)r;
	}
	close(fd);

	/* Split into entries (not timed). */
	size_t n = 0, cap = 1024;
	size_t *off = malloc(cap * sizeof *off), *len = malloc(cap * sizeof *len);
	if (off == NULL || len == NULL)
		die("out of memory");
	for (size_t i = 0; i < size;) {
		char *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) : size;
		if (n == cap) {
			cap *= 2;
			off = realloc(off, cap * sizeof *off);
			len = realloc(len, cap * sizeof *len);
			if (off == NULL || len == NULL)
				die("out of memory");
		}
		off[n] = i;
		len[n] = end - i;
		n++;
		i = end + 1;
	}

	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (md == NULL || ctx == NULL)
		die("cannot fetch SHA256");

	/* The per-entry work: leaf hash, then one node hash. */
	unsigned char leaf[32], acc[32] = {0};
	size_t entry_bytes = 0;
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		digest(ctx, md, 0x00, data + off[i], len[i], NULL, 0, leaf);
		digest(ctx, md, 0x01, acc, 32, leaf, 32, acc);
		entry_bytes += len[i];
	}
	double secs = now() - t0;
	if (secs <= 0)
		secs = 1e-9;
	printf("entries=%zu entry_bytes=%zu seconds=%.6f entries_per_s=%.0f "
	       "entry_mb_per_s=%.1f\n", n, entry_bytes, secs, (double)n / secs,
	       (double)entry_bytes / secs / 1e6);

	/* Raw bandwidth: one digest per 64 KiB buffer, for at least 0.5 s. */
	unsigned char *buf = malloc(RAW_BUF), out[32];
	if (buf == NULL)
		die("out of memory");
	for (size_t i = 0; i < RAW_BUF; i++)
		buf[i] = (unsigned char)(i * 131u + 7u);
	size_t bytes = 0;
	double r0 = now(), rs;
	do {
		for (int k = 0; k < 64; k++) {
			digest(ctx, md, -1, buf, RAW_BUF, NULL, 0, out);
			buf[0] ^= out[0];
			bytes += RAW_BUF;
		}
		rs = now() - r0;
	} while (rs < RAW_MIN_SECONDS);
	printf("raw_mb_per_s=%.1f\n", (double)bytes / rs / 1e6);
	printf("check=");
	for (int i = 0; i < 8; i++)
		printf("%02x", acc[i] ^ out[i]);
	printf("\n");

	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	free(buf);
	free(off);
	free(len);
	free(data);
	return 0;
}
