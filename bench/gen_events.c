/*
 * gen-events: synthetic cloud control-plane audit records, for the audit
 * demonstration, the end-to-end test and bench/audit.
 *
 *   gen-events [--seed S] [--events N] [--no-planted] --out DIR
 *
 * Writes N background records (default 10,000), spread over 30 days from
 * 2024-05-01 across the four formats probity ingests, as export files:
 *   DIR/aws/cloudtrail-NNNN.json      {"Records":[...]} (CloudTrail)
 *   DIR/azure/activity-NNNN.jsonl     Azure Activity Log, one per line
 *   DIR/gcp/audit-NNNN.jsonl          GCP LogEntry, one per line
 *   DIR/k8s/audit-NNNN.log            Kubernetes audit Events, one per line
 * at most 5,000 records per file. Background records are routine and
 * benign under the shipped policy pack's defaults: reads, lists, logins
 * of ordinary users, instances and deployments in EU regions, a few
 * buckets spread over many people, Kubernetes pod traffic.
 *
 * Then (unless --no-planted) a fixed set of planted violations, one or
 * more per audit category and provider, whose event ids all begin
 * "planted-" so tests can find them. They are metadata only: names of
 * operations and resources, never anyone's data.
 *
 * Deterministic: the same seed and count give the same bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PER_FILE 5000
#define SPAN_S (30LL * 24 * 3600)
#define START 1714521600LL /* 2024-05-01T00:00:00Z */

enum { AWS, AZURE, GCP, K8S, NPROV };

static const char *const dirs[NPROV] = {"aws", "azure", "gcp", "k8s"};
static const char *const stems[NPROV] = {"cloudtrail", "activity", "audit",
                                         "audit"};
static const char *const exts[NPROV] = {"json", "jsonl", "jsonl", "log"};

typedef struct {
	FILE *f;
	unsigned file_no, in_file;
} out_file;

static out_file outs[NPROV];
static const char *out_dir;
static uint64_t rng;

static uint64_t
next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static unsigned
pick(unsigned n)
{
	return (unsigned)(next() % n);
}

static void
die(const char *what)
{
	fprintf(stderr, "gen-events: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
close_file(int p)
{
	if (!outs[p].f)
		return;
	if (p == AWS)
		fputs("\n]}\n", outs[p].f);
	if (fclose(outs[p].f) != 0)
		die("close");
	outs[p].f = NULL;
}

/* Starts one record of provider p; returns the stream to print it to. */
static FILE *
record(int p)
{
	out_file *o = &outs[p];
	if (o->f && o->in_file == PER_FILE)
		close_file(p);
	if (!o->f) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", out_dir, dirs[p]);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			die(path);
		snprintf(path, sizeof path, "%s/%s/%s-%04u.%s", out_dir, dirs[p],
		         stems[p], ++o->file_no, exts[p]);
		if (!(o->f = fopen(path, "w")))
			die(path);
		o->in_file = 0;
		if (p == AWS)
			fputs("{\"Records\":[\n", o->f);
	}
	if (p == AWS && o->in_file > 0)
		fputs(",\n", o->f);
	o->in_file++;
	return o->f;
}

static void
end_line(int p)
{
	if (p != AWS)
		fputc('\n', outs[p].f);
}

static void
iso(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- one record per format --------------------------------------------- */

static void
aws(const char *id, long long t, const char *who, const char *idtype,
    const char *source, const char *name, const char *region,
    const char *params, const char *error)
{
	char ts[32];
	iso(t, ts);
	FILE *f = record(AWS);
	fprintf(f, "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"%s\","
	        "\"arn\":\"arn:aws:iam::111122223333:%s\",\"accountId\":"
	        "\"111122223333\"},\"eventTime\":\"%s\",\"eventSource\":\"%s\","
	        "\"eventName\":\"%s\",\"awsRegion\":\"%s\",\"sourceIPAddress\":"
	        "\"192.0.2.%u\",\"userAgent\":\"aws-cli/2.15.0\","
	        "\"requestParameters\":%s,\"responseElements\":null,",
	        idtype, who, ts, source, name, region, 1 + pick(250),
	        params ? params : "null");
	if (error)
		fprintf(f, "\"errorCode\":\"%s\",\"errorMessage\":\"denied\",",
		        error);
	fprintf(f, "\"eventID\":\"%s\",\"eventType\":\"AwsApiCall\","
	        "\"recipientAccountId\":\"111122223333\"}", id);
	end_line(AWS);
}

/* body: the request body as JSON text (written as a JSON string), or NULL */
static void
azure(const char *id, long long t, const char *who, const char *op,
      const char *rid, const char *body, const char *result)
{
	char ts[32];
	iso(t, ts);
	FILE *f = record(AZURE);
	fprintf(f, "{\"time\":\"%s\",\"resourceId\":\"/subscriptions/sub-1/"
	        "resourceGroups/rg-%u/providers/%s\",\"operationName\":\"%s\","
	        "\"category\":\"Administrative\",\"resultType\":\"%s\","
	        "\"correlationId\":\"c-%s\",\"callerIpAddress\":\"203.0.113.%u\","
	        "\"identity\":{\"claims\":{\"http://schemas.xmlsoap.org/ws/2005/"
	        "05/identity/claims/upn\":\"%s\"}},\"properties\":{"
	        "\"eventCategory\":\"Administrative\",\"subscriptionId\":\"sub-1\"",
	        ts, pick(8), rid, op, result, id, 1 + pick(250), who);
	if (body) {
		fputs(",\"requestbody\":\"", f);
		for (const char *c = body; *c; c++) {
			if (*c == '"' || *c == '\\')
				fputc('\\', f);
			fputc(*c, f);
		}
		fputc('"', f);
	}
	fprintf(f, "},\"level\":\"Information\",\"location\":\"westeurope\","
	        "\"eventDataId\":\"%s\",\"tenantId\":\"tenant-1\"}", id);
	end_line(AZURE);
}

static void
gcp(const char *id, long long t, const char *who, const char *service,
    const char *method, const char *rname, const char *location,
    const char *request, int code)
{
	char ts[32];
	iso(t, ts);
	FILE *f = record(GCP);
	fprintf(f, "{\"protoPayload\":{\"@type\":\"type.googleapis.com/"
	        "google.cloud.audit.AuditLog\",\"status\":");
	if (code)
		fprintf(f, "{\"code\":%d,\"message\":\"denied\"}", code);
	else
		fputs("{}", f);
	fprintf(f, ",\"authenticationInfo\":{\"principalEmail\":\"%s\"},"
	        "\"requestMetadata\":{\"callerIp\":\"192.0.2.%u\"},"
	        "\"serviceName\":\"%s\",\"methodName\":\"%s\",\"resourceName\":"
	        "\"%s\"", who, 1 + pick(250), service, method, rname);
	if (request)
		fprintf(f, ",\"request\":%s", request);
	fprintf(f, "},\"insertId\":\"%s\",\"resource\":{\"type\":\"gce_instance\","
	        "\"labels\":{\"project_id\":\"proj-1\"", id);
	if (location)
		fprintf(f, ",\"location\":\"%s\"", location);
	fprintf(f, "}},\"timestamp\":\"%s\",\"severity\":\"NOTICE\",\"logName\":"
	        "\"projects/proj-1/logs/cloudaudit.googleapis.com%%2Factivity\"}",
	        ts);
	end_line(GCP);
}

static void
k8s(const char *id, long long t, const char *who, const char *verb,
    const char *group, const char *resource, const char *ns,
    const char *name, int code, const char *req)
{
	char ts[32];
	iso(t, ts);
	ts[19] = 0; /* drop the Z: a fraction follows */
	FILE *f = record(K8S);
	fprintf(f, "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
	        "\"level\":\"Metadata\",\"auditID\":\"%s\",\"stage\":"
	        "\"ResponseComplete\",\"requestURI\":\"/api%s%s/v1%s%s/%s%s%s\","
	        "\"verb\":\"%s\",\"user\":{\"username\":\"%s\"},\"sourceIPs\":"
	        "[\"10.0.%u.%u\"],\"objectRef\":{\"resource\":\"%s\"",
	        id, group ? "s/" : "", group ? group : "",
	        ns ? "/namespaces/" : "", ns ? ns : "", resource,
	        name ? "/" : "", name ? name : "", verb, who, pick(250),
	        1 + pick(250), resource);
	if (ns)
		fprintf(f, ",\"namespace\":\"%s\"", ns);
	if (name)
		fprintf(f, ",\"name\":\"%s\"", name);
	if (group)
		fprintf(f, ",\"apiGroup\":\"%s\"", group);
	fprintf(f, ",\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},"
	        "\"code\":%d}", code);
	if (req)
		fprintf(f, ",\"requestObject\":%s", req);
	fprintf(f, ",\"requestReceivedTimestamp\":\"%s.000000Z\","
	        "\"stageTimestamp\":\"%s.050000Z\"}", ts, ts);
	end_line(K8S);
}

/* ---- background --------------------------------------------------------- */

static const char *const eu_aws[] = {"eu-west-1", "eu-central-1"};
static const char *const eu_gcp[] = {"europe-west1-b", "europe-west4-a"};

static void
background(uint64_t i, long long t)
{
	char id[48], who[64], rid[160], body[200], rname[160];
	unsigned u = pick(400); /* one of 400 people per provider */
	int p = (int)pick(NPROV);
	unsigned k = pick(100);
	snprintf(id, sizeof id, "bg-%08llu", (unsigned long long)i);
	switch (p) {
	case AWS:
		snprintf(who, sizeof who, "user/dev%03u", u);
		if (k < 40)
			aws(id, t, who, "IAMUser", "ec2.amazonaws.com",
			    "DescribeInstances", eu_aws[k % 2], "{}", NULL);
		else if (k < 60)
			aws(id, t, who, "IAMUser", "s3.amazonaws.com",
			    "ListBuckets", eu_aws[k % 2], "{}", NULL);
		else if (k < 75)
			aws(id, t, who, "IAMUser", "sts.amazonaws.com",
			    "GetCallerIdentity", "us-east-1", "{}", NULL);
		else if (k < 85)
			aws(id, t, who, "IAMUser", "signin.amazonaws.com",
			    "ConsoleLogin", "us-east-1", NULL, NULL);
		else if (k < 95)
			aws(id, t, who, "IAMUser", "ec2.amazonaws.com",
			    "RunInstances", eu_aws[k % 2],
			    "{\"instanceType\":\"m5.large\",\"minCount\":1}",
			    k % 7 ? NULL : "UnauthorizedOperation");
		else {
			snprintf(body, sizeof body, "{\"bucketName\":\"app-%llu\","
			         "\"CreateBucketConfiguration\":{"
			         "\"LocationConstraint\":\"eu-west-1\"}}",
			         (unsigned long long)i);
			aws(id, t, who, "IAMUser", "s3.amazonaws.com",
			    "CreateBucket", "eu-west-1", body, NULL);
		}
		break;
	case AZURE:
		snprintf(who, sizeof who, "user%03u@contoso.example", u);
		if (k < 50) {
			snprintf(rid, sizeof rid, "Microsoft.Compute/"
			         "virtualMachines/vm-%u", pick(5000));
			azure(id, t, who, "Microsoft.Compute/virtualMachines/"
			      "start/action", rid, NULL, "Success");
		} else if (k < 80) {
			snprintf(rid, sizeof rid, "Microsoft.Resources/"
			         "deployments/dep-%llu", (unsigned long long)i);
			azure(id, t, who, "Microsoft.Resources/deployments/write",
			      rid, "{\"location\":\"westeurope\"}", "Success");
		} else {
			snprintf(rid, sizeof rid, "Microsoft.Network/"
			         "networkSecurityGroups/nsg-%u", pick(500));
			azure(id, t, who, "Microsoft.Network/networkSecurityGroups"
			      "/write", rid, "{\"location\":\"northeurope\"}",
			      k % 9 ? "Success" : "Failure");
		}
		break;
	case GCP:
		snprintf(who, sizeof who, "dev%03u@example.com", u);
		if (k < 60) {
			snprintf(rname, sizeof rname, "projects/proj-1/zones/%s/"
			         "instances", eu_gcp[k % 2]);
			gcp(id, t, who, "compute.googleapis.com",
			    "v1.compute.instances.list", rname, NULL, NULL, 0);
		} else {
			snprintf(rname, sizeof rname, "projects/proj-1/zones/%s/"
			         "instances/vm-%llu", eu_gcp[k % 2],
			         (unsigned long long)i);
			gcp(id, t, who, "compute.googleapis.com",
			    "v1.compute.instances.insert", rname, eu_gcp[k % 2],
			    NULL, k % 11 ? 0 : 7);
		}
		break;
	default:
		snprintf(who, sizeof who, "dev%03u", u);
		if (k < 70)
			k8s(id, t, who, k % 2 ? "get" : "list", NULL, "pods",
			    "default", k % 2 ? "web-1" : NULL, 200, NULL);
		else if (k < 90)
			k8s(id, t, who, "watch", NULL, "configmaps", "kube-system",
			    NULL, 200, NULL);
		else
			k8s(id, t, who, "create", NULL, "pods", "default", NULL,
			    k % 5 ? 201 : 403, NULL);
	}
}

/* ---- planted violations -------------------------------------------------- */

static void
planted(long long t)
{
	char id[48], body[256];
	int n = 0;
#define ID(cat) (snprintf(id, sizeof id, "planted-%s-%02d", cat, ++n), id)
	/* 1 residency */
	aws(ID("residency"), t += 60, "user/mallory", "IAMUser",
	    "ec2.amazonaws.com", "RunInstances", "us-east-1",
	    "{\"instanceType\":\"p4d.24xlarge\",\"minCount\":4}", NULL);
	azure(ID("residency"), t += 60, "mallory@contoso.example",
	      "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE",
	      "Microsoft.Storage/storageAccounts/stexport",
	      "{\"location\":\"eastus\",\"sku\":{\"name\":\"Standard_LRS\"}}",
	      "Success");
	gcp(ID("residency"), t += 60, "mallory@example.com",
	    "compute.googleapis.com", "v1.compute.instances.insert",
	    "projects/proj-1/zones/asia-east1-a/instances/x1", "asia-east1-a",
	    NULL, 0);
	/* 2 retention and immutability */
	aws(ID("retention"), t += 60, "user/mallory", "IAMUser",
	    "logs.amazonaws.com", "PutRetentionPolicy", "eu-west-1",
	    "{\"logGroupName\":\"/aws/cloudtrail/org\",\"retentionInDays\":1}",
	    NULL);
	aws(ID("retention"), t += 60, "user/mallory", "IAMUser",
	    "s3.amazonaws.com", "PutObjectLegalHold", "eu-west-1",
	    "{\"bucketName\":\"evidence\",\"key\":\"2024/05.tar\","
	    "\"LegalHold\":{\"Status\":\"OFF\"}}", NULL);
	azure(ID("retention"), t += 60, "mallory@contoso.example",
	      "Microsoft.Storage/storageAccounts/managementPolicies/write",
	      "Microsoft.Storage/storageAccounts/st1/managementPolicies/default",
	      "{\"properties\":{\"policy\":{\"rules\":[{\"name\":\"purge\","
	      "\"definition\":{\"actions\":{\"baseBlob\":{\"delete\":{"
	      "\"daysAfterModificationGreaterThan\":1}}}}}]}}}", "Success");
	gcp(ID("retention"), t += 60, "mallory@example.com",
	    "logging.googleapis.com",
	    "google.logging.v2.ConfigServiceV2.UpdateBucket",
	    "projects/proj-1/locations/global/buckets/_Default", NULL,
	    "{\"bucket\":{\"retentionDays\":1},\"updateMask\":\"retentionDays\"}",
	    0);
	/* 3 concealment of the audit trail */
	aws(ID("concealment"), t += 60, "user/mallory", "IAMUser",
	    "cloudtrail.amazonaws.com", "StopLogging", "eu-west-1",
	    "{\"name\":\"org-trail\"}", NULL);
	azure(ID("concealment"), t += 60, "mallory@contoso.example",
	      "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
	      "Microsoft.KeyVault/vaults/kv1/providers/Microsoft.Insights/"
	      "diagnosticSettings/to-siem", NULL, "Success");
	azure(ID("concealment"), t += 60, "mallory@contoso.example",
	      "Microsoft.Authorization/policyExemptions/write",
	      "Microsoft.Authorization/policyExemptions/ex1",
	      "{\"properties\":{\"exemptionCategory\":\"Waiver\"}}", "Success");
	gcp(ID("concealment"), t += 60, "mallory@example.com",
	    "logging.googleapis.com",
	    "google.logging.v2.ConfigServiceV2.DeleteSink",
	    "projects/proj-1/sinks/audit-export", NULL, NULL, 0);
	k8s(ID("concealment"), t += 60, "mallory", "delete",
	    "admissionregistration.k8s.io", "validatingwebhookconfigurations",
	    NULL, "policy-webhook", 200, NULL);
	/* 4 isolation */
	aws(ID("isolation"), t += 60, "user/mallory", "IAMUser",
	    "ec2.amazonaws.com", "AllocateHosts", "eu-west-1",
	    "{\"instanceType\":\"c5.large\",\"quantity\":8}", NULL);
	aws(ID("isolation"), t += 60, "user/mallory", "IAMUser",
	    "kms.amazonaws.com", "CreateKey", "eu-west-1",
	    "{\"origin\":\"EXTERNAL_KEY_STORE\",\"customKeyStoreId\":\"cks-1\"}",
	    NULL);
	aws(ID("isolation"), t += 60, "user/mallory", "IAMUser",
	    "iam.amazonaws.com", "CreateRole", "us-east-1",
	    "{\"roleName\":\"partner\",\"assumeRolePolicyDocument\":\"{\\\""
	    "Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":"
	    "\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":\\\"arn:aws:iam::"
	    "999988887777:root\\\"},\\\"Action\\\":\\\"sts:AssumeRole\\\"}]}\"}",
	    NULL);
	azure(ID("isolation"), t += 60, "mallory@contoso.example",
	      "Microsoft.ManagedServices/registrationAssignments/write",
	      "Microsoft.ManagedServices/registrationAssignments/ra1", NULL,
	      "Success");
	gcp(ID("isolation"), t += 60, "mallory@example.com",
	    "compute.googleapis.com", "v1.compute.nodeGroups.insert",
	    "projects/proj-1/zones/europe-west1-b/nodeGroups/sole",
	    "europe-west1-b", NULL, 0);
	/* 5 privileged access */
	aws(ID("privileged"), t += 60, "root", "Root", "signin.amazonaws.com",
	    "ConsoleLogin", "us-east-1", NULL, NULL);
	azure(ID("privileged"), t += 60, "mallory@contoso.example",
	      "Microsoft.Authorization/roleAssignments/write",
	      "Microsoft.Authorization/roleAssignments/ra9",
	      "{\"properties\":{\"roleDefinitionId\":\"/subscriptions/sub-1/"
	      "providers/Microsoft.Authorization/roleDefinitions/"
	      "8e3af657-a8ff-443c-a75c-2fe8c4bcb635\",\"principalId\":\"obj-9\"}}",
	      "Success");
	gcp(ID("privileged"), t += 60, "mallory@example.com",
	    "cloudresourcemanager.googleapis.com", "SetIamPolicy",
	    "projects/proj-1", NULL,
	    "{\"policy\":{\"bindings\":[{\"role\":\"roles/owner\",\"members\":"
	    "[\"user:broker@outside.example\"]}]}}", 0);
	k8s(ID("privileged"), t += 60, "mallory", "create",
	    "rbac.authorization.k8s.io", "clusterrolebindings", NULL, NULL, 201,
	    "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"ops\"},"
	    "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"cluster-admin\"},"
	    "\"subjects\":[{\"kind\":\"User\",\"name\":\"mallory\"}]}");
	/* 6 bulk acquisition: a burst of 25 buckets, a large stream, 120
	 * transcription jobs in two hours */
	for (int i = 0; i < 25; i++) {
		snprintf(body, sizeof body, "{\"bucketName\":\"intake-%02d\","
		         "\"CreateBucketConfiguration\":{\"LocationConstraint\":"
		         "\"eu-west-1\"}}", i);
		aws(ID("bulk"), t += 30, "user/intake-bot", "IAMUser",
		    "s3.amazonaws.com", "CreateBucket", "eu-west-1", body, NULL);
	}
	aws(ID("bulk"), t += 60, "user/intake-bot", "IAMUser",
	    "kinesis.amazonaws.com", "CreateStream", "eu-west-1",
	    "{\"streamName\":\"intake\",\"shardCount\":400}", NULL);
	for (int i = 0; i < 120; i++) {
		snprintf(body, sizeof body, "{\"transcriptionJobName\":"
		         "\"intake-%03d\",\"languageCode\":\"ar-SA\"}", i);
		aws(ID("bulk"), t += 60, "user/intake-bot", "IAMUser",
		    "transcribe.amazonaws.com", "StartTranscriptionJob",
		    "eu-west-1", body, NULL);
	}
#undef ID
}

int
main(int argc, char **argv)
{
	unsigned long long seed = 1, n = 10000;
	int plant = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--events") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out_dir = argv[++i];
		else if (!strcmp(argv[i], "--no-planted"))
			plant = 0;
		else {
			fprintf(stderr, "usage: gen-events [--seed S] [--events N] "
			        "[--no-planted] --out DIR\n");
			return 2;
		}
	}
	if (!out_dir) {
		fprintf(stderr, "gen-events: --out DIR is required\n");
		return 2;
	}
	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
		die(out_dir);
	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (uint64_t i = 0; i < n; i++)
		background(i, START + (long long)(i * (uint64_t)SPAN_S / n));
	if (plant)
		planted(START + SPAN_S / 2);
	for (int p = 0; p < NPROV; p++)
		close_file(p);
	return 0;
}
