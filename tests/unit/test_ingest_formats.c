/*
 * Splitting export files into records (prb_records_scan) and normalising
 * records into events (prb_event_from_record), include/probity/ingest.h,
 * checked against:
 *   - the jansson behaviour the scanner relies on (where json_loadb stops);
 *   - small records written below (always run; none copied from the shared
 *     data): each envelope and wrapper shape, exact byte slices, and bad
 *     input of every kind the contract names;
 *   - every file of $PRB_SHARED/data (real exports, see its README.md and
 *     SOURCE.md files) when present: record counts per folder, the format
 *     detected, and fields of specific records read off the files.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "probity/error.h"
#include "probity/ingest.h"
#include "t.h"
#include "vec.h"

#define PARSE_FLAGS \
	(JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* Samples below are written with ' for " (the JSON has no apostrophes);
 * \\' is an escaped quote inside a JSON string. Returns a malloc'd copy. */
static char *
jq(const char *s)
{
	size_t n = strlen(s);
	char *d = malloc(n + 1);
	if (!d)
		abort();
	for (size_t i = 0; i <= n; i++)
		d[i] = s[i] == '\'' ? '"' : s[i];
	return d;
}

static int
streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* ------------------------------------------------------------------ */
/* A scan that checks every record's position and normalises it.       */

typedef struct {
	const char *buf;
	size_t len;
	prb_format hint;
	size_t n, formats[5], bad_events;
	uint64_t end;          /* end of the previous record's slice */
	char first_error[600]; /* the first normalisation error */
	const char *want_id;   /* keep the event with this id in `found` */
	prb_event found;
	int nfound;
	int stop_after; /* return 99 after this many records, if > 0 */
} collect;

static uint64_t
line_of(const char *buf, uint64_t off)
{
	uint64_t line = 1;
	for (uint64_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* The slice is the record: it re-parses (alone, EOF check on) to an equal
 * value, starts and ends with braces, and follows the previous one. */
static void
check_slice(collect *c, const json_t *rec, const prb_record_pos *p)
{
	CHECK(p->offset >= c->end && p->length >= 2 &&
	              p->offset + p->length <= c->len,
	      "record %llu: slice %llu+%llu", (unsigned long long)p->number,
	      (unsigned long long)p->offset, (unsigned long long)p->length);
	if (p->offset + p->length > c->len)
		return;
	const char *s = c->buf + p->offset;
	json_error_t je;
	json_t *again = json_loadb(s, p->length, PARSE_FLAGS, &je);
	CHECK(again && json_equal(again, (json_t *)rec),
	      "record %llu: slice does not re-parse to the record (%s)",
	      (unsigned long long)p->number, again ? "differs" : je.text);
	json_decref(again);
	CHECK(s[0] == '{' && s[p->length - 1] == '}', "record %llu braces",
	      (unsigned long long)p->number);
	CHECK(p->line == line_of(c->buf, p->offset), "record %llu line %llu",
	      (unsigned long long)p->number, (unsigned long long)p->line);
	CHECK(p->number == c->n + 1, "record number %llu",
	      (unsigned long long)p->number);
	c->end = p->offset + p->length;
}

static int
on_record(void *ctx, json_t *rec, const prb_record_pos *p)
{
	collect *c = ctx;
	prb_event ev;
	prb_err err;
	check_slice(c, rec, p);
	c->n++;
	prb_err_clear(&err);
	int rc = prb_event_from_record(c->hint, rec, &ev, &err);
	if (rc) {
		if (!c->bad_events++)
			snprintf(c->first_error, sizeof c->first_error,
			         "record %llu: %s", (unsigned long long)p->number,
			         err.msg);
	} else {
		c->formats[ev.format]++;
		if (c->want_id && ev.event_id &&
		    strcmp(ev.event_id, c->want_id) == 0) {
			prb_event_free(&c->found);
			c->found = ev;
			c->nfound++;
			memset(&ev, 0, sizeof ev);
		}
		prb_event_free(&ev);
	}
	return c->stop_after > 0 && c->n >= (size_t)c->stop_after ? 99 : 0;
}

static int
scan_text(const char *buf, size_t len, collect *c, prb_err *err)
{
	c->buf = buf;
	c->len = len;
	prb_err_clear(err);
	return prb_records_scan(buf, len, on_record, c, err);
}

/* Scans jq(sample); returns its record count, or -1 and *err. */
static long
scan_sample(const char *sample, collect *c, prb_err *err)
{
	char *text = jq(sample);
	int rc = scan_text(text, strlen(text), c, err);
	free(text);
	return rc ? -1 : (long)c->n;
}

static void
collect_done(collect *c)
{
	prb_event_free(&c->found);
}

/* ------------------------------------------------------------------ */
/* jansson: where json_loadb stops with JSON_DISABLE_EOF_CHECK          */

static void
test_jansson_positions(void)
{
	static const char *const values[] = {
		"\"s\"", "\"\\u00e9\\\"\"", "12", "-0.5e+3", "0", "1.5", "true",
		"false", "null", "{}", "[1,{\"a\":[]}]", "{\"k\":\"v\"}",
	};
	static const char *const trailers[] = {
		"", " ", "\n", ",", "]", "}x", "\xc3\xa9", "\xff", "{\"b\":1}",
	};
	const size_t flags = PARSE_FLAGS | JSON_DISABLE_EOF_CHECK |
	                     JSON_DECODE_ANY;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		for (size_t j = 0; j < sizeof trailers / sizeof trailers[0]; j++) {
			char text[64];
			json_error_t je;
			int n = snprintf(text, sizeof text, "%s%s", values[i],
			                 trailers[j]);
			json_t *v = json_loadb(text, (size_t)n, flags, &je);
			CHECK(v && je.position == (int)strlen(values[i]),
			      "json_loadb(%s|%s): position %d", values[i],
			      trailers[j], v ? je.position : -1);
			json_decref(v);
		}
	}
	/* Failures: where jansson stops, and its first complaint. */
	json_error_t je;
	CHECK(!json_loadb("\"ab\xff\"", 5, flags, &je) && je.position == 3 &&
	              strstr(je.text, "unable to decode byte 0xff"),
	      "invalid UTF-8: %d %s", je.position, je.text);
	CHECK(!json_loadb("[1\xff]", 4, flags, &je) && je.position == 2 &&
	              strstr(je.text, "0xff"),
	      "invalid UTF-8 after a number: %d %s", je.position, je.text);
	CHECK(!json_loadb("{\"a\":1,\"a\":2}", 13, flags, &je) &&
	              strstr(je.text, "duplicate object key") &&
	              je.position == 10,
	      "duplicate: %d %s", je.position, je.text);
	CHECK(!json_loadb("1e400", 5, flags, &je) &&
	              strstr(je.text, "real number overflow"),
	      "overflow: %s", je.text);
	CHECK(!json_loadb("\"a\nb\"", 5, flags, &je) && je.position == 2,
	      "raw newline in a string: %d %s", je.position, je.text);
}

/* ------------------------------------------------------------------ */
/* Scanning: shapes and exact slices                                   */

static void
test_scan_shapes(void)
{
	static const struct {
		const char *name, *text;
		long records;
	} cases[] = {
		{"empty", "", 0},
		{"blank", " \n\t\r\n", 0},
		{"empty array", " [ ] \n", 0},
		{"empty envelope", "{'Records': []}", 0},
		{"empty envelope, more members",
		 "{'nextLink': null, 'value': [ ], 'x': {'y': 1}}", 0},
		{"byte order mark", "\xef\xbb\xbf[{'a': 1}]", 1},
		{"empty object", "{}", 1},
		{"envelope", "{\n  'Records' : [\n    {'a': 1},\n\t{'b': [1, 2]} ,"
		             "{'c': {'d': 'e'}}\n  ]\n}\n", 3},
		{"envelope after members",
		 "{'meta': {'Records': 1}, 'records': [{'a': 1}], 'tail': [2]}", 1},
		{"array", "[{'a':1},{'a':2}\n,\n{'a':3}]", 3},
		{"JSON Lines", "{'a': 1}\n{'a': 2}\r\n\n  \n{'a': 3}", 3},
		{"JSON Lines of envelopes",
		 "{'records': [{'a': 1}, {'a': 2}]}\n{'records': [{'a': 3}]}\n", 3},
		{"JSON Lines, blank first lines", "\n\n{'a': 1}\n{'b': 2}\n", 2},
		{"one pretty-printed object",
		 "{\n  'insertId': 'x',\n  'Records': 5,\n  'value': 'v'\n}\n", 1},
		{"a Records member that is no array", "{'Records': {'a': 1}}", 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		collect c = {0};
		prb_err err;
		long n = scan_sample(cases[i].text, &c, &err);
		CHECK(n == cases[i].records, "%s: %ld records (%s)", cases[i].name,
		      n, err.msg);
		collect_done(&c);
	}
	/* A non-zero return from the callback stops the scan. */
	collect c = {.stop_after = 2};
	prb_err err;
	char *text = jq("[{'a':1},{'a':2},{'a':3}]");
	int rc = scan_text(text, strlen(text), &c, &err);
	CHECK(rc == 99 && c.n == 2, "callback stop: rc %d, %zu records", rc,
	      c.n);
	free(text);
	/* The buffer need not be NUL-terminated: a record at its very end. */
	char tight[] = {'[', '{', '}', ']'};
	collect t = {0};
	CHECK(scan_text(tight, sizeof tight, &t, &err) == 0 && t.n == 1,
	      "unterminated buffer: %s", err.msg);
}

/* Checks the positions the scanner reports against known offsets. */
typedef struct {
	size_t n;
	prb_record_pos pos[4];
} positions;

static int
on_position(void *ctx, json_t *rec, const prb_record_pos *p)
{
	positions *ps = ctx;
	(void)rec;
	if (ps->n < 4)
		ps->pos[ps->n] = *p;
	ps->n++;
	return 0;
}

static void
test_scan_positions(void)
{
	static const char text[] =
		"{\"Records\":[ {\"a\":1} ,\n{\"b\":\"\xc3\xa9\"}]}";
	static const char lines[] = "{\"a\":1}\r\n\n{\"b\":2}  \n";
	positions ps = {0};
	prb_err err;
	prb_err_clear(&err);
	CHECK(prb_records_scan(text, strlen(text), on_position, &ps, &err) == 0 &&
	              ps.n == 2,
	      "positions: %s", err.msg);
	CHECK(ps.pos[0].offset == 13 && ps.pos[0].length == 7 &&
	              ps.pos[0].line == 1 && ps.pos[0].number == 1,
	      "envelope record 1 at %llu+%llu",
	      (unsigned long long)ps.pos[0].offset,
	      (unsigned long long)ps.pos[0].length);
	CHECK(ps.pos[1].offset == 23 && ps.pos[1].length == 10 &&
	              ps.pos[1].line == 2 && ps.pos[1].number == 2,
	      "envelope record 2 at %llu+%llu",
	      (unsigned long long)ps.pos[1].offset,
	      (unsigned long long)ps.pos[1].length);
	memset(&ps, 0, sizeof ps);
	CHECK(prb_records_scan(lines, strlen(lines), on_position, &ps, &err) ==
	                      0 && ps.n == 2,
	      "JSON Lines positions: %s", err.msg);
	CHECK(ps.pos[1].offset == 10 && ps.pos[1].length == 7 &&
	              ps.pos[1].line == 3,
	      "JSON Lines record 2 at %llu+%llu line %llu",
	      (unsigned long long)ps.pos[1].offset,
	      (unsigned long long)ps.pos[1].length,
	      (unsigned long long)ps.pos[1].line);
}

/* ------------------------------------------------------------------ */
/* Scanning: bad input                                                  */

/* Bad input: the error is at the first occurrence of `at` (after the
 * quote conversion) plus `after` bytes. */
static const struct {
	const char *name, *text;
	const char *at;  /* the error is at the first occurrence */
	int after;       /* ... plus this many bytes */
	const char *msg; /* err->msg starts with this */
	const char *has; /* and contains this */
	int code;
} scan_errors[] = {
	{"broken JSON Lines", "{'a': 1}\n{'a': 2}\n{'a': tru}\n{'a': 4}\n",
	 "tru}", 3, "line 3, record 3: ", "invalid token", PRB_EMALFORMED},
	{"broken envelope", "{'Records': [\n{'a': 1},\n{'a': 2},\n{'x': 1,, "
	                    "'y': 2}]}",
	 ",, ", 2, "line 4, record 3: ", "string or '}' expected",
	 PRB_EMALFORMED},
	{"invalid UTF-8", "[{'a': 'ok'},\n{'b': '\xff'}]", "\xff", 0,
	 "line 2, record 2: ", "unable to decode byte 0xff", PRB_EMALFORMED},
	{"invalid UTF-8 in a member name", "{'Rec\xc3\x28': []}", "\xc3", 0,
	 "line 1, record 1: ", "unable to decode byte 0xc3", PRB_EMALFORMED},
	{"UTF-8 surrogate", "[{'a': '\xed\xa0\x80'}]", "\xed", 0,
	 "line 1, record 1: ", "unable to decode byte 0xed", PRB_EMALFORMED},
	{"overlong UTF-8", "[{'a': '\xc0\xaf'}]", "\xc0", 0,
	 "line 1, record 1: ", "unable to decode byte 0xc0", PRB_EMALFORMED},
	{"duplicate key in a record", "{'Records': [{'a': 1, 'a': 2}]}",
	 "'a': 2", 3, "line 1, record 1: ", "duplicate object key",
	 PRB_EMALFORMED},
	{"duplicate key of a single object", "{'a': 1,\n 'a': 2}", "'a': 2",
	 0, "line 2, record 1: ", "duplicate object key \"a\"",
	 PRB_EMALFORMED},
	{"duplicate envelope", "{'Records': [], 'Records': []}",
	 "'Records': []}", 0, "line 1, record 1: ",
	 "duplicate object key \"Records\"", PRB_EMALFORMED},
	{"two record arrays", "{'records': [{'a': 1}], 'value': []}",
	 "'value'", 0, "line 1, record 2: ", "a second array of records",
	 PRB_EMALFORMED},
	{"number overflow", "[{'n': 1}, {'n': 1e400}]", "1e400", 5,
	 "line 1, record 2: ", "real number overflow", PRB_EMALFORMED},
	{"negative overflow", "{'n': -2e308}", "-2e308", 6,
	 "line 1, record 1: ", "real number overflow", PRB_EMALFORMED},
	{"non-object record", "[{'a': 1},\n 2]", "2]", 0,
	 "line 2, record 2: ", "a record must be a JSON object, not a number",
	 PRB_EMALFORMED},
	{"array in an envelope", "{'value': [[]]}", "[]]", 0,
	 "line 1, record 1: ", "not an array", PRB_EMALFORMED},
	{"non-object line", "{'a': 1}\n['b']\n", "['b']", 0,
	 "line 2, record 2: ", "not an array", PRB_EMALFORMED},
	{"top-level string", "  'hello'", "'hello'", 0, "line 1, record 1: ",
	 "not a string", PRB_EMALFORMED},
	{"top-level number", "\n42\n", "42", 0, "line 2, record 1: ",
	 "not a number", PRB_EMALFORMED},
	{"top-level garbage", "hello", "hello", 5, "line 1, record 1: ",
	 "invalid token", PRB_EMALFORMED},
	{"trailing comma in array", "[{'a': 1},]", "]", 1,
	 "line 1, record 2: ", "unexpected token", PRB_EMALFORMED},
	{"trailing comma in object", "{'a': 1,}", "}", 0,
	 "line 1, record 1: ", "expected a member name", PRB_EMALFORMED},
	{"missing comma", "[{'a': 1} {'a': 2}]", "{'a': 2}", 0,
	 "line 1, record 2: ", "expected ',' or ']'", PRB_EMALFORMED},
	{"truncated envelope", "{'Records': [{'a': 1}", "", 0,
	 "line 1, record 2: ", "premature end of input", PRB_EMALFORMED},
	{"truncated line", "{'a': 1}\n{'a': \n{'a': 3}\n", "\n{'a': 3}", 0,
	 "line 2, record 2: ", "near end of line", PRB_EMALFORMED},
	{"two objects on a line", "{'a': 1} {'a': 2}\n", "{'a': 2}", 0,
	 "line 1, record 2: ", "expected a line break", PRB_EMALFORMED},
	{"concatenated objects", "{\n'a': 1}\n{'a': 2}\n", "{'a': 2}", 0,
	 "line 3, record 2: ", "more JSON after a multi-line object",
	 PRB_EMALFORMED},
	{"after the array", "[{'a': 1}] [", "] [", 2, "line 1, record 2: ",
	 "expected the end of input", PRB_EMALFORMED},
	{"NUL in a member name", "{'a\\u0000b': 1}", "'a", 0,
	 "line 1, record 1: ", "NUL byte in object key", PRB_EMALFORMED},
	{"NUL in a record's member name", "[{'a\\u0000b': 1}]", ": 1", 0,
	 "line 1, record 1: ", "NUL byte in object key", PRB_EMALFORMED},
};

static void
test_scan_errors(void)
{
	for (size_t i = 0; i < sizeof scan_errors / sizeof scan_errors[0]; i++) {
		char *text = jq(scan_errors[i].text);
		char *at = jq(scan_errors[i].at);
		collect c = {0};
		prb_err err;
		size_t len = strlen(text);
		int rc = scan_text(text, len, &c, &err);
		const char *hit = at[0] ? strstr(text, at) : text + len;
		uint64_t want = hit ? (uint64_t)(hit - text) + (uint64_t)scan_errors[i].after
		                    : UINT64_MAX;
		CHECK(rc == scan_errors[i].code && err.code == rc,
		      "%s: rc %d (%s)", scan_errors[i].name, rc, err.msg);
		CHECK(err.offset == want, "%s: offset %llu, want %llu (%s)",
		      scan_errors[i].name, (unsigned long long)err.offset,
		      (unsigned long long)want, err.msg);
		CHECK(strncmp(err.msg, scan_errors[i].msg, strlen(scan_errors[i].msg)) == 0 &&
		              strstr(err.msg, scan_errors[i].has),
		      "%s: \"%s\"", scan_errors[i].name, err.msg);
		CHECK(err.where[0] == '\0', "%s: where set", scan_errors[i].name);
		free(text);
		free(at);
		collect_done(&c);
	}
	/* A string value may hold U+0000 (JSON_ALLOW_NUL): the record scans. */
	collect c = {0};
	prb_err err;
	CHECK(scan_sample("[{'a': 'x\\u0000y'}]", &c, &err) == 1,
	      "NUL in a value: %s", err.msg);
	collect_done(&c);
}

/* ------------------------------------------------------------------ */
/* Normalisation of small records of every shape                        */

/* An expected field of an event; value NULL: the field is unset. */
typedef struct {
	const char *field, *value;
} want;

/* Checks the fields w lists (up to a NULL field) in ev. */
static void
check_fields(const char *what, const prb_event *ev, const want *w)
{
	for (; w->field; w++) {
		size_t i = 0;
		while (i < PRB_EVENT_NFIELDS &&
		       strcmp(prb_event_field_name(i), w->field) != 0)
			i++;
		const char *got = prb_event_field(ev, i);
		CHECK(i < PRB_EVENT_NFIELDS && streq(got, w->value),
		      "%s: %s is \"%s\", want \"%s\"", what, w->field,
		      got ? got : "(null)", w->value ? w->value : "(null)");
	}
}

/* Small records of every shape, written for these tests. */
static const char eventhub_batch[] =
	"{'records': [\n"
	"{'time': '2024-03-01T10:00:00.5+01:00', 'resourceId': '/SUBSCRIPTIONS/"
	"SUB-1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/"
	"ACCT1', 'operationName': 'MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE', "
	"'category': 'Administrative', 'resultType': 'Failure', "
	"'resultSignature': 'Failed.Conflict', 'callerIpAddress': "
	"'203.0.113.7', 'correlationId': 'corr-1', 'identity': {'claims': {"
	"'http://schemas.microsoft.com/identity/claims/tenantid': 'tenant-9', "
	"'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': "
	"'ana@example.org'}}, 'level': 'Error', 'location': 'westeurope', "
	"'properties': {'requestbody': '{\\'location\\':\\'northeurope\\',"
	"\\'sku\\':{\\'name\\':\\'Standard_LRS\\'}}', 'statusMessage': "
	"'{\\'error\\':{\\'code\\':\\'StorageAccountAlreadyTaken\\'}}'}},\n"
	"{'time': '2024-03-01T09:00:01Z', 'category': 'kube-audit-admin', "
	"'resourceId': '/SUBSCRIPTIONS/SUB-1/RESOURCEGROUPS/RG/PROVIDERS/"
	"MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS1', 'operationName': "
	"'Microsoft.ContainerService/managedClusters/diagnosticLogs/Read', "
	"'correlationId': 'c-2', 'properties': {'log': '{\\'kind\\':\\'Event\\',"
	"\\'apiVersion\\':\\'audit.k8s.io/v1\\',\\'auditID\\':\\'aks-1\\',"
	"\\'stage\\':\\'ResponseComplete\\',\\'verb\\':\\'delete\\',\\'user\\':"
	"{\\'username\\':\\'ana@example.org\\'},\\'sourceIPs\\':[\\'10.1.2.3\\'],"
	"\\'objectRef\\':{\\'resource\\':\\'deployments\\',\\'namespace\\':"
	"\\'web\\',\\'name\\':\\'front\\',\\'apiGroup\\':\\'apps\\',"
	"\\'apiVersion\\':\\'v1\\'},\\'responseStatus\\':{\\'code\\':200},"
	"\\'requestReceivedTimestamp\\':\\'2024-03-01T09:00:00.9Z\\'}\\n', "
	"'stream': 'stdout'}}\n"
	"]}\n";

static const char rest_list[] =
	"{\n  'value': [\n    {'authorization': {'action': 'Microsoft.Web/"
	"sites/write', 'scope': '/subscriptions/s-3/resourceGroups/rg/"
	"providers/Microsoft.Web/sites/app1', 'evidence': {'principalType':"
	" 'ServicePrincipal'}}, 'caller': 'ci-bot', 'claims': {'appid': "
	"'app-3', 'http://schemas.microsoft.com/identity/claims/tenantid': "
	"'home-3'}, 'correlationId': 'cc-3', 'eventDataId': 'ed-3', "
	"'httpRequest': {'clientIpAddress': '2001:db8::3', 'method': 'PUT'}, "
	"'operationId': 'op-3', 'operationName': {'value': 'Microsoft.Web/"
	"sites/write', 'localizedValue': 'Update website'}, 'properties': {"
	"'requestbody': '{\\'location\\':\\'Japan East\\'}', 'responseBody':"
	" '{\\'id\\':\\'x\\'}'}, 'resourceId': '/subscriptions/s-3/"
	"resourceGroups/rg/providers/Microsoft.Web/sites/app1', "
	"'resourceProviderName': {'value': 'Microsoft.Web'}, 'status': {"
	"'value': 'Succeeded'}, 'subStatus': {'value': 'Created'}, "
	"'eventTimestamp': '2024-06-30T23:59:59.9999999Z', 'subscriptionId':"
	" 's-3', 'tenantId': 'tenant-3'}\n  ],\n  'nextLink': 'https://"
	"management.azure.com/subscriptions/s-3/providers/microsoft.insights"
	"/eventtypes/management/values?$skiptoken=abc'\n}\n";

static const char la_rows[] =
	"[{'TenantId': 'workspace-7', 'SourceSystem': 'Azure', "
	"'TimeGenerated': '2024-05-02T08:15:30.1234567Z', 'CallerIpAddress': "
	"'198.51.100.4', 'CategoryValue': 'Administrative', 'CorrelationId': "
	"'corr-7', 'Caller': 'bo@example.org', 'EventDataId': 'ed-7', "
	"'OperationNameValue': 'MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE', "
	"'ActivityStatusValue': 'Success', 'SubscriptionId': 'sub-7', "
	"'ResourceProviderValue': 'MICROSOFT.COMPUTE', '_ResourceId': "
	"'/subscriptions/sub-7/resourcegroups/rg/providers/microsoft.compute/"
	"virtualmachines/vm1', 'Properties_d': {'resourceLocation': "
	"'eastus2'}, 'Claims_d': {'http://schemas.microsoft.com/identity/"
	"claims/tenantid': 'tenant-7'}, 'Authorization_d': {'evidence': {"
	"'principalType': 'User'}}, 'Type': 'AzureActivity'},\n"
	" {'TimeGenerated': '2024-05-02T08:16:00Z', 'CorrelationId': 'corr-8',"
	" 'OperationId': 'op-8', 'OperationNameValue': 'MICROSOFT.KEYVAULT/"
	"VAULTS/DELETE', 'ActivityStatusValue': 'Failed', "
	"'ActivitySubstatusValue': 'Forbidden', '_ResourceId': '/subscriptions"
	"/sub-8/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv'}]";

static const char eks_lines[] =
	"{'logGroup': '/aws/eks/prod-eu/cluster', 'logStream': "
	"'kube-apiserver-audit-abc', 'timestamp': 1717000000000, 'message': "
	"'{\\'kind\\':\\'Event\\',\\'apiVersion\\':\\'audit.k8s.io/v1\\',"
	"\\'level\\':\\'Metadata\\',\\'auditID\\':\\'e-1\\',\\'stage\\':"
	"\\'ResponseComplete\\',\\'requestURI\\':\\'/api/v1/namespaces/prod/"
	"secrets/db\\',\\'verb\\':\\'get\\',\\'user\\':{\\'username\\':"
	"\\'system:serviceaccount:prod:app\\'},\\'sourceIPs\\':[\\'10.0.0.9\\'],"
	"\\'userAgent\\':\\'app/1.0\\',\\'objectRef\\':{\\'resource\\':"
	"\\'secrets\\',\\'namespace\\':\\'prod\\',\\'name\\':\\'db\\',"
	"\\'apiVersion\\':\\'v1\\'},\\'responseStatus\\':{\\'code\\':403,"
	"\\'reason\\':\\'Forbidden\\'},\\'requestReceivedTimestamp\\':"
	"\\'2024-05-29T16:26:40.000001Z\\',\\'stageTimestamp\\':"
	"\\'2024-05-29T16:26:40.002Z\\'}'}\r\n"
	"\r\n"
	"{'message': '{\\'kind\\':\\'Event\\',\\'auditID\\':\\'e-2\\',"
	"\\'stage\\':\\'RequestReceived\\',\\'verb\\':\\'get\\',"
	"\\'requestURI\\':\\'/healthz?verbose=1\\',\\'user\\':{\\'username\\':"
	"\\'system:anonymous\\'},\\'stageTimestamp\\':"
	"\\'2024-05-29T16:26:41Z\\'}', 'id': '123'}\r\n";

static const char cloudevent[] =
	"{'specversion': '1.0', 'type': 'google.cloud.audit.log.v1.written',"
	" 'source': '//cloudaudit.googleapis.com/organizations/4242/logs/"
	"activity', 'id': 'ce-1', 'time': '2024-01-01T00:00:01Z', 'data': {"
	"'insertId': 'ins-1', 'logName': 'organizations/4242/logs/"
	"cloudaudit.googleapis.com%2Factivity', 'protoPayload': {'@type': "
	"'type.googleapis.com/google.cloud.audit.AuditLog', 'status': {"
	"'code': 7, 'message': 'denied'}, 'authenticationInfo': {"
	"'principalEmail': 'eve@example.com'}, 'requestMetadata': {"
	"'callerIp': '192.0.2.1', 'callerSuppliedUserAgent': 'gcloud'}, "
	"'serviceName': 'storage.googleapis.com', 'methodName': "
	"'storage.buckets.create', 'resourceName': 'projects/_/buckets/b1', "
	"'request': {'location': 'EU'}}, 'resource': {'type': 'gcs_bucket', "
	"'labels': {'project_id': 'p1', 'location': 'eu'}}, 'timestamp': "
	"'2024-01-01T00:00:00Z'}}";

static const char cloudtrail_lines[] =
	"{'eventVersion': '1.09', 'eventTime': '2024-04-01T12:00:00Z', "
	"'eventSource': 's3.amazonaws.com', 'eventName': 'CreateBucket', "
	"'awsRegion': 'us-east-1', 'sourceIPAddress': '198.51.100.20', "
	"'userAgent': 'aws-cli/2', 'userIdentity': {'type': 'AssumedRole', "
	"'arn': 'arn:aws:sts::111122223333:assumed-role/ops/s', 'accountId': "
	"'111122223333'}, 'requestParameters': {'bucketName': 'bkt-1', "
	"'CreateBucketConfiguration': {'LocationConstraint': 'eu-central-1'}}, "
	"'responseElements': null, 'eventID': 'ct-1', 'recipientAccountId': "
	"'111122223333'}\n"
	"{'eventVersion': '1.08', 'eventTime': '2024-04-01T12:00:01Z', "
	"'eventSource': 'iam.amazonaws.com', 'eventName': 'CreateUser', "
	"'awsRegion': 'us-east-1', 'errorCode': 'AccessDenied', 'userIdentity':"
	" {'type': 'IAMUser', 'arn': 'arn:aws:iam::444455556666:user/x', "
	"'accountId': '444455556666'}, 'eventID': 'ct-2', 'recipientAccountId':"
	" '111122223333', 'resources': [{'ARN': 'arn:aws:iam::111122223333:"
	"user/new', 'type': 'AWS::IAM::User'}]}\n"
	"{'eventVersion': '1.08', 'eventTime': '2024-04-01T12:00:02Z', "
	"'eventSource': 's3.amazonaws.com', 'eventName': 'CreateBucket', "
	"'awsRegion': 'eu-west-1', 'userIdentity': {'type': 'AWSService', "
	"'invokedBy': 'cloudformation.amazonaws.com'}, 'requestParameters': {"
	"'bucketName': 'old', 'CreateBucketConfiguration': {"
	"'LocationConstraint': 'EU'}}, 'eventID': 'ct-3'}\n"
	"{'eventVersion': '1.08', 'eventTime': '2024-04-01T12:00:03Z', "
	"'eventSource': 's3.amazonaws.com', 'eventName': 'CreateBucket', "
	"'awsRegion': 'us-east-1', 'userIdentity': {'type': 'Root'}, "
	"'requestParameters': {'bucketName': 'plain'}, 'eventID': 'ct-4'}\n";

/* Each sample: its record count, how many are of `format`, and the fields
 * of the event with id `id`. */
static const struct {
	const char *name, *text;
	long records, of_format;
	prb_format format;
	const char *id;
	want w[16];
} samples[] = {
	{"Event Hubs batch, storage schema", eventhub_batch, 2, 1, PRB_FMT_AZURE,
	 "corr-1/MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE/Failure/"
	 "2024-03-01T09:00:00.5Z",
	 {{"time", "2024-03-01T09:00:00.5Z"}, {"account", "SUB-1"},
	  {"tenant", NULL}, {"principal", "ana@example.org"},
	  {"principal_account", "tenant-9"}, {"service", "MICROSOFT.STORAGE"},
	  {"operation", "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE"},
	  {"resource_type", "MICROSOFT.STORAGE/STORAGEACCOUNTS"},
	  {"region", "westeurope"}, {"location", "northeurope"},
	  {"result", "Failure"}, {"error_code", "StorageAccountAlreadyTaken"},
	  {"source_ip", "203.0.113.7"}, {"user_agent", NULL},
	  {"request", "{\"location\":\"northeurope\",\"sku\":{\"name\":"
	              "\"Standard_LRS\"}}"}}},
	{"Event Hubs batch, AKS kube-audit", eventhub_batch, 2, 1, PRB_FMT_K8S,
	 "aks-1/ResponseComplete",
	 {{"account", "/SUBSCRIPTIONS/SUB-1/RESOURCEGROUPS/RG/PROVIDERS/"
	              "MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS1"},
	  {"time", "2024-03-01T09:00:00.9Z"}, {"operation", "delete deployments"},
	  {"resource_id", "/apis/apps/v1/namespaces/web/deployments/front"},
	  {"service", "apps"}, {"principal_type", "User"}, {"result", "200"},
	  {"source_ip", "10.1.2.3"}, {"region", NULL}}},
	{"REST value and nextLink", rest_list, 1, 1, PRB_FMT_AZURE, "ed-3",
	 {{"time", "2024-06-30T23:59:59.9999999Z"}, {"account", "s-3"},
	  {"tenant", "tenant-3"}, {"principal", "ci-bot"},
	  {"principal_account", "home-3"},
	  {"principal_type", "ServicePrincipal"}, {"service", "Microsoft.Web"},
	  {"resource_type", "Microsoft.Web/sites"}, {"location", "Japan East"},
	  {"region", NULL}, {"result", "Succeeded"}, {"error_code", NULL},
	  {"source_ip", "2001:db8::3"}, {"response", "{\"id\":\"x\"}"}}},
	{"Log Analytics row", la_rows, 2, 2, PRB_FMT_AZURE, "ed-7",
	 {{"time", "2024-05-02T08:15:30.1234567Z"}, {"account", "sub-7"},
	  {"tenant", NULL}, /* TenantId is the workspace */
	  {"principal", "bo@example.org"}, {"principal_account", "tenant-7"},
	  {"principal_type", "User"}, {"service", "MICROSOFT.COMPUTE"},
	  {"operation", "MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE"},
	  {"resource_type", "microsoft.compute/virtualmachines"},
	  {"location", "eastus2"}, {"result", "Success"},
	  {"source_ip", "198.51.100.4"}}},
	{"Log Analytics row without EventDataId", la_rows, 2, 2, PRB_FMT_AZURE,
	 "corr-8/op-8",
	 {{"account", "sub-8"}, {"result", "Failed"}, {"error_code", "Forbidden"},
	  {"service", "MICROSOFT.KEYVAULT"}}},
	{"EKS CloudWatch event", eks_lines, 2, 2, PRB_FMT_K8S,
	 "e-1/ResponseComplete",
	 {{"account", "prod-eu"}, {"time", "2024-05-29T16:26:40.000001Z"},
	  {"principal", "system:serviceaccount:prod:app"},
	  {"principal_type", "ServiceAccount"}, {"service", "core"},
	  {"operation", "get secrets"},
	  {"resource_id", "/api/v1/namespaces/prod/secrets/db"},
	  {"resource_type", "secrets"}, {"result", "403"},
	  {"error_code", "Forbidden"}, {"source_ip", "10.0.0.9"},
	  {"user_agent", "app/1.0"}}},
	{"EKS event without its log group", eks_lines, 2, 2, PRB_FMT_K8S,
	 "e-2/RequestReceived",
	 {{"account", NULL}, {"operation", "get /healthz"},
	  {"resource_id", NULL}, {"principal_type", "Anonymous"},
	  {"time", "2024-05-29T16:26:41Z"}}},
	{"GCP CloudEvent", cloudevent, 1, 1, PRB_FMT_GCP, "ins-1",
	 {{"time", "2024-01-01T00:00:00Z"}, {"account", "p1"},
	  {"tenant", "4242"}, {"principal", "eve@example.com"},
	  {"principal_type", "User"}, {"service", "storage.googleapis.com"},
	  {"operation", "storage.buckets.create"},
	  {"resource_id", "projects/_/buckets/b1"},
	  {"resource_type", "gcs_bucket"}, {"location", "eu"},
	  {"result", "failure"}, {"error_code", "PERMISSION_DENIED"},
	  {"source_ip", "192.0.2.1"}, {"user_agent", "gcloud"},
	  {"request", "{\"location\":\"EU\"}"}}},
	{"CloudTrail CreateBucket", cloudtrail_lines, 4, 4, PRB_FMT_CLOUDTRAIL,
	 "ct-1",
	 {{"location", "eu-central-1"}, {"region", "us-east-1"},
	  {"principal", "arn:aws:sts::111122223333:assumed-role/ops/s"},
	  {"principal_type", "AssumedRole"}, {"result", "success"},
	  {"error_code", NULL}, {"account", "111122223333"},
	  {"resource_id", "arn:aws:s3:::bkt-1"},
	  {"resource_type", "AWS::S3::Bucket"}, {"response", NULL}}},
	{"CloudTrail IAM failure", cloudtrail_lines, 4, 4, PRB_FMT_CLOUDTRAIL,
	 "ct-2",
	 {{"location", NULL}, {"principal", "arn:aws:iam::444455556666:user/x"},
	  {"principal_account", "444455556666"}, {"result", "failure"},
	  {"error_code", "AccessDenied"}, {"account", "111122223333"},
	  {"resource_id", "arn:aws:iam::111122223333:user/new"},
	  {"resource_type", "AWS::IAM::User"}, {"request", NULL}}},
	{"CloudTrail bucket in EU", cloudtrail_lines, 4, 4, PRB_FMT_CLOUDTRAIL,
	 "ct-3",
	 {{"location", "eu-west-1"}, {"principal", "cloudformation.amazonaws.com"},
	  {"principal_type", "AWSService"}, {"account", NULL}}},
	{"CloudTrail bucket, no constraint", cloudtrail_lines, 4, 4,
	 PRB_FMT_CLOUDTRAIL, "ct-4",
	 {{"location", "us-east-1"}, {"principal", NULL},
	  {"principal_type", "Root"}, {"resource_id", "arn:aws:s3:::plain"}}},
};

static void
test_samples(void)
{
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		collect c = {.want_id = samples[i].id};
		prb_err err;
		long got = scan_sample(samples[i].text, &c, &err);
		CHECK(got == samples[i].records, "%s: %ld records (%s)",
		      samples[i].name, got, err.msg);
		CHECK(c.bad_events == 0, "%s: %s", samples[i].name, c.first_error);
		CHECK(c.formats[samples[i].format] == (size_t)samples[i].of_format,
		      "%s: %zu of format %s", samples[i].name,
		      c.formats[samples[i].format],
		      prb_format_name(samples[i].format));
		CHECK(c.nfound == 1, "%s: event %s found %d times", samples[i].name,
		      samples[i].id, c.nfound);
		check_fields(samples[i].name, &c.found, samples[i].w);
		collect_done(&c);
	}
}

/* ------------------------------------------------------------------ */
/* Normalisation errors                                                 */

static int
event_of(prb_format hint, const char *sample, prb_event *ev, prb_err *err)
{
	char *text = jq(sample);
	json_t *rec = json_loads(text, PARSE_FLAGS, NULL);
	free(text);
	if (!rec)
		abort(); /* the samples are valid JSON */
	prb_err_clear(err);
	int rc = prb_event_from_record(hint, rec, ev, err);
	json_decref(rec);
	return rc;
}

static int
event_is_empty(const prb_event *ev)
{
	prb_event zero;
	memset(&zero, 0, sizeof zero);
	return memcmp(ev, &zero, sizeof zero) == 0;
}

#define CT_BASE                                                           \
	"'eventVersion': '1.08', 'eventSource': 'ec2.amazonaws.com', "     \
	"'eventName': 'RunInstances', 'awsRegion': 'eu-north-1'"

/* Records that do not normalise, and why. */
static const struct {
	const char *name, *record;
	prb_format hint;
	const char *has;
	int code;
} event_errors[] = {
	{"CloudTrail without eventTime", "{" CT_BASE ", 'eventID': 'e'}",
	 PRB_FMT_AUTO, "incomplete record: as cloudtrail lacks eventTime",
	 PRB_EMALFORMED},
	{"CloudTrail without eventID, hinted",
	 "{" CT_BASE ", 'eventTime': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_CLOUDTRAIL, "not a cloudtrail record: lacks eventID",
	 PRB_EMALFORMED},
	{"CloudTrail with an empty eventName",
	 "{'eventVersion': '1.08', 'eventSource': 'x', 'eventName': '', "
	 "'eventTime': '2024-01-01T00:00:00Z', 'eventID': 'e'}",
	 PRB_FMT_AUTO, "cloudtrail lacks eventName", PRB_EMALFORMED},
	{"CloudTrail with a bad time",
	 "{" CT_BASE ", 'eventID': 'e', 'eventTime': '10 July 2023'}",
	 PRB_FMT_AUTO, "eventTime is not an RFC 3339 date-time",
	 PRB_EMALFORMED},
	{"CloudTrail with a numeric eventID",
	 "{" CT_BASE ", 'eventID': 5, 'eventTime': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "cloudtrail record: no event id (from eventID)",
	 PRB_EMALFORMED},
	{"Azure without correlation",
	 "{'operationName': 'x/y', 'resourceId': '/subscriptions/s', "
	 "'time': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "azure-activity lacks correlationId or eventDataId",
	 PRB_EMALFORMED},
	{"Azure without time, hinted",
	 "{'operationName': 'x/y', 'resourceUri': '/subscriptions/s', "
	 "'eventDataId': 'e'}",
	 PRB_FMT_AZURE, "lacks eventTimestamp or time", PRB_EMALFORMED},
	{"Log Analytics row without TimeGenerated",
	 "{'Type': 'AzureActivity', 'OperationNameValue': 'a/b', "
	 "'CorrelationId': 'c'}",
	 PRB_FMT_AUTO, "azure-activity lacks TimeGenerated", PRB_EMALFORMED},
	{"GCP without insertId",
	 "{'logName': 'projects/p/logs/cloudaudit.googleapis.com%2Factivity',"
	 " 'protoPayload': {'methodName': 'm'}, 'timestamp': "
	 "'2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "gcp-audit lacks insertId", PRB_EMALFORMED},
	{"GCP entry that is no audit log",
	 "{'insertId': 'i', 'logName': 'projects/p/logs/app', "
	 "'protoPayload': {'@type': 'type.googleapis.com/other'}, "
	 "'timestamp': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "gcp-audit lacks protoPayload \"@type\"",
	 PRB_EMALFORMED},
	{"GCP without methodName",
	 "{'insertId': 'i', 'logName': 'projects/p/logs/"
	 "cloudaudit.googleapis.com%2Factivity', 'protoPayload': {}, "
	 "'timestamp': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "no operation (from protoPayload.methodName)",
	 PRB_EMALFORMED},
	{"k8s without stage",
	 "{'kind': 'Event', 'auditID': 'a', 'verb': 'get', "
	 "'stageTimestamp': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "k8s-audit lacks stage", PRB_EMALFORMED},
	{"k8s of another apiVersion",
	 "{'kind': 'Event', 'apiVersion': 'v1', 'auditID': 'a', 'stage': "
	 "'s', 'verb': 'get', 'stageTimestamp': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_K8S, "lacks apiVersion audit.k8s.io/v1 or v1beta1",
	 PRB_EMALFORMED},
	{"AKS record holding no JSON",
	 "{'category': 'kube-audit', 'properties': {'log': 'I0101 started'}}",
	 PRB_FMT_AUTO, "k8s-audit lacks properties.log holding a JSON Event",
	 PRB_EMALFORMED},
	{"EKS record holding no JSON",
	 "{'logGroup': '/aws/eks/c/cluster', 'message': '{broken'}",
	 PRB_FMT_AUTO, "k8s-audit lacks message holding a JSON Event",
	 PRB_EMALFORMED},
	{"unknown record", "{'hello': 'world'}", PRB_FMT_AUTO,
	 "record fits no format: cloudtrail needs eventVersion, eventSource,"
	 " eventName, eventTime, eventID; azure-activity needs",
	 PRB_EMALFORMED},
	{"falco-like stub", "{'kind': 0}", PRB_FMT_AUTO,
	 "k8s-audit needs kind \"Event\", auditID", PRB_EMALFORMED},
	{"ambiguous record",
	 "{" CT_BASE ", 'eventID': 'e', 'eventTime': '2024-01-01T00:00:00Z',"
	 " 'insertId': 'i', 'logName': 'projects/p/logs/"
	 "cloudaudit.googleapis.com%2Factivity', 'protoPayload': {}, "
	 "'timestamp': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "ambiguous record: fits cloudtrail and gcp-audit",
	 PRB_EMALFORMED},
	{"hint mismatch",
	 "{" CT_BASE ", 'eventID': 'e', 'eventTime': '2024-01-01T00:00:00Z'}",
	 PRB_FMT_GCP, "a cloudtrail record, not gcp-audit", PRB_EMALFORMED},
	{"hint mismatch, partial hint",
	 "{'kind': 'Event', 'auditID': 'a', 'stage': 's', 'verb': 'get', "
	 "'timestamp': '2024-01-01T00:00:00Z', 'insertId': 'x'}",
	 PRB_FMT_GCP, "a k8s-audit record, not gcp-audit", PRB_EMALFORMED},
	{"U+0000 in a field",
	 "{" CT_BASE ", 'eventID': 'e\\u0000f', 'eventTime': "
	 "'2024-01-01T00:00:00Z'}",
	 PRB_FMT_AUTO, "event_id would hold U+0000", PRB_EMALFORMED},
	{"not an object", "[1]", PRB_FMT_AUTO,
	 "a record must be a JSON object", PRB_EMALFORMED},
	{"unknown hint", "{}", (prb_format)9, "unknown format 9",
	 PRB_EINVAL},
};

static void
test_event_errors(void)
{
	for (size_t i = 0; i < sizeof event_errors / sizeof event_errors[0]; i++) {
		prb_event ev;
		prb_err err;
		memset(&ev, 0x55, sizeof ev);
		int rc = event_of(event_errors[i].hint, event_errors[i].record, &ev, &err);
		CHECK(rc == event_errors[i].code && err.code == rc, "%s: rc %d (%s)",
		      event_errors[i].name, rc, err.msg);
		CHECK(strstr(err.msg, event_errors[i].has), "%s: \"%s\"", event_errors[i].name,
		      err.msg);
		CHECK(event_is_empty(&ev), "%s: event not empty", event_errors[i].name);
	}
	/* A hint does not settle a record that fits two formats: the index is
	 * rebuilt without hints, so such a record would never be indexed. */
	prb_event ev;
	prb_err err;
	memset(&ev, 0, sizeof ev);
	int rc = event_of(PRB_FMT_CLOUDTRAIL,
	                  "{" CT_BASE ", 'eventID': 'e', 'eventTime': "
	                  "'2024-01-01T00:00:00Z', 'insertId': 'i', 'logName': "
	                  "'projects/p/logs/cloudaudit.googleapis.com%2Factivity', "
	                  "'protoPayload': {}, 'timestamp': "
	                  "'2024-01-01T00:00:00Z'}",
	                  &ev, &err);
	CHECK(rc == PRB_EMALFORMED &&
	              strstr(err.msg, "ambiguous record: fits cloudtrail and "
	                              "gcp-audit") != NULL &&
	              event_is_empty(&ev),
	      "hinted ambiguous record refused: rc %d, %s", rc, err.msg);
	prb_event_free(NULL);
}

/* RFC 3339 times, normalised to UTC with "Z". */
static void
test_times(void)
{
	static const struct {
		const char *in, *out; /* out NULL: rejected */
	} cases[] = {
		{"2023-07-10T11:45:03Z", "2023-07-10T11:45:03Z"},
		{"2015-01-21T22:14:26.9792776Z", "2015-01-21T22:14:26.9792776Z"},
		{"2019-01-15T13:19:56.1227642+00:00", "2019-01-15T13:19:56.1227642Z"},
		{"2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00Z"},
		{"2024-01-01T00:10:00.50+05:30", "2023-12-31T18:40:00.50Z"},
		{"1999-12-31t23:59:59z", "1999-12-31T23:59:59Z"},
		{"2000-01-01 00:00:00Z", "2000-01-01T00:00:00Z"},
		{"2023-02-29T00:00:00Z", NULL},
		{"2023-01-01T24:00:00Z", NULL},
		{"2023-01-01T00:00:60Z", NULL},
		{"2023-01-01T00:00:00", NULL},
		{"2023-01-01T00:00:00.Z", NULL},
		{"2023-01-01T00:00:00+0100", NULL},
		{"2023-1-01T00:00:00Z", NULL},
		{"0000-01-01T00:30:00+01:00", NULL},
		{"2023-01-01T00:00:00Zjunk", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char rec[512];
		prb_event ev;
		prb_err err;
		snprintf(rec, sizeof rec,
		         "{" CT_BASE ", 'eventID': 'e', 'eventTime': '%s'}",
		         cases[i].in);
		int rc = event_of(PRB_FMT_AUTO, rec, &ev, &err);
		if (cases[i].out)
			CHECK(rc == 0 && streq(ev.time, cases[i].out),
			      "time %s: %s (%s)", cases[i].in, ev.time, err.msg);
		else
			CHECK(rc == PRB_EMALFORMED, "time %s accepted: %s",
			      cases[i].in, ev.time);
		prb_event_free(&ev);
	}
}

/* request/response are RFC 8785 text: the same whatever the member order
 * of the record (the export's, or the canonical entry's when reindexing). */
static void
test_request_canonical(void)
{
	static const char *recs[] = {
		"{'kind': 'Event', 'auditID': 'a', 'stage': 's', 'verb': 'get', "
		"'requestURI': '/', 'stageTimestamp': '2024-01-01T00:00:00Z', "
		"'requestObject': {'z': 1.0, 'a': [true, null, 'x\\u00e9']}}",
		"{'requestObject': {'a': [true, null, 'x\\u00e9'], 'z': 1}, "
		"'kind': 'Event', 'auditID': 'a', 'stage': 's', 'verb': 'get', "
		"'requestURI': '/', 'stageTimestamp': '2024-01-01T00:00:00Z'}",
	};
	for (size_t i = 0; i < 2; i++) {
		prb_event ev;
		prb_err err;
		CHECK(event_of(PRB_FMT_AUTO, recs[i], &ev, &err) == 0 &&
		              streq(ev.request, "{\"a\":[true,null,\"x\u00e9\"],"
		                                "\"z\":1}"),
		      "record %zu: request %s (%s)", i, ev.request, err.msg);
		prb_event_free(&ev);
	}
}

/* Numbers as text, in RFC 8785's (ECMAScript's) form, as in the entry (a
 * status code beyond long long once reached an undefined conversion). */
static void
test_numbers(void)
{
	static const struct {
		const char *code, *text;
	} cases[] = {
		{"201", "201"},       {"-3", "-3"},
		{"201.5", "201.5"},   {"9.0072e21", "9.0072e+21"},
		{"-1e300", "-1e+300"},
		{"9007199254740993", "9007199254740992"},
		{"1.50", "1.5"}, {"1e2", "100"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char rec[512];
		prb_event ev;
		prb_err err;
		snprintf(rec, sizeof rec,
		         "{'kind': 'Event', 'auditID': 'a', 'stage': 's', 'verb': "
		         "'get', 'requestURI': '/', 'stageTimestamp': "
		         "'2024-01-01T00:00:00Z', 'responseStatus': {'code': %s}}",
		         cases[i].code);
		CHECK(event_of(PRB_FMT_AUTO, rec, &ev, &err) == 0 &&
		              streq(ev.result, cases[i].text),
		      "code %s: result %s (%s)", cases[i].code, ev.result, err.msg);
		prb_event_free(&ev);
	}
}

static void
test_format_names(void)
{
	static const char *const names[] = {"auto", "cloudtrail",
	                                    "azure-activity", "gcp-audit",
	                                    "k8s-audit"};
	for (int i = 0; i < 5; i++) {
		prb_format f = (prb_format)99;
		CHECK(streq(prb_format_name((prb_format)i), names[i]) &&
		              prb_format_parse(names[i], &f) == 0 && (int)f == i,
		      "format %d", i);
	}
	prb_format f;
	CHECK(prb_format_parse("CloudTrail", &f) == PRB_EINVAL, "case");
	CHECK(prb_format_parse("", &f) == PRB_EINVAL, "empty name");
	CHECK(streq(prb_format_name((prb_format)7), "unknown"), "unknown");
	prb_event ev = {.event_id = "e", .response = "r"};
	CHECK(streq(prb_event_field_name(0), "event_id") &&
	              streq(prb_event_field_name(PRB_EVENT_NFIELDS - 1),
	                    "response") &&
	              !prb_event_field_name(PRB_EVENT_NFIELDS),
	      "field names");
	CHECK(streq(prb_event_field(&ev, 0), "e") &&
	              streq(prb_event_field(&ev, PRB_EVENT_NFIELDS - 1), "r") &&
	              !prb_event_field(&ev, 1) &&
	              !prb_event_field(&ev, PRB_EVENT_NFIELDS) &&
	              !prb_event_field(NULL, 0),
	      "fields");
}

/* ------------------------------------------------------------------ */
/* The shared data: real exports                                        */

static int
scan_file(const char *path, prb_format hint, collect *c, prb_err *err)
{
	size_t len;
	uint8_t *buf = vec_read_file(path, &len);
	if (!buf) {
		prb_err_set(err, PRB_EIO, path, UINT64_MAX, "cannot read");
		return PRB_EIO;
	}
	c->hint = hint;
	c->end = 0;
	c->n = 0;
	int rc = scan_text((const char *)buf, len, c, err);
	free(buf);
	return rc;
}

/* Totals over the files of dir whose names end with `ext`, except `skip`. */
typedef struct {
	size_t files, records, bad_events, formats[5];
	char first_error[900];
} totals;

static int
ends_with(const char *s, const char *ext)
{
	size_t n = strlen(s), k = strlen(ext);
	return n >= k && strcmp(s + n - k, ext) == 0;
}

static totals
scan_dir(const char *dir, const char *ext, const char *skip)
{
	totals t = {0};
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return t;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		if (!ends_with(e->d_name, ext) || (skip && !strcmp(e->d_name, skip)))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		collect c = {0};
		prb_err err;
		int rc = scan_file(path, PRB_FMT_AUTO, &c, &err);
		CHECK(rc == 0, "%s: %s", path, err.msg);
		t.files++;
		t.records += c.n;
		t.bad_events += c.bad_events;
		for (int i = 0; i < 5; i++)
			t.formats[i] += c.formats[i];
		if (c.bad_events && !t.first_error[0])
			snprintf(t.first_error, sizeof t.first_error, "%s: %s",
			         e->d_name, c.first_error);
		collect_done(&c);
	}
	closedir(d);
	return t;
}

static void
check_folder(const char *root, const char *sub, const char *ext,
             const char *skip, size_t files, size_t records, prb_format f)
{
	char dir[2048];
	snprintf(dir, sizeof dir, "%s/%s", root, sub);
	totals t = scan_dir(dir, ext, skip);
	CHECK(t.files == files && t.records == records,
	      "%s: %zu files, %zu records; want %zu, %zu", sub, t.files,
	      t.records, files, records);
	CHECK(t.bad_events == 0 && t.formats[f] == records,
	      "%s: %zu not normalised, %zu as %s (%s)", sub, t.bad_events,
	      t.formats[f], prb_format_name(f), t.first_error);
}

/* Records of the shared data, read off the files: the fields of the event
 * with `id` in `file`, scanned with `hint`. */
static const struct {
	const char *file;
	prb_format hint;
	const char *id;
	want w[12];
} spots[] = {
	{"cloudtrail/invictus/218007301253_CloudTrail_us-east-1_20230710T1205Z_"
	 "SjF3IkuNXJkoHyar.json",
	 PRB_FMT_CLOUDTRAIL, "68c99c97-c191-4329-b210-82ca8631066d",
	 {{"time", "2023-07-10T12:00:23Z"},
	  {"principal", "arn:aws:iam::123837392027:user/bert-jan"},
	  {"account", "123837392027"}, {"operation", "CreateBucket"},
	  {"region", "us-east-1"}, {"location", "us-east-1"},
	  {"resource_id", "arn:aws:s3:::stratus-red-team-ctlr-bucket-zqfsvooxqj"},
	  {"source_ip", "192.168.10.20"}}},
	{"cloudtrail/invictus/218007301253_CloudTrail_us-east-1_20230710T1145Z_"
	 "7xgocspSowgK0Gto.json",
	 PRB_FMT_AUTO, "4a81a319-3f88-4f76-a01d-4f206b7e1c0d",
	 {{"time", "2023-07-10T11:43:33Z"}, {"operation", "ListUsers"},
	  {"service", "iam.amazonaws.com"}, {"region", "us-east-1"},
	  {"location", NULL}, /* IAM is global */
	  {"principal", "arn:aws:iam::123837392027:user/benjamin"},
	  {"source_ip", "10.248.16.43"},
	  {"user_agent", "Boto3/1.26.165 Python/3.10.6 Linux/5.19.0-46-generic "
	                 "Botocore/1.29.165"}}},
	{"cloudtrail/stratus/aws.defense-evasion.cloudtrail-stop.json",
	 PRB_FMT_AUTO, "10163ed2-2253-469d-a5ee-cbc6651f8934",
	 {{"time", "2024-07-31T13:06:24Z"}, {"operation", "StopLogging"},
	  {"principal", "arn:aws:iam::143434273843:user/christophe"},
	  {"principal_type", "IAMUser"}, {"region", "apiso-centralnorth-2r"},
	  {"location", "apiso-centralnorth-2r"}, {"source_ip", "86.245.153.234"},
	  {"request", "{\"name\":\"stratus-red-team-ct-stop-trail-buykxbqejv\"}"},
	  {"response", NULL}}},
	{"cloudtrail/stratus/aws.credential-access.ec2-get-password-data.json",
	 PRB_FMT_AUTO, "450230d4-b39e-4a18-a6a0-d07a6e2105cb",
	 {{"time", "2024-07-30T21:31:21Z"}, {"result", "failure"},
	  {"error_code", "Client.UnauthorizedOperation"},
	  {"principal_type", "AssumedRole"},
	  {"principal_account", "457448411975"},
	  {"region", "apiso-northsouth-3r"}, {"source_ip", "200.249.253.51"}}},
	{"azure-activity/microsoft-docs/activity-log-schema.md.rest-api.jsonl",
	 PRB_FMT_AZURE, "d0d36f97-b29c-4cd9-9d3d-ea2b92af3e9d",
	 {{"time", "2018-01-29T20:42:31.3810679Z"},
	  {"principal", "rob@contoso.com"},
	  {"principal_account", "1114444b-7467-4144-a616-e3a5d63e147b"},
	  {"operation", "Microsoft.Network/networkSecurityGroups/write"},
	  {"resource_id", "/subscriptions/<subscription ID>/resourcegroups/"
	                  "myResourceGroup/providers/Microsoft.Network/"
	                  "networkSecurityGroups/myNSG"},
	  {"account", "<subscription ID>"}, {"result", "Succeeded"},
	  {"region", NULL}}},
	{"azure-activity/microsoft-docs/"
	 "activity-log-schema.md.policy-repaired.jsonl",
	 PRB_FMT_AUTO, "d0d36f97-b29c-4cd9-9d3d-ea2b92af3e9d",
	 {{"operation", "Microsoft.Authorization/policies/audit/action"},
	  {"location", "westus2"},
	  {"resource_type", "Microsoft.Resources/checkPolicyCompliance"}}},
	{"azure-activity/microsoft-docs/"
	 "activity-log-schema.md.eventhub-envelope.jsonl",
	 PRB_FMT_AUTO,
	 "c776f9f4-36e5-4e0e-809b-c9b3c3fb62a8/microsoft.support/supporttickets/"
	 "write/Success/2019-01-21T22:14:26.9792776Z",
	 {{"account", "s1"}, {"region", "global"},
	  {"principal", "admin@contoso.com"},
	  {"principal_type", "ServicePrincipal"},
	  {"source_ip", "111.111.111.11"},
	  {"resource_type", "microsoft.support/supporttickets"}}},
	{"gcp-audit/google-cloudevents/LogEntryData-pubsubCreateTopic.json",
	 PRB_FMT_GCP, "9frck8cf9j",
	 {{"time", "2020-06-30T16:14:47.593398572Z"},
	  {"principal", "robot@test-project.iam.gserviceaccount.com"},
	  {"principal_type", "ServiceAccount"},
	  {"operation", "google.pubsub.v1.Publisher.CreateTopic"},
	  {"resource_id", "projects/test-project/topics/test-auditlogs-source"},
	  {"resource_type", "pubsub_topic"}, {"account", "test-project"},
	  {"location", "asia-east1"}, {"region", NULL},
	  {"source_ip", "192.168.0.1"}, {"result", "success"}}},
	{"gcp-audit/google-cloudevents/"
	 "cloudevent-structured-LogEntryData-bigqueryjobcompleted.json",
	 PRB_FMT_AUTO, "1234567",
	 {{"operation", "jobservice.jobcompleted"},
	  {"resource_id", "projects/test-project/jobs/sample-job"},
	  {"time", "2021-11-25T21:56:00.276607Z"},
	  {"source_ip", "2620:15c:0:200:1a75:e914:115b:e970"}}},
	{"k8s-audit/falco/create_kube_system_secret.json", PRB_FMT_K8S,
	 "263db4e4-f0bb-41b4-913d-c03815f49be5/ResponseComplete",
	 {{"time", "2020-03-24T18:53:49.023018Z"}, {"principal", "admin"},
	  {"operation", "create secrets"},
	  {"resource_id", "/api/v1/namespaces/kube-system/secrets/"
	                  "bootstrap-token-ne7bxu"},
	  {"source_ip", "127.0.0.1"},
	  {"user_agent", "kubeadm/v1.16.2 (linux/amd64) kubernetes/c97fe50"},
	  {"result", "201"}, {"account", NULL}}},
	{"k8s-audit/falco/attach_pod.json", PRB_FMT_AUTO,
	 "14933b4e-7b09-4964-af09-b7987367e1ba/ResponseStarted",
	 {{"operation", "create pods/attach"},
	  {"resource_id", "/api/v1/namespaces/default/pods/"
	                  "nginx-deployment-7998647bdf-phvq7/attach"},
	  {"result", "101"}, {"time", "2018-10-26T13:42:46.764713Z"}}},
};

static void
check_spots(const char *root)
{
	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		char path[4096];
		prb_err err;
		collect c = {.want_id = spots[i].id};
		snprintf(path, sizeof path, "%s/%s", root, spots[i].file);
		int rc = scan_file(path, spots[i].hint, &c, &err);
		CHECK(rc == 0 && c.nfound == 1 && c.bad_events == 0,
		      "%s: event %s found %d times (%s %s)", spots[i].file,
		      spots[i].id, c.nfound, err.msg, c.first_error);
		check_fields(spots[i].file, &c.found, spots[i].w);
		collect_done(&c);
	}
}

/* The REST spec example wraps the list response in an OpenAPI example:
 * as a file it is one record that is no event; its body is the list. */
static void
spot_azure_rest_spec(const char *root)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof path, "%s/azure-activity/azure-rest-api-specs/"
	                            "GetActivityLogsFiltered.json", root);
	uint8_t *buf = vec_read_file(path, &len);
	CHECK(buf != NULL, "read %s", path);
	if (!buf)
		return;
	collect whole = {0};
	prb_err err;
	CHECK(scan_text((char *)buf, len, &whole, &err) == 0 && whole.n == 1 &&
	              whole.bad_events == 1 &&
	              strstr(whole.first_error, "record fits no format"),
	      "REST spec file as a whole: %zu records, %s", whole.n,
	      whole.first_error);
	const char *body = strstr((char *)buf, "\"body\": {");
	json_error_t je;
	json_t *v = body ? json_loadb(body + 8, len - (size_t)(body + 8 -
	                                                       (char *)buf),
	                              JSON_DISABLE_EOF_CHECK, &je)
	                 : NULL;
	CHECK(v != NULL, "REST spec body");
	if (v) {
		collect c = {.want_id = "44ade6b4-3813-45e6-ae27-7420a95fa2f8"};
		CHECK(scan_text(body + 8, (size_t)je.position, &c, &err) == 0 &&
		              c.n == 1 && c.formats[PRB_FMT_AZURE] == 1 &&
		              c.nfound == 1,
		      "REST list response: %s %s", err.msg, c.first_error);
		check_fields("REST list response", &c.found,
		             (const want[]){
				     {"time", "2015-01-21T22:14:26.9792776Z"},
				     {"principal", "admin@contoso.com"},
				     {"principal_account",
				      "1e8d8218-c5e7-4578-9acc-9abbd5d23315"},
				     {"source_ip", "192.168.35.115"},
				     {"operation",
				      "microsoft.support/supporttickets/write"},
				     {"account", "089bd33f-d4ec-47fe-8ba5-0753aa5c5b33"},
				     {"resource_type", "microsoft.support/supporttickets"},
				     {"resource_id",
				      "/subscriptions/089bd33f-d4ec-47fe-8ba5-0753aa5c5b33/"
				      "resourceGroups/MSSupportGroup/providers/"
				      "microsoft.support/supporttickets/115012112305841"},
				     {NULL, NULL}});
		collect_done(&c);
	}
	json_decref(v);
	free(buf);
}

/* As published, the Policy example breaks a JSON string across lines: the
 * first raw line break inside it is the error. */
static void
spot_azure_policy_as_published(const char *root)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof path, "%s/azure-activity/microsoft-docs/"
	                            "activity-log-schema.md.policy-as-published"
	                            ".json.txt", root);
	uint8_t *buf = vec_read_file(path, &len);
	CHECK(buf != NULL, "read %s", path);
	if (!buf)
		return;
	const char *nl = strstr((char *)buf, "/providers/Microsoft.\n");
	uint64_t want = nl ? (uint64_t)(nl - (char *)buf) + 21 : 0;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "line %llu, record 1: ",
	         (unsigned long long)line_of((char *)buf, want));
	collect c = {0};
	prb_err err;
	int rc = scan_text((char *)buf, len, &c, &err);
	CHECK(rc == PRB_EMALFORMED && err.offset == want && c.n == 0 &&
	              strncmp(err.msg, prefix, strlen(prefix)) == 0 &&
	              strstr(err.msg, "unexpected newline"),
	      "Policy as published: rc %d offset %llu (want %llu) %s", rc,
	      (unsigned long long)err.offset, (unsigned long long)want,
	      err.msg);
	CHECK(strncmp(prefix, "line 67,", 8) == 0, "%s", prefix);
	free(buf);
}

/* The malformed regression stub scans as a record that fits nothing. */
static void
spot_falco_stub(const char *root)
{
	collect s = {0};
	char path[4096];
	prb_err err;
	snprintf(path, sizeof path, "%s/k8s-audit/falco/fal_01_003.json", root);
	CHECK(scan_file(path, PRB_FMT_AUTO, &s, &err) == 0 && s.n == 1 &&
	              s.bad_events == 1 &&
	              strstr(s.first_error, "record fits no format") &&
	              strstr(s.first_error, "kind \"Event\""),
	      "fal_01_003.json: %s", s.first_error);
	collect_done(&s);
	collect k = {0};
	CHECK(scan_file(path, PRB_FMT_K8S, &k, &err) == 0 && k.bad_events == 1 &&
	              strstr(k.first_error, "not a k8s-audit record: lacks kind "
	                                    "\"Event\", auditID, stage, verb"),
	      "fal_01_003.json as k8s: %s", k.first_error);
	collect_done(&k);
}

static void
test_shared_data(void)
{
	const char *readme = t_shared("data/README.md");
	if (!readme) {
		SKIP("no shared data (set PRB_SHARED to the shared directory): "
		     "the real exports are not checked");
		return;
	}
	char root[1024];
	snprintf(root, sizeof root, "%.*s", (int)(strlen(readme) - 10), readme);
	check_folder(root, "cloudtrail/invictus", ".json", NULL, 55, 2900,
	             PRB_FMT_CLOUDTRAIL);
	check_folder(root, "cloudtrail/stratus", ".json", NULL, 35, 310,
	             PRB_FMT_CLOUDTRAIL);
	check_folder(root, "azure-activity/microsoft-docs", ".jsonl", NULL, 3, 9,
	             PRB_FMT_AZURE);
	check_folder(root, "gcp-audit/google-cloudevents", ".json", NULL, 4, 4,
	             PRB_FMT_GCP);
	check_folder(root, "k8s-audit/falco", ".json", "fal_01_003.json", 46, 51,
	             PRB_FMT_K8S);
	check_spots(root);
	spot_azure_rest_spec(root);
	spot_azure_policy_as_published(root);
	spot_falco_stub(root);
}

int
main(void)
{
	test_jansson_positions();
	test_scan_shapes();
	test_scan_positions();
	test_scan_errors();
	test_samples();
	test_event_errors();
	test_times();
	test_numbers();
	test_request_canonical();
	test_format_names();
	test_shared_data();
	return T_DONE("test_ingest_formats");
}
