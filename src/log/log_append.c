/*
 * The log's writer: open (which is crash recovery), create, batched
 * durable appends and their commit pipeline, publishing a cosigned
 * checkpoint. Reads and proofs are in log_read.c, verification in
 * log_verify.c; what the three share is in log_int.h.
 *
 * Invariants (DESIGN.md):
 *  1. An append is acknowledged only after its entries, every tile and
 *     bundle it changes, and a signed checkpoint covering it are durable:
 *       prb_log_append_start: put() every new full tile/bundle as it
 *       fills, put() the new partial tiles/bundle, sign, then
 *       commit() (the store syncs those puts, then set_checkpoint());
 *       prb_log_append_wait: the commit's result, in order.
 *     A store without commit() gets sync() and set_checkpoint() from
 *     prb_log_append_wait. The checkpoint is the single commit point.
 *  2. Recovery is prb_log_open: it trusts only what the checkpoint names;
 *     anything written after it is ignored and later overwritten.
 *  3. Files the checkpoint names are never rewritten with other bytes: a
 *     batch writes only tiles whose (level, index, width) the previous
 *     checkpoint does not name (put_partials skips identical partials),
 *     and the partials of earlier checkpoints are deleted only after the
 *     commit of a checkpoint that names the full tile
 *     (remove_full_partials).
 *  4. The handle holds only the right edge: per level the hashes of the
 *     current partial tile, plus the partial entry bundle (load_edge on
 *     open, stage as entries come).
 *  5. Pipelining: while batch k commits, batch k+1 is hashed and written
 *     as if k were committed (its `old` is k's size, its checkpoint's
 *     compare-and-swap expects k's). Nothing staged removes a file that the
 *     last durable checkpoint names: before a commit, only enter_dir
 *     removes files, and only ones beyond the checkpoint the log was opened
 *     at, in directories this handle has not written to yet. If
 *     batch k fails, every later one fails too (the store runs no commit
 *     after a failed one), and each failed batch's files are removed when
 *     its failure is collected (finish_batch). At most INFLIGHT batches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "log/log_int.h"

static void discard_batch(prb_log *log, uint64_t old, uint64_t reached);

/* Reads a checkpoint note without a key: its structure must be a signed
 * note carrying a signature line by the origin's name (not verified). */
static int
peek_checkpoint(const uint8_t *note, size_t len, prb_checkpoint *cp,
                prb_err *err)
{
	prb_note *n = NULL;
	int rc = prb_note_parse(note, len, &n, err);
	if (rc == 0)
		rc = prb_checkpoint_parse(n->text, n->text_len, cp, err);
	if (rc == 0) { /* the note's signers are needed too: not a peek */
		int named = 0;
		for (size_t i = 0; i < n->nsigs; i++)
			named |= strcmp(n->sigs[i].name, cp->origin) == 0;
		if (!named)
			rc = prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX,
			                 "no signature by the log's key \"%s\"",
			                 cp->origin);
	}
	prb_note_free(n);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "checkpoint");
	return rc;
}

struct bundle_ctx {
	prb_log *log;
	const edge *e;
	const char *path;
	prb_err *err;
};

/* Checks a loaded partial bundle entry against the level-0 partial tile
 * and keeps its bytes. */
static int
bundle_entry(void *ctx, const uint8_t *data, size_t len, unsigned i)
{
	struct bundle_ctx *b = ctx;
	prb_hash h;
	if (i >= b->e->n[0])
		return 0; /* a full bundle read in place of a deleted partial */
	prb_merkle_leaf_hash(data, len, &h);
	if (!prb_hash_equal(&h, &b->e->h[0][i]))
		return prb_err_set(b->err, PRB_ECORRUPT, b->path, i,
		                   "entry %u does not hash to the level 0 tile",
		                   i);
	return 0;
}

/* Loads the right edge of the checkpoint's tree and checks it. */
static int
load_edge(prb_log *log, prb_err *err)
{
	edge *e = &log->e;
	uint64_t size = log->cp.size;
	memset(e, 0, sizeof *e);
	e->size = size;
	for (unsigned l = 0; l < LEVELS; l++) {
		unsigned w = prb_tile_partial_width(size, l);
		if (w == 0)
			continue;
		uint64_t idx = prb_tile_level_count(size, l) / PRB_TILE_WIDTH;
		unsigned got;
		int rc = prb_log_read_tile(log->st, l, idx, size, e->h[l], &got,
		                           err);
		if (rc)
			return rc;
		e->n[l] = w;
	}
	prb_hash root;
	prb_log_edge_root(e, &root);
	if (!prb_hash_equal(&root, &log->cp.root))
		return prb_err_set(err, PRB_ECORRUPT, "checkpoint", UINT64_MAX,
		                   "the tiles' root does not match the "
		                   "checkpoint's root (run probity verify)");
	if (e->n[0] == 0) {
		log->bundle_len = 0; /* no partial bundle at this size */
		return 0;
	}
	char path[PRB_TILE_PATH_MAX];
	uint8_t *data;
	size_t len;
	unsigned count;
	int rc = prb_log_read_bundle(log->st, size - 1, size, &data, &len,
	                             &count, path, err);
	if (rc)
		return rc;
	struct bundle_ctx bc = {log, e, path, err};
	rc = prb_bundle_parse(data, len, count, bundle_entry, &bc, err);
	if (rc == PRB_EMALFORMED && err) {
		snprintf(err->where, sizeof err->where, "%s", path);
		rc = PRB_ECORRUPT;
	}
	if (rc == 0 && count == PRB_TILE_WIDTH) {
		/* the partial was replaced by the full bundle: keep our part */
		size_t off = 0;
		for (unsigned i = 0; i < e->n[0]; i++)
			off += 2 + load_be16(data + off);
		len = off;
	}
	if (rc == 0) {
		free(log->bundle);
		log->bundle = data;
		log->bundle_len = log->bundle_cap = len;
		return 0;
	}
	free(data);
	return rc;
}

uint64_t
prb_log_size(const prb_log *log)
{
	return log->cp.size;
}

void
prb_log_root(const prb_log *log, prb_hash *out)
{
	*out = log->cp.root;
}

const char *
prb_log_checkpoint(const prb_log *log, size_t *len)
{
	*len = log->note_len;
	return log->note;
}

/* Replaces the checkpoint file with `note` (same tree): CAS from the
 * current bytes; the handle is failed on an I/O error. */
static int
replace_note(prb_log *log, const char *note, size_t len, prb_err *err)
{
	if (log->fl_n > 0 || log->staging)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "batches are in flight");
	char *copy = malloc(len + 1);
	if (!copy)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	memcpy(copy, note, len);
	copy[len] = 0;
	int rc = log->st->ops->set_checkpoint(log->st, (const uint8_t *)log->note,
	                                      log->note_len, (const uint8_t *)copy,
	                                      len, err);
	if (rc) {
		free(copy);
		if (rc != PRB_ECONFLICT)
			log->failed = 1;
		return rc;
	}
	free(log->note);
	log->note = copy;
	log->note_len = len;
	return 0;
}

int
prb_log_publish(prb_log *log, const char *note, size_t len, prb_err *err)
{
	prb_note *n = NULL;
	size_t own = prb_note_first_sig_end(log->note, log->note_len);
	if (own == 0 || len <= own || memcmp(note, log->note, own) != 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "not the current checkpoint with its own "
		                   "signature and more signatures");
	int rc = prb_note_parse((const uint8_t *)note, len, &n, err);
	prb_note_free(n);
	return rc ? rc : replace_note(log, note, len, err);
}

int
prb_log_sync_checkpoint(prb_log *log, prb_err *err)
{
	char *same = malloc(log->note_len + 1);
	if (!same)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	memcpy(same, log->note, log->note_len);
	int rc = replace_note(log, same, log->note_len, err);
	free(same);
	return rc;
}

prb_store *
prb_log_store(prb_log *log)
{
	return log->st;
}

void
prb_log_close(prb_log *log)
{
	if (!log)
		return;
	while (log->fl_n > 0) /* results dropped; failed batches cleaned up */
		prb_log_append_wait(log, NULL, NULL);
	if (log->staging) /* never committed */
		discard_batch(log, log->stage_old, log->e.size);
	free(log->note);
	free(log->bundle);
	for (int l = 0; l < LEVELS; l++)
		free(log->cache[l]);
	free(log);
}

/* Parses a checkpoint note and, when the log has a signer, checks that its
 * origin is the key's name and that the key signed it. */
static int
check_note(prb_log *log, const uint8_t *note, size_t len, prb_checkpoint *cp,
           prb_err *err)
{
	int rc = peek_checkpoint(note, len, cp, err);
	if (rc || !log->signer)
		return rc;
	prb_verifier v;
	prb_signer_verifier(log->signer, &v);
	if (strcmp(cp->origin, v.name) != 0)
		return prb_err_set(err, PRB_EORIGIN, "checkpoint", UINT64_MAX,
		                   "the key is named \"%s\" but the log's origin "
		                   "is \"%s\"", v.name, cp->origin);
	rc = prb_checkpoint_open(note, len, &v, 1, cp, NULL, err);
	if (rc == PRB_ENOSIG || rc == PRB_EBADSIG)
		rc = prb_err_set(err, PRB_EBADSIG, "checkpoint", UINT64_MAX,
		                 "the checkpoint is not signed by this key (same "
		                 "name \"%s\", different key)", v.name);
	else if (rc && err)
		snprintf(err->where, sizeof err->where, "checkpoint");
	return rc;
}

/* Reads, checks and adopts the stored checkpoint. */
static int
read_checkpoint(prb_log *log, prb_err *err)
{
	uint8_t *note;
	size_t len;
	int rc = log->st->ops->get(log->st, "checkpoint", &note, &len, err);
	if (rc == PRB_ENOTFOUND)
		return prb_err_set(err, rc, "checkpoint", UINT64_MAX,
		                   "no checkpoint: not a probity log (run "
		                   "probity init)");
	if (rc)
		return rc;
	rc = check_note(log, note, len, &log->cp, err);
	if (rc) {
		free(note);
		return rc;
	}
	free(log->note);
	log->note = (char *)note;
	log->note_len = len;
	return 0;
}

/* Whether the tiles prove the tree of cp extends the log's current one. */
static int
extends(prb_log *log, const prb_checkpoint *old, prb_err *err)
{
	prb_hash proof[PRB_MAX_PROOF];
	size_t n;
	int rc = load_edge(log, err);
	if (rc == 0)
		rc = prb_merkle_prove_consistency(prb_log_node_reader, log,
		                                  old->size, log->cp.size,
		                                  proof, &n);
	if (rc == 0)
		rc = prb_merkle_verify_consistency(old->size, log->cp.size, proof,
		                                   n, &old->root, &log->cp.root);
	return rc;
}

/* Crash recovery for a checkpoint write that was cut short (store.h item
 * 4): the pending checkpoint was signed only after every file it names
 * was durable, so if it is ours and the tiles prove it extends the current
 * one, it is installed; otherwise it is removed. Either way no second
 * signed checkpoint of one size is left where it could be served. */
static int
adopt_pending(prb_log *log, prb_err *err)
{
	uint8_t *note;
	size_t len;
	prb_checkpoint cp, old = log->cp;
	prb_err e;
	int rc = log->st->ops->get(log->st, PRB_CHECKPOINT_PENDING, &note, &len,
	                           err);
	if (rc == PRB_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	rc = check_note(log, note, len, &cp, &e);
	if (rc == 0 && cp.size > old.size) {
		log->cp = cp;
		prb_log_cache_drop(log);
		rc = extends(log, &old, &e);
		if (rc == 0)
			rc = log->st->ops->set_checkpoint(
			        log->st, (const uint8_t *)log->note, log->note_len,
			        note, len, &e);
		if (rc == 0) {
			free(log->note);
			log->note = (char *)note;
			log->note_len = len;
			return 0;
		}
		log->cp = old;
		prb_log_cache_drop(log);
	}
	free(note);
	/* Only a definite verdict removes it: not ours, not newer, or not
	 * supported by the tiles. Anything else (an I/O error, no memory)
	 * fails the open and leaves it for the next try. */
	if (rc != 0 && rc != PRB_EMALFORMED && rc != PRB_EBADSIG &&
	    rc != PRB_ENOSIG && rc != PRB_EORIGIN && rc != PRB_ECORRUPT &&
	    rc != PRB_EPROOF && rc != PRB_ENOTFOUND) {
		if (err)
			*err = e;
		return rc;
	}
	rc = log->st->ops->remove(log->st, PRB_CHECKPOINT_PENDING, err);
	return rc == PRB_ENOTFOUND ? 0 : rc;
}

struct stale {
	prb_store *st;
	unsigned min_width;
	prb_err *err;
};

static int
remove_stale(void *ctx, const char *name)
{
	struct stale *s = ctx;
	int level;
	uint64_t n;
	unsigned w;
	size_t len = strlen(name);
	int tmp = len > 4 && strcmp(name + len - 4, ".tmp") == 0;
	if (!tmp && (prb_tile_parse_path(name, &level, &n, &w) ||
	             w < s->min_width))
		return 0;
	return s->st->ops->remove(s->st, name, s->err);
}

/*
 * Removes the partial files of tile (level, index) of width >= min_width
 * (and leftover temporary files there). Partial files are named by a
 * checkpoint only while their width is below the tile's width in it, so
 * this keeps one rule true: every partial file on disk holds the first W
 * hashes or entries of a tree some checkpoint committed, which verify
 * checks. A crash can leave partials of a batch that never committed;
 * they are removed on open (the current tile) and by enter_dir before
 * this handle writes into their directory.
 */
static int
remove_partials(prb_log *log, int level, uint64_t index, unsigned min_width,
                prb_err *err)
{
	char prefix[PRB_TILE_PATH_MAX + 4];
	struct stale s = {log->st, min_width, err};
	tile_path(prefix, level, index, PRB_TILE_WIDTH);
	strcat(prefix, ".p/");
	return log->st->ops->list(log->st, prefix, remove_stale, &s, err);
}

/* On open for writing: at each level, partials wider than the
 * checkpoint's and full tiles beyond it were written by a batch that never
 * committed (a crash). They go, so that no full tile is ever rewritten
 * with other bytes (DESIGN.md invariant 3) and every partial left holds a
 * committed prefix. A batch writes full tiles in a row, so the first
 * absent one ends the search. */
static int
remove_uncommitted(prb_log *log, prb_err *err)
{
	int rc = 0;
	char path[PRB_TILE_PATH_MAX];
	for (int l = PRB_ENTRIES_LEVEL; l < LEVELS && rc == 0; l++) {
		uint64_t count = prb_tile_level_count(log->cp.size,
		                                      l < 0 ? 0 : (unsigned)l);
		uint64_t t = count / PRB_TILE_WIDTH;
		rc = remove_partials(log, l, t,
		                     (unsigned)(count % PRB_TILE_WIDTH) + 1, err);
		for (uint64_t i = t; rc == 0; i++) {
			tile_path(path, l, i, PRB_TILE_WIDTH);
			rc = log->st->ops->remove(log->st, path, err);
			if (rc == 0 && i > t)
				rc = remove_partials(log, l, i, 0, err);
		}
		if (rc == PRB_ENOTFOUND)
			rc = 0;
	}
	return rc;
}

struct leftovers {
	prb_log *log;
	int level;
	uint64_t t;  /* the tile partial at the open checkpoint ... */
	unsigned w;  /* ... and its width there (0: none) */
	prb_err *err;
};

static int
remove_leftover(void *ctx, const char *name)
{
	struct leftovers *lo = ctx;
	char path[PRB_TILE_PATH_MAX + 8];
	size_t n = strlen(name);
	int level, rc = 0;
	uint64_t m;
	unsigned w;
	if (n > 4 && strcmp(name + n - 4, ".tmp") == 0) {
		rc = lo->log->st->ops->remove(lo->log->st, name, lo->err);
	} else if (n > 2 && strcmp(name + n - 2, ".p") == 0 &&
	           n + 3 < sizeof path) {
		snprintf(path, sizeof path, "%s/1", name); /* its directory */
		if (prb_tile_parse_path(path, &level, &m, &w) == 0 &&
		    level == lo->level && m >= lo->t)
			rc = remove_partials(lo->log, level, m,
			                     m == lo->t ? lo->w + 1 : 0, lo->err);
	} else if (prb_tile_parse_path(name, &level, &m, &w) == 0 &&
	           level == lo->level && w == PRB_TILE_WIDTH && m >= lo->t) {
		rc = lo->log->st->ops->remove(lo->log->st, name, lo->err);
	}
	return rc == PRB_ENOTFOUND ? 0 : rc;
}

/*
 * Before this handle's first write into the directory holding tile
 * (level, index): everything there beyond the checkpoint the log was
 * opened at (full tiles from its partial tile on, that tile's wider
 * partials, partials of later tiles, temporary files) was left by batches
 * that never committed, and goes. One list() per directory: a level's
 * tiles are written in increasing order, and nothing of this handle's is
 * in a directory before it enters it. From then on the only files there
 * beyond the durable checkpoint are this handle's, so no batch needs to
 * look for leftovers (a failed batch removes its own and fails the
 * handle; the next open looks again).
 */
static int
enter_dir(prb_log *log, int level, uint64_t index, prb_err *err)
{
	uint64_t *done = &log->entered[level + 1], group = index / 1000 + 1;
	if (*done >= group)
		return 0;
	char prefix[PRB_TILE_PATH_MAX];
	tile_path(prefix, level, index, PRB_TILE_WIDTH);
	strrchr(prefix, '/')[1] = 0;
	uint64_t count = prb_tile_level_count(log->open_size,
	                                      level < 0 ? 0 : (unsigned)level);
	struct leftovers lo = {log, level, count / PRB_TILE_WIDTH,
	                       (unsigned)(count % PRB_TILE_WIDTH), err};
	int rc = log->st->ops->list(log->st, prefix, remove_leftover, &lo, err);
	if (rc == 0)
		*done = group;
	return rc;
}

/* Whether tile (level, index) was partial in the tree of `size`. */
static int
was_partial(int level, uint64_t index, uint64_t size)
{
	unsigned lv = level < 0 ? 0 : (unsigned)level;
	return prb_tile_partial_width(size, lv) > 0 &&
	       prb_tile_level_count(size, lv) / PRB_TILE_WIDTH == index;
}

/* After the commit of the batch from `old` to `size`: the partials that
 * earlier checkpoints named of a tile it made full (only the tile partial
 * at `old` had any) go, as tlog-tiles allows. Best effort. */
static void
remove_full_partials(prb_log *log, uint64_t old, uint64_t size)
{
	for (int l = PRB_ENTRIES_LEVEL; l < LEVELS; l++) {
		unsigned lv = l < 0 ? 0 : (unsigned)l;
		uint64_t from = prb_tile_level_count(old, lv) / PRB_TILE_WIDTH;
		uint64_t to = prb_tile_level_count(size, lv) / PRB_TILE_WIDTH;
		if (from < to && was_partial(l, from, old))
			remove_partials(log, l, from, 0, NULL);
	}
}

int
prb_log_open(prb_store *st, prb_signer *signer, int lock_wait_ms,
             prb_log **out, prb_err *err)
{
	prb_log *log = calloc(1, sizeof *log);
	int rc;
	if (!log)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX, "out of memory");
	log->st = st;
	log->signer = signer;
	prb_log_cache_drop(log);
	if (signer && (rc = st->ops->lock(st, lock_wait_ms, err)))
		goto fail;
	/* A reader racing a writer may see a partial deleted under it;
	 * prb_log_read_tile falls back to full tiles, and a changed checkpoint
	 * is simply read again. */
	/* A writer's cleanup may find the checkpoint moved since it read it
	 * (a shared object store: store_s3.c's fence): it reads it again. */
	for (int attempt = 0;; attempt++) {
		rc = read_checkpoint(log, err);
		if (rc == 0 && signer)
			rc = adopt_pending(log, err);
		if (rc == 0)
			rc = load_edge(log, err);
		if (rc == 0 && signer)
			rc = remove_uncommitted(log, err);
		if (rc == 0 || attempt == 3 ||
		    (signer ? rc != PRB_ECONFLICT
		            : rc != PRB_ENOTFOUND && rc != PRB_ECORRUPT))
			break;
	}
	if (rc)
		goto fail;
	log->open_size = log->cp.size;
	*out = log;
	return 0;
fail:
	prb_log_close(log);
	return rc;
}

/* Signs the text of cp into a new note. */
static int
sign_checkpoint(prb_signer *signer, const prb_checkpoint *cp, char **note,
                size_t *len, prb_err *err)
{
	char text[PRB_CHECKPOINT_MAX];
	int n = prb_checkpoint_format(cp, text, sizeof text);
	if (n < 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "checkpoint too long");
	return prb_note_sign(text, (size_t)n, &signer, 1, note, len, err);
}

/* A list() callback: notes that a name exists and stops. */
static int
any_name(void *ctx, const char *name)
{
	(void)name;
	*(int *)ctx = 1;
	return 1;
}

int
prb_log_create(prb_store *st, prb_signer *signer, prb_err *err)
{
	prb_checkpoint cp;
	char *note;
	size_t len;
	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", prb_signer_name(signer));
	prb_merkle_empty_root(&cp.root);
	int rc = st->ops->lock(st, 0, err);
	if (rc)
		return rc;
	uint8_t *old;
	size_t oldlen;
	if (st->ops->get(st, "checkpoint", &old, &oldlen, NULL) == 0) {
		free(old);
		return prb_err_set(err, PRB_EEXIST, "checkpoint", UINT64_MAX,
		                   "a log already exists here");
	}
	/* tiles of an earlier log would be overwritten by different ones,
	 * and its checkpoints contradicted under the same key */
	int found = 0;
	rc = st->ops->list(st, "tile/", any_name, &found, err);
	if (found) /* any_name stopped the listing */
		rc = prb_err_set(err, PRB_EEXIST, "tile/", UINT64_MAX,
		                 "tiles of an earlier log are here");
	if (rc)
		return rc;
	rc = sign_checkpoint(signer, &cp, &note, &len, err);
	if (rc)
		return rc;
	rc = st->ops->set_checkpoint(st, NULL, 0, (const uint8_t *)note, len,
	                             err);
	free(note);
	return rc;
}

/* full_fn for appends: write the full hash tile. */
static int
put_full_tile(void *ctx, unsigned level, uint64_t index, const prb_hash *h,
              prb_err *err)
{
	prb_log *log = ctx;
	uint8_t buf[PRB_TILE_WIDTH * PRB_HASH_SIZE];
	char path[PRB_TILE_PATH_MAX];
	int rc = enter_dir(log, (int)level, index, err);
	if (rc)
		return rc;
	encode_hashes(h, PRB_TILE_WIDTH, buf);
	tile_path(path, (int)level, index, PRB_TILE_WIDTH);
	return log->st->ops->put(log->st, path, buf, sizeof buf, err);
}

/* Adds one entry to the partial bundle; writes it when full. */
static int
bundle_add(prb_log *log, const uint8_t *data, size_t len, prb_err *err)
{
	if (log->bundle_cap - log->bundle_len < len + 2) {
		size_t cap = log->bundle_cap ? log->bundle_cap : 4096;
		while (cap - log->bundle_len < len + 2)
			cap *= 2;
		uint8_t *b = realloc(log->bundle, cap);
		if (!b)
			return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		log->bundle = b;
		log->bundle_cap = cap;
	}
	store_be16(log->bundle + log->bundle_len, (uint16_t)len);
	memcpy(log->bundle + log->bundle_len + 2, data, len);
	log->bundle_len += len + 2;
	if ((log->e.size + 1) % PRB_TILE_WIDTH != 0)
		return 0;
	char path[PRB_TILE_PATH_MAX];
	uint64_t index = log->e.size / PRB_TILE_WIDTH;
	int rc = enter_dir(log, PRB_ENTRIES_LEVEL, index, err);
	tile_path(path, PRB_ENTRIES_LEVEL, index, PRB_TILE_WIDTH);
	if (rc == 0)
		rc = log->st->ops->put(log->st, path, log->bundle,
		                       log->bundle_len, err);
	log->bundle_len = 0;
	return rc;
}

/* Writes the partial tiles and bundle of the new size that the old
 * checkpoint does not already name. */
static int
put_partials(prb_log *log, uint64_t old, prb_err *err)
{
	uint64_t size = log->e.size;
	char path[PRB_TILE_PATH_MAX];
	uint8_t buf[PRB_TILE_WIDTH * PRB_HASH_SIZE];
	for (unsigned l = 0; l < LEVELS; l++) {
		unsigned w = log->e.n[l];
		uint64_t count = prb_tile_level_count(size, l);
		if (count == prb_tile_level_count(old, l))
			break; /* this level and all above are unchanged */
		if (w == 0)
			continue;
		int rc = enter_dir(log, (int)l, count / PRB_TILE_WIDTH, err);
		if (rc)
			return rc;
		tile_path(path, (int)l, count / PRB_TILE_WIDTH, w);
		encode_hashes(log->e.h[l], w, buf);
		rc = log->st->ops->put(log->st, path, buf, w * PRB_HASH_SIZE,
		                       err);
		if (rc)
			return rc;
	}
	if (log->e.n[0] == 0 || size == old)
		return 0;
	int rc = enter_dir(log, PRB_ENTRIES_LEVEL, size / PRB_TILE_WIDTH, err);
	if (rc)
		return rc;
	tile_path(path, PRB_ENTRIES_LEVEL, size / PRB_TILE_WIDTH, log->e.n[0]);
	return log->st->ops->put(log->st, path, log->bundle, log->bundle_len,
	                         err);
}

/* After a failed batch from `old` to `reached`: best-effort removal of
 * what it wrote, none of which a committed checkpoint names (so a full
 * disk is not left fuller). */
static void
discard_batch(prb_log *log, uint64_t old, uint64_t reached)
{
	char path[PRB_TILE_PATH_MAX];
	prb_store *st = log->st;
	if (old == reached)
		return;
	for (int l = PRB_ENTRIES_LEVEL; l < LEVELS; l++) {
		unsigned lv = l < 0 ? 0 : (unsigned)l;
		uint64_t from = prb_tile_level_count(old, lv) / PRB_TILE_WIDTH;
		uint64_t to = prb_tile_level_count(reached, lv) / PRB_TILE_WIDTH;
		for (uint64_t i = from; i < to; i++) {
			tile_path(path, l, i, PRB_TILE_WIDTH);
			st->ops->remove(st, path, NULL);
		}
		unsigned w = prb_tile_partial_width(reached, lv);
		if (w && prb_tile_level_count(reached, lv) !=
		                 prb_tile_level_count(old, lv)) {
			tile_path(path, l, to, w);
			st->ops->remove(st, path, NULL);
		}
	}
}

/* Signs the edge's size as batch b's checkpoint. */
static int
sign_batch(prb_log *log, log_batch *b, prb_err *err)
{
	b->cp = log->cp;
	b->cp.size = log->e.size;
	b->cp.n_extensions = 0;
	prb_log_edge_root(&log->e, &b->cp.root);
	return sign_checkpoint(log->signer, &b->cp, &b->note, &b->note_len,
	                       err);
}

/* The checkpoint the next commit replaces: the newest batch's in flight,
 * else the durable one. */
static const log_batch *
newest_batch(const prb_log *log)
{
	if (log->fl_n == 0)
		return NULL;
	return &log->fl[(log->fl_head + log->fl_n - 1) % INFLIGHT];
}

/* What prb_log_append_stage and _start check before touching anything. */
static int
append_check(const prb_log *log, const size_t *lens, size_t n, prb_err *err)
{
	if (log->failed)
		return prb_err_set(err, PRB_EFAILED, NULL, UINT64_MAX,
		                   "an earlier append failed; reopen the log");
	if (!log->signer)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "log opened without a key is read-only");
	for (size_t i = 0; i < n; i++)
		if (lens[i] > PRB_MAX_ENTRY)
			return prb_err_set(err, PRB_ETOOBIG, NULL, i,
			                   "entry of %zu bytes is over the "
			                   "%d-byte limit", lens[i], PRB_MAX_ENTRY);
	if (log->e.size > (UINT64_C(1) << 62) - n)
		return prb_err_set(err, PRB_ETOOBIG, NULL, UINT64_MAX,
		                   "log is full");
	return 0;
}

/* Hashes entries into the batch being staged and hands every tile and
 * bundle they fill to the store. */
static int
stage(prb_log *log, const uint8_t *const *entries, const size_t *lens,
      size_t n, prb_err *err)
{
	int rc = 0;
	if (!log->staging) {
		log->staging = 1;
		log->stage_old = log->e.size;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		prb_hash leaf;
		prb_merkle_leaf_hash(entries[i], lens[i], &leaf);
		rc = bundle_add(log, entries[i], lens[i], err);
		if (rc == 0)
			rc = prb_log_edge_add_leaf(&log->e, &leaf,
			                           put_full_tile, log, err);
	}
	if (rc) {
		log->failed = 1; /* the edge is ahead of what can commit */
		log->staging = 0;
		discard_batch(log, log->stage_old, log->e.size);
	}
	return rc;
}

int
prb_log_append_stage(prb_log *log, const uint8_t *const *entries,
                     const size_t *lens, size_t n, prb_err *err)
{
	int rc = append_check(log, lens, n, err);
	return rc ? rc : stage(log, entries, lens, n, err);
}

int
prb_log_append_start(prb_log *log, const uint8_t *const *entries,
                     const size_t *lens, size_t n, prb_err *err)
{
	int rc = append_check(log, lens, n, err);
	if (rc == 0 && log->fl_n == INFLIGHT)
		rc = prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                 "%d batches in flight: wait for one first",
		                 INFLIGHT);
	if (rc == 0 && n > 0)
		rc = stage(log, entries, lens, n, err);
	if (rc)
		return rc;
	const log_batch *prev = newest_batch(log);
	log_batch *b = &log->fl[(log->fl_head + log->fl_n) % INFLIGHT];
	uint64_t old = log->staging ? log->stage_old : log->e.size;
	log->staging = 0;
	memset(b, 0, sizeof *b);
	b->old = old;
	if (old == log->e.size) { /* nothing to commit; its wait reports */
		b->cp = log->cp;
		b->cp.size = old;
		log->fl_n++;
		return 0;
	}
	rc = put_partials(log, old, err);
	if (rc == 0)
		rc = sign_batch(log, b, err);
	if (rc == 0 && log->st->ops->commit) {
		const char *tip = prev && prev->note ? prev->note : log->note;
		size_t tip_len = prev && prev->note ? prev->note_len
		                                    : log->note_len;
		rc = log->st->ops->commit(log->st, (const uint8_t *)tip, tip_len,
		                          (const uint8_t *)b->note, b->note_len,
		                          err);
	}
	if (rc) {
		free(b->note);
		b->note = NULL;
		log->failed = 1; /* the edge is ahead of what can commit */
		discard_batch(log, old, log->e.size);
		return rc;
	}
	log->fl_n++;
	return 0;
}

void
prb_log_staged_root(const prb_log *log, prb_hash *out)
{
	prb_log_edge_root(&log->e, out);
}

/* The commit of batch b, for a store without commit(): every put so far
 * is made durable, then the checkpoint replaced. */
static int
commit_now(prb_log *log, const log_batch *b, prb_err *err)
{
	int rc = log->st->ops->sync(log->st, err);
	if (rc)
		return rc;
	rc = log->st->ops->set_checkpoint(log->st, (const uint8_t *)log->note,
	                                  log->note_len, (const uint8_t *)b->note,
	                                  b->note_len, err);
	if (rc && rc != PRB_ECONFLICT) { /* ECONFLICT: refused, nothing written */
		if (err)
			err->code = PRB_EINDOUBT;
		rc = PRB_EINDOUBT;
	}
	return rc;
}

/* Collects batch b's commit; on success b's checkpoint becomes the log's
 * (b->note moves there), else b and every later batch are failed. */
static int
finish_batch(prb_log *log, log_batch *b, prb_err *err)
{
	int rc;
	if (!b->note) /* an empty log_batch */
		rc = log->broken ? PRB_EFAILED : 0;
	else if (log->st->ops->commit) /* none runs after a failed one */
		rc = log->st->ops->commit_wait(log->st, err);
	else if (log->broken)
		rc = PRB_EFAILED; /* never committed after a failed one */
	else
		rc = commit_now(log, b, err);
	if (rc == PRB_EFAILED)
		prb_err_set(err, rc, NULL, UINT64_MAX,
		            "not committed: an earlier batch failed");
	if (rc == PRB_EINDOUBT && err)
		snprintf(err->msg + strlen(err->msg),
		         sizeof err->msg - strlen(err->msg),
		         " (while committing the checkpoint)");
	if (rc == 0) {
		if (b->note) {
			free(log->note);
			log->note = b->note;
			log->note_len = b->note_len;
			b->note = NULL;
			log->cp = b->cp;
			/* cached partial tiles may be stale */
			prb_log_cache_drop(log);
			remove_full_partials(log, b->old, b->cp.size);
		}
		return 0;
	}
	log->failed = 1;
	log->broken = 1;
	/* in doubt, its files stay: its checkpoint may name them */
	if (rc != PRB_EINDOUBT)
		discard_batch(log, b->old, b->cp.size);
	return rc;
}

int
prb_log_append_wait(prb_log *log, uint64_t *size, prb_err *err)
{
	if (log->fl_n == 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "no batch in flight");
	log_batch *b = &log->fl[log->fl_head];
	log->fl_head = (log->fl_head + 1) % INFLIGHT;
	log->fl_n--;
	int rc = finish_batch(log, b, err);
	free(b->note);
	b->note = NULL;
	if (log->fl_n == 0)
		log->broken = 0; /* every failure reported; `failed` stays */
	if (rc == 0 && size)
		*size = b->cp.size;
	return rc;
}

int
prb_log_append(prb_log *log, const uint8_t *const *entries,
               const size_t *lens, size_t n, prb_err *err)
{
	if (log->fl_n > 0 || log->staging)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "batches in flight: wait for them first");
	int rc = prb_log_append_start(log, entries, lens, n, err);
	return rc ? rc : prb_log_append_wait(log, NULL, err);
}