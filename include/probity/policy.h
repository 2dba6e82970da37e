/*
 * Audit policies: one file each, read, parsed and given parameter values.
 *
 * A policy is one file, NAME.sql: a header of leading SQL comment lines,
 *
 *   -- id: residency.outside-allowed-regions  (a letter or digit, then
 *                                             letters, digits, ._-)
 *   -- title: Resources placed outside the allowed regions
 *   -- severity: high            (info, low, medium, high or critical)
 *   -- rationale: free text; several rationale lines are joined by a space
 *   -- param: allowed_regions = ["eu-west-1", "westeurope"]
 *
 * (other comment lines are ignored), then one SELECT statement. Parameter
 * NAME is bound to every :NAME of the query: an array or object as its
 * JSON text (so a list is used as `IN (SELECT value FROM json_each(:x))`),
 * a string as its text, a number as an integer when it is one (else a
 * real), true/false as 1/0, null as NULL. The query must return a column
 * `leaf` (an integer: the cited log entry; one row is one finding) and may
 * return `detail` (text). How a query runs, and what it sees: audit.h.
 *
 * Errors in a policy name it as err->where = "FILE:LINE", the line of the
 * file where the fault is when SQLite says (sqlite3_error_offset), else
 * where the query starts.
 * No function here is thread-safe on shared arguments.
 */
#ifndef PROBITY_POLICY_H
#define PROBITY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

enum {
	PRB_SEV_INFO,
	PRB_SEV_LOW,
	PRB_SEV_MEDIUM,
	PRB_SEV_HIGH,
	PRB_SEV_CRITICAL,
};

/* "info", ..., "critical"; NULL for an out-of-range value. */
const char *prb_severity_name(int sev);
/* 0 and *sev, or PRB_EMALFORMED. */
int prb_severity_parse(const char *s, int *sev);

typedef struct {
	char *name;
	json_t *value; /* owned; the default until overridden */
	unsigned line; /* line of its header line */
} prb_policy_param;

typedef struct {
	char *file; /* the path it was read from */
	char *id, *title, *rationale;
	int severity;
	prb_policy_param *params;
	size_t nparams;
	char *sql;         /* the query: the file after the header */
	unsigned sql_line; /* line of the file where sql starts */
	uint8_t sha256[32]; /* of the whole file */
	char *text;         /* the whole file, as read (NUL-terminated) */
	size_t text_len;
} prb_policy;

typedef struct {
	prb_policy *v; /* sorted by id; ids are unique */
	size_t n;
} prb_policy_set;

/* Parses one policy file's text (file is the name used in errors).
 * *out is released with prb_policy_clear (also on failure). */
int prb_policy_parse(const char *file, const char *text, size_t len,
                     prb_policy *out, prb_err *err);
void prb_policy_clear(prb_policy *p);

/* Loads `path`: a directory (every *.sql in it, not recursing) or one
 * .sql file. No policy, or two with the same id: PRB_EINVAL naming them.
 * Release with prb_policies_free (accepts a zeroed set). */
int prb_policies_load(const char *path, prb_policy_set *out, prb_err *err);
void prb_policies_free(prb_policy_set *ps);

/* Overrides parameter defaults with the members of the JSON object
 * `params` (read from params_file, named in errors): every member must be
 * a parameter some policy declares (else PRB_EINVAL naming it) of its
 * default's JSON type (a number, integer or not; a boolean; a string; an
 * array, whose elements are of the kind the default's share, if they
 * share one; an object; a null default takes anything), else PRB_EINVAL
 * naming the parameter and the file and line of its default; and sets it
 * in every policy that declares it. On an error, members before the
 * faulty one may already be set. */
int prb_policies_override(prb_policy_set *ps, const json_t *params,
                          const char *params_file, prb_err *err);

#endif
