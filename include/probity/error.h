/*
 * probity error codes and the error record every fallible call can fill.
 *
 * Fallible functions return int: 0 on success, a negative PRB_E* code on
 * failure. Codes are grouped by family (system, format, verification, log).
 * A caller that wants to know *where* something went wrong passes a prb_err;
 * every fallible function accepts NULL there.
 */
#ifndef PROBITY_ERROR_H
#define PROBITY_ERROR_H

#include <stdint.h>

enum {
	PRB_OK = 0,
	/* system and resources: -1 .. -19 */
	PRB_EIO = -1,        /* a read, write, sync or rename failed */
	PRB_ENOMEM = -2,     /* an allocation failed */
	PRB_EINVAL = -3,     /* an argument out of range (caller error) */
	PRB_ENOTFOUND = -4,  /* object or file does not exist */
	PRB_EEXIST = -5,     /* object or file already exists */
	PRB_ELOCKED = -6,    /* another writer holds the log's lock */
	PRB_ENOSPC = -7,     /* the storage is full */
	PRB_ECONFLICT = -8,  /* compare-and-swap lost: checkpoint changed */
	/* formats: -20 .. -39 */
	PRB_EMALFORMED = -20, /* input does not parse */
	PRB_ETOOBIG = -21,    /* entry over 65,535 bytes, or input over a limit */
	PRB_EKEY = -22,       /* a signer or verifier key is malformed */
	/* verification: -40 .. -59 */
	PRB_EBADSIG = -40,    /* a signature from a known key does not verify */
	PRB_ENOSIG = -41,     /* no signature from a known key */
	PRB_EAMBIGUOUS = -42, /* two configured verifiers share name and key ID */
	PRB_EPROOF = -43,     /* a Merkle proof does not verify */
	PRB_EORIGIN = -44,    /* key name and checkpoint origin differ */
	PRB_ESPLIT = -45,     /* two signed checkpoints of one log conflict
	                         (split view, rollback, not an extension) */
	/* log state: -60 .. -79 */
	PRB_ECORRUPT = -60,   /* stored tiles, bundles or checkpoint disagree */
	PRB_EFAILED = -61,    /* log handle unusable after an earlier failure */
	PRB_EINDOUBT = -62,   /* a commit failed midway: the batch may or may
	                         not be committed; reopen the log to know */
};

/* Where and why a call failed. `where` names the file or object (may be
 * empty), `offset` is a byte offset or line number as `msg` says, or
 * UINT64_MAX when it does not apply. */
typedef struct {
	int code;
	uint64_t offset;
	char where[256];
	char msg[512];
} prb_err;

/* A static English description of a PRB_E* code. Thread-safe. */
const char *prb_strerror(int code);

/* Fill *err (if not NULL) and return code. `where` may be NULL. */
int prb_err_set(prb_err *err, int code, const char *where, uint64_t offset,
                const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;

/* Reset *err to "no error". Accepts NULL. */
void prb_err_clear(prb_err *err);

/* Makes a `where` relative to directory dir whole: "dir/where" (cut to
 * fit). An empty where stays empty. Accepts NULL. */
void prb_err_prefix(prb_err *err, const char *dir);

#endif
