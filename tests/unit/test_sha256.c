/*
 * SHA-256 (include/probity/sha256.h) against the FIPS 180-2 appendix B
 * examples; the two-part, hex and incremental forms against the one-shot
 * one; and one-shot hashing on threads that come and go (each with its own
 * context, freed when it exits: ASan's leak check covers that).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "probity/sha256.h"
#include "base/util.h"
#include "t.h"

static const struct {
	const char *msg;
	const char *hex;
} kat[] = {
	{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{"abc",
	 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};
#define NKAT (sizeof kat / sizeof kat[0])

/* The hash of one million 'a's (FIPS 180-2 B.3). */
#define MILLION_A \
	"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void
hex_of(const uint8_t d[PRB_SHA256_SIZE], char out[PRB_SHA256_HEX_SIZE])
{
	prb_hex_encode(d, PRB_SHA256_SIZE, out);
}

static void
known_answers(void)
{
	uint8_t d[PRB_SHA256_SIZE];
	char hex[PRB_SHA256_HEX_SIZE];
	for (size_t i = 0; i < NKAT; i++) {
		size_t len = strlen(kat[i].msg);
		prb_sha256(kat[i].msg, len, d);
		hex_of(d, hex);
		CHECK(strcmp(hex, kat[i].hex) == 0, "\"%s\": %s", kat[i].msg,
		      hex);
		prb_sha256_hex(kat[i].msg, len, hex);
		CHECK(strcmp(hex, kat[i].hex) == 0, "hex of \"%s\": %s",
		      kat[i].msg, hex);
		for (size_t k = 0; k <= len; k++) { /* every split point */
			prb_sha256_2(kat[i].msg, k, kat[i].msg + k, len - k, d);
			hex_of(d, hex);
			CHECK(strcmp(hex, kat[i].hex) == 0, "\"%s\" split at %zu",
			      kat[i].msg, k);
		}
	}
	prb_sha256(NULL, 0, d);
	hex_of(d, hex);
	CHECK(strcmp(hex, kat[0].hex) == 0, "NULL, 0: %s", hex);
}

static void
incremental(void)
{
	uint8_t d[PRB_SHA256_SIZE], a[1000];
	char hex[PRB_SHA256_HEX_SIZE];
	prb_sha256_ctx *c = prb_sha256_new();
	CHECK(c != NULL, "prb_sha256_new");
	if (!c)
		return;
	memset(a, 'a', sizeof a);
	for (int i = 0; i < 1000; i++)
		prb_sha256_update(c, a, sizeof a);
	prb_sha256_final(c, d);
	hex_of(d, hex);
	CHECK(strcmp(hex, MILLION_A) == 0, "a million 'a's: %s", hex);
	/* after final, a new hash: each KAT fed a byte at a time */
	for (size_t i = 0; i < NKAT; i++) {
		for (const char *p = kat[i].msg; *p; p++)
			prb_sha256_update(c, p, 1);
		prb_sha256_update(c, NULL, 0);
		prb_sha256_final(c, d);
		hex_of(d, hex);
		CHECK(strcmp(hex, kat[i].hex) == 0, "\"%s\" byte by byte: %s",
		      kat[i].msg, hex);
	}
	prb_sha256_free(c);
	prb_sha256_free(NULL);
}

#define THREADS 8

static void *
hash_on_thread(void *arg)
{
	int *ok = arg;
	char hex[PRB_SHA256_HEX_SIZE];
	*ok = 1;
	for (int n = 0; n < 1000; n++) {
		size_t i = (size_t)n % NKAT;
		prb_sha256_hex(kat[i].msg, strlen(kat[i].msg), hex);
		*ok &= strcmp(hex, kat[i].hex) == 0;
	}
	return NULL;
}

static void
threads(void)
{
	for (int round = 0; round < 3; round++) {
		pthread_t t[THREADS];
		int ok[THREADS], started[THREADS];
		for (int i = 0; i < THREADS; i++)
			started[i] = pthread_create(&t[i], NULL, hash_on_thread,
			                            &ok[i]) == 0;
		for (int i = 0; i < THREADS; i++) {
			if (!started[i]) {
				SKIP("no thread %d", i);
				continue;
			}
			pthread_join(t[i], NULL);
			CHECK(ok[i], "thread %d of round %d", i, round);
		}
	}
}

int
main(void)
{
	known_answers();
	incremental();
	threads();
	return T_DONE("test_sha256");
}
