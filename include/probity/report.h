/*
 * The two readings of an evidence bundle's findings made for others:
 * report.html for a person, findings.sarif (SARIF 2.1.0) for tools.
 *
 * Both are pure functions of what the bundle itself carries (findings.json,
 * the checkpoint note, the policy files, the cited entries): no clock, no
 * host, no path. prb_evidence_write writes them; prb_evidence_verify makes
 * them again from the bundle once everything else has verified and
 * requires the same bytes, so neither can be altered alone, and the
 * "verified" marks in the report stand for checks the verifier repeats.
 */
#ifndef PROBITY_REPORT_H
#define PROBITY_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "policy.h"

/* The record of cited entry `leaf` (*rec, a new reference, or NULL when
 * the entry is not a cloud record). */
typedef int (*prb_cited_record_fn)(void *ctx, uint64_t leaf, json_t **rec,
                                   prb_err *err);

/*
 * findings.sarif from findings.json (fj[0..fjlen), as
 * prb_audit_findings_json made it) and the policies it lists (pv[0..np),
 * in any order; their rationale becomes each rule's full description).
 * RFC 8785 text into malloc'd *out.
 */
int prb_report_sarif(const char *fj, size_t fjlen, const prb_policy *pv,
                     size_t np, char **out, size_t *len, prb_err *err);

/*
 * report.html: one self-contained page (no script, no network: a
 * Content-Security-Policy forbids both) from findings.json, the signed
 * checkpoint note cp[0..cplen) and the policies; the cited records come
 * from `rec` (for the timeline). Every text from a record or a policy is
 * HTML-escaped. Into malloc'd *out.
 */
int prb_report_html(const char *fj, size_t fjlen, const uint8_t *cp,
                    size_t cplen, const prb_policy *pv, size_t np,
                    prb_cited_record_fn rec, void *ctx, char **out,
                    size_t *len, prb_err *err);

#endif
