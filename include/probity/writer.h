/*
 * The writer: the one place the commit protocol lives. Every input that
 * appends to a log (probity add, ingest, serve; later collectors and
 * webhooks) goes through it. It owns the store, the log, the index, the
 * blobs of large records and the witness round.
 *
 * A batch goes through these states (src/writer/writer.c names the
 * function behind each transition):
 *
 *   BUILDING   prb_writer_append / prb_writer_record add entries: each is
 *              hashed and handed to the store at once (the log stages it),
 *              a record's index row goes into an open SQLite transaction
 *              and its blob to the store. Nothing is durable yet.
 *   IN FLIGHT  prb_writer_ship signed the batch's checkpoint and started
 *              its commit: the store makes every put before it durable,
 *              then replaces the checkpoint (compare-and-swap). Up to
 *              PRB_WRITER_INFLIGHT batches of plain entries are in flight
 *              while the next is built (pipelined group commit). A batch
 *              with index rows is shipped and waited for at once: the
 *              index follows the log, in order.
 *   DONE       prb_writer_collect reports the oldest batch, in order:
 *     IN         durable; its index rows commit (recording the log size
 *                and root they cover) only now, so the index is never
 *                ahead of the durable log;
 *     OUT        not committed (the index transaction is rolled back);
 *     IN DOUBT   writing the checkpoint failed midway. The writer settles
 *                it: once nothing is in flight it reopens the store and
 *                the log (the log's recovery), and the batch is IN if the
 *                reopened checkpoint covers it, with the batch's root at
 *                the batch's size (that checkpoint is then
 *                written and synced again: what was read may have been
 *                only in the page cache), OUT if the log has its old
 *                size or another writer's tree of that size, and stays
 *                IN DOUBT otherwise.
 *
 * After any failure the batches after it fail too (a later checkpoint
 * would cover the failed batch), the batch being built is dropped, and
 * once nothing is in flight the writer reopens the log, so a long-running
 * caller (serve) can go on. If that reopen fails the writer is broken:
 * everything is refused with PRB_EFAILED.
 *
 * The index (DIR/index.sqlite) is opened at the first record, or by
 * prb_writer_index_open, and brought up to the log with every check: an
 * index that covers more than the log, or whose root for its size is not
 * the log's, belongs to another log (PRB_ECORRUPT: run probity reindex);
 * one behind the log is caught up from the log's entries.
 *
 * A writer is not thread-safe: one thread drives it.
 */
#ifndef PROBITY_WRITER_H
#define PROBITY_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "cosign.h"
#include "entry.h"
#include "error.h"
#include "ingest.h"
#include "log.h"
#include "note.h"
#include "store.h"

#define PRB_WRITER_INFLIGHT 2

typedef struct prb_writer prb_writer;

typedef struct {
	const char *dir;     /* the log directory (its filesystem store) */
	int sync_mode;       /* PRB_SYNC_FILES or PRB_SYNC_FS (store.h) */
	prb_signer *signer;  /* the log's key; not owned, outlives the writer */
	int lock_wait_ms;    /* wait for another writer at open */
	prb_cosign *cosign;  /* witnesses, or NULL; not owned */
	/* Called (may be NULL) before the index is caught up from the log
	 * with entries from..to-1. */
	void (*on_catch_up)(void *ctx, uint64_t from, uint64_t to);
	void *ctx;
	/* Opens the store (at open, and again to recover after a failure),
	 * or NULL for the store of dir (prb_store_open: the filesystem store
	 * at dir with sync_mode, or the one DIR/store names). The writer
	 * closes what it returns with prb_store_close. */
	int (*open_store)(void *ctx, prb_store **out, prb_err *err);
	void *store_ctx;
} prb_writer_cfg;

/* Opens the store and the log for appending (prb_log_open: lock, origin,
 * signature, recovery). Errors name the file relative to the store. */
int prb_writer_open(const prb_writer_cfg *cfg, prb_writer **out,
                    prb_err *err);

/* Waits for batches in flight (dropping their results), drops the batch
 * being built, rolls back an open index transaction, closes everything.
 * Accepts NULL. */
void prb_writer_close(prb_writer *w);

/* The log, for reads (size, root, checkpoint, proofs once nothing is in
 * flight); valid until the next call that may reopen it (any call but
 * the ones that only read: size, next_leaf, building, in_flight,
 * broken). NULL once the writer is broken. */
prb_log *prb_writer_log(prb_writer *w);

/* 1 once the writer is broken (a reopen after a failure failed), with
 * the reason in *why (may be NULL); else 0. */
int prb_writer_broken(const prb_writer *w, prb_err *why);

/* The latest durable size (prb_log_size). */
uint64_t prb_writer_size(const prb_writer *w);
/* Leaf index the next entry added will get: the durable size, plus the
 * batches in flight and the batch being built. */
uint64_t prb_writer_next_leaf(const prb_writer *w);
/* Entries in the batch being built; batches shipped, not yet collected. */
size_t prb_writer_building(const prb_writer *w);
unsigned prb_writer_in_flight(const prb_writer *w);

/*
 * Adds plain entries to the batch being built (hashed and handed to the
 * store now; the caller's memory may be reused on return). A batch holds
 * plain entries or records, not both: PRB_EINVAL if it holds records
 * (ship it first); nothing is added, the batch is still usable. So is it
 * after PRB_ETOOBIG (err->offset = the entry's position among these n).
 * Any other error: the batch being built is lost (not committed); collect
 * what is in flight.
 */
int prb_writer_append(prb_writer *w, const uint8_t *const *ents,
                      const size_t *lens, size_t n, prb_err *err);

/* What a record became (prb_writer_record). */
enum {
	PRB_WRITER_NEW = 0,       /* a new entry, at *leaf */
	PRB_WRITER_DUPLICATE = 1, /* its event id is at *leaf, same entry */
	PRB_WRITER_CONFLICT = 2,  /* its event id is at *leaf with another
	                             entry: not committed */
};

/*
 * Adds a cloud record: a new event id gets its index row and its entry
 * (and its blob, for a large record) in the batch being built; a known
 * one adds nothing and says where it is. The first record of a batch
 * needs nothing in flight (PRB_EINVAL: collect first) and no plain
 * entries in the batch (PRB_EINVAL: ship them first); it opens the index
 * if needed and brings it up to the log (its errors, e.g. PRB_ECORRUPT
 * for an index of another log, leave the log untouched and the batch
 * empty), then begins its transaction. Any error after that loses the
 * batch being built, as for prb_writer_append.
 */
int prb_writer_record(prb_writer *w, const prb_event *ev,
                      const prb_entry *en, uint64_t *leaf, int *outcome,
                      prb_err *err);

/*
 * Ships the batch being built: signs its checkpoint and starts the
 * commit. Needs fewer than PRB_WRITER_INFLIGHT batches in flight
 * (PRB_EINVAL: collect first). A batch with index rows is committed
 * before this returns. An empty batch ships nothing (returns 0; an open
 * index transaction, all duplicates, is rolled back). Any other error
 * means the batch never started: it is lost, as for prb_writer_append,
 * and prb_writer_collect does not report it (it reports the batches
 * shipped before it).
 */
int prb_writer_ship(prb_writer *w, prb_err *err);

enum {
	PRB_BATCH_IN = 0,    /* durable */
	PRB_BATCH_OUT = 1,   /* not committed */
	PRB_BATCH_DOUBT = 2, /* may or may not be committed */
};

/* The outcome of one shipped batch. */
typedef struct {
	uint64_t first, n;  /* its entries are leaves first .. first+n-1 */
	int state;          /* PRB_BATCH_* */
	int settled;        /* its commit was in doubt; reopening settled it */
	uint64_t size;      /* the log's size once it is IN */
	int rc;             /* the commit's error (0 if it went through) */
	prb_err err;
	int index_rc;       /* IN with index rows: the index's commit */
	prb_err index_err;
} prb_writer_batch;

/* Waits for the oldest batch shipped and not yet collected and reports
 * it. PRB_EINVAL if there is none. */
int prb_writer_collect(prb_writer *w, prb_writer_batch *out);

/* The result of a witness round. */
typedef struct {
	uint64_t size;      /* the checkpoint's */
	size_t got;         /* cosignatures collected */
	char *note;         /* the cosigned checkpoint (malloc'd, caller
	                       frees), or NULL */
	size_t len;
	prb_err warn;       /* witnesses that failed though a quorum cosigned */
	int publish_rc;     /* writing it to the log's checkpoint */
	prb_err publish_err;
} prb_writer_cosigned;

/*
 * A witness round: the latest checkpoint is sent to the witnesses with
 * consistency proofs; once a quorum cosigns, the cosigned checkpoint is
 * returned and written as the log's checkpoint (prb_log_publish;
 * publish_rc says whether that worked; an I/O failure there makes the
 * writer reopen the log). Needs a cosign in the config, nothing in flight
 * and nothing being built (PRB_EINVAL). Returns 0 when a quorum cosigned,
 * else the round's error (which names each witness that failed).
 */
int prb_writer_cosign(prb_writer *w, prb_writer_cosigned *out,
                      prb_err *err);

/* Opens the index now (else at the first record) and brings it up to the
 * log, with the checks above. Needs nothing in flight. */
int prb_writer_index_open(prb_writer *w, prb_err *err);

#endif
