/*
 * Fuzz harness: c2sp.org/signed-note key strings (prb_signer_parse,
 * prb_verifier_parse).
 *
 * The input is untrusted key text, parsed both as a signer key and as a
 * verifier key. When a signer parses, its verifier key string must re-parse
 * as a verifier with the same name, key ID and public key, its signer key
 * string must re-parse to the same key, and a note it signs must open with
 * its verifier. When a verifier parses, formatting and re-parsing it must
 * give the same key. Signers are always freed (and so wiped) with
 * prb_signer_free. A violation calls abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/note.h"


static int
same_verifier(const prb_verifier *a, const prb_verifier *b)
{
	return strcmp(a->name, b->name) == 0 && a->id == b->id &&
	       a->type == b->type && memcmp(a->pub, b->pub, 32) == 0;
}

static void
check_signer(prb_signer *s)
{
	char vkey[PRB_KEY_MAX], skey[PRB_KEY_MAX];
	prb_verifier v, from_vkey;
	const char *name = prb_signer_name(s);
	size_t nl = strlen(name);
	check(nl > 0 && nl <= PRB_NAME_MAX);

	prb_signer_verifier(s, &v);
	check(strcmp(v.name, name) == 0 && v.type == PRB_SIG_ED25519);

	check(prb_signer_vkey(s, vkey, sizeof vkey) == 0);
	check(prb_verifier_parse(vkey, strlen(vkey), &from_vkey, NULL) == 0);
	check(same_verifier(&v, &from_vkey));

	check(prb_signer_skey(s, skey, sizeof skey) == 0);
	prb_signer *s2 = NULL;
	check(prb_signer_parse(skey, strlen(skey), &s2, NULL) == 0);
	prb_verifier v2;
	prb_signer_verifier(s2, &v2);
	check(same_verifier(&v, &v2));
	char skey2[PRB_KEY_MAX];
	check(prb_signer_skey(s2, skey2, sizeof skey2) == 0);
	check(strcmp(skey, skey2) == 0);
	prb_signer_free(s2);
	memset(skey, 0, sizeof skey);
	memset(skey2, 0, sizeof skey2);

	/* Too small a buffer is refused, not overrun. */
	check(prb_signer_vkey(s, vkey, strlen(vkey)) == PRB_EINVAL);

	/* Sign a note and open it with the matching verifier. */
	static const char text[] = "fuzz_key\n";
	char *note = NULL;
	size_t note_len = 0;
	prb_signer *const signers[] = {s};
	check(prb_note_sign(text, sizeof text - 1, signers, 1, &note,
	                    &note_len, NULL) == 0);
	prb_note *n = NULL;
	check(prb_note_open((const uint8_t *)note, note_len, &v, 1, &n,
	                    NULL) == 0);
	check(n->nverified == 1 && n->nsigs == 1 &&
	      n->text_len == sizeof text - 1 && n->sigs[0].verifier == &v);
	prb_note_free(n);
	free(note);
}

static void
check_verifier(const prb_verifier *v)
{
	char buf[PRB_KEY_MAX];
	prb_verifier again;
	size_t nl = strnlen(v->name, sizeof v->name);
	check(nl > 0 && nl <= PRB_NAME_MAX);
	check(v->type == PRB_SIG_ED25519 || v->type == PRB_SIG_COSIGV1);
	check(prb_verifier_format(v, buf, sizeof buf) == 0);
	check(prb_verifier_parse(buf, strlen(buf), &again, NULL) == 0);
	check(same_verifier(v, &again));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *key = (const char *)data;
	prb_signer *s = NULL;
	prb_verifier v;
	prb_err err;

	prb_err_clear(&err);
	int rc = prb_signer_parse(key, size, &s, &err);
	int signer_ok = rc == 0;
	if (rc == 0) {
		check(s != NULL);
		check_signer(s);
		prb_signer_free(s);
	} else {
		check(rc == PRB_EKEY && err.code == rc);
	}

	prb_err_clear(&err);
	rc = prb_verifier_parse(key, size, &v, &err);
	if (rc == 0)
		check_verifier(&v);
	else
		check(rc == PRB_EKEY && err.code == rc);

	/* A signer key never parses as a verifier key: "PRIVATE" and "KEY"
	 * cannot be a name and a key ID. */
	check(!(signer_ok && rc == 0));
	return 0;
}
