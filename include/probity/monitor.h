/*
 * A monitor following a remote c2sp.org/tlog-tiles log over HTTP.
 *
 * Each round (prb_monitor_round) gets <url>checkpoint, opens it with the
 * log's key (origin = the key's name) and counts the valid cosignature/v1
 * signatures of the configured witnesses; then compares it with the last
 * verified checkpoint kept in the state directory:
 *   - smaller size: a rollback                      -> PRB_ESPLIT
 *   - same size, other root: a split view           -> PRB_ESPLIT
 *   - same size and root: nothing to do
 *   - larger: the entry bundles from the stored size on are fetched (a
 *     partial bundle that 404s is fetched as the full one), every new
 *     entry hashed into the stored right edge of the tree, every hash
 *     tile that fills and the partial tiles of the new size fetched and
 *     compared (prb_log_verify_extend); then the new root must be the
 *     checkpoint's. If that fails (an entry already verified changed, a
 *     tile does not match, another root), the served tree is verified
 *     again from entry 0 at the new size, to tell a fork from bad data:
 *     if it is sound by itself, the new checkpoint is not an extension
 *     of the last one                               -> PRB_ESPLIT
 *     (also when its entries do not give the signed root: the log
 *     hides the entries it signed, or forked).
 * Served data that contradicts itself (an entry that does not hash to
 * its tile, a tile that does not match, a malformed or missing object) is
 * PRB_ECORRUPT with err->where the URL and err->msg the position and the
 * expected and found values; transport failures and unexpected HTTP
 * statuses are PRB_EIO. On the first round (nothing stored) entries that
 * do not give the signed root are PRB_ECORRUPT too.
 *
 * On PRB_ESPLIT both signed checkpoints, verbatim, are written to a new
 * directory STATE/evidence/<UTC time>-<kind>/ as stored.checkpoint and
 * new.checkpoint (named in the result), and the state is not changed.
 *
 * State (STATE/state), replaced atomically (temp file, fsync, rename,
 * fsync of the directory) only after a checkpoint verified:
 *     probity monitor state v1\n
 *     edge <base64 of prb_log_edge_encode()>\n
 *     \n
 *     <the signed checkpoint note, verbatim>
 * It is re-checked when loaded (the note must verify with the log's key,
 * the edge's size and root must be the checkpoint's). STATE/lock is held
 * (flock) while a monitor is open, so two monitors cannot share a state.
 *
 * Memory and state are O(log n): at most 255 hashes per tree level.
 * A handle is not thread-safe.
 */
#ifndef PROBITY_MONITOR_H
#define PROBITY_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "error.h"
#include "merkle.h"
#include "note.h"

/* Largest bodies accepted, per kind of object. */
#define PRB_MONITOR_MAX_CHECKPOINT (64u * 1024)
#define PRB_MONITOR_MAX_TILE (256u * 32)
#define PRB_MONITOR_MAX_BUNDLE (256u * 65537)

typedef struct prb_monitor prb_monitor;

typedef struct {
	const char *url;              /* tlog-tiles prefix, http(s)://...;
	                                 a missing final '/' is added */
	const prb_verifier *log_key;  /* Ed25519 (type 0x01) */
	const prb_verifier *witnesses; /* cosignature/v1 (type 0x04) keys */
	size_t nwitnesses;
	size_t min_cosigs;            /* cosignatures required, <= nwitnesses */
	const char *state_dir;        /* created (0700) if missing */
	const char *bearer;           /* Authorization: Bearer; may be NULL */
	long timeout_ms;              /* per request */
} prb_monitor_cfg;

enum {
	PRB_MONITOR_UNCHANGED = 0, /* same size and root as the stored one */
	PRB_MONITOR_VERIFIED = 1,  /* a new checkpoint verified and stored */
};

enum {
	PRB_CONFLICT_NONE = 0,
	PRB_CONFLICT_SPLIT_VIEW,    /* same size, different root */
	PRB_CONFLICT_ROLLBACK,      /* smaller size than the stored one */
	PRB_CONFLICT_NOT_EXTENSION, /* larger, but its root is not the root of
	                               the stored tree extended with the
	                               served entries */
};

typedef struct {
	int outcome;           /* PRB_MONITOR_* (when the round returned 0) */
	uint64_t old_size;     /* the stored size before the round (0: none) */
	int had_state;         /* a checkpoint was stored before the round */
	prb_checkpoint cp;     /* the checkpoint fetched this round */
	size_t cosigs;         /* valid witness cosignatures on it */
	int few_cosigs;        /* the round failed (PRB_ENOSIG) for want of
	                          cosignatures */
	uint64_t requests;     /* HTTP requests made this round */
	uint64_t bytes;        /* response bytes received this round */
	/* when the round returned PRB_ESPLIT: */
	int conflict;          /* PRB_CONFLICT_* */
	const char *reason;    /* a static English sentence saying why */
	prb_checkpoint stored; /* the stored checkpoint */
	char evidence_dir[4096];
	char evidence_old[4096]; /* the stored signed checkpoint */
	char evidence_new[4096]; /* the conflicting one */
} prb_monitor_result;

/* Opens (creating) the state directory, takes its lock (PRB_ELOCKED if
 * another monitor holds it) and loads the stored state, if any
 * (PRB_ECORRUPT naming the file if it does not check). The handle copies
 * what it needs of cfg. Close with prb_monitor_close. */
int prb_monitor_open(const prb_monitor_cfg *cfg, prb_monitor **out,
                     prb_err *err);

/* Releases the lock and frees. Accepts NULL. */
void prb_monitor_close(prb_monitor *m);

/* One round, as described above. 0 with res->outcome, or PRB_ESPLIT with
 * the conflict in res (evidence written), or another error code
 * (PRB_ENOSIG with res->few_cosigs set when too few witnesses
 * cosigned). The
 * stored state changes only when the round returns 0 with
 * PRB_MONITOR_VERIFIED. */
int prb_monitor_round(prb_monitor *m, prb_monitor_result *res, prb_err *err);

/* The stored checkpoint (size 0 and *has = 0 when none yet). */
void prb_monitor_stored(const prb_monitor *m, prb_checkpoint *cp, int *has);

/* The default state directory name for a log origin: the origin with
 * every byte outside [A-Za-z0-9._-] and a leading '.' replaced by '_'.
 * Returns 0 or PRB_EINVAL if it does not fit in cap. */
int prb_monitor_state_name(const char *origin, char *buf, size_t cap);

#endif
