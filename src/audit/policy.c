/*
 * Policy files (policy.h): the header, parameters and their overrides.
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

#include "probity/policy.h"
#include "probity/sha256.h"
#include "base/util.h"
#include "audit/audit_int.h"

#define POLICY_MAX (1u << 20) /* bytes of one policy file */

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

char *
prb_audit_dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
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
	free(p->text);
	memset(p, 0, sizeof *p);
}

int
prb_policy_err(prb_err *err, int code, const char *file, unsigned line,
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
		return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
		            "param: expected NAME = JSON value", NULL);
	while (isalnum((unsigned char)v[n]) || v[n] == '_')
		n++;
	const char *eq = v + n;
	while (*eq == ' ' || *eq == '\t')
		eq++;
	if (*eq != '=')
		return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
		            "param: expected NAME = JSON value", NULL);
	for (size_t i = 0; i < p->nparams; i++)
		if (strlen(p->params[i].name) == n &&
		    memcmp(p->params[i].name, v, n) == 0)
			return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
			            "param declared twice: ", p->params[i].name);
	json_error_t je;
	json_t *val = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
	                         JSON_DECODE_INT_AS_REAL, &je);
	if (!val)
		return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
		            "param default is not JSON: ", je.text);
	prb_policy_param *np = realloc(p->params,
	                               (p->nparams + 1) * sizeof *np);
	char *name = prb_audit_dupn(v, n);
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
		return prb_policy_err(err, PRB_EMALFORMED, p->file, line, "empty header: ",
		            keys[k]);
	char **slot = k == 0 ? &p->id : k == 1 ? &p->title : &p->rationale;
	if (k == 2) {
		if (p->severity >= 0)
			return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
			            "severity given twice", NULL);
		if (prb_severity_parse(v, &p->severity))
			return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
			            "severity must be info, low, medium, high or "
			            "critical, not ", v);
		return 0;
	}
	if (k == 0 && !isalnum((unsigned char)v[0]))
		return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
		            "id must start with a letter or digit: ", v);
	if (k == 0)
		for (const char *c = v; *c; c++)
			if (!isalnum((unsigned char)*c) && !strchr("._-", *c))
				return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
				            "id may hold only letters, digits and "
				            "._-: ", v);
	if (*slot && k != 3)
		return prb_policy_err(err, PRB_EMALFORMED, p->file, line,
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
	out->file = prb_audit_dupn(file, strlen(file));
	if (!out->file)
		return prb_err_set(err, PRB_ENOMEM, file, UINT64_MAX,
		                   "out of memory");
	prb_sha256(text, len, out->sha256);
	out->text = prb_audit_dupn(text, len);
	if (!out->text)
		return prb_err_set(err, PRB_ENOMEM, file, UINT64_MAX,
		                   "out of memory");
	out->text_len = len;
	if (memchr(text, 0, len) || !prb_utf8_valid((const uint8_t *)text, len))
		return prb_policy_err(err, PRB_EMALFORMED, file, 1,
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
			char *l = prb_audit_dupn(text + s + 2, e - s - 2);
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
		return prb_policy_err(err, PRB_EMALFORMED, file, 1,
		            "the header must give id, title and severity", NULL);
	if (off >= len) /* name the last line (the one past it, if empty) */
		return prb_policy_err(err, PRB_EMALFORMED, file,
		                      len && text[len - 1] != '\n' ? line - 1 : line,
		                      "no query after the header", NULL);
	out->sql = prb_audit_dupn(text + off, len - off);
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

/* A JSON value's kind as parameters are checked: a number is one kind,
 * integer or not; true and false are one. */
static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* The kind all elements of array a share; NULL when a is empty or mixed. */
static const char *
element_kind(const json_t *a)
{
	const char *k = NULL;
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *e = json_kind(json_array_get(a, i));
		if (k && strcmp(k, e) != 0)
			return NULL;
		k = e;
	}
	return k;
}

/* 0 if v may replace the default of pp (declared in p): of the default's
 * kind (a null default takes any), and for an array default whose
 * elements share a kind, elements of that kind too. Else PRB_EINVAL
 * naming the parameter and where its default is declared. */
static int
check_param_type(const prb_policy *p, const prb_policy_param *pp,
                 const json_t *v, const char *params_file, prb_err *err)
{
	const char *want = json_kind(pp->value), *got = json_kind(v);
	if (json_is_null(pp->value))
		return 0;
	if (strcmp(want, got) != 0)
		return prb_err_set(err, PRB_EINVAL, params_file, UINT64_MAX,
		                   "parameter \"%s\" is %s, but its default "
		                   "(%s:%u) is %s", pp->name, got, p->file,
		                   pp->line, want);
	const char *ew = json_is_array(v) ? element_kind(pp->value) : NULL;
	for (size_t i = 0; ew && i < json_array_size(v); i++) {
		const char *eg = json_kind(json_array_get(v, i));
		if (strcmp(ew, eg) != 0)
			return prb_err_set(err, PRB_EINVAL, params_file,
			                   UINT64_MAX, "parameter \"%s\": element "
			                   "%zu is %s, but each element of its "
			                   "default (%s:%u) is %s", pp->name, i,
			                   eg, p->file, pp->line, ew);
	}
	return 0;
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
				int rc = check_param_type(&ps->v[i], pp, v,
				                          params_file, err);
				if (rc)
					return rc;
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

