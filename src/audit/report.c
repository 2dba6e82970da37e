/*
 * report.html and findings.sarif (report.h).
 *
 * Invariant: the output is a function of the arguments alone (no clock,
 * locale, host or path), so that verify-evidence can make it again and
 * compare bytes. Record text is untrusted: everything from a record or a
 * policy file passes html_text() before it reaches the page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/entry.h"
#include "probity/ingest.h"
#include "probity/jcs.h"
#include "probity/note.h"
#include "probity/report.h"
#include "base/sbuf.h"
#include "base/util.h"

/* s as HTML text (also safe inside a double-quoted attribute). */
static void
html_text(prb_sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': prb_sbuf_str(b, "&amp;"); break;
		case '<': prb_sbuf_str(b, "&lt;"); break;
		case '>': prb_sbuf_str(b, "&gt;"); break;
		case '"': prb_sbuf_str(b, "&quot;"); break;
		case '\'': prb_sbuf_str(b, "&#39;"); break;
		default: prb_sbuf_put(b, s, 1);
		}
	}
}

/* ---- shared ------------------------------------------------------------ */

static const prb_policy *
find_policy(const prb_policy *pv, size_t np, const char *id)
{
	for (size_t i = 0; id && i < np; i++)
		if (strcmp(pv[i].id, id) == 0)
			return &pv[i];
	return NULL;
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *
parse_findings(const char *fj, size_t fjlen, prb_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(fj, fjlen, JSON_REJECT_DUPLICATES |
	                          JSON_DECODE_INT_AS_REAL, &je);
	if (!root || !json_is_array(json_object_get(root, "findings")) ||
	    !json_is_array(json_object_get(root, "policies")) ||
	    !json_is_object(json_object_get(root, "checkpoint"))) {
		json_decref(root);
		prb_err_set(err, PRB_EMALFORMED, "findings.json", UINT64_MAX,
		            "not the findings of probity audit");
		return NULL;
	}
	return root;
}

static uint64_t
leaf_at(const json_t *entries, size_t i)
{
	return (uint64_t)json_number_value(json_array_get(entries, i));
}

/* ---- SARIF 2.1.0 -------------------------------------------------------- */

static const char *
sarif_level(const char *severity)
{
	if (!severity || !strcmp(severity, "critical") || !strcmp(severity, "high"))
		return "error";
	return strcmp(severity, "medium") == 0 ? "warning" : "note";
}

int
prb_report_sarif(const char *fj, size_t fjlen, const prb_policy *pv,
                 size_t np, char **out, size_t *len, prb_err *err)
{
	json_t *root = parse_findings(fj, fjlen, err);
	if (!root)
		return PRB_EMALFORMED;
	json_t *rules = json_array(), *results = json_array();
	const json_t *pols = json_object_get(root, "policies");
	const json_t *fs = json_object_get(root, "findings");
	size_t i;
	const json_t *e;
	json_array_foreach(pols, i, e) {
		const char *id = jstr(e, "id");
		const prb_policy *p = find_policy(pv, np, id);
		const char *title = jstr(e, "title");
		json_array_append_new(rules, json_pack(
			"{s:s?, s:s?, s:{s:s?}, s:{s:s?}, s:{s:s}, s:{s:s?, s:O?, s:O?}}",
			"id", id, "name", id,
			"shortDescription", "text", title,
			"fullDescription", "text",
			p && p->rationale ? p->rationale : title,
			"defaultConfiguration", "level",
			sarif_level(jstr(e, "severity")),
			"properties", "severity", jstr(e, "severity"),
			"sha256", json_object_get(e, "sha256"),
			"params", json_object_get(e, "params")));
	}
	json_array_foreach(fs, i, e) {
		const char *id = jstr(e, "policy");
		size_t ri = 0;
		const json_t *r;
		json_array_foreach(pols, ri, r)
			if (id && jstr(r, "id") && !strcmp(jstr(r, "id"), id))
				break;
		const json_t *entries = json_object_get(e, "entries");
		json_t *locs = json_array();
		for (size_t k = 0; k < json_array_size(entries); k++) {
			char uri[64];
			snprintf(uri, sizeof uri, "entries/%llu.json",
			         (unsigned long long)leaf_at(entries, k));
			json_array_append_new(locs, json_pack(
				"{s:{s:{s:s}}}", "physicalLocation",
				"artifactLocation", "uri", uri));
		}
		const char *detail = jstr(e, "detail");
		json_array_append_new(results, json_pack(
			"{s:s?, s:I, s:s, s:{s:s?}, s:o, s:{s:O?}}",
			"ruleId", id, "ruleIndex", (json_int_t)ri,
			"level", sarif_level(jstr(e, "severity")),
			"message", "text", detail ? detail : jstr(e, "title"),
			"locations", locs,
			"properties", "entries", entries));
	}
	json_t *sarif = json_pack(
		"{s:s, s:s, s:[{s:{s:{s:s, s:o}}, s:o, s:{s:O?}}]}",
		"$schema", "https://json.schemastore.org/sarif-2.1.0.json",
		"version", "2.1.0", "runs", "tool", "driver", "name", "probity",
		"rules", rules, "results", results, "properties", "checkpoint",
		json_object_get(root, "checkpoint"));
	json_decref(root);
	if (!sarif)
		return prb_err_set(err, PRB_ENOMEM, "findings.sarif", UINT64_MAX,
		                   "cannot build the SARIF log");
	int rc = prb_jcs_encode(sarif, out, len, err);
	json_decref(sarif);
	return rc;
}

/* ---- report.html -------------------------------------------------------- */

static const char *const sev_order[] = {"critical", "high", "medium", "low",
                                        "info"};

static const char css[] =
	"body{font:16px/1.45 sans-serif;margin:2em auto;max-width:72em;"
	"padding:0 1em;color:#111}"
	"h1{font-size:1.7em}h2{font-size:1.3em;border-bottom:1px solid #999;"
	"margin-top:1.6em}"
	"table{border-collapse:collapse;width:100%}"
	"td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;"
	"vertical-align:top}"
	"code,.mono{font-family:monospace;word-break:break-all}"
	".counts{font-size:1.6em;font-weight:bold}"
	".counts span{border-bottom:.3em solid #ddd;padding:0 .3em}"
	".c-critical{border-color:#8b0000!important}.c-high{border-color:"
	"#c0392b!important}.c-medium{border-color:#f0b429!important}"
	".c-low{border-color:#9fd3f0!important}"
	".sev{font-weight:bold;text-transform:uppercase}"
	".critical{color:#fff;background:#8b0000}.high{color:#fff;"
	"background:#c0392b}.medium{background:#f0b429}.low{background:#9fd3f0}"
	".info{background:#ddd}"
	".finding{border:2px solid #555;margin:1em 0;padding:.5em 1em}"
	".finding h3{font-size:1.25em;margin:.3em 0}"
	".ok{color:#0a6b2d;font-weight:bold}"
	"@media print{.finding{break-inside:avoid}}";

/* The fields of one cited record the page shows. */
typedef struct {
	uint64_t leaf;
	prb_event ev;
	int has;
} cited;

static int
cmp_cited(const void *a, const void *b)
{
	const cited *x = a, *y = b;
	const char *tx = x->has && x->ev.time ? x->ev.time : "";
	const char *ty = y->has && y->ev.time ? y->ev.time : "";
	int c = strcmp(tx, ty);
	if (c)
		return c;
	return x->leaf < y->leaf ? -1 : x->leaf > y->leaf;
}

static void
td(prb_sbuf *b, const char *s, int mono)
{
	prb_sbuf_str(b, mono ? "<td class=\"mono\">" : "<td>");
	html_text(b, s ? s : "");
	prb_sbuf_str(b, "</td>");
}

static void
checkpoint_section(prb_sbuf *b, const json_t *c, const uint8_t *cp, size_t cplen)
{
	const char *origin = jstr(c, "origin");
	prb_sbuf_str(b, "<h2>Checkpoint audited</h2><table>");
	prb_sbuf_str(b, "<tr><th>log (origin)</th>");
	td(b, origin, 1);
	prb_sbuf_printf(b, "</tr><tr><th>size</th><td>%llu entries</td></tr>",
	       (unsigned long long)json_number_value(json_object_get(c, "size")));
	prb_sbuf_str(b, "<tr><th>root hash</th>");
	td(b, jstr(c, "root"), 1);
	prb_sbuf_str(b, "</tr></table>");
	prb_note *note = NULL;
	prb_sbuf_str(b, "<p>Signatures on the checkpoint (the verifier checks the "
	          "log's, and the witnesses' it is given keys for):</p>"
	          "<table><tr><th>signer</th><th>key ID</th><th>kind</th></tr>");
	if (prb_note_parse(cp, cplen, &note, NULL) == 0) {
		for (size_t i = 0; i < note->nsigs; i++) {
			const prb_note_sig *s = &note->sigs[i];
			const char *sp = strrchr(s->line, ' ');
			uint8_t raw[128];
			size_t rl = 0;
			if (!sp || strlen(sp + 1) > 4 * sizeof raw / 3 - 4 ||
			    prb_b64_decode(sp + 1, strlen(sp + 1), raw, &rl))
				rl = 0;
			char id[16];
			snprintf(id, sizeof id, "%08x", (unsigned)s->id);
			prb_sbuf_str(b, "<tr>");
			td(b, s->name, 1);
			td(b, id, 1);
			if (rl == 76) {
				unsigned long long t = 0;
				for (int k = 4; k < 12; k++)
					t = t << 8 | raw[k];
				prb_sbuf_printf(b, "<td>witness cosignature (cosignature/v1), "
				          "time %llu</td>", t);
			} else if (origin && strcmp(s->name, origin) == 0) {
				prb_sbuf_str(b, "<td>the log's signature</td>");
			} else {
				prb_sbuf_str(b, "<td>other signature</td>");
			}
			prb_sbuf_str(b, "</tr>");
		}
		prb_note_free(note);
	}
	prb_sbuf_str(b, "</table>");
}

static void
determinism_section(prb_sbuf *b, const char *fj, size_t fjlen,
                    const json_t *root, size_t nentries)
{
	char hex[65];
	prb_sha256_hex((const uint8_t *)fj, fjlen, hex);
	const json_t *pols = json_object_get(root, "policies");
	size_t nf = json_array_size(json_object_get(root, "findings"));
	prb_sbuf_str(b, "<h2>What this report claims, and how to check it</h2>");
	if (nf == 0)
		prb_sbuf_printf(b, "<p><strong>No findings.</strong> None of the %zu "
		          "policies below matched any of the %llu entries of the "
		          "log at this checkpoint. That is a claim about this "
		          "log and these policies, and it can be checked.</p>",
		       json_array_size(pols), (unsigned long long)nentries);
	prb_sbuf_str(b, "<p>The audit is deterministic: the same log at this "
	          "checkpoint with the same policy files and parameters gives "
	          "byte-identical <code>findings.json</code> (SHA-256 <code>");
	prb_sbuf_str(b, hex);
	prb_sbuf_str(b, "</code>). Anyone with read access to the log reproduces it "
	          "with <code>probity audit LOGDIR --check BUNDLE</code>, also "
	          "after the log has grown. Every cited entry carries an "
	          "inclusion proof against the checkpoint above; "
	          "<code>probity verify-evidence BUNDLE --vkey LOGKEY</code> "
	          "checks them all offline, and this page with them.</p>");
	prb_sbuf_str(b, "<table><tr><th>policy</th><th>severity</th><th>file "
	          "SHA-256</th><th>parameters</th></tr>");
	size_t i;
	const json_t *p;
	json_array_foreach(pols, i, p) {
		prb_sbuf_str(b, "<tr>");
		td(b, jstr(p, "id"), 1);
		td(b, jstr(p, "severity"), 0);
		td(b, jstr(p, "sha256"), 1);
		char *params = NULL;
		size_t plen;
		if (prb_jcs_encode(json_object_get(p, "params"), &params, &plen,
		                   NULL) != 0)
			params = NULL;
		if (params) {
			char *z = realloc(params, plen + 1);
			if (z)
				z[plen] = 0;
			params = z;
		}
		td(b, params ? params : "", 1);
		free(params);
		prb_sbuf_str(b, "</tr>");
	}
	prb_sbuf_str(b, "</table>");
}

static void
counts_section(prb_sbuf *b, const json_t *fs)
{
	size_t n[5] = {0}, i;
	const json_t *f;
	json_array_foreach(fs, i, f) {
		const char *s = jstr(f, "severity");
		for (int k = 0; k < 5; k++)
			if (s && strcmp(s, sev_order[k]) == 0)
				n[k]++;
	}
	prb_sbuf_printf(b, "<h2>Findings by severity: %zu in all</h2>"
	          "<p class=\"counts\">", json_array_size(fs));
	for (int k = 0; k < 5; k++)
		prb_sbuf_printf(b, "%s<span class=\"c-%s\">%zu %s</span>",
		       k ? " &nbsp; " : "", sev_order[k], n[k], sev_order[k]);
	prb_sbuf_str(b, "</p>");
}

static void
event_cells(prb_sbuf *b, const cited *c)
{
	prb_sbuf_printf(b, "<td><a href=\"entries/%llu.json\">%llu</a></td>",
	       (unsigned long long)c->leaf, (unsigned long long)c->leaf);
	if (!c->has) {
		prb_sbuf_str(b, "<td colspan=\"5\">(not a cloud audit record)</td>");
		return;
	}
	td(b, c->ev.time, 1);
	td(b, prb_format_name(c->ev.format), 0);
	td(b, c->ev.operation, 1);
	td(b, c->ev.principal, 1);
	td(b, c->ev.resource_id, 1);
}

static const cited *
find_cited(const cited *cv, size_t n, uint64_t leaf)
{
	for (size_t i = 0; i < n; i++)
		if (cv[i].leaf == leaf)
			return &cv[i];
	return NULL;
}

static void
findings_section(prb_sbuf *b, const json_t *fs, const prb_policy *pv, size_t np,
                 const cited *cv, size_t nc)
{
	size_t i;
	const json_t *f;
	prb_sbuf_str(b, "<h2>Findings</h2>");
	if (json_array_size(fs) == 0)
		prb_sbuf_str(b, "<p>None.</p>");
	json_array_foreach(fs, i, f) {
		const char *sev = jstr(f, "severity");
		const prb_policy *p = find_policy(pv, np, jstr(f, "policy"));
		prb_sbuf_str(b, "<div class=\"finding\"><h3><span class=\"sev ");
		html_text(b, sev);
		prb_sbuf_str(b, "\">");
		html_text(b, sev);
		prb_sbuf_str(b, "</span> ");
		html_text(b, jstr(f, "title"));
		prb_sbuf_str(b, "</h3><p>Policy <code>");
		html_text(b, jstr(f, "policy"));
		prb_sbuf_str(b, "</code>");
		if (jstr(f, "detail")) {
			prb_sbuf_str(b, ": ");
			html_text(b, jstr(f, "detail"));
		}
		prb_sbuf_str(b, "</p>");
		if (p && p->rationale) {
			prb_sbuf_str(b, "<p><em>Why it matters:</em> ");
			html_text(b, p->rationale);
			prb_sbuf_str(b, "</p>");
		}
		prb_sbuf_str(b, "<table><tr><th>leaf</th><th>time</th><th>provider"
		          "</th><th>operation</th><th>principal</th><th>"
		          "resource</th><th>inclusion</th></tr>");
		const json_t *entries = json_object_get(f, "entries");
		for (size_t k = 0; k < json_array_size(entries); k++) {
			uint64_t leaf = leaf_at(entries, k);
			const cited *c = find_cited(cv, nc, leaf);
			prb_sbuf_str(b, "<tr>");
			if (c)
				event_cells(b, c);
			prb_sbuf_printf(b, "<td class=\"ok\"><a href=\"proofs/%llu.tlog-"
			          "proof\">&#10003; verified</a></td></tr>",
			       (unsigned long long)leaf);
		}
		prb_sbuf_str(b, "</table></div>");
	}
}

int
prb_report_html(const char *fj, size_t fjlen, const uint8_t *cp,
                size_t cplen, const prb_policy *pv, size_t np,
                prb_cited_record_fn recfn, void *ctx, char **out,
                size_t *len, prb_err *err)
{
	json_t *root = parse_findings(fj, fjlen, err);
	if (!root)
		return PRB_EMALFORMED;
	const json_t *fs = json_object_get(root, "findings");
	const json_t *c = json_object_get(root, "checkpoint");
	/* the distinct cited leaves and their records */
	size_t nc = 0, cap = 0, i;
	cited *cv = NULL;
	const json_t *f;
	int rc = 0;
	json_array_foreach(fs, i, f) {
		const json_t *entries = json_object_get(f, "entries");
		for (size_t k = 0; rc == 0 && k < json_array_size(entries); k++) {
			uint64_t leaf = leaf_at(entries, k);
			if (find_cited(cv, nc, leaf))
				continue;
			if (nc == cap) {
				cap = cap ? 2 * cap : 32;
				cited *ncv = realloc(cv, cap * sizeof *ncv);
				if (!ncv) {
					rc = PRB_ENOMEM;
					break;
				}
				cv = ncv;
			}
			cited *x = &cv[nc++];
			memset(x, 0, sizeof *x);
			x->leaf = leaf;
			json_t *rec = NULL;
			if ((rc = recfn(ctx, leaf, &rec, err)) == 0 && rec)
				x->has = prb_event_from_record(PRB_FMT_AUTO, rec,
				                               &x->ev, NULL) == 0;
			json_decref(rec);
		}
	}
	prb_sbuf b = {0};
	if (rc == 0) {
		if (nc > 1)
			qsort(cv, nc, sizeof *cv, cmp_cited);
		prb_sbuf_str(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		           "charset=\"utf-8\"><meta http-equiv=\"Content-"
		           "Security-Policy\" content=\"default-src 'none'; "
		           "style-src 'unsafe-inline'; img-src data:\">"
		           "<title>probity audit of ");
		html_text(&b, jstr(c, "origin"));
		prb_sbuf_str(&b, "</title><style>");
		prb_sbuf_str(&b, css);
		prb_sbuf_str(&b, "</style></head><body><h1>probity audit of ");
		html_text(&b, jstr(c, "origin"));
		prb_sbuf_printf(&b, " at size %llu</h1>",
		       (unsigned long long)json_number_value(
			       json_object_get(c, "size")));
		counts_section(&b, fs);
		checkpoint_section(&b, c, cp, cplen);
		findings_section(&b, fs, pv, np, cv, nc);
		prb_sbuf_str(&b, "<h2>Timeline of the cited events</h2>");
		if (nc == 0)
			prb_sbuf_str(&b, "<p>No event is cited.</p>");
		else
			prb_sbuf_str(&b, "<table><tr><th>leaf</th><th>time</th><th>"
			           "provider</th><th>operation</th><th>principal"
			           "</th><th>resource</th></tr>");
		for (i = 0; i < nc; i++) {
			prb_sbuf_str(&b, "<tr>");
			event_cells(&b, &cv[i]);
			prb_sbuf_str(&b, "</tr>");
		}
		if (nc)
			prb_sbuf_str(&b, "</table>");
		determinism_section(&b, fj, fjlen, root,
		                    (size_t)json_number_value(
			                    json_object_get(c, "size")));
		prb_sbuf_str(&b, "<h2>How to verify this bundle</h2><p><code>probity "
		           "verify-evidence BUNDLE --vkey LOGKEY [--witness-vkey "
		           "WITNESSKEY]...</code> checks, with no access to the "
		           "log, the checkpoint's signatures, every cited entry's "
		           "inclusion proof, the policy files, and that this page "
		           "and findings.sarif are exactly what the bundle gives. "
		           "A mark <span class=\"ok\">&#10003; verified</span> "
		           "stands for an inclusion proof that the verifier "
		           "checks again.</p></body></html>\n");
		if (b.oom)
			rc = PRB_ENOMEM;
	}
	for (i = 0; i < nc; i++)
		if (cv[i].has)
			prb_event_free(&cv[i].ev);
	free(cv);
	json_decref(root);
	if (rc) {
		free(b.p);
		if (rc == PRB_ENOMEM)
			prb_err_set(err, rc, "report.html", UINT64_MAX,
			            "out of memory");
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
