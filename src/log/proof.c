/* c2sp.org/tlog-proof@v1 files and base64-line consistency proofs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/proof.h"
#include "base/util.h"

static int
bad(prb_err *err, uint64_t line, const char *why)
{
	return prb_err_set(err, PRB_EMALFORMED, NULL, line,
	                   "malformed tlog-proof, line %llu: %s",
	                   (unsigned long long)line, why);
}

/* Decodes one base64 hash line. */
static int
hash_line(const char *l, size_t ll, prb_hash *out)
{
	uint8_t raw[48];
	size_t n;
	if (ll != 44 || prb_b64_decode(l, ll, raw, &n) || n != PRB_HASH_SIZE)
		return -1;
	memcpy(out->b, raw, PRB_HASH_SIZE);
	return 0;
}

void
prb_tlog_proof_free(prb_tlog_proof *p)
{
	if (!p)
		return;
	free(p->extra);
	free(p->checkpoint);
	free(p);
}

/* Reads line `*lineno` starting at *off; -1 if no complete line is left. */
static int
take_line(const char *t, size_t len, size_t *off, const char **l, size_t *ll)
{
	const char *nl = *off < len ? memchr(t + *off, '\n', len - *off) : NULL;
	if (!nl)
		return -1;
	*l = t + *off;
	*ll = (size_t)(nl - *l);
	*off += *ll + 1;
	return 0;
}

static int
parse_extra(prb_tlog_proof *p, const char *l, size_t ll)
{
	p->extra = malloc(ll / 4 * 3 + 3);
	if (!p->extra)
		return PRB_ENOMEM;
	return prb_b64_decode(l, ll, p->extra, &p->extra_len) ? -1 : 0;
}

int
prb_tlog_proof_parse(const uint8_t *text, size_t len, prb_tlog_proof **out,
                     prb_err *err)
{
	const char *t = (const char *)text, *l;
	size_t off = 0, ll;
	uint64_t line = 1;
	int rc;
	prb_tlog_proof *p = calloc(1, sizeof *p);
	if (!p)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	if (take_line(t, len, &off, &l, &ll) ||
	    ll != strlen(PRB_TLOG_PROOF_HEADER) ||
	    memcmp(l, PRB_TLOG_PROOF_HEADER, ll) != 0) {
		rc = bad(err, line, "first line must be " PRB_TLOG_PROOF_HEADER);
		goto fail;
	}
	line++;
	if (take_line(t, len, &off, &l, &ll)) {
		rc = bad(err, line, "missing index line");
		goto fail;
	}
	if (ll >= 6 && memcmp(l, "extra ", 6) == 0) {
		if (parse_extra(p, l + 6, ll - 6)) {
			rc = bad(err, line, "extra data is not base64");
			goto fail;
		}
		line++;
		if (take_line(t, len, &off, &l, &ll)) {
			rc = bad(err, line, "missing index line");
			goto fail;
		}
	}
	if (ll < 6 || memcmp(l, "index ", 6) != 0 ||
	    prb_parse_u64(l + 6, ll - 6, INT64_MAX, &p->index)) {
		rc = bad(err, line, "expected \"index N\" (decimal, no leading "
		                    "zeros)");
		goto fail;
	}
	for (;;) {
		line++;
		if (take_line(t, len, &off, &l, &ll)) {
			rc = bad(err, line, "missing blank line before checkpoint");
			goto fail;
		}
		if (ll == 0)
			break;
		if (p->path_len == 63 || hash_line(l, ll, &p->path[p->path_len])) {
			rc = bad(err, line, p->path_len == 63
			                            ? "more than 63 proof hashes"
			                            : "proof hash must be base64 of "
			                              "32 bytes");
			goto fail;
		}
		p->path_len++;
	}
	p->checkpoint_len = len - off;
	p->checkpoint = malloc(p->checkpoint_len + 1);
	if (!p->checkpoint) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
		goto fail;
	}
	memcpy(p->checkpoint, t + off, p->checkpoint_len);
	p->checkpoint[p->checkpoint_len] = 0;
	if (p->checkpoint_len == 0) {
		rc = bad(err, line + 1, "missing checkpoint");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	if (rc == PRB_ENOMEM)
		prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	prb_tlog_proof_free(p);
	return rc;
}

int
prb_tlog_proof_format(uint64_t index, const prb_hash *path, size_t len,
                      const uint8_t *extra, size_t extra_len,
                      const char *checkpoint, size_t checkpoint_len,
                      char **out, size_t *outlen)
{
	size_t cap = 64 + (extra ? prb_b64_encoded_len(extra_len) + 8 : 0) +
	             len * 46 + checkpoint_len + 2;
	char *buf = malloc(cap);
	if (!buf)
		return PRB_ENOMEM;
	size_t off = (size_t)snprintf(buf, cap, "%s\n", PRB_TLOG_PROOF_HEADER);
	if (extra) {
		memcpy(buf + off, "extra ", 6);
		off += 6;
		off += prb_b64_encode(extra, extra_len, buf + off);
		buf[off++] = '\n';
	}
	off += (size_t)snprintf(buf + off, cap - off, "index %llu\n",
	                        (unsigned long long)index);
	for (size_t i = 0; i < len; i++) {
		off += prb_b64_encode(path[i].b, PRB_HASH_SIZE, buf + off);
		buf[off++] = '\n';
	}
	buf[off++] = '\n';
	memcpy(buf + off, checkpoint, checkpoint_len);
	off += checkpoint_len;
	buf[off] = 0;
	*out = buf;
	*outlen = off;
	return 0;
}

int
prb_tlog_proof_verify(const prb_tlog_proof *p, const uint8_t *entry,
                      size_t entry_len, const prb_verifier *vs, size_t nvs,
                      prb_checkpoint *cp_out, prb_err *err)
{
	prb_checkpoint cp;
	prb_hash leaf;
	int rc = prb_checkpoint_open((const uint8_t *)p->checkpoint,
	                             p->checkpoint_len, vs, nvs, &cp, NULL, err);
	if (rc)
		return rc;
	if (p->index >= cp.size)
		return prb_err_set(err, PRB_EPROOF, NULL, p->index,
		                   "index %llu is not below the checkpoint size "
		                   "%llu", (unsigned long long)p->index,
		                   (unsigned long long)cp.size);
	prb_merkle_leaf_hash(entry, entry_len, &leaf);
	if (prb_merkle_verify_inclusion(&leaf, p->index, cp.size, p->path,
	                                p->path_len, &cp.root))
		return prb_err_set(err, PRB_EPROOF, NULL, p->index,
		                   "inclusion proof for index %llu does not lead "
		                   "from the entry to the root of checkpoint %s "
		                   "size %llu", (unsigned long long)p->index,
		                   cp.origin, (unsigned long long)cp.size);
	if (cp_out)
		*cp_out = cp;
	return 0;
}

int
prb_proof_lines_format(const prb_hash *proof, size_t len, char **out,
                       size_t *outlen)
{
	char *buf = malloc(len * 45 + 1);
	if (!buf)
		return PRB_ENOMEM;
	size_t off = 0;
	for (size_t i = 0; i < len; i++) {
		off += prb_b64_encode(proof[i].b, PRB_HASH_SIZE, buf + off);
		buf[off++] = '\n';
	}
	buf[off] = 0;
	*out = buf;
	*outlen = off;
	return 0;
}

int
prb_proof_lines_parse(const uint8_t *text, size_t len, prb_hash *proof,
                      size_t *n, prb_err *err)
{
	const char *t = (const char *)text, *l;
	size_t off = 0, ll;
	*n = 0;
	while (take_line(t, len, &off, &l, &ll) == 0) {
		if (*n == PRB_MAX_PROOF || hash_line(l, ll, &proof[*n]))
			return prb_err_set(err, PRB_EMALFORMED, NULL, *n + 1,
			                   "proof line %zu is not a base64 hash",
			                   *n + 1);
		(*n)++;
	}
	if (off != len)
		return prb_err_set(err, PRB_EMALFORMED, NULL, *n + 1,
		                   "proof line %zu has no newline", *n + 1);
	return 0;
}
