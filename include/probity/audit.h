/*
 * Provable audit: SQL policies run over the index (index.h) as of a
 * checkpoint; every finding cites log entries by leaf index, and an
 * evidence bundle carries each cited entry with its inclusion proof
 * against that signed checkpoint, checkable offline.
 *
 * A policy is one file, NAME.sql: a header of leading SQL comment lines,
 *
 *   -- id: residency.outside-allowed-regions  (a letter or digit, then
 *                                             letters, digits, ._-)
 *   -- title: Resources placed outside the allowed regions
 *   -- severity: high            (info, low, medium, high or critical)
 *   -- rationale: free text; several rationale lines are joined by a space
 *   -- param: allowed_regions = ["eu-west-1", "westeurope"]
 *
 * (other comment lines are ignored), then one SELECT statement. Parameter
 * NAME is bound to every :NAME of the query: an array or object as its
 * JSON text (so a list is used as `IN (SELECT value FROM json_each(:x))`),
 * a string as its text, a number as an integer when it is one (else a
 * real), true/false as 1/0, null as NULL. The query must return a column
 * `leaf` (an integer: the cited log entry; one row is one finding) and may
 * return `detail` (text). Queries run read-only (an authorizer allows
 * only reads and functions) in one read transaction of the index.
 *
 * Errors in a policy name it as err->where = "FILE:LINE", the line of the
 * file where the fault is when SQLite says (sqlite3_error_offset), else
 * where the query starts.
 *
 * Evidence bundle (a directory):
 *   checkpoint              the signed checkpoint note, verbatim
 *   findings.json           RFC 8785 JSON (prb_audit_findings_json)
 *   entries/<leaf>.json     the exact bytes of every cited log entry
 *   proofs/<leaf>.tlog-proof  its c2sp.org/tlog-proof@v1 inclusion proof
 *                           embedding the same checkpoint
 *   blobs/<sha256 hex>      the record of each cited entry that is the
 *                           stub of a large record (entry.h)
 *   policies/<id>.sql       the exact file of every policy run
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
#ifndef PROBITY_AUDIT_H
#define PROBITY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "checkpoint.h"
#include "error.h"
#include "log.h"
#include "merkle.h"
#include "note.h"

/* The largest findings.json (and SHA256SUMS) a bundle may hold: audit
 * refuses to write one that verify-evidence would refuse to read. */
#define PRB_FINDINGS_MAX ((size_t)1 << 28)

enum {
	PRB_SEV_INFO,
	PRB_SEV_LOW,
	PRB_SEV_MEDIUM,
	PRB_SEV_HIGH,
	PRB_SEV_CRITICAL,
};

/* "info", ..., "critical"; NULL for an out-of-range value. */
const char *prb_severity_name(int sev);
/* 0 and *sev, or PRB_EMALFORMED. */
int prb_severity_parse(const char *s, int *sev);

typedef struct {
	char *name;
	json_t *value; /* owned; the default until overridden */
	unsigned line; /* line of its header line */
} prb_policy_param;

typedef struct {
	char *file; /* the path it was read from */
	char *id, *title, *rationale;
	int severity;
	prb_policy_param *params;
	size_t nparams;
	char *sql;         /* the query: the file after the header */
	unsigned sql_line; /* line of the file where sql starts */
	uint8_t sha256[32]; /* of the whole file */
	char *text;         /* the whole file, as read (NUL-terminated) */
	size_t text_len;
} prb_policy;

typedef struct {
	prb_policy *v; /* sorted by id; ids are unique */
	size_t n;
} prb_policy_set;

/* Parses one policy file's text (file is the name used in errors).
 * *out is released with prb_policy_clear (also on failure). */
int prb_policy_parse(const char *file, const char *text, size_t len,
                     prb_policy *out, prb_err *err);
void prb_policy_clear(prb_policy *p);

/* Loads `path`: a directory (every *.sql in it, not recursing) or one
 * .sql file. No policy, or two with the same id: PRB_EINVAL naming them.
 * Release with prb_policies_free (accepts a zeroed set). */
int prb_policies_load(const char *path, prb_policy_set *out, prb_err *err);
void prb_policies_free(prb_policy_set *ps);

/* Overrides parameter defaults with the members of the JSON object
 * `params` (read from params_file, named in errors): every member must be
 * a parameter some policy declares (else PRB_EINVAL naming it), and sets
 * it in every policy that declares it. */
int prb_policies_override(prb_policy_set *ps, const json_t *params,
                          const char *params_file, prb_err *err);

/* One row of a policy's result. Rows of one policy with the same
 * (non-NULL) detail are one finding citing all their entries: group is
 * the index of the group's first row (its own index for a row that starts
 * a finding), next the index of the group's next row (SIZE_MAX: none). */
typedef struct {
	size_t policy; /* index into the prb_policy_set */
	uint64_t leaf;
	char *detail; /* NULL when the query gave none */
	size_t group, next;
} prb_finding;

/*
 * Runs every policy against the index at index_path (opened read-only,
 * never written), which must cover exactly the log of `size` entries with
 * `root` (else PRB_ECONFLICT saying to run ingest or reindex). Findings
 * are sorted by policy id, leaf, detail, exact duplicates removed;
 * *out (malloc'd, free with prb_findings_free) holds *n of them.
 */
int prb_audit_run(const char *index_path, const prb_policy_set *ps,
                  uint64_t size, const prb_hash *root, prb_finding **out,
                  size_t *n, prb_err *err);

/*
 * What a policy queries is `events`: a temp view of the index's table
 * (index.h) with one more column, `succeeded` (PRB_SUCCEEDED_SQL: the
 * call was not refused or failed), and only the rows of the log's first
 * `at` <= size entries (the log as it stood at that checkpoint;
 * prb_audit_run audits at = size). Reading main.events or main.meta
 * directly is refused: policies name `events` unqualified.
 */
#define PRB_SUCCEEDED_SQL \
	"(CASE format WHEN 'k8s-audit' THEN " \
	"CAST(result AS INTEGER) BETWEEN 200 AND 299 " \
	"WHEN 'azure-activity' THEN lower(result) IN ('success', 'succeeded') " \
	"ELSE result = 'success' END)"

int prb_audit_run_at(const char *index_path, const prb_policy_set *ps,
                     uint64_t size, const prb_hash *root, uint64_t at,
                     prb_finding **out, size_t *n, prb_err *err);
void prb_findings_free(prb_finding *f, size_t n);

/*
 * findings.json, RFC 8785 form, into malloc'd *out of *len bytes:
 *   {"checkpoint": {"origin", "size", "root" (base64, as in the note)},
 *    "policies": [{"id", "title", "severity", "sha256" (of the file, hex),
 *                  "params": {name: value}}],   (every policy run)
 *    "findings": [{"policy", "title", "severity", "entries": [leaf],
 *                  "detail" (string or null)}]}
 */
int prb_audit_findings_json(const prb_policy_set *ps, const prb_checkpoint *cp,
                            const prb_finding *f, size_t n, char **out,
                            size_t *len, prb_err *err);

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
	size_t findings, entries;
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

#endif
