/*
 * Provable audit (audit.h): policy files, running them over the index,
 * findings.json, and writing and verifying evidence bundles.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "probity/audit.h"
#include "probity/jcs.h"
#include "probity/proof.h"
#include "util.h"

#define POLICY_MAX (1u << 20)     /* bytes of one policy file */
#define PARAMS_MAX (1u << 24)     /* bytes of findings.json we read */
#define ENTRY_FILE_MAX (1u << 17) /* an entry is at most 65,535 bytes */
#define PROOF_FILE_MAX (1u << 22)

static const char *const sev_names[] = {"info", "low", "medium", "high",
                                        "critical"};

const char *
prb_severity_name(int sev)
{
	if (sev < PRB_SEV_INFO || sev > PRB_SEV_CRITICAL)
		return NULL;
	return sev_names[sev];
}

int
prb_severity_parse(const char *s, int *sev)
{
	for (int i = PRB_SEV_INFO; i <= PRB_SEV_CRITICAL; i++)
		if (strcmp(s, sev_names[i]) == 0) {
			*sev = i;
			return 0;
		}
	return PRB_EMALFORMED;
}

static char *
dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static void
hex32(const uint8_t b[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ---- policy files ------------------------------------------------------ */

void
prb_policy_clear(prb_policy *p)
{
	if (!p)
		return;
	free(p->file);
	free(p->id);
	free(p->title);
	free(p->rationale);
	for (size_t i = 0; i < p->nparams; i++) {
		free(p->params[i].name);
		json_decref(p->params[i].value);
	}
	free(p->params);
	free(p->sql);
	memset(p, 0, sizeof *p);
}

static int
perr(prb_err *err, int code, const char *file, unsigned line,
     const char *msg, const char *arg)
{
	char where[sizeof err->where];
	snprintf(where, sizeof where, "%s:%u", file, line);
	return prb_err_set(err, code, where, UINT64_MAX, "%s%s", msg,
	                   arg ? arg : "");
}

/* "-- param: NAME = JSON" (v is what follows "param:"). */
static int
parse_param(prb_policy *p, const char *v, unsigned line, prb_err *err)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = 0;
	if (!(isalpha((unsigned char)v[0]) || v[0] == '_'))
		return perr(err, PRB_EMALFORMED, p->file, line,
		            "param: expected NAME = JSON value", NULL);
	while (isalnum((unsigned char)v[n]) || v[n] == '_')
		n++;
	const char *eq = v + n;
	while (*eq == ' ' || *eq == '\t')
		eq++;
	if (*eq != '=')
		return perr(err, PRB_EMALFORMED, p->file, line,
		            "param: expected NAME = JSON value", NULL);
	for (size_t i = 0; i < p->nparams; i++)
		if (strlen(p->params[i].name) == n &&
		    memcmp(p->params[i].name, v, n) == 0)
			return perr(err, PRB_EMALFORMED, p->file, line,
			            "param declared twice: ", p->params[i].name);
	json_error_t je;
	json_t *val = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
	                         JSON_DECODE_INT_AS_REAL, &je);
	if (!val)
		return perr(err, PRB_EMALFORMED, p->file, line,
		            "param default is not JSON: ", je.text);
	prb_policy_param *np = realloc(p->params,
	                               (p->nparams + 1) * sizeof *np);
	char *name = dupn(v, n);
	if (!np || !name) {
		free(name);
		json_decref(val);
		if (np)
			p->params = np;
		return prb_err_set(err, PRB_ENOMEM, p->file, UINT64_MAX,
		                   "out of memory");
	}
	p->params = np;
	p->params[p->nparams++] = (prb_policy_param){name, val, line};
	return 0;
}

/* One header line "-- key: value" (s after "--", NUL-terminated). Lines
 * whose first word is not a known key are comments. */
static int
parse_header_line(prb_policy *p, char *s, unsigned line, prb_err *err)
{
	static const char *const keys[] = {"id", "title", "severity",
	                                   "rationale", "param"};
	while (*s == ' ' || *s == '\t')
		s++;
	size_t k;
	for (k = 0; k < 5; k++) {
		size_t kl = strlen(keys[k]);
		if (strncmp(s, keys[k], kl) == 0 && s[kl] == ':')
			break;
	}
	if (k == 5)
		return 0;
	char *v = s + strlen(keys[k]) + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vl = strlen(v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
		v[--vl] = 0;
	if (k == 4)
		return parse_param(p, v, line, err);
	if (vl == 0)
		return perr(err, PRB_EMALFORMED, p->file, line, "empty header: ",
		            keys[k]);
	char **slot = k == 0 ? &p->id : k == 1 ? &p->title : &p->rationale;
	if (k == 2) {
		if (p->severity >= 0)
			return perr(err, PRB_EMALFORMED, p->file, line,
			            "severity given twice", NULL);
		if (prb_severity_parse(v, &p->severity))
			return perr(err, PRB_EMALFORMED, p->file, line,
			            "severity must be info, low, medium, high or "
			            "critical, not ", v);
		return 0;
	}
	if (k == 0)
		for (const char *c = v; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
				return perr(err, PRB_EMALFORMED, p->file, line,
				            "id may hold only letters, digits and "
				            "._-: ", v);
	if (*slot && k != 3)
		return perr(err, PRB_EMALFORMED, p->file, line,
		            "header given twice: ", keys[k]);
	size_t ol = *slot ? strlen(*slot) : 0;
	char *nv = realloc(*slot, ol + vl + 2);
	if (!nv)
		return prb_err_set(err, PRB_ENOMEM, p->file, UINT64_MAX,
		                   "out of memory");
	if (ol)
		nv[ol++] = ' ';
	memcpy(nv + ol, v, vl + 1);
	*slot = nv;
	return 0;
}

int
prb_policy_parse(const char *file, const char *text, size_t len,
                 prb_policy *out, prb_err *err)
{
	memset(out, 0, sizeof *out);
	out->severity = -1;
	out->file = dupn(file, strlen(file));
	if (!out->file)
		return prb_err_set(err, PRB_ENOMEM, file, UINT64_MAX,
		                   "out of memory");
	EVP_Digest(text, len, out->sha256, NULL, EVP_sha256(), NULL);
	if (memchr(text, 0, len) || !prb_utf8_valid((const uint8_t *)text, len))
		return perr(err, PRB_EMALFORMED, file, 1,
		            "not UTF-8 text", NULL);
	size_t off = 0;
	unsigned line = 1;
	int rc = 0;
	while (off < len) {
		size_t e = off;
		while (e < len && text[e] != '\n')
			e++;
		size_t s = off;
		while (s < e && (text[s] == ' ' || text[s] == '\t' ||
		                 text[s] == '\r'))
			s++;
		if (s < e && !(e - s >= 2 && text[s] == '-' && text[s + 1] == '-'))
			break; /* the query starts here */
		if (s < e) {
			char *l = dupn(text + s + 2, e - s - 2);
			if (!l)
				return prb_err_set(err, PRB_ENOMEM, file,
				                   UINT64_MAX, "out of memory");
			rc = parse_header_line(out, l, line, err);
			free(l);
			if (rc)
				return rc;
		}
		off = e < len ? e + 1 : e;
		line++;
	}
	out->sql_line = line;
	if (!out->id || !out->title || out->severity < 0)
		return perr(err, PRB_EMALFORMED, file, 1,
		            "the header must give id, title and severity", NULL);
	if (off >= len)
		return perr(err, PRB_EMALFORMED, file, line,
		            "no query after the header", NULL);
	out->sql = dupn(text + off, len - off);
	if (!out->sql)
		return prb_err_set(err, PRB_ENOMEM, file, UINT64_MAX,
		                   "out of memory");
	return 0;
}

void
prb_policies_free(prb_policy_set *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		prb_policy_clear(&ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

static int
load_one(prb_policy_set *ps, const char *path, prb_err *err)
{
	uint8_t *data;
	size_t len;
	int rc = prb_read_file(path, POLICY_MAX, &data, &len, err);
	if (rc)
		return rc;
	prb_policy *nv = realloc(ps->v, (ps->n + 1) * sizeof *nv);
	if (!nv) {
		free(data);
		return prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
		                   "out of memory");
	}
	ps->v = nv;
	rc = prb_policy_parse(path, (const char *)data, len, &ps->v[ps->n], err);
	free(data);
	if (rc)
		prb_policy_clear(&ps->v[ps->n]);
	else
		ps->n++;
	return rc;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_policy(const void *a, const void *b)
{
	return strcmp(((const prb_policy *)a)->id, ((const prb_policy *)b)->id);
}

static int
is_sql_name(const char *n)
{
	size_t l = strlen(n);
	return l > 4 && strcmp(n + l - 4, ".sql") == 0 && n[0] != '.';
}

int
prb_policies_load(const char *path, prb_policy_set *out, prb_err *err)
{
	memset(out, 0, sizeof *out);
	struct stat sb;
	if (stat(path, &sb) != 0)
		return prb_err_set(err, PRB_ENOTFOUND, path, UINT64_MAX,
		                   "no such policy file or directory");
	int rc = 0;
	if (!S_ISDIR(sb.st_mode)) {
		rc = load_one(out, path, err);
	} else {
		DIR *d = opendir(path);
		if (!d)
			return prb_err_set(err, PRB_EIO, path, UINT64_MAX,
			                   "cannot read the directory");
		char **names = NULL;
		size_t nn = 0;
		struct dirent *de;
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (!is_sql_name(de->d_name))
				continue;
			char **g = realloc(names, (nn + 1) * sizeof *g);
			char *s = malloc(strlen(path) + strlen(de->d_name) + 2);
			if (!g || !s) {
				free(s);
				if (g)
					names = g;
				rc = prb_err_set(err, PRB_ENOMEM, path,
				                 UINT64_MAX, "out of memory");
				break;
			}
			names = g;
			sprintf(s, "%s/%s", path, de->d_name);
			names[nn++] = s;
		}
		closedir(d);
		if (names)
			qsort(names, nn, sizeof *names, cmp_name);
		for (size_t i = 0; i < nn; i++) {
			if (rc == 0)
				rc = load_one(out, names[i], err);
			free(names[i]);
		}
		free(names);
	}
	if (rc == 0 && out->n == 0)
		rc = prb_err_set(err, PRB_EINVAL, path, UINT64_MAX,
		                 "no policy (*.sql) here");
	if (rc == 0) {
		qsort(out->v, out->n, sizeof *out->v, cmp_policy);
		for (size_t i = 1; i < out->n; i++)
			if (strcmp(out->v[i - 1].id, out->v[i].id) == 0) {
				rc = prb_err_set(err, PRB_EINVAL, out->v[i].file,
				                 UINT64_MAX, "policy id %s is "
				                 "also the id of %s", out->v[i].id,
				                 out->v[i - 1].file);
				break;
			}
	}
	if (rc)
		prb_policies_free(out);
	return rc;
}

int
prb_policies_override(prb_policy_set *ps, const json_t *params,
                      const char *params_file, prb_err *err)
{
	if (!json_is_object(params))
		return prb_err_set(err, PRB_EMALFORMED, params_file, UINT64_MAX,
		                   "parameters must be a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)params, k, v) {
		int found = 0;
		for (size_t i = 0; i < ps->n; i++)
			for (size_t j = 0; j < ps->v[i].nparams; j++) {
				prb_policy_param *pp = &ps->v[i].params[j];
				if (strcmp(pp->name, k) != 0)
					continue;
				json_decref(pp->value);
				pp->value = json_incref(v);
				found = 1;
			}
		if (!found)
			return prb_err_set(err, PRB_EINVAL, params_file,
			                   UINT64_MAX, "unknown parameter \"%s\": "
			                   "no policy declares it", k);
	}
	return 0;
}

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
	return perr(err, PRB_EINVAL, p->file, (unsigned)line, "SQL error: ",
	            sqlite3_errmsg(db));
}

static int
authorize(void *ctx, int op, const char *a, const char *b, const char *c,
          const char *d)
{
	(void)ctx, (void)b, (void)c, (void)d;
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
			return perr(err, PRB_EINVAL, p->file, line, "parameters "
			            "must be named :NAME, not ", name ? name : "?");
		const prb_policy_param *pp = NULL;
		for (size_t j = 0; j < p->nparams; j++)
			if (strcmp(p->params[j].name, name + 1) == 0)
				pp = &p->params[j];
		if (!pp)
			return perr(err, PRB_EINVAL, p->file, line, "missing "
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
	if (detail && !(d = dupn(detail, strlen(detail))))
		return PRB_ENOMEM;
	fv->v[fv->n++] = (prb_finding){policy, leaf, d};
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
		return perr(err, PRB_EINVAL, p->file, p->sql_line,
		            "no query after the header", NULL);
	sqlite3_stmt *more = NULL;
	int rc = sqlite3_prepare_v2(db, tail, -1, &more, NULL);
	if (rc != SQLITE_OK || more) {
		sqlite3_finalize(more);
		sqlite3_finalize(st);
		while (isspace((unsigned char)*tail))
			tail++;
		return perr(err, PRB_EINVAL, p->file,
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
		return perr(err, PRB_EINVAL, p->file, p->sql_line,
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
			rc = perr(err, PRB_EINVAL, p->file, p->sql_line, m, NULL);
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
	hex32(root->b, want);
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
	if (stat(path, &sb) != 0)
		return prb_err_set(err, PRB_ENOTFOUND, path, UINT64_MAX,
		                   "no index: run probity ingest or probity "
		                   "reindex");
	if (sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
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
	for (size_t i = 0; rc == 0 && i < ps->n; i++)
		rc = run_policy(db, &ps->v[i], i, size, &fv, err);
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
	if (rc) {
		prb_findings_free(fv.v, fv.n);
		return rc;
	}
	*out = fv.v;
	*n = fv.n;
	return 0;
}

/* ---- findings.json ----------------------------------------------------- */

static json_t *
checkpoint_json(const prb_checkpoint *cp)
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
		hex32(p->sha256, hex);
		json_t *params = json_object();
		for (size_t j = 0; params && j < p->nparams; j++)
			if (json_object_set(params, p->params[j].name,
			                    p->params[j].value)) {
				json_decref(params);
				params = NULL;
			}
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:o}", "id", p->id, "title", p->title, "severity",
		    sev_names[p->severity], "sha256", hex, "params", params))) {
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
		const prb_policy *p = &ps->v[f[i].policy];
		json_t *e = json_pack("{s:s, s:s, s:s, s:[f], s:s?}", "policy",
		                      p->id, "title", p->title, "severity",
		                      sev_names[p->severity], "entries",
		                      (double)f[i].leaf, "detail", f[i].detail);
		if (json_array_append_new(fs, e)) {
			json_decref(fs);
			fs = NULL;
		}
	}
	json_t *root = fs ? json_pack("{s:o, s:o, s:o}", "checkpoint",
	                              checkpoint_json(cp), "policies",
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

/* ---- writing a bundle -------------------------------------------------- */

static int
write_new(const char *dir, const char *name, const void *data, size_t len,
          prb_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX,
		                   "cannot create: %s", strerror(errno));
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			return prb_err_set(err, e == ENOSPC ? PRB_ENOSPC : PRB_EIO,
			                   path, UINT64_MAX, "write: %s",
			                   strerror(e));
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX, "fsync: %s",
		                   strerror(errno));
	return 0;
}

static int
sync_dir(const char *path, prb_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		if (fd >= 0)
			close(fd);
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX,
		                   "fsync of the directory failed");
	}
	close(fd);
	return 0;
}

/* dir must be new or an empty directory; creates it and its subdirs. */
static int
make_bundle_dir(const char *dir, prb_err *err)
{
	if (mkdir(dir, 0755) != 0) {
		DIR *d = errno == EEXIST ? opendir(dir) : NULL;
		if (!d)
			return prb_err_set(err, PRB_EIO, dir, UINT64_MAX,
			                   "cannot create the bundle directory");
		struct dirent *de;
		int empty = 1;
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		closedir(d);
		if (!empty)
			return prb_err_set(err, PRB_EEXIST, dir, UINT64_MAX,
			                   "exists and is not empty");
	}
	char sub[PATH_MAX];
	const char *subs[] = {"entries", "proofs"};
	for (int i = 0; i < 2; i++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
		if (mkdir(sub, 0755) != 0)
			return prb_err_set(err, PRB_EIO, sub, UINT64_MAX,
			                   "cannot create: %s", strerror(errno));
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Writes entries/L.json and proofs/L.tlog-proof for one leaf. */
static int
write_cited(const char *dir, prb_log *log, uint64_t leaf, const char *cp,
            size_t cplen, prb_err *err)
{
	uint8_t *entry = NULL;
	size_t elen, n, plen;
	prb_hash path[PRB_MAX_PROOF];
	char name[64], *proof = NULL;
	int rc = prb_log_read_entry(log, leaf, &entry, &elen, err);
	if (rc == 0)
		rc = prb_log_prove_inclusion(log, leaf, prb_log_size(log), path,
		                             &n, err);
	if (rc == 0) {
		snprintf(name, sizeof name, "entries/%llu.json",
		         (unsigned long long)leaf);
		rc = write_new(dir, name, entry, elen, err);
	}
	if (rc == 0 && prb_tlog_proof_format(leaf, path, n, NULL, 0, cp, cplen,
	                                     &proof, &plen))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc == 0) {
		snprintf(name, sizeof name, "proofs/%llu.tlog-proof",
		         (unsigned long long)leaf);
		rc = write_new(dir, name, proof, plen, err);
	}
	free(entry);
	free(proof);
	return rc;
}

int
prb_evidence_write(const char *dir, prb_log *log, const prb_policy_set *ps,
                   const prb_finding *f, size_t n, prb_err *err)
{
	size_t cplen, jlen, nl = 0;
	const char *cp = prb_log_checkpoint(log, &cplen);
	prb_checkpoint c;
	char *json = NULL;
	uint64_t *leaves = NULL;
	prb_note *note = NULL;
	int rc = prb_note_parse((const uint8_t *)cp, cplen, &note, err);
	if (rc == 0)
		rc = prb_checkpoint_parse(note->text, note->text_len, &c, err);
	prb_note_free(note);
	if (rc == 0)
		rc = prb_audit_findings_json(ps, &c, f, n, &json, &jlen, err);
	if (rc == 0 && n && !(leaves = malloc(n * sizeof *leaves)))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc == 0)
		rc = make_bundle_dir(dir, err);
	if (rc == 0)
		rc = write_new(dir, "checkpoint", cp, cplen, err);
	if (rc == 0)
		rc = write_new(dir, "findings.json", json, jlen, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		leaves[i] = f[i].leaf;
	if (rc == 0 && n)
		qsort(leaves, n, sizeof *leaves, cmp_u64);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (i > 0 && leaves[i] == leaves[i - 1])
			continue;
		rc = write_cited(dir, log, leaves[i], cp, cplen, err);
		nl++;
	}
	char sub[PATH_MAX];
	snprintf(sub, sizeof sub, "%s/entries", dir);
	if (rc == 0)
		rc = sync_dir(sub, err);
	snprintf(sub, sizeof sub, "%s/proofs", dir);
	if (rc == 0)
		rc = sync_dir(sub, err);
	if (rc == 0)
		rc = sync_dir(dir, err);
	free(json);
	free(leaves);
	return rc;
}

/* ---- verifying a bundle ------------------------------------------------ */

static int
read_in(const char *dir, const char *name, size_t limit, uint8_t **data,
        size_t *len, prb_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int rc = prb_read_file(path, limit, data, len, err);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "%s", name);
	return rc;
}

static int
verr(prb_err *err, int code, const char *name, const char *fmt,
     const char *a, unsigned long long u)
{
	return prb_err_set(err, code, name, UINT64_MAX, fmt, a, u);
}

/* A JSON number that is an integer in [0, max). */
static int
leaf_of(const json_t *v, uint64_t max, uint64_t *out)
{
	if (!json_is_number(v))
		return -1;
	double d = json_number_value(v);
	if (!(d >= 0 && d < (double)max && d == (double)(uint64_t)d))
		return -1;
	*out = (uint64_t)d;
	return 0;
}

/* Checks the structure of findings.json against checkpoint c, fills the
 * sorted unique cited leaves (*leaves, malloc'd) and the summary. */
static int
check_findings(const json_t *root, const prb_checkpoint *c, uint64_t **leaves,
               size_t *nl, prb_evidence_summary *sum, prb_err *err)
{
	const char *F = "findings.json";
	json_t *want = checkpoint_json(c);
	int same = want && json_equal(want, json_object_get(root, "checkpoint"));
	json_decref(want);
	if (!same)
		return verr(err, PRB_EPROOF, F, "its checkpoint is not the "
		            "bundle's checkpoint%s", "", 0);
	const json_t *fs = json_object_get(root, "findings");
	const json_t *pols = json_object_get(root, "policies");
	if (!json_is_array(fs) || !json_is_array(pols) ||
	    json_object_size(root) != 3)
		return verr(err, PRB_EMALFORMED, F, "expected exactly the "
		            "members checkpoint, policies, findings%s", "", 0);
	size_t cap = 0, i;
	json_t *e;
	*leaves = NULL;
	*nl = 0;
	const char *prev_id = "";
	json_array_foreach(fs, i, e) {
		const char *id = json_string_value(json_object_get(e, "policy"));
		const char *sev = json_string_value(json_object_get(e, "severity"));
		const json_t *ents = json_object_get(e, "entries");
		const json_t *det = json_object_get(e, "detail");
		int s;
		if (!id || !json_is_string(json_object_get(e, "title")) || !sev ||
		    prb_severity_parse(sev, &s) || !json_is_array(ents) ||
		    json_array_size(ents) == 0 ||
		    !(json_is_string(det) || json_is_null(det)))
			return verr(err, PRB_EMALFORMED, F, "finding %s%llu is "
			            "malformed", "", i);
		if (strcmp(id, prev_id) < 0)
			return verr(err, PRB_EMALFORMED, F, "finding %s%llu is "
			            "out of order", "", i);
		prev_id = id;
		sum->by_severity[s]++;
		size_t j;
		json_t *l;
		json_array_foreach(ents, j, l) {
			uint64_t leaf;
			if (leaf_of(l, c->size, &leaf))
				return verr(err, PRB_EMALFORMED, F, "finding "
				            "%s%llu cites an entry that is not a "
				            "leaf of the checkpoint", "", i);
			if (*nl == cap) {
				cap = cap ? 2 * cap : 64;
				uint64_t *nv = realloc(*leaves, cap * sizeof *nv);
				if (!nv)
					return PRB_ENOMEM;
				*leaves = nv;
			}
			(*leaves)[(*nl)++] = leaf;
		}
	}
	sum->findings = json_array_size(fs);
	if (*nl)
		qsort(*leaves, *nl, sizeof **leaves, cmp_u64);
	size_t k = 0;
	for (i = 0; i < *nl; i++)
		if (k == 0 || (*leaves)[k - 1] != (*leaves)[i])
			(*leaves)[k++] = (*leaves)[i];
	*nl = k;
	return 0;
}

static int
has_leaf(const uint64_t *leaves, size_t n, uint64_t leaf)
{
	return bsearch(&leaf, leaves, n, sizeof leaf, cmp_u64) != NULL;
}

/* Every file in dir/sub is SUB/<leaf><suffix> of a cited leaf. */
static int
check_listing(const char *dir, const char *sub, const char *suffix,
              const uint64_t *leaves, size_t nl, prb_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	DIR *d = opendir(path);
	if (!d)
		return verr(err, PRB_ENOTFOUND, sub, "missing directory%s", "",
		            0);
	struct dirent *de;
	int rc = 0;
	size_t sl = strlen(suffix);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t l = strlen(n);
		uint64_t leaf;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		char name[PATH_MAX];
		snprintf(name, sizeof name, "%s/%s", sub, n);
		if (l <= sl || strcmp(n + l - sl, suffix) != 0 ||
		    prb_parse_u64(n, l - sl, UINT64_MAX, &leaf) ||
		    !has_leaf(leaves, nl, leaf))
			rc = verr(err, PRB_EPROOF, name, "unexpected file: no "
			          "finding in findings.json cites it%s", "", 0);
	}
	closedir(d);
	return rc;
}

/* The entry and proof of one cited leaf. */
static int
check_cited(const char *dir, uint64_t leaf, const uint8_t *cp, size_t cplen,
            const prb_verifier *vs, size_t nvs, prb_err *err)
{
	char en[64], pn[64];
	uint8_t *entry = NULL, *ptext = NULL;
	size_t elen, plen;
	prb_tlog_proof *p = NULL;
	snprintf(en, sizeof en, "entries/%llu.json", (unsigned long long)leaf);
	snprintf(pn, sizeof pn, "proofs/%llu.tlog-proof",
	         (unsigned long long)leaf);
	int rc = read_in(dir, en, ENTRY_FILE_MAX, &entry, &elen, err);
	if (rc == PRB_ENOTFOUND)
		rc = verr(err, rc, en, "missing: findings.json cites leaf "
		          "%s%llu", "", leaf);
	if (rc == 0 && (rc = read_in(dir, pn, PROOF_FILE_MAX, &ptext, &plen,
	                             err)) == PRB_ENOTFOUND)
		rc = verr(err, rc, pn, "missing: findings.json cites leaf "
		          "%s%llu", "", leaf);
	if (rc == 0 && (rc = prb_tlog_proof_parse(ptext, plen, &p, err)) != 0)
		snprintf(err->where, sizeof err->where, "%s", pn);
	if (rc == 0 && p->index != leaf)
		rc = verr(err, PRB_EPROOF, pn, "proves index %s%llu, not the "
		          "index its name says", "",
		          (unsigned long long)p->index);
	if (rc == 0 && (p->checkpoint_len != cplen ||
	                memcmp(p->checkpoint, cp, cplen) != 0))
		rc = verr(err, PRB_EPROOF, pn, "its checkpoint is not the "
		          "bundle's checkpoint%s", "", 0);
	if (rc == 0 && prb_tlog_proof_verify(p, entry, elen, vs, nvs, NULL,
	                                     err) != 0) {
		char m[sizeof err->msg];
		snprintf(m, sizeof m, "%s", err->msg);
		rc = prb_err_set(err, PRB_EPROOF, en, UINT64_MAX, "does not "
		                 "verify with %s (one of the two was altered): "
		                 "%s", pn, m);
	}
	prb_tlog_proof_free(p);
	free(entry);
	free(ptext);
	return rc;
}

static int
check_top_level(const char *dir, prb_err *err)
{
	static const char *const names[] = {"checkpoint", "findings.json",
	                                    "entries", "proofs"};
	DIR *d = opendir(dir);
	if (!d)
		return verr(err, PRB_ENOTFOUND, NULL, "%s is not a directory",
		            dir, 0);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		int known = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (int i = 0; i < 4; i++)
			known |= strcmp(de->d_name, names[i]) == 0;
		if (!known)
			rc = verr(err, PRB_EPROOF, de->d_name, "unexpected file "
			          "in the bundle%s", "", 0);
	}
	closedir(d);
	return rc;
}

int
prb_evidence_verify(const char *dir, const prb_verifier *vs, size_t nvs,
                    prb_evidence_summary *sum, prb_err *err)
{
	prb_evidence_summary s;
	uint8_t *cp = NULL, *fj = NULL;
	size_t cplen, fjlen, nl = 0, clen = 0;
	uint64_t *leaves = NULL;
	json_t *root = NULL;
	char *canon = NULL;
	memset(&s, 0, sizeof s);
	int rc = check_top_level(dir, err);
	if (rc == 0)
		rc = read_in(dir, "checkpoint", PRB_NOTE_MAX_SIZE, &cp, &cplen,
		             err);
	if (rc == 0 && (rc = prb_checkpoint_open(cp, cplen, vs, nvs, &s.cp,
	                                         NULL, err)) != 0)
		snprintf(err->where, sizeof err->where, "checkpoint");
	if (rc == 0)
		rc = read_in(dir, "findings.json", PARAMS_MAX, &fj, &fjlen, err);
	if (rc == 0) {
		json_error_t je;
		root = json_loadb((const char *)fj, fjlen, JSON_REJECT_DUPLICATES |
		                  JSON_DECODE_INT_AS_REAL, &je);
		if (!root)
			rc = prb_err_set(err, PRB_EMALFORMED, "findings.json",
			                 (uint64_t)je.position, "not JSON: %s",
			                 je.text);
	}
	if (rc == 0 && (prb_jcs_encode(root, &canon, &clen, NULL) != 0 ||
	                clen != fjlen || memcmp(canon, fj, clen) != 0))
		rc = verr(err, PRB_EMALFORMED, "findings.json", "not in its "
		          "RFC 8785 form (altered after the audit?)%s", "", 0);
	if (rc == 0)
		rc = check_findings(root, &s.cp, &leaves, &nl, &s, err);
	if (rc == 0)
		rc = check_listing(dir, "entries", ".json", leaves, nl, err);
	if (rc == 0)
		rc = check_listing(dir, "proofs", ".tlog-proof", leaves, nl, err);
	for (size_t i = 0; rc == 0 && i < nl; i++)
		rc = check_cited(dir, leaves[i], cp, cplen, vs, nvs, err);
	s.entries = nl;
	if (rc == 0 && sum)
		*sum = s;
	json_decref(root);
	free(canon);
	free(leaves);
	free(cp);
	free(fj);
	return rc;
}
