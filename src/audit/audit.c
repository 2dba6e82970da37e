/*
 * Provable audit (audit.h): running policies over the index, and
 * findings.json.
 *
 * Invariants:
 *  1. The audit never writes to the log directory: the index is opened
 *     with mode=ro and every query passes an authorizer that allows only
 *     reads and functions, and must be a read-only statement.
 *  2. The findings of one run all come from one read transaction, in
 *     which the index's meta table says it covers exactly the checkpoint
 *     the bundle embeds.
 *  3. findings.json is a function of (checkpoint, policies, parameters,
 *     index rows): sorted and RFC 8785 encoded, so equal inputs give equal
 *     bytes.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "probity/audit.h"
#include "probity/jcs.h"
#include "base/util.h"
#include "audit/audit_int.h"

/* ---- running ----------------------------------------------------------- */

/* The line of policy p holding byte off of its query. */
static unsigned
sql_line_at(const prb_policy *p, size_t off)
{
	unsigned line = p->sql_line;
	size_t n = strlen(p->sql);
	for (size_t i = 0; i < off && i < n; i++)
		line += p->sql[i] == '\n';
	return line;
}

static int
db_err(prb_err *err, sqlite3 *db, const prb_policy *p, int at_offset)
{
	size_t line = p->sql_line;
	int off = at_offset ? sqlite3_error_offset(db) : -1;
	if (off >= 0)
		line = sql_line_at(p, (size_t)off);
	return prb_policy_err(err, PRB_EINVAL, p->file, (unsigned)line, "SQL error: ",
	            sqlite3_errmsg(db));
}

/* The index's tables (events, meta) may be read only through the temp
 * view events that shadows the first (d names the view doing the
 * reading). */
static int
authorize(void *ctx, int op, const char *a, const char *b, const char *c,
          const char *d)
{
	(void)ctx, (void)b;
	/* (SQLite also reports a table it only scans, for rows or a count,
	 * as a read of the column "": no value of it is read) */
	if (op == SQLITE_READ && c && strcmp(c, "main") == 0 && !d &&
	    b && b[0] && a &&
	    (strcmp(a, "events") == 0 || strcmp(a, "meta") == 0))
		return SQLITE_DENY;
	/* json_each's constructor declares its schema, which SQLite checks as
	 * an update of sqlite_master; the connection is read-only anyway */
	if (op == SQLITE_UPDATE && a && strcmp(a, "sqlite_master") == 0)
		return SQLITE_OK;
	switch (op) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_FUNCTION:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	default:
		return SQLITE_DENY;
	}
}

static int
bind_param(sqlite3_stmt *st, int i, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return sqlite3_bind_text(st, i, json_string_value(v),
		                         (int)json_string_length(v),
		                         SQLITE_TRANSIENT);
	case JSON_REAL:
	case JSON_INTEGER: {
		double d = json_number_value(v);
		if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
		    d == (double)(long long)d)
			return sqlite3_bind_int64(st, i, (sqlite3_int64)d);
		return sqlite3_bind_double(st, i, d);
	}
	case JSON_TRUE:
		return sqlite3_bind_int(st, i, 1);
	case JSON_FALSE:
		return sqlite3_bind_int(st, i, 0);
	case JSON_NULL:
		return sqlite3_bind_null(st, i);
	default: {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!s)
			return SQLITE_NOMEM;
		return sqlite3_bind_text(st, i, s, -1, free);
	}
	}
}

/* Binds every :NAME of st from p's parameters. */
static int
bind_all(sqlite3 *db, sqlite3_stmt *st, const prb_policy *p, prb_err *err)
{
	int n = sqlite3_bind_parameter_count(st);
	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		const char *at = name ? strstr(p->sql, name) : NULL;
		unsigned line = at ? sql_line_at(p, (size_t)(at - p->sql))
		                   : p->sql_line;
		if (!name || name[0] != ':')
			return prb_policy_err(err, PRB_EINVAL, p->file, line, "parameters "
			            "must be named :NAME, not ", name ? name : "?");
		const prb_policy_param *pp = NULL;
		for (size_t j = 0; j < p->nparams; j++)
			if (strcmp(p->params[j].name, name + 1) == 0)
				pp = &p->params[j];
		if (!pp)
			return prb_policy_err(err, PRB_EINVAL, p->file, line, "missing "
			            "parameter: no \"-- param:\" header declares ",
			            name);
		if (bind_param(st, i, pp->value) != SQLITE_OK)
			return db_err(err, db, p, 0);
	}
	return 0;
}

typedef struct {
	prb_finding *v;
	size_t n, cap;
} finding_vec;

static int
push_finding(finding_vec *fv, size_t policy, uint64_t leaf, const char *detail)
{
	if (fv->n == fv->cap) {
		size_t nc = fv->cap ? 2 * fv->cap : 64;
		prb_finding *nv = realloc(fv->v, nc * sizeof *nv);
		if (!nv)
			return PRB_ENOMEM;
		fv->v = nv;
		fv->cap = nc;
	}
	char *d = NULL;
	if (detail && !(d = prb_audit_dupn(detail, strlen(detail))))
		return PRB_ENOMEM;
	fv->v[fv->n++] = (prb_finding){policy, leaf, d, 0, SIZE_MAX};
	return 0;
}

/* Prepares policy p's query: exactly one read-only statement returning a
 * column leaf. *leaf_col and *detail_col (-1: none) are its columns. */
static int
prepare_policy(sqlite3 *db, const prb_policy *p, sqlite3_stmt **out,
               int *leaf_col, int *detail_col, prb_err *err)
{
	const char *tail;
	sqlite3_stmt *st = NULL;
	*out = NULL;
	if (sqlite3_prepare_v2(db, p->sql, -1, &st, &tail) != SQLITE_OK)
		return db_err(err, db, p, 1);
	if (!st)
		return prb_policy_err(err, PRB_EINVAL, p->file, p->sql_line,
		            "no query after the header", NULL);
	sqlite3_stmt *more = NULL;
	int rc = sqlite3_prepare_v2(db, tail, -1, &more, NULL);
	if (rc != SQLITE_OK || more) {
		sqlite3_finalize(more);
		sqlite3_finalize(st);
		while (isspace((unsigned char)*tail))
			tail++;
		return prb_policy_err(err, PRB_EINVAL, p->file,
		            sql_line_at(p, (size_t)(tail - p->sql)),
		            "a policy holds exactly one statement; another "
		            "starts here", NULL);
	}
	*leaf_col = *detail_col = -1;
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		const char *cn = sqlite3_column_name(st, i);
		if (cn && strcmp(cn, "leaf") == 0 && *leaf_col < 0)
			*leaf_col = i;
		else if (cn && strcmp(cn, "detail") == 0 && *detail_col < 0)
			*detail_col = i;
	}
	if (!sqlite3_stmt_readonly(st) || *leaf_col < 0) {
		sqlite3_finalize(st);
		while (isspace((unsigned char)*tail))
			tail++;
		return prb_policy_err(err, PRB_EINVAL, p->file, p->sql_line,
		            *leaf_col < 0 ? "the query returns no column "
		                            "\"leaf\" (the cited log entry)"
		                          : "the query is not read-only", NULL);
	}
	*out = st;
	return 0;
}

static int
run_policy(sqlite3 *db, const prb_policy *p, size_t pi, uint64_t size,
           finding_vec *fv, prb_err *err)
{
	sqlite3_stmt *st;
	int leaf_col = -1, detail_col = -1;
	sqlite3_set_authorizer(db, authorize, NULL);
	int rc = prepare_policy(db, p, &st, &leaf_col, &detail_col, err);
	sqlite3_set_authorizer(db, NULL, NULL);
	if (rc)
		return rc;
	rc = bind_all(db, st, p, err);
	unsigned long long row = 0;
	int s = SQLITE_DONE;
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		row++;
		sqlite3_int64 leaf = sqlite3_column_int64(st, leaf_col);
		if (sqlite3_column_type(st, leaf_col) != SQLITE_INTEGER ||
		    leaf < 0 || (uint64_t)leaf >= size) {
			char m[96];
			snprintf(m, sizeof m, "row %llu: leaf must be an integer "
			         "below the log size %llu", row,
			         (unsigned long long)size);
			rc = prb_policy_err(err, PRB_EINVAL, p->file, p->sql_line, m, NULL);
			break;
		}
		const char *d = detail_col >= 0 ?
			(const char *)sqlite3_column_text(st, detail_col) : NULL;
		if (push_finding(fv, pi, (uint64_t)leaf, d))
			rc = prb_err_set(err, PRB_ENOMEM, p->file, UINT64_MAX,
			                 "out of memory");
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(err, db, p, 0);
	sqlite3_finalize(st);
	return rc;
}

static int
cmp_finding(const void *a, const void *b, const prb_policy_set *ps)
{
	const prb_finding *x = a, *y = b;
	int c = strcmp(ps->v[x->policy].id, ps->v[y->policy].id);
	if (c)
		return c;
	if (x->leaf != y->leaf)
		return x->leaf < y->leaf ? -1 : 1;
	if (!x->detail || !y->detail)
		return !!x->detail - !!y->detail;
	return strcmp(x->detail, y->detail);
}

static int
cmp_detail_leaf(const void *a, const void *b)
{
	const prb_finding *x = *(prb_finding *const *)a;
	const prb_finding *y = *(prb_finding *const *)b;
	int c = strcmp(x->detail, y->detail);
	if (c)
		return c;
	return x->leaf < y->leaf ? -1 : x->leaf > y->leaf;
}

/* Groups the sorted rows v[0..n) into findings: rows of one policy with
 * the same non-NULL detail (prb_finding's group and next). */
static int
group_findings(prb_finding *v, size_t n)
{
	prb_finding **p = malloc((n ? n : 1) * sizeof *p);
	if (!p)
		return PRB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].group = i;
		v[i].next = SIZE_MAX;
	}
	for (size_t a = 0, b; a < n; a = b) {
		size_t m = 0;
		for (b = a; b < n && v[b].policy == v[a].policy; b++)
			if (v[b].detail)
				p[m++] = &v[b];
		qsort(p, m, sizeof *p, cmp_detail_leaf);
		for (size_t k = 1; k < m; k++)
			if (strcmp(p[k]->detail, p[k - 1]->detail) == 0) {
				p[k]->group = p[k - 1]->group;
				p[k - 1]->next = (size_t)(p[k] - v);
			}
	}
	free(p);
	return 0;
}

/* Insertion-merge sort without qsort_r (not in C11): a plain merge sort. */
static void
sort_findings(prb_finding *v, prb_finding *tmp, size_t n,
              const prb_policy_set *ps)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_findings(v, tmp, h, ps);
	sort_findings(v + h, tmp, n - h, ps);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = cmp_finding(&v[j], &v[i], ps) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

size_t
prb_findings_count(const prb_policy_set *ps, const prb_finding *f, size_t n,
                   size_t by_severity[PRB_SEV_CRITICAL + 1])
{
	size_t nf = 0;
	for (int s = 0; by_severity && s <= PRB_SEV_CRITICAL; s++)
		by_severity[s] = 0;
	for (size_t i = 0; i < n; i++)
		if (f[i].group == i) {
			nf++;
			if (by_severity)
				by_severity[ps->v[f[i].policy].severity]++;
		}
	return nf;
}

void
prb_findings_free(prb_finding *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++)
		free(f[i].detail);
	free(f);
}

/* Reads meta key into buf; PRB_ECORRUPT when absent. */
static int
meta_get(sqlite3 *db, const char *path, const char *key, char *buf,
         size_t cap, prb_err *err)
{
	sqlite3_stmt *st;
	int rc = PRB_ECORRUPT;
	buf[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1,
	                       &st, NULL) != SQLITE_OK)
		return prb_err_set(err, PRB_ECORRUPT, path, UINT64_MAX,
		                   "not a probity index: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	if (rc)
		prb_err_set(err, rc, path, UINT64_MAX, "meta %s missing", key);
	return rc;
}

/* The index must cover exactly (size, root). */
static int
check_covers(sqlite3 *db, const char *path, uint64_t size,
             const prb_hash *root, prb_err *err)
{
	char sz[32], rt[80], want[65];
	int rc = meta_get(db, path, "schema", sz, sizeof sz, err);
	if (rc == 0 && strcmp(sz, "1") != 0)
		return prb_err_set(err, PRB_ECORRUPT, path, UINT64_MAX,
		                   "index schema %s, this probity reads 1; run "
		                   "probity reindex", sz);
	if (rc == 0)
		rc = meta_get(db, path, "log_size", sz, sizeof sz, err);
	if (rc == 0)
		rc = meta_get(db, path, "log_root", rt, sizeof rt, err);
	if (rc)
		return rc;
	prb_hex_encode(root->b, 32, want);
	char szs[32];
	snprintf(szs, sizeof szs, "%llu", (unsigned long long)size);
	if (strcmp(sz, szs) != 0 || strcmp(rt, want) != 0)
		return prb_err_set(err, PRB_ECONFLICT, path, UINT64_MAX,
		                   "the index covers %s entries, the latest "
		                   "checkpoint %s%s: run probity ingest (or "
		                   "probity reindex) to bring it up to date",
		                   sz, szs, strcmp(sz, szs) == 0 ?
		                   " but another root" : "");
	return 0;
}

static int
open_index_ro(const char *path, sqlite3 **db, prb_err *err)
{
	char uri[PATH_MAX + 32];
	size_t o = (size_t)snprintf(uri, sizeof uri, path[0] == '/' ?
	                            "file://" : "file:");
	for (const char *p = path; *p && o + 16 < sizeof uri; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			o += (size_t)snprintf(uri + o, sizeof uri - o, "%%%02X",
			                      (unsigned char)*p);
		else
			uri[o++] = *p;
	}
	snprintf(uri + o, sizeof uri - o, "?mode=ro");
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return prb_err_set(err, PRB_ENOTFOUND, path, UINT64_MAX,
		                   "no index: run probity ingest or probity "
		                   "reindex");
	if (!S_ISREG(sb.st_mode)) /* SQLITE_OPEN_NOFOLLOW refuses it too */
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX, "%s",
		                   prb_beneath_strerror(S_ISLNK(sb.st_mode)
		                                                ? ELOOP
		                                                : ENODEV));
	if (sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	                            SQLITE_OPEN_NOFOLLOW,
	                    NULL) != SQLITE_OK) {
		prb_err_set(err, PRB_EIO, path, UINT64_MAX, "cannot open: %s",
		            *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return PRB_EIO;
	}
	sqlite3_busy_timeout(*db, 10000);
	return 0;
}

int
prb_audit_run(const char *index_path, const prb_policy_set *ps, uint64_t size,
              const prb_hash *root, prb_finding **out, size_t *n,
              prb_err *err)
{
	return prb_audit_run_at(index_path, ps, size, root, size, out, n, err);
}

int
prb_audit_run_at(const char *index_path, const prb_policy_set *ps,
                 uint64_t size, const prb_hash *root, uint64_t at,
                 prb_finding **out, size_t *n, prb_err *err)
{
	sqlite3 *db = NULL;
	finding_vec fv = {0};
	*out = NULL;
	*n = 0;
	int rc = open_index_ro(index_path, &db, err);
	if (rc)
		return rc;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		rc = prb_err_set(err, PRB_EIO, index_path, UINT64_MAX,
		                 "%s", sqlite3_errmsg(db));
	if (rc == 0)
		rc = check_covers(db, index_path, size, root, err);
	if (rc == 0 && at > size)
		rc = prb_err_set(err, PRB_EINVAL, index_path, UINT64_MAX,
		                 "cannot audit as of %llu entries: the log has "
		                 "%llu", (unsigned long long)at,
		                 (unsigned long long)size);
	if (rc == 0) {
		/* What policies see as `events`: the log as it stood at `at`
		 * entries (its first `at` leaves: appends only add leaves),
		 * with one derived column, succeeded. The temp view shadows
		 * the table for unqualified names; the authorizer refuses the
		 * table itself. */
		char sql[600];
		snprintf(sql, sizeof sql, "CREATE TEMP VIEW events AS SELECT *, "
		         "%s AS succeeded FROM main.events WHERE leaf < %llu",
		         PRB_SUCCEEDED_SQL, (unsigned long long)at);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			rc = prb_err_set(err, PRB_EIO, index_path, UINT64_MAX,
			                 "%s", sqlite3_errmsg(db));
	}
	for (size_t i = 0; rc == 0 && i < ps->n; i++)
		rc = run_policy(db, &ps->v[i], i, at, &fv, err);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	if (rc == 0 && fv.n > 1) {
		prb_finding *tmp = malloc(fv.n * sizeof *tmp);
		if (!tmp)
			rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                 "out of memory");
		else
			sort_findings(fv.v, tmp, fv.n, ps);
		free(tmp);
		size_t k = 1;
		for (size_t i = 1; rc == 0 && i < fv.n; i++) {
			if (cmp_finding(&fv.v[i], &fv.v[k - 1], ps) == 0)
				free(fv.v[i].detail);
			else
				fv.v[k++] = fv.v[i];
		}
		if (rc == 0)
			fv.n = k;
	}
	if (rc == 0 && group_findings(fv.v, fv.n))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc) {
		prb_findings_free(fv.v, fv.n);
		return rc;
	}
	*out = fv.v;
	*n = fv.n;
	return 0;
}

/* ---- findings.json ----------------------------------------------------- */

json_t *
prb_audit_checkpoint_json(const prb_checkpoint *cp)
{
	char b64[64];
	prb_b64_encode(cp->root.b, 32, b64);
	return json_pack("{s:s, s:f, s:s}", "origin", cp->origin, "size",
	                 (double)cp->size, "root", b64);
}

static json_t *
policies_json(const prb_policy_set *ps)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < ps->n; i++) {
		const prb_policy *p = &ps->v[i];
		char hex[65];
		prb_hex_encode(p->sha256, 32, hex);
		json_t *params = json_object();
		for (size_t j = 0; params && j < p->nparams; j++)
			if (json_object_set(params, p->params[j].name,
			                    p->params[j].value)) {
				json_decref(params);
				params = NULL;
			}
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:o}", "id", p->id, "title", p->title, "severity",
		    prb_severity_name(p->severity), "sha256", hex, "params", params))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int
prb_audit_findings_json(const prb_policy_set *ps, const prb_checkpoint *cp,
                        const prb_finding *f, size_t n, char **out,
                        size_t *len, prb_err *err)
{
	*out = NULL;
	*len = 0;
	json_t *fs = json_array();
	for (size_t i = 0; fs && i < n; i++) {
		if (f[i].group != i)
			continue; /* cited by its group's first row */
		const prb_policy *p = &ps->v[f[i].policy];
		json_t *entries = json_array();
		for (size_t j = i; entries && j != SIZE_MAX; j = f[j].next)
			if (json_array_append_new(entries,
			                          json_real((double)f[j].leaf))) {
				json_decref(entries);
				entries = NULL;
			}
		json_t *e = entries ? json_pack("{s:s, s:s, s:s, s:o, s:s?}",
		                                "policy", p->id, "title",
		                                p->title, "severity",
		                                prb_severity_name(p->severity),
		                                "entries", entries, "detail",
		                                f[i].detail) : NULL;
		if (json_array_append_new(fs, e)) {
			json_decref(fs);
			fs = NULL;
		}
	}
	json_t *root = fs ? json_pack("{s:o, s:o, s:o}", "checkpoint",
	                              prb_audit_checkpoint_json(cp), "policies",
	                              policies_json(ps), "findings", fs)
	                  : NULL;
	if (!root)
		return prb_err_set(err, PRB_ENOMEM, "findings.json", UINT64_MAX,
		                   "cannot build the findings (out of memory, "
		                   "or a detail that is not UTF-8)");
	int rc = prb_jcs_encode(root, out, len, err);
	json_decref(root);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "findings.json");
	return rc;
}
