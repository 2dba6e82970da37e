/*
 * The storage seam under the log.
 *
 * Contract (every backend keeps it; the log relies on nothing else):
 *  1. Objects are named by tlog-tiles paths ("tile/0/x001/002.p/7",
 *     "tile/entries/003") plus the single mutable object "checkpoint".
 *  2. put() hands an object to the store. It becomes readable under its
 *     name with exactly the given bytes, replacing any previous object of
 *     that name atomically (a reader sees old or new bytes, never a mix),
 *     at the latest when a later get(), list(), remove(), sync() or
 *     set_checkpoint() on the same handle returns; until then another
 *     reader may see an object that did not exist before partly written
 *     (the log names an object in a checkpoint only once it is durable).
 *     Puts of one name take effect in order. It need not be durable. A put
 *     that fails may report its error from any of those later calls; after
 *     one, the handle refuses further puts.
 *  3. sync() returns 0 only when every put() before it is durable: after a
 *     crash or power loss each of those names holds the bytes last put.
 *     A failed sync() is final: the caller must not retry or go on.
 *  4. set_checkpoint() atomically and durably replaces "checkpoint", but
 *     only if its current bytes equal `old` (compare-and-swap; old NULL with
 *     old_len 0 means "must not exist yet"), else PRB_ECONFLICT. It is the
 *     log's single commit point and the only mutation of a named object.
 *     A store that cannot replace it in one step may leave the new bytes
 *     as the object PRB_CHECKPOINT_PENDING when interrupted; the log's
 *     writer, on open, installs that checkpoint if it verifies and extends
 *     the current one, and removes it otherwise.
 *  5. get() returns a malloc'd copy of an object (caller frees) or
 *     PRB_ENOTFOUND.
 *  6. list() calls fn for each object name directly under a prefix ending
 *     in '/', and once for each name there that deeper objects' names
 *     continue with '/' (a directory, e.g. "tile/0/001.p" for
 *     "tile/0/001.p/7"); remove() deletes an object, PRB_ENOTFOUND if
 *     there was none. They are used to delete obsolete partial tiles and
 *     what batches that never committed left behind.
 *  7. lock() takes the single-writer lock, waiting up to wait_ms
 *     milliseconds (0: do not wait), else PRB_ELOCKED. close() releases it.
 *  8. commit() and commit_wait() are optional (both NULL: the log calls
 *     sync() and set_checkpoint() itself). commit(old, data) is sync() of
 *     every put() made before it followed by set_checkpoint(old, data),
 *     done in the background: it returns once the request is queued, and
 *     puts made after it, which it does not cover, go on meanwhile (the
 *     next batch is written while this one is made durable). Commits take
 *     effect in the order they were made; `old` is compared when the
 *     commit runs, so it may be the bytes of an earlier commit still
 *     queued. commit_wait() waits for the oldest commit not yet waited
 *     for and returns its result: 0 once the new checkpoint is durable;
 *     PRB_EINDOUBT if replacing "checkpoint" failed midway (it may or may
 *     not have been replaced, as after a failed set_checkpoint); any other
 *     code if "checkpoint" was not changed. A commit fails if a put made
 *     before it failed. After a failed commit, every commit made after it
 *     fails too, without changing "checkpoint", until commit_wait() has
 *     reported all of them; so no later checkpoint, which would cover the
 *     failed batch, is written behind the caller's back. get(), list()
 *     and remove() do not wait for queued commits; sync(),
 *     set_checkpoint() and close() wait until every one has run.
 * Errors fill err with the object name and the system's reason.
 * A store handle is not thread-safe (a store may run threads of its own).
 *
 * A filesystem store keeps objects as files under a directory (so the
 * directory can be served as-is by any static web server); an object store
 * (S3 API) would map put to PUT, sync to nothing, set_checkpoint to a
 * conditional PUT (If-Match), commit to a conditional PUT issued once the
 * PUTs before it have completed, and lock to a lease.
 */
#ifndef PROBITY_STORE_H
#define PROBITY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct prb_store prb_store;

#define PRB_CHECKPOINT_PENDING "checkpoint.tmp"

typedef struct {
	int (*get)(prb_store *s, const char *name, uint8_t **data, size_t *len,
	           prb_err *err);
	int (*put)(prb_store *s, const char *name, const uint8_t *data,
	           size_t len, prb_err *err);
	int (*sync)(prb_store *s, prb_err *err);
	int (*set_checkpoint)(prb_store *s, const uint8_t *old, size_t old_len,
	                      const uint8_t *data, size_t len, prb_err *err);
	int (*list)(prb_store *s, const char *prefix,
	            int (*fn)(void *ctx, const char *name), void *ctx,
	            prb_err *err);
	int (*remove)(prb_store *s, const char *name, prb_err *err);
	int (*lock)(prb_store *s, int wait_ms, prb_err *err);
	void (*close)(prb_store *s);
	/* item 8; may both be NULL */
	int (*commit)(prb_store *s, const uint8_t *old, size_t old_len,
	              const uint8_t *data, size_t len, prb_err *err);
	int (*commit_wait)(prb_store *s, prb_err *err);
} prb_store_ops;

struct prb_store {
	const prb_store_ops *ops;
};

/* How the filesystem store makes a batch durable (store.c has the exact
 * syscall order of each). */
enum {
	PRB_SYNC_FILES = 0, /* the default: an fsync of every file and
	                       directory a batch wrote, many at once from
	                       several threads; durable on any filesystem
	                       that honours fsync(2) (portable POSIX) */
	PRB_SYNC_FS = 1,    /* one syncfs(2) of the filesystem per batch
	                       (Linux); only where syncfs is known to sync
	                       (prb_store_syncfs_trusted) */
};

/* Opens the filesystem store rooted at `dir`, which must exist.
 * sync_mode is PRB_SYNC_FILES or PRB_SYNC_FS; PRB_SYNC_FS on a filesystem
 * that prb_store_syncfs_trusted does not accept is PRB_EINVAL, naming the
 * filesystem (syncfs(2) returns 0 on FUSE without syncing anything:
 * DESIGN.md invariant 6). Close with prb_store_close. */
int prb_store_open_dir(const char *dir, int sync_mode, prb_store **out,
                       prb_err *err);

/* Whether syncfs(2) is known to make every write on a filesystem durable,
 * from the filesystem's statfs(2) f_type: 1 for the local filesystems on
 * store.c's allow-list (ext2/3/4, xfs, btrfs, f2fs, tmpfs), 0 for FUSE,
 * network filesystems and anything unknown. *name (name may be NULL) is
 * set to a static printable name of the filesystem, "unknown" if it has
 * none here. Thread-safe. */
int prb_store_syncfs_trusted(uint64_t f_type, const char **name);

/*
 * The S3 store (src/log/store_s3.c): the objects in a bucket under a
 * prefix, url "s3://BUCKET/PREFIX", configured from the environment as
 * s3.h says. `dir` is the local directory of the log, which must exist:
 * its lock is flock(2) on dir, plus a fence in the bucket (store_s3.c)
 * that keeps writers on other machines from forking the log. Puts run in
 * parallel on several connections; sync is waiting for them. Its get()
 * alone is thread-safe (serve reads tiles through it from many threads).
 */
int prb_store_open_s3(const char *url, const char *dir, prb_store **out,
                      prb_err *err);

/* A log directory whose objects live elsewhere names their store in this
 * file (one line, "s3://BUCKET/PREFIX"); without it the directory is the
 * filesystem store. */
#define PRB_STORE_URL_FILE "store"
#define PRB_STORE_URL_MAX 640

/* The store URL of log directory dir into url ("" when dir is itself the
 * store). PRB_EMALFORMED for a file that is not one line. */
int prb_store_url(const char *dir, char url[PRB_STORE_URL_MAX],
                  prb_err *err);

/* Opens the store of log directory dir: the one way every command opens
 * a log's store. The S3 store when dir names one (prb_store_url; then
 * sync_mode does not apply: S3 acknowledges a PUT once it is durable),
 * else the filesystem store at dir with sync_mode. */
int prb_store_open(const char *dir, int sync_mode, prb_store **out,
                   prb_err *err);

/* Closes any store. Accepts NULL. */
void prb_store_close(prb_store *s);

#endif
