/*
 * Fuzz harness: policy files (prb_policy_parse, include/probity/audit.h).
 *
 * The input is an untrusted policy file. Whatever it holds, parsing must
 * return without a fault and leave a policy that prb_policy_clear frees.
 * When it parses: the id starts with a letter or digit and holds only
 * letters, digits and ._-; the text is kept whole;
 * the title is non-empty; the severity is in range; the query is
 * non-empty and its first line (sql_line) is neither blank nor a "--"
 * comment; parameter names are distinct identifiers with values; and an
 * error always names "FILE:LINE" with a line inside the file. A violation
 * calls abort().
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/policy.h"

static unsigned
lines_of(const uint8_t *data, size_t size)
{
	unsigned n = 1;
	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	prb_policy p;
	prb_err err;
	prb_err_clear(&err);
	int rc = prb_policy_parse("f.sql", (const char *)data, size, &p, &err);
	if (rc != 0) {
		unsigned line = 0;
		check(sscanf(err.where, "f.sql:%u", &line) == 1 ||
		      strcmp(err.where, "f.sql") == 0);
		check(line <= lines_of(data, size));
		check(err.msg[0] != 0);
		prb_policy_clear(&p);
		return 0;
	}
	check(p.id && isalnum((unsigned char)p.id[0]));
	check(p.text_len == size && memcmp(p.text, data, size) == 0);
	for (const char *c = p.id; *c; c++)
		check(isalnum((unsigned char)*c) || strchr("._-", *c));
	check(p.title && p.title[0]);
	check(prb_severity_name(p.severity) != NULL);
	check(p.sql && p.sql[0]);
	check(p.sql_line >= 1 && p.sql_line <= lines_of(data, size));
	const char *q = p.sql;
	while (*q == ' ' || *q == '\t' || *q == '\r')
		q++;
	check(*q && *q != '\n' && !(q[0] == '-' && q[1] == '-'));
	for (size_t i = 0; i < p.nparams; i++) {
		const char *n = p.params[i].name;
		check(n && (isalpha((unsigned char)n[0]) || n[0] == '_'));
		for (const char *c = n; *c; c++)
			check(isalnum((unsigned char)*c) || *c == '_');
		check(p.params[i].value != NULL);
		for (size_t j = 0; j < i; j++)
			check(strcmp(p.params[j].name, n) != 0);
	}
	prb_policy_clear(&p);
	return 0;
}
