/*
 * Cosigner keys (include/probity/note.h) and the c2sp.org/tlog-witness
 * witness (include/probity/witness.h): every status of add-checkpoint, the
 * durable state, racing requests (threads and processes), the monitoring
 * checkpoint, and the log-side client against a witness served over HTTP.
 *
 * Known answer: the shared vectors' log1000 checkpoint cosigned at time
 * 1700000000 by the witness whose seed is SHA-256("log1000 test witness
 * key") (note.json, generated independently with golang.org/x/mod), which
 * prb_cosigner_sign must reproduce byte for byte (Ed25519 is
 * deterministic). Everything else is checked with independent code below
 * (OpenSSL for key IDs and Ed25519, a recursive RFC 6962 tree).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "probity/checkpoint.h"
#include "probity/http.h"
#include "probity/httpc.h"
#include "probity/merkle.h"
#include "probity/note.h"
#include "probity/witness.h"
#include "t.h"
#include "vec.h"

#define EMDASH "\xe2\x80\x94"

/* The log1000 witness of the shared vectors (see test_proof.c). */
#define WIT_VKEY \
	"witness.example.com/log1000-w1+e4d1643d+BGGe9o1jlewxqHWu2TuNNKYxuO1gwRdvUE2lYBm/NvAL"
#define CP1000_TEXT \
	"example.com/log1000\n1000\n0D1jt3KvmQGYF+4+AYKG02omFhvbW/6CKOksAqvpEV0=\n"
#define CP1000_COSIG \
	EMDASH " witness.example.com/log1000-w1 5NFkPQAAAABlU/EAWvZDyU1LBtqfr1Cg2GDm7" \
	"4fbzdlUwB9GJ5chevrlmNQfAm/gvL2h2H6xFksYj/DMWtopft6hL8ZRXHuNtlOvAg=="

static char tmpdir[] = "/tmp/prbwit.XXXXXX";

/* ---- an in-memory RFC 6962 tree of entries "e<i>" ------------------------ */

static prb_hash leaves[64];

static void
init_leaves(void)
{
	for (int i = 0; i < 64; i++) {
		char e[16];
		int n = snprintf(e, sizeof e, "e%d", i);
		vec_ref_leaf((const uint8_t *)e, (size_t)n, &leaves[i]);
	}
}

static int
reader(void *ctx, unsigned level, uint64_t index, prb_hash *out)
{
	(void)ctx;
	if (level == 0) {
		*out = leaves[index];
		return 0;
	}
	prb_hash l, r;
	reader(NULL, level - 1, 2 * index, &l);
	reader(NULL, level - 1, 2 * index + 1, &r);
	vec_ref_node(&l, &r, out);
	return 0;
}

static prb_hash
root_of(uint64_t size)
{
	prb_hash h;
	prb_merkle_root(reader, NULL, size, &h);
	return h;
}

/* A signed checkpoint note (malloc'd) of origin/size/root. */
static char *
make_cp(prb_signer *s, const char *origin, uint64_t size, const prb_hash *root,
        size_t *len)
{
	prb_checkpoint cp;
	char text[PRB_CHECKPOINT_MAX];
	char *out = NULL;
	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", origin);
	cp.size = size;
	cp.root = *root;
	int n = prb_checkpoint_format(&cp, text, sizeof text);
	if (n < 0 || prb_note_sign(text, (size_t)n, &s, 1, &out, len, NULL))
		abort();
	return out;
}

/* A request body from old, the proof old->size and the note. */
static uint8_t *
make_req(uint64_t old, const prb_hash *proof, size_t plen, const char *note,
         size_t note_len, size_t *len)
{
	uint8_t *b;
	if (prb_witness_format_request(old, proof, plen, (const uint8_t *)note,
	                               note_len, &b, len))
		abort();
	return b;
}

/* Status of one request; the response body is kept in last. */
static prb_witness_resp last;

static unsigned
post(prb_witness *w, const uint8_t *b, size_t len)
{
	prb_witness_resp_free(&last);
	return prb_witness_add(w, b, len, 1700000123, &last);
}

static unsigned
post_str(prb_witness *w, const char *s)
{
	return post(w, (const uint8_t *)s, strlen(s));
}

/* old -> size of origin with a correct proof, signed by s. */
static unsigned
submit(prb_witness *w, prb_signer *s, const char *origin, uint64_t old,
       uint64_t size)
{
	prb_hash proof[PRB_MAX_PROOF], root = root_of(size);
	size_t plen = 0, nlen, blen;
	if (old > 0 && old <= size)
		prb_merkle_prove_consistency(reader, NULL, old, size, proof,
		                             &plen);
	char *note = make_cp(s, origin, size, &root, &nlen);
	uint8_t *b = make_req(old, proof, plen, note, nlen, &blen);
	unsigned st = post(w, b, blen);
	free(b);
	free(note);
	return st;
}

/* ---- cosigner keys -------------------------------------------------------- */

static uint32_t
ref_key_id(const char *name, uint8_t type, const uint8_t pub[32])
{
	uint8_t buf[PRB_NAME_MAX + 40], md[32];
	unsigned mdlen;
	size_t n = strlen(name);
	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = type;
	memcpy(buf + n + 2, pub, 32);
	EVP_Digest(buf, n + 34, md, &mdlen, EVP_sha256(), NULL);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	       (uint32_t)md[2] << 8 | md[3];
}

static int
ref_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
                   const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestVerify(c, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

/* Independent check of a cosignature line over text by verifier v. */
static int
ref_cosig_ok(const char *line, const prb_verifier *v, const char *text,
             uint64_t *ts)
{
	char prefix[PRB_NAME_MAX + 8];
	snprintf(prefix, sizeof prefix, EMDASH " %s ", v->name);
	if (strncmp(line, prefix, strlen(prefix)) != 0)
		return 0;
	uint8_t raw[128];
	size_t rl;
	if (vec_b64(line + strlen(prefix), raw, sizeof raw, &rl) || rl != 76)
		return 0;
	uint32_t id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
	              (uint32_t)raw[2] << 8 | raw[3];
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | raw[4 + i];
	char msg[2048];
	int n = snprintf(msg, sizeof msg, "cosignature/v1\ntime %llu\n%s",
	                 (unsigned long long)t, text);
	*ts = t;
	return id == v->id && ref_ed25519_verify(v->pub, (const uint8_t *)msg,
	                                         (size_t)n, raw + 12);
}

static void
test_cosigner(void)
{
	prb_cosigner *c = NULL, *c2 = NULL;
	prb_signer *s = NULL;
	prb_verifier v, v2;
	char skey[PRB_KEY_MAX], vkey[PRB_KEY_MAX], line[PRB_COSIG_LINE_MAX];
	CHECK(prb_cosigner_generate("witness.example/w1", &c, NULL) == 0,
	      "generate");
	CHECK(prb_cosigner_skey(c, skey, sizeof skey) == 0 &&
	              strncmp(skey, "PRIVATE+KEY+witness.example/w1+", 31) == 0,
	      "skey %s", skey);
	CHECK(prb_cosigner_vkey(c, vkey, sizeof vkey) == 0, "vkey");
	CHECK(prb_verifier_parse(vkey, strlen(vkey), &v, NULL) == 0 &&
	              v.type == PRB_SIG_COSIGV1,
	      "vkey parses as type 0x04: %s", vkey);
	CHECK(v.id == ref_key_id("witness.example/w1", 0x04, v.pub),
	      "key ID = SHA-256(name || 0x0A || 0x04 || pub)[:4]");
	CHECK(strcmp(prb_cosigner_name(c), "witness.example/w1") == 0, "name");
	/* the seed is base64(0x04 || seed) in the key string */
	const char *b64 = skey + 40; /* after PRIVATE+KEY+name+id+ */
	uint8_t raw[64];
	size_t rl;
	CHECK(vec_b64(b64, raw, sizeof raw, &rl) == 0 && rl == 33 &&
	              raw[0] == 0x04,
	      "skey carries 0x04 || seed");
	CHECK(prb_cosigner_parse(skey, strlen(skey), &c2, NULL) == 0,
	      "parse its own skey");
	prb_cosigner_verifier(c2, &v2);
	CHECK(memcmp(&v, &v2, sizeof v) == 0, "round trip keeps the key");
	/* a cosigner key is not a log key, and the other way round */
	CHECK(prb_signer_parse(skey, strlen(skey), &s, NULL) == PRB_EKEY,
	      "signer parse refuses a 0x04 key");
	prb_signer *ls = NULL;
	char lskey[PRB_KEY_MAX];
	prb_cosigner *bad = NULL;
	CHECK(prb_signer_generate("log.example", &ls, NULL) == 0, "log key");
	prb_signer_skey(ls, lskey, sizeof lskey);
	CHECK(prb_cosigner_parse(lskey, strlen(lskey), &bad, NULL) == PRB_EKEY,
	      "cosigner parse refuses a 0x01 key");
	prb_signer_free(ls);
	CHECK(prb_cosigner_generate("bad name", &bad, NULL) == PRB_EKEY,
	      "name with a space refused");
	/* a tampered key ID */
	char t[PRB_KEY_MAX];
	snprintf(t, sizeof t, "%s", skey);
	char *idp = t + 31;
	*idp = *idp == '0' ? '1' : '0';
	CHECK(prb_cosigner_parse(t, strlen(t), &bad, NULL) == PRB_EKEY,
	      "wrong key ID refused");

	/* sign and check independently and with prb_note_open */
	const char *text = "example.com/log\n5\n"
	                   "/hSlQm+9cMD6c/UjQq/tDaC9I8SDhmLM9riKMHDq2Xs=\n";
	uint64_t ts = 0;
	CHECK(prb_cosigner_sign(c, 1234567890, text, strlen(text), line,
	                        sizeof line, NULL) == 0,
	      "sign");
	CHECK(ref_cosig_ok(line, &v, text, &ts) && ts == 1234567890,
	      "cosignature verifies independently: %s", line);
	char note[2048];
	snprintf(note, sizeof note, "%s\n%s\n", text, line);
	prb_note *n = NULL;
	CHECK(prb_note_open((const uint8_t *)note, strlen(note), &v, 1, &n,
	                    NULL) == 0 &&
	              n->nverified == 1 && n->sigs[0].timestamp == 1234567890,
	      "prb_note_open verifies the cosignature");
	prb_note_free(n);
	CHECK(prb_cosigner_sign(c, 0, text, strlen(text), line, sizeof line,
	                        NULL) == PRB_EINVAL,
	      "timestamp 0 refused");
	CHECK(prb_cosigner_sign(c, (uint64_t)1 << 63, text, strlen(text), line,
	                        sizeof line, NULL) == PRB_EINVAL,
	      "timestamp 2^63 refused");
	CHECK(prb_cosigner_sign(c, 5, "no newline", 10, line, sizeof line,
	                        NULL) == PRB_EMALFORMED,
	      "text without final newline refused");
	CHECK(prb_cosigner_sign(c, 5, text, strlen(text), line, 20, NULL) ==
	              PRB_EINVAL,
	      "short buffer refused");

	/* load from a file */
	char path[64];
	snprintf(path, sizeof path, "%s/w.key", tmpdir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s\n", skey);
	fclose(f);
	prb_cosigner *c3 = NULL;
	CHECK(prb_cosigner_load(path, &c3, NULL) == PRB_EKEY && !c3,
	      "a key file readable by others refused");
	chmod(path, 0600);
	CHECK(prb_cosigner_load(path, &c3, NULL) == 0, "load");
	prb_cosigner_verifier(c3, &v2);
	CHECK(memcmp(&v, &v2, sizeof v) == 0, "loaded key is the same");
	prb_cosigner_free(c3);
	prb_cosigner_free(c);
	prb_cosigner_free(c2);
	prb_cosigner_free(NULL);

	/* known answer: the shared vectors' log1000 witness */
	uint8_t seed[33];
	char b[64], kat[PRB_KEY_MAX];
	const char *phrase = "log1000 test witness key";
	unsigned ml;
	seed[0] = 0x04;
	EVP_Digest(phrase, strlen(phrase), seed + 1, &ml, EVP_sha256(), NULL);
	vec_b64_encode(seed, 33, b);
	snprintf(kat, sizeof kat,
	         "PRIVATE+KEY+witness.example.com/log1000-w1+e4d1643d+%s", b);
	CHECK(prb_cosigner_parse(kat, strlen(kat), &c, NULL) == 0,
	      "known witness key parses");
	if (c) {
		CHECK(prb_cosigner_vkey(c, vkey, sizeof vkey) == 0 &&
		              strcmp(vkey, WIT_VKEY) == 0,
		      "known vkey: %s", vkey);
		CHECK(prb_cosigner_sign(c, 1700000000, CP1000_TEXT,
		                        strlen(CP1000_TEXT), line, sizeof line,
		                        NULL) == 0 &&
		              strcmp(line, CP1000_COSIG) == 0,
		      "known cosignature: %s", line);
		prb_cosigner_free(c);
	}
}

/* ---- the witness ------------------------------------------------------------ */

static prb_signer *logkey, *otherkey, *logkey_b;
static prb_cosigner *wkey;
static prb_verifier wver;

static prb_witness *
open_w(const char *path)
{
	prb_witness_log logs[3];
	prb_signer_verifier(logkey, &logs[0].key);
	logs[0].origin = "example.com/a";
	prb_signer_verifier(logkey, &logs[1].key);
	logs[1].origin = "example.com/b";
	/* origin c is signed by a key of another name */
	prb_signer_verifier(logkey_b, &logs[2].key);
	logs[2].origin = "example.com/c";
	prb_witness *w = NULL;
	prb_err err;
	if (prb_witness_open(path, wkey, logs, 3, &w, &err)) {
		fprintf(stderr, "open %s: %s\n", path, err.msg);
		abort();
	}
	return w;
}

static void
test_config(void)
{
	prb_witness_log logs[2];
	prb_witness *w = NULL;
	memset(logs, 0, sizeof logs);
	CHECK(prb_witness_open(":memory:", wkey, logs, 0, &w, NULL) ==
	              PRB_EINVAL,
	      "no logs refused");
	prb_cosigner_verifier(wkey, &logs[0].key);
	logs[0].origin = "x";
	CHECK(prb_witness_open(":memory:", wkey, logs, 1, &w, NULL) ==
	              PRB_EINVAL,
	      "a 0x04 key as log key refused");
	prb_signer_verifier(logkey, &logs[0].key);
	logs[0].origin = "";
	CHECK(prb_witness_open(":memory:", wkey, logs, 1, &w, NULL) ==
	              PRB_EINVAL,
	      "empty origin refused");
	logs[0].origin = "x";
	logs[1] = logs[0];
	CHECK(prb_witness_open(":memory:", wkey, logs, 2, &w, NULL) ==
	              PRB_EINVAL,
	      "the same key twice for an origin refused");
	char path[64];
	snprintf(path, sizeof path, "%s/notdb", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("this is not a database, just some bytes of text ..........\n",
	      f);
	fclose(f);
	CHECK(prb_witness_open(path, wkey, logs, 1, &w, NULL) != 0,
	      "a file that is not a witness state is refused");
	/* another SQLite database (an index's meta table) is refused and
	 * left as it was */
	sqlite3 *db = NULL;
	snprintf(path, sizeof path, "%s/other.sqlite", tmpdir);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
	                 "INSERT INTO meta VALUES('schema', '1');",
	             NULL, NULL, NULL);
	sqlite3_close(db);
	prb_err err;
	CHECK(prb_witness_open(path, wkey, logs, 1, &w, &err) == PRB_ECORRUPT,
	      "another SQLite database is refused");
	sqlite3_open(path, &db);
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1,
	                       &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK(n == 2, "and left unchanged (%d schema objects)", n);
}

static int
resp_is(unsigned st, const char *body)
{
	return last.status == st && last.len == strlen(body) &&
	       memcmp(last.body, body, last.len) == 0;
}

static void
test_statuses(const char *path)
{
	prb_witness *w = open_w(path);
	prb_hash r3 = root_of(3), proof[PRB_MAX_PROOF];
	size_t nlen, blen, plen;
	uint64_t ts, size;
	prb_hash root;

	/* first checkpoint: old 0, empty proof */
	char *cp3 = make_cp(logkey, "example.com/a", 3, &r3, &nlen);
	uint8_t *b = make_req(0, NULL, 0, cp3, nlen, &blen);
	CHECK(post(w, b, blen) == 200, "first checkpoint: %u %s", last.status,
	      last.body);
	CHECK(strcmp(last.content_type, "text/plain; charset=utf-8") == 0,
	      "200 content type");
	CHECK(last.len > 0 && last.body[last.len - 1] == '\n' &&
	              memchr(last.body, '\n', last.len) ==
	                      last.body + last.len - 1,
	      "200 body is one line ending in a newline");
	last.body[last.len - 1] = 0;
	prb_note *n = NULL;
	prb_note_parse((const uint8_t *)cp3, nlen, &n, NULL);
	CHECK(n && ref_cosig_ok(last.body, &wver, n->text, &ts) &&
	              ts == 1700000123,
	      "cosignature over the checkpoint text verifies: %s", last.body);
	prb_note_free(n);
	CHECK(prb_witness_state(w, "example.com/a", &size, &root, NULL) == 0 &&
	              size == 3 && prb_hash_equal(&root, &r3),
	      "state is (3, root 3)");

	/* the same again from old 0: 409 with the stored size */
	CHECK(post(w, b, blen) == 409 && resp_is(409, "3\n"),
	      "old 0 after size 3: 409 \"3\\n\" (%u)", last.status);
	CHECK(strcmp(last.content_type, "text/x.tlog.size") == 0,
	      "409 content type");
	free(b);
	/* old 2 (mismatch below) and old 4 (mismatch above, <= size) */
	CHECK(submit(w, logkey, "example.com/a", 2, 5) == 409 &&
	              resp_is(409, "3\n"),
	      "old 2: 409");
	CHECK(submit(w, logkey, "example.com/a", 4, 5) == 409, "old 4: 409");
	/* same size, same root: cosigned again */
	b = make_req(3, NULL, 0, cp3, nlen, &blen);
	CHECK(post(w, b, blen) == 200, "old == size, same root: 200 (%u %s)",
	      last.status, last.body);
	free(b);
	/* same size, proof not empty */
	b = make_req(3, &r3, 1, cp3, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "old == size with a proof: 422");
	free(b);
	/* same size, other root */
	prb_hash other = root_of(4);
	char *cpx = make_cp(logkey, "example.com/a", 3, &other, &nlen);
	b = make_req(3, NULL, 0, cpx, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "old == size, other root: 422 (%u)",
	      last.status);
	free(b);
	free(cpx);
	free(cp3);

	/* 3 -> 8 with a good proof */
	CHECK(submit(w, logkey, "example.com/a", 3, 8) == 200, "3 -> 8: 200 (%u %s)",
	      last.status, last.body);
	/* old above the checkpoint size: 400, before the 409 check */
	CHECK(submit(w, logkey, "example.com/a", 9, 8) == 400,
	      "old 9 > size 8: 400 (%u)", last.status);
	CHECK(submit(w, logkey, "example.com/a", 20, 10) == 400,
	      "old 20 > size 10: 400");

	/* 8 -> 13 with a tampered proof, a short one, a long one */
	prb_hash r13 = root_of(13);
	prb_merkle_prove_consistency(reader, NULL, 8, 13, proof, &plen);
	char *cp13 = make_cp(logkey, "example.com/a", 13, &r13, &nlen);
	proof[0].b[5] ^= 1;
	b = make_req(8, proof, plen, cp13, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "tampered proof: 422 (%u)", last.status);
	free(b);
	proof[0].b[5] ^= 1;
	b = make_req(8, proof, plen - 1, cp13, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "short proof: 422");
	free(b);
	proof[plen] = r13;
	b = make_req(8, proof, plen + 1, cp13, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "proof with an extra hash: 422");
	free(b);
	/* a proof for another old size */
	prb_merkle_prove_consistency(reader, NULL, 7, 13, proof, &plen);
	b = make_req(8, proof, plen, cp13, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "proof from 7 sent as old 8: 422");
	free(b);
	CHECK(prb_witness_state(w, "example.com/a", &size, &root, NULL) == 0 &&
	              size == 8,
	      "refused requests leave the state at 8");
	free(cp13);

	/* unknown origin: 404; bad signatures: 403 */
	CHECK(submit(w, logkey, "example.com/unknown", 0, 3) == 404,
	      "unknown origin: 404 (%u)", last.status);
	CHECK(submit(w, otherkey, "example.com/a", 8, 10) == 403,
	      "signed by an untrusted key: 403 (%u)", last.status);
	/* a trusted key's signature that does not verify */
	prb_hash r10 = root_of(10);
	prb_merkle_prove_consistency(reader, NULL, 8, 10, proof, &plen);
	char *cp10 = make_cp(logkey, "example.com/a", 10, &r10, &nlen);
	char *sig = strstr(cp10, EMDASH " example.com/a ") + 20;
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	b = make_req(8, proof, plen, cp10, nlen, &blen);
	CHECK(post(w, b, blen) == 403, "invalid signature by the trusted key: "
	      "403 (%u %s)", last.status, last.body);
	free(b);
	free(cp10);
	/* checkpoint signed by the trusted key plus an unknown one: fine */
	cp10 = make_cp(logkey, "example.com/a", 10, &r10, &nlen);
	{
		prb_note *pn = NULL;
		prb_note_parse((const uint8_t *)cp10, nlen, &pn, NULL);
		char *two = NULL;
		size_t tl;
		prb_signer *both[2] = {otherkey, logkey};
		prb_note_sign(pn->text, pn->text_len, both, 2, &two, &tl, NULL);
		b = make_req(8, proof, plen, two, tl, &blen);
		CHECK(post(w, b, blen) == 200, "unknown extra signature "
		      "ignored: 200 (%u %s)", last.status, last.body);
		free(b);
		free(two);
		prb_note_free(pn);
	}
	free(cp10);

	/* origin b: size 0 must have the empty root; old 0 no proof */
	prb_hash empty, r0bad = root_of(1);
	prb_merkle_empty_root(&empty);
	char *cp0 = make_cp(logkey, "example.com/b", 0, &r0bad, &nlen);
	b = make_req(0, NULL, 0, cp0, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "size 0, non-empty root: 422 (%u)",
	      last.status);
	free(b);
	free(cp0);
	prb_hash r5 = root_of(5);
	char *cp5 = make_cp(logkey, "example.com/b", 5, &r5, &nlen);
	b = make_req(0, &r5, 1, cp5, nlen, &blen);
	CHECK(post(w, b, blen) == 422, "old 0 with a proof: 422 (%u)",
	      last.status);
	free(b);
	free(cp5);
	cp0 = make_cp(logkey, "example.com/b", 0, &empty, &nlen);
	b = make_req(0, NULL, 0, cp0, nlen, &blen);
	CHECK(post(w, b, blen) == 200, "size 0, empty root: 200 (%u)",
	      last.status);
	free(b);
	free(cp0);
	CHECK(submit(w, logkey, "example.com/b", 0, 5) == 200,
	      "0 -> 5 after a size-0 checkpoint: 200");
	/* origin c, whose key is named otherwise */
	CHECK(submit(w, logkey_b, "example.com/c", 0, 2) == 200,
	      "origin with a differently named key: 200 (%u %s)", last.status,
	      last.body);
	CHECK(submit(w, logkey, "example.com/c", 2, 4) == 403,
	      "origin c signed by origin a's key: 403");

	/* monitoring: the stored checkpoint carries both signatures */
	char hex[65];
	{
		uint8_t md[32];
		unsigned ml;
		EVP_Digest("example.com/a", 13, md, &ml, EVP_sha256(), NULL);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	prb_witness_resp r;
	CHECK(prb_witness_checkpoint(w, hex, &r) == 200, "monitor 200");
	prb_verifier vs[2];
	prb_signer_verifier(logkey, &vs[0]);
	vs[1] = wver;
	n = NULL;
	prb_checkpoint cpo;
	CHECK(r.status == 200 &&
	              prb_checkpoint_open((const uint8_t *)r.body, r.len, vs, 2,
	                                  &cpo, &n, NULL) == 0 &&
	              n->nverified == 2 && cpo.size == 10,
	      "monitored checkpoint: size 10, log and witness signatures");
	prb_note_free(n);
	prb_witness_resp_free(&r);
	hex[0] = hex[0] == '0' ? '1' : '0';
	CHECK(prb_witness_checkpoint(w, hex, &r) == 404, "monitor unknown 404");
	prb_witness_resp_free(&r);
	prb_witness_close(w);

	/* the state survives a reopen */
	w = open_w(path);
	CHECK(prb_witness_state(w, "example.com/a", &size, &root, NULL) == 0 &&
	              size == 10 && prb_hash_equal(&root, &r10),
	      "reopened: origin a at 10");
	CHECK(prb_witness_state(w, "example.com/b", &size, &root, NULL) == 0 &&
	              size == 5,
	      "reopened: origin b at 5");
	CHECK(prb_witness_state(w, "example.com/unknown", &size, &root, NULL) ==
	              PRB_ENOTFOUND,
	      "never cosigned: PRB_ENOTFOUND");
	CHECK(submit(w, logkey, "example.com/a", 0, 12) == 409 &&
	              resp_is(409, "10\n"),
	      "reopened: old 0 gets 409 \"10\"");
	CHECK(submit(w, logkey, "example.com/a", 10, 12) == 200,
	      "reopened: 10 -> 12: 200");
	prb_witness_close(w);
}

static void
test_malformed(void)
{
	prb_witness *w = open_w(":memory:");
	prb_hash r3 = root_of(3);
	size_t nlen;
	char *cp = make_cp(logkey, "example.com/a", 3, &r3, &nlen);
	char buf[4096];
	static const char *const heads[] = {
		"",                   /* nothing */
		"old 0",              /* no newline */
		"old 0\n",            /* no empty line */
		"old  0\n\n",         /* two spaces */
		"old 01\n\n",         /* leading zero */
		"old -1\n\n",         /* sign */
		"old +1\n\n",
		"old\n\n",
		"Old 0\n\n",
		"old 0x1\n\n",
		"old 9223372036854775808\n\n", /* 2^63 */
		"old 18446744073709551616\n\n",
		"old 0\r\n\r\n",      /* CRLF */
		"old 0\nnot base64 at all\n\n",
		"old 0\nAAAA\n\n",    /* base64 of 3 bytes */
		"old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\n",
		"new 0\n\n",
	};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s", heads[i], cp);
		CHECK(post_str(w, buf) == 400, "malformed head %zu (%s): %u",
		      i, heads[i], last.status);
		CHECK(strncmp(last.content_type, "text/plain", 10) == 0 &&
		              last.len > 0,
		      "400 explains");
	}
	/* 64 proof lines */
	size_t off = (size_t)snprintf(buf, sizeof buf, "old 2\n");
	for (int i = 0; i < 64; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s\n",
		                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	snprintf(buf + off, sizeof buf - off, "\n%s", cp);
	CHECK(post_str(w, buf) == 400, "64 proof lines: 400 (%u)", last.status);
	/* no checkpoint after the empty line */
	CHECK(post_str(w, "old 0\n\n") == 400, "no checkpoint: 400");
	/* a checkpoint without signatures, a note that is not a checkpoint */
	snprintf(buf, sizeof buf, "old 0\n\nexample.com/a\n3\n%s\n", "x");
	CHECK(post_str(w, buf) == 400, "unsigned text: 400");
	{
		char *hello = NULL;
		size_t hl;
		prb_note_sign("hello\n", 6, &logkey, 1, &hello, &hl, NULL);
		snprintf(buf, sizeof buf, "old 0\n\n%s", hello);
		CHECK(post_str(w, buf) == 400, "signed non-checkpoint: 400 (%u)",
		      last.status);
		free(hello);
	}
	/* a control character in the note */
	snprintf(buf, sizeof buf, "old 0\n\n%s", cp);
	buf[8] = '\t';
	CHECK(post_str(w, buf) == 400, "control character: 400");
	/* too big */
	size_t big = PRB_WITNESS_MAX_BODY + 1;
	uint8_t *bb = calloc(1, big);
	CHECK(post(w, bb, big) == 413, "over the size limit: 413");
	free(bb);
	/* the good one still works afterwards */
	snprintf(buf, sizeof buf, "old 0\n\n%s", cp);
	CHECK(post_str(w, buf) == 200, "well-formed: 200 (%u %s)", last.status,
	      last.body);
	free(cp);
	/* parse_request details */
	prb_witness_req req;
	prb_err err;
	snprintf(buf, sizeof buf,
	         "old 7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	         "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\nrest\n");
	CHECK(prb_witness_parse_request((const uint8_t *)buf, strlen(buf), &req,
	                                &err) == 0 &&
	              req.old_size == 7 && req.proof_len == 2 &&
	              req.proof[1].b[31] == 1 && req.note_len == 5 &&
	              memcmp(req.note, "rest\n", 5) == 0,
	      "parse_request fields");
	CHECK(prb_witness_parse_request((const uint8_t *)"old 1\nx\n\nr\n", 11,
	                                &req, &err) == PRB_EMALFORMED &&
	              err.offset == 2,
	      "parse_request names the line");
	prb_witness_close(w);
}

/* ---- racing requests --------------------------------------------------------- */

static void
hold(void *ctx)
{
	(void)ctx;
	struct timespec ts = {0, 150 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

typedef struct {
	prb_witness *w;
	uint64_t size;
	unsigned status;
	int started;
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
	int *go;
} racer;

static void *
race_thread(void *arg)
{
	racer *r = arg;
	prb_hash proof[PRB_MAX_PROOF], root = root_of(r->size);
	size_t plen, nlen, blen;
	prb_merkle_prove_consistency(reader, NULL, 4, r->size, proof, &plen);
	char *note = make_cp(logkey, "example.com/a", r->size, &root, &nlen);
	uint8_t *b = make_req(4, proof, plen, note, nlen, &blen);
	prb_witness_resp resp;
	pthread_mutex_lock(r->mu);
	while (!*r->go)
		pthread_cond_wait(r->cv, r->mu);
	pthread_mutex_unlock(r->mu);
	r->status = prb_witness_add(r->w, b, blen, 0, &resp);
	prb_witness_resp_free(&resp);
	free(b);
	free(note);
	return NULL;
}

static void
test_race_threads(void)
{
	char path[64];
	snprintf(path, sizeof path, "%s/race-threads.sqlite", tmpdir);
	prb_witness *w = open_w(path);
	CHECK(submit(w, logkey, "example.com/a", 0, 4) == 200, "race base");
	prb_witness_set_hook(w, hold, NULL);
	enum { N = 6 };
	pthread_t th[N];
	racer rs[N];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	int go = 0;
	for (int i = 0; i < N; i++) {
		rs[i] = (racer){w, (uint64_t)(10 + i), 0, 0, &mu, &cv, &go};
		pthread_create(&th[i], NULL, race_thread, &rs[i]);
	}
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	int ok = 0, conflict = 0;
	uint64_t winner = 0, size;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		if (rs[i].status == 200) {
			ok++;
			winner = rs[i].size;
		} else if (rs[i].status == 409) {
			conflict++;
		}
	}
	CHECK(ok == 1 && conflict == N - 1,
	      "threads racing from old 4: one 200 (%d), the rest 409 (%d)", ok,
	      conflict);
	prb_hash root;
	CHECK(prb_witness_state(w, "example.com/a", &size, &root, NULL) == 0 &&
	              size == winner,
	      "the state is the winner's size %llu (%llu)",
	      (unsigned long long)winner, (unsigned long long)size);
	prb_witness_close(w);
}

/* Two processes, each with its own handle on one state file, race from
 * old 4; each child exits 0 on 200, 1 on 409, 2 otherwise. */
static void
test_race_processes(void)
{
	char path[64];
	snprintf(path, sizeof path, "%s/race-procs.sqlite", tmpdir);
	prb_witness *w = open_w(path);
	CHECK(submit(w, logkey, "example.com/a", 0, 4) == 200, "race base");
	prb_witness_close(w);
	int gate[2];
	if (pipe(gate) != 0)
		abort();
	pid_t pids[2];
	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(gate[1]);
			prb_witness *cw = open_w(path);
			prb_witness_set_hook(cw, hold, NULL);
			char c;
			if (read(gate[0], &c, 1) < 0)
				_exit(3);
			unsigned st = submit(cw, logkey, "example.com/a", 4,
			                     (uint64_t)(20 + 10 * i));
			prb_witness_resp_free(&last);
			prb_witness_close(cw);
			_exit(st == 200 ? 0 : st == 409 ? 1 : 2);
		}
	}
	close(gate[0]);
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL); /* both children have opened the state */
	close(gate[1]);       /* both read EOF at once */
	int codes[2];
	for (int i = 0; i < 2; i++) {
		int stt = 0;
		waitpid(pids[i], &stt, 0);
		codes[i] = WIFEXITED(stt) ? WEXITSTATUS(stt) : 9;
	}
	CHECK((codes[0] == 0 && codes[1] == 1) ||
	              (codes[0] == 1 && codes[1] == 0),
	      "processes racing from old 4: one 200, one 409 (exits %d %d)",
	      codes[0], codes[1]);
	w = open_w(path);
	uint64_t size;
	prb_hash root;
	CHECK(prb_witness_state(w, "example.com/a", &size, &root, NULL) == 0 &&
	              size == (codes[0] == 0 ? 20u : 30u),
	      "state is the winner's (%llu)", (unsigned long long)size);
	prb_witness_close(w);
}

/* ---- the client against a witness over HTTP ---------------------------------- */

typedef struct {
	prb_witness *w;
	int corrupt; /* flip a character of a 200 body */
} srv;

typedef struct {
	prb_httpd_body b;
} srvconn;

static enum MHD_Result
srv_handle(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *data,
           size_t *size, void **con_cls)
{
	srv *s = cls;
	(void)version;
	if (!*con_cls) {
		if (strcmp(url, "/w/add-checkpoint") != 0 ||
		    strcmp(method, "POST") != 0)
			return prb_httpd_replyf(c, 404, "not found");
		srvconn *k = calloc(1, sizeof *k);
		k->b.max = PRB_WITNESS_MAX_BODY;
		*con_cls = k;
		return MHD_YES;
	}
	srvconn *k = *con_cls;
	if (*size) {
		prb_httpd_body_add(&k->b, data, *size);
		*size = 0;
		return MHD_YES;
	}
	prb_witness_resp r;
	prb_witness_add(s->w, k->b.buf, k->b.len, 0, &r);
	if (s->corrupt && r.status == 200 && r.len > 30)
		r.body[30] = r.body[30] == 'A' ? 'B' : 'A';
	enum MHD_Result ret = prb_httpd_reply(c, r.status, r.content_type, NULL,
	                                      r.body, r.len);
	prb_witness_resp_free(&r);
	return ret;
}

static void
srv_done(void *cls, struct MHD_Connection *c, void **con_cls,
         enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	srvconn *k = *con_cls;
	if (k) {
		prb_httpd_body_free(&k->b);
		free(k);
	}
}

static int
client_add(prb_http *h, const char *base, uint64_t old, uint64_t size,
           const prb_verifier *wv, char **line, uint64_t *wsize,
           prb_err *err)
{
	prb_hash proof[PRB_MAX_PROOF], root = root_of(size);
	size_t plen = 0, nlen;
	if (old > 0)
		prb_merkle_prove_consistency(reader, NULL, old, size, proof,
		                             &plen);
	char *note = make_cp(logkey, "example.com/a", size, &root, &nlen);
	int rc = prb_witness_add_checkpoint(h, base, (const uint8_t *)note,
	                                    nlen, old, proof, plen, wv, line,
	                                    wsize, err);
	free(note);
	return rc;
}

static void
test_client(void)
{
	srv s = {open_w(":memory:"), 0};
	prb_httpd_cfg cfg = {0};
	prb_httpd *d = NULL;
	prb_http *h = NULL;
	prb_err err;
	cfg.listen = "127.0.0.1:0";
	cfg.handler = srv_handle;
	cfg.handler_ctx = &s;
	cfg.completed = srv_done;
	if (prb_httpd_start(&cfg, &d, &err) ||
	    prb_http_new(NULL, 10000, 1 << 20, &h, &err)) {
		CHECK(0, "server/client start: %s", err.msg);
		prb_httpd_stop(d);
		prb_witness_close(s.w);
		return;
	}
	char base[160];
	snprintf(base, sizeof base, "%s/w/", prb_httpd_url(d));
	char *line = NULL;
	uint64_t ws = 0;
	int rc = client_add(h, base, 0, 6, &wver, &line, &ws, &err);
	CHECK(rc == 0 && line && strncmp(line, EMDASH " ", 4) == 0 &&
	              !strchr(line, '\n'),
	      "client: 200 gives the cosignature line (%d %s)", rc,
	      rc ? err.msg : line);
	if (rc == 0) {
		prb_hash r6 = root_of(6);
		size_t nlen;
		char *note = make_cp(logkey, "example.com/a", 6, &r6, &nlen);
		prb_note *n = NULL;
		uint64_t ts;
		prb_note_parse((const uint8_t *)note, nlen, &n, NULL);
		CHECK(ref_cosig_ok(line, &wver, n->text, &ts) && ts > 0,
		      "client's line verifies independently");
		prb_note_free(n);
		free(note);
	}
	free(line);
	line = NULL;
	rc = client_add(h, base, 0, 9, &wver, &line, &ws, &err);
	CHECK(rc == PRB_ECONFLICT && ws == 6 && !line,
	      "client: 409 gives PRB_ECONFLICT and size 6 (%d %llu)", rc,
	      (unsigned long long)ws);
	rc = client_add(h, base, ws, 9, &wver, &line, &ws, &err);
	CHECK(rc == 0, "client: retry from the witness's size: %d %s", rc,
	      err.msg);
	free(line);
	line = NULL;
	/* a proof that does not verify: the wrong old size's proof */
	{
		prb_hash proof[PRB_MAX_PROOF], root = root_of(12);
		size_t plen, nlen;
		prb_merkle_prove_consistency(reader, NULL, 8, 12, proof, &plen);
		char *note = make_cp(logkey, "example.com/a", 12, &root, &nlen);
		rc = prb_witness_add_checkpoint(h, base, (const uint8_t *)note,
		                                nlen, 9, proof, plen, &wver,
		                                &line, &ws, &err);
		CHECK(rc == PRB_EPROOF && strstr(err.msg, "422") &&
		              strstr(err.where, "/w/add-checkpoint"),
		      "client: 422 is PRB_EPROOF naming status and URL (%d %s "
		      "%s)", rc, err.where, err.msg);
		free(note);
	}
	/* a witness key we do not trust for this witness */
	prb_cosigner *ow = NULL;
	prb_verifier owv;
	prb_cosigner_generate("witness.example/other", &ow, NULL);
	prb_cosigner_verifier(ow, &owv);
	rc = client_add(h, base, 9, 10, &owv, &line, &ws, &err);
	CHECK(rc == PRB_ENOSIG && !line, "client: no line by the expected "
	      "witness key: PRB_ENOSIG (%d)", rc);
	prb_cosigner_free(ow);
	/* a log key as witness key */
	prb_verifier lv;
	prb_signer_verifier(logkey, &lv);
	CHECK(client_add(h, base, 10, 11, &lv, &line, &ws, &err) == PRB_EINVAL,
	      "client: a 0x01 key as witness key refused");
	/* a corrupted cosignature */
	s.corrupt = 1;
	rc = client_add(h, base, 10, 11, &wver, &line, &ws, &err);
	CHECK(rc == PRB_EBADSIG && !line,
	      "client: corrupted cosignature: PRB_EBADSIG (%d %s)", rc, err.msg);
	s.corrupt = 0;
	/* wrong URL: 404 */
	snprintf(base, sizeof base, "%s/nowhere", prb_httpd_url(d));
	rc = client_add(h, base, 11, 12, &wver, &line, &ws, &err);
	CHECK(rc == PRB_ENOTFOUND && strstr(err.msg, "404") &&
	              strstr(err.msg, "not found"),
	      "client: 404 names status and body (%d %s)", rc, err.msg);
	prb_http_free(h);
	prb_httpd_stop(d);
	prb_witness_close(s.w);
}

int
main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	init_leaves();
	test_cosigner();
	if (prb_signer_generate("example.com/a", &logkey, NULL) ||
	    prb_signer_generate("example.com/a", &otherkey, NULL) ||
	    prb_signer_generate("log-c.example", &logkey_b, NULL) ||
	    prb_cosigner_generate("witness.example/w1", &wkey, NULL))
		abort();
	prb_cosigner_verifier(wkey, &wver);
	test_config();
	char path[64];
	snprintf(path, sizeof path, "%s/state.sqlite", tmpdir);
	test_statuses(path);
	test_malformed();
	test_race_threads();
	test_race_processes();
	test_client();
	prb_witness_resp_free(&last);
	prb_signer_free(logkey);
	prb_signer_free(otherkey);
	prb_signer_free(logkey_b);
	prb_cosigner_free(wkey);
	t_rm_rf(tmpdir);
	return T_DONE("test_witness");
}
