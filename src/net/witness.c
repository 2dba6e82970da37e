/*
 * c2sp.org/tlog-witness add-checkpoint, answered with c2sp.org/tlog-
 * cosignature cosignature/v1 signatures; and the client a log uses.
 *
 * The rules prb_witness_add applies, in this order (the first that fails
 * decides the status; rules 1-3 are the HTTP layer's, in
 * src/cmd/cmd_witness.c):
 *
 *   1. The path must be <prefix>/add-checkpoint: else 404. The method must
 *      be POST: else 405 (with Allow: POST).
 *   2. The body must be at most PRB_WITNESS_MAX_BODY bytes: else 413.
 *   3. (monitoring) GET <prefix>/<hex SHA-256 of origin>/checkpoint serves
 *      the latest cosigned checkpoint, 404 if none (prb_witness_checkpoint).
 *   4. The body must be "old <size>\n" (decimal, no leading zeros, at most
 *      2^63-1), then 0..63 lines of one base64 32-byte hash each, then an
 *      empty line, then a signed note (c2sp.org/signed-note) whose text is a
 *      checkpoint (c2sp.org/tlog-checkpoint); every line ends in '\n'.
 *      Else 400.
 *   5. The checkpoint's origin must be configured (--log ORIGIN=VKEY):
 *      else 404.
 *   6. The note must carry a signature that verifies by a key trusted for
 *      that origin, and no signature whose key name and ID match a trusted
 *      key may fail to verify (signatures by unknown keys are ignored):
 *      else 403.
 *   7. old must be <= the checkpoint's size: else 400.
 *   --- from here on inside one BEGIN IMMEDIATE transaction (witness_tx) ---
 *   8. old must equal the size of the latest checkpoint the witness
 *      cosigned for the origin (0 if none): else 409, Content-Type
 *      text/x.tlog.size, body "<stored size>\n".
 *   9. A checkpoint of size 0 must have the empty tree's root,
 *      SHA-256(""): else 422.
 *  10. If old is 0 the proof must be empty: else 422.
 *  11. If old equals the checkpoint size, the proof must be empty and the
 *      root equal the stored root: else 422.
 *  12. Otherwise the lines must be an RFC 6962 consistency proof from
 *      (old, stored root) to (size, root): else 422.
 *  13. The witness cosigns the note text (cosignature/v1, timestamp = now,
 *      never 0), stores (size, root, cosigned checkpoint) for the origin and
 *      commits; only then 200 with the cosignature line as body. A database
 *      or signing failure rolls back: 500, nothing cosigned.
 *
 * Where the spec leaves a choice: a checkpoint equal to the stored one
 * (old == size, same root) is cosigned again with a fresh timestamp; the
 * requests the spec says MAY be logged (known origin, valid signature,
 * failed consistency) are not stored; the 422 body says why and `probity
 * witness` prints it on stderr; the 200 response is text/plain; error
 * bodies are one text/plain line; the log keys configured for an origin
 * may have any name (the configuration binds key and origin); a witness
 * state holds only the origins' latest (size, root, cosigned note), not
 * their history.
 *
 * State (one SQLite database, WAL, synchronous=FULL, so a committed
 * update survives kill -9 and power loss):
 *   logs(origin TEXT PRIMARY KEY, size, root BLOB(32), checkpoint, updated)
 * Invariants: (a) for each origin, size never decreases and a stored
 * (size, root) is one the witness cosigned; (b) a 200 is sent only after
 * its row is committed; (c) the check of old against the stored size and
 * the update happen in one BEGIN IMMEDIATE transaction (witness_tx), taken
 * under the handle's mutex (threads) and SQLite's write lock (processes),
 * so two requests from the same old size cannot both succeed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "probity/checkpoint.h"
#include "probity/proof.h"
#include "probity/sha256.h"
#include "probity/witness.h"
#include "base/util.h"

#define TEXT_CTYPE "text/plain; charset=utf-8"

typedef struct {
	char origin[PRB_NAME_MAX + 1];
	char hash_hex[2 * PRB_HASH_SIZE + 1]; /* SHA-256(origin), lower hex */
	prb_verifier keys[PRB_WITNESS_MAX_KEYS];
	size_t nkeys;
} wlog;

struct prb_witness {
	sqlite3 *db;
	pthread_mutex_t mu;
	const prb_cosigner *key;
	wlog *logs;
	size_t nlogs;
	char path[256];
	void (*hook)(void *);
	void *hook_ctx;
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS logs("
	" origin TEXT PRIMARY KEY,"
	" size INTEGER NOT NULL CHECK(size >= 0),"
	" root BLOB NOT NULL CHECK(length(root) = 32),"
	" checkpoint BLOB NOT NULL,"
	" updated INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES('schema', 'witness-1');";

/* ---- responses ------------------------------------------------------- */

void
prb_witness_resp_free(prb_witness_resp *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

/* Fills resp with a formatted body; returns the status. */
static unsigned
reply(prb_witness_resp *r, unsigned status, const char *ctype,
      const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

static unsigned
reply(prb_witness_resp *r, unsigned status, const char *ctype,
      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	free(r->body);
	r->status = status;
	r->content_type = ctype;
	r->body = NULL;
	r->len = 0;
	if (n < 0 || !(r->body = malloc((size_t)n + 1)))
		return status; /* an empty body still carries the status */
	va_start(ap, fmt);
	vsnprintf(r->body, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r->len = (size_t)n;
	return status;
}

/* ---- request framing -------------------------------------------------- */

static int
bad_req(prb_err *err, uint64_t line, const char *why)
{
	return prb_err_set(err, PRB_EMALFORMED, NULL, line,
	                   "malformed request, line %llu: %s",
	                   (unsigned long long)line, why);
}

int
prb_witness_parse_request(const uint8_t *body, size_t len,
                          prb_witness_req *req, prb_err *err)
{
	const char *t = (const char *)body;
	memset(req, 0, sizeof *req);
	const char *nl = len ? memchr(t, '\n', len) : NULL;
	if (!nl)
		return bad_req(err, 1, "no old size line");
	size_t ll = (size_t)(nl - t), off = ll + 1;
	if (ll < 5 || memcmp(t, "old ", 4) != 0 ||
	    prb_parse_u64(t + 4, ll - 4, INT64_MAX, &req->old_size))
		return bad_req(err, 1, "not \"old <size>\" with a decimal size "
		                       "without leading zeros");
	for (uint64_t line = 2;; line++) {
		nl = off < len ? memchr(t + off, '\n', len - off) : NULL;
		if (!nl)
			return bad_req(err, line,
			               "no empty line before the checkpoint");
		ll = (size_t)(nl - (t + off));
		if (ll == 0) {
			off++;
			break;
		}
		uint8_t raw[33];
		size_t rl;
		if (req->proof_len == PRB_WITNESS_MAX_PROOF)
			return bad_req(err, line,
			               "more than 63 consistency proof lines");
		if (ll != 44 || prb_b64_decode(t + off, ll, raw, &rl) ||
		    rl != PRB_HASH_SIZE)
			return bad_req(err, line,
			               "proof line is not a base64 32-byte hash");
		memcpy(req->proof[req->proof_len++].b, raw, PRB_HASH_SIZE);
		off += ll + 1;
	}
	if (off >= len)
		return bad_req(err, req->proof_len + 3, "no checkpoint");
	req->note = body + off;
	req->note_len = len - off;
	return 0;
}

int
prb_witness_format_request(uint64_t old_size, const prb_hash *proof,
                           size_t proof_len, const uint8_t *note,
                           size_t note_len, uint8_t **out, size_t *outlen)
{
	if (proof_len > PRB_WITNESS_MAX_PROOF)
		return PRB_EINVAL;
	size_t cap = 32 + proof_len * 45 + 1 + note_len + 1;
	char *b = malloc(cap);
	if (!b)
		return PRB_ENOMEM;
	size_t off = (size_t)snprintf(b, cap, "old %llu\n",
	                              (unsigned long long)old_size);
	for (size_t i = 0; i < proof_len; i++) {
		off += prb_b64_encode(proof[i].b, PRB_HASH_SIZE, b + off);
		b[off++] = '\n';
	}
	b[off++] = '\n';
	memcpy(b + off, note, note_len);
	off += note_len;
	b[off] = 0;
	*out = (uint8_t *)b;
	*outlen = off;
	return 0;
}

/* ---- configuration and state ----------------------------------------- */

static int
db_fail(prb_witness *w, prb_err *err, const char *what)
{
	int code = prb_sqlite_code(sqlite3_errcode(w->db));
	return prb_err_set(err, code, w->path, UINT64_MAX, "%s: %s", what,
	                   sqlite3_errmsg(w->db));
}

/* Groups logs[] by origin into w->logs. */
static int
config_logs(prb_witness *w, const prb_witness_log *logs, size_t nlogs,
            prb_err *err)
{
	if (nlogs == 0)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "no log configured");
	if (!(w->logs = calloc(nlogs, sizeof *w->logs)))
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	for (size_t i = 0; i < nlogs; i++) {
		const char *o = logs[i].origin;
		size_t ol = strlen(o);
		if (ol == 0 || ol > PRB_NAME_MAX || strchr(o, '\n') ||
		    !prb_utf8_valid((const uint8_t *)o, ol))
			return prb_err_set(err, PRB_EINVAL, o, UINT64_MAX,
			                   "an origin must be 1..255 bytes of "
			                   "UTF-8 on one line");
		if (logs[i].key.type != PRB_SIG_ED25519)
			return prb_err_set(err, PRB_EINVAL, o, UINT64_MAX,
			                   "log key %s is not an Ed25519 note key "
			                   "(type 0x01)", logs[i].key.name);
		wlog *l = NULL;
		for (size_t j = 0; j < w->nlogs && !l; j++)
			if (strcmp(w->logs[j].origin, o) == 0)
				l = &w->logs[j];
		if (!l) {
			l = &w->logs[w->nlogs++];
			memcpy(l->origin, o, ol + 1);
			prb_sha256_hex(o, ol, l->hash_hex);
		}
		for (size_t k = 0; k < l->nkeys; k++)
			if (strcmp(l->keys[k].name, logs[i].key.name) == 0 &&
			    l->keys[k].id == logs[i].key.id)
				return prb_err_set(err, PRB_EINVAL, o, UINT64_MAX,
				                   "two keys named %s with ID "
				                   "%08x", logs[i].key.name,
				                   logs[i].key.id);
		if (l->nkeys == PRB_WITNESS_MAX_KEYS)
			return prb_err_set(err, PRB_EINVAL, o, UINT64_MAX,
			                   "more than %d keys for one origin",
			                   PRB_WITNESS_MAX_KEYS);
		l->keys[l->nkeys++] = logs[i].key;
	}
	return 0;
}

/* Creates the schema in an empty database, or checks that a database
 * that is not empty is a witness state (before changing anything in it). */
static int
init_schema(prb_witness *w, prb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ntables = -1, ours = 0;
	if (sqlite3_prepare_v2(w->db, "SELECT count(*) FROM sqlite_master", -1,
	                       &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		ntables = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (ntables < 0)
		return db_fail(w, err, "reading the witness state");
	if (ntables > 0) {
		ours = sqlite3_prepare_v2(w->db, "SELECT value FROM meta WHERE "
		                                 "key = 'schema'",
		                          -1, &st, NULL) == SQLITE_OK &&
		       sqlite3_step(st) == SQLITE_ROW &&
		       sqlite3_column_text(st, 0) &&
		       strcmp((const char *)sqlite3_column_text(st, 0),
		              "witness-1") == 0;
		sqlite3_finalize(st);
		if (!ours)
			return prb_err_set(err, PRB_ECORRUPT, w->path,
			                   UINT64_MAX, "not a probity witness "
			                   "state (schema witness-1)");
	}
	if (sqlite3_exec(w->db, "PRAGMA journal_mode=WAL;"
	                        "PRAGMA synchronous=FULL;",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(w->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(w, err, "creating the witness state");
	return 0;
}

int
prb_witness_open(const char *state_path, const prb_cosigner *key,
                 const prb_witness_log *logs, size_t nlogs,
                 prb_witness **out, prb_err *err)
{
	*out = NULL;
	prb_witness *w = calloc(1, sizeof *w);
	if (!w)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	w->key = key;
	snprintf(w->path, sizeof w->path, "%s", state_path);
	pthread_mutex_init(&w->mu, NULL);
	int rc = config_logs(w, logs, nlogs, err);
	if (rc)
		goto fail;
	int is_mem = strcmp(state_path, ":memory:") == 0;
	int existed = is_mem || access(state_path, F_OK) == 0;
	if (sqlite3_open_v2(state_path, &w->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                            SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		rc = w->db ? db_fail(w, err, "opening the witness state")
		           : prb_err_set(err, PRB_ENOMEM, state_path,
		                         UINT64_MAX, "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(w->db, 10000);
	if ((rc = init_schema(w, err)) != 0)
		goto fail;
	if (!existed && prb_fsync_parent(state_path) != 0) {
		rc = prb_err_set(err, PRB_EIO, state_path, UINT64_MAX,
		                 "cannot sync the directory of the new state");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	prb_witness_close(w);
	return rc;
}

void
prb_witness_close(prb_witness *w)
{
	if (!w)
		return;
	if (w->db)
		sqlite3_close(w->db);
	pthread_mutex_destroy(&w->mu);
	free(w->logs);
	free(w);
}

void
prb_witness_set_hook(prb_witness *w, void (*fn)(void *ctx), void *ctx)
{
	w->hook = fn;
	w->hook_ctx = ctx;
}

/* Reads the stored (size, root) of origin: 1 found, 0 not, <0 error. */
static int
load_state(prb_witness *w, const char *origin, uint64_t *size,
           prb_hash *root)
{
	sqlite3_stmt *st = NULL;
	int found = -1;
	if (sqlite3_prepare_v2(w->db,
	                       "SELECT size, root FROM logs WHERE origin = ?",
	                       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC) != SQLITE_OK)
		goto done;
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		*size = 0;
		found = 0;
	} else if (s == SQLITE_ROW && sqlite3_column_int64(st, 0) >= 0 &&
	           sqlite3_column_bytes(st, 1) == PRB_HASH_SIZE) {
		*size = (uint64_t)sqlite3_column_int64(st, 0);
		memcpy(root->b, sqlite3_column_blob(st, 1), PRB_HASH_SIZE);
		found = 1;
	}
done:
	sqlite3_finalize(st);
	return found;
}

int
prb_witness_state(prb_witness *w, const char *origin, uint64_t *size,
                  prb_hash *root, prb_err *err)
{
	pthread_mutex_lock(&w->mu);
	int f = load_state(w, origin, size, root);
	int rc = f == 1 ? 0
	         : f == 0
	                 ? prb_err_set(err, PRB_ENOTFOUND, origin, UINT64_MAX,
	                               "no checkpoint cosigned for this origin")
	                 : db_fail(w, err, "reading the witness state");
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int
store_state(prb_witness *w, const prb_checkpoint *cp, const char *note,
            size_t note_len, uint64_t now)
{
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(
		         w->db,
		         "INSERT INTO logs(origin, size, root, checkpoint, updated)"
		         " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(origin) DO UPDATE"
		         " SET size = ?2, root = ?3, checkpoint = ?4, updated = ?5",
		         -1, &st, NULL) == SQLITE_OK &&
	         sqlite3_bind_text(st, 1, cp->origin, -1, SQLITE_STATIC) ==
	                 SQLITE_OK &&
	         sqlite3_bind_int64(st, 2, (sqlite3_int64)cp->size) ==
	                 SQLITE_OK &&
	         sqlite3_bind_blob(st, 3, cp->root.b, PRB_HASH_SIZE,
	                           SQLITE_STATIC) == SQLITE_OK &&
	         sqlite3_bind_blob(st, 4, note, (int)note_len,
	                           SQLITE_STATIC) == SQLITE_OK &&
	         sqlite3_bind_int64(st, 5, (sqlite3_int64)now) == SQLITE_OK &&
	         sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/* ---- add-checkpoint ---------------------------------------------------- */

static const wlog *
find_log(const prb_witness *w, const char *origin)
{
	for (size_t i = 0; i < w->nlogs; i++)
		if (strcmp(w->logs[i].origin, origin) == 0)
			return &w->logs[i];
	return NULL;
}

/* The checkpoint as the monitoring endpoint serves it: text, blank line,
 * the verified log signatures, the new cosignature. malloc'd. */
static char *
cosigned_note(const prb_note *n, const char *cosig, size_t *len)
{
	size_t cap = n->text_len + 1 + strlen(cosig) + 2;
	for (size_t i = 0; i < n->nverified; i++)
		cap += n->sigs[i].line_len + 1;
	char *b = malloc(cap);
	if (!b)
		return NULL;
	size_t off = n->text_len;
	memcpy(b, n->text, off);
	b[off++] = '\n';
	for (size_t i = 0; i < n->nverified; i++) {
		memcpy(b + off, n->sigs[i].line, n->sigs[i].line_len);
		off += n->sigs[i].line_len;
		b[off++] = '\n';
	}
	off += (size_t)snprintf(b + off, cap - off, "%s\n", cosig);
	*len = off;
	return b;
}

/* Rules 9-12, given the stored state: 0, or 422 with resp filled. */
static unsigned
check_consistency(const prb_witness_req *req, const prb_checkpoint *cp,
                  const prb_hash *stored_root, prb_witness_resp *resp)
{
	prb_hash empty;
	prb_merkle_empty_root(&empty);
	if (cp->size == 0 && !prb_hash_equal(&cp->root, &empty))
		return reply(resp, 422, TEXT_CTYPE, "a checkpoint of size 0 "
		             "must have the empty tree's root hash\n");
	if (req->old_size == 0) {
		if (req->proof_len != 0)
			return reply(resp, 422, TEXT_CTYPE, "old size 0 takes "
			             "an empty consistency proof\n");
		return 0;
	}
	if (req->old_size == cp->size) {
		if (!prb_hash_equal(&cp->root, stored_root))
			return reply(resp, 422, TEXT_CTYPE, "same size %llu as "
			             "the cosigned checkpoint but a different "
			             "root hash\n",
			             (unsigned long long)cp->size);
		if (req->proof_len != 0)
			return reply(resp, 422, TEXT_CTYPE, "old size equals "
			             "the checkpoint size: the consistency proof "
			             "must be empty\n");
		return 0;
	}
	if (prb_merkle_verify_consistency(req->old_size, cp->size, req->proof,
	                                  req->proof_len, stored_root,
	                                  &cp->root) != 0)
		return reply(resp, 422, TEXT_CTYPE, "the consistency proof from "
		             "size %llu to size %llu does not verify\n",
		             (unsigned long long)req->old_size,
		             (unsigned long long)cp->size);
	return 0;
}

/* Rules 8-13 in one transaction. */
static unsigned
witness_tx(prb_witness *w, const prb_witness_req *req,
           const prb_checkpoint *cp, const prb_note *n, uint64_t now,
           prb_witness_resp *resp)
{
	char line[PRB_COSIG_LINE_MAX];
	uint64_t stored = 0;
	prb_hash root;
	memset(&root, 0, sizeof root);
	unsigned status;
	pthread_mutex_lock(&w->mu);
	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		status = reply(resp, 500, TEXT_CTYPE, "witness state busy or "
		               "unreadable: %s\n", sqlite3_errmsg(w->db));
		goto unlock;
	}
	if (load_state(w, cp->origin, &stored, &root) < 0) {
		status = reply(resp, 500, TEXT_CTYPE, "reading the witness "
		               "state: %s\n", sqlite3_errmsg(w->db));
		goto rollback;
	}
	if (w->hook)
		w->hook(w->hook_ctx);
	if (req->old_size != stored) {
		status = reply(resp, 409, PRB_WITNESS_SIZE_CTYPE, "%llu\n",
		               (unsigned long long)stored);
		goto rollback;
	}
	if ((status = check_consistency(req, cp, &root, resp)) != 0)
		goto rollback;
	if (prb_cosigner_sign(w->key, now, n->text, n->text_len, line,
	                      sizeof line, NULL) != 0) {
		status = reply(resp, 500, TEXT_CTYPE, "cosigning failed\n");
		goto rollback;
	}
	size_t clen;
	char *cn = cosigned_note(n, line, &clen);
	int stored_ok = cn && store_state(w, cp, cn, clen, now) == 0 &&
	                sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) ==
	                        SQLITE_OK;
	free(cn);
	if (!stored_ok) {
		status = reply(resp, 500, TEXT_CTYPE, "storing the witness "
		               "state failed: %s\n", sqlite3_errmsg(w->db));
		goto rollback;
	}
	status = reply(resp, 200, TEXT_CTYPE, "%s\n", line);
	goto unlock;
rollback:
	sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
unlock:
	pthread_mutex_unlock(&w->mu);
	OPENSSL_cleanse(line, sizeof line);
	return status;
}

/* Rules 4-7, then witness_tx. */
unsigned
prb_witness_add(prb_witness *w, const uint8_t *body, size_t len,
                uint64_t now, prb_witness_resp *resp)
{
	prb_witness_req req;
	prb_checkpoint cp;
	prb_note *n = NULL;
	prb_err e;
	unsigned status;
	memset(resp, 0, sizeof *resp);
	prb_err_clear(&e);
	if (len > PRB_WITNESS_MAX_BODY)
		return reply(resp, 413, TEXT_CTYPE, "request body over %u "
		             "bytes\n", (unsigned)PRB_WITNESS_MAX_BODY);
	if (prb_witness_parse_request(body, len, &req, &e) != 0)
		return reply(resp, 400, TEXT_CTYPE, "%s\n", e.msg);
	if (prb_checkpoint_peek(req.note, req.note_len, &cp, &e) != 0)
		return e.code == PRB_ENOMEM
		               ? reply(resp, 500, TEXT_CTYPE, "out of memory\n")
		               : reply(resp, 400, TEXT_CTYPE, "checkpoint: %s\n",
		                       e.msg);
	const wlog *lg = find_log(w, cp.origin);
	if (!lg)
		return reply(resp, 404, TEXT_CTYPE, "unknown log origin\n");
	int rc = prb_note_open(req.note, req.note_len, lg->keys, lg->nkeys, &n,
	                       &e);
	if (rc == PRB_EBADSIG || rc == PRB_ENOSIG)
		return reply(resp, 403, TEXT_CTYPE, "%s\n", e.msg);
	if (rc != 0)
		return reply(resp, rc == PRB_EMALFORMED ? 400 : 500, TEXT_CTYPE,
		             "checkpoint: %s\n", e.msg);
	if (req.old_size > cp.size) {
		status = reply(resp, 400, TEXT_CTYPE, "old size %llu is above "
		               "the checkpoint size %llu\n",
		               (unsigned long long)req.old_size,
		               (unsigned long long)cp.size);
	} else {
		if (now == 0)
			now = (uint64_t)time(NULL);
		status = witness_tx(w, &req, &cp, n, now ? now : 1, resp);
	}
	prb_note_free(n);
	return status;
}

unsigned
prb_witness_checkpoint(prb_witness *w, const char *hex,
                       prb_witness_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	const wlog *lg = NULL;
	for (size_t i = 0; i < w->nlogs && !lg; i++)
		if (strcmp(w->logs[i].hash_hex, hex) == 0)
			lg = &w->logs[i];
	if (!lg)
		return reply(resp, 404, TEXT_CTYPE, "unknown log origin\n");
	sqlite3_stmt *st = NULL;
	unsigned status;
	pthread_mutex_lock(&w->mu);
	if (sqlite3_prepare_v2(w->db,
	                       "SELECT checkpoint FROM logs WHERE origin = ?",
	                       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, lg->origin, -1, SQLITE_STATIC) !=
	            SQLITE_OK) {
		status = reply(resp, 500, TEXT_CTYPE, "%s\n",
		               sqlite3_errmsg(w->db));
		goto done;
	}
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE)
		status = reply(resp, 404, TEXT_CTYPE,
		               "no checkpoint cosigned for this log yet\n");
	else if (s != SQLITE_ROW)
		status = reply(resp, 500, TEXT_CTYPE, "%s\n",
		               sqlite3_errmsg(w->db));
	else
		status = reply(resp, 200, TEXT_CTYPE, "%.*s",
		               sqlite3_column_bytes(st, 0),
		               (const char *)sqlite3_column_blob(st, 0));
done:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&w->mu);
	return status;
}

/* ---- client ------------------------------------------------------------- */

/* The first line of a response body, printable ASCII only, at most 200
 * bytes, for error messages. */
static void
first_line(const prb_http_resp *r, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < r->len && o + 1 < cap && o < 200; i++) {
		unsigned char c = r->body[i];
		if (c == '\n')
			break;
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = 0;
}

/* 200: finds and checks the cosignature by `witness` in the body. */
static int
take_cosig(const prb_http_resp *r, const uint8_t *note, size_t note_len,
           const prb_verifier *witness, const char *url, char **cosig_line,
           prb_err *err)
{
	prb_note *pn = NULL, *cn = NULL;
	char *m = NULL;
	int rc = prb_note_parse(note, note_len, &pn, err);
	if (rc)
		return rc;
	if (r->len == 0 || r->body[r->len - 1] != '\n') {
		rc = prb_err_set(err, PRB_EMALFORMED, url, UINT64_MAX,
		                 "witness answered 200 without signature lines");
		goto done;
	}
	size_t mlen = pn->text_len + 1 + r->len;
	if (!(m = malloc(mlen))) {
		rc = prb_err_set(err, PRB_ENOMEM, url, UINT64_MAX,
		                 "out of memory");
		goto done;
	}
	memcpy(m, pn->text, pn->text_len);
	m[pn->text_len] = '\n';
	memcpy(m + pn->text_len + 1, r->body, r->len);
	rc = prb_note_open((const uint8_t *)m, mlen, witness, 1, &cn, err);
	if (rc) {
		if (err) {
			size_t n = strnlen(url, sizeof err->where - 1);
			memcpy(err->where, url, n);
			err->where[n] = 0;
		}
		goto done;
	}
	const prb_note_sig *s = &cn->sigs[0];
	if (s->timestamp == 0 || s->timestamp > (uint64_t)INT64_MAX) {
		rc = prb_err_set(err, PRB_EBADSIG, url, UINT64_MAX,
		                 "cosignature timestamp %llu out of range",
		                 (unsigned long long)s->timestamp);
		goto done;
	}
	if (!(*cosig_line = malloc(s->line_len + 1))) {
		rc = prb_err_set(err, PRB_ENOMEM, url, UINT64_MAX,
		                 "out of memory");
		goto done;
	}
	memcpy(*cosig_line, s->line, s->line_len + 1);
done:
	free(m);
	prb_note_free(pn);
	prb_note_free(cn);
	return rc;
}

int
prb_witness_add_checkpoint(prb_http *h, const char *base_url,
                           const uint8_t *note, size_t note_len,
                           uint64_t old_size, const prb_hash *proof,
                           size_t proof_len, const prb_verifier *witness,
                           char **cosig_line, uint64_t *witness_size,
                           prb_err *err)
{
	uint8_t *body = NULL;
	size_t blen, ul = strlen(base_url);
	char url[2048], fl[256];
	prb_http_resp r;
	memset(&r, 0, sizeof r);
	*cosig_line = NULL;
	if (witness->type != PRB_SIG_COSIGV1)
		return prb_err_set(err, PRB_EINVAL, witness->name, UINT64_MAX,
		                   "the witness key is not a cosignature/v1 "
		                   "key (type 0x04)");
	while (ul > 0 && base_url[ul - 1] == '/')
		ul--;
	if (ul + sizeof "/add-checkpoint" > sizeof url)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "witness URL too long");
	snprintf(url, sizeof url, "%.*s/add-checkpoint", (int)ul, base_url);
	int rc = prb_witness_format_request(old_size, proof, proof_len, note,
	                                    note_len, &body, &blen);
	if (rc)
		return prb_err_set(err, rc, url, UINT64_MAX,
		                   rc == PRB_EINVAL ? "more than 63 proof hashes"
		                                    : "out of memory");
	rc = prb_http_post(h, url, "text/plain; charset=utf-8", body, blen, &r,
	                   err);
	free(body);
	if (rc)
		return rc;
	if (r.status == 200) {
		rc = take_cosig(&r, note, note_len, witness, url, cosig_line,
		                err);
	} else if (r.status == 409) {
		uint64_t ws;
		size_t bl = r.len;
		if (strncmp(r.content_type, PRB_WITNESS_SIZE_CTYPE,
		            strlen(PRB_WITNESS_SIZE_CTYPE)) != 0 || bl < 2 ||
		    r.body[bl - 1] != '\n' ||
		    prb_parse_u64((const char *)r.body, bl - 1, INT64_MAX, &ws)) {
			rc = prb_err_set(err, PRB_EMALFORMED, url, UINT64_MAX,
			                 "409 without a text/x.tlog.size body");
		} else {
			if (witness_size)
				*witness_size = ws;
			rc = prb_err_set(err, PRB_ECONFLICT, url, UINT64_MAX,
			                 "witness has size %llu, not the old size "
			                 "%llu", (unsigned long long)ws,
			                 (unsigned long long)old_size);
		}
	} else {
		first_line(&r, fl, sizeof fl);
		int code = r.status == 400   ? PRB_EMALFORMED
		           : r.status == 403 ? PRB_EBADSIG
		           : r.status == 404 ? PRB_ENOTFOUND
		           : r.status == 422 ? PRB_EPROOF
		                             : PRB_EIO;
		rc = prb_err_set(err, code, url, UINT64_MAX,
		                 "witness answered %ld: %s", r.status, fl);
	}
	prb_http_resp_free(&r);
	return rc;
}
