/*
 * Fuzz harness: c2sp.org/tlog-checkpoint bodies (prb_checkpoint_parse,
 * prb_checkpoint_format) and signed checkpoints (prb_checkpoint_open).
 *
 * The input is an untrusted checkpoint text. When it parses, formatting
 * the result and parsing that again must give the same origin, size and
 * root with no extension lines; when the input had no extension lines the
 * formatted text must have its length and its first two lines (a size is
 * accepted only without leading zeros). The input is also opened as a
 * signed checkpoint of a fixed log key. A violation calls abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/checkpoint.h"
#include "probity/note.h"

static const char *const vkeys[] = {
	/* shared vectors: generated log1000 log key and its witness (0x04) */
	"example.com/log1000+1421a28f+ARteS+cPHncoRMO3XRdmEdbOhKXJLvdAigE0ES6StKKE",
	("witness.example.com/log1000-w1+e4d1643d+"
	 "BGGe9o1jlewxqHWu2TuNNKYxuO1gwRdvUE2lYBm/NvAL"),
	/* golang.org/x/mod sumdb/note/note_test.go */
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
};
#define NVKEYS (sizeof vkeys / sizeof vkeys[0])

static prb_verifier vs[NVKEYS];


static void
init_verifiers(void)
{
	fuzz_verifiers(vkeys, NVKEYS, vs);
}

/* Offset just past the n-th '\n' of s[0..len), or len + 1 if none. */
static size_t
after_line(const char *s, size_t len, unsigned n)
{
	size_t off = 0;
	while (n-- > 0) {
		const char *nl = off < len ? memchr(s + off, '\n', len - off)
		                           : NULL;
		if (!nl)
			return len + 1;
		off = (size_t)(nl - s) + 1;
	}
	return off;
}

static void
round_trip(const prb_checkpoint *cp, const char *text, size_t len)
{
	char buf[PRB_CHECKPOINT_MAX];
	prb_checkpoint again;
	size_t ol = strnlen(cp->origin, sizeof cp->origin);
	check(ol > 0 && ol <= PRB_NAME_MAX);
	check(cp->size <= (uint64_t)INT64_MAX);
	int w = prb_checkpoint_format(cp, buf, sizeof buf);
	check(w > 0 && (size_t)w < sizeof buf);
	check((size_t)w == strlen(buf) && buf[w - 1] == '\n');
	check(prb_checkpoint_parse(buf, (size_t)w, &again, NULL) == 0);
	check(strcmp(again.origin, cp->origin) == 0);
	check(again.size == cp->size);
	check(memcmp(again.root.b, cp->root.b, sizeof cp->root.b) == 0);
	check(again.n_extensions == 0);
	if (cp->n_extensions == 0) {
		/* Origin and size lines are reproduced byte for byte; the root
		 * line may differ only in non-canonical base64 bits. */
		size_t two = after_line(text, len, 2);
		check((size_t)w == len);
		check(two <= len && memcmp(buf, text, two) == 0);
	}
	/* Too small a buffer is refused, not overrun. */
	check(prb_checkpoint_format(cp, buf, (size_t)w) == PRB_EINVAL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	prb_checkpoint cp;
	prb_err err;
	init_verifiers();

	prb_err_clear(&err);
	int rc = prb_checkpoint_parse(text, size, &cp, &err);
	if (rc == 0)
		round_trip(&cp, text, size);
	else
		check(rc == PRB_EMALFORMED && err.code == rc &&
		      err.offset >= 1);

	/* The input as a signed checkpoint of the log1000 log. */
	prb_note *n = NULL;
	rc = prb_checkpoint_open(data, size, vs, NVKEYS, &cp, &n, &err);
	if (rc == 0) {
		check(n != NULL && strcmp(cp.origin, vs[0].name) == 0);
		check(n->nverified >= 1 && n->text_len < size);
		prb_checkpoint again;
		check(prb_checkpoint_parse(n->text, n->text_len, &again,
		                           NULL) == 0);
		check(again.size == cp.size);
		prb_note_free(n);
	} else {
		check(n == NULL);
	}
	return 0;
}
