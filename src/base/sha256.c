/*
 * SHA-256 over OpenSSL (see probity/sha256.h): one EVP_MD fetched for the
 * process, and for the one-shot functions one EVP_MD_CTX per thread, so
 * the hot path costs no allocation or algorithm lookup per hash.
 */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "probity/sha256.h"
#include "base/util.h"

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX *tls_ctx;
/* frees a thread's context when the thread exits (server threads come
 * and go with connections) */
static pthread_key_t ctx_key;
static int ctx_key_ok;

struct prb_sha256_ctx {
	EVP_MD_CTX *md;
};

static void
ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

/* Starts a hash in c; aborts if libcrypto has no SHA-256. */
static void
start(EVP_MD_CTX *c)
{
	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || !EVP_DigestInit_ex(c, sha256_md, NULL))
		abort();
}

void
prb_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
             uint8_t out[PRB_SHA256_SIZE])
{
	if (!tls_ctx) {
		tls_ctx = EVP_MD_CTX_new();
		if (!tls_ctx)
			abort();
		pthread_once(&sha256_once, sha256_fetch);
		if (ctx_key_ok)
			pthread_setspecific(ctx_key, tls_ctx);
	}
	start(tls_ctx);
	if (!EVP_DigestUpdate(tls_ctx, a, alen) ||
	    (blen && !EVP_DigestUpdate(tls_ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(tls_ctx, out, NULL))
		abort();
}

void
prb_sha256(const void *data, size_t len, uint8_t out[PRB_SHA256_SIZE])
{
	prb_sha256_2(data, len, NULL, 0, out);
}

void
prb_sha256_hex(const void *data, size_t len, char out[PRB_SHA256_HEX_SIZE])
{
	uint8_t d[PRB_SHA256_SIZE];
	prb_sha256(data, len, d);
	prb_hex_encode(d, sizeof d, out);
}

prb_sha256_ctx *
prb_sha256_new(void)
{
	prb_sha256_ctx *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	if (!(c->md = EVP_MD_CTX_new())) {
		free(c);
		return NULL;
	}
	start(c->md);
	return c;
}

void
prb_sha256_update(prb_sha256_ctx *c, const void *data, size_t len)
{
	if (len && !EVP_DigestUpdate(c->md, data, len))
		abort();
}

void
prb_sha256_final(prb_sha256_ctx *c, uint8_t out[PRB_SHA256_SIZE])
{
	if (!EVP_DigestFinal_ex(c->md, out, NULL))
		abort();
	start(c->md);
}

void
prb_sha256_free(prb_sha256_ctx *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}
