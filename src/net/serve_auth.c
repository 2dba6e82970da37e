/*
 * probity serve: bearer credentials. Tokens are kept only as SHA-256
 * digests, and a request's token is compared with CRYPTO_memcmp against
 * every one of them, so the time taken does not depend on how much of a
 * token matched (invariant 4 of include/probity/serve.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "base/util.h"
#include "net/serve_int.h"

#define TOKEN_MIN 16
#define TOKEN_MAX 256

static int
add_token(serve_tokens *t, unsigned rights, const char *tok, size_t len)
{
	uint8_t (*d)[PRB_SHA256_SIZE] =
		realloc(t->digest, (t->n + 1) * sizeof *d);
	if (!d)
		return -1;
	t->digest = d;
	unsigned *r = realloc(t->rights, (t->n + 1) * sizeof *r);
	if (!r)
		return -1;
	t->rights = r;
	prb_sha256(tok, len, t->digest[t->n]);
	t->rights[t->n++] = rights;
	return 0;
}

/* Parses one token-file line; returns 0 or PRB_EMALFORMED. */
static int
token_line(serve_tokens *t, const char *p, size_t len, const char *path,
           uint64_t lineno, prb_err *err)
{
	const char *sp = memchr(p, ' ', len);
	if (!sp)
		return prb_err_set(err, PRB_EMALFORMED, path, lineno,
		                   "line %llu: not \"RIGHTS TOKEN\"",
		                   (unsigned long long)lineno);
	size_t rl = (size_t)(sp - p);
	unsigned rights = 0;
	if (rl == 4 && !memcmp(p, "read", 4))
		rights = RIGHT_READ;
	else if (rl == 6 && !memcmp(p, "append", 6))
		rights = RIGHT_APPEND;
	else if (rl == 11 && !memcmp(p, "read,append", 11))
		rights = RIGHT_READ | RIGHT_APPEND;
	else
		return prb_err_set(err, PRB_EMALFORMED, path, lineno,
		                   "line %llu: rights must be read, append or "
		                   "read,append",
		                   (unsigned long long)lineno);
	const char *tok = sp + 1;
	size_t tl = len - rl - 1;
	for (size_t i = 0; i < tl; i++)
		if (tok[i] <= ' ' || tok[i] > '~')
			tl = 0;
	if (tl < TOKEN_MIN || tl > TOKEN_MAX)
		return prb_err_set(err, PRB_EMALFORMED, path, lineno,
		                   "line %llu: a token is %d to %d printable "
		                   "ASCII characters without spaces",
		                   (unsigned long long)lineno, TOKEN_MIN,
		                   TOKEN_MAX);
	if (add_token(t, rights, tok, tl))
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	return 0;
}

int
serve_auth_load(serve_tokens *t, const char *path, prb_err *err)
{
	struct stat sb;
	if (stat(path, &sb) == 0 && (sb.st_mode & 077))
		return prb_err_set(err, PRB_EINVAL, path, UINT64_MAX,
		                   "readable by group or others (chmod 600 it)");
	uint8_t *data;
	size_t len;
	int rc = prb_read_file(path, 1 << 20, &data, &len, err);
	if (rc)
		return rc;
	const char *p = (const char *)data, *end = p + len;
	uint64_t lineno = 0;
	while (rc == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l > 0 && p[0] != '#')
			rc = token_line(t, p, l, path, lineno, err);
		p = nl ? nl + 1 : end;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

void
serve_auth_free(serve_tokens *t)
{
	if (t->digest)
		OPENSSL_cleanse(t->digest, t->n * sizeof *t->digest);
	free(t->digest);
	free(t->rights);
	t->digest = NULL;
	t->rights = NULL;
	t->n = 0;
}

void
serve_auth_init(serve_tokens *t)
{
	pthread_rwlock_init(&t->lock, NULL);
}

void
serve_auth_destroy(serve_tokens *t)
{
	pthread_rwlock_destroy(&t->lock);
}

void
serve_auth_replace(serve_tokens *t, serve_tokens *fresh)
{
	serve_tokens old = {0};
	pthread_rwlock_wrlock(&t->lock);
	old.digest = t->digest;
	old.rights = t->rights;
	old.n = t->n;
	t->digest = fresh->digest;
	t->rights = fresh->rights;
	t->n = fresh->n;
	pthread_rwlock_unlock(&t->lock);
	fresh->digest = NULL;
	fresh->rights = NULL;
	fresh->n = 0;
	serve_auth_free(&old);
}

int
serve_auth_none(serve_tokens *t)
{
	pthread_rwlock_rdlock(&t->lock);
	int none = t->n == 0;
	pthread_rwlock_unlock(&t->lock);
	return none;
}

/* The rights of the request's bearer token: 0 for a token with none of
 * them, -1 when it carries no token the server knows. */
static int
rights_of(const serve_tokens *t, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	uint8_t d[PRB_SHA256_SIZE];
	const char *tok = h + 7;
	prb_sha256(tok, strlen(tok), d);
	int rights = -1;
	for (size_t i = 0; i < t->n; i++) /* no early exit: invariant 4 */
		if (CRYPTO_memcmp(d, t->digest[i], sizeof d) == 0)
			rights = (rights < 0 ? 0 : rights) | (int)t->rights[i];
	return rights;
}

unsigned
serve_auth_deny(serve_tokens *t, struct MHD_Connection *c,
                unsigned need, enum MHD_Result *ret)
{
	pthread_rwlock_rdlock(&t->lock);
	int r = rights_of(t, c);
	pthread_rwlock_unlock(&t->lock);
	if (r >= 0 && ((unsigned)r & need) == need)
		return 0;
	if (r >= 0) {
		*ret = prb_httpd_replyf(c, MHD_HTTP_FORBIDDEN,
		                        "this credential does not allow that");
		return MHD_HTTP_FORBIDDEN;
	}
	*ret = prb_httpd_replyf_header(c, MHD_HTTP_UNAUTHORIZED,
	                               MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	                               "Bearer realm=\"probity\"",
	                               "a valid bearer credential is required");
	return MHD_HTTP_UNAUTHORIZED;
}
