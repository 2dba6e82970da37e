/*
 * The index: a SQLite database of normalised event fields, one row per log
 * entry that is a cloud audit record, keyed by leaf index. It is derived
 * data: everything in it can be rebuilt from the log alone (probity
 * reindex), and `probity verify` rebuilds it aside and compares.
 *
 * It lives beside the log as DIR/index.sqlite (PRB_INDEX_FILE). Its meta
 * table records the log size and root it covers; the log's writer brings
 * it up to date after every commit, and on open when a crash left it
 * behind. A handle is not thread-safe.
 *
 * Schema (PRB_INDEX_SCHEMA is the version):
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *     schema = "1", log_size = decimal, log_root = 64 lowercase hex
 *   events(leaf INTEGER PRIMARY KEY, format, event_id, event_time, account,
 *     tenant, principal, principal_account, principal_type, service,
 *     operation, resource_id, resource_type, region, location, result,
 *     error_code, source_ip, user_agent, request, response,
 *     canonical INTEGER, blob TEXT, entry_sha256 TEXT,
 *     UNIQUE(format, event_id))
 * Columns are the prb_event fields of the same name (event_time = time);
 * canonical is 1 when the entry is the record's RFC 8785 form, 0 when it
 * is the record's exact source text (see entry.h); blob is the SHA-256 hex
 * of the record's bytes when the entry is a large-record stub, else NULL;
 * entry_sha256 is the SHA-256 hex of the log entry itself (so a record
 * re-delivered under the same event id with other content is told apart
 * from a true duplicate).
 */
#ifndef PROBITY_INDEX_H
#define PROBITY_INDEX_H

#include <stdint.h>

#include "error.h"
#include "ingest.h"
#include "merkle.h"

#define PRB_INDEX_FILE "index.sqlite"
#define PRB_INDEX_SCHEMA 1

typedef struct prb_index prb_index;

/* Opens the index at `path`, creating it (and its schema) if missing.
 * A database of another schema version: PRB_ECORRUPT. */
int prb_index_open(const char *path, prb_index **out, prb_err *err);
/* Creates a new, empty index at `path` (a scratch file: whatever is there
 * is removed first), for building aside and then prb_index_install. */
int prb_index_create(const char *path, prb_index **out, prb_err *err);
/* Renames the closed database `tmp` over `path` (removing path's WAL
 * files first) and syncs the directory. */
int prb_index_install(const char *tmp, const char *path, prb_err *err);

/* Removes the database file at path and its -wal, -shm and -journal
 * companions, if any. */
void prb_index_remove(const char *path);

/* Opens an existing index read-only (prb_index_covers and comparing
 * only). No file: PRB_EIO from SQLite ("unable to open"). */
int prb_index_open_readonly(const char *path, prb_index **out,
                            prb_err *err);
void prb_index_close(prb_index *ix);

/* The log size and root the index covers (0 and the empty root when new). */
int prb_index_covers(prb_index *ix, uint64_t *size, prb_hash *root,
                     prb_err *err);

/* Starts a write transaction; every prb_index_add until commit or
 * rollback belongs to it. */
int prb_index_begin(prb_index *ix, prb_err *err);
/* 1 if (format, event_id) is indexed (including in the open
 * transaction), with its leaf and its entry's SHA-256 hex; 0 if not; < 0
 * on error. */
int prb_index_lookup(prb_index *ix, prb_format f, const char *event_id,
                     uint64_t *leaf, char entry_hex[65], prb_err *err);
/* Adds the row for leaf. blob_hex may be NULL; entry_hex is the SHA-256 of
 * the log entry. Returns 1 if added, 0 if (format, event_id) was already
 * indexed (the row is not added: the first entry of an event is its row),
 * < 0 on error. */
int prb_index_add(prb_index *ix, uint64_t leaf, const prb_event *ev,
                  int canonical, const char *blob_hex, const char *entry_hex,
                  prb_err *err);
/* Records that the index now covers the log up to size/root, and commits
 * durably (SQLite's own journal and fsyncs). */
int prb_index_commit(prb_index *ix, uint64_t size, const prb_hash *root,
                     prb_err *err);
/* Abandons the open transaction, if any. */
void prb_index_rollback(prb_index *ix);
/* Inside a transaction: deletes every row and sets the covered size to 0. */
int prb_index_clear(prb_index *ix, prb_err *err);

/*
 * Indexes the log entries [from, size) of the log in `st` whose checkpoint
 * has `size` and `root`, inside one transaction, and commits. Entries are
 * read from the entry bundles; an entry that is not a cloud audit record
 * (a plain line from `probity add`) gets no row. A large-record stub whose
 * blob is missing or altered: PRB_ECORRUPT naming it. progress (may be
 * NULL) is called with entries done of total.
 */
struct prb_store;
int prb_index_build(prb_index *ix, struct prb_store *st, uint64_t from,
                    uint64_t size, const prb_hash *root,
                    void (*progress)(void *ctx, uint64_t done, uint64_t total),
                    void *pctx, prb_err *err);

/*
 * Compares the index stored at other_path (attached read-only) with this
 * one, rebuilt from the log (prb_index_build), in one read transaction so
 * that a writer committing meanwhile cannot make them seem to disagree.
 * check(ctx, size, root, &upto, err) is given the size and root the stored
 * index says it covers; it must check them against the log (0, or an
 * error that is returned) and set upto, the leaves below which rows are
 * compared (at most size; less when the stored index covers entries the
 * rebuilt one does not). Rows must be identical below upto and the stored
 * index may have no row at or beyond size: else PRB_ECORRUPT with err
 * naming the first differing leaf and column ("index has ..., the log
 * gives ..."). *covers receives size on success.
 */
int prb_index_compare(prb_index *ix, const char *other_path,
                      int (*check)(void *ctx, uint64_t size,
                                   const prb_hash *root, uint64_t *upto,
                                   prb_err *err),
                      void *ctx, uint64_t *covers, prb_err *err);

#endif
