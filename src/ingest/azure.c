/*
 * Azure Activity Log records in their three published shapes:
 *   - REST API / portal "JSON view" (EventData: operationName.value,
 *     eventTimestamp, status.value, ...), also inside a REST list response
 *     {"value": [...], "nextLink": ...};
 *   - the resource-log schema of diagnostic settings (storage account blobs,
 *     Event Hubs {"records": [...]}): operationName and category as strings,
 *     time, resultType, identity.claims, location;
 *   - Log Analytics AzureActivity rows (CorrelationId, OperationNameValue,
 *     ActivityStatusValue, Properties_d, TimeGenerated, ...). Their TenantId
 *     column is the Log Analytics workspace, not the Azure AD tenant.
 * Field mapping: the table in formats.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ingest/adapters.h" /* what this file defines */
#include "ingest/fx.h"

enum { SHAPE_ACTIVITY, SHAPE_LOG_ANALYTICS };

static const char *const activity_required[] = {
	"operationName", "resourceId|resourceUri|authorization",
	"correlationId|eventDataId", "eventTimestamp|time",
};
static const char *const la_required[] = {
	"TimeGenerated", "OperationNameValue|OperationName",
	"CorrelationId|EventDataId",
};

#define CLAIM "http://schemas.microsoft.com/identity/claims/"
#define CLAIM_WS "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"

static int
match(const json_t *rec, fx_match *m)
{
	const char *category = fx_str(rec, "category");
	const json_t *type = json_object_get(rec, "Type");
	m->core = rec;
	if (category && strncmp(category, "kube-audit", 10) == 0) {
		/* An AKS resource log: k8s.c reads it. */
		m->needed = 1;
		fx_missing(m, "an Activity Log category (not kube-audit)");
		return 0;
	}
	if (fx_is(type, "AzureActivity") ||
	    (json_object_get(rec, "OperationNameValue") &&
	     json_object_get(rec, "TimeGenerated"))) {
		m->shape = SHAPE_LOG_ANALYTICS;
		m->present = m->needed = 1; /* the row's marker */
		fx_require(rec, la_required,
		           sizeof la_required / sizeof la_required[0], m);
	} else {
		fx_require(rec, activity_required,
		           sizeof activity_required / sizeof activity_required[0],
		           m);
	}
	return m->present == m->needed;
}

/* "/subscriptions/<id>/..." of an ARM resource id, into ev->account. */
static void
set_subscription(fx_out *o, const char *id)
{
	static const char prefix[] = "/subscriptions/";
	if (!id || strncasecmp(id, prefix, sizeof prefix - 1) != 0)
		return;
	id += sizeof prefix - 1;
	fx_setn(o, &o->ev->account, id, strcspn(id, "/"));
}

/* The type of an ARM resource id: the namespace after the last
 * "/providers/" and the type segments between names ("Microsoft.Sql/
 * servers/databases"); subscriptions and resource groups by their own. */
static void
set_type_from_id(fx_out *o, const char *id)
{
	char type[256];
	const char *p = NULL, *q;
	size_t n = 0;
	for (q = id; q && (q = strcasestr(q, "/providers/")) != NULL; q++)
		p = q + strlen("/providers/");
	if (!p) {
		if (id && strcasestr(id, "/resourceGroups/"))
			fx_setf(o, &o->ev->resource_type,
			        "Microsoft.Resources/resourceGroups");
		else if (id && strncasecmp(id, "/subscriptions/", 15) == 0)
			fx_setf(o, &o->ev->resource_type,
			        "Microsoft.Resources/subscriptions");
		return;
	}
	for (int seg = 0; *p && n < sizeof type; seg++) {
		size_t len = strcspn(p, "/");
		/* segments: namespace, type, name, type, name, ... */
		if ((seg == 0 || seg % 2 == 1) && n + len + 1 < sizeof type) {
			n += (size_t)snprintf(type + n, sizeof type - n, "%s%.*s",
			                      seg ? "/" : "", (int)len, p);
		}
		p += len + (p[len] == '/');
	}
	if (n > 0 && strchr(type, '/'))
		fx_setn(o, &o->ev->resource_type, type, n);
}

/* The request and response bodies (strings holding JSON) and the
 * location the request asked for; else the location the properties or
 * the record name. */
static void
set_bodies(const json_t *r, const json_t *props, fx_out *o)
{
	json_t *body = fx_parse_string(json_object_get(props, "requestbody"));
	json_t *resp = fx_parse_string(json_object_get(props, "responseBody"));
	fx_set(o, &o->ev->location, json_object_get(body, "location"));
	fx_set_json(o, &o->ev->request, body);
	fx_set_json(o, &o->ev->response, resp);
	json_decref(body);
	json_decref(resp);
	fx_set_first(o, &o->ev->location, props, "location", "resourceLocation",
	             NULL);
	fx_set(o, &o->ev->location, json_object_get(r, "resourceLocation"));
}

/* The provider's error code in properties.statusMessage (a string holding
 * JSON), else, for a failed operation, its sub-status. */
static void
set_error(const json_t *r, const json_t *props, fx_out *o)
{
	json_t *msg = fx_parse_string(json_object_get(props, "statusMessage"));
	fx_set_first(o, &o->ev->error_code, msg, "error.code", "Code", "code",
	             NULL);
	json_decref(msg);
	const char *res = o->ev->result;
	if (res && (strcasecmp(res, "Failed") == 0 ||
	            strcasecmp(res, "Failure") == 0))
		fx_set_first(o, &o->ev->error_code, r, "subStatus.value",
		             "ActivitySubstatusValue", "resultSignature", NULL);
}

static void
set_principal(const json_t *r, fx_out *o)
{
	prb_event *ev = o->ev;
	const json_t *claims = json_object_get(r, "claims");
	const json_t *authz = json_object_get(r, "authorization");
	if (!claims)
		claims = fx_at(r, "identity.claims");
	if (!claims)
		claims = json_object_get(r, "Claims_d");
	if (!authz)
		authz = fx_at(r, "identity.authorization");
	if (!authz)
		authz = json_object_get(r, "Authorization_d");
	fx_set_first(o, &ev->principal, r, "caller", "Caller", NULL);
	fx_set(o, &ev->principal, json_object_get(claims, CLAIM_WS "upn"));
	fx_set(o, &ev->principal,
	       json_object_get(claims, CLAIM "objectidentifier"));
	fx_set(o, &ev->principal, json_object_get(claims, CLAIM_WS "spn"));
	fx_set(o, &ev->principal, json_object_get(claims, "appid"));
	fx_set(o, &ev->principal_account,
	       json_object_get(claims, CLAIM "tenantid"));
	fx_set(o, &ev->principal_type, fx_at(authz, "evidence.principalType"));
	fx_set(o, &ev->principal_type, json_object_get(claims, "idtyp"));
}

/* eventDataId where the record has one, else the operation's ids. */
static void
set_event_id(const json_t *r, const json_t *props, fx_out *o)
{
	prb_event *ev = o->ev;
	const char *corr = fx_str(r, "correlationId");
	const char *opid = fx_str(r, "operationId");
	fx_set_first(o, &ev->event_id, r, "eventDataId", "EventDataId", NULL);
	fx_set(o, &ev->event_id, json_object_get(props, "eventDataId"));
	corr = corr ? corr : fx_str(r, "CorrelationId");
	opid = opid ? opid : fx_str(r, "OperationId");
	if (corr && opid)
		fx_setf(o, &ev->event_id, "%s/%s", corr, opid);
	else if (corr)
		fx_setf(o, &ev->event_id, "%s/%s/%s/%s", corr,
		        ev->operation ? ev->operation : "",
		        ev->result ? ev->result : "", ev->time ? ev->time : "");
}

static void
fill(const fx_match *m, fx_out *o)
{
	const json_t *r = m->core;
	prb_event *ev = o->ev;
	const json_t *props = json_object_get(r, "properties");
	if (!props)
		props = json_object_get(r, "Properties_d");
	fx_set_time(o, json_object_get(r, "eventTimestamp"), "eventTimestamp");
	fx_set_time(o, json_object_get(r, "time"), "time");
	fx_set_time(o, json_object_get(r, "TimeGenerated"), "TimeGenerated");
	fx_set_first(o, &ev->operation, r, "operationName.value",
	             "operationName", "OperationNameValue", "OperationName",
	             NULL);
	fx_set_first(o, &ev->resource_id, r, "resourceId", "resourceUri",
	             "_ResourceId", "ResourceId", "authorization.scope",
	             "Authorization_d.scope", NULL);
	fx_set_first(o, &ev->account, r, "subscriptionId", "SubscriptionId",
	             NULL);
	set_subscription(o, ev->resource_id);
	if (m->shape != SHAPE_LOG_ANALYTICS)
		fx_set(o, &ev->tenant, json_object_get(r, "tenantId"));
	set_principal(r, o);
	fx_set_first(o, &ev->service, r, "resourceProviderName.value",
	             "ResourceProviderValue", NULL);
	if (ev->operation && strchr(ev->operation, '/'))
		fx_setn(o, &ev->service, ev->operation,
		        strcspn(ev->operation, "/"));
	fx_set(o, &ev->resource_type, fx_at(r, "resourceType.value"));
	set_type_from_id(o, ev->resource_id);
	fx_set(o, &ev->region, json_object_get(r, "location"));
	set_bodies(r, props, o);
	fx_set_first(o, &ev->result, r, "status.value", "resultType",
	             "ActivityStatusValue", "ActivityStatus", NULL);
	set_error(r, props, o);
	fx_set_first(o, &ev->source_ip, r, "httpRequest.clientIpAddress",
	             "callerIpAddress", "CallerIpAddress", NULL);
	set_event_id(r, props, o);
}

const fx_format fx_azure = {
	PRB_FMT_AZURE, "azure-activity",
	"eventDataId, or correlationId and operationId",
	"eventTimestamp or time or TimeGenerated",
	"operationName or OperationNameValue", match, fill,
};
