/*
 * Policy files (include/probity/audit.h: prb_policy_parse,
 * prb_policies_load, prb_policies_override): the header keys, parameters
 * and their JSON defaults, where the query starts, and every refusal named
 * by file and line. Also every policy shipped in policies/ parses with a
 * rationale (the pack's own contract: a reviewer reads why it matters).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "probity/policy.h"
#include "t.h"

static int
parse(const char *text, prb_policy *p, prb_err *err)
{
	prb_err_clear(err);
	return prb_policy_parse("p.sql", text, strlen(text), p, err);
}

static void
parses(void)
{
	static const char text[] =
		"-- id: residency.outside\n"
		"-- title:  Outside the allowed regions  \n"
		"-- severity: high\n"
		"--\n"
		"-- rationale: first part,\n"
		"-- a comment line that is not a header\n"
		"-- rationale: second part.\n"
		"-- param: regions = [\"eu-west-1\", \"global\"]\n"
		"-- param: limit_2 = 10\n"
		"\n"
		"--param: flag = true\n"
		"SELECT leaf FROM events\n"
		"WHERE 1 -- a trailing comment\n";
	prb_policy p;
	prb_err err;
	int rc = parse(text, &p, &err);
	CHECK(rc == 0, "parse: %d %s %s", rc, err.where, err.msg);
	if (rc != 0) {
		prb_policy_clear(&p);
		return;
	}
	CHECK(strcmp(p.file, "p.sql") == 0, "file %s", p.file);
	CHECK(strcmp(p.id, "residency.outside") == 0, "id %s", p.id);
	CHECK(strcmp(p.title, "Outside the allowed regions") == 0,
	      "title trimmed: '%s'", p.title);
	CHECK(p.severity == PRB_SEV_HIGH, "severity %d", p.severity);
	CHECK(strcmp(p.rationale, "first part, second part.") == 0,
	      "rationale lines joined: '%s'", p.rationale);
	CHECK(p.nparams == 3, "nparams %zu", p.nparams);
	if (p.nparams == 3) {
		CHECK(strcmp(p.params[0].name, "regions") == 0 &&
		      json_is_array(p.params[0].value) &&
		      json_array_size(p.params[0].value) == 2 &&
		      p.params[0].line == 8, "regions: line %u",
		      p.params[0].line);
		CHECK(strcmp(p.params[1].name, "limit_2") == 0 &&
		      json_is_number(p.params[1].value) &&
		      json_number_value(p.params[1].value) == 10,
		      "limit_2");
		CHECK(strcmp(p.params[2].name, "flag") == 0 &&
		      json_is_true(p.params[2].value) &&
		      p.params[2].line == 11, "flag: line %u",
		      p.params[2].line);
	}
	CHECK(p.sql_line == 12, "the query starts on line 12, not %u",
	      p.sql_line);
	CHECK(strncmp(p.sql, "SELECT leaf FROM events\n", 24) == 0,
	      "sql: %.30s", p.sql);
	uint8_t want[32];
	SHA256((const uint8_t *)text, strlen(text), want);
	CHECK(memcmp(p.sha256, want, 32) == 0, "sha256 of the whole file");
	CHECK(p.text_len == strlen(text) && memcmp(p.text, text, p.text_len) == 0,
	      "the whole file kept");
	prb_policy_clear(&p);
	for (int s = PRB_SEV_INFO; s <= PRB_SEV_CRITICAL; s++) {
		int back = -1;
		CHECK(prb_severity_parse(prb_severity_name(s), &back) == 0 &&
		      back == s, "severity %d round trip", s);
	}
	CHECK(prb_severity_name(PRB_SEV_CRITICAL + 1) == NULL &&
	      prb_severity_name(-1) == NULL, "severity out of range");
	int sev;
	CHECK(prb_severity_parse("High", &sev) != 0, "severity is lower case");
}

/* Each refusal: the text, the line the error must name, a phrase of its
 * message. */
static void
refuses(void)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} bad[] = {
		{"-- title: t\n-- severity: low\nSELECT leaf FROM events\n", 1,
		 "must give id, title and severity"},
		{"-- id: a\n-- severity: low\nSELECT 1 AS leaf\n", 1,
		 "must give id, title and severity"},
		{"-- id: a\n-- title: t\nSELECT 1 AS leaf\n", 1,
		 "must give id, title and severity"},
		{"-- id: a\n-- title: t\n-- severity: severe\nSELECT 1\n", 3,
		 "severity must be"},
		{"-- id: a\n-- title: t\n-- severity: low\n-- severity: low\n"
		 "SELECT 1\n", 4, "severity given twice"},
		{"-- id: a b\n-- title: t\n-- severity: low\nSELECT 1\n", 1,
		 "id may hold only"},
		{"-- id: ..\n-- title: t\n-- severity: low\nSELECT 1\n", 1,
		 "id must start with a letter or digit"},
		{"-- id: .hidden\n-- title: t\n-- severity: low\nSELECT 1\n", 1,
		 "id must start with a letter or digit"},
		{"-- id: a\n-- id: b\n-- title: t\n-- severity: low\nSELECT 1\n",
		 2, "header given twice: id"},
		{"-- id: a\n-- title:\n-- severity: low\nSELECT 1\n", 2,
		 "empty header: title"},
		{"-- id: a\n-- title: t\n-- severity: low\n", 4,
		 "no query after the header"},
		{"-- id: a\n-- title: t\n-- severity: low", 3,
		 "no query after the header"},
		{"-- id: a\n-- title: t\n-- severity: low\n-- param: x = [1,\n"
		 "SELECT 1\n", 4, "param default is not JSON"},
		{"-- id: a\n-- title: t\n-- severity: low\n-- param: x = 1\n"
		 "-- param: x = 2\nSELECT 1\n", 5, "param declared twice: x"},
		{"-- id: a\n-- title: t\n-- severity: low\n-- param: 1x = 1\n"
		 "SELECT 1\n", 4, "expected NAME = JSON value"},
		{"-- id: a\n-- title: t\n-- severity: low\n-- param: x 1\n"
		 "SELECT 1\n", 4, "expected NAME = JSON value"},
		{"-- id: a\n-- title: t \xff\n-- severity: low\nSELECT 1\n", 1,
		 "not UTF-8"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		prb_policy p;
		prb_err err;
		char where[64];
		int rc = parse(bad[i].text, &p, &err);
		snprintf(where, sizeof where, "p.sql:%u", bad[i].line);
		CHECK(rc == PRB_EMALFORMED, "case %zu: rc %d", i, rc);
		CHECK(strcmp(err.where, where) == 0, "case %zu: where %s, want %s",
		      i, err.where, where);
		CHECK(strstr(err.msg, bad[i].msg) != NULL,
		      "case %zu: message '%s' lacks '%s'", i, err.msg,
		      bad[i].msg);
		prb_policy_clear(&p);
	}
	/* A NUL byte inside the text. */
	static const char nul[] = "-- id: a\n-- title: t\0x\n-- severity: low\n"
	                          "SELECT 1\n";
	prb_policy p;
	prb_err err;
	prb_err_clear(&err);
	int rc = prb_policy_parse("p.sql", nul, sizeof nul - 1, &p, &err);
	CHECK(rc == PRB_EMALFORMED && strstr(err.msg, "not UTF-8"),
	      "NUL refused: %d %s", rc, err.msg);
	prb_policy_clear(&p);
}

static int
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int rc = fputs(text, f) < 0;
	return fclose(f) != 0 || rc ? -1 : 0;
}

static void
loads_and_overrides(void)
{
	char dir[] = "/tmp/prbpolicy.XXXXXX", path[600], path2[600];
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	prb_policy_set ps = {0};
	prb_err err;
	prb_err_clear(&err);
	int rc = prb_policies_load(dir, &ps, &err);
	CHECK(rc != 0 && strstr(err.msg, "no polic"),
	      "an empty directory is refused: %d %s", rc, err.msg);
	prb_policies_free(&ps);

	snprintf(path, sizeof path, "%s/b.sql", dir);
	write_text(path, "-- id: z.last\n-- title: t\n-- severity: low\n"
	                 "-- param: n = 3\nSELECT :n AS leaf\n");
	snprintf(path2, sizeof path2, "%s/a.sql", dir);
	write_text(path2, "-- id: a.first\n-- title: t\n-- severity: high\n"
	                  "-- param: n = 1\n-- param: r = [\"x\"]\n"
	                  "SELECT 1 AS leaf\n");
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	write_text(path, "not a policy\n");
	rc = prb_policies_load(dir, &ps, &err);
	CHECK(rc == 0 && ps.n == 2, "two policies load (not notes.txt): %d %s",
	      rc, rc ? err.msg : "");
	if (rc == 0 && ps.n == 2) {
		CHECK(strcmp(ps.v[0].id, "a.first") == 0 &&
		      strcmp(ps.v[1].id, "z.last") == 0, "sorted by id");
		json_t *o = json_pack("{s:i}", "n", 7);
		rc = prb_policies_override(&ps, o, "params.json", &err);
		CHECK(rc == 0, "override n: %d %s", rc, err.msg);
		CHECK(json_number_value(ps.v[0].params[0].value) == 7 &&
		      json_number_value(ps.v[1].params[0].value) == 7,
		      "n set in every policy that declares it");
		json_decref(o);
		o = json_pack("{s:i}", "typo", 1);
		rc = prb_policies_override(&ps, o, "params.json", &err);
		CHECK(rc == PRB_EINVAL && strstr(err.msg, "\"typo\"") &&
		      strstr(err.where, "params.json"),
		      "unknown parameter refused naming it: %d %s %s", rc,
		      err.where, err.msg);
		json_decref(o);
		o = json_pack("{s:s}", "r", "westeurope");
		rc = prb_policies_override(&ps, o, "params.json", &err);
		CHECK(rc == PRB_EINVAL && strstr(err.msg, "parameter \"r\" is "
		                                 "a string") &&
		      strstr(err.msg, "a.sql:5) is an array") &&
		      strcmp(err.where, "params.json") == 0,
		      "a string for an array parameter refused naming it and "
		      "its default's line: %d %s: %s", rc, err.where, err.msg);
		json_decref(o);
		o = json_pack("{s:[s,i]}", "r", "x", 2);
		rc = prb_policies_override(&ps, o, "params.json", &err);
		CHECK(rc == PRB_EINVAL && strstr(err.msg, "\"r\": element 1 is "
		                                 "a number") &&
		      strstr(err.msg, "is a string"),
		      "an array element of another kind refused: %d %s", rc,
		      err.msg);
		json_decref(o);
		o = json_pack("{s:s}", "n", "7");
		rc = prb_policies_override(&ps, o, "params.json", &err);
		CHECK(rc == PRB_EINVAL && strstr(err.msg, "\"n\" is a string, "
		                                 "but its default") &&
		      strstr(err.msg, "is a number"),
		      "a string for a number refused: %d %s", rc, err.msg);
		json_decref(o);
		o = json_pack("{s:f,s:[s,s]}", "n", 2.5, "r", "a", "b");
		rc = prb_policies_override(&ps, o, "params.json", &err);
		CHECK(rc == 0, "a real for an integer default, strings for "
		      "strings: %d %s", rc, err.msg);
		json_decref(o);
	}
	prb_policies_free(&ps);
	CHECK(ps.n == 0 && ps.v == NULL, "free leaves an empty set");

	rc = prb_policies_load(path2, &ps, &err);
	CHECK(rc == 0 && ps.n == 1, "one file loads: %d", rc);
	prb_policies_free(&ps);

	snprintf(path, sizeof path, "%s/c.sql", dir);
	write_text(path, "-- id: a.first\n-- title: t\n-- severity: low\n"
	                 "SELECT 1 AS leaf\n");
	rc = prb_policies_load(dir, &ps, &err);
	CHECK(rc != 0 && strstr(err.msg, "a.first"),
	      "two policies with one id refused naming it: %d %s", rc,
	      err.msg);
	prb_policies_free(&ps);

	snprintf(path, sizeof path, "%s/d.sql", dir);
	write_text(path, "-- id: d\n-- title: t\n-- severity: bad\nSELECT 1\n");
	rc = prb_policies_load(dir, &ps, &err);
	CHECK(rc != 0 && strstr(err.where, "d.sql:3"),
	      "a bad file in a directory is named with its line: %s",
	      err.where);
	prb_policies_free(&ps);

	const char *names[] = {"a.sql", "b.sql", "c.sql", "d.sql", "notes.txt"};
	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Every shipped policy parses and carries a rationale. */
static void
shipped_pack(void)
{
	prb_policy_set ps = {0};
	prb_err err;
	prb_err_clear(&err);
	int rc = prb_policies_load("policies", &ps, &err);
	CHECK(rc == 0, "policies/ loads: %s %s", err.where, err.msg);
	CHECK(ps.n > 0, "policies/ holds policies");
	for (size_t i = 0; i < ps.n; i++)
		CHECK(ps.v[i].rationale && strlen(ps.v[i].rationale) >= 40,
		      "%s has a rationale", ps.v[i].file);
	prb_policies_free(&ps);
}

int
main(void)
{
	parses();
	refuses();
	loads_and_overrides();
	shipped_pack();
	return T_DONE("test_policy");
}
