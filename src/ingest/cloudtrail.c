/*
 * AWS CloudTrail records (eventVersion 1.x), as delivered to S3 inside
 * {"Records": [...]}, or one by one (EventBridge, CloudTrail Lake, JSON
 * Lines). Field mapping: the table in formats.c.
 */
#include <string.h>

#include "ingest/adapters.h" /* what this file defines */
#include "ingest/fx.h"

static const char *const required[] = {
	"eventVersion", "eventSource", "eventName", "eventTime", "eventID",
};

/* Services whose resources have no region (their calls log under
 * us-east-1, which says nothing about where anything lives). */
static const char *const global_services[] = {
	"iam.amazonaws.com",        "sts.amazonaws.com",
	"signin.amazonaws.com",     "organizations.amazonaws.com",
	"cloudfront.amazonaws.com", "route53.amazonaws.com",
	"globalaccelerator.amazonaws.com", "waf.amazonaws.com",
	"shield.amazonaws.com",
};

static int
match(const json_t *rec, fx_match *m)
{
	m->core = rec;
	fx_require(rec, required, sizeof required / sizeof required[0], m);
	return m->present == m->needed;
}

static int
is_global(const char *source)
{
	for (size_t i = 0;
	     source && i < sizeof global_services / sizeof global_services[0];
	     i++)
		if (strcmp(source, global_services[i]) == 0)
			return 1;
	return 0;
}

/* Where the resource lives: the bucket's LocationConstraint for S3
 * CreateBucket (none means us-east-1, "EU" is the old name of eu-west-1),
 * nothing for global services, else the region of the call. */
static void
set_location(const json_t *r, fx_out *o)
{
	const char *source = fx_str(r, "eventSource");
	if (source && strcmp(source, "s3.amazonaws.com") == 0 &&
	    fx_is(json_object_get(r, "eventName"), "CreateBucket")) {
		const char *lc = fx_str(r, "requestParameters."
		                           "CreateBucketConfiguration."
		                           "LocationConstraint");
		if (lc && strcmp(lc, "EU") == 0)
			lc = "eu-west-1";
		fx_setf(o, &o->ev->location, "%s", lc ? lc : "us-east-1");
	} else if (!is_global(source)) {
		fx_set(o, &o->ev->location, json_object_get(r, "awsRegion"));
	}
}

/* The first of resources[] where the record lists them, else the bucket
 * of an S3 call. */
static void
set_resource(const json_t *r, fx_out *o)
{
	const json_t *first = json_array_get(json_object_get(r, "resources"), 0);
	fx_set(o, &o->ev->resource_id, json_object_get(first, "ARN"));
	fx_set(o, &o->ev->resource_type, json_object_get(first, "type"));
	const char *bucket = fx_str(r, "requestParameters.bucketName");
	if (!o->ev->resource_id && bucket &&
	    fx_is(json_object_get(r, "eventSource"), "s3.amazonaws.com")) {
		fx_setf(o, &o->ev->resource_id, "arn:aws:s3:::%s", bucket);
		fx_setf(o, &o->ev->resource_type, "AWS::S3::Bucket");
	}
}

static void
fill(const fx_match *m, fx_out *o)
{
	const json_t *r = m->core;
	prb_event *ev = o->ev;
	const json_t *error = json_object_get(r, "errorCode");
	fx_set(o, &ev->event_id, json_object_get(r, "eventID"));
	fx_set_time(o, json_object_get(r, "eventTime"), "eventTime");
	fx_set_first(o, &ev->account, r, "recipientAccountId",
	             "userIdentity.accountId", NULL);
	fx_set_first(o, &ev->principal, r, "userIdentity.arn",
	             "userIdentity.invokedBy", "userIdentity.userName",
	             "userIdentity.principalId", NULL);
	fx_set(o, &ev->principal_account, fx_at(r, "userIdentity.accountId"));
	fx_set(o, &ev->principal_type, fx_at(r, "userIdentity.type"));
	fx_set(o, &ev->service, json_object_get(r, "eventSource"));
	fx_set(o, &ev->operation, json_object_get(r, "eventName"));
	set_resource(r, o);
	fx_set(o, &ev->region, json_object_get(r, "awsRegion"));
	set_location(r, o);
	error = json_is_null(error) ? NULL : error;
	fx_setf(o, &ev->result, "%s", error ? "failure" : "success");
	fx_set(o, &ev->error_code, error);
	fx_set(o, &ev->source_ip, json_object_get(r, "sourceIPAddress"));
	fx_set(o, &ev->user_agent, json_object_get(r, "userAgent"));
	fx_set_json(o, &ev->request, json_object_get(r, "requestParameters"));
	fx_set_json(o, &ev->response, json_object_get(r, "responseElements"));
}

const fx_format fx_cloudtrail = {
	PRB_FMT_CLOUDTRAIL, "cloudtrail", "eventID", "eventTime", "eventName",
	match, fill,
};
