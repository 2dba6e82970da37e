/*
 * c2sp.org/signed-note: keys, signing, opening. Ed25519 via OpenSSL.
 * Opening follows golang.org/x/mod/sumdb/note.Open rule for rule, so a note
 * one accepts the other accepts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "probity/note.h"
#include "probity/sha256.h"
#include "base/util.h"

#define SEED_SIZE 32
#define ED_SIG_SIZE 64
#define EM_DASH "\xe2\x80\x94" /* U+2014 */

struct prb_signer {
	char name[PRB_NAME_MAX + 1];
	uint32_t id;
	uint8_t seed[SEED_SIZE];
	uint8_t pub[32];
	uint8_t type; /* PRB_SIG_ED25519, or PRB_SIG_COSIGV1 in a cosigner */
	EVP_PKEY *pkey;
};

/* A cosigner is a signer of another type: a distinct struct, so that the
 * compiler keeps cosigner keys out of prb_note_sign. */
struct prb_cosigner {
	prb_signer s;
};

/* Key names: non-empty, valid UTF-8, no Unicode space, no '+'. */
static int
name_chars_valid(const char *s, size_t len)
{
	if (len == 0 || !prb_utf8_valid((const uint8_t *)s, len))
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

/* ... and, for keys probity holds, at most PRB_NAME_MAX bytes. */
static int
name_valid(const char *s, size_t len)
{
	return len <= PRB_NAME_MAX && name_chars_valid(s, len);
}

/* The key ID: the first 4 bytes of SHA-256(name || "\n" || type || pub). */
static uint32_t
key_id(const char *name, uint8_t type, const uint8_t pub[32])
{
	uint8_t md[PRB_SHA256_SIZE], tail[2 + 32] = {'\n', type};
	memcpy(tail + 2, pub, 32);
	prb_sha256_2(name, strlen(name), tail, sizeof tail, md);
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
signer_init(prb_signer *s, uint8_t type, const uint8_t seed[SEED_SIZE])
{
	size_t publen = sizeof s->pub;
	s->type = type;
	memcpy(s->seed, seed, SEED_SIZE);
	s->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	                                       SEED_SIZE);
	if (!s->pkey || !EVP_PKEY_get_raw_public_key(s->pkey, s->pub, &publen) ||
	    publen != 32)
		return PRB_EKEY;
	s->id = key_id(s->name, type, s->pub);
	return 0;
}

/* Parses PRIVATE+KEY+name+id+base64(type || seed) of the given type into
 * *s (caller-allocated, zeroed). */
static int
parse_skey(const char *skey, size_t len, uint8_t type, prb_signer *s,
           prb_err *err)
{
	const char *p1, *p2, *name, *hex;
	size_t l1, l2, ln, lh;
	uint8_t key[64];
	size_t klen = 0;
	uint32_t id;
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
	if (ln > PRB_NAME_MAX) {
		prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		            "signer key name of %zu bytes: probity takes names "
		            "of at most %d bytes", ln, PRB_NAME_MAX);
		goto fail;
	}
	if (!name_valid(name, ln) || parse_hex32(hex, lh, &id) ||
	    len > 4 * sizeof key / 3 ||
	    prb_b64_decode(skey, len, key, &klen) || klen != 1 + SEED_SIZE) {
		prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		            "malformed signer key: bad name, key ID or "
		            "Ed25519 seed");
		goto fail;
	}
	if (key[0] != type) {
		if (type == PRB_SIG_ED25519 && key[0] == PRB_SIG_COSIGV1)
			prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
			            "a cosigner key (type 0x04) where a log signer "
			            "key (type 0x01) is needed");
		else
			prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
			            "signer key of type 0x%02x: need 0x%02x (%s)",
			            key[0], type,
			            type == PRB_SIG_ED25519 ? "Ed25519"
			                                    : "cosignature/v1");
		goto fail;
	}
	memcpy(s->name, name, ln);
	if (signer_init(s, type, key + 1) || s->id != id) {
		prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		            "signer key ID %08x does not match its key (%08x)", id,
		            s->id);
		goto fail;
	}
	rc = 0;
fail:
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

int
prb_signer_parse(const char *skey, size_t len, prb_signer **out,
                 prb_err *err)
{
	prb_signer *s = calloc(1, sizeof *s);
	if (!s)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	int rc = parse_skey(skey, len, PRB_SIG_ED25519, s, err);
	if (rc) {
		prb_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Fills the zeroed *s with a new random key of the given type. */
static int
generate_key(const char *name, uint8_t type, prb_signer *s, prb_err *err)
{
	uint8_t seed[SEED_SIZE];
	size_t len = strlen(name);
	if (len > PRB_NAME_MAX)
		return prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		                   "key name of %zu bytes: probity takes names "
		                   "of at most %d bytes", len, PRB_NAME_MAX);
	if (!name_valid(name, len))
		return prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		                   "invalid key name \"%s\": it must be non-empty "
		                   "UTF-8 without spaces or '+'", name);
	memcpy(s->name, name, len);
	int ok = RAND_priv_bytes(seed, sizeof seed) == 1 &&
	         signer_init(s, type, seed) == 0;
	OPENSSL_cleanse(seed, sizeof seed);
	return ok ? 0 : prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
	                            "key generation failed");
}

int
prb_signer_generate(const char *name, prb_signer **out, prb_err *err)
{
	prb_signer *s = calloc(1, sizeof *s);
	if (!s)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	int rc = generate_key(name, PRB_SIG_ED25519, s, err);
	if (rc) {
		prb_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* A secret key file readable or writable by group or others is refused,
 * as ssh refuses one: checked after parsing, so a malformed file is told
 * so first. */
static int
check_key_mode(const char *path, prb_err *err)
{
	struct stat st;
	if ((strcmp(path, "-") == 0 ? fstat(STDIN_FILENO, &st)
	                            : stat(path, &st)) != 0)
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX, "%s",
		                   strerror(errno));
	if ((st.st_mode & 077) == 0)
		return 0;
	return prb_err_set(err, PRB_EKEY, path, UINT64_MAX,
	                   "permissions %04o are too open: a secret key file "
	                   "must not be accessible by group or others (run "
	                   "chmod 600 %s)",
	                   (unsigned)(st.st_mode & 07777), path);
}

/* Reads a key file (at most 4 KiB, wiped after parsing) into *s. */
static int
load_key(const char *path, uint8_t type, prb_signer *s, prb_err *err)
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
	rc = parse_skey((const char *)data, len, type, s, err);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "%s", path);
	if (rc == 0)
		rc = check_key_mode(path, err);
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

int
prb_signer_load(const char *path, prb_signer **out, prb_err *err)
{
	prb_signer *s = calloc(1, sizeof *s);
	if (!s)
		return prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
		                   "out of memory");
	int rc = load_key(path, PRB_SIG_ED25519, s, err);
	if (rc) {
		prb_signer_free(s);
		return rc;
	}
	*out = s;
	return 0;
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
	return format_key(buf, cap, "PRIVATE+KEY+", s->name, s->id, s->type,
	                  s->seed, SEED_SIZE);
}

void
prb_signer_verifier(const prb_signer *s, prb_verifier *out)
{
	memset(out, 0, sizeof *out);
	memcpy(out->name, s->name, sizeof out->name);
	out->id = s->id;
	out->type = s->type;
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
	if (key_id(out->name, out->type, out->pub) != out->id)
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
              size_t name_len, uint32_t id, int *ambiguous)
{
	const prb_verifier *found = NULL;
	*ambiguous = 0;
	for (size_t i = 0; i < nvs; i++)
		if (vs[i].id == id && strlen(vs[i].name) == name_len &&
		    memcmp(vs[i].name, name, name_len) == 0) {
			if (found)
				*ambiguous = 1;
			found = &vs[i];
		}
	return found;
}

/* One signature line, "— name base64", as read. */
typedef struct {
	const uint8_t *line; /* the line, without its '\n' */
	size_t len;
	const char *name;
	size_t name_len;
	uint32_t id;
	uint8_t *raw; /* decoded signature (malloc'd): key ID || bytes */
	size_t rawlen;
} sig_line;

/* Parses a signature line; 0 or -1 if malformed. s->raw is malloc'd. */
static int
parse_sig_line(const uint8_t *line, size_t len, sig_line *s)
{
	const size_t dl = sizeof EM_DASH - 1;
	memset(s, 0, sizeof *s);
	if (len < dl + 1 || memcmp(line, EM_DASH " ", dl + 1) != 0)
		return -1;
	const uint8_t *p = line + dl + 1, *end = line + len;
	const uint8_t *sp = memchr(p, ' ', (size_t)(end - p));
	size_t b64len = sp ? (size_t)(end - sp - 1) : 0;
	/* x/mod sets no limit on an unknown signer's name length */
	if (!sp || sp == p ||
	    !name_chars_valid((const char *)p, (size_t)(sp - p)) ||
	    b64len == 0 || !(s->raw = malloc(b64len / 4 * 3 + 3)))
		return -1;
	if (prb_b64_decode((const char *)sp + 1, b64len, s->raw, &s->rawlen) ||
	    s->rawlen < 5) {
		free(s->raw);
		s->raw = NULL;
		return -1;
	}
	s->line = line;
	s->len = len;
	s->name = (const char *)p;
	s->name_len = (size_t)(sp - p);
	s->id = load_be32(s->raw);
	return 0;
}

static char *
dup_bytes(const void *p, size_t n)
{
	char *c = malloc(n + 1);
	if (c) {
		memcpy(c, p, n);
		c[n] = 0;
	}
	return c;
}

/* Appends a signature to list (which has room). */
static int
keep_sig(prb_note_sig *list, size_t *n, const sig_line *s,
         const prb_verifier *v, uint64_t timestamp)
{
	prb_note_sig *o = &list[*n];
	memset(o, 0, sizeof *o);
	o->name = dup_bytes(s->name, s->name_len);
	o->line = dup_bytes(s->line, s->len);
	if (!o->name || !o->line) {
		free(o->name);
		free(o->line);
		return PRB_ENOMEM;
	}
	o->line_len = s->len;
	o->id = s->id;
	o->verifier = v;
	o->timestamp = timestamp;
	(*n)++;
	return 0;
}

static void
free_sigs(prb_note_sig *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].name);
		free(list[i].line);
	}
}

void
prb_note_free(prb_note *n)
{
	if (!n)
		return;
	free(n->text);
	free_sigs(n->sigs, n->nsigs);
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

/* "malformed note: WHY at byte OFF" (the offset is also err->offset;
 * UINT64_MAX: none). */
static int
malformed(prb_err *err, uint64_t off, const char *why)
{
	if (off == UINT64_MAX)
		return prb_err_set(err, PRB_EMALFORMED, NULL, off,
		                   "malformed note: %s", why);
	return prb_err_set(err, PRB_EMALFORMED, NULL, off,
	                   "malformed note: %s at byte %llu", why,
	                   (unsigned long long)off);
}

/* State while reading a note's signature block. */
typedef struct {
	const uint8_t *text;
	size_t tlen;
	const prb_verifier *vs;
	size_t nvs;
	prb_note_sig *ver, *unv; /* verified, unverified */
	size_t nver, nunv;
} sig_block;

/* Takes one signature line into b, as x/mod's note.Open does. */
static int
take_sig(sig_block *b, const sig_line *s, prb_err *err)
{
	int amb;
	const prb_verifier *v = find_verifier(b->vs, b->nvs, s->name,
	                                      s->name_len, s->id, &amb);
	if (amb)
		return prb_err_set(err, PRB_EAMBIGUOUS, NULL, UINT64_MAX,
		                   "two verifier keys named %.*s with ID %08x",
		                   (int)s->name_len, s->name, s->id);
	if (!v) { /* unknown key: keep once, unverified */
		for (size_t i = 0; i < b->nunv; i++)
			if (b->unv[i].line_len == s->len &&
			    memcmp(b->unv[i].line, s->line, s->len) == 0)
				return 0;
		return keep_sig(b->unv, &b->nunv, s, NULL, 0);
	}
	for (size_t i = 0; i < b->nver; i++)
		if (b->ver[i].verifier == v)
			return 0; /* a repeat by a known key is dropped unread */
	uint64_t ts = 0;
	if (!sig_verifies(v, b->text, b->tlen, s->raw + 4, s->rawlen - 4, &ts))
		return prb_err_set(err, PRB_EBADSIG, NULL, UINT64_MAX,
		                   "invalid signature by key %s+%08x", v->name,
		                   v->id);
	return keep_sig(b->ver, &b->nver, s, v, ts);
}

/* Reads the signature block msg[tlen + 1 .. len) into n. */
static int
read_sigs(prb_note *n, const uint8_t *msg, size_t len, size_t tlen,
          const prb_verifier *vs, size_t nvs, prb_err *err)
{
	sig_block b = {msg, tlen, vs, nvs, NULL, NULL, 0, 0};
	size_t off = tlen + 1, lines = 0;
	int rc = 0;
	b.ver = calloc(PRB_NOTE_MAX_SIGS, sizeof *b.ver);
	b.unv = calloc(PRB_NOTE_MAX_SIGS, sizeof *b.unv);
	if (!b.ver || !b.unv)
		rc = PRB_ENOMEM;
	while (rc == 0 && off < len) {
		const uint8_t *nl = memchr(msg + off, '\n', len - off);
		size_t ll = (size_t)(nl - (msg + off));
		sig_line s;
		if (++lines > PRB_NOTE_MAX_SIGS) {
			rc = malformed(err, off, "too many signatures");
			break;
		}
		if (parse_sig_line(msg + off, ll, &s)) {
			rc = malformed(err, off, "bad signature line");
			break;
		}
		rc = take_sig(&b, &s, err);
		free(s.raw);
		off += ll + 1;
	}
	if (rc == 0) { /* verified first, then unverified */
		memcpy(b.ver + b.nver, b.unv, b.nunv * sizeof *b.unv);
		n->sigs = b.ver;
		n->nverified = b.nver;
		n->nsigs = b.nver + b.nunv;
		free(b.unv);
		return 0;
	}
	if (rc == PRB_ENOMEM)
		prb_err_set(err, rc, NULL, UINT64_MAX, "out of memory");
	free_sigs(b.ver, b.nver);
	free_sigs(b.unv, b.nunv);
	free(b.ver);
	free(b.unv);
	return rc;
}

/* Opens a note; with require_verified, at least one known signature must
 * verify. */
static int
open_note(const uint8_t *msg, size_t len, const prb_verifier *vs, size_t nvs,
          int require_verified, prb_note **out, prb_err *err)
{
	size_t tlen = 0;
	if (len > PRB_NOTE_MAX_SIZE)
		return malformed(err, UINT64_MAX, "note larger than 1 MiB");
	size_t bad = prb_utf8_bad_at(msg, len);
	if (bad < len)
		return malformed(err, bad, "not UTF-8");
	for (size_t i = 0; i < len; i++)
		if (msg[i] < 0x20 && msg[i] != '\n')
			return malformed(err, i, msg[i] == '\r'
			                                 ? "carriage return (CRLF line ends?)"
			                                 : "control character");
	if (len == 0 || msg[len - 1] != '\n')
		return malformed(err, len, "no newline at the end");
	if (split_note(msg, len, &tlen) || tlen + 1 >= len)
		return malformed(err, len, "no blank line before signatures");
	prb_note *n = calloc(1, sizeof *n);
	if (!n || !(n->text = dup_bytes(msg, tlen))) {
		prb_note_free(n);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	}
	n->text_len = tlen;
	int rc = read_sigs(n, msg, len, tlen, vs, nvs, err);
	if (rc == 0 && require_verified && n->nverified == 0)
		rc = prb_err_set(err, PRB_ENOSIG, NULL, UINT64_MAX,
		                 "no signature from a known key");
	if (rc) {
		prb_note_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

int
prb_note_open(const uint8_t *msg, size_t len, const prb_verifier *vs,
              size_t nvs, prb_note **out, prb_err *err)
{
	return open_note(msg, len, vs, nvs, 1, out, err);
}

int
prb_note_parse(const uint8_t *msg, size_t len, prb_note **out, prb_err *err)
{
	return open_note(msg, len, NULL, 0, 0, out, err);
}

/* ---- cosigners (c2sp.org/tlog-cosignature, type 0x04) ------------------ */

/* A cosigner from parse (path == NULL: skey is the key) or load. */
static int
cosigner_new(const char *name, const char *skey, size_t len,
             const char *path, prb_cosigner **out, prb_err *err)
{
	prb_cosigner *c = calloc(1, sizeof *c);
	int rc;
	if (!c)
		return prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
		                   "out of memory");
	if (name)
		rc = generate_key(name, PRB_SIG_COSIGV1, &c->s, err);
	else if (path)
		rc = load_key(path, PRB_SIG_COSIGV1, &c->s, err);
	else
		rc = parse_skey(skey, len, PRB_SIG_COSIGV1, &c->s, err);
	if (rc) {
		prb_cosigner_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
prb_cosigner_generate(const char *name, prb_cosigner **out, prb_err *err)
{
	return cosigner_new(name, NULL, 0, NULL, out, err);
}

int
prb_cosigner_parse(const char *skey, size_t len, prb_cosigner **out,
                   prb_err *err)
{
	return cosigner_new(NULL, skey, len, NULL, out, err);
}

int
prb_cosigner_load(const char *path, prb_cosigner **out, prb_err *err)
{
	return cosigner_new(NULL, NULL, 0, path, out, err);
}

void
prb_cosigner_free(prb_cosigner *c)
{
	if (!c)
		return;
	EVP_PKEY_free(c->s.pkey);
	OPENSSL_cleanse(c, sizeof *c);
	free(c);
}

const char *
prb_cosigner_name(const prb_cosigner *c)
{
	return c->s.name;
}

int
prb_cosigner_skey(const prb_cosigner *c, char *buf, size_t cap)
{
	return prb_signer_skey(&c->s, buf, cap);
}

int
prb_cosigner_vkey(const prb_cosigner *c, char *buf, size_t cap)
{
	return prb_signer_vkey(&c->s, buf, cap);
}

void
prb_cosigner_verifier(const prb_cosigner *c, prb_verifier *out)
{
	prb_signer_verifier(&c->s, out);
}

int
prb_cosigner_sign(const prb_cosigner *c, uint64_t timestamp,
                  const char *text, size_t len, char *line, size_t cap,
                  prb_err *err)
{
	uint8_t raw[4 + 8 + ED_SIG_SIZE], *msg = NULL;
	char b64[128];
	size_t mlen;
	if (!text_valid((const uint8_t *)text, len))
		return prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX,
		                   "note text must be UTF-8 ending in a newline, "
		                   "without control characters");
	if (timestamp == 0 || timestamp > (uint64_t)INT64_MAX)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "cosignature timestamp must be 1..2^63-1");
	if (prb_cosig_message(timestamp, text, len, &msg, &mlen))
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	store_be32(raw, c->s.id);
	store_be64(raw + 4, timestamp);
	int rc = ed25519_sign(c->s.pkey, msg, mlen, raw + 12);
	free(msg);
	if (rc)
		return prb_err_set(err, PRB_EIO, NULL, UINT64_MAX,
		                   "Ed25519 signing failed");
	prb_b64_encode(raw, sizeof raw, b64);
	int w = snprintf(line, cap, EM_DASH " %s %s", c->s.name, b64);
	if (w < 0 || (size_t)w >= cap)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "cosignature line longer than %zu bytes", cap);
	return 0;
}

size_t
prb_note_first_sig_end(const char *note, size_t len)
{
	const char *blank = NULL;
	for (size_t i = 1; i < len; i++)
		if (note[i] == '\n' && note[i - 1] == '\n') {
			blank = note + i;
			break;
		}
	if (!blank)
		return 0;
	const char *nl = memchr(blank + 1, '\n',
	                        (size_t)(note + len - blank - 1));
	return nl ? (size_t)(nl + 1 - note) : 0;
}
