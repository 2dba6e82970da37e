/*
 * AWS CloudTrail digest files: checking a downloaded tree of digests and
 * log files offline (log file integrity validation).
 *
 * Feed the checker every digest (uncompressed JSON), every log file's hash,
 * the CloudTrail public keys (ListPublicKeys) and, optionally, the S3
 * metadata signature of the newest digests; prb_ctd_check then reports what
 * is missing, altered, out of chain or badly signed. What exactly AWS
 * hashes and signs is written at the top of src/ingest/ctdigest.c.
 *
 * A handle is not thread-safe; distinct handles are independent.
 */
#ifndef PROBITY_CTDIGEST_H
#define PROBITY_CTDIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct prb_ctd prb_ctd;

/* A new empty checker, or NULL when out of memory. Free with
 * prb_ctd_free, which accepts NULL. */
prb_ctd *prb_ctd_new(void);
void prb_ctd_free(prb_ctd *c);

/*
 * Adds one digest file: `data` is its uncompressed JSON (the .json.gz
 * inflated), `path` where it was found (copied; used in reports and to
 * check the file sits where its digestS3Object says). The digest is checked
 * for form only: every required field present with the right type, hashes
 * and fingerprint in hex, signatures in hex, times "YYYY-MM-DDTHH:MM:SSZ"
 * with start <= end, SHA-256 / SHA256withRSA as algorithms, and either all
 * previousDigest* fields null (a starting digest) or none. Otherwise
 * PRB_EMALFORMED, err->where the path and err->offset the byte offset of
 * the syntax error or of the offending member's name (UINT64_MAX for a
 * missing member); the digest is then not added. PRB_ETOOBIG over 64 MiB,
 * PRB_ENOMEM.
 */
int prb_ctd_add_digest(prb_ctd *c, const char *path, const uint8_t *data,
                       size_t len, prb_err *err);

/*
 * Adds one log file (path copied) with the SHA-256 of its UNCOMPRESSED
 * content, which is what a digest lists (see prb_ctd_hash_logfile).
 * A listed s3Object matches the file whose path ends with the object key
 * from its "AWSLogs/" component on, else the only file with the same base
 * name. PRB_ENOMEM or 0.
 */
int prb_ctd_add_logfile(prb_ctd *c, const char *path,
                        const uint8_t sha256[32], prb_err *err);

/*
 * SHA-256 of a log file's uncompressed content: `data` is the file as
 * delivered; a gzip file (magic 1f 8b) is inflated on the fly in constant
 * memory, anything else is hashed as is. A corrupt or truncated gzip
 * stream, or bytes after its first member: PRB_EMALFORMED.
 */
int prb_ctd_hash_logfile(const uint8_t *data, size_t len, uint8_t sha256[32],
                         prb_err *err);

/*
 * Adds a CloudTrail public key: DER or PEM, as an X.509
 * SubjectPublicKeyInfo or a PKCS#1 RSAPublicKey, or the base64 text of the
 * DER as `aws cloudtrail list-public-keys` prints its "Value". RSA of at
 * least 2048 bits only, else PRB_EKEY. If `fingerprint` is not NULL it
 * receives the key's fingerprint as ListPublicKeys reports it: lower-case
 * hex of the MD5 of the PKCS#1 DER, NUL-terminated.
 */
int prb_ctd_add_pubkey(prb_ctd *c, const uint8_t *key, size_t len,
                       char fingerprint[33], prb_err *err);

/*
 * Supplies a digest's own signature (the x-amz-meta-signature metadata of
 * its S3 object, hex), which a downloaded tree lacks for the newest digest
 * of each chain. `digest` names the digest by the path given to
 * prb_ctd_add_digest, by its digestS3Object key or by "bucket/key". Only
 * the form is checked here (hex, at most 1,024 bytes): PRB_EMALFORMED.
 */
int prb_ctd_add_signature(prb_ctd *c, const char *digest, const char *hex,
                          size_t len, prb_err *err);

enum {
	PRB_CTD_MISSING = 1,     /* a listed log file (or the digest a given
	                            signature names) is not present */
	PRB_CTD_ALTERED,         /* a listed log file's hash differs */
	PRB_CTD_GAP,             /* a digest does not chain to the digest
	                            before it: start time, or previous object */
	PRB_CTD_CHAIN_HASH,      /* a digest's content differs from the hash
	                            the next digest records for it */
	PRB_CTD_CHAIN_SIG,       /* a given signature differs from the one the
	                            next digest records */
	PRB_CTD_BAD_SIGNATURE,   /* the signature does not verify */
	PRB_CTD_UNKNOWN_KEY,     /* no key given has the digest's fingerprint */
	PRB_CTD_UNSIGNED_NEWEST, /* keys were given but the newest digest of a
	                            chain has no known signature, so it and its
	                            log files are unauthenticated */
	PRB_CTD_MOVED,           /* the digest file is not where its
	                            digestS3Object says */
	PRB_CTD_DUPLICATE,       /* two different digests with one S3 key */
};

/* A static name for a kind ("missing", "altered", ...). */
const char *prb_ctd_kind_name(int kind);

/*
 * One problem. `digest` is the path of the digest at fault (for MISSING of
 * a signature, the name it was given under); `object` the S3 key concerned
 * (the log file, or the previous digest a GAP names; may be NULL); `path`
 * the local file concerned (the log file of ALTERED), else NULL. The
 * pointers are valid during the report call only.
 */
typedef struct {
	int kind;
	const char *digest;
	const char *object;
	const char *path;
	char detail[256];
} prb_ctd_problem;

/* Counts over a check. Each digest is counted once in exactly one of
 * sigs_verified, sigs_failed, sigs_unchecked. */
typedef struct {
	size_t digests;           /* distinct digests */
	size_t logfiles_listed;   /* logFiles entries over all digests */
	size_t logfiles_matched;  /* ... present with the listed hash */
	size_t logfiles_unlisted; /* log files given that no digest lists */
	size_t sigs_verified;
	size_t sigs_failed;       /* BAD_SIGNATURE or UNKNOWN_KEY */
	size_t sigs_unchecked;    /* signature unknown, or no key given */
} prb_ctd_summary;

/*
 * Checks everything added so far. Digests are grouped into chains by
 * account, region and trail (the S3 key without date and timestamp) and
 * ordered by digestEndTime; backfill digests ("_backfill" in the key) are
 * checked on their own. A digest's signature comes from the next digest's
 * previousDigestSignature or from prb_ctd_add_signature; with no key
 * added, no signature is checked (counted, not reported).
 *
 * `report` (may be NULL) is called once per problem, in chain order.
 * `sum` (may be NULL) is filled. Returns the number of problems, or
 * PRB_ENOMEM. May be called again after adding more.
 */
int prb_ctd_check(prb_ctd *c,
                  void (*report)(void *ctx, const prb_ctd_problem *p),
                  void *ctx, prb_ctd_summary *sum);

#endif
