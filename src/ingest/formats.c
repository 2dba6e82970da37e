/*
 * Recognising a record's format and normalising it into a prb_event.
 * The formats themselves live in cloudtrail.c, azure.c, gcp.c and k8s.c
 * (their table: adapters.h), built from the helpers of fx.c; this file
 * recognises a record's format and drives them.
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
#include <stdio.h>
#include <string.h>

#include "ingest/adapters.h"

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
