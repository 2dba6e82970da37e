/*
 * c2sp.org/signed-note: keys, signing, opening. Ed25519 via OpenSSL.
 * Opening follows golang.org/x/mod/sumdb/note.Open rule for rule, so a note
 * one accepts the other accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "probity/note.h"
#include "util.h"

#define SEED_SIZE 32
#define ED_SIG_SIZE 64
#define EM_DASH "\xe2\x80\x94" /* U+2014 */

struct prb_signer {
	char name[PRB_NAME_MAX + 1];
	uint32_t id;
	uint8_t seed[SEED_SIZE];
	uint8_t pub[32];
	EVP_PKEY *pkey;
};

/* Key names: non-empty, valid UTF-8, no Unicode space, no '+'. */
static int
name_valid(const char *s, size_t len)
{
	if (len == 0 || len > PRB_NAME_MAX ||
	    !prb_utf8_valid((const uint8_t *)s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+' || c <= ' ')
			return 0;
		/* Unicode spaces outside ASCII: U+0085, U+00A0, U+1680,
		 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
		if (c == 0xc2 && i + 1 < len &&
		    ((unsigned char)s[i + 1] == 0x85 ||
		     (unsigned char)s[i + 1] == 0xa0))
			return 0;
		if (c == 0xe1 && i + 2 < len && (unsigned char)s[i + 1] == 0x9a &&
		    (unsigned char)s[i + 2] == 0x80)
			return 0;
		if (c == 0xe2 && i + 2 < len) {
			unsigned char b = (unsigned char)s[i + 1],
			              d = (unsigned char)s[i + 2];
			if (b == 0x80 && (d <= 0x8a || d == 0xa8 || d == 0xa9 ||
			                  d == 0xaf))
				return 0;
			if (b == 0x81 && d == 0x9f)
				return 0;
		}
		if (c == 0xe3 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0x80)
			return 0;
	}
	return 1;
}

static uint32_t
key_id(const char *name, uint8_t type, const uint8_t *pub, size_t publen)
{
	uint8_t md[32];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t nl = '\n';
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c, name, strlen(name)) ||
	    !EVP_DigestUpdate(c, &nl, 1) || !EVP_DigestUpdate(c, &type, 1) ||
	    !EVP_DigestUpdate(c, pub, publen) ||
	    !EVP_DigestFinal_ex(c, md, &mdlen))
		abort();
	EVP_MD_CTX_free(c);
	return load_be32(md);
}

/* Trims ASCII whitespace at both ends. */
static void
trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\n' || **s == '\r' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\n' ||
	                (*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* Splits s at the next '+'; the field before it is returned. */
static int
chop(const char **s, size_t *len, const char **field, size_t *flen)
{
	const char *p = memchr(*s, '+', *len);
	if (!p)
		return -1;
	*field = *s;
	*flen = (size_t)(p - *s);
	*len -= *flen + 1;
	*s = p + 1;
	return 0;
}

static int
parse_hex32(const char *s, size_t len, uint32_t *out)
{
	if (len != 8)
		return -1;
	uint32_t v = 0;
	for (size_t i = 0; i < 8; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -1; /* upper case rejected: spec says lowercase */
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static int
signer_init(prb_signer *s, const uint8_t seed[SEED_SIZE])
{
	size_t publen = sizeof s->pub;
	memcpy(s->seed, seed, SEED_SIZE);
	s->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	                                       SEED_SIZE);
	if (!s->pkey || !EVP_PKEY_get_raw_public_key(s->pkey, s->pub, &publen) ||
	    publen != 32)
		return PRB_EKEY;
	s->id = key_id(s->name, PRB_SIG_ED25519, s->pub, 32);
	return 0;
}

int
prb_signer_parse(const char *skey, size_t len, prb_signer **out,
                 prb_err *err)
{
	const char *p1, *p2, *name, *hex;
	size_t l1, l2, ln, lh;
	uint8_t key[64];
	size_t klen = 0;
	uint32_t id;
	prb_signer *s = NULL;
	int rc = PRB_EKEY;
	trim(&skey, &len);
	if (chop(&skey, &len, &p1, &l1) || chop(&skey, &len, &p2, &l2) ||
	    chop(&skey, &len, &name, &ln) || chop(&skey, &len, &hex, &lh) ||
	    l1 != 7 || memcmp(p1, "PRIVATE", 7) || l2 != 3 ||
	    memcmp(p2, "KEY", 3)) {
		prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		            "not a signer key (PRIVATE+KEY+name+id+key)");
		goto fail;
	}
	if (!name_valid(name, ln) || parse_hex32(hex, lh, &id) ||
	    len > 4 * sizeof key / 3 ||
	    prb_b64_decode(skey, len, key, &klen) || klen != 1 + SEED_SIZE ||
	    key[0] != PRB_SIG_ED25519) {
		prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		            "malformed signer key: bad name, key ID or "
		            "Ed25519 seed");
		goto fail;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
		goto fail;
	}
	memcpy(s->name, name, ln);
	if (signer_init(s, key + 1) || s->id != id) {
		prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		            "signer key ID %08x does not match its key (%08x)", id,
		            s->id);
		goto fail;
	}
	OPENSSL_cleanse(key, sizeof key);
	*out = s;
	return 0;
fail:
	OPENSSL_cleanse(key, sizeof key);
	prb_signer_free(s);
	return rc;
}

int
prb_signer_generate(const char *name, prb_signer **out, prb_err *err)
{
	uint8_t seed[SEED_SIZE];
	if (!name_valid(name, strlen(name)))
		return prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		                   "invalid key name \"%s\": it must be non-empty "
		                   "UTF-8 without spaces or '+'", name);
	prb_signer *s = calloc(1, sizeof *s);
	if (!s)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	memcpy(s->name, name, strlen(name));
	if (RAND_priv_bytes(seed, sizeof seed) != 1 || signer_init(s, seed)) {
		OPENSSL_cleanse(seed, sizeof seed);
		prb_signer_free(s);
		return prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		                   "key generation failed");
	}
	OPENSSL_cleanse(seed, sizeof seed);
	*out = s;
	return 0;
}

int
prb_signer_load(const char *path, prb_signer **out, prb_err *err)
{
	uint8_t *data;
	size_t len;
	int rc = prb_read_file(path, 4096, &data, &len, err);
	if (rc) {
		if (rc == PRB_ENOTFOUND)
			prb_err_set(err, rc, path, UINT64_MAX,
			            "key file not found");
		return rc;
	}
	rc = prb_signer_parse((const char *)data, len, out, err);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "%s", path);
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

void
prb_signer_free(prb_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->pkey);
	OPENSSL_cleanse(s, sizeof *s);
	free(s);
}

const char *
prb_signer_name(const prb_signer *s)
{
	return s->name;
}

/* name+hex+base64(type||key) with an optional prefix. */
static int
format_key(char *buf, size_t cap, const char *prefix, const char *name,
           uint32_t id, uint8_t type, const uint8_t *key, size_t keylen)
{
	uint8_t raw[1 + 64];
	char b64[2 * sizeof raw];
	raw[0] = type;
	memcpy(raw + 1, key, keylen);
	prb_b64_encode(raw, 1 + keylen, b64);
	OPENSSL_cleanse(raw, sizeof raw);
	int w = snprintf(buf, cap, "%s%s+%08x+%s", prefix, name, id, b64);
	OPENSSL_cleanse(b64, sizeof b64);
	return w < 0 || (size_t)w >= cap ? PRB_EINVAL : 0;
}

int
prb_signer_skey(const prb_signer *s, char *buf, size_t cap)
{
	return format_key(buf, cap, "PRIVATE+KEY+", s->name, s->id,
	                  PRB_SIG_ED25519, s->seed, SEED_SIZE);
}

void
prb_signer_verifier(const prb_signer *s, prb_verifier *out)
{
	memset(out, 0, sizeof *out);
	memcpy(out->name, s->name, sizeof out->name);
	out->id = s->id;
	out->type = PRB_SIG_ED25519;
	memcpy(out->pub, s->pub, 32);
}

int
prb_signer_vkey(const prb_signer *s, char *buf, size_t cap)
{
	prb_verifier v;
	prb_signer_verifier(s, &v);
	return prb_verifier_format(&v, buf, cap);
}

int
prb_verifier_format(const prb_verifier *v, char *buf, size_t cap)
{
	return format_key(buf, cap, "", v->name, v->id, v->type, v->pub, 32);
}

int
prb_verifier_parse(const char *vkey, size_t len, prb_verifier *out,
                   prb_err *err)
{
	const char *name, *hex;
	size_t ln, lh, klen = 0;
	uint8_t key[64];
	trim(&vkey, &len);
	memset(out, 0, sizeof *out);
	if (chop(&vkey, &len, &name, &ln) || chop(&vkey, &len, &hex, &lh) ||
	    !name_valid(name, ln) || parse_hex32(hex, lh, &out->id) ||
	    len > 4 * sizeof key / 3 ||
	    prb_b64_decode(vkey, len, key, &klen) || klen != 33 ||
	    (key[0] != PRB_SIG_ED25519 && key[0] != PRB_SIG_COSIGV1))
		return prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		                   "malformed verifier key (expected "
		                   "name+hexid+base64 of an Ed25519 key)");
	memcpy(out->name, name, ln);
	out->type = key[0];
	memcpy(out->pub, key + 1, 32);
	if (key_id(out->name, out->type, out->pub, 32) != out->id)
		return prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		                   "verifier key ID %08x does not match its key",
		                   out->id);
	return 0;
}

int
prb_verifier_load(const char *arg, prb_verifier *out, prb_err *err)
{
	prb_err e1;
	prb_err_clear(&e1);
	if (prb_verifier_parse(arg, strlen(arg), out, &e1) == 0)
		return 0;
	uint8_t *data;
	size_t len;
	if (strchr(arg, '+') != NULL ||
	    prb_read_file(arg, 4096, &data, &len, NULL) != 0) {
		if (err)
			*err = e1;
		return e1.code;
	}
	int rc = prb_verifier_parse((const char *)data, len, out, err);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "%s", arg);
	free(data);
	return rc;
}

/* A note text must be UTF-8, end in '\n', and contain no control
 * characters but '\n'. */
static int
text_valid(const uint8_t *s, size_t len)
{
	if (len == 0 || s[len - 1] != '\n' || !prb_utf8_valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 && s[i] != '\n')
			return 0;
	return 1;
}

static int
ed25519_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len,
             uint8_t sig[ED_SIG_SIZE])
{
	size_t siglen = ED_SIG_SIZE;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, pkey) == 1 &&
	         EVP_DigestSign(c, sig, &siglen, msg, len) == 1 &&
	         siglen == ED_SIG_SIZE;
	EVP_MD_CTX_free(c);
	return ok ? 0 : PRB_EIO;
}

static int
ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
               const uint8_t *sig, size_t siglen)
{
	if (siglen != ED_SIG_SIZE)
		return 0;
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestVerify(c, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

int
prb_note_sign(const char *text, size_t len, prb_signer *const *signers,
              size_t nsigners, char **out, size_t *outlen, prb_err *err)
{
	if (!text_valid((const uint8_t *)text, len))
		return prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX,
		                   "note text must be UTF-8 ending in a newline, "
		                   "without control characters");
	if (nsigners == 0 || nsigners > PRB_NOTE_MAX_SIGS)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "need 1..%d signers", PRB_NOTE_MAX_SIGS);
	size_t cap = len + 1 + nsigners * (PRB_NAME_MAX + 128) + 1;
	char *buf = malloc(cap);
	if (!buf)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	memcpy(buf, text, len);
	size_t off = len;
	buf[off++] = '\n';
	for (size_t i = 0; i < nsigners; i++) {
		uint8_t raw[4 + ED_SIG_SIZE];
		char b64[128];
		store_be32(raw, signers[i]->id);
		if (ed25519_sign(signers[i]->pkey, (const uint8_t *)text, len,
		                 raw + 4)) {
			free(buf);
			return prb_err_set(err, PRB_EIO, NULL, UINT64_MAX,
			                   "Ed25519 signing failed");
		}
		prb_b64_encode(raw, sizeof raw, b64);
		off += (size_t)snprintf(buf + off, cap - off, EM_DASH " %s %s\n",
		                        signers[i]->name, b64);
	}
	*out = buf;
	*outlen = off;
	return 0;
}

int
prb_cosig_message(uint64_t timestamp, const char *body, size_t len,
                  uint8_t **out, size_t *outlen)
{
	char head[64];
	int h = snprintf(head, sizeof head, "cosignature/v1\ntime %llu\n",
	                 (unsigned long long)timestamp);
	uint8_t *m = malloc((size_t)h + len);
	if (!m)
		return PRB_ENOMEM;
	memcpy(m, head, (size_t)h);
	memcpy(m + h, body, len);
	*out = m;
	*outlen = (size_t)h + len;
	return 0;
}

/* Verifies one known signature. Returns 1 if valid. */
static int
sig_verifies(const prb_verifier *v, const uint8_t *text, size_t len,
             const uint8_t *sig, size_t siglen, uint64_t *timestamp)
{
	if (v->type == PRB_SIG_ED25519)
		return ed25519_verify(v->pub, text, len, sig, siglen);
	if (siglen != 8 + ED_SIG_SIZE)
		return 0;
	uint8_t *msg;
	size_t mlen;
	*timestamp = load_be64(sig);
	if (prb_cosig_message(*timestamp, (const char *)text, len, &msg, &mlen))
		return 0;
	int ok = ed25519_verify(v->pub, msg, mlen, sig + 8, ED_SIG_SIZE);
	free(msg);
	return ok;
}

/* Finds the verifier for (name, id): NULL if none; *ambiguous set when two
 * configured verifiers match (x/mod reports this only when such a
 * signature is present, and so does probity). */
static const prb_verifier *
find_verifier(const prb_verifier *vs, size_t nvs, const char *name,
              uint32_t id, int *ambiguous)
{
	const prb_verifier *found = NULL;
	*ambiguous = 0;
	for (size_t i = 0; i < nvs; i++)
		if (vs[i].id == id && strcmp(vs[i].name, name) == 0) {
			if (found)
				*ambiguous = 1;
			found = &vs[i];
		}
	return found;
}

/* Parses "— name base64" (no newline) into sig fields and raw bytes. */
static int
parse_sig_line(const uint8_t *line, size_t len, prb_note_sig *sig,
               uint8_t *raw, size_t *rawlen)
{
	const size_t dl = sizeof EM_DASH - 1;
	if (len < dl + 1 || memcmp(line, EM_DASH " ", dl + 1) != 0)
		return -1;
	const uint8_t *p = line + dl + 1, *end = line + len;
	const uint8_t *sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || !name_valid((const char *)p, (size_t)(sp - p)))
		return -1;
	size_t b64len = (size_t)(end - sp - 1);
	if (b64len == 0 || b64len > 4096 ||
	    prb_b64_decode((const char *)sp + 1, b64len, raw, rawlen) ||
	    *rawlen < 5)
		return -1;
	memset(sig, 0, sizeof *sig);
	memcpy(sig->name, p, (size_t)(sp - p));
	sig->id = load_be32(raw);
	return 0;
}

void
prb_note_free(prb_note *n)
{
	if (!n)
		return;
	free(n->text);
	for (size_t i = 0; n->sigs && i < n->nsigs; i++)
		free(n->sigs[i].line);
	free(n->sigs);
	free(n);
}

/* Locates the text/signature split (the last "\n\n"). */
static int
split_note(const uint8_t *msg, size_t len, size_t *text_len)
{
	if (len < 2 || msg[len - 1] != '\n')
		return -1;
	for (size_t i = len - 1; i > 0; i--)
		if (msg[i - 1] == '\n' && msg[i] == '\n') {
			*text_len = i; /* text includes the first '\n' */
			return 0;
		}
	return -1;
}

static int
malformed(prb_err *err, uint64_t off, const char *why)
{
	return prb_err_set(err, PRB_EMALFORMED, NULL, off, "malformed note: %s",
	                   why);
}

/* Gives sig its own copy of its line. */
static int
keep_line(prb_note_sig *sig, const uint8_t *line, size_t len)
{
	sig->line = malloc(len + 1);
	if (!sig->line)
		return PRB_ENOMEM;
	memcpy(sig->line, line, len);
	sig->line[len] = 0;
	sig->line_len = len;
	return 0;
}

/* Reads each signature line of the note into n (verified ones first). */
static int
open_sigs(prb_note *n, const uint8_t *msg, size_t len, size_t tlen,
          const prb_verifier *vs, size_t nvs, prb_err *err)
{
	size_t off = tlen + 1, nunv = 0, nlines = 0;
	prb_note_sig *unv = calloc(PRB_NOTE_MAX_SIGS, sizeof *unv);
	uint8_t *raw = malloc(4096);
	int rc = 0;
	if (!unv || !raw) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
		goto out;
	}
	while (off < len) {
		const uint8_t *nl = memchr(msg + off, '\n', len - off);
		size_t ll = (size_t)(nl - (msg + off)), rawlen;
		const uint8_t *lp = msg + off;
		prb_note_sig sig;
		if (++nlines > PRB_NOTE_MAX_SIGS) {
			rc = malformed(err, off, "too many signatures");
			goto out;
		}
		if (parse_sig_line(msg + off, ll, &sig, raw, &rawlen)) {
			rc = malformed(err, off, "bad signature line");
			goto out;
		}
		int amb;
		const prb_verifier *v = find_verifier(vs, nvs, sig.name, sig.id,
		                                      &amb);
		off += ll + 1;
		if (amb) {
			rc = prb_err_set(err, PRB_EAMBIGUOUS, NULL, UINT64_MAX,
			                 "two verifier keys named %s with ID %08x",
			                 sig.name, sig.id);
			goto out;
		}
		if (!v) {
			int dup = 0;
			for (size_t i = 0; i < nunv; i++)
				dup |= unv[i].line_len == ll &&
				       memcmp(unv[i].line, lp, ll) == 0;
			if (dup)
				continue;
			if (keep_line(&sig, lp, ll)) {
				rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
				                 "out of memory");
				goto out;
			}
			unv[nunv++] = sig;
			continue;
		}
		int seen = 0;
		for (size_t i = 0; i < n->nsigs; i++)
			seen |= n->sigs[i].verifier == v;
		if (seen)
			continue; /* x/mod drops repeats by one key unverified */
		if (!sig_verifies(v, msg, tlen, raw + 4, rawlen - 4,
		                  &sig.timestamp)) {
			rc = prb_err_set(err, PRB_EBADSIG, NULL, UINT64_MAX,
			                 "invalid signature by key %s+%08x",
			                 sig.name, sig.id);
			goto out;
		}
		sig.verifier = v;
		if (keep_line(&sig, lp, ll)) {
			rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                 "out of memory");
			goto out;
		}
		n->sigs[n->nsigs++] = sig;
	}
	n->nverified = n->nsigs;
	memcpy(n->sigs + n->nsigs, unv, nunv * sizeof *unv);
	n->nsigs += nunv;
	nunv = 0; /* their lines now belong to n */
	if (n->nverified == 0)
		rc = prb_err_set(err, PRB_ENOSIG, NULL, UINT64_MAX,
		                 "no signature from a known key");
out:
	for (size_t i = 0; unv && i < nunv; i++)
		free(unv[i].line);
	free(unv);
	free(raw);
	return rc;
}

int
prb_note_open(const uint8_t *msg, size_t len, const prb_verifier *vs,
              size_t nvs, prb_note **out, prb_err *err)
{
	size_t tlen = 0;
	int rc;
	if (len > (1u << 20))
		return malformed(err, 0, "note larger than 1 MiB");
	if (!prb_utf8_valid(msg, len))
		return malformed(err, 0, "not UTF-8");
	for (size_t i = 0; i < len; i++)
		if (msg[i] < 0x20 && msg[i] != '\n')
			return malformed(err, i, "control character");
	if (split_note(msg, len, &tlen) || tlen + 1 >= len)
		return malformed(err, len, "no blank line before signatures");
	prb_note *n = calloc(1, sizeof *n);
	if (!n || !(n->sigs = calloc(PRB_NOTE_MAX_SIGS, sizeof *n->sigs)) ||
	    !(n->text = malloc(tlen + 1))) {
		prb_note_free(n);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	}
	memcpy(n->text, msg, tlen);
	n->text[tlen] = 0;
	n->text_len = tlen;
	rc = open_sigs(n, msg, len, tlen, vs, nvs, err);
	if (rc) {
		prb_note_free(n);
		return rc;
	}
	*out = n;
	return 0;
}
