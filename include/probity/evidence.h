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
#include <stdint.h>

#include "audit.h"
#include "checkpoint.h"
#include "error.h"
#include "log.h"
#include "note.h"
#include "policy.h"

/*
 * Bounds: the largest file of each role a bundle may hold. audit refuses
 * to write a bundle that verify-evidence would refuse to read;
 * verify-evidence refuses a larger file on its size, before reading it,
 * and holds at most one file of each role at a time (findings.json and
 * the checkpoint throughout), hashing and comparing the others in 64 KiB
 * pieces: checkpoint PRB_NOTE_MAX_SIZE (1 MiB), findings.json and
 * SHA256SUMS PRB_FINDINGS_MAX, entries/ 128 KiB, proofs/ 1 MiB + 64 KiB,
 * policies/ 1 MiB, blobs/ PRB_EVIDENCE_BLOB_MAX, findings.sarif and
 * report.html PRB_EVIDENCE_REPORT_MAX. Links, FIFOs, devices and names
 * that leave the bundle are refused before anything is opened through
 * them (prb_open_beneath).
 */
#define PRB_FINDINGS_MAX ((size_t)8 << 20)
#define PRB_EVIDENCE_BLOB_MAX ((size_t)16 << 20)
#define PRB_EVIDENCE_REPORT_MAX ((size_t)64 << 20)

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

/*
 * Evidence as one file: a bundle as a tar (.tar) or gzipped tar (.tar.gz,
 * .tgz) of the same files (evidence_tar.c). Bounds of a tar: at most
 * PRB_EVIDENCE_TAR_FILES files and PRB_EVIDENCE_TAR_MAX bytes unpacked,
 * each file within its role's bound above.
 */
#define PRB_EVIDENCE_TAR_FILES ((uint64_t)1 << 20)
#define PRB_EVIDENCE_TAR_MAX ((uint64_t)2 << 30)
#define PRB_EVIDENCE_DIR_MAX 4096

/* 1 if path names a bundle file by its ending (.tar, .tar.gz, .tgz). */
int prb_evidence_is_tar(const char *path);

/* prb_evidence_write into a private directory beside `tar`, packed as the
 * new file `tar` (written as tar.tmp, fsynced, renamed only if `tar` does
 * not exist: PRB_EEXIST), the directory then removed. */
int prb_evidence_write_tar(const char *tar, prb_log *log,
                           const prb_policy_set *ps, const prb_finding *f,
                           size_t n, prb_err *err);

/* Unpacks the bundle file `tar` into a new private directory (mode 0700,
 * under $TMPDIR or /tmp), whose path goes to dir, for prb_evidence_verify
 * or prb_evidence_reproduce; the caller removes it with
 * prb_evidence_remove_dir. Streams: memory is bounded whatever the tar
 * holds. Refused, naming the entry, before any of its bytes is written:
 * links (symbolic or hard), devices, FIFOs, names absolute or holding
 * "..", "." or empty components or deeper than one subdirectory, a name
 * given twice, a file over its role's bound, more than the tar bounds.
 * On failure nothing is left and dir is "". */
int prb_evidence_unpack(const char *tar, char dir[PRB_EVIDENCE_DIR_MAX],
                        prb_err *err);

/* Removes a directory made by prb_evidence_unpack (or a bundle's files
 * and one level of subdirectories); never follows a link. */
void prb_evidence_remove_dir(const char *dir);

#endif
