/*
 * Fuzz harness: c2sp.org/signed-note opening (prb_note_open).
 *
 * The input is an untrusted signed note. It is opened against a fixed set
 * of verifier keys (Ed25519 type 0x01 and cosignature/v1 type 0x04, from
 * golang.org/x/mod note_test.go, c2sp.org and the shared test vectors), and
 * with no keys at all. On success the opened note must satisfy the
 * invariants prb_note_open documents, among them that every reported
 * signature carries its whole input line in prb_note_sig.line and that
 * every line of the signature block is accounted for; a violation calls
 * abort(). The input is also opened as a signed checkpoint.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/checkpoint.h"
#include "probity/note.h"

static const char *const vkeys[] = {
	/* golang.org/x/mod sumdb/note/note_test.go */
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	"EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
	/* golang.org/x/mod sumdb/client_test.go */
	("localhost.localdev/sumdb+00000c67+"
	 "AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6"),
	/* c2sp.org/signed-note example */
	"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	/* shared vectors: generated log1000 log key and its witness (0x04) */
	"example.com/log1000+1421a28f+ARteS+cPHncoRMO3XRdmEdbOhKXJLvdAigE0ES6StKKE",
	("witness.example.com/log1000-w1+e4d1643d+"
	 "BGGe9o1jlewxqHWu2TuNNKYxuO1gwRdvUE2lYBm/NvAL"),
	/* FiloSottile/sunlight testdata cosigners (0x04) */
	"witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN",
	"mirror.example.org+3fb148ef+BAAjjch9GyYz0sJsJx7ALhbdAtz2ov0unbzSl1vMp94O",
};
#define NVKEYS (sizeof vkeys / sizeof vkeys[0])
#define LOG1000 4 /* vkeys[LOG1000], vkeys[LOG1000 + 1]: log key, witness */

static prb_verifier vs[NVKEYS];


static void
init_verifiers(void)
{
	fuzz_verifiers(vkeys, NVKEYS, vs);
}

static void
check_opened(const prb_note *n, const uint8_t *data, size_t size)
{
	check(n != NULL && n->text != NULL);
	check(n->text_len > 0 && n->text_len < size);
	check(n->text[n->text_len - 1] == '\n');
	check(n->text[n->text_len] == '\0');
	/* No control characters but '\n', hence no NUL inside the text. */
	check(strlen(n->text) == n->text_len);
	check(memcmp(n->text, data, n->text_len) == 0);
	/* The text is followed by the blank line separating the signatures. */
	check(data[n->text_len] == '\n');
	check(n->nverified >= 1 && n->nverified <= n->nsigs);
	check(n->nsigs <= PRB_NOTE_MAX_SIGS);
	for (size_t i = 0; i < n->nsigs; i++) {
		const prb_note_sig *s = &n->sigs[i];
		check(s->name != NULL);
		size_t nl = strlen(s->name);
		check(nl > 0 && (nl <= PRB_NAME_MAX || i >= n->nverified));
		if (i < n->nverified) {
			const prb_verifier *v = s->verifier;
			check(v != NULL && v >= vs && v < vs + NVKEYS);
			check(strcmp(v->name, s->name) == 0 && v->id == s->id);
			if (v->type != PRB_SIG_COSIGV1)
				check(s->timestamp == 0);
			/* A known key signs at most once. */
			for (size_t j = 0; j < i; j++)
				check(n->sigs[j].verifier != v);
		} else {
			check(s->verifier == NULL);
		}
		/* The whole signature line, "— name base64" (prb_note_sig). */
		size_t ll = s->line_len;
		check(s->line != NULL && strlen(s->line) == ll);
		check(ll > 4 + nl && memcmp(s->line, "\xe2\x80\x94 ", 4) == 0);
		check(memcmp(s->line + 4, s->name, nl) == 0 &&
		      s->line[4 + nl] == ' ');
		for (size_t j = 0; j < i; j++)
			check(strcmp(n->sigs[j].line, s->line) != 0);
	}
	/* Each line of the signature block is one of the signatures, or a
	 * later one by a key that already verified (dropped unread), or a
	 * repeat of an identical unknown one (kept once); each signature is
	 * such a line. At most PRB_NOTE_MAX_SIGS lines. */
	unsigned char found[PRB_NOTE_MAX_SIGS] = {0};
	size_t off = n->text_len + 1, lines = 0;
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		check(nl != NULL);
		size_t ll = (size_t)(nl - (data + off)), i;
		lines++;
		for (i = 0; i < n->nsigs; i++)
			if (n->sigs[i].line_len == ll &&
			    memcmp(n->sigs[i].line, data + off, ll) == 0)
				break;
		if (i < n->nsigs) {
			found[i] = 1;
		} else {
			/* "— name ..." with the name of a verified key. */
			for (i = 0; i < n->nverified; i++) {
				size_t kl = strlen(n->sigs[i].name);
				if (ll > 4 + kl &&
				    memcmp(data + off + 4, n->sigs[i].name, kl) == 0 &&
				    data[off + 4 + kl] == ' ')
					break;
			}
			check(i < n->nverified);
		}
		off += ll + 1;
	}
	check(lines >= n->nsigs && lines <= PRB_NOTE_MAX_SIGS);
	for (size_t i = 0; i < n->nsigs; i++)
		check(found[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	prb_note *n = NULL;
	prb_err err;
	init_verifiers();

	prb_err_clear(&err);
	int rc = prb_note_open(data, size, vs, NVKEYS, &n, &err);
	if (rc == 0) {
		check(err.code == 0);
		check_opened(n, data, size);

		/* The opened text as a checkpoint body. */
		prb_checkpoint cp;
		if (prb_checkpoint_parse(n->text, n->text_len, &cp, NULL) == 0)
			check(cp.origin[0] != '\0');
		prb_note_free(n);
		n = NULL;
	} else {
		check(rc < 0 && err.code == rc && n == NULL);
		check(strnlen(err.msg, sizeof err.msg) < sizeof err.msg);
	}

	/* Without keys nothing can verify: never a success. */
	rc = prb_note_open(data, size, NULL, 0, &n, NULL);
	check(rc != 0 && n == NULL);

	/* The same note as a signed checkpoint of the log1000 log and
	 * its witness. */
	prb_checkpoint cp;
	prb_note *cn = NULL;
	rc = prb_checkpoint_open(data, size, &vs[LOG1000], 2, &cp, &cn, NULL);
	if (rc == 0) {
		check(cn != NULL && strcmp(cp.origin, vs[LOG1000].name) == 0);
		check(cn->nverified >= 1);
		prb_note_free(cn);
	} else {
		check(cn == NULL);
	}
	return 0;
}
