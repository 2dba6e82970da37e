/* c2sp.org/tlog-checkpoint: parse, format, open. */
#include <stdio.h>
#include <string.h>

#include "probity/checkpoint.h"
#include "base/util.h"

/* Next line of text[*off..len) (without '\n') or -1 at the end. */
static int
next_line(const char *text, size_t len, size_t *off, const char **line,
          size_t *ll)
{
	if (*off >= len)
		return -1;
	const char *nl = memchr(text + *off, '\n', len - *off);
	if (!nl)
		return -1;
	*line = text + *off;
	*ll = (size_t)(nl - *line);
	*off += *ll + 1;
	return 0;
}

static int
bad(prb_err *err, uint64_t line, const char *why)
{
	return prb_err_set(err, PRB_EMALFORMED, NULL, line,
	                   "malformed checkpoint, line %llu: %s",
	                   (unsigned long long)line, why);
}

int
prb_checkpoint_parse(const char *text, size_t len, prb_checkpoint *out,
                     prb_err *err)
{
	const char *l;
	size_t ll, off = 0, n = 0;
	memset(out, 0, sizeof *out);
	if (len == 0 || text[len - 1] != '\n')
		return bad(err, 1, "text must end with a newline");
	if (next_line(text, len, &off, &l, &ll) || ll == 0)
		return bad(err, 1, "empty origin");
	if (ll > PRB_NAME_MAX)
		return bad(err, 1, "origin longer than 255 bytes");
	memcpy(out->origin, l, ll);
	if (memchr(l, '\0', ll))
		return bad(err, 1, "NUL in origin");
	if (next_line(text, len, &off, &l, &ll) ||
	    prb_parse_u64(l, ll, INT64_MAX, &out->size))
		return bad(err, 2, "tree size must be decimal without leading "
		                   "zeros");
	uint8_t raw[48];
	size_t rawlen;
	if (next_line(text, len, &off, &l, &ll) || ll != 44 ||
	    prb_b64_decode(l, ll, raw, &rawlen) || rawlen != PRB_HASH_SIZE)
		return bad(err, 3, "root hash must be base64 of 32 bytes");
	memcpy(out->root.b, raw, PRB_HASH_SIZE);
	while (next_line(text, len, &off, &l, &ll) == 0) {
		n++;
		if (ll == 0)
			return bad(err, 3 + n, "empty extension line");
	}
	out->n_extensions = n;
	return 0;
}

int
prb_checkpoint_format(const prb_checkpoint *cp, char *buf, size_t cap)
{
	char root[48];
	prb_b64_encode(cp->root.b, PRB_HASH_SIZE, root);
	int w = snprintf(buf, cap, "%s\n%llu\n%s\n", cp->origin,
	                 (unsigned long long)cp->size, root);
	if (w < 0 || (size_t)w >= cap)
		return PRB_EINVAL;
	return w;
}

int
prb_checkpoint_open(const uint8_t *msg, size_t len, const prb_verifier *vs,
                    size_t nvs, prb_checkpoint *out, prb_note **note_out,
                    prb_err *err)
{
	prb_note *n = NULL;
	int rc;
	if (nvs == 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "no verifier key given");
	rc = prb_note_open(msg, len, vs, nvs, &n, err);
	if (rc)
		return rc;
	rc = prb_checkpoint_parse(n->text, n->text_len, out, err);
	if (rc)
		goto out;
	if (strcmp(out->origin, vs[0].name) != 0) {
		rc = prb_err_set(err, PRB_EORIGIN, NULL, UINT64_MAX,
		                 "checkpoint origin \"%s\" is not the key name "
		                 "\"%s\"", out->origin, vs[0].name);
		goto out;
	}
	int by_log = 0;
	for (size_t i = 0; i < n->nverified; i++)
		by_log |= n->sigs[i].verifier == &vs[0];
	if (!by_log) {
		rc = prb_err_set(err, PRB_ENOSIG, NULL, UINT64_MAX,
		                 "checkpoint is not signed by the log key %s",
		                 vs[0].name);
		goto out;
	}
out:
	if (rc == 0 && note_out)
		*note_out = n;
	else
		prb_note_free(n);
	return rc;
}

int
prb_checkpoint_peek(const uint8_t *note, size_t len, prb_checkpoint *out,
                    prb_err *err)
{
	prb_note *n = NULL;
	int rc = prb_note_parse(note, len, &n, err);
	if (rc == 0)
		rc = prb_checkpoint_parse(n->text, n->text_len, out, err);
	prb_note_free(n);
	return rc;
}
