/*
 * Kubernetes audit events (audit.k8s.io/v1 and v1beta1, and the older
 * events with no apiVersion), as the API server's log or webhook backends
 * write them, or as managed services wrap them:
 *   - AKS diagnostic settings: {"category": "kube-audit" or
 *     "kube-audit-admin", "resourceId": <cluster>, "properties": {"log":
 *     "<the Event as JSON text>", ...}};
 *   - EKS control-plane logs in CloudWatch Logs: {"message": "<the Event as
 *     JSON text>", "logGroup": "/aws/eks/<cluster>/cluster", ...}.
 * The cluster comes from the wrapper; a bare event does not name it.
 * Field mapping: the table in formats.c.
 */
#include <string.h>

#include "ingest/adapters.h" /* what this file defines */
#include "ingest/fx.h"

enum { SHAPE_EVENT, SHAPE_AKS, SHAPE_EKS };

static const char *const required[] = {
	"auditID", "stage", "verb",
	"requestReceivedTimestamp|stageTimestamp|timestamp",
};

/* Takes ev, the Event parsed from a wrapper's string member, as m->core
 * (owned), or notes `what` is missing when it is not an object. The
 * wrapper counts as one field found. */
static int
unwrap(const json_t *rec, json_t *ev, int shape, const char *what,
       fx_match *m)
{
	m->shape = shape;
	m->wrap = rec;
	m->present = m->needed = 1;
	if (!json_is_object(ev)) {
		json_decref(ev);
		m->needed++;
		fx_missing(m, what);
		return -1;
	}
	m->core = m->owned = ev;
	return 0;
}

/* Finds the Event: the record itself or inside an AKS or EKS wrapper. */
static int
find_event(const json_t *rec, fx_match *m)
{
	const char *category = fx_str(rec, "category");
	const json_t *msg = json_object_get(rec, "message");
	m->core = rec;
	if (category && strncmp(category, "kube-audit", 10) == 0)
		return unwrap(rec, fx_parse_string(fx_at(rec, "properties.log")),
		              SHAPE_AKS, "properties.log holding a JSON Event", m);
	if (json_object_get(rec, "kind") || !json_is_string(msg))
		return 0;
	json_t *ev = fx_parse_string(msg);
	if (json_object_get(rec, "logGroup") || json_object_get(rec, "logStream") ||
	    fx_is(json_object_get(ev, "kind"), "Event"))
		return unwrap(rec, ev, SHAPE_EKS, "message holding a JSON Event",
		              m);
	json_decref(ev); /* a bare {"message": ...} that is no Event */
	return 0;
}

static int
match(const json_t *rec, fx_match *m)
{
	if (find_event(rec, m) != 0)
		return 0;
	const json_t *e = m->core;
	const json_t *api = json_object_get(e, "apiVersion");
	m->needed++;
	if (fx_is(json_object_get(e, "kind"), "Event"))
		m->present++;
	else
		fx_missing(m, "kind \"Event\"");
	fx_require(e, required, sizeof required / sizeof required[0], m);
	if (api && !fx_is(api, "audit.k8s.io/v1") &&
	    !fx_is(api, "audit.k8s.io/v1beta1")) {
		m->needed++;
		fx_missing(m, "apiVersion audit.k8s.io/v1 or v1beta1");
	}
	return m->present == m->needed;
}

/* The cluster: the AKS resource id, or the name in the EKS log group. */
static void
set_cluster(const fx_match *m, fx_out *o)
{
	static const char eks[] = "/aws/eks/";
	const char *group = fx_str(m->wrap, "logGroup");
	if (m->shape == SHAPE_AKS)
		fx_set(o, &o->ev->account, json_object_get(m->wrap, "resourceId"));
	if (m->shape != SHAPE_EKS || !group)
		return;
	size_t n = strlen(group), k = sizeof eks - 1;
	if (n > k && strncmp(group, eks, k) == 0 && strchr(group + k, '/'))
		fx_setn(o, &o->ev->account, group + k, strcspn(group + k, "/"));
	fx_setn(o, &o->ev->account, group, n);
}

/* ServiceAccount, Node, Anonymous or System by the "system:" user names,
 * else User. */
static void
set_principal(const json_t *e, fx_out *o)
{
	static const struct {
		const char *prefix, *type;
	} kinds[] = {
		{"system:serviceaccount:", "ServiceAccount"},
		{"system:node:", "Node"},
		{"system:anonymous", "Anonymous"},
		{"system:", "System"},
		{"", "User"},
	};
	const char *user = fx_str(e, "user.username");
	fx_set(o, &o->ev->principal, fx_at(e, "user.username"));
	for (size_t i = 0; user && i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strncmp(user, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
			fx_setf(o, &o->ev->principal_type, "%s", kinds[i].type);
			break;
		}
	}
}

/* operation "verb resource[/subresource]" and the object's API path
 * /api/<v> or /apis/<group>/<v> [/namespaces/<ns>] /<resource>[/<name>]
 * [/<subresource>]; a request for no object: "verb /path". */
static void
set_object(const json_t *e, fx_out *o)
{
	const json_t *ref = json_object_get(e, "objectRef");
	const char *verb = fx_str(e, "verb"), *uri = fx_str(e, "requestURI");
	const char *group = fx_str(ref, "apiGroup");
	const char *ver = fx_str(ref, "apiVersion"), *ns = fx_str(ref, "namespace");
	const char *res = fx_str(ref, "resource"), *name = fx_str(ref, "name");
	const char *sub = fx_str(ref, "subresource");
	prb_event *ev = o->ev;
	if (!verb)
		return;
	if (!res) {
		if (uri)
			fx_setf(o, &ev->operation, "%s %.*s", verb,
			        (int)strcspn(uri, "?"), uri);
		return;
	}
	if (strcmp(res, "namespaces") == 0)
		ns = NULL; /* a namespace's objectRef names itself as its own */
	fx_setf(o, &ev->operation, "%s %s%s%s", verb, res, sub ? "/" : "",
	        sub ? sub : "");
	fx_setf(o, &ev->resource_id, "%s%s%s%s%s%s/%s%s%s%s%s",
	        group ? "/apis/" : "/api", group ? group : "", ver ? "/" : "",
	        ver ? ver : "", ns ? "/namespaces/" : "", ns ? ns : "", res,
	        name ? "/" : "", name ? name : "", sub ? "/" : "",
	        sub ? sub : "");
	fx_setf(o, &ev->service, "%s", group ? group : "core");
	fx_setf(o, &ev->resource_type, "%s", res);
}

static void
fill(const fx_match *m, fx_out *o)
{
	const json_t *e = m->core;
	prb_event *ev = o->ev;
	const char *id = fx_str(e, "auditID"), *stage = fx_str(e, "stage");
	if (id && stage)
		fx_setf(o, &ev->event_id, "%s/%s", id, stage);
	fx_set_time(o, json_object_get(e, "requestReceivedTimestamp"),
	            "requestReceivedTimestamp");
	fx_set_time(o, json_object_get(e, "stageTimestamp"), "stageTimestamp");
	fx_set_time(o, json_object_get(e, "timestamp"), "timestamp");
	set_cluster(m, o);
	set_principal(e, o);
	set_object(e, o);
	fx_set_number(o, &ev->result, fx_at(e, "responseStatus.code"));
	fx_set(o, &ev->error_code, fx_at(e, "responseStatus.reason"));
	fx_set(o, &ev->source_ip, json_array_get(json_object_get(e, "sourceIPs"),
	                                         0));
	fx_set(o, &ev->user_agent, json_object_get(e, "userAgent"));
	fx_set_json(o, &ev->request, json_object_get(e, "requestObject"));
	fx_set_json(o, &ev->response, json_object_get(e, "responseObject"));
}

const fx_format fx_k8s = {
	PRB_FMT_K8S, "k8s-audit", "auditID and stage",
	"requestReceivedTimestamp or stageTimestamp or timestamp",
	"verb with objectRef.resource or requestURI", match, fill,
};
