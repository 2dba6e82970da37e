/*
 * The monitor: follows a remote tlog-tiles log (see
 * include/probity/monitor.h).
 *
 * Invariants:
 *  1. The state file names only a checkpoint that verified: its signature
 *     by the log's key, the required cosignatures, and a tree whose every
 *     entry this monitor hashed (from the first checkpoint it saw on) and
 *     whose root it recomputed equal to the checkpoint's.
 *  2. A round changes the state only through save_state, after the new
 *     checkpoint verified:
 *       write STATE/state.tmp, fsync it, rename to STATE/state, fsync STATE.
 *     A crash before the rename leaves the previous state; after it, the
 *     new one. The in-memory copy is replaced only once save_state has
 *     returned 0.
 *  3. A conflicting checkpoint is never stored: write_evidence saves both
 *     notes in a new evidence directory and the round returns PRB_ESPLIT.
 *
 * The remote log is read through a prb_store whose get() is an HTTP GET of
 * <url><name> (404 and 410 are PRB_ENOTFOUND), so the verification is
 * src/log/log_verify.c's (prb_log_verify_extend), the same code that
 * checks a local log. Bodies are bounded per kind: one client per kind,
 * each with its own limit (PRB_MONITOR_MAX_*).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probity/httpc.h"
#include "probity/log.h"
#include "probity/monitor.h"
#include "probity/store.h"
#include "base/util.h"

#define STATE_MAGIC "probity monitor state v1\n"
#define STATE_MAX (PRB_MONITOR_MAX_CHECKPOINT + 2 * PRB_LOG_EDGE_MAX)

/* The read-only HTTP store. */
typedef struct {
	prb_store base; /* first: a prb_store * is a hstore * */
	const char *url;
	prb_http *cp, *tile, *bundle;
	uint64_t requests, bytes;
} hstore;

struct prb_monitor {
	char *url; /* ends in '/' */
	prb_verifier *vs; /* [0] the log's key, then the witnesses */
	size_t nvs, min_cosigs;
	char dir[PATH_MAX];
	char state_path[PATH_MAX];
	int lock_fd;
	hstore hs;
	prb_log_edge *edge; /* of the stored checkpoint */
	prb_log_edge *work; /* scratch for a round */
	char *note;         /* the stored signed checkpoint, NULL if none */
	size_t note_len;
	prb_checkpoint cp;
};

/* ---- the HTTP store -------------------------------------------------- */

static int
hs_get(prb_store *s, const char *name, uint8_t **data, size_t *len,
       prb_err *err)
{
	hstore *h = (hstore *)s;
	prb_http *c = h->tile;
	if (strcmp(name, "checkpoint") == 0)
		c = h->cp;
	else if (strncmp(name, "tile/entries/", 13) == 0)
		c = h->bundle;
	size_t n = strlen(h->url) + strlen(name) + 1;
	char *url = malloc(n);
	if (!url)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	snprintf(url, n, "%s%s", h->url, name);
	prb_http_resp r;
	h->requests++;
	int rc = prb_http_get(c, url, &r, err);
	if (rc) {
		free(url);
		return rc;
	}
	h->bytes += r.len;
	if (r.status == 200) {
		*data = r.body;
		*len = r.len;
		free(url);
		return 0;
	}
	long st = r.status;
	prb_http_resp_free(&r);
	if (st == 404 || st == 410)
		rc = prb_err_set(err, PRB_ENOTFOUND, url, UINT64_MAX,
		                 "HTTP status %ld", st);
	else
		rc = prb_err_set(err, PRB_EIO, url, UINT64_MAX,
		                 "HTTP status %ld%s", st,
		                 st == 401 || st == 403
		                         ? " (a private log: is --token right?)"
		                         : "");
	free(url);
	return rc;
}

static int
hs_readonly(prb_err *err)
{
	return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
	                   "the remote log is read-only");
}

static int
hs_put(prb_store *s, const char *name, const uint8_t *data, size_t len,
       prb_err *err)
{
	(void)s, (void)name, (void)data, (void)len;
	return hs_readonly(err);
}

static int
hs_sync(prb_store *s, prb_err *err)
{
	(void)s;
	return hs_readonly(err);
}

static int
hs_set_checkpoint(prb_store *s, const uint8_t *old, size_t old_len,
                  const uint8_t *data, size_t len, prb_err *err)
{
	(void)s, (void)old, (void)old_len, (void)data, (void)len;
	return hs_readonly(err);
}

/* HTTP has no listing: nothing is listed (so partial tiles of sizes other
 * than the checkpoint's are not looked for). */
static int
hs_list(prb_store *s, const char *prefix,
        int (*fn)(void *ctx, const char *name), void *ctx, prb_err *err)
{
	(void)s, (void)prefix, (void)fn, (void)ctx, (void)err;
	return 0;
}

static int
hs_remove(prb_store *s, const char *name, prb_err *err)
{
	(void)s, (void)name;
	return hs_readonly(err);
}

static int
hs_lock(prb_store *s, int wait_ms, prb_err *err)
{
	(void)s, (void)wait_ms;
	return hs_readonly(err);
}

static void
hs_close(prb_store *s)
{
	(void)s; /* owned by the monitor */
}

static const prb_store_ops hs_ops = {
	hs_get, hs_put, hs_sync, hs_set_checkpoint, hs_list,
	hs_remove, hs_lock, hs_close, NULL, NULL,
};

/* ---- durable files ---------------------------------------------------- */


/* dir/name written durably (prb_write_durable: name.tmp, fsync, rename,
 * fsync dir), private to the monitor's user. */
static int
write_durable(const char *dir, const char *name, const void *data,
              size_t len, prb_err *err)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path)
		return prb_err_set(err, PRB_EINVAL, dir, UINT64_MAX,
		                   "path too long");
	return prb_write_durable(AT_FDCWD, path, data, len, 0600, 0, err);
}

static int
make_dir(const char *dir, prb_err *err)
{
	char p[PATH_MAX];
	if (strlen(dir) >= sizeof p)
		return prb_err_set(err, PRB_EINVAL, dir, UINT64_MAX,
		                   "path too long");
	strcpy(p, dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return prb_err_set(err, PRB_EIO, p, UINT64_MAX,
			                   "mkdir: %s", strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		return prb_err_set(err, PRB_EIO, p, UINT64_MAX, "mkdir: %s",
		                   strerror(errno));
	return 0;
}

/* ---- state ------------------------------------------------------------- */

/* Opens a stored note with the log's key alone (the witness set may have
 * changed since it was stored) and checks it against the edge. */
static int
check_stored(prb_monitor *m, const char *note, size_t len,
             const prb_log_edge *e, prb_checkpoint *cp, prb_err *err)
{
	int rc = prb_checkpoint_open((const uint8_t *)note, len, m->vs, 1, cp,
	                             NULL, err);
	if (rc)
		return rc;
	prb_hash root;
	prb_log_edge_root(e, &root);
	if (cp->size != prb_log_edge_size(e) || !prb_hash_equal(&root, &cp->root))
		return prb_err_set(err, PRB_ECORRUPT, NULL, UINT64_MAX,
		                   "the stored tree edge (size %llu) is not the "
		                   "stored checkpoint's tree (size %llu)",
		                   (unsigned long long)prb_log_edge_size(e),
		                   (unsigned long long)cp->size);
	return 0;
}

static int
load_state(prb_monitor *m, prb_err *err)
{
	uint8_t *data = NULL, *bin = NULL;
	size_t len;
	int rc = prb_read_file(m->state_path, STATE_MAX, &data, &len, err);
	if (rc == PRB_ENOTFOUND) {
		prb_err_clear(err);
		return 0; /* first run */
	}
	if (rc)
		return rc;
	const char *s = (const char *)data, *end = s + len;
	size_t ml = strlen(STATE_MAGIC);
	rc = prb_err_set(err, PRB_ECORRUPT, m->state_path, UINT64_MAX,
	                 "not a probity monitor state file");
	if (len < ml || memcmp(s, STATE_MAGIC, ml) != 0)
		goto out;
	s += ml;
	if (end - s < 5 || memcmp(s, "edge ", 5) != 0)
		goto out;
	s += 5;
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl || end - nl < 2 || nl[1] != '\n')
		goto out;
	bin = malloc((size_t)(nl - s) / 4 * 3 + 3);
	size_t blen;
	if (!bin) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
		goto out;
	}
	if (prb_b64_decode(s, (size_t)(nl - s), bin, &blen) != 0)
		goto out;
	rc = prb_log_edge_decode(bin, blen, m->edge, err);
	const char *note = nl + 2;
	size_t note_len = (size_t)(end - note);
	if (rc == 0)
		rc = check_stored(m, note, note_len, m->edge, &m->cp, err);
	if (rc) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", err ? err->msg : "");
		rc = prb_err_set(err, PRB_ECORRUPT, m->state_path, UINT64_MAX,
		                 "stored state does not check: %s", why);
		goto out;
	}
	m->note = malloc(note_len + 1);
	if (!m->note) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
		goto out;
	}
	memcpy(m->note, note, note_len);
	m->note[note_len] = 0;
	m->note_len = note_len;
out:
	free(bin);
	free(data);
	return rc;
}

static int
save_state(prb_monitor *m, const prb_log_edge *e, const uint8_t *note,
           size_t note_len, prb_err *err)
{
	uint8_t *bin = malloc(PRB_LOG_EDGE_MAX);
	char *head = malloc(strlen(STATE_MAGIC) + 8 +
	                    prb_b64_encoded_len(PRB_LOG_EDGE_MAX) + 4 +
	                    note_len);
	int rc;
	if (!bin || !head) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
		goto out;
	}
	size_t blen = prb_log_edge_encode(e, bin, PRB_LOG_EDGE_MAX);
	size_t hl = strlen(STATE_MAGIC);
	memcpy(head, STATE_MAGIC "edge ", hl + 5);
	hl += 5;
	hl += prb_b64_encode(bin, blen, head + hl);
	memcpy(head + hl, "\n\n", 2);
	hl += 2;
	memcpy(head + hl, note, note_len);
	rc = write_durable(m->dir, "state", head, hl + note_len, err);
out:
	free(bin);
	free(head);
	return rc;
}

/* Saves both notes of a conflict under STATE/evidence/<time>-<kind>[-k]. */
static int
write_evidence(prb_monitor *m, const char *kind, const uint8_t *note,
               size_t len, prb_monitor_result *res, prb_err *err)
{
	char base[PATH_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(base, sizeof base, "%.4000s/evidence", m->dir);
	int rc = make_dir(base, err);
	if (rc)
		return rc;
	char *d = res->evidence_dir;
	size_t cap = sizeof res->evidence_dir;
	int made = 0;
	for (int k = 0; k < 1000 && !made; k++) {
		int w = k == 0 ? snprintf(d, cap, "%s/%s-%s", base, stamp, kind)
		               : snprintf(d, cap, "%s/%s-%s-%d", base, stamp,
		                          kind, k);
		if (w < 0 || (size_t)w >= cap - 32)
			return prb_err_set(err, PRB_EINVAL, base, UINT64_MAX,
			                   "path too long");
		if (mkdir(d, 0700) == 0)
			made = 1;
		else if (errno != EEXIST)
			return prb_err_set(err, PRB_EIO, d, UINT64_MAX,
			                   "mkdir: %s", strerror(errno));
	}
	if (!made)
		return prb_err_set(err, PRB_EIO, base, UINT64_MAX,
		                   "no free evidence directory name");
	rc = write_durable(d, "stored.checkpoint", m->note, m->note_len, err);
	if (rc == 0)
		rc = write_durable(d, "new.checkpoint", note, len, err);
	if (rc == 0)
		rc = prb_fsync_dir(base, err);
	if (rc)
		return rc;
	snprintf(res->evidence_old, sizeof res->evidence_old,
	         "%.4000s/stored.checkpoint", d);
	snprintf(res->evidence_new, sizeof res->evidence_new,
	         "%.4000s/new.checkpoint", d);
	return 0;
}

/* ---- the monitor -------------------------------------------------------- */

int
prb_monitor_state_name(const char *origin, char *buf, size_t cap)
{
	size_t n = strlen(origin);
	if (n == 0 || n >= cap)
		return PRB_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)origin[i];
		int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		           (c == '.' && i > 0);
		buf[i] = safe ? (char)c : '_';
	}
	buf[n] = 0;
	return 0;
}

void
prb_monitor_close(prb_monitor *m)
{
	if (!m)
		return;
	if (m->lock_fd >= 0)
		close(m->lock_fd); /* releases the flock */
	prb_http_free(m->hs.cp);
	prb_http_free(m->hs.tile);
	prb_http_free(m->hs.bundle);
	prb_log_edge_free(m->edge);
	prb_log_edge_free(m->work);
	free(m->vs);
	free(m->url);
	free(m->note);
	free(m);
}

static int
take_lock(prb_monitor *m, prb_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%.4000s/lock", m->dir);
	m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->lock_fd < 0)
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX, "open: %s",
		                   strerror(errno));
	if (flock(m->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return prb_err_set(err, PRB_ELOCKED, m->dir, UINT64_MAX,
		                   "another monitor uses this state directory");
	return 0;
}

static int
open_clients(prb_monitor *m, const prb_monitor_cfg *cfg, prb_err *err)
{
	int rc = prb_http_new(cfg->bearer, cfg->timeout_ms,
	                      PRB_MONITOR_MAX_CHECKPOINT, &m->hs.cp, err);
	if (rc == 0)
		rc = prb_http_new(cfg->bearer, cfg->timeout_ms,
		                  PRB_MONITOR_MAX_TILE, &m->hs.tile, err);
	if (rc == 0)
		rc = prb_http_new(cfg->bearer, cfg->timeout_ms,
		                  PRB_MONITOR_MAX_BUNDLE, &m->hs.bundle, err);
	return rc;
}

int
prb_monitor_open(const prb_monitor_cfg *cfg, prb_monitor **out, prb_err *err)
{
	*out = NULL;
	if (!prb_http_url_ok(cfg->url))
		return prb_err_set(err, PRB_EINVAL, cfg->url, UINT64_MAX,
		                   "the URL must start with http:// or https://");
	if (cfg->log_key->type != PRB_SIG_ED25519)
		return prb_err_set(err, PRB_EKEY, NULL, UINT64_MAX,
		                   "the log's key must be an Ed25519 key");
	if (cfg->min_cosigs > cfg->nwitnesses)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "%zu cosignatures required of %zu witnesses",
		                   cfg->min_cosigs, cfg->nwitnesses);
	for (size_t i = 0; i < cfg->nwitnesses; i++)
		if (cfg->witnesses[i].type != PRB_SIG_COSIGV1)
			return prb_err_set(err, PRB_EKEY, cfg->witnesses[i].name,
			                   UINT64_MAX,
			                   "a witness key must be a cosignature/v1 "
			                   "(type 0x04) key");
	if (strlen(cfg->state_dir) > 3900)
		return prb_err_set(err, PRB_EINVAL, cfg->state_dir, UINT64_MAX,
		                   "path too long");
	prb_monitor *m = calloc(1, sizeof *m);
	if (!m)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	m->lock_fd = -1;
	int rc = PRB_ENOMEM;
	size_t ul = strlen(cfg->url);
	m->url = malloc(ul + 2);
	m->nvs = 1 + cfg->nwitnesses;
	m->vs = calloc(m->nvs, sizeof *m->vs);
	if (!m->url || !m->vs || prb_log_edge_new(&m->edge, err) ||
	    prb_log_edge_new(&m->work, err)) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
		goto fail;
	}
	memcpy(m->url, cfg->url, ul + 1);
	if (ul == 0 || m->url[ul - 1] != '/')
		strcat(m->url, "/");
	m->vs[0] = *cfg->log_key;
	for (size_t i = 0; i < cfg->nwitnesses; i++)
		m->vs[1 + i] = cfg->witnesses[i];
	m->min_cosigs = cfg->min_cosigs;
	snprintf(m->dir, sizeof m->dir, "%s", cfg->state_dir);
	snprintf(m->state_path, sizeof m->state_path, "%.4000s/state", m->dir);
	m->hs.base.ops = &hs_ops;
	m->hs.url = m->url;
	rc = make_dir(m->dir, err);
	if (rc == 0)
		rc = take_lock(m, err);
	if (rc == 0)
		rc = load_state(m, err);
	if (rc == 0)
		rc = open_clients(m, cfg, err);
	if (rc)
		goto fail;
	*out = m;
	return 0;
fail:
	prb_monitor_close(m);
	return rc;
}

void
prb_monitor_stored(const prb_monitor *m, prb_checkpoint *cp, int *has)
{
	*has = m->note != NULL;
	if (m->note)
		*cp = m->cp;
	else
		memset(cp, 0, sizeof *cp);
}

/* Gets and opens the checkpoint; counts the witnesses' cosignatures. */
static int
fetch_checkpoint(prb_monitor *m, uint8_t **note, size_t *len,
                 prb_monitor_result *res, prb_err *err)
{
	int rc = hs_get(&m->hs.base, "checkpoint", note, len, err);
	if (rc == PRB_ENOTFOUND) {
		char url[sizeof err->where];
		snprintf(url, sizeof url, "%scheckpoint", m->url);
		return prb_err_set(err, PRB_EIO, url, UINT64_MAX,
		                   "no checkpoint (HTTP 404): is the URL the "
		                   "log's prefix?");
	}
	if (rc)
		return rc;
	prb_note *n = NULL;
	rc = prb_checkpoint_open(*note, *len, m->vs, m->nvs, &res->cp, &n, err);
	if (rc) {
		if (err)
			snprintf(err->where, sizeof err->where, "%scheckpoint",
			         m->url);
		return rc;
	}
	for (size_t i = 0; i < n->nverified; i++)
		res->cosigs += n->sigs[i].verifier->type == PRB_SIG_COSIGV1;
	prb_note_free(n);
	res->few_cosigs = res->cosigs < m->min_cosigs;
	if (res->few_cosigs)
		return prb_err_set(err, PRB_ENOSIG, NULL, UINT64_MAX,
		                   "%scheckpoint (size %llu) has %zu valid "
		                   "cosignatures of the %zu required",
		                   m->url, (unsigned long long)res->cp.size,
		                   res->cosigs, m->min_cosigs);
	return 0;
}

/* Records a conflict: evidence written, PRB_ESPLIT with a reason. */
static int
conflict(prb_monitor *m, int kind, const char *reason, const uint8_t *note,
         size_t len, prb_monitor_result *res, prb_err *err)
{
	static const char *const names[] = {"", "split-view", "rollback",
	                                    "not-extension"};
	res->conflict = kind;
	res->stored = m->cp;
	prb_err e2;
	int rc = write_evidence(m, names[kind], note, len, res, &e2);
	char a[48], b[48];
	prb_b64_encode(m->cp.root.b, PRB_HASH_SIZE, a);
	prb_b64_encode(res->cp.root.b, PRB_HASH_SIZE, b);
	const char *why =
	        kind == PRB_CONFLICT_SPLIT_VIEW
	                ? "two different roots signed for the same size"
	        : kind == PRB_CONFLICT_ROLLBACK
	                ? "the log now signs a smaller tree than it did"
	                : reason;
	res->reason = why;
	if (rc)
		return prb_err_set(err, PRB_ESPLIT, m->url, UINT64_MAX,
		                   "%s (stored size %llu root %s, new size %llu "
		                   "root %s); saving the evidence failed: %s: %s",
		                   why, (unsigned long long)m->cp.size, a,
		                   (unsigned long long)res->cp.size, b, e2.where,
		                   e2.msg);
	return prb_err_set(err, PRB_ESPLIT, m->url, UINT64_MAX,
	                   "%s (stored size %llu root %s, new size %llu root "
	                   "%s)",
	                   why, (unsigned long long)m->cp.size, a,
	                   (unsigned long long)res->cp.size, b);
}

/* Prefixes a relative object name in err->where with the URL. */
static void
where_url(prb_monitor *m, prb_err *err)
{
	if (!err || err->where[0] == 0 || strstr(err->where, "://"))
		return;
	char w[sizeof err->where];
	snprintf(w, sizeof w, "%s%s", m->url, err->where);
	memcpy(err->where, w, sizeof w);
}

/* Checks that the served tree at the new size (res->cp) extends the
 * stored one: m->work becomes its edge. The stored edge is extended with
 * the new entries only. If that fails or gives another root, the served
 * tree is verified again from entry 0 to tell a fork (the served tree is
 * whole but does not contain the verified one, or its entries do not give
 * the signed root: PRB_ESPLIT) from served objects that contradict each
 * other (PRB_ECORRUPT, the first discrepancy). */
static int
extend(prb_monitor *m, const uint8_t *note, size_t len,
       prb_monitor_result *res, prb_err *err)
{
	prb_hash root;
	prb_log_edge_copy(m->work, m->edge);
	int rc = prb_log_verify_extend(&m->hs.base, m->work, res->cp.size,
	                               NULL, NULL, err);
	if (rc == 0) {
		prb_log_edge_root(m->work, &root);
		if (prb_hash_equal(&root, &res->cp.root))
			return 0;
	}
	int again = m->note && prb_log_edge_size(m->edge) > 0;
	if (rc && (!again || (rc != PRB_ECORRUPT && rc != PRB_ETOOBIG))) {
		where_url(m, err);
		return rc;
	}
	if (again) {
		/* again from scratch: is the served tree sound by itself? */
		prb_log_edge *fresh = NULL;
		rc = prb_log_edge_new(&fresh, err);
		if (rc == 0)
			rc = prb_log_verify_extend(&m->hs.base, fresh,
			                           res->cp.size, NULL, NULL, err);
		if (rc == 0)
			prb_log_edge_root(fresh, &root);
		prb_log_edge_free(fresh);
		if (rc) {
			where_url(m, err);
			return rc;
		}
	}
	char a[48], b[48];
	prb_b64_encode(root.b, PRB_HASH_SIZE, a);
	prb_b64_encode(res->cp.root.b, PRB_HASH_SIZE, b);
	if (!m->note)
		return prb_err_set(err, PRB_ECORRUPT, m->url, UINT64_MAX,
		                   "root of the %llu served entries: expected %s "
		                   "(the checkpoint's), found %s (recomputed)",
		                   (unsigned long long)res->cp.size, b, a);
	if (prb_hash_equal(&root, &res->cp.root))
		return conflict(m, PRB_CONFLICT_NOT_EXTENSION,
		                "the log serves a whole tree with the new root, "
		                "and it does not contain the verified tree",
		                note, len, res, err);
	return conflict(m, PRB_CONFLICT_NOT_EXTENSION,
	                "the new root is not the root of the entries the log "
	                "serves (it forked, or hides the entries it signed)",
	                note, len, res, err);
}

int
prb_monitor_round(prb_monitor *m, prb_monitor_result *res, prb_err *err)
{
	uint8_t *note = NULL;
	size_t len = 0;
	memset(res, 0, sizeof *res);
	m->hs.requests = m->hs.bytes = 0;
	res->had_state = m->note != NULL;
	res->old_size = m->note ? m->cp.size : 0;
	int rc = fetch_checkpoint(m, &note, &len, res, err);
	if (rc)
		goto out;
	if (m->note && res->cp.size < m->cp.size) {
		rc = conflict(m, PRB_CONFLICT_ROLLBACK, NULL, note, len, res, err);
		goto out;
	}
	if (m->note && res->cp.size == m->cp.size) {
		if (prb_hash_equal(&res->cp.root, &m->cp.root))
			res->outcome = PRB_MONITOR_UNCHANGED;
		else
			rc = conflict(m, PRB_CONFLICT_SPLIT_VIEW, NULL, note, len,
			              res, err);
		goto out;
	}
	rc = extend(m, note, len, res, err);
	if (rc)
		goto out;
	rc = save_state(m, m->work, note, len, err);
	if (rc)
		goto out;
	prb_log_edge_copy(m->edge, m->work);
	free(m->note);
	m->note = (char *)note;
	m->note_len = len;
	m->cp = res->cp;
	note = NULL;
	res->outcome = PRB_MONITOR_VERIFIED;
out:
	res->requests = m->hs.requests;
	res->bytes = m->hs.bytes;
	free(note);
	return rc;
}
