/*
 * GCP Cloud Audit Logs: a Cloud Logging LogEntry whose protoPayload is a
 * google.cloud.audit.AuditLog, as exported (one entry, or JSON Lines from a
 * sink) or delivered by Eventarc as the "data" of a structured CloudEvent.
 * GKE's Kubernetes audit entries are LogEntries too, so they are read here.
 * Field mapping: the table in formats.c.
 */
#include <string.h>

#include "ingest/adapters.h" /* what this file defines */
#include "ingest/fx.h"

#define AUDIT_LOG "type.googleapis.com/google.cloud.audit.AuditLog"

static const char *const required[] = {
	"insertId", "logName", "protoPayload", "timestamp",
};

/* google.rpc.Code names, by value. */
static const char *const rpc_codes[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

/* The protoPayload is an AuditLog: its "@type" says so, or, where it has
 * none (older BigQuery entries), the log is one of Cloud Audit Logs. */
static int
is_audit_log(const json_t *entry)
{
	const json_t *pp = json_object_get(entry, "protoPayload");
	const json_t *type = json_object_get(pp, "@type");
	const char *log = fx_str(entry, "logName");
	if (!json_is_object(pp))
		return 0;
	if (type)
		return fx_is(type, AUDIT_LOG);
	return log && strstr(log, "/logs/cloudaudit.googleapis.com") != NULL;
}

static int
match(const json_t *rec, fx_match *m)
{
	const json_t *data = json_object_get(rec, "data");
	m->core = rec;
	if (!json_object_get(rec, "protoPayload") &&
	    json_object_get(data, "protoPayload")) {
		m->core = data; /* structured CloudEvent */
		m->wrap = rec;
	}
	fx_require(m->core, required, sizeof required / sizeof required[0], m);
	m->needed++;
	if (is_audit_log(m->core))
		m->present++;
	else if (json_object_get(m->core, "protoPayload"))
		fx_missing(m, "protoPayload \"@type\" " AUDIT_LOG);
	return m->present == m->needed;
}

/* The part of logName "projects/<p>/logs/..." after `prefix`. */
static void
set_from_log_name(fx_out *o, char **dst, const char *log, const char *prefix)
{
	size_t n = strlen(prefix);
	if (log && strncmp(log, prefix, n) == 0)
		fx_setn(o, dst, log + n, strcspn(log + n, "/"));
}

static void
set_status(const json_t *pp, fx_out *o)
{
	const json_t *code = fx_at(pp, "status.code");
	double c = json_is_number(code) ? json_number_value(code) : 0;
	fx_setf(o, &o->ev->result, "%s", c == 0 ? "success" : "failure");
	if (c >= 1 && c < sizeof rpc_codes / sizeof rpc_codes[0] &&
	    c == (double)(int)c)
		fx_setf(o, &o->ev->error_code, "%s", rpc_codes[(int)c]);
	else if (c != 0)
		fx_set_number(o, &o->ev->error_code, code);
}

/* Service accounts by their e-mail domain; other e-mails are users. */
static void
set_principal(const json_t *pp, fx_out *o)
{
	static const char sa[] = ".gserviceaccount.com";
	const char *email = fx_str(pp, "authenticationInfo.principalEmail");
	size_t n = email ? strlen(email) : 0;
	fx_set_first(o, &o->ev->principal, pp,
	             "authenticationInfo.principalEmail",
	             "authenticationInfo.principalSubject", NULL);
	if (n > sizeof sa - 1 && strcmp(email + n - (sizeof sa - 1), sa) == 0)
		fx_setf(o, &o->ev->principal_type, "ServiceAccount");
	else if (email && strchr(email, '@'))
		fx_setf(o, &o->ev->principal_type, "User");
}

static void
fill(const fx_match *m, fx_out *o)
{
	const json_t *e = m->core;
	const json_t *pp = json_object_get(e, "protoPayload");
	const char *log = fx_str(e, "logName");
	prb_event *ev = o->ev;
	fx_set(o, &ev->event_id, json_object_get(e, "insertId"));
	fx_set_time(o, json_object_get(e, "timestamp"), "timestamp");
	fx_set(o, &ev->account, fx_at(e, "resource.labels.project_id"));
	set_from_log_name(o, &ev->account, log, "projects/");
	set_from_log_name(o, &ev->tenant, log, "organizations/");
	set_principal(pp, o);
	fx_set(o, &ev->service, json_object_get(pp, "serviceName"));
	fx_set(o, &ev->operation, json_object_get(pp, "methodName"));
	fx_set(o, &ev->resource_id, json_object_get(pp, "resourceName"));
	fx_set(o, &ev->resource_type, fx_at(e, "resource.type"));
	fx_set(o, &ev->location,
	       json_array_get(fx_at(pp, "resourceLocation.currentLocations"),
	                      0));
	fx_set_first(o, &ev->location, e, "resource.labels.location",
	             "resource.labels.region", "resource.labels.zone", NULL);
	set_status(pp, o);
	fx_set(o, &ev->source_ip, fx_at(pp, "requestMetadata.callerIp"));
	fx_set(o, &ev->user_agent,
	       fx_at(pp, "requestMetadata.callerSuppliedUserAgent"));
	fx_set_json(o, &ev->request, json_object_get(pp, "request"));
	fx_set_json(o, &ev->response, json_object_get(pp, "response"));
}

const fx_format fx_gcp = {
	PRB_FMT_GCP, "gcp-audit", "insertId", "timestamp",
	"protoPayload.methodName", match, fill,
};
