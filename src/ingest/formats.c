/*
 * Recognising a record's format and normalising it into a prb_event.
 * The formats themselves live in cloudtrail.c, azure.c, gcp.c and k8s.c;
 * this file holds what they share: detection, the helpers that read a
 * record and fill an event, and RFC 3339 time normalisation.
 *
 * Detection is by content. A format's required fields (below, "needs")
 * decide: a record that has them all for exactly one format is of that
 * format; for two, it is ambiguous; for none, the error names what the
 * closest formats lack. A field counts when present and neither null nor "".
 *
 *   cloudtrail      needs eventVersion, eventSource, eventName, eventTime,
 *                   eventID
 *   azure-activity  REST/portal and storage/Event Hubs schemas: operationName,
 *                   resourceId|resourceUri|authorization (the REST list
 *                   example of azure-rest-api-specs names its resource only
 *                   in authorization.scope), correlationId|eventDataId,
 *                   eventTimestamp|time. Log Analytics AzureActivity rows
 *                   (Type "AzureActivity", or OperationNameValue with
 *                   TimeGenerated): TimeGenerated, OperationNameValue|
 *                   OperationName, CorrelationId|EventDataId. An AKS
 *                   kube-audit resource log is k8s, never Azure Activity.
 *   gcp-audit       LogEntry, alone or as "data" of a structured CloudEvent:
 *                   insertId, logName, protoPayload, timestamp, and
 *                   protoPayload "@type" google.cloud.audit.AuditLog -- or,
 *                   where "@type" is absent (older BigQuery entries), a
 *                   logName of .../logs/cloudaudit.googleapis.com%2F...
 *   k8s-audit       kind "Event", apiVersion audit.k8s.io/v1 or /v1beta1 or
 *                   none, auditID, stage, verb, requestReceivedTimestamp|
 *                   stageTimestamp|timestamp; alone, as an AKS diagnostic
 *                   record {"category":"kube-audit[-admin]","properties":
 *                   {"log":"<Event>"}} or as an EKS CloudWatch Logs event
 *                   {"message":"<Event>", "logGroup":..., ...}
 *
 * Field mapping ("a|b": a, else b; "-": never set). Strings are copied as
 * the record has them, except time (RFC 3339 UTC, "Z", fraction kept).
 *
 * field        | cloudtrail                  | azure-activity (REST; storage/EH; LA row)      | gcp-audit (pp = protoPayload)              | k8s-audit
 * -------------+-----------------------------+------------------------------------------------+--------------------------------------------+---------------------------------------
 * event_id     | eventID                     | eventDataId|EventDataId|properties.eventDataId, | insertId                                   | auditID "/" stage
 *              |                             | else correlationId "/" operationId, else       |                                            |
 *              |                             | correlationId "/" operation "/" result "/" time|                                            |
 * time         | eventTime                   | eventTimestamp|time|TimeGenerated              | timestamp                                  | requestReceivedTimestamp|stageTimestamp|timestamp
 * account      | recipientAccountId|         | subscriptionId|SubscriptionId|the             | resource.labels.project_id|the project of  | cluster: AKS wrapper resourceId; EKS
 *              | userIdentity.accountId      | /subscriptions/<id> of the resource id        | logName "projects/<p>/logs/..."            | logGroup "/aws/eks/<name>/cluster" -> name
 * tenant       | -                           | tenantId (LA TenantId is the workspace: -)     | <id> of logName "organizations/<id>/..."   | -
 * principal    | userIdentity.arn|invokedBy| | caller|Caller|claims upn|objectidentifier|spn| | pp.authenticationInfo.principalEmail|      | user.username
 *              | userName|principalId        | appid (claims: claims|identity.claims|Claims_d)| principalSubject                           |
 * principal_   | userIdentity.accountId      | claims ".../identity/claims/tenantid"          | -                                          | -
 *  account     |                             |                                                |                                            |
 * principal_   | userIdentity.type           | authorization.evidence.principalType|claims    | "ServiceAccount" for *.gserviceaccount.com,| ServiceAccount, Node, Anonymous, System
 *  type        |                             | idtyp (authorization: |identity.|Authorization_d)| else "User" for an email                 | (system:... names), else User
 * service      | eventSource                 | resourceProviderName.value|ResourceProviderValue| pp.serviceName                            | objectRef.apiGroup, "core" for the
 *              |                             | |operation's provider prefix ("Microsoft.X")   |                                            | legacy group
 * operation    | eventName                   | operationName.value|operationName|             | pp.methodName                              | verb " " resource["/" subresource], or
 *              |                             | OperationNameValue                             |                                            | verb " " requestURI path
 * resource_id  | resources[0].ARN|S3         | resourceId|resourceUri|_ResourceId|ResourceId| | pp.resourceName                            | /api/<v> or /apis/<group>/<v>
 *              | bucketName as arn:aws:s3:::b| authorization.scope|Authorization_d.scope      |                                            | [/namespaces/<ns>]/<resource>[/<name>][/<sub>]
 * resource_type| resources[0].type|          | resourceType.value|the type path of the        | resource.type                              | objectRef.resource
 *              | AWS::S3::Bucket             | resource id ("Microsoft.Sql/servers")          |                                            |
 * region       | awsRegion                   | location (storage/EH: where it was processed)  | -                                          | -
 * location     | S3 CreateBucket: Location-  | properties.requestbody's "location"|          | pp.resourceLocation.currentLocations[0]|   | -
 *              | Constraint|us-east-1 ("EU": | properties.location|properties.resourceLocation| resource.labels.location|region|zone      |
 *              | eu-west-1); global services:| |resourceLocation (properties: |Properties_d)  |                                            |
 *              | -; else awsRegion           |                                                |                                            |
 * result       | errorCode ? failure:success | status.value|resultType|ActivityStatusValue    | pp.status.code 0 or none: success, else    | responseStatus.code ("201")
 *              |                             |                                                | failure                                    |
 * error_code   | errorCode                   | statusMessage's error.code|, when failed,      | the google.rpc.Code name of pp.status.code | responseStatus.reason
 *              |                             | subStatus.value|ActivitySubstatusValue|        | ("PERMISSION_DENIED")                      |
 *              |                             | resultSignature                                |                                            |
 * source_ip    | sourceIPAddress             | httpRequest.clientIpAddress|callerIpAddress|  | pp.requestMetadata.callerIp                | sourceIPs[0]
 *              |                             | CallerIpAddress                                |                                            |
 * user_agent   | userAgent                   | -                                              | pp.requestMetadata.callerSuppliedUserAgent | userAgent
 * request      | requestParameters           | properties.requestbody (the JSON it holds)     | pp.request                                 | requestObject
 * response     | responseElements            | properties.responseBody (the JSON it holds)    | pp.response                                | responseObject
 *
 * Global AWS services (no location): iam, sts, signin, organizations,
 * cloudfront, route53, globalaccelerator, waf, shield (.amazonaws.com).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/formats.h"
#include "probity/jcs.h"

static const fx_format *const formats[] = {
	&fx_cloudtrail, &fx_azure, &fx_gcp, &fx_k8s,
};
#define NFORMATS (sizeof formats / sizeof formats[0])

static const char *const format_names[] = {
	[PRB_FMT_AUTO] = "auto",
	[PRB_FMT_CLOUDTRAIL] = "cloudtrail",
	[PRB_FMT_AZURE] = "azure-activity",
	[PRB_FMT_GCP] = "gcp-audit",
	[PRB_FMT_K8S] = "k8s-audit",
};
#define NNAMES (sizeof format_names / sizeof format_names[0])

/* Every string field of prb_event, for freeing and for naming a field in
 * an error. */
static const struct {
	size_t off;
	const char *name;
} event_fields[] = {
#define F(x) {offsetof(prb_event, x), #x}
	F(event_id), F(time), F(account), F(tenant), F(principal),
	F(principal_account), F(principal_type), F(service), F(operation),
	F(resource_id), F(resource_type), F(region), F(location), F(result),
	F(error_code), F(source_ip), F(user_agent), F(request), F(response),
#undef F
};
#define NFIELDS (sizeof event_fields / sizeof event_fields[0])

_Static_assert(NFIELDS == PRB_EVENT_NFIELDS &&
                       sizeof(prb_event) == offsetof(prb_event, event_id) +
                                                    NFIELDS * sizeof(char *),
               "event_fields lists every string field of prb_event");

const char *
prb_event_field_name(size_t i)
{
	return i < NFIELDS ? event_fields[i].name : NULL;
}

const char *
prb_event_field(const prb_event *ev, size_t i)
{
	if (!ev || i >= NFIELDS)
		return NULL;
	return *(char *const *)((const char *)ev + event_fields[i].off);
}

const char *
prb_format_name(prb_format f)
{
	if ((unsigned)f >= NNAMES)
		return "unknown";
	return format_names[f];
}

int
prb_format_parse(const char *name, prb_format *out)
{
	for (size_t i = 0; name && i < NNAMES; i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (prb_format)i;
			return 0;
		}
	}
	return PRB_EINVAL;
}

/* ---- reading a record ------------------------------------------------ */

const json_t *
fx_at(const json_t *obj, const char *path)
{
	char key[128];
	while (obj && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof key || !json_is_object(obj))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		path += n + (path[n] == '.');
	}
	return obj;
}

const char *
fx_str(const json_t *obj, const char *path)
{
	const json_t *v = fx_at(obj, path);
	return json_is_string(v) && json_string_length(v) > 0
	               ? json_string_value(v)
	               : NULL;
}

int
fx_is(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

json_t *
fx_parse_string(const json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	return json_loadb(json_string_value(v), json_string_length(v),
	                  FX_JSON_FLAGS, NULL);
}

void
fx_missing(fx_match *m, const char *what)
{
	size_t used = strlen(m->missing);
	snprintf(m->missing + used, sizeof m->missing - used, "%s%s",
	         used ? ", " : "", what);
}

/* A field "counts" when present and neither null nor "". */
static int
field_counts(const json_t *obj, const char *name, size_t n)
{
	char key[64];
	if (n >= sizeof key)
		return 0;
	memcpy(key, name, n);
	key[n] = '\0';
	const json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v) &&
	       !(json_is_string(v) && json_string_length(v) == 0);
}

void
fx_require(const json_t *obj, const char *const *groups, size_t n,
           fx_match *m)
{
	for (size_t i = 0; i < n; i++) {
		const char *g = groups[i];
		int found = 0;
		while (!found && *g) {
			size_t k = strcspn(g, "|");
			found = field_counts(obj, g, k);
			g += k + (g[k] == '|');
		}
		m->needed++;
		if (found) {
			m->present++;
			continue;
		}
		/* "a|b" is written "a or b" in the message. */
		char what[128];
		size_t w = 0;
		for (g = groups[i]; *g && w + 4 < sizeof what; g++) {
			if (*g == '|') {
				memcpy(what + w, " or ", 4);
				w += 4;
			} else {
				what[w++] = *g;
			}
		}
		what[w] = '\0';
		fx_missing(m, what);
	}
}

/* ---- filling an event ------------------------------------------------ */

static const char *
field_name(const fx_out *o, char **dst)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if ((char *)o->ev + event_fields[i].off == (char *)dst)
			return event_fields[i].name;
	return "field";
}

void
fx_fail(fx_out *o, const char *fmt, ...)
{
	if (o->rc)
		return;
	va_list ap;
	char msg[sizeof o->err->msg];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->rc = prb_err_set(o->err, PRB_EMALFORMED, NULL, UINT64_MAX, "%s",
	                    msg);
}

static void
out_of_memory(fx_out *o)
{
	if (!o->rc)
		o->rc = prb_err_set(o->err, PRB_ENOMEM, NULL, UINT64_MAX,
		                    "out of memory");
}

void
fx_setn(fx_out *o, char **dst, const char *s, size_t n)
{
	if (*dst || n == 0)
		return;
	if (memchr(s, '\0', n)) {
		fx_fail(o, "%s would hold U+0000, which it cannot keep",
		        field_name(o, dst));
		return;
	}
	if (!(*dst = malloc(n + 1))) {
		out_of_memory(o);
		return;
	}
	memcpy(*dst, s, n);
	(*dst)[n] = '\0';
}

void
fx_set(fx_out *o, char **dst, const json_t *v)
{
	if (json_is_string(v))
		fx_setn(o, dst, json_string_value(v), json_string_length(v));
}

void
fx_set_first(fx_out *o, char **dst, const json_t *obj, ...)
{
	va_list ap;
	va_start(ap, obj);
	for (const char *p = va_arg(ap, const char *); p && !*dst;
	     p = va_arg(ap, const char *))
		fx_set(o, dst, fx_at(obj, p));
	va_end(ap);
}

void
fx_setf(fx_out *o, char **dst, const char *fmt, ...)
{
	if (*dst)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		out_of_memory(o);
		return;
	}
	fx_setn(o, dst, s, (size_t)n);
	free(s);
}

void
fx_set_number(fx_out *o, char **dst, const json_t *v)
{
	if (!json_is_number(v))
		return;
	fx_set_json(o, dst, v); /* RFC 8785's number form, as in the entry */
}

void
fx_set_json(fx_out *o, char **dst, const json_t *v)
{
	if (*dst || !v || json_is_null(v))
		return;
	/* RFC 8785 form: the same text whatever the member order of the
	 * record it came from (the export's or the canonical entry's) */
	char *s;
	size_t n;
	int rc = prb_jcs_encode(v, &s, &n, NULL);
	if (rc == PRB_ENOMEM) {
		out_of_memory(o);
		return;
	}
	if (rc != 0)
		return;
	fx_setn(o, dst, s, n);
	free(s);
}

void
fx_set_time(fx_out *o, const json_t *v, const char *name)
{
	if (o->ev->time || !v || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0))
		return; /* absent: the next candidate field may have it */
	size_t n = json_is_string(v) ? json_string_length(v) : 0;
	char *t = malloc(n + 1);
	if (!t) {
		out_of_memory(o);
		return;
	}
	if (n == 0 || fx_time_utc(json_string_value(v), n, t) != 0) {
		free(t);
		fx_fail(o, "%s is not an RFC 3339 date-time", name);
		return;
	}
	o->ev->time = t;
}

/* ---- RFC 3339 -------------------------------------------------------- */

/* n decimal digits at s, or -1. */
static int
digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The zone suffix at s[0..n): "Z", or "+hh:mm" / "-hh:mm" as seconds east
 * of UTC into *off. */
static int
zone_offset(const char *s, size_t n, long *off)
{
	if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 0;
	}
	if (n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return -1;
	int h = digits(s + 1, 2), m = digits(s + 4, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*off = (s[0] == '-' ? -1L : 1L) * (h * 3600L + m * 60L);
	return 0;
}

int
fx_time_utc(const char *s, size_t n, char *out)
{
	struct tm tm = {0}, utc;
	size_t i = 19, frac = 0;
	long off;
	if (n < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
	    s[16] != ':' || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2),
	    h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 59)
		return -1;
	while (s[i] == '.' && i + 1 + frac < n && s[i + 1 + frac] >= '0' &&
	       s[i + 1 + frac] <= '9')
		frac++;
	if (s[i] == '.' && frac == 0)
		return -1;
	i += frac ? frac + 1 : 0;
	if (zone_offset(s + i, n - i, &off) != 0)
		return -1;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
	time_t t = timegm(&tm); /* normalises a day past the month's end */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	t -= off;
	if (!gmtime_r(&t, &utc) || utc.tm_year < -1900 ||
	    utc.tm_year > 9999 - 1900)
		return -1;
	char head[64];
	snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d",
	         utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
	         utc.tm_min, utc.tm_sec);
	size_t f = frac ? frac + 1 : 0; /* ".digits" kept as written */
	memcpy(out, head, 19);
	memcpy(out + 19, s + 19, f);
	out[19 + f] = 'Z';
	out[20 + f] = '\0';
	return 0;
}

/* ---- detection ------------------------------------------------------- */

static void
match_release(fx_match *m)
{
	json_decref(m->owned);
	memset(m, 0, sizeof *m);
}

/* Why no format was chosen for a record: the hinted format's missing
 * fields (or the format the record is instead), the formats an ambiguous
 * record fits, or what the closest formats lack. */
static int
explain(prb_format hint, const fx_match *ms, const int *complete,
        prb_err *err)
{
	char msg[sizeof err->msg] = "";
	int best = 0;
	size_t ncomplete = 0;
	for (size_t i = 0; i < NFORMATS; i++) {
		ncomplete += complete[i] != 0;
		best = ms[i].present > best ? ms[i].present : best;
	}
	for (size_t i = 0; i < NFORMATS; i++) {
		size_t used = strlen(msg);
		const char *name = formats[i]->name;
		if (hint != PRB_FMT_AUTO && complete[i])
			snprintf(msg, sizeof msg, "a %s record, not %s", name,
			         prb_format_name(hint));
		else if (hint != PRB_FMT_AUTO && formats[i]->format == hint &&
		         !used)
			snprintf(msg, sizeof msg, "not a %s record: lacks %s",
			         name, ms[i].missing);
		else if (hint == PRB_FMT_AUTO && ncomplete > 1 && complete[i])
			snprintf(msg + used, sizeof msg - used, "%s%s",
			         used ? " and " : "ambiguous record: fits ", name);
		else if (hint == PRB_FMT_AUTO && ncomplete == 0 &&
		         ms[i].present == best)
			snprintf(msg + used, sizeof msg - used, "%s%s %s %s",
			         used    ? "; "
			         : best ? "incomplete record: as "
			                : "record fits no format: ",
			         name, best ? "lacks" : "needs", ms[i].missing);
	}
	return prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX, "%s", msg);
}

/* Recognises rec's format, or checks it is of the hinted one: *which and
 * *m, or an error. A record that fits two formats is refused even with a
 * hint: reindex and verify rebuild the index with no hint, so a record
 * only a hint could place would be committed but never indexed (and so
 * not deduplicated). */
static int
detect(prb_format hint, const json_t *rec, const fx_format **which,
       fx_match *m, prb_err *err)
{
	fx_match ms[NFORMATS];
	int complete[NFORMATS], rc = 0;
	size_t pick = NFORMATS, ncomplete = 0;
	for (size_t i = 0; i < NFORMATS; i++) {
		memset(&ms[i], 0, sizeof ms[i]);
		complete[i] = formats[i]->match(rec, &ms[i]);
		ncomplete += complete[i] != 0;
		if (complete[i] && (hint == PRB_FMT_AUTO ||
		                    formats[i]->format == hint))
			pick = pick == NFORMATS ? i : NFORMATS + 1;
	}
	if (ncomplete > 1)
		rc = explain(PRB_FMT_AUTO, ms, complete, err);
	else if (pick >= NFORMATS)
		rc = explain(hint, ms, complete, err);
	if (ncomplete > 1)
		pick = NFORMATS;
	for (size_t i = 0; i < NFORMATS; i++) {
		if (i == pick) {
			*m = ms[i];
			*which = formats[i];
		} else {
			match_release(&ms[i]);
		}
	}
	return rc;
}

void
prb_event_free(prb_event *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < NFIELDS; i++) {
		char **p = (char **)((char *)ev + event_fields[i].off);
		free(*p);
		*p = NULL;
	}
}

int
prb_event_from_record(prb_format hint, const json_t *rec, prb_event *ev,
                      prb_err *err)
{
	const fx_format *f = NULL;
	fx_match m;
	memset(ev, 0, sizeof *ev);
	if ((unsigned)hint >= NNAMES)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "unknown format %d", (int)hint);
	if (!json_is_object(rec))
		return prb_err_set(err, PRB_EMALFORMED, NULL, UINT64_MAX,
		                   "a record must be a JSON object");
	int rc = detect(hint, rec, &f, &m, err);
	if (rc)
		return rc;
	fx_out o = {ev, err, 0};
	ev->format = f->format;
	f->fill(&m, &o);
	if (!o.rc && !ev->event_id)
		fx_fail(&o, "%s record: no event id (from %s)", f->name,
		        f->id_from);
	if (!o.rc && !ev->time)
		fx_fail(&o, "%s record: no time (from %s)", f->name,
		        f->time_from);
	if (!o.rc && !ev->operation)
		fx_fail(&o, "%s record: no operation (from %s)", f->name,
		        f->op_from);
	match_release(&m);
	if (o.rc) {
		prb_event_free(ev);
		memset(ev, 0, sizeof *ev);
	}
	return o.rc;
}
