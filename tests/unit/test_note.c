/*
 * c2sp.org/signed-note keys, signing and opening, and tlog-cosignature
 * cosignature/v1 messages (include/probity/note.h), checked against:
 *   - known answers from golang.org/x/mod sumdb/note (note_test.go,
 *     example_test.go), C2SP tlog-cosignature.md and sunlight's testdata,
 *     written in below (always run);
 *   - $PRB_SHARED/vectors/note.json when present.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "probity/error.h"
#include "probity/note.h"
#include "t.h"
#include "vec.h"

#define EMDASH "\xe2\x80\x94" /* U+2014, which starts a signature line */

/* golang.org/x/mod sumdb/note note_test.go (TestNewVerifier, TestSign,
 * TestOpen) and example_test.go (ExampleSign_add_signatures). */
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_SKEY \
	"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
/* EnochRoot's seed is 32 zero bytes (example_test.go signs with an all-zero
 * rand.Reader; note.json "keys" derives this key string from it). */
#define ENOCH_SKEY \
	"PRIVATE+KEY+EnochRoot+af0cfe78+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define PETER_TEXT \
	"If you think cryptography is the answer to your problem,\n" \
	"then you don't know what your problem is.\n"
#define PETER_SIG \
	EMDASH " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIu" \
	"GUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define ENOCH_SIG \
	EMDASH " EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOH" \
	"p+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
#define PETER_NOTE PETER_TEXT "\n" PETER_SIG
/* TestOpen "Invalid signature": "ABCD" inserted into PeterNeumann's. */
#define PETER_BADSIG \
	EMDASH " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZIABCDnNIu" \
	"GUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

/* FiloSottile/sunlight cmd/skylight/testdata/witness: a checkpoint with an
 * RFC 6962 (type 0x05) log signature and a cosignature/v1 from
 * witness.example.org at time 1767139200 (witness.v0.json has the key). */
#define WITNESS_VKEY \
	"witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN"
#define SUNLIGHT_TEXT \
	"rome2026h1.example.org\n300\nlCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=\n"
#define SUNLIGHT_NOTE \
	SUNLIGHT_TEXT "\n" EMDASH " rome2026h1.example.org kVB1JgAAAZtxtEwABAMARzBF" \
	"AiEAi+mTa2xjL1IdWpH82OeciGsGvwRAP+f1WkfKaSZCfFECIHoNPZ/Q3y6UNzvKOO9cu" \
	"Lr6V16vPNfhwhle9f6r5H/Z\n" EMDASH " witness.example.org uKLPIAAAAABpVGe" \
	"Ahm2bOvKc3LaB9PFN1ruG19Y5yqslmcAAbhftnn1Zznmo0LXFZq4LGvqKqLX8jWlwLKasx" \
	"EGTLIqAVusneCBmBw==\n"

static int
open_str(const char *msg, const prb_verifier *vs, size_t nvs, prb_note **out)
{
	*out = NULL;
	return prb_note_open((const uint8_t *)msg, strlen(msg), vs, nvs, out,
	                     NULL);
}

/* Opens and frees; returns the code. */
static int
open_rc(const char *msg, const prb_verifier *vs, size_t nvs)
{
	prb_note *n = NULL;
	int rc = open_str(msg, vs, nvs, &n);
	if (n)
		prb_note_free(n);
	return rc;
}

static int
parse_v(const char *vkey, prb_verifier *v)
{
	return prb_verifier_parse(vkey, strlen(vkey), v, NULL);
}

static int
parse_s(const char *skey, prb_signer **s)
{
	*s = NULL;
	return prb_signer_parse(skey, strlen(skey), s, NULL);
}

static bool
verifiers_equal(const prb_verifier *a, const prb_verifier *b)
{
	return !strcmp(a->name, b->name) && a->id == b->id &&
	       a->type == b->type && !memcmp(a->pub, b->pub, sizeof a->pub);
}

/* ------------------------------------------------------------------ */
/* Known answers, always run.                                          */

static void
kat_keys(void)
{
	prb_verifier v, v2;
	prb_signer *s = NULL;
	char buf[PRB_KEY_MAX];
	uint8_t raw[33];
	size_t len = 0;

	int rc = parse_v(PETER_VKEY, &v);
	vec_b64("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", raw, sizeof raw,
	        &len);
	CHECK(rc == 0 && !strcmp(v.name, "PeterNeumann") && v.id == 0xc74f20a3 &&
	              v.type == PRB_SIG_ED25519 && !memcmp(v.pub, raw + 1, 32),
	      "parse PeterNeumann vkey (rc %d)", rc);
	rc = prb_verifier_format(&v, buf, sizeof buf);
	CHECK(rc == 0 && !strcmp(buf, PETER_VKEY), "format vkey: %s", buf);
	rc = prb_verifier_parse(" \t" PETER_VKEY "\n", strlen(PETER_VKEY) + 3,
	                        &v2, NULL);
	CHECK(rc == 0 && verifiers_equal(&v, &v2), "vkey in whitespace (rc %d)",
	      rc);

	rc = parse_s(PETER_SKEY, &s);
	CHECK(rc == 0 && s && !strcmp(prb_signer_name(s), "PeterNeumann"),
	      "parse PeterNeumann skey (rc %d)", rc);
	if (s) {
		CHECK(prb_signer_vkey(s, buf, sizeof buf) == 0 &&
		              !strcmp(buf, PETER_VKEY),
		      "signer vkey: %s", buf);
		CHECK(prb_signer_skey(s, buf, sizeof buf) == 0 &&
		              !strcmp(buf, PETER_SKEY),
		      "signer skey round trip");
		CHECK(prb_signer_vkey(s, buf, 10) == PRB_EINVAL, "short buffer");
		prb_signer_verifier(s, &v2);
		CHECK(verifiers_equal(&v, &v2), "signer's verifier");
	}
	prb_signer_free(s);
	prb_signer_free(NULL);
}

static void
kat_bad_keys(void)
{
	prb_verifier v2;
	prb_signer *s = NULL;
	int rc;

	/* c2sp.org/signed-note: the key ID is 8 lowercase hex digits; x/mod
	 * accepts upper case, probity does not (note.h). */
	rc = parse_v("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	             &v2);
	CHECK(rc == PRB_EKEY, "uppercase key ID rejected (rc %d)", rc);
	rc = parse_v("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	             &v2);
	CHECK(rc == PRB_EKEY, "7-digit key ID rejected (rc %d)", rc);
	/* golang.org/x/mod sumdb/client_test.go: a key ID with leading zeros,
	 * then the same ID without them. */
	rc = parse_v("localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/"
	             "DSQniBqIeQ/YppAUtK6", &v2);
	CHECK(rc == 0 && v2.id == 0xc67, "key ID 00000c67 (rc %d)", rc);
	rc = parse_v("localhost.localdev/sumdb+c67+AcTrnkbUA+TU4heY3hkjiSES/"
	             "DSQniBqIeQ/YppAUtK6", &v2);
	CHECK(rc == PRB_EKEY, "key ID c67 rejected (rc %d)", rc);
	rc = parse_v("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW+",
	             &v2);
	CHECK(rc == PRB_EKEY, "trailing '+' rejected (rc %d)", rc);
	rc = parse_s(PETER_VKEY, &s);
	CHECK(rc == PRB_EKEY && !s, "vkey is not an skey (rc %d)", rc);
	rc = parse_v(PETER_SKEY, &v2);
	CHECK(rc == PRB_EKEY, "skey is not a vkey (rc %d)", rc);
}

static void
kat_sign(void)
{
	prb_signer *ss[2] = {NULL, NULL};
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (parse_s(PETER_SKEY, &ss[0]) || parse_s(ENOCH_SKEY, &ss[1])) {
		CHECK(0, "cannot parse the x/mod signer keys");
		goto done;
	}
	/* Ed25519 is deterministic: the note is byte-exact (TestSign). */
	rc = prb_note_sign(PETER_TEXT, strlen(PETER_TEXT), ss, 1, &out, &len,
	                   NULL);
	CHECK(rc == 0 && out && len == strlen(PETER_NOTE) &&
	              !strcmp(out, PETER_NOTE),
	      "sign PeterNeumann (rc %d): %s", rc, out ? out : "");
	free(out);
	out = NULL;
	rc = prb_note_sign(PETER_TEXT, strlen(PETER_TEXT), ss, 2, &out, &len,
	                   NULL);
	CHECK(rc == 0 && out && !strcmp(out, PETER_NOTE ENOCH_SIG),
	      "sign PeterNeumann, EnochRoot (rc %d)", rc);
	free(out);
	out = NULL;

	static const char *const bad[] = {
		"no final newline", "", "control\x01 char\n", "carriage\r\n",
		"bad utf-8 \xff\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = prb_note_sign(bad[i], strlen(bad[i]), ss, 1, &out, &len, NULL);
		CHECK(rc < 0, "signing invalid text %zu (rc %d)", i, rc);
		if (rc == 0)
			free(out);
		out = NULL;
	}
done:
	prb_signer_free(ss[0]);
	prb_signer_free(ss[1]);
}

static void
check_peter_sig(const prb_note_sig *s, const prb_verifier *v)
{
	CHECK(!strcmp(s->name, "PeterNeumann") && s->id == 0xc74f20a3 &&
	              s->verifier == v,
	      "PeterNeumann signature: %s %08x", s->name, (unsigned)s->id);
	CHECK(strlen(PETER_SIG) == strlen(s->line) + 1 &&
	              !strncmp(s->line, PETER_SIG, strlen(s->line)),
	      "signature line: %s", s->line);
}

/* note.h, as x/mod's note.Open: later signatures by the same known key
 * are dropped unread, repeated identical unknown ones too. */
static void
kat_open_repeats(const prb_verifier *vs)
{
	prb_note *n = NULL;
	int rc = open_str(PETER_NOTE PETER_SIG, vs, 1, &n);

	CHECK(rc == 0 && n && n->nverified == 1 && n->nsigs == 1,
	      "PeterNeumann signs twice: the repeat is dropped (rc %d)", rc);
	if (n)
		prb_note_free(n);
	rc = open_str(PETER_NOTE PETER_BADSIG, vs, 1, &n);
	CHECK(rc == 0 && n && n->nverified == 1 && n->nsigs == 1,
	      "a later bad signature by the same key is not read (rc %d)", rc);
	if (n)
		prb_note_free(n);
	rc = open_str(PETER_TEXT "\n" PETER_BADSIG PETER_SIG, vs, 1, &n);
	CHECK(rc == PRB_EBADSIG, "the first signature by a key is read (rc %d)",
	      rc);
	if (n)
		prb_note_free(n);
	rc = open_str(PETER_NOTE ENOCH_SIG ENOCH_SIG, vs, 1, &n);
	CHECK(rc == 0 && n && n->nverified == 1 && n->nsigs == 2,
	      "a repeated unknown signature is kept once (rc %d)", rc);
	if (n)
		prb_note_free(n);
	/* malformed notes: the error says what and at which byte */
	static const char good[] = PETER_NOTE;
	char buf[sizeof good + 8];
	prb_err err;
	size_t gl = strlen(good);
	memcpy(buf, good, gl - 1); /* no final newline */
	prb_err_clear(&err);
	n = NULL;
	rc = prb_note_open((const uint8_t *)buf, gl - 1, vs, 1, &n, &err);
	CHECK(rc == PRB_EMALFORMED && err.offset == gl - 1 &&
	              strstr(err.msg, "no newline at the end"),
	      "a note without its final newline: %s", err.msg);
	memcpy(buf, good, gl);
	buf[4] = '\r';
	prb_err_clear(&err);
	rc = prb_note_open((const uint8_t *)buf, gl, vs, 1, &n, &err);
	CHECK(rc == PRB_EMALFORMED && err.offset == 4 &&
	              strstr(err.msg, "carriage return") &&
	              strstr(err.msg, "at byte 4"),
	      "a carriage return is named with its byte: %s", err.msg);
	memcpy(buf, good, gl);
	memcpy(buf + gl, "junk\n", 6);
	prb_err_clear(&err);
	rc = prb_note_open((const uint8_t *)buf, gl + 5, vs, 1, &n, &err);
	CHECK(rc == PRB_EMALFORMED && err.offset == gl &&
	              strstr(err.msg, "bad signature line"),
	      "a trailing non-signature line is named with its byte: %s",
	      err.msg);
}

static void
kat_open(void)
{
	prb_verifier vs[3];
	prb_note *n = NULL;
	int rc;

	if (parse_v(PETER_VKEY, &vs[0]) || parse_v(ENOCH_VKEY, &vs[1])) {
		CHECK(0, "cannot parse the x/mod verifier keys");
		return;
	}
	vs[2] = vs[1];
	rc = open_str(PETER_NOTE, vs, 1, &n);
	CHECK(rc == 0 && n && n->nverified == 1 && n->nsigs == 1 &&
	              n->text_len == strlen(PETER_TEXT) &&
	              !strcmp(n->text, PETER_TEXT),
	      "open PeterNeumann note (rc %d)", rc);
	if (rc == 0 && n && n->nsigs == 1)
		check_peter_sig(&n->sigs[0], &vs[0]);
	if (n)
		prb_note_free(n);

	rc = open_str(PETER_NOTE ENOCH_SIG, vs + 1, 1, &n);
	CHECK(rc == 0 && n && n->nverified == 1 && n->nsigs == 2 &&
	              !strcmp(n->sigs[0].name, "EnochRoot") &&
	              n->sigs[0].verifier == &vs[1] &&
	              !strcmp(n->sigs[1].name, "PeterNeumann") &&
	              !n->sigs[1].verifier,
	      "open with EnochRoot only: Peter unverified (rc %d)", rc);
	if (n)
		prb_note_free(n);

	CHECK(open_rc(PETER_NOTE ENOCH_SIG, vs, 2) == 0, "both known");
	CHECK(open_rc(PETER_NOTE, vs + 1, 1) == PRB_ENOSIG, "unknown key");
	CHECK(open_rc(PETER_NOTE, vs, 0) == PRB_ENOSIG, "no verifiers");
	CHECK(open_rc(ENOCH_SIG, vs, 1) == PRB_EMALFORMED, "no text");
	CHECK(open_rc(PETER_NOTE ENOCH_SIG, vs, 3) == PRB_EAMBIGUOUS,
	      "EnochRoot configured twice");
	kat_open_repeats(vs);

	char tampered[] = PETER_NOTE;
	tampered[strlen("If you think cryptography is the answer to your problem")] =
	        '.';
	CHECK(open_rc(tampered, vs, 1) == PRB_EBADSIG, "tampered text");
}

/* A note of PeterNeumann's signature plus `extra` unknown ones. */
static char *
many_sigs(int extra)
{
	size_t cap = strlen(PETER_NOTE) + (size_t)extra * 140 + 1;
	char *m = malloc(cap);
	size_t off;

	if (!m)
		return NULL;
	off = (size_t)snprintf(m, cap, "%s", PETER_NOTE);
	for (int i = 0; i < extra; i++) /* distinct names: no duplicate lines */
		off += (size_t)snprintf(m + off, cap - off,
		                        EMDASH " unknown%d.example AAAAAQAAAAAA\n", i);
	return m;
}

static void
kat_limits(void)
{
	prb_verifier v;
	prb_note *n = NULL;
	char *m;

	if (parse_v(PETER_VKEY, &v)) {
		CHECK(0, "cannot parse PeterNeumann");
		return;
	}
	/* note.h: PRB_NOTE_MAX_SIGS, as x/mod's note.Open allows 100. */
	m = many_sigs(PRB_NOTE_MAX_SIGS - 1);
	int rc = m ? open_str(m, &v, 1, &n) : -1;
	CHECK(rc == 0 && n && n->nsigs == PRB_NOTE_MAX_SIGS && n->nverified == 1,
	      "%d signatures accepted (rc %d)", PRB_NOTE_MAX_SIGS, rc);
	if (n)
		prb_note_free(n);
	free(m);
	m = many_sigs(PRB_NOTE_MAX_SIGS);
	CHECK(m && open_rc(m, &v, 1) == PRB_EMALFORMED, "%d signatures rejected",
	      PRB_NOTE_MAX_SIGS + 1);
	free(m);
	/* c2sp.org/signed-note: at least 16 must be accepted. */
	CHECK(PRB_NOTE_MAX_SIGS >= 16, "PRB_NOTE_MAX_SIGS >= 16");
}

/* c2sp.org/tlog-cosignature: the signed message is "cosignature/v1",
 * "time <decimal timestamp>", then the checkpoint body; the example
 * checkpoint is the one of tlog-cosignature.md (time 1679315147). */
static void
kat_cosig(void)
{
	static const char body[] =
	        "example.com/behind-the-sofa\n20852163\n"
	        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	static const char want[] = "cosignature/v1\ntime 1679315147\n"
	                           "example.com/behind-the-sofa\n20852163\n"
	                           "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	uint8_t *msg = NULL;
	size_t len = 0;
	prb_verifier w;
	prb_note *n = NULL;

	int rc = prb_cosig_message(1679315147, body, strlen(body), &msg, &len);
	CHECK(rc == 0 && len == strlen(want) && !memcmp(msg, want, len),
	      "cosignature/v1 message (rc %d)", rc);
	free(msg);
	rc = prb_cosig_message(0, body, strlen(body), &msg, &len);
	CHECK(rc == 0 && len == strlen(body) + 22 &&
	              !memcmp(msg, "cosignature/v1\ntime 0\n", 22),
	      "timestamp 0 (rc %d)", rc);
	free(msg);

	rc = parse_v(WITNESS_VKEY, &w);
	CHECK(rc == 0 && w.type == PRB_SIG_COSIGV1 && w.id == 0xb8a2cf20,
	      "parse type 0x04 vkey (rc %d)", rc);
	rc = open_str(SUNLIGHT_NOTE, &w, 1, &n);
	CHECK(rc == 0 && n && n->nverified == 1 && n->nsigs == 2 &&
	              !strcmp(n->sigs[0].name, "witness.example.org") &&
	              n->sigs[0].timestamp == 1767139200 &&
	              !strcmp(n->text, SUNLIGHT_TEXT),
	      "open sunlight checkpoint with the witness key (rc %d)", rc);
	if (n)
		prb_note_free(n);
	char tampered[] = SUNLIGHT_NOTE;
	tampered[strlen("rome2026h1.example.org\n30")] = '1';
	CHECK(open_rc(tampered, &w, 1) == PRB_EBADSIG, "tampered cosigned size");
}

static void
kat_generate(void)
{
	prb_signer *s = NULL, *s2 = NULL;
	prb_verifier v, v2;
	char skey[PRB_KEY_MAX], vkey[PRB_KEY_MAX], *out = NULL;
	size_t len;
	int rc = prb_signer_generate("example.com/probity-test", &s, NULL);

	CHECK(rc == 0 && s, "generate (rc %d)", rc);
	if (rc != 0)
		return;
	prb_signer_verifier(s, &v);
	rc = prb_signer_skey(s, skey, sizeof skey) ||
	     prb_signer_vkey(s, vkey, sizeof vkey) || parse_s(skey, &s2) ||
	     parse_v(vkey, &v2);
	CHECK(rc == 0 && verifiers_equal(&v, &v2) && v.type == PRB_SIG_ED25519,
	      "generated keys round trip");
	if (rc == 0)
		rc = prb_note_sign("hello\n", 6, &s2, 1, &out, &len, NULL);
	CHECK(rc == 0 && open_rc(out ? out : "", &v, 1) == 0,
	      "generated key signs (rc %d)", rc);
	free(out);
	prb_signer_free(s);
	prb_signer_free(s2);

	char long_name[PRB_NAME_MAX + 2];
	memset(long_name, 'a', sizeof long_name);
	long_name[PRB_NAME_MAX + 1] = 0;
	static const char *const bad[] = {"", "a b", "a+b", "a\tb", "a\xc2\xa0" "b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = NULL;
		rc = prb_signer_generate(bad[i], &s, NULL);
		CHECK(rc < 0, "bad name %zu accepted", i);
		prb_signer_free(rc == 0 ? s : NULL);
	}
	s = NULL;
	prb_err err;
	prb_err_clear(&err);
	rc = prb_signer_generate(long_name, &s, &err);
	CHECK(rc < 0 && strstr(err.msg, "at most 255 bytes"),
	      "%d-byte name accepted, or not said why: %s", PRB_NAME_MAX + 1,
	      err.msg);
	prb_signer_free(rc == 0 ? s : NULL);
	{ /* a key of another signature type (0x02, ECDSA in signed-note) */
		char skey[PRB_KEY_MAX];
		prb_signer *g = NULL, *t = NULL;
		prb_signer_generate("example.com/type", &g, NULL);
		prb_signer_skey(g, skey, sizeof skey);
		prb_signer_free(g);
		/* past PRIVATE+KEY+name+id+ (base64 may hold '+' too) */
		char *b = skey;
		for (int k = 0; k < 4; k++)
			b = strchr(b, '+') + 1;
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		int v = (int)(strchr(b64, b[1]) - b64); /* bits 01xxxx: 0x01 */
		b[1] = b64[v + 16]; /* bits 10xxxx: type byte 0x02 */
		prb_err_clear(&err);
		rc = prb_signer_parse(skey, strlen(skey), &t, &err);
		CHECK(rc < 0 && strstr(err.msg, "type 0x02") &&
		              !strstr(err.msg, "cosigner"),
		      "a type-0x02 signer key: %s", err.msg);
		prb_signer_free(rc == 0 ? t : NULL);
	}
	long_name[PRB_NAME_MAX] = 0;
	s = NULL;
	rc = prb_signer_generate(long_name, &s, NULL);
	CHECK(rc == 0, "%d-byte name rejected (rc %d)", PRB_NAME_MAX, rc);
	prb_signer_free(rc == 0 ? s : NULL);
}

static void
kat_load(void)
{
	char path[] = "/tmp/probity-test-note-XXXXXX";
	int fd = mkstemp(path);
	prb_signer *s = NULL;
	prb_verifier v, want;
	const char key[] = PETER_SKEY "\n";

	if (fd < 0 || write(fd, key, strlen(key)) != (ssize_t)strlen(key)) {
		CHECK(0, "cannot write %s", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	parse_v(PETER_VKEY, &want);
	int rc = prb_signer_load(path, &s, NULL);
	CHECK(rc == 0 && s && !strcmp(prb_signer_name(s), "PeterNeumann"),
	      "signer_load (rc %d)", rc);
	prb_signer_free(s);
	rc = prb_verifier_load(PETER_VKEY, &v, NULL);
	CHECK(rc == 0 && verifiers_equal(&v, &want), "verifier_load(string)");
	FILE *f = fopen(path, "w"); /* now the file holds the vkey */
	if (f) {
		fputs(PETER_VKEY "\n", f);
		fclose(f);
	}
	rc = prb_verifier_load(path, &v, NULL);
	CHECK(rc == 0 && verifiers_equal(&v, &want), "verifier_load(file)");
	unlink(path);
	rc = prb_signer_load(path, &s, NULL);
	CHECK(rc < 0, "signer_load of a missing file (rc %d)", rc);
}

/* ------------------------------------------------------------------ */
/* note.json                                                           */

static const json_t *
find_key(const json_t *keys, const char *id)
{
	size_t i;
	json_t *k;

	json_array_foreach(keys, i, k) {
		if (!strcmp(vec_str(k, "id"), id))
			return k;
	}
	return NULL;
}

static void
json_keys(const json_t *keys)
{
	size_t i;
	json_t *k;

	json_array_foreach(keys, i, k) {
		const char *vkey = vec_str(k, "vkey"), *skey = vec_str(k, "skey");
		prb_verifier v, v2;
		prb_signer *s = NULL;
		uint8_t pub[32];
		size_t len = 0;
		char buf[PRB_KEY_MAX];
		unsigned type = (unsigned)strtoul(vec_str(k, "signature_type"), NULL, 16);

		if (!*vkey)
			continue; /* type 0x05: not a note.h verifier */
		int rc = parse_v(vkey, &v);
		vec_hex(vec_str(k, "ed25519_public_key_hex"), pub, sizeof pub, &len);
		CHECK(rc == 0 && !strcmp(v.name, vec_str(k, "name")) &&
		              v.id == strtoul(vec_str(k, "key_id"), NULL, 16) &&
		              v.type == type && len == 32 && !memcmp(v.pub, pub, 32),
		      "note.json key %s (rc %d)", vec_str(k, "id"), rc);
		CHECK(prb_verifier_format(&v, buf, sizeof buf) == 0 &&
		              !strcmp(buf, vkey),
		      "format %s", vkey);
		if (!*skey)
			continue;
		rc = parse_s(skey, &s);
		CHECK(rc == 0 && s && prb_signer_vkey(s, buf, sizeof buf) == 0 &&
		              !strcmp(buf, vkey),
		      "note.json skey %s (rc %d)", vec_str(k, "id"), rc);
		if (s) {
			prb_signer_verifier(s, &v2);
			CHECK(verifiers_equal(&v, &v2), "signer_verifier %s",
			      vec_str(k, "id"));
		}
		prb_signer_free(s);
	}
}

static void
json_sign(const json_t *keys, const json_t *arr)
{
	size_t i, x;
	json_t *c, *id;

	json_array_foreach(arr, i, c) {
		prb_signer *ss[4] = {NULL, NULL, NULL, NULL};
		const json_t *ids = json_object_get(c, "signers");
		const char *text = vec_str(c, "text");
		char *out = NULL;
		size_t len = 0, n = json_array_size(ids);
		int rc = n <= 4 ? 0 : -1;

		json_array_foreach(ids, x, id) {
			if (rc == 0 && x < 4)
				rc = parse_s(vec_str(find_key(keys, json_string_value(id)),
				                     "skey"), &ss[x]);
		}
		if (rc == 0)
			rc = prb_note_sign(text, strlen(text), ss, n, &out, &len, NULL);
		CHECK(rc == 0 && out && !strcmp(out, vec_str(c, "expected_note")) &&
		              len == strlen(out),
		      "sign_vectors %s (rc %d)", vec_str(c, "id"), rc);
		free(out);
		for (x = 0; x < 4; x++)
			prb_signer_free(ss[x]);
	}
}

static int
error_code(const char *e)
{
	static const struct {
		const char *name;
		int code;
	} m[] = {
		{"malformed", PRB_EMALFORMED},
		{"invalid_signature", PRB_EBADSIG},
		{"no_verifiable_signatures", PRB_ENOSIG},
		{"ambiguous_key", PRB_EAMBIGUOUS},
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (!strcmp(e, m[i].name))
			return m[i].code;
	return 1; /* unknown: matches no return value */
}

/* Is there a signature in n[from..to) with this line, name and key ID? */
static bool
has_sig(const prb_note *n, size_t from, size_t to, const json_t *want)
{
	char line[PRB_NAME_MAX + 1024];
	unsigned long id = strtoul(vec_str(want, "key_id"), NULL, 16);

	snprintf(line, sizeof line, EMDASH " %s %s", vec_str(want, "name"),
	         vec_str(want, "sig"));
	for (size_t i = from; i < to; i++) {
		if (!strcmp(n->sigs[i].line, line) && n->sigs[i].id == id &&
		    !strcmp(n->sigs[i].name, vec_str(want, "name")))
			return true;
	}
	return false;
}

/* cosignature/v1 signatures carry a big-endian timestamp after the ID. */
static bool
timestamp_ok(const prb_note_sig *s)
{
	const char *b64 = strrchr(s->line, ' ');
	uint8_t raw[128];
	size_t len = 0;
	uint64_t t = 0;

	if (!s->verifier || s->verifier->type != PRB_SIG_COSIGV1)
		return true;
	if (!b64 || vec_b64(b64 + 1, raw, sizeof raw, &len) || len != 76)
		return false;
	for (int i = 4; i < 12; i++)
		t = t << 8 | raw[i];
	return s->timestamp == t;
}

/* Verifiers of a case; keys with no vkey (type 0x05) cannot be configured
 * and are returned in `dropped` (their signatures become unverified). */
static size_t
case_verifiers(const json_t *keys, const json_t *c, prb_verifier *vs,
               const char **dropped, size_t *ndropped)
{
	size_t i, n = 0;
	json_t *id;

	*ndropped = 0;
	json_array_foreach(json_object_get(c, "verifiers"), i, id) {
		const json_t *k = find_key(keys, json_string_value(id));
		const char *vkey = vec_str(k, "vkey");
		if (!*vkey) {
			dropped[(*ndropped)++] = vec_str(k, "name");
			continue;
		}
		if (n < 8 && parse_v(vkey, &vs[n]) == 0)
			n++;
		else
			CHECK(0, "%s: cannot parse %s", vec_str(c, "id"), vkey);
	}
	return n;
}

static bool
is_dropped(const json_t *sig, const char **dropped, size_t nd)
{
	for (size_t i = 0; i < nd; i++)
		if (!strcmp(vec_str(sig, "name"), dropped[i]))
			return true;
	return false;
}

static void
check_ok_case(const char *cid, const prb_note *n, const json_t *ex,
              const prb_verifier *vs, size_t nvs, const char **dropped,
              size_t nd)
{
	const json_t *sigs = json_object_get(ex, "sigs");
	const json_t *unv = json_object_get(ex, "unverified_sigs");
	size_t i, nv = 0, nu = json_array_size(unv), bad = 0;
	json_t *s;

	CHECK(!strcmp(n->text, vec_str(ex, "text")) &&
	              n->text_len == strlen(n->text),
	      "%s: text", cid);
	json_array_foreach(sigs, i, s) {
		bool d = is_dropped(s, dropped, nd);
		nv += !d;
		nu += d;
		bad += !has_sig(n, d ? n->nverified : 0, d ? n->nsigs : n->nverified,
		                s);
	}
	json_array_foreach(unv, i, s)
		bad += !has_sig(n, n->nverified, n->nsigs, s);
	for (i = 0; i < n->nsigs; i++) {
		const prb_verifier *v = n->sigs[i].verifier;
		bool in_vs = v >= vs && v < vs + nvs;
		bad += i < n->nverified ? !in_vs || strcmp(v->name, n->sigs[i].name)
		                        : v != NULL;
		bad += !timestamp_ok(&n->sigs[i]);
	}
	CHECK(n->nverified == nv && n->nsigs == nv + nu && bad == 0,
	      "%s: %zu verified (want %zu), %zu signatures (want %zu), %zu bad",
	      cid, n->nverified, nv, n->nsigs, nv + nu, bad);
}

static void
json_open_case(const json_t *keys, const json_t *c)
{
	const char *cid = vec_str(c, "id"), *dropped[8];
	const json_t *ex = json_object_get(c, "expect");
	const char *error = vec_str(ex, "error");
	prb_verifier vs[8];
	size_t nd, len = 0;
	prb_note *n = NULL;

	size_t nvs = case_verifiers(keys, c, vs, dropped, &nd);
	uint8_t *msg = vec_b64_alloc(vec_str(c, "note_b64"), &len);
	int rc = msg ? prb_note_open(msg, len, vs, nvs, &n, NULL) : 1;

	if (*error) {
		CHECK(rc == error_code(error), "%s: want %s, got %d (%s)", cid,
		      error, rc, rc < 0 ? prb_strerror(rc) : "");
	} else {
		CHECK(rc == 0 && n, "%s: want success, got %d (%s)", cid, rc,
		      rc < 0 ? prb_strerror(rc) : "");
		if (rc == 0 && n)
			check_ok_case(cid, n, ex, vs, nvs, dropped, nd);
	}
	if (n)
		prb_note_free(n);
	free(msg);
}

static int
ed25519_verify(const uint8_t pub[32], const uint8_t *sig, const uint8_t *msg,
               size_t len)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = pk && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	         EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;

	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

static void
json_cosignatures(const json_t *keys, const json_t *arr)
{
	size_t i;
	json_t *c;

	json_array_foreach(arr, i, c) {
		const char *want = vec_str(c, "signed_message");
		uint64_t ts = vec_u64(c, "timestamp");
		char head[64];
		uint8_t *msg = NULL, sig[64], pub[32];
		size_t len = 0, slen = 0, plen = 0;
		int hl = snprintf(head, sizeof head, "cosignature/v1\ntime %llu\n",
		                  (unsigned long long)ts);
		const json_t *k = find_key(keys, vec_str(c, "cosigner"));

		CHECK(!strncmp(want, head, (size_t)hl), "cosignature %zu header", i);
		const char *body = want + hl;
		int rc = prb_cosig_message(ts, body, strlen(body), &msg, &len);
		CHECK(rc == 0 && len == strlen(want) && !memcmp(msg, want, len),
		      "cosignature %zu: prb_cosig_message (rc %d)", i, rc);
		bool ok = k && !vec_hex(vec_str(k, "ed25519_public_key_hex"), pub,
		                        sizeof pub, &plen) &&
		          !vec_b64(vec_str(c, "ed25519_signature_b64"), sig,
		                   sizeof sig, &slen) &&
		          plen == 32 && slen == 64;
		CHECK(ok && rc == 0 && ed25519_verify(pub, sig, msg, len),
		      "cosignature %zu by %s verifies over prb_cosig_message", i,
		      vec_str(c, "cosigner"));
		free(msg);
	}
}

static void
json_bad_keys(const json_t *j)
{
	size_t i;
	json_t *c;
	prb_verifier v;
	prb_signer *s;

	json_array_foreach(json_object_get(j, "bad_vkeys"), i, c) {
		int rc = parse_v(vec_str(c, "vkey"), &v);
		CHECK(rc == PRB_EKEY, "bad vkey (%s) accepted: rc %d",
		      vec_str(c, "why"), rc);
	}
	json_array_foreach(json_object_get(j, "bad_skeys"), i, c) {
		int rc = parse_s(vec_str(c, "skey"), &s);
		CHECK(rc == PRB_EKEY, "bad skey (%s) accepted: rc %d",
		      vec_str(c, "why"), rc);
		prb_signer_free(rc == 0 ? s : NULL);
	}
	/* Probity's decision (note.h): upper-case key IDs are rejected. */
	json_array_foreach(json_object_get(j, "lenient_vkeys"), i, c) {
		int rc = parse_v(vec_str(c, "vkey"), &v);
		CHECK(rc == PRB_EKEY, "lenient vkey %s: rc %d", vec_str(c, "vkey"),
		      rc);
	}
}

static void
vectors_note_json(void)
{
	const char *path = t_shared("vectors/note.json");
	json_t *j, *c;
	size_t i;

	if (!path) {
		SKIP("vectors/note.json not found (set PRB_SHARED)");
		return;
	}
	if (!(j = vec_load_json(path, 0))) {
		CHECK(0, "cannot load %s", path);
		return;
	}
	const json_t *keys = json_object_get(j, "keys");
	json_keys(keys);
	json_sign(keys, json_object_get(j, "sign_vectors"));
	json_array_foreach(json_object_get(j, "open_cases"), i, c)
		json_open_case(keys, c);
	json_cosignatures(keys, json_object_get(j, "cosignatures"));
	json_bad_keys(j);
	json_decref(j);
}

/* Signature lines x/mod accepts as unknown whatever their size: a signer
 * name over 255 bytes, a signature over 4,096 base64 characters (an
 * ML-DSA-44 cosignature line is ~3,250 bytes), several distinct long
 * lines (each kept whole), and prb_note_parse with no keys at all. */
static void
kat_long_unknown(void)
{
	prb_verifier peter;
	prb_note *n = NULL;
	size_t cap = 3 * 8192;
	char *msg = malloc(cap), *p;
	parse_v(PETER_VKEY, &peter);
	p = msg + sprintf(msg, "%s\n%s", PETER_TEXT, PETER_SIG);
	p += sprintf(p, EMDASH " ");
	memset(p, 'n', 300); /* a 300-byte name */
	p += 300;
	p += sprintf(p, " AAAAAAAA\n");
	for (int k = 0; k < 2; k++) {
		p += sprintf(p, EMDASH " mldsa.example ");
		memset(p, k ? 'B' : 'A', 5000); /* 3,750 signature bytes */
		p += 5000;
		*p++ = '\n';
	}
	*p = 0;
	int rc = open_str(msg, &peter, 1, &n);
	CHECK(rc == 0 && n && n->nverified == 1 && n->nsigs == 4,
	      "long unknown signature lines are kept unverified (rc %d)", rc);
	if (rc == 0 && n) {
		CHECK(strlen(n->sigs[1].name) == 300 &&
		              n->sigs[2].line_len == strlen(EMDASH) + 15 + 5000 &&
		              n->sigs[3].line_len == n->sigs[2].line_len &&
		              n->sigs[2].line[strlen(EMDASH) + 15] == 'A' &&
		              n->sigs[3].line[strlen(EMDASH) + 15] == 'B',
		      "each long line is kept whole and distinct");
		prb_note_free(n);
	}
	n = NULL;
	rc = prb_note_parse((const uint8_t *)msg, strlen(msg), &n, NULL);
	CHECK(rc == 0 && n && n->nverified == 0 && n->nsigs == 4,
	      "prb_note_parse reads the structure with no keys (rc %d)", rc);
	prb_note_free(n);
	CHECK(prb_note_parse((const uint8_t *)PETER_TEXT, strlen(PETER_TEXT),
	                     &n, NULL) == PRB_EMALFORMED,
	      "prb_note_parse still rejects a note without signatures");
	free(msg);
}

int
main(void)
{
	kat_keys();
	kat_bad_keys();
	kat_sign();
	kat_open();
	kat_limits();
	kat_long_unknown();
	kat_cosig();
	kat_generate();
	kat_load();
	vectors_note_json();
	return T_DONE("test_note");
}
