/*
 * Fuzz harness: c2sp.org/tlog-witness add-checkpoint request bodies
 * (prb_witness_parse_request, prb_witness_format_request, prb_witness_add).
 *
 * The input is an untrusted request body. When its framing parses, the
 * fields must be in range and formatting them again must give a body of
 * the same length that parses to the same fields. The body is then
 * processed by a fresh witness (state in memory, a fixed cosigner key)
 * that trusts the shared vectors' log1000 key for origin
 * example.com/log1000: the status must be one the spec defines (never
 * 500), 400 whenever the framing did not parse, a 409 body the decimal
 * stored size (0) with content type text/x.tlog.size, and a 200 body one
 * cosignature line that verifies over the checkpoint's text with the
 * witness key, after which the stored size is the checkpoint's. A
 * violation calls abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/checkpoint.h"
#include "probity/note.h"
#include "probity/witness.h"

static const char *const vkeys[] = {
	/* shared vectors: the generated log1000 log key */
	"example.com/log1000+1421a28f+ARteS+cPHncoRMO3XRdmEdbOhKXJLvdAigE0ES6StKKE",
};
/* A fixed cosigner (seed = 32 bytes of 0x07) named fuzz.example/w. */
static const char wskey[] = "PRIVATE+KEY+fuzz.example/w+b9351f41+"
                            "BAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";

static prb_verifier vs[1];
static prb_cosigner *wkey;
static prb_verifier wver;

static void
init(void)
{
	fuzz_verifiers(vkeys, 1, vs);
	if (wkey)
		return;
	check(prb_cosigner_parse(wskey, strlen(wskey), &wkey, NULL) == 0);
	prb_cosigner_verifier(wkey, &wver);
}

static void
check_framing(const uint8_t *data, size_t size, const prb_witness_req *req)
{
	check(req->old_size <= (uint64_t)INT64_MAX);
	check(req->proof_len <= PRB_WITNESS_MAX_PROOF);
	check(req->note > data && req->note + req->note_len == data + size);
	check(req->note_len > 0);
	uint8_t *again;
	size_t alen;
	check(prb_witness_format_request(req->old_size, req->proof,
	                                 req->proof_len, req->note,
	                                 req->note_len, &again, &alen) == 0);
	check(alen == size);
	prb_witness_req r2;
	check(prb_witness_parse_request(again, alen, &r2, NULL) == 0);
	check(r2.old_size == req->old_size && r2.proof_len == req->proof_len);
	check(memcmp(r2.proof, req->proof,
	             req->proof_len * sizeof req->proof[0]) == 0);
	check(r2.note_len == req->note_len &&
	      memcmp(r2.note, req->note, req->note_len) == 0);
	free(again);
}

static void
check_cosigned(prb_witness *w, const prb_witness_req *req,
               const prb_witness_resp *r)
{
	prb_note *n = NULL, *cn = NULL;
	prb_checkpoint cp;
	check(r->len > 0 && r->body[r->len - 1] == '\n');
	check(memchr(r->body, '\n', r->len) == r->body + r->len - 1);
	check(prb_note_open(req->note, req->note_len, vs, 1, &n, NULL) == 0);
	check(prb_checkpoint_parse(n->text, n->text_len, &cp, NULL) == 0);
	size_t mlen = n->text_len + 1 + r->len;
	uint8_t *m = malloc(mlen);
	check(m != NULL);
	memcpy(m, n->text, n->text_len);
	m[n->text_len] = '\n';
	memcpy(m + n->text_len + 1, r->body, r->len);
	check(prb_note_open(m, mlen, &wver, 1, &cn, NULL) == 0);
	check(cn->nverified == 1 && cn->sigs[0].timestamp == 1700000000);
	uint64_t size;
	prb_hash root;
	check(prb_witness_state(w, cp.origin, &size, &root, NULL) == 0);
	check(size == cp.size && prb_hash_equal(&root, &cp.root));
	free(m);
	prb_note_free(n);
	prb_note_free(cn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	prb_witness_req req;
	prb_err err;
	init();
	prb_err_clear(&err);
	int framed = prb_witness_parse_request(data, size, &req, &err) == 0;
	if (framed)
		check_framing(data, size, &req);
	else
		check(err.code == PRB_EMALFORMED && err.offset >= 1);

	prb_witness_log log = {"example.com/log1000", vs[0]};
	prb_witness *w = NULL;
	check(prb_witness_open(":memory:", wkey, &log, 1, &w, NULL) == 0);
	prb_witness_resp r;
	unsigned st = prb_witness_add(w, data, size, 1700000000, &r);
	check(st == r.status);
	check(st == 200 || st == 400 || st == 403 || st == 404 || st == 409 ||
	      st == 413 || st == 422);
	if (!framed)
		check(st == 400 || st == 413);
	if (st == 409) {
		check(strcmp(r.content_type, "text/x.tlog.size") == 0);
		check(r.len == 2 && memcmp(r.body, "0\n", 2) == 0);
	}
	if (st == 200)
		check_cosigned(w, &req, &r);
	prb_witness_resp_free(&r);
	prb_witness_close(w);
	return 0;
}
