/*
 * Evidence bundles: the findings of an audit (audit.h) with everything a
 * third party needs to check them offline, with no access to the log.
 *
 * A bundle is a directory:
 *   checkpoint              the signed checkpoint note, verbatim
 *   findings.json           RFC 8785 JSON (prb_audit_findings_json)
 *   entries/<leaf>.json     the exact bytes of every cited log entry
 *   proofs/<leaf>.tlog-proof  its c2sp.org/tlog-proof@v1 inclusion proof
 *                           embedding the same checkpoint
 *   blobs/<sha256 hex>      the record of each cited entry that is the
 *                           stub of a large record (entry.h, blob.h)
 *   policies/<id>.sql       the exact file of every policy run
 *   findings.sarif, report.html  the findings for tools and people
 *                           (report.h)
 *   SHA256SUMS              "<sha256 hex>  <path>" for every other file,
 *                           sorted by path (what sha256sum -c reads)
 * Nothing else. What proves what: the checkpoint's signature (and
 * cosignatures) the tree; the proofs each cited entry; the stubs each
 * blob; findings.json the policy files (by SHA-256). The findings' detail
 * text and parameter values only SHA256SUMS covers, which catches damage,
 * not forgery: they are checked by re-running the audit on the log, which
 * gives the same findings.json byte for byte.
 * No function here is thread-safe on shared arguments.
 */
#ifndef PROBITY_EVIDENCE_H
#define PROBITY_EVIDENCE_H

#include <stddef.h>

#include "audit.h"
#include "checkpoint.h"
#include "error.h"
#include "log.h"
#include "note.h"
#include "policy.h"

/* The largest findings.json (and SHA256SUMS) a bundle may hold: audit
 * refuses to write one that verify-evidence would refuse to read. */
#define PRB_FINDINGS_MAX ((size_t)1 << 28)

/*
 * Writes the evidence bundle into dir (created; if it exists it must be
 * an empty directory): the log's checkpoint (which must be the one of
 * size/root the findings were computed at), findings.json, and each cited
 * entry with its proof. Files are fsynced. On failure what was written
 * stays (err names the file).
 */
int prb_evidence_write(const char *dir, prb_log *log,
                       const prb_policy_set *ps, const prb_finding *f,
                       size_t n, prb_err *err);

typedef struct {
	prb_checkpoint cp;
	size_t findings, entries, policies;
	size_t by_severity[PRB_SEV_CRITICAL + 1];
} prb_evidence_summary;

/*
 * Verifies a bundle offline: the checkpoint is signed by vs[0] with its
 * name as origin (vs[1..]: further known keys, e.g. witnesses);
 * findings.json is RFC 8785, well formed, of that checkpoint, sorted, and
 * cites only leaves below its size; every cited leaf has entries/L.json
 * and proofs/L.tlog-proof, the proof embeds the same checkpoint and proves
 * the entry at L, and a stub's blob is there with its digest; each policy
 * listed is in policies/ with its SHA-256, id, title, severity and
 * parameters, and each finding's title and severity are its policy's;
 * SHA256SUMS lists every other file with its SHA-256; there is no other
 * file. err->where names the file at
 * fault (relative to dir). *sum (optional) is filled on success.
 */
int prb_evidence_verify(const char *dir, const prb_verifier *vs, size_t nvs,
                        prb_evidence_summary *sum, prb_err *err);

/*
 * Checks what a bundle alone cannot: that its findings, their details
 * included, are what the log holds (probity audit --check). The bundle's
 * findings.json and policies/ are first held to the same checks as in
 * prb_evidence_verify (its checkpoint's signature is not checked: the log
 * is at hand). Its checkpoint must then be one of `log`'s (same origin,
 * a size the log has, the log's root at that size), and the policies it
 * carries, run with the parameters findings.json lists on the log's index
 * (dir/PRB_INDEX_FILE, index.h) as the log stood at that checkpoint, must
 * give findings.json byte for byte (else PRB_EPROOF saying from which
 * byte it differs). dir is the log's directory, named in messages;
 * err->where names files whole (under bundle or dir). *sum (optional) is
 * filled on success as prb_evidence_verify fills it.
 */
int prb_evidence_reproduce(const char *bundle, prb_log *log, const char *dir,
                           prb_evidence_summary *sum, prb_err *err);

#endif
