/* The log side of witnessing: see include/probity/cosign.h. */
#include "probity/cosign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probity/httpc.h"
#include "probity/witness.h"
#include "base/util.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 60.0

typedef struct {
	char *url;
	prb_verifier vkey;
	uint64_t size;     /* the size it last cosigned, as far as we know */
	double retry_at;   /* skipped until then (monotonic seconds) */
	double backoff;
} wit;

struct prb_cosign {
	wit *w;
	size_t n, quorum;
	prb_http *http;
};

int
prb_cosign_witness_parse(const char *arg, prb_cosign_witness *out,
                         prb_err *err)
{
	const char *eq = strchr(arg, '=');
	size_t ul = eq ? (size_t)(eq - arg) : 0;
	while (ul > 0 && arg[ul - 1] == '/')
		ul--;
	if (!eq || ul >= sizeof out->url || !prb_http_url_ok(arg))
		return prb_err_set(err, PRB_EINVAL, arg, UINT64_MAX,
		                   "not URL=VERIFIERKEY with an http:// or "
		                   "https:// URL");
	memcpy(out->url, arg, ul);
	out->url[ul] = 0;
	return prb_verifier_parse(eq + 1, strlen(eq + 1), &out->vkey, err);
}

void
prb_cosign_free(prb_cosign *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->w[i].url);
	free(c->w);
	prb_http_free(c->http);
	free(c);
}

int
prb_cosign_new(const prb_cosign_witness *ws, size_t n, size_t quorum,
               long timeout_ms, prb_cosign **out, prb_err *err)
{
	*out = NULL;
	if (n == 0 || quorum == 0 || quorum > n)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "need 1 to %zu cosignatures, not %zu", n,
		                   quorum);
	prb_cosign *c = calloc(1, sizeof *c);
	if (!c || !(c->w = calloc(n, sizeof *c->w))) {
		free(c);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	}
	c->n = n;
	c->quorum = quorum;
	for (size_t i = 0; i < n; i++) {
		c->w[i].url = strdup(ws[i].url);
		c->w[i].vkey = ws[i].vkey;
		c->w[i].backoff = BACKOFF_MIN;
		if (!c->w[i].url) {
			prb_cosign_free(c);
			return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		}
	}
	int rc = prb_http_new(NULL, timeout_ms, 64 * 1024, &c->http, err);
	if (rc) {
		prb_cosign_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* One witness's cosignature for note: its line in *line, or an error. */
static int
ask(prb_cosign *c, wit *w, const char *note, size_t len, uint64_t size,
    prb_cosign_prove_fn prove, void *pctx, char **line, prb_err *err)
{
	prb_hash proof[PRB_WITNESS_MAX_PROOF];
	size_t plen = 0;
	int rc = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t old = w->size <= size ? w->size : 0;
		plen = 0;
		rc = 0;
		if (old > 0 && old < size)
			rc = prove(pctx, old, size, proof, &plen, err);
		if (rc)
			return rc;
		uint64_t theirs = 0;
		rc = prb_witness_add_checkpoint(c->http, w->url,
		                                (const uint8_t *)note, len, old,
		                                proof, plen, &w->vkey, line,
		                                &theirs, err);
		if (rc == 0) {
			w->size = size;
			return 0;
		}
		if (rc != PRB_ECONFLICT)
			return rc;
		if (theirs > size)
			return prb_err_set(err, PRB_ECONFLICT, w->url, UINT64_MAX,
			                   "the witness has cosigned size %llu, "
			                   "beyond this log's %llu: it has seen "
			                   "another history of this log",
			                   (unsigned long long)theirs,
			                   (unsigned long long)size);
		w->size = theirs; /* retry from the size it holds */
	}
	return rc;
}

int
prb_cosign_collect(prb_cosign *c, const char *note, size_t len,
                   uint64_t size, prb_cosign_prove_fn prove, void *pctx,
                   char **out, size_t *outlen, size_t *ncosigs, prb_err *err)
{
	char **lines = calloc(c->n, sizeof *lines);
	char why[sizeof err->msg] = "";
	size_t got = 0, wl = 0;
	*out = NULL;
	/* the log's own signed note: cosignatures it already carries (from an
	 * earlier round at this size) are replaced, not piled up */
	size_t own = prb_note_first_sig_end(note, len);
	if (own)
		len = own;
	size_t total = len;
	if (!lines)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	double now = prb_now_mono();
	for (size_t i = 0; i < c->n; i++) {
		wit *w = &c->w[i];
		prb_err e;
		prb_err_clear(&e);
		if (now < w->retry_at) {
			wl += (size_t)snprintf(why + wl, sizeof why - wl,
			                       "%s%s: skipped for %.0f s after "
			                       "failing", wl ? "; " : "", w->url,
			                       w->retry_at - now);
			if (wl >= sizeof why)
				wl = sizeof why - 1;
			continue;
		}
		if (ask(c, w, note, len, size, prove, pctx, &lines[i], &e)) {
			w->retry_at = prb_now_mono() + w->backoff;
			w->backoff = w->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX
			                                          : w->backoff * 2;
			w->size = 0; /* relearn it from the next 409 */
			wl += (size_t)snprintf(why + wl, sizeof why - wl,
			                       "%s%s: %s", wl ? "; " : "", w->url,
			                       e.msg);
			if (wl >= sizeof why)
				wl = sizeof why - 1;
			continue;
		}
		w->backoff = BACKOFF_MIN;
		got++;
		total += strlen(lines[i]) + 1;
	}
	if (ncosigs)
		*ncosigs = got;
	int rc = 0;
	if (got >= c->quorum) {
		char *buf = malloc(total + 1);
		if (!buf) {
			rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                 "out of memory");
		} else {
			memcpy(buf, note, len);
			size_t o = len;
			for (size_t i = 0; i < c->n; i++) {
				if (!lines[i])
					continue;
				size_t l = strlen(lines[i]);
				memcpy(buf + o, lines[i], l);
				buf[o + l] = '\n';
				o += l + 1;
			}
			buf[o] = 0;
			*out = buf;
			*outlen = o;
			prb_err_set(err, 0, NULL, UINT64_MAX, "%s", why);
		}
	} else {
		rc = prb_err_set(err, PRB_ENOSIG, NULL, UINT64_MAX,
		                 "%zu of %zu witnesses cosigned size %llu, %zu "
		                 "needed: %s", got, c->n,
		                 (unsigned long long)size, c->quorum, why);
	}
	for (size_t i = 0; i < c->n; i++)
		free(lines[i]);
	free(lines);
	return rc;
}

size_t
prb_cosign_count(const prb_cosign *c, const char *note, size_t len,
                 const prb_verifier *logkey)
{
	prb_verifier *vs = malloc((c->n + 1) * sizeof *vs);
	prb_note *n = NULL;
	size_t count = 0;
	if (!vs)
		return 0;
	vs[0] = *logkey;
	for (size_t i = 0; i < c->n; i++)
		vs[i + 1] = c->w[i].vkey;
	if (prb_note_open((const uint8_t *)note, len, vs, c->n + 1, &n,
	                  NULL) == 0)
		for (size_t i = 0; i < n->nverified; i++)
			count += n->sigs[i].verifier != &vs[0];
	prb_note_free(n);
	free(vs);
	return count;
}
