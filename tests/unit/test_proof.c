/*
 * c2sp.org/tlog-checkpoint texts (include/probity/checkpoint.h) and
 * c2sp.org/tlog-proof@v1 files and proof lines (include/probity/proof.h),
 * checked against:
 *   - known answers written in below (always run): the tlog-checkpoint.md
 *     example, negative cases derived from that spec and tlog-proof.md, and
 *     the log1000 checkpoint and index-999 proof of the shared vectors;
 *   - $PRB_SHARED/vectors/tlog-proof.json and the checkpoints inside
 *     note.json when present.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/checkpoint.h"
#include "probity/error.h"
#include "probity/merkle.h"
#include "probity/note.h"
#include "probity/proof.h"
#include "t.h"
#include "vec.h"

#define EMDASH "\xe2\x80\x94"

/* note.json keys "log1000" and "log1000-witness" (generated test keys,
 * seeds SHA-256("log1000 test log key") / ("log1000 test witness key")),
 * and case "generated-log1000-checkpoint": the checkpoint of log1000.json's
 * tree at size 1000, signed by the log and cosigned at time 1700000000. */
#define LOG_VKEY "example.com/log1000+1421a28f+ARteS+cPHncoRMO3XRdmEdbOhKXJLvdAigE0ES6StKKE"
#define WIT_VKEY \
	"witness.example.com/log1000-w1+e4d1643d+BGGe9o1jlewxqHWu2TuNNKYxuO1gwRdvUE2lYBm/NvAL"
#define ROOT_1000 "0D1jt3KvmQGYF+4+AYKG02omFhvbW/6CKOksAqvpEV0="
#define CP_TEXT "example.com/log1000\n1000\n" ROOT_1000 "\n"
#define CP_SIGS \
	EMDASH " example.com/log1000 FCGij9qPYyDbFxFK1KJdSTw/HeqyJJt129aGdjU+" \
	"asclvAczTOGWasMb4Yek6zwy2X7KYMNIrytWpCdDIJpybl9cYgs=\n" EMDASH         \
	" witness.example.com/log1000-w1 5NFkPQAAAABlU/EAWvZDyU1LBtqfr1Cg2GDm7" \
	"4fbzdlUwB9GJ5chevrlmNQfAm/gvL2h2H6xFksYj/DMWtopft6hL8ZRXHuNtlOvAg==\n"
#define CP_NOTE CP_TEXT "\n" CP_SIGS
/* The size-999 root of log1000.json, used to forge a checkpoint. */
#define ROOT_999 "H5NNb7qOrou449ordEREeeimM7WWSrg/rLdNhcwql04="
/* golang.org/x/mod sumdb/note note_test.go: a key that did not sign. */
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

/* log1000.json: the inclusion proof of entry 999 at size 1000
 * (tlog.ProveRecord); tlog-proof.json case "index-999". */
#define PATH_999                                                        \
	"LzXUTods+gDyeOXgC6VcuN5hImbhyg3xuzUkOmYwUGI=\n"                    \
	"NBUtVqwDFtXVyfW5MdTCN2VvA0W1VlMzJC4L27GOTF8=\n"                    \
	"FzKYE8swvAm3Fcrgoozd/9ZVDMFVXngWXVLKygiCiW8=\n"                    \
	"kinoqUEfZTozL65QFjhA3UPgKxb9Uj7qU7LKvrzudSM=\n"                    \
	"7Ij6SC+iKgx7Yagkr1GDkFAR9ff1y8O1g6lzL4jaysE=\n"                    \
	"PetlIH6NMUvDpKAmwQK7MMFyxHRP6o0aW6FKsodE5G0=\n"                    \
	"6rzn4pEUwLVlYUXku3/JJxjFw1sMNEDQ4GnDovjcnHM=\n"                    \
	"yVSZmstk87dU2dEo15xto2DYeDU57KpKz6f0tLIOqv0=\n"
#define PROOF_999 "c2sp.org/tlog-proof@v1\nindex 999\n" PATH_999 "\n" CP_NOTE
/* tlog-proof.json "index-999-with-extra": extra = base64("entry-999"). */
#define PROOF_999_EXTRA \
	"c2sp.org/tlog-proof@v1\nextra ZW50cnktOTk5\nindex 999\n" PATH_999 "\n" CP_NOTE

static int
cp_parse(const char *text, prb_checkpoint *cp, prb_err *err)
{
	prb_err_clear(err);
	return prb_checkpoint_parse(text, strlen(text), cp, err);
}

static bool
root_is(const prb_hash *h, const char *b64)
{
	prb_hash want;
	return vec_b64_hash(b64, &want) == 0 && !memcmp(h, &want, sizeof want);
}

/* ------------------------------------------------------------------ */
/* Checkpoints                                                         */

static void
kat_checkpoint(void)
{
	prb_checkpoint cp;
	prb_err err;
	char buf[PRB_CHECKPOINT_MAX];
	int rc;

	/* c2sp.org/tlog-checkpoint: the example in the spec. */
	static const char ex[] = "example.com/behind-the-sofa\n20852163\n"
	                         "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	rc = cp_parse(ex, &cp, &err);
	CHECK(rc == 0 && !strcmp(cp.origin, "example.com/behind-the-sofa") &&
	              cp.size == 20852163 &&
	              root_is(&cp.root, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=") &&
	              cp.n_extensions == 0,
	      "tlog-checkpoint.md example (rc %d)", rc);
	rc = prb_checkpoint_format(&cp, buf, sizeof buf);
	CHECK(rc == (int)strlen(ex) && !strcmp(buf, ex), "format (rc %d)", rc);
	rc = prb_checkpoint_format(&cp, buf, 20);
	CHECK(rc == PRB_EINVAL, "format into 20 bytes (rc %d)", rc);

	rc = cp_parse("example.com/behind-the-sofa\n20852163\n"
	              "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next one\n+2\n",
	              &cp, &err);
	CHECK(rc == 0 && cp.n_extensions == 2, "two extension lines (rc %d)", rc);
	/* The empty tree: size 0, root SHA-256(""). */
	rc = cp_parse("log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", &cp,
	              &err);
	CHECK(rc == 0 && cp.size == 0, "size 0 (rc %d)", rc);
	/* checkpoint.h: sizes up to 2^63 - 1. */
	rc = cp_parse("log\n9223372036854775807\n" ROOT_1000 "\n", &cp, &err);
	CHECK(rc == 0 && cp.size == INT64_MAX, "size 2^63 - 1 (rc %d)", rc);
	rc = cp_parse(CP_TEXT, &cp, &err);
	CHECK(rc == 0 && !strcmp(cp.origin, "example.com/log1000") &&
	              cp.size == 1000 && root_is(&cp.root, ROOT_1000),
	      "log1000 checkpoint (rc %d)", rc);
}

/* Each breaks c2sp.org/tlog-checkpoint or checkpoint.h; `line` is the
 * 1-based line checkpoint.h's err->offset names (0: not checked). */
static const struct {
	const char *text;
	unsigned line;
} bad_checkpoints[] = {
	{"", 0},
	{"log\n", 0},
	{"log\n1\n", 0},                                /* fewer than 3 lines */
	{"log\n1\n" ROOT_1000, 0},                      /* no final newline */
	{"\n1\n" ROOT_1000 "\n", 1},                    /* empty origin */
	{"log\n01\n" ROOT_1000 "\n", 2},                /* leading zero */
	{"log\n00\n" ROOT_1000 "\n", 2},
	{"log\n+1\n" ROOT_1000 "\n", 2},
	{"log\n-1\n" ROOT_1000 "\n", 2},
	{"log\n 1\n" ROOT_1000 "\n", 2},
	{"log\n1 \n" ROOT_1000 "\n", 2},
	{"log\n0x10\n" ROOT_1000 "\n", 2},
	{"log\n1e3\n" ROOT_1000 "\n", 2},
	{"log\n\n" ROOT_1000 "\n", 2},
	{"log\n9223372036854775808\n" ROOT_1000 "\n", 2}, /* 2^63 */
	{"log\n18446744073709551616\n" ROOT_1000 "\n", 2}, /* 2^64 */
	{"log\n99999999999999999999999\n" ROOT_1000 "\n", 2},
	{"log\n1\n\n", 3},
	{"log\n1\nAAAA\n", 3},                                           /* 3 bytes */
	{"log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", 3},   /* 31 */
	{"log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", 3}, /* 33 */
	{"log\n1\n0D1jt3KvmQGYF+4+AYKG02omFhvbW/6CKOksAqvpEV0\n", 3}, /* no pad */
	{"log\n1\n0D1jt3KvmQGYF+4+AYKG02omFhvbW/6CKOksAqvpEV0==\n", 3},
	{"log\n1\n0D1jt3KvmQGYF-4-AYKG02omFhvbW_6CKOksAqvpEV0=\n", 3}, /* url */
	{"log\n1\n 0D1jt3KvmQGYF+4+AYKG02omFhvbW/6CKOksAqvpEV0=\n", 3},
	{"log\n1\n" ROOT_1000 "\n\n", 4}, /* extension lines are non-empty */
	{"log\n1\n" ROOT_1000 "\next\n\n", 5},
};

static void
kat_bad_checkpoints(void)
{
	prb_checkpoint cp;
	prb_err err;
	char origin[PRB_NAME_MAX + 64];

	for (size_t i = 0; i < sizeof bad_checkpoints / sizeof bad_checkpoints[0];
	     i++) {
		unsigned line = bad_checkpoints[i].line;
		int rc = cp_parse(bad_checkpoints[i].text, &cp, &err);
		CHECK(rc == PRB_EMALFORMED && err.code == PRB_EMALFORMED &&
		              (!line || err.offset == line),
		      "bad checkpoint %zu: rc %d, line %llu (want %u)", i, rc,
		      (unsigned long long)err.offset, line);
	}
	/* checkpoint.h: origins longer than PRB_NAME_MAX are rejected. */
	memset(origin, 'o', PRB_NAME_MAX + 1);
	snprintf(origin + PRB_NAME_MAX + 1, 64, "\n1\n%s\n", ROOT_1000);
	int rc = cp_parse(origin, &cp, &err);
	CHECK(rc == PRB_EMALFORMED, "%d-byte origin (rc %d)", PRB_NAME_MAX + 1, rc);
	memmove(origin + 1, origin + 2, strlen(origin + 2) + 1);
	rc = cp_parse(origin, &cp, &err);
	CHECK(rc == 0 && strlen(cp.origin) == PRB_NAME_MAX,
	      "%d-byte origin (rc %d)", PRB_NAME_MAX, rc);
}

static void
kat_checkpoint_open(void)
{
	prb_verifier vs[3];
	prb_checkpoint cp;
	prb_note *n = NULL;
	int rc;

	if (prb_verifier_parse(LOG_VKEY, strlen(LOG_VKEY), &vs[0], NULL) ||
	    prb_verifier_parse(WIT_VKEY, strlen(WIT_VKEY), &vs[1], NULL) ||
	    prb_verifier_parse(PETER_VKEY, strlen(PETER_VKEY), &vs[2], NULL)) {
		CHECK(0, "cannot parse the log1000 keys");
		return;
	}
	const uint8_t *msg = (const uint8_t *)CP_NOTE;
	size_t len = strlen(CP_NOTE);
	rc = prb_checkpoint_open(msg, len, vs, 2, &cp, &n, NULL);
	CHECK(rc == 0 && cp.size == 1000 && root_is(&cp.root, ROOT_1000) && n &&
	              n->nverified == 2,
	      "open log1000 checkpoint with log and witness keys (rc %d)", rc);
	if (n)
		prb_note_free(n);
	rc = prb_checkpoint_open(msg, len, vs, 1, &cp, NULL, NULL);
	CHECK(rc == 0, "open with the log key only (rc %d)", rc);
	/* checkpoint.h: the origin must be the first verifier's name. */
	rc = prb_checkpoint_open(msg, len, vs + 1, 1, &cp, NULL, NULL);
	CHECK(rc == PRB_EORIGIN, "witness key first (rc %d)", rc);
	rc = prb_checkpoint_open(msg, len, vs + 2, 1, &cp, NULL, NULL);
	CHECK(rc == PRB_ENOSIG, "unrelated key (rc %d)", rc);

	static const char forged[] = "example.com/log1000\n1000\n" ROOT_999 "\n\n" CP_SIGS;
	rc = prb_checkpoint_open((const uint8_t *)forged, strlen(forged), vs, 2,
	                         &cp, NULL, NULL);
	CHECK(rc == PRB_EBADSIG, "size-999 root under the size-1000 signature "
	                         "(rc %d)", rc);
}

/* ------------------------------------------------------------------ */
/* tlog-proof                                                          */

static int
tp_parse(const char *text, prb_tlog_proof **p, prb_err *err)
{
	*p = NULL;
	prb_err_clear(err);
	return prb_tlog_proof_parse((const uint8_t *)text, strlen(text), p, err);
}

static int
tp_verify(const prb_tlog_proof *p, const char *entry, const prb_verifier *vs,
          size_t nvs, prb_checkpoint *cp)
{
	return prb_tlog_proof_verify(p, (const uint8_t *)entry, strlen(entry), vs,
	                             nvs, cp, NULL);
}

static void
kat_tlog_proof_parse(void)
{
	prb_tlog_proof *p = NULL;
	prb_err err;
	prb_hash h0;
	int rc = tp_parse(PROOF_999, &p, &err);

	/* The first hash is the sibling leaf, entry 998 (RFC 6962 PATH). */
	prb_merkle_leaf_hash((const uint8_t *)"entry-998", 9, &h0);
	CHECK(rc == 0 && p && p->index == 999 && p->path_len == 8 &&
	              !memcmp(&p->path[0], &h0, sizeof h0) &&
	              root_is(&p->path[7],
	                      "yVSZmstk87dU2dEo15xto2DYeDU57KpKz6f0tLIOqv0=") &&
	              !p->extra && p->checkpoint_len == strlen(CP_NOTE) &&
	              !memcmp(p->checkpoint, CP_NOTE, p->checkpoint_len),
	      "parse the index-999 proof (rc %d)", rc);
	if (rc == 0 && p) {
		char *out = NULL;
		size_t len = 0;
		rc = prb_tlog_proof_format(p->index, p->path, p->path_len, NULL, 0,
		                           p->checkpoint, p->checkpoint_len, &out,
		                           &len);
		CHECK(rc == 0 && out && len == strlen(PROOF_999) &&
		              !strcmp(out, PROOF_999),
		      "format reproduces the proof (rc %d)", rc);
		free(out);
		out = NULL;
		rc = prb_tlog_proof_format(p->index, p->path, p->path_len,
		                           (const uint8_t *)"entry-999", 9,
		                           p->checkpoint, p->checkpoint_len, &out,
		                           &len);
		CHECK(rc == 0 && out && !strcmp(out, PROOF_999_EXTRA),
		      "format with extra (rc %d)", rc);
		free(out);
	}
	prb_tlog_proof_free(p);
	rc = tp_parse(PROOF_999_EXTRA, &p, &err);
	CHECK(rc == 0 && p && p->extra && p->extra_len == 9 &&
	              !memcmp(p->extra, "entry-999", 9) && p->path_len == 8,
	      "parse extra (rc %d)", rc);
	prb_tlog_proof_free(p);
	prb_tlog_proof_free(NULL);
}

static void
kat_tlog_proof_verify(void)
{
	prb_verifier vs[3];
	prb_tlog_proof *p = NULL;
	prb_checkpoint cp;
	prb_err err;

	if (prb_verifier_parse(LOG_VKEY, strlen(LOG_VKEY), &vs[0], NULL) ||
	    prb_verifier_parse(WIT_VKEY, strlen(WIT_VKEY), &vs[1], NULL) ||
	    prb_verifier_parse(PETER_VKEY, strlen(PETER_VKEY), &vs[2], NULL) ||
	    tp_parse(PROOF_999, &p, &err)) {
		CHECK(0, "cannot set up the index-999 proof");
		prb_tlog_proof_free(p);
		return;
	}
	memset(&cp, 0, sizeof cp);
	int rc = tp_verify(p, "entry-999", vs, 1, &cp);
	CHECK(rc == 0 && cp.size == 1000 && root_is(&cp.root, ROOT_1000) &&
	              !strcmp(cp.origin, "example.com/log1000"),
	      "entry-999 verifies (rc %d)", rc);
	rc = tp_verify(p, "entry-999", vs, 2, NULL);
	CHECK(rc == 0, "with the witness too (rc %d)", rc);
	rc = tp_verify(p, "entry-998", vs, 1, NULL);
	CHECK(rc == PRB_EPROOF, "entry-998 (rc %d)", rc);
	rc = tp_verify(p, "entry-999", vs + 1, 1, NULL);
	CHECK(rc == PRB_EORIGIN, "witness as the log key (rc %d)", rc);
	rc = tp_verify(p, "entry-999", vs + 2, 1, NULL);
	CHECK(rc == PRB_ENOSIG, "unrelated key (rc %d)", rc);
	p->index = 998;
	rc = tp_verify(p, "entry-999", vs, 1, NULL);
	CHECK(rc == PRB_EPROOF, "index 998 (rc %d)", rc);
	p->index = 999;
	p->path[3].b[7] ^= 0x20;
	rc = tp_verify(p, "entry-999", vs, 1, NULL);
	CHECK(rc == PRB_EPROOF, "flipped bit (rc %d)", rc);
	p->path[3].b[7] ^= 0x20;
	p->path_len--;
	rc = tp_verify(p, "entry-999", vs, 1, NULL);
	CHECK(rc == PRB_EPROOF, "truncated path (rc %d)", rc);
	prb_tlog_proof_free(p);
}

/* Each breaks c2sp.org/tlog-proof@v1 (line: err->offset, 0 unchecked). */
#define H1 "LzXUTods+gDyeOXgC6VcuN5hImbhyg3xuzUkOmYwUGI=\n"
static const struct {
	const char *text;
	unsigned line;
} bad_proofs[] = {
	{"", 0},
	{"c2sp.org/tlog-proof@v2\nindex 999\n" PATH_999 "\n" CP_NOTE, 1},
	{"c2sp.org/tlog-proof@v1 \nindex 999\n" PATH_999 "\n" CP_NOTE, 1},
	{"c2sp.org/tlog-proof@v1\nindex 0999\n" PATH_999 "\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nindex 00\n\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nindex -1\n\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nindex +1\n" H1 "\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nindex  999\n" PATH_999 "\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nindex\n\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nIndex 999\n" PATH_999 "\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\n" PATH_999 "\n" CP_NOTE, 2}, /* no index */
	{"c2sp.org/tlog-proof@v1\nextra !!!!\nindex 999\n" PATH_999 "\n" CP_NOTE, 2},
	{"c2sp.org/tlog-proof@v1\nindex 999\nextra ZW50cnktOTk5\n" PATH_999
	 "\n" CP_NOTE, 3}, /* extra comes before index */
	{"c2sp.org/tlog-proof@v1\nindex 999\n" PATH_999 CP_NOTE, 0},
	{"c2sp.org/tlog-proof@v1\nindex 999\nAAAA\n\n" CP_NOTE, 3},
	{"c2sp.org/tlog-proof@v1\nindex 999\n" H1 "not base64\n\n" CP_NOTE, 4},
	{"c2sp.org/tlog-proof@v1\nindex 999\n" PATH_999 "\n", 0}, /* no checkpoint */
	{"c2sp.org/tlog-proof@v1\nindex 999\n" PATH_999, 0},
};

static void
kat_bad_proofs(void)
{
	prb_tlog_proof *p;
	prb_err err;

	for (size_t i = 0; i < sizeof bad_proofs / sizeof bad_proofs[0]; i++) {
		unsigned line = bad_proofs[i].line;
		int rc = tp_parse(bad_proofs[i].text, &p, &err);
		CHECK(rc == PRB_EMALFORMED && (!line || err.offset == line),
		      "bad tlog-proof %zu: rc %d, line %llu (want %u)", i, rc,
		      (unsigned long long)err.offset, line);
		if (rc == 0)
			prb_tlog_proof_free(p);
	}
	/* Index 0 is written "0"; an empty path is a valid size-1 proof. */
	int rc = tp_parse("c2sp.org/tlog-proof@v1\nindex 0\n\n" CP_NOTE, &p, &err);
	CHECK(rc == 0 && p && p->index == 0 && p->path_len == 0,
	      "index 0 with an empty path (rc %d)", rc);
	if (rc == 0)
		prb_tlog_proof_free(p);
}

/* log1000.json: the consistency proof 256 -> 1000 (tlog.ProveTree), in the
 * tlog-witness body form, one base64 hash per line. */
static void
kat_proof_lines(void)
{
	static const char text[] = "MUv1ErFfDGcUlQkVAv4BKFNFh6BHpM8ERmyt+nSDzB0=\n"
	                           "0pUD4PYEmhlTwaL9L5UWJJha89FXWrJMM0Mcaywfuik=\n";
	prb_hash p[PRB_MAX_PROOF], q[PRB_MAX_PROOF];
	size_t n = 0, m = 0, len = 0;
	char *out = NULL;
	int rc = prb_proof_lines_parse((const uint8_t *)text, strlen(text), p, &n,
	                               NULL);

	CHECK(rc == 0 && n == 2 &&
	              root_is(&p[0], "MUv1ErFfDGcUlQkVAv4BKFNFh6BHpM8ERmyt+nSDzB0=") &&
	              root_is(&p[1], "0pUD4PYEmhlTwaL9L5UWJJha89FXWrJMM0Mcaywfuik="),
	      "parse proof lines (rc %d, n %zu)", rc, n);
	rc = prb_proof_lines_format(p, 2, &out, &len);
	CHECK(rc == 0 && out && len == strlen(text) && !memcmp(out, text, len),
	      "format proof lines (rc %d)", rc);
	free(out);
	rc = prb_proof_lines_parse((const uint8_t *)"", 0, q, &m, NULL);
	CHECK(rc == 0 && m == 0, "an empty proof (rc %d)", rc);
	static const char *const bad[] = {
		"MUv1ErFfDGcUlQkVAv4BKFNFh6BHpM8ERmyt+nSDzB0=",   /* no newline */
		"MUv1ErFfDGcUlQkVAv4BKFNFh6BHpM8ERmyt+nSDzB0\n",  /* no padding */
		"AAAA\n",                                         /* 3 bytes */
		"MUv1ErFfDGcUlQkVAv4BKFNFh6BHpM8ERmyt+nSDzB0=\n\n",
		"not base64 at all\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rc = prb_proof_lines_parse((const uint8_t *)bad[i], strlen(bad[i]), q,
		                           &m, NULL);
		CHECK(rc == PRB_EMALFORMED, "bad proof lines %zu (rc %d)", i, rc);
	}
}

/* ------------------------------------------------------------------ */
/* tlog-proof.json and the checkpoints of note.json                    */

static void
json_tlog_proof(const json_t *v, const prb_verifier *vs)
{
	const char *id = vec_str(v, "id"), *text = vec_str(v, "proof_text");
	const char *entry = vec_str(v, "entry");
	bool want_valid = json_is_true(json_object_get(v, "want_valid"));
	prb_tlog_proof *p = NULL;
	prb_checkpoint cp;
	prb_err err;
	prb_hash lh;
	int prc = tp_parse(text, &p, &err), vrc = 1;

	prb_merkle_leaf_hash((const uint8_t *)entry, strlen(entry), &lh);
	CHECK(root_is(&lh, vec_str(v, "leaf_hash_b64")), "%s: leaf hash", id);
	if (prc == 0)
		vrc = tp_verify(p, entry, vs, 2, &cp);
	if (!want_valid) {
		CHECK(prc == PRB_EMALFORMED || (prc == 0 && vrc == PRB_EPROOF),
		      "%s (%s): parse %d, verify %d", id, vec_str(v, "why_invalid"),
		      prc, vrc);
		prb_tlog_proof_free(p);
		return;
	}
	CHECK(prc == 0 && vrc == 0 && cp.size == 1000 &&
	              root_is(&cp.root, ROOT_1000),
	      "%s: parse %d, verify %d", id, prc, vrc);
	if (prc == 0) {
		char *out = NULL;
		size_t len = 0;
		int rc = prb_tlog_proof_format(p->index, p->path, p->path_len,
		                               p->extra, p->extra_len, p->checkpoint,
		                               p->checkpoint_len, &out, &len);
		CHECK(rc == 0 && out && !strcmp(out, text), "%s: format round trip",
		      id);
		free(out);
	}
	prb_tlog_proof_free(p);
}

static void
vectors_tlog_proof(void)
{
	const char *path = t_shared("vectors/tlog-proof.json");
	prb_verifier vs[2];
	json_t *j, *v;
	size_t i;

	if (!path) {
		SKIP("vectors/tlog-proof.json not found (set PRB_SHARED)");
		return;
	}
	if (!(j = vec_load_json(path, 0)) ||
	    prb_verifier_parse(LOG_VKEY, strlen(LOG_VKEY), &vs[0], NULL) ||
	    prb_verifier_parse(WIT_VKEY, strlen(WIT_VKEY), &vs[1], NULL)) {
		CHECK(0, "cannot load %s", path);
		json_decref(j);
		return;
	}
	json_array_foreach(json_object_get(j, "vectors"), i, v)
		json_tlog_proof(v, vs);
	CHECK(json_array_size(json_object_get(j, "vectors")) == 11,
	      "11 tlog-proof vectors");
	json_decref(j);
}

/* Checks prb_checkpoint_parse of a checkpoint text against its own
 * lines, split here: origin, decimal size, base64 root. */
static void
checkpoint_text(const char *id, const char *text)
{
	char origin[PRB_NAME_MAX + 1], root[64];
	unsigned long long size;
	prb_checkpoint cp;
	prb_err err;

	if (sscanf(text, "%255[^\n]\n%llu\n%63[^\n]\n", origin, &size, root) != 3) {
		CHECK(0, "%s: not a checkpoint text", id);
		return;
	}
	int rc = cp_parse(text, &cp, &err);
	CHECK(rc == 0 && !strcmp(cp.origin, origin) && cp.size == size &&
	              root_is(&cp.root, root),
	      "%s: checkpoint text (rc %d)", id, rc);
}

static bool
has_tag(const json_t *c, const char *tag)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(c, "tags"), i, t) {
		if (!strcmp(json_string_value(t) ? json_string_value(t) : "", tag))
			return true;
	}
	return false;
}

static void
vectors_note_checkpoints(void)
{
	const char *path = t_shared("vectors/note.json");
	json_t *j, *c;
	size_t i, n = 0;

	if (!path) {
		SKIP("vectors/note.json not found (set PRB_SHARED)");
		return;
	}
	if (!(j = vec_load_json(path, 0))) {
		CHECK(0, "cannot load %s", path);
		return;
	}
	json_array_foreach(json_object_get(j, "open_cases"), i, c) {
		const char *text = vec_str(json_object_get(c, "expect"), "text");
		if (!*text || !(has_tag(c, "checkpoint") || has_tag(c, "tree-note")))
			continue;
		checkpoint_text(vec_str(c, "id"), text);
		n++;
	}
	CHECK(n >= 8, "%zu checkpoint texts in note.json", n);
	json_decref(j);
}

int
main(void)
{
	kat_checkpoint();
	kat_bad_checkpoints();
	kat_checkpoint_open();
	kat_tlog_proof_parse();
	kat_tlog_proof_verify();
	kat_bad_proofs();
	kat_proof_lines();
	vectors_tlog_proof();
	vectors_note_checkpoints();
	return T_DONE("test_proof");
}
