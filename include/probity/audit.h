/*
 * Provable audit: SQL policies (policy.h) run over the index (index.h) as
 * of a checkpoint; every finding cites log entries by leaf index, and
 * findings.json records them with the checkpoint and the policies run.
 * The evidence bundle that carries them, with each cited entry and its
 * inclusion proof, is evidence.h's.
 *
 * Queries run read-only (an authorizer allows only reads and functions) in
 * one read transaction of the index. Errors in a policy name it as
 * policy.h says.
 * No function here is thread-safe on shared arguments.
 */
#ifndef PROBITY_AUDIT_H
#define PROBITY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "error.h"
#include "merkle.h"
#include "policy.h"

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

/* How many findings the rows f[0..n) make (rows of one finding count
 * once), and, when by_severity is not NULL, how many of each severity
 * (the severity of each finding's policy in ps). */
size_t prb_findings_count(const prb_policy_set *ps, const prb_finding *f,
                          size_t n, size_t by_severity[PRB_SEV_CRITICAL + 1]);

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

#endif
