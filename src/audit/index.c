/*
 * The SQLite index (see include/probity/index.h for the schema).
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, so a
 * committed transaction survives a crash. The index commits only after the
 * log's checkpoint covering its rows is durable; a crash in between leaves
 * the index behind the log (never ahead), which the next writer repairs by
 * indexing the missing entries from the log itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "probity/blob.h"
#include "probity/entry.h"
#include "probity/index.h"
#include "probity/store.h"
#include "base/util.h"
#include "probity/tile.h"

struct prb_index {
	sqlite3 *db;
	char path[256];
	sqlite3_stmt *contains, *add;
	int in_tx;
};

/* The event columns, in table order after leaf. */
#define EVENT_COLUMNS                                                       \
	"format, event_id, event_time, account, tenant, principal, "        \
	"principal_account, principal_type, service, operation, "           \
	"resource_id, resource_type, region, location, result, error_code, " \
	"source_ip, user_agent, request, response, canonical, blob, "        \
	"entry_sha256"
#define NCOLS 24 /* leaf + the 23 above */

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS events("
	" leaf INTEGER PRIMARY KEY,"
	" format TEXT NOT NULL, event_id TEXT NOT NULL, event_time TEXT,"
	" account TEXT, tenant TEXT, principal TEXT, principal_account TEXT,"
	" principal_type TEXT, service TEXT, operation TEXT, resource_id TEXT,"
	" resource_type TEXT, region TEXT, location TEXT, result TEXT,"
	" error_code TEXT, source_ip TEXT, user_agent TEXT, request TEXT,"
	" response TEXT, canonical INTEGER NOT NULL, blob TEXT,"
	" entry_sha256 TEXT NOT NULL,"
	" UNIQUE(format, event_id));"
	"CREATE INDEX IF NOT EXISTS events_time ON events(event_time);"
	"CREATE INDEX IF NOT EXISTS events_operation ON events(operation);"
	"CREATE INDEX IF NOT EXISTS events_principal ON events(principal);"
	"INSERT OR IGNORE INTO meta VALUES('schema', '1');"
	"INSERT OR IGNORE INTO meta VALUES('log_size', '0');"
	"INSERT OR IGNORE INTO meta VALUES('log_root', "
	"'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');";

static int
db_err(prb_index *ix, prb_err *err, const char *what)
{
	int code = prb_sqlite_code(sqlite3_errcode(ix->db));
	return prb_err_set(err, code, ix->path, UINT64_MAX, "%s: %s", what,
	                   sqlite3_errmsg(ix->db));
}

static int
exec(prb_index *ix, const char *sql, const char *what, prb_err *err)
{
	if (sqlite3_exec(ix->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(ix, err, what);
	return 0;
}

/* Reads one meta value of database `schema` ("main" or an attached
 * name) into buf; PRB_ECORRUPT if absent. */
static int
meta_get_from(prb_index *ix, const char *schema, const char *key, char *buf,
              size_t cap, prb_err *err)
{
	sqlite3_stmt *st;
	char sql[80];
	snprintf(sql, sizeof sql, "SELECT value FROM %s.meta WHERE key = ?",
	         schema);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(ix, err, "reading meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	const unsigned char *v = rc == SQLITE_ROW ? sqlite3_column_text(st, 0)
	                                          : NULL;
	if (v == NULL || strlen((const char *)v) >= cap) {
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return db_err(ix, err, "reading meta");
		return prb_err_set(err, PRB_ECORRUPT, ix->path, UINT64_MAX,
		                   "meta value \"%s\" missing or too long", key);
	}
	strcpy(buf, (const char *)v);
	sqlite3_finalize(st);
	return 0;
}

static int
meta_get(prb_index *ix, const char *key, char *buf, size_t cap, prb_err *err)
{
	return meta_get_from(ix, "main", key, buf, cap, err);
}

/* A read-only file: URI for path ("%", "?" and "#" escaped). */
static void
uri_of(const char *path, char *out, size_t cap)
{
	/* "file://" + an absolute path: "//x" must not read as an authority */
	size_t o = (size_t)snprintf(out, cap, path[0] == '/' ? "file://" : "file:");
	for (const char *p = path; *p && o + 4 < cap; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			o += (size_t)snprintf(out + o, cap - o, "%%%02X",
			                      (unsigned char)*p);
		else
			out[o++] = *p;
	}
	snprintf(out + o, cap - o, "?mode=ro");
}

/* The index and the files SQLite keeps beside it are opened by SQLite
 * with O_NOFOLLOW (SQLITE_OPEN_NOFOLLOW for the database itself); this
 * names a planted link or non-regular file before SQLite's more general
 * "unable to open database file". */
static int
check_planted(const char *path, prb_err *err)
{
	static const char *const sfx[] = {"", "-journal", "-wal", "-shm"};
	char p[PATH_MAX + 16];
	struct stat st;
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		if (lstat(p, &st) == 0 && !S_ISREG(st.st_mode))
			return prb_err_set(err, PRB_EIO, p, UINT64_MAX, "%s",
			                   prb_beneath_strerror(
			                           S_ISLNK(st.st_mode) ? ELOOP
			                                               : ENODEV));
	}
	return 0;
}

/* Opens the database at `name` (a path or a file: URI) with `flags`. */
static int
open_db(const char *path, const char *name, int flags, prb_index **out,
        prb_err *err)
{
	*out = NULL;
	int rc = check_planted(path, err);
	if (rc)
		return rc;
	prb_index *ix = calloc(1, sizeof *ix);
	if (ix == NULL)
		return prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
		                   "out of memory");
	snprintf(ix->path, sizeof ix->path, "%s", path);
	/* a symbolic link planted as the index is refused, not followed */
	if (sqlite3_open_v2(name, &ix->db, flags | SQLITE_OPEN_NOFOLLOW,
	                    NULL) != SQLITE_OK) {
		int rc = ix->db ? db_err(ix, err, "opening")
		                : prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
		                              "out of memory");
		prb_index_close(ix);
		return rc;
	}
	sqlite3_busy_timeout(ix->db, 10000);
	*out = ix;
	return 0;
}

/* Refuses a database of another schema version. */
static int
check_schema(prb_index *ix, prb_err *err)
{
	char schema[16];
	int rc = meta_get(ix, "schema", schema, sizeof schema, err);
	if (rc == 0 && strcmp(schema, "1") != 0)
		rc = prb_err_set(err, PRB_ECORRUPT, ix->path, UINT64_MAX,
		                 "index schema version %s, this probity reads 1",
		                 schema);
	return rc;
}

int
prb_index_open_readonly(const char *path, prb_index **out, prb_err *err)
{
	char uri[PATH_MAX + 32];
	uri_of(path, uri, sizeof uri);
	int rc = open_db(path, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	                 out, err);
	if (rc == 0 && (rc = check_schema(*out, err)) != 0) {
		prb_index_close(*out);
		*out = NULL;
	}
	return rc;
}

void
prb_index_remove(const char *path)
{
	char p[PATH_MAX + 8];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-journal", path);
	unlink(p);
}

int
prb_index_install(const char *tmp, const char *path, prb_err *err)
{
	char p[PATH_MAX + 8];
	/* a WAL file of the old database must not meet the new one */
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	if (rename(tmp, path) != 0 || prb_fsync_parent(path) != 0)
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX,
		                   "installing the new index: %s",
		                   strerror(errno));
	return 0;
}

static int open_rw(const char *path, prb_index **out, prb_err *err);

/* A new index appears whole: its schema is made in PATH.new, which is
 * then renamed into place, so a reader never sees a half-made one. */
static int
create_whole(const char *path, prb_err *err)
{
	char tmp[PATH_MAX];
	prb_index *ix;
	if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp)
		return prb_err_set(err, PRB_EINVAL, path, UINT64_MAX,
		                   "path too long");
	prb_index_remove(tmp);
	int rc = open_rw(tmp, &ix, err);
	prb_index_close(ix);
	if (rc == 0)
		rc = prb_index_install(tmp, path, err);
	if (rc != 0)
		prb_index_remove(tmp);
	return rc;
}

int
prb_index_open(const char *path, prb_index **out, prb_err *err)
{
	struct stat sb;
	*out = NULL;
	if (stat(path, &sb) != 0 && errno == ENOENT) {
		int rc = create_whole(path, err);
		if (rc != 0)
			return rc;
	}
	return open_rw(path, out, err);
}

int
prb_index_create(const char *path, prb_index **out, prb_err *err)
{
	prb_index_remove(path);
	return open_rw(path, out, err);
}

/* Opens (creating) the database at path and its schema. */
static int
open_rw(const char *path, prb_index **out, prb_err *err)
{
	prb_index *ix;
	*out = NULL;
	int rc = open_db(path, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                 &ix, err);
	if (rc != 0)
		return rc;
	rc = exec(ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
	          "setting the journal mode", err);
	if (rc == 0)
		rc = exec(ix, schema_sql, "creating the schema", err);
	if (rc == 0)
		rc = check_schema(ix, err);
	if (rc == 0 &&
	    (sqlite3_prepare_v2(ix->db,
	                        "SELECT leaf, entry_sha256 FROM events WHERE "
	                        "format = ? AND event_id = ?",
	                        -1, &ix->contains, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(ix->db,
	                        "INSERT INTO events(leaf, " EVENT_COLUMNS
	                        ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
	                        "?,?,?,?,?,?) ON CONFLICT(format, event_id) DO "
	                        "NOTHING",
	                        -1, &ix->add, NULL) != SQLITE_OK))
		rc = db_err(ix, err, "preparing statements");
	if (rc != 0) {
		prb_index_close(ix);
		return rc;
	}
	*out = ix;
	return 0;
}

void
prb_index_close(prb_index *ix)
{
	if (ix == NULL)
		return;
	prb_index_rollback(ix);
	sqlite3_finalize(ix->contains);
	sqlite3_finalize(ix->add);
	sqlite3_close(ix->db);
	free(ix);
}

static int
hex_root(const char *hex, prb_hash *out)
{
	if (strlen(hex) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out->b[i] = (uint8_t)v;
	}
	return 0;
}

int
prb_index_covers(prb_index *ix, uint64_t *size, prb_hash *root, prb_err *err)
{
	char sz[32], rt[80];
	int rc = meta_get(ix, "log_size", sz, sizeof sz, err);
	if (rc == 0)
		rc = meta_get(ix, "log_root", rt, sizeof rt, err);
	if (rc != 0)
		return rc;
	char *end;
	unsigned long long v = strtoull(sz, &end, 10);
	if (*end != '\0' || end == sz || hex_root(rt, root) != 0)
		return prb_err_set(err, PRB_ECORRUPT, ix->path, UINT64_MAX,
		                   "meta log_size/log_root malformed");
	*size = v;
	return 0;
}

int
prb_index_begin(prb_index *ix, prb_err *err)
{
	if (ix->in_tx)
		return 0;
	int rc = exec(ix, "BEGIN IMMEDIATE", "starting a transaction", err);
	if (rc == 0)
		ix->in_tx = 1;
	return rc;
}

int
prb_index_lookup(prb_index *ix, prb_format f, const char *event_id,
                 uint64_t *leaf, char entry_hex[65], prb_err *err)
{
	sqlite3_stmt *st = ix->contains;
	sqlite3_bind_text(st, 1, prb_format_name(f), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, event_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 1);
		*leaf = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(entry_hex, 65, "%s", h ? (const char *)h : "");
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_err(ix, err, "looking up an event id");
}

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int
prb_index_add(prb_index *ix, uint64_t leaf, const prb_event *ev,
              int canonical, const char *blob_hex, const char *entry_hex,
              prb_err *err)
{
	sqlite3_stmt *st = ix->add;
	const char *cols[] = {
		prb_format_name(ev->format), ev->event_id, ev->time, ev->account,
		ev->tenant, ev->principal, ev->principal_account,
		ev->principal_type, ev->service, ev->operation, ev->resource_id,
		ev->resource_type, ev->region, ev->location, ev->result,
		ev->error_code, ev->source_ip, ev->user_agent, ev->request,
		ev->response,
	};
	sqlite3_bind_int64(st, 1, (sqlite3_int64)leaf);
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		bind_opt(st, (int)i + 2, cols[i]);
	sqlite3_bind_int(st, 22, canonical ? 1 : 0);
	bind_opt(st, 23, blob_hex);
	bind_opt(st, 24, entry_hex);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		rc = db_err(ix, err, "adding a row");
		if (err != NULL)
			err->offset = leaf;
		return rc;
	}
	return sqlite3_changes(ix->db) > 0;
}

int
prb_index_commit(prb_index *ix, uint64_t size, const prb_hash *root,
                 prb_err *err)
{
	int rc = prb_index_begin(ix, err);
	if (rc != 0)
		return rc;
	char sql[200], hex[65];
	prb_hex_encode(root->b, 32, hex);
	snprintf(sql, sizeof sql,
	         "UPDATE meta SET value = '%" PRIu64 "' WHERE key = 'log_size';"
	         "UPDATE meta SET value = '%s' WHERE key = 'log_root';",
	         size, hex);
	rc = exec(ix, sql, "recording the covered size", err);
	if (rc == 0)
		rc = exec(ix, "COMMIT", "committing", err);
	if (rc != 0) {
		prb_index_rollback(ix);
		return rc;
	}
	ix->in_tx = 0;
	return 0;
}

void
prb_index_rollback(prb_index *ix)
{
	if (ix->in_tx)
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	ix->in_tx = 0;
}

int
prb_index_clear(prb_index *ix, prb_err *err)
{
	int rc = prb_index_begin(ix, err);
	if (rc == 0)
		rc = exec(ix,
		          "DELETE FROM events;"
		          "UPDATE meta SET value = '0' WHERE key = 'log_size';",
		          "clearing", err);
	return rc;
}

typedef struct {
	prb_index *ix;
	prb_store *st;
	uint64_t base; /* leaf index of the bundle's first entry */
	uint64_t from, size;
	prb_err *err;
} build_ctx;

/* Indexes one entry (a prb_bundle_fn). */
static int
build_entry(void *ctx, const uint8_t *data, size_t len, unsigned i)
{
	build_ctx *b = ctx;
	uint64_t leaf = b->base + i;
	if (leaf < b->from || leaf >= b->size)
		return 0;
	json_t *rec;
	int canonical;
	char blob[65];
	int rc = prb_entry_record(data, len, prb_blob_from_store, b->st, &rec, &canonical,
	                          blob, b->err);
	if (rc != 0) {
		if (b->err != NULL)
			b->err->offset = leaf;
		return rc;
	}
	if (rec == NULL)
		return 0;
	prb_event ev;
	if (prb_event_from_record(PRB_FMT_AUTO, rec, &ev, NULL) != 0) {
		json_decref(rec);
		return 0; /* a JSON object, but not a cloud audit record */
	}
	char hex[65];
	prb_sha256_hex(data, len, hex);
	rc = prb_index_add(b->ix, leaf, &ev, canonical, blob[0] ? blob : NULL,
	                   hex, b->err);
	prb_event_free(&ev);
	json_decref(rec);
	return rc < 0 ? rc : 0;
}

int
prb_index_build(prb_index *ix, prb_store *st, uint64_t from, uint64_t size,
                const prb_hash *root,
                void (*progress)(void *ctx, uint64_t done, uint64_t total),
                void *pctx, prb_err *err)
{
	int rc = prb_index_begin(ix, err);
	build_ctx b = {ix, st, 0, from, size, err};
	for (uint64_t n = from / PRB_TILE_WIDTH;
	     rc == 0 && n * PRB_TILE_WIDTH < size; n++) {
		uint64_t left = size - n * PRB_TILE_WIDTH;
		unsigned w = left >= PRB_TILE_WIDTH ? PRB_TILE_WIDTH
		                                    : (unsigned)left;
		char path[PRB_TILE_PATH_MAX];
		prb_tile_path(path, sizeof path, PRB_ENTRIES_LEVEL, n, w);
		uint8_t *data;
		size_t len;
		rc = st->ops->get(st, path, &data, &len, err);
		if (rc == PRB_ENOTFOUND && w < PRB_TILE_WIDTH) {
			/* a writer went on and pruned the partial bundle: its
			 * entries are the first w of the full one (tlog-tiles) */
			w = PRB_TILE_WIDTH;
			prb_tile_path(path, sizeof path, PRB_ENTRIES_LEVEL, n, w);
			rc = st->ops->get(st, path, &data, &len, err);
		}
		if (rc != 0)
			break;
		b.base = n * PRB_TILE_WIDTH;
		rc = prb_bundle_parse(data, len, w, build_entry, &b, err);
		free(data);
		if (rc != 0 && err != NULL && err->where[0] == '\0')
			snprintf(err->where, sizeof err->where, "%s", path);
		if (progress != NULL)
			progress(pctx, b.base + w > size ? size - from
			                                 : b.base + w - from,
			         size - from);
	}
	if (rc == 0)
		rc = prb_index_commit(ix, size, root, err);
	if (rc != 0)
		prb_index_rollback(ix);
	return rc;
}

/* The first leaf present in one table and not identical in the other. */
static int
first_difference(prb_index *ix, uint64_t upto, uint64_t covers,
                 int64_t *leaf, prb_err *err)
{
	sqlite3_stmt *st;
	const char *sql =
		"SELECT min(leaf) FROM ("
		" SELECT leaf FROM (SELECT * FROM main.events WHERE leaf < ?1"
		"   EXCEPT SELECT * FROM other.events WHERE leaf < ?1)"
		" UNION ALL"
		" SELECT leaf FROM (SELECT * FROM other.events WHERE leaf < ?1"
		"   EXCEPT SELECT * FROM main.events WHERE leaf < ?1)"
		" UNION ALL"
		" SELECT leaf FROM other.events WHERE leaf >= ?2)";
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(ix, err, "comparing");
	sqlite3_bind_int64(st, 1, upto > INT64_MAX ? INT64_MAX : (int64_t)upto);
	sqlite3_bind_int64(st, 2,
	                   covers > INT64_MAX ? INT64_MAX : (int64_t)covers);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_err(ix, err, "comparing");
	}
	*leaf = sqlite3_column_type(st, 0) == SQLITE_NULL
	                ? -1
	                : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Names the first column of `leaf` that differs between the two tables. */
static int
describe(prb_index *ix, int64_t leaf, uint64_t covers, prb_err *err)
{
	sqlite3_stmt *a = NULL, *b = NULL;
	sqlite3_prepare_v2(ix->db, "SELECT * FROM main.events WHERE leaf = ?",
	                   -1, &a, NULL);
	sqlite3_prepare_v2(ix->db, "SELECT * FROM other.events WHERE leaf = ?",
	                   -1, &b, NULL);
	if (a == NULL || b == NULL) {
		sqlite3_finalize(a);
		sqlite3_finalize(b);
		return db_err(ix, err, "comparing");
	}
	sqlite3_bind_int64(a, 1, leaf);
	sqlite3_bind_int64(b, 1, leaf);
	int ra = sqlite3_step(a), rb = sqlite3_step(b);
	int rc;
	if (ra != SQLITE_ROW || rb != SQLITE_ROW || (uint64_t)leaf >= covers) {
		rc = prb_err_set(err, PRB_ECORRUPT, ix->path, (uint64_t)leaf,
		                 "leaf %" PRId64 ": %s", leaf,
		                 (uint64_t)leaf >= covers
		                         ? "the index has a row beyond the entries "
		                           "it says it covers"
		                 : ra == SQLITE_ROW
		                         ? "the log has a record the index lacks"
		                         : "the index has a row for an entry that "
		                           "is not a record in the log");
		goto done;
	}
	for (int i = 1; i < NCOLS; i++) {
		const unsigned char *x = sqlite3_column_text(a, i);
		const unsigned char *y = sqlite3_column_text(b, i);
		if ((x == NULL) != (y == NULL) ||
		    (x != NULL && strcmp((const char *)x, (const char *)y) != 0)) {
			rc = prb_err_set(
				err, PRB_ECORRUPT, ix->path, (uint64_t)leaf,
				"leaf %" PRId64 ", column %s: index has %.120s%s%s, "
				"the log gives %.120s%s%s",
				leaf, sqlite3_column_name(a, i), y ? "\"" : "",
				y ? (const char *)y : "NULL", y ? "\"" : "",
				x ? "\"" : "", x ? (const char *)x : "NULL",
				x ? "\"" : "");
			goto done;
		}
	}
	rc = prb_err_set(err, PRB_ECORRUPT, ix->path, (uint64_t)leaf,
	                 "leaf %" PRId64 ": rows differ", leaf);
done:
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	return rc;
}

int
prb_index_compare(prb_index *ix, const char *other_path,
                  int (*check)(void *ctx, uint64_t size, const prb_hash *root,
                               uint64_t *upto, prb_err *err),
                  void *ctx, uint64_t *covers, prb_err *err)
{
	sqlite3_stmt *st;
	char uri[PATH_MAX + 32];
	uri_of(other_path, uri, sizeof uri);
	if (sqlite3_prepare_v2(ix->db, "ATTACH ? AS other", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(ix, err, "attaching");
	sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(ix, err, "attaching");
	/* one read transaction: the covered size and the rows agree even
	 * while a writer commits */
	rc = exec(ix, "BEGIN", "starting a read transaction", err);
	char sz[32], rt[80];
	if (rc == 0)
		rc = meta_get_from(ix, "other", "schema", sz, sizeof sz, err);
	if (rc == 0 && strcmp(sz, "1") != 0)
		rc = prb_err_set(err, PRB_ECORRUPT, other_path, UINT64_MAX,
		                 "index schema version %s, this probity reads 1",
		                 sz);
	if (rc == 0)
		rc = meta_get_from(ix, "other", "log_size", sz, sizeof sz, err);
	if (rc == 0)
		rc = meta_get_from(ix, "other", "log_root", rt, sizeof rt, err);
	prb_hash root;
	char *end;
	unsigned long long size = strtoull(sz, &end, 10);
	if (rc == 0 && (*end != '\0' || end == sz || hex_root(rt, &root) != 0))
		rc = prb_err_set(err, PRB_ECORRUPT, other_path, UINT64_MAX,
		                 "meta log_size/log_root malformed");
	uint64_t upto = 0;
	if (rc == 0)
		rc = check(ctx, size, &root, &upto, err);
	int64_t leaf = -1;
	if (rc == 0)
		rc = first_difference(ix, upto, size, &leaf, err);
	if (rc == 0 && leaf >= 0)
		rc = describe(ix, leaf, size, err);
	if (rc == 0)
		*covers = size;
	sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_exec(ix->db, "DETACH other", NULL, NULL, NULL);
	return rc;
}
