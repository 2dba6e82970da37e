/*
 * Cloud audit-log records: splitting a provider's export file into records,
 * recognising each record's format, and normalising it into the fields the
 * index keeps (one prb_event per record).
 *
 * Formats: AWS CloudTrail, Azure Activity Log, GCP Cloud Audit Logs,
 * Kubernetes audit.k8s.io Events. Parsing uses jansson; nothing here writes
 * to the log or the index. Thread-safe (no global state).
 */
#ifndef PROBITY_INGEST_H
#define PROBITY_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

typedef enum {
	PRB_FMT_AUTO = 0,
	PRB_FMT_CLOUDTRAIL = 1, /* "cloudtrail" */
	PRB_FMT_AZURE = 2,      /* "azure-activity" */
	PRB_FMT_GCP = 3,        /* "gcp-audit" */
	PRB_FMT_K8S = 4,        /* "k8s-audit" */
} prb_format;

/* The command-line name of a format ("auto", "cloudtrail", ...). */
const char *prb_format_name(prb_format f);
/* Parses a command-line name; PRB_EINVAL if unknown. */
int prb_format_parse(const char *name, prb_format *out);

/*
 * One record's normalised fields. Every string is malloc'd and owned by the
 * event (prb_event_free releases them); a field the record does not carry
 * is NULL, never "". `time` is RFC 3339 UTC ("2023-07-10T11:45:03Z", with
 * the record's fractional seconds kept, "Z" suffix). `request` and
 * `response` are compact JSON texts of the record's request and response
 * parts (CloudTrail requestParameters/responseElements, Azure
 * properties/requestbody, GCP protoPayload.request/response, Kubernetes
 * requestObject/responseObject), for policies that need more than the
 * columns.
 */
typedef struct {
	prb_format format;
	char *event_id;      /* the dedup key (see prb_event_from_record) */
	char *time;          /* event time, RFC 3339 UTC */
	char *account;       /* AWS account / Azure subscription / GCP project / k8s cluster */
	char *tenant;        /* Azure tenant, AWS organisation, GCP organisation */
	char *principal;     /* who acted: ARN, UPN/object id, email, k8s user */
	char *principal_account; /* the principal's own account/tenant when the record says */
	char *principal_type;    /* Root, IAMUser, AssumedRole, ServiceAccount, ... */
	char *service;       /* eventSource, resource provider, serviceName, k8s API group */
	char *operation;     /* eventName, operationName, methodName, verb+resource */
	char *resource_id;   /* ARN, Azure resource id, GCP resourceName, k8s object path */
	char *resource_type; /* AWS resource type, Azure type, GCP resource.type, k8s resource */
	char *region;        /* where the record says the event was processed */
	char *location;      /* where the resource lives, when the record says it */
	char *result;        /* success / failure / status code text */
	char *error_code;    /* provider error code, if any */
	char *source_ip;
	char *user_agent;
	char *request;       /* JSON text, see above */
	char *response;      /* JSON text, see above */
} prb_event;

/*
 * Recognises the format of one record (hint PRB_FMT_AUTO) or checks it is of
 * the hinted format, and fills *ev. The event id is: CloudTrail eventID;
 * Azure eventDataId, else correlationId + "/" + operationId, else (the
 * storage / Event Hubs schema carries neither) correlationId + "/" +
 * operation + "/" + result + "/" + time; GCP insertId; Kubernetes auditID +
 * "/" + stage. A record that fits no format, fits two (without a hint), or
 * lacks a field its format requires: PRB_EMALFORMED with err naming the
 * formats and fields (err->offset UINT64_MAX: the caller knows the record).
 * An unknown hint: PRB_EINVAL. On failure *ev holds nothing to free.
 * src/ingest/formats.c documents each format's fields and mapping.
 */
int prb_event_from_record(prb_format hint, const json_t *rec, prb_event *ev,
                          prb_err *err);
/* Frees ev's strings and sets them NULL. Accepts NULL. */
void prb_event_free(prb_event *ev);

/* prb_event's string fields, in declaration order, for code that treats
 * them alike (index columns, tests): the name of field i ("event_id",
 * "time", ..., "response"), NULL when i >= PRB_EVENT_NFIELDS; and field i
 * of ev, NULL when unset or i is out of range (borrowed from ev). */
#define PRB_EVENT_NFIELDS 19
const char *prb_event_field_name(size_t i);
const char *prb_event_field(const prb_event *ev, size_t i);

/* Where a record sits in its file. */
typedef struct {
	uint64_t offset; /* byte offset of the record's first byte */
	uint64_t length; /* bytes of the record's JSON text */
	uint64_t line;   /* 1-based line of its first byte */
	uint64_t number; /* 1-based record number within the file */
} prb_record_pos;

/* Called once per record, in file order; `rec` is borrowed for the call
 * (take a reference to keep it). A non-zero return stops the scan and is
 * returned by prb_records_scan, err untouched. */
typedef int (*prb_record_fn)(void *ctx, json_t *rec, const prb_record_pos *pos);

/*
 * Splits an export file's bytes (already decompressed) into records: a
 * {"Records": [...]} / {"records": [...]} / {"value": [...]} envelope, a
 * JSON array, JSON Lines (one object, or envelope, per line), or one JSON
 * object. Records are JSON objects, parsed with JSON_DECODE_INT_AS_REAL |
 * JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL; each is handed to fn as soon as
 * it is read (memory is per record, not per file), so records before an
 * error have been delivered. An empty file, [] and {"Records": []} hold no
 * records. A syntax error, invalid UTF-8, a duplicate key, a number outside
 * the IEEE 754 double range or a record that is not an object stops the
 * scan with PRB_EMALFORMED (PRB_ETOOBIG for one value over 2 GiB),
 * err->offset the byte offset and err->msg "line L, record N: why";
 * err->where is left empty for the caller to name the file. The buffer need
 * not be NUL-terminated. Thread-safe.
 */
int prb_records_scan(const char *buf, size_t len, prb_record_fn fn,
                     void *ctx, prb_err *err);

#endif
