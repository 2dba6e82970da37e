/*
 * AWS CloudTrail digest files, checked offline (include/probity/ctdigest.h).
 *
 * What AWS documents, from the CloudTrail User Guide pages "CloudTrail
 * digest file structure"
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html
 * and "Custom implementations of CloudTrail log file integrity validation"
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html
 * and what AWS's own validator does (aws-cli,
 * awscli/customizations/cloudtrail/validation.py):
 *
 * 1. logFiles[].hashValue is the hex SHA-256 "of the uncompressed log file
 *    content", not of the .json.gz object; aws-cli inflates, then hashes.
 * 2. previousDigestHashValue is the hex SHA-256 "of the uncompressed
 *    contents of the previous digest file".
 * 3. A digest's signature (S3 metadata x-amz-meta-signature, hex;
 *    x-amz-meta-signature-algorithm SHA256withRSA) is RSA PKCS#1 v1.5 with
 *    SHA-256 over the data signing string
 *        digestEndTime '\n' digestS3Bucket '/' digestS3Object '\n'
 *        hex(SHA-256(uncompressed digest)) '\n' previousDigestSignature
 *    digestEndTime as the digest writes it, UTC extended format
 *    ("2015-08-12T04:01:31Z"); no newline at the end. For a starting
 *    digest (previousDigestSignature null) aws-cli writes the four letters
 *    "null", "to match the Java implementation"; the guide is silent.
 * 4. The next digest's previousDigestSignature carries a digest's
 *    signature; the newest digest's is only in S3 metadata. Offline, the
 *    guide says, either start from the next-to-last digest (the newest
 *    "cannot be validated") or save the newest signature beforehand.
 * 5. A starting digest has previousDigestS3Bucket, previousDigestS3Object,
 *    previousDigestHashValue, previousDigestHashAlgorithm and
 *    previousDigestSignature null. An hour without activity still gets a
 *    digest, with "logFiles": [].
 * 6. digestPublicKeyFingerprint picks the key among those ListPublicKeys
 *    returns ("Value: the DER encoded public key value in PKCS #1
 *    format"). How the fingerprint is computed is not documented. It is
 *    the hex MD5 of that DER: so for the four key/fingerprint pairs AWS
 *    publishes (the guide's list-public-keys sample, aws-cli's
 *    list-public-keys example; see tests/unit/test_ctdigest.c). One of the
 *    guide's sample Values is an X.509 SubjectPublicKeyInfo, and its
 *    fingerprint is the MD5 of that DER; so a key here answers to the MD5
 *    of either encoding (the fingerprint only selects the key).
 * 7. Digests live at AWSLogs/[O-ID/]account/CloudTrail-Digest/region/Y/M/D/
 *    account_CloudTrail-Digest_region_trail_homeregion_YYYYMMDDTHHMMSSZ
 *    .json.gz, backfill digests with "_backfill" before ".json.gz"; the
 *    guide does not say how backfill digests chain, so they are checked on
 *    their own (log files, and a signature given with the digest).
 *
 * Nothing of the input is trusted: every field is type- and form-checked in
 * prb_ctd_add_digest, so prb_ctd_check works on checked values only.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#define ZLIB_CONST
#include <zlib.h>

#include "probity/ctdigest.h"
#include "probity/sha256.h"
#include "base/util.h"

#define MAX_JSON ((size_t)64 << 20) /* a digest lists one hour's files */
#define MAX_STR 1024                /* S3 keys are at most 1,024 bytes */
#define MAX_SIG 1024                /* signature bytes: RSA-8192 */
#define TIME_LEN 20                 /* "YYYY-MM-DDTHH:MM:SSZ" */
#define MIN_RSA_BITS 2048
/* digestEndTime \n bucket / key \n 64 hex \n signature hex, and a NUL */
#define TBS_MAX (TIME_LEN + 1 + MAX_STR + 1 + MAX_STR + 1 + 64 + 1 + \
                 2 * MAX_SIG + 1)

struct ctd_entry { /* one logFiles[] element */
	char *object;
	uint8_t hash[32];
};

struct ctd_digest {
	char *path;
	char *bucket, *object;
	char *chain; /* see chain_key() */
	char start_text[TIME_LEN + 1], end_text[TIME_LEN + 1];
	int64_t start, end;
	uint8_t hash[32]; /* SHA-256 of the uncompressed JSON */
	uint8_t fpr[16];
	int starting, backfill;
	char *prev_bucket, *prev_object, *prev_sig; /* NULL when starting */
	uint8_t prev_hash[32];
	struct ctd_entry *logs;
	size_t nlogs;
	/* per check */
	int skip;               /* a duplicate */
	const char *next_sig;   /* from the next digest's previousDigestSignature */
	const char *given_sig;  /* from prb_ctd_add_signature */
};

struct ctd_file {
	char *path;
	const char *base;
	uint8_t hash[32];
	int listed; /* per check */
};

struct ctd_key {
	EVP_PKEY *pkey;
	uint8_t fpr_pkcs1[16], fpr_spki[16];
};

struct ctd_sig {
	char *name, *hex;
};

struct prb_ctd {
	struct ctd_digest **digests;
	size_t ndigests, capdigests;
	struct ctd_file *files;
	size_t nfiles, capfiles;
	struct ctd_key *keys;
	size_t nkeys, capkeys;
	struct ctd_sig *sigs;
	size_t nsigs, capsigs;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* arr (n elements of `size` bytes, room for *cap) with room for one more:
 * arr itself, a reallocation, or NULL (arr unchanged) if out of memory. */
static void *
grow(void *arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return arr;
	size_t nc = *cap ? *cap * 2 : 16;
	if (nc > SIZE_MAX / size)
		return NULL;
	void *np = realloc(arr, nc * size);
	if (np)
		*cap = nc;
	return np;
}

static char *
dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	return d ? memcpy(d, s, n) : NULL;
}

static int
hex_val(char c)
{
	return OPENSSL_hexchar2int((unsigned char)c); /* either case, or -1 */
}

/* Decodes exactly 2*n hex digits of s (either case) into out[0..n). */
static int
hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* 1 if s[0..n) is a non-empty even run of hex digits of at most MAX_SIG
 * bytes. */
static int
sig_hex_valid(const char *s, size_t n)
{
	if (n == 0 || n % 2 || n > 2 * MAX_SIG)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (hex_val(s[i]) < 0)
			return 0;
	return 1;
}

/* Two checked hex strings with the same digits, either case. */
static int
hex_equal(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (hex_val(*a) != hex_val(*b))
			return 0;
	return *a == *b;
}


/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SSZ" exactly, a real date, no leap second. */
static int
parse_time(const char *s, int64_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	unsigned v[TIME_LEN] = {0};
	if (strlen(s) != TIME_LEN)
		return -1;
	for (size_t i = 0; i < TIME_LEN; i++) {
		if (shape[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v[i] = (unsigned)(s[i] - '0');
		} else if (s[i] != shape[i]) {
			return -1;
		}
	}
	unsigned y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	unsigned mo = v[5] * 10 + v[6], d = v[8] * 10 + v[9];
	unsigned h = v[11] * 10 + v[12], mi = v[14] * 10 + v[15],
	         se = v[17] * 10 + v[18];
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
	                                 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
	    se > 59)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* 1 if path ends with key[0..klen) and the match starts a path component. */
static int
tail_match(const char *path, const char *key, size_t klen)
{
	size_t pl = strlen(path);
	if (klen == 0 || pl < klen || memcmp(path + pl - klen, key, klen))
		return 0;
	return pl == klen || path[pl - klen - 1] == '/';
}

/* The part of an S3 key a downloaded tree keeps: from "AWSLogs/" on. */
static const char *
tree_key(const char *object)
{
	const char *a = strstr(object, "AWSLogs/");
	return a ? a : object;
}

/*
 * The chain a digest belongs to: its key from "AWSLogs/", without the
 * three date directories and without the "_<timestamp>.json.gz" of the
 * file name. What is left names account, region, trail and home region.
 */
static char *
chain_key(const char *object)
{
	const char *k = tree_key(object), *base = base_name(k);
	size_t dirlen = (size_t)(base - k); /* with the final '/' */
	for (int i = 0; i < 4 && dirlen > 0; i++) {
		dirlen--; /* step over a '/' */
		while (dirlen > 0 && k[dirlen - 1] != '/')
			dirlen--;
	}
	const char *us = strrchr(base, '_');
	size_t blen = us ? (size_t)(us - base) : strlen(base);
	char *out = malloc(dirlen + 1 + blen + 1);
	if (!out)
		return NULL;
	memcpy(out, k, dirlen);
	out[dirlen] = '|';
	memcpy(out + dirlen + 1, base, blen);
	out[dirlen + 1 + blen] = '\0';
	return out;
}

/* ------------------------------------------------------------------ */
/* Handles                                                             */

prb_ctd *
prb_ctd_new(void)
{
	return calloc(1, sizeof(prb_ctd));
}

static void
digest_free(struct ctd_digest *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nlogs; i++)
		free(d->logs[i].object);
	free(d->logs);
	free(d->path);
	free(d->bucket);
	free(d->object);
	free(d->chain);
	free(d->prev_bucket);
	free(d->prev_object);
	free(d->prev_sig);
	free(d);
}

void
prb_ctd_free(prb_ctd *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ndigests; i++)
		digest_free(c->digests[i]);
	free(c->digests);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i].path);
	free(c->files);
	for (size_t i = 0; i < c->nkeys; i++)
		EVP_PKEY_free(c->keys[i].pkey);
	free(c->keys);
	for (size_t i = 0; i < c->nsigs; i++) {
		free(c->sigs[i].name);
		free(c->sigs[i].hex);
	}
	free(c->sigs);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Digest parsing                                                      */

typedef struct {
	const char *path;
	const char *text;
	size_t len;
	prb_err *err;
} parse_ctx;

/* Byte offset of the nth (0-based) member name `name` in the text: a
 * quoted occurrence followed by optional blanks and ':'. */
static uint64_t
member_offset(const parse_ctx *p, const char *name, size_t nth)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl + 2 <= p->len; i++) {
		if (p->text[i] != '"' || memcmp(p->text + i + 1, name, nl) ||
		    p->text[i + 1 + nl] != '"')
			continue;
		size_t j = i + nl + 2;
		while (j < p->len && (p->text[j] == ' ' || p->text[j] == '\t' ||
		                      p->text[j] == '\n' || p->text[j] == '\r'))
			j++;
		if (j < p->len && p->text[j] == ':' && nth-- == 0)
			return i;
	}
	return UINT64_MAX;
}

/* PRB_EMALFORMED at the nth member `name`; fmt describes the fault. */
static int
bad(const parse_ctx *p, const char *name, size_t nth, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

static int
bad(const parse_ctx *p, const char *name, size_t nth, const char *fmt, ...)
{
	char msg[sizeof p->err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return prb_err_set(p->err, PRB_EMALFORMED, p->path,
	                   name ? member_offset(p, name, nth) : UINT64_MAX, "%s",
	                   msg);
}

/* The string member `name` of o (label names it in messages): non-empty,
 * at most MAX_STR bytes. *out is NULL for null or absent when nullable. */
static int
get_str(const parse_ctx *p, const json_t *o, const char *name, size_t nth,
        const char *label, int nullable, const char **out)
{
	json_t *v = json_object_get(o, name);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (nullable)
			return 0;
		return bad(p, v ? name : NULL, nth, "%s is %s", label,
		           v ? "null" : "missing");
	}
	if (!json_is_string(v))
		return bad(p, name, nth, "%s is not a string", label);
	size_t n = json_string_length(v);
	if (n == 0 || n > MAX_STR)
		return bad(p, name, nth, "%s is empty or over %d bytes", label,
		           MAX_STR);
	*out = json_string_value(v);
	return 0;
}

static int
get_hash(const parse_ctx *p, const json_t *o, const char *name, size_t nth,
         const char *label, uint8_t *out, size_t n)
{
	const char *s;
	int rc = get_str(p, o, name, nth, label, 0, &s);
	if (rc)
		return rc;
	if (hex_decode(s, strlen(s), out, n))
		return bad(p, name, nth, "%s is not %zu hex digits", label,
		           2 * n);
	return 0;
}

static int
expect(const parse_ctx *p, const json_t *o, const char *name, size_t nth,
       const char *label, const char *want)
{
	const char *s;
	int rc = get_str(p, o, name, nth, label, 0, &s);
	if (rc)
		return rc;
	if (strcmp(s, want))
		return bad(p, name, nth, "%s \"%s\" is not supported (only %s)",
		           label, s, want);
	return 0;
}

static int
get_time(const parse_ctx *p, const json_t *o, const char *name,
         char text[TIME_LEN + 1], int64_t *t)
{
	const char *s;
	int rc = get_str(p, o, name, 0, name, 0, &s);
	if (rc)
		return rc;
	if (parse_time(s, t))
		return bad(p, name, 0, "%s \"%.40s\" is not a UTC time "
		           "YYYY-MM-DDTHH:MM:SSZ", name, s);
	memcpy(text, s, TIME_LEN + 1);
	return 0;
}

static const char *const prev_members[] = {
	"previousDigestS3Bucket", "previousDigestS3Object",
	"previousDigestHashValue", "previousDigestHashAlgorithm",
};

static int
parse_previous(const parse_ctx *p, const json_t *o, struct ctd_digest *d)
{
	const char *bucket, *object, *sig;
	json_t *ps = json_object_get(o, "previousDigestSignature");
	if (!ps)
		return bad(p, NULL, 0, "previousDigestSignature is missing");
	if (json_is_null(ps)) {
		d->starting = 1;
		for (size_t i = 0; i < 4; i++) {
			json_t *v = json_object_get(o, prev_members[i]);
			if (v && !json_is_null(v))
				return bad(p, prev_members[i], 0,
				           "%s is not null although "
				           "previousDigestSignature is",
				           prev_members[i]);
		}
		return 0;
	}
	int rc;
	if ((rc = get_str(p, o, "previousDigestSignature", 0,
	                  "previousDigestSignature", 0, &sig)) ||
	    (rc = get_str(p, o, "previousDigestS3Bucket", 0,
	                  "previousDigestS3Bucket", 0, &bucket)) ||
	    (rc = get_str(p, o, "previousDigestS3Object", 0,
	                  "previousDigestS3Object", 0, &object)) ||
	    (rc = expect(p, o, "previousDigestHashAlgorithm", 0,
	                 "previousDigestHashAlgorithm", "SHA-256")) ||
	    (rc = get_hash(p, o, "previousDigestHashValue", 0,
	                   "previousDigestHashValue", d->prev_hash, 32)))
		return rc;
	if (!sig_hex_valid(sig, strlen(sig)))
		return bad(p, "previousDigestSignature", 0,
		           "previousDigestSignature is not an even number of "
		           "hex digits (at most %d)", 2 * MAX_SIG);
	if (!(d->prev_bucket = dup_str(bucket)) ||
	    !(d->prev_object = dup_str(object)) || !(d->prev_sig = dup_str(sig)))
		return prb_err_set(p->err, PRB_ENOMEM, p->path, UINT64_MAX,
		                   "out of memory");
	return 0;
}

static int
parse_logs(const parse_ctx *p, const json_t *o, struct ctd_digest *d)
{
	json_t *a = json_object_get(o, "logFiles");
	if (!a)
		return bad(p, NULL, 0, "logFiles is missing");
	if (!json_is_array(a))
		return bad(p, "logFiles", 0, "logFiles is not an array");
	size_t n = json_array_size(a);
	if (n == 0)
		return 0;
	if (!(d->logs = calloc(n, sizeof *d->logs)))
		return prb_err_set(p->err, PRB_ENOMEM, p->path, UINT64_MAX,
		                   "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		struct ctd_entry *le = &d->logs[i];
		const char *bucket, *object;
		char label[64];
		int rc;
		if (!json_is_object(e))
			return bad(p, "logFiles", 0,
			           "logFiles[%zu] is not an object", i);
		/* The nth member name of each kind is the one of entry n
		 * unless an entry lacks it, and then we report that entry. */
#define LABEL(m) (snprintf(label, sizeof label, "logFiles[%zu]." m, i), label)
		if ((rc = get_str(p, e, "s3Bucket", i, LABEL("s3Bucket"), 0,
		                  &bucket)) ||
		    (rc = get_str(p, e, "s3Object", i, LABEL("s3Object"), 0,
		                  &object)) ||
		    (rc = expect(p, e, "hashAlgorithm", i,
		                 LABEL("hashAlgorithm"), "SHA-256")) ||
		    (rc = get_hash(p, e, "hashValue", i, LABEL("hashValue"),
		                   le->hash, 32)))
			return rc;
#undef LABEL
		if (!(le->object = dup_str(object)))
			return prb_err_set(p->err, PRB_ENOMEM, p->path,
			                   UINT64_MAX, "out of memory");
		d->nlogs = i + 1;
	}
	return 0;
}

static int
parse_digest(const parse_ctx *p, const json_t *o, struct ctd_digest *d)
{
	const char *bucket, *object;
	int rc;
	if ((rc = get_time(p, o, "digestStartTime", d->start_text,
	                   &d->start)) ||
	    (rc = get_time(p, o, "digestEndTime", d->end_text, &d->end)))
		return rc;
	if (d->start > d->end)
		return bad(p, "digestStartTime", 0,
		           "digestStartTime %s is after digestEndTime %s",
		           d->start_text, d->end_text);
	if ((rc = get_str(p, o, "digestS3Bucket", 0, "digestS3Bucket", 0,
	                  &bucket)) ||
	    (rc = get_str(p, o, "digestS3Object", 0, "digestS3Object", 0,
	                  &object)) ||
	    (rc = get_hash(p, o, "digestPublicKeyFingerprint", 0,
	                   "digestPublicKeyFingerprint", d->fpr, 16)) ||
	    (rc = expect(p, o, "digestSignatureAlgorithm", 0,
	                 "digestSignatureAlgorithm", "SHA256withRSA")))
		return rc;
	if (!(d->bucket = dup_str(bucket)) || !(d->object = dup_str(object)) ||
	    !(d->chain = chain_key(object)))
		return prb_err_set(p->err, PRB_ENOMEM, p->path, UINT64_MAX,
		                   "out of memory");
	d->backfill = strstr(base_name(object), "_backfill") != NULL;
	if ((rc = parse_previous(p, o, d)))
		return rc;
	return parse_logs(p, o, d);
}

int
prb_ctd_add_digest(prb_ctd *c, const char *path, const uint8_t *data,
                   size_t len, prb_err *err)
{
	if (!c || !path || (!data && len))
		return prb_err_set(err, PRB_EINVAL, path, UINT64_MAX,
		                   "no checker, path or data");
	if (len > MAX_JSON)
		return prb_err_set(err, PRB_ETOOBIG, path, MAX_JSON,
		                   "digest is over %zu bytes", MAX_JSON);
	parse_ctx p = {path, data ? (const char *)data : "", len, err};
	struct ctd_digest *d = NULL;
	json_error_t je;
	int rc;
	json_t *root = json_loadb(p.text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return prb_err_set(err, PRB_EMALFORMED, path,
		                   je.position >= 0 ? (uint64_t)je.position
		                                    : UINT64_MAX,
		                   "not JSON: %s (line %d, column %d)", je.text,
		                   je.line, je.column);
	if (!json_is_object(root)) {
		rc = bad(&p, NULL, 0, "the digest is not a JSON object");
		goto fail;
	}
	void *arr = grow(c->digests, &c->capdigests, c->ndigests,
	                 sizeof *c->digests);
	if (arr)
		c->digests = arr;
	if (!arr || !(d = calloc(1, sizeof *d)) || !(d->path = dup_str(path))) {
		rc = prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
		                 "out of memory");
		goto fail;
	}
	if ((rc = parse_digest(&p, root, d)))
		goto fail;
	prb_sha256(data ? data : (const uint8_t *)"", len, d->hash);
	c->digests[c->ndigests++] = d;
	json_decref(root);
	return 0;
fail:
	digest_free(d);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Log files, signatures, keys                                         */

int
prb_ctd_add_logfile(prb_ctd *c, const char *path, const uint8_t sha256v[32],
                    prb_err *err)
{
	if (!c || !path || !sha256v)
		return prb_err_set(err, PRB_EINVAL, path, UINT64_MAX,
		                   "no checker, path or hash");
	char *copy = dup_str(path);
	void *arr = grow(c->files, &c->capfiles, c->nfiles, sizeof *c->files);
	if (arr)
		c->files = arr;
	if (!copy || !arr) {
		free(copy);
		return prb_err_set(err, PRB_ENOMEM, path, UINT64_MAX,
		                   "out of memory");
	}
	struct ctd_file *f = &c->files[c->nfiles++];
	f->path = copy;
	f->base = base_name(copy);
	memcpy(f->hash, sha256v, 32);
	f->listed = 0;
	return 0;
}

int
prb_ctd_hash_logfile(const uint8_t *data, size_t len, uint8_t out[32],
                     prb_err *err)
{
	if (!data && len)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX, "no data");
	if (len < 2 || data[0] != 0x1f || data[1] != 0x8b) {
		prb_sha256(data ? data : (const uint8_t *)"", len, out);
		return 0;
	}
	uint8_t buf[16384];
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	prb_sha256_ctx *md = prb_sha256_new();
	int rc = 0, zr = Z_OK;
	if (!md || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		prb_sha256_free(md);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	}
	size_t off = 0;
	while (zr != Z_STREAM_END) {
		if (zs.avail_in == 0) {
			if (off == len)
				break;
			size_t n = len - off > (1u << 30) ? 1u << 30 : len - off;
			zs.next_in = data + off;
			zs.avail_in = (uInt)n;
			off += n;
		}
		zs.next_out = buf;
		zs.avail_out = sizeof buf;
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr == Z_BUF_ERROR && zs.avail_in == 0)
			zr = Z_OK; /* needs the next slice of input */
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rc = prb_err_set(err, PRB_EMALFORMED, NULL,
			                 off - zs.avail_in, "bad gzip data: %s",
			                 zs.msg ? zs.msg : "corrupt");
			goto out;
		}
		prb_sha256_update(md, buf, sizeof buf - zs.avail_out);
	}
	if (zr != Z_STREAM_END)
		rc = prb_err_set(err, PRB_EMALFORMED, NULL, len,
		                 "gzip data is truncated");
	else if (zs.avail_in || off < len)
		rc = prb_err_set(err, PRB_EMALFORMED, NULL, off - zs.avail_in,
		                 "bytes after the gzip stream");
	else
		prb_sha256_final(md, out);
out:
	inflateEnd(&zs);
	prb_sha256_free(md);
	return rc;
}

int
prb_ctd_add_signature(prb_ctd *c, const char *digest, const char *hex,
                      size_t len, prb_err *err)
{
	if (!c || !digest || (!hex && len))
		return prb_err_set(err, PRB_EINVAL, digest, UINT64_MAX,
		                   "no checker, digest name or signature");
	if (!sig_hex_valid(hex, len))
		return prb_err_set(err, PRB_EMALFORMED, digest, UINT64_MAX,
		                   "signature is not an even number of hex "
		                   "digits (at most %d)", 2 * MAX_SIG);
	char *name = dup_str(digest), *h = malloc(len + 1);
	void *arr = grow(c->sigs, &c->capsigs, c->nsigs, sizeof *c->sigs);
	if (arr)
		c->sigs = arr;
	if (!name || !h || !arr) {
		free(name);
		free(h);
		return prb_err_set(err, PRB_ENOMEM, digest, UINT64_MAX,
		                   "out of memory");
	}
	memcpy(h, hex, len);
	h[len] = '\0';
	c->sigs[c->nsigs].name = name;
	c->sigs[c->nsigs++].hex = h;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* 1 if t[0..n) is non-empty base64 text (alphabet and padding only). */
static int
is_b64_text(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(t[i] >= 'A' && t[i] <= 'Z') && !(t[i] >= 'a' && t[i] <= 'z') &&
		    !(t[i] >= '0' && t[i] <= '9') && t[i] != '+' && t[i] != '/' &&
		    t[i] != '=')
			return 0;
	return n > 0;
}

/* The DER inside a PEM block, of base64 text, or the bytes themselves
 * (DER always holds bytes outside the base64 alphabet), in a buffer the
 * caller frees with OPENSSL_free. Only text is trimmed. */
static int
key_der(const uint8_t *key, size_t len, uint8_t **der, size_t *derlen)
{
	const char *t = (const char *)key;
	size_t n = len;
	long pn = 0;
	*der = NULL;
	if (len == 0 || len > 65536)
		return PRB_EKEY;
	while (n && is_space(*t))
		t++, n--;
	while (n && is_space(t[n - 1]))
		n--;
	if (n > 10 && memcmp(t, "-----BEGIN", 10) == 0) {
		BIO *b = BIO_new_mem_buf(t, (int)n);
		char *name = NULL, *header = NULL;
		int ok = b && PEM_read_bio(b, &name, &header, der, &pn) == 1 &&
		         (strcmp(name, "PUBLIC KEY") == 0 ||
		          strcmp(name, "RSA PUBLIC KEY") == 0);
		BIO_free(b);
		OPENSSL_free(name);
		OPENSSL_free(header);
		*derlen = (size_t)pn;
		return ok ? 0 : PRB_EKEY;
	}
	if (is_b64_text(t, n)) {
		if (!(*der = OPENSSL_malloc(n / 4 * 3 + 3)))
			return PRB_ENOMEM;
		return prb_b64_decode(t, n, *der, derlen) ? PRB_EKEY : 0;
	}
	if (!(*der = OPENSSL_memdup(key, len)))
		return PRB_ENOMEM;
	*derlen = len;
	return 0;
}

/* An X.509 SubjectPublicKeyInfo, else a PKCS#1 RSAPublicKey; either must
 * take every byte. NULL if neither. */
static EVP_PKEY *
der_pubkey(const uint8_t *der, size_t len)
{
	const unsigned char *q = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &q, (long)len);
	if (k && q == der + len)
		return k;
	EVP_PKEY_free(k);
	q = der;
	k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);
	if (k && q == der + len)
		return k;
	EVP_PKEY_free(k);
	return NULL;
}

/* MD5 of an encoding of pkey: i2d_PUBKEY or i2d_PublicKey. */
static int
key_md5(EVP_PKEY *pkey, int spki, uint8_t out[16])
{
	unsigned char *der = NULL;
	int n = spki ? i2d_PUBKEY(pkey, &der) : i2d_PublicKey(pkey, &der);
	int ok = n > 0 && EVP_Digest(der, (size_t)n, out, NULL, EVP_md5(), NULL);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

int
prb_ctd_add_pubkey(prb_ctd *c, const uint8_t *key, size_t len,
                   char fingerprint[33], prb_err *err)
{
	uint8_t *der = NULL;
	size_t derlen = 0;
	EVP_PKEY *pkey = NULL;
	struct ctd_key k;
	if (!c || !key)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "no checker or key");
	int rc = key_der(key, len, &der, &derlen);
	if (rc) {
		prb_err_set(err, rc, NULL, UINT64_MAX, "%s",
		            rc == PRB_ENOMEM ? "out of memory"
		                             : "not a PEM, DER or base64 public key");
		goto out;
	}
	pkey = der_pubkey(der, derlen);
	rc = PRB_EKEY;
	if (!pkey) {
		prb_err_set(err, rc, NULL, UINT64_MAX,
		            "not an X.509 or PKCS#1 public key");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(pkey) < MIN_RSA_BITS) {
		prb_err_set(err, rc, NULL, UINT64_MAX,
		            "not an RSA key of at least %d bits", MIN_RSA_BITS);
		goto out;
	}
	k.pkey = pkey;
	void *arr = grow(c->keys, &c->capkeys, c->nkeys, sizeof *c->keys);
	if (arr)
		c->keys = arr;
	if (key_md5(pkey, 0, k.fpr_pkcs1) || key_md5(pkey, 1, k.fpr_spki) ||
	    !arr) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
		goto out;
	}
	c->keys[c->nkeys++] = k;
	pkey = NULL;
	if (fingerprint)
		prb_hex_encode(k.fpr_pkcs1, 16, fingerprint);
	rc = 0;
out:
	ERR_clear_error(); /* failed decoding attempts leave errors queued */
	EVP_PKEY_free(pkey);
	OPENSSL_free(der);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checking                                                            */

const char *
prb_ctd_kind_name(int kind)
{
	switch (kind) {
	case PRB_CTD_MISSING: return "missing";
	case PRB_CTD_ALTERED: return "altered";
	case PRB_CTD_GAP: return "gap";
	case PRB_CTD_CHAIN_HASH: return "chain-hash";
	case PRB_CTD_CHAIN_SIG: return "chain-signature";
	case PRB_CTD_BAD_SIGNATURE: return "bad-signature";
	case PRB_CTD_UNKNOWN_KEY: return "unknown-key";
	case PRB_CTD_UNSIGNED_NEWEST: return "unsigned-newest";
	case PRB_CTD_MOVED: return "moved";
	case PRB_CTD_DUPLICATE: return "duplicate";
	default: return "unknown";
	}
}

typedef struct {
	prb_ctd *c;
	void (*report)(void *ctx, const prb_ctd_problem *p);
	void *ctx;
	int problems;
	int rc;
	prb_ctd_summary sum;
	struct ctd_file **byname; /* files sorted by base name */
} run;

static void
problem(run *r, int kind, const char *digest, const char *object,
        const char *path, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 6, 7)))
#endif
	;

static void
problem(run *r, int kind, const char *digest, const char *object,
        const char *path, const char *fmt, ...)
{
	prb_ctd_problem p = {kind, digest, object, path, {0}};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p.detail, sizeof p.detail, fmt, ap);
	va_end(ap);
	if (r->problems < INT_MAX)
		r->problems++;
	if (r->report)
		r->report(r->ctx, &p);
}

static int
cmp_object(const void *a, const void *b)
{
	const struct ctd_digest *x = *(struct ctd_digest *const *)a,
	                        *y = *(struct ctd_digest *const *)b;
	int c = strcmp(x->object, y->object);
	if (!c)
		c = strcmp(x->bucket, y->bucket);
	return c ? c : strcmp(x->path, y->path);
}

static int
cmp_chain(const void *a, const void *b)
{
	const struct ctd_digest *x = *(struct ctd_digest *const *)a,
	                        *y = *(struct ctd_digest *const *)b;
	if (x->backfill != y->backfill)
		return x->backfill - y->backfill;
	int c = strcmp(x->chain, y->chain);
	if (c)
		return c;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return cmp_object(a, b);
}

static int
cmp_file(const void *a, const void *b)
{
	const struct ctd_file *x = *(struct ctd_file *const *)a,
	                      *y = *(struct ctd_file *const *)b;
	int c = strcmp(x->base, y->base);
	return c ? c : strcmp(x->path, y->path);
}

/* Marks all but the first of digests with one S3 key as skipped; two
 * with different content are reported. */
static void
mark_duplicates(run *r, struct ctd_digest **d, size_t n)
{
	qsort(d, n, sizeof *d, cmp_object);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(d[i]->object, d[first]->object) ||
		    strcmp(d[i]->bucket, d[first]->bucket)) {
			first = i;
			continue;
		}
		d[i]->skip = 1;
		if (memcmp(d[i]->hash, d[first]->hash, 32))
			problem(r, PRB_CTD_DUPLICATE, d[i]->path, d[i]->object,
			        NULL, "differs from %s, which has the same S3 key "
			        "and is the one checked", d[first]->path);
	}
}

/* Attaches the signatures given with prb_ctd_add_signature. */
static void
attach_signatures(run *r, struct ctd_digest **d, size_t n)
{
	prb_ctd *c = r->c;
	for (size_t s = 0; s < c->nsigs; s++) {
		const char *name = c->sigs[s].name;
		size_t nl = strlen(name), found = 0;
		for (size_t i = 0; i < n; i++) {
			size_t bl = strlen(d[i]->bucket);
			if (d[i]->skip)
				continue;
			if (strcmp(name, d[i]->path) &&
			    strcmp(name, d[i]->object) &&
			    (nl <= bl || memcmp(name, d[i]->bucket, bl) ||
			     name[bl] != '/' || strcmp(name + bl + 1, d[i]->object)))
				continue;
			d[i]->given_sig = c->sigs[s].hex;
			found++;
		}
		if (!found)
			problem(r, PRB_CTD_MISSING, name, NULL, NULL,
			        "a signature was given for this digest, but no "
			        "such digest was added");
	}
}

static void
check_moved(run *r, const struct ctd_digest *d)
{
	const char *k = tree_key(d->object);
	size_t kl = strlen(k);
	if (tail_match(d->path, k, kl) ||
	    (kl > 3 && strcmp(k + kl - 3, ".gz") == 0 &&
	     tail_match(d->path, k, kl - 3)))
		return;
	problem(r, PRB_CTD_MOVED, d->path, d->object, NULL,
	        "the file is not at %s (its digestS3Object)", k);
}

/* The files a listed key names: those whose path ends with the key from
 * "AWSLogs/", else the only one with its base name. */
static void
check_logs(run *r, const struct ctd_digest *d)
{
	size_t nf = r->c->nfiles;
	for (size_t e = 0; e < d->nlogs; e++) {
		const struct ctd_entry *le = &d->logs[e];
		const char *k = tree_key(le->object), *base = base_name(k);
		size_t lo = 0, hi = nf, kl = strlen(k);
		r->sum.logfiles_listed++;
		while (lo < hi) { /* first file with base name >= base */
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(r->byname[mid]->base, base) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (hi = lo; hi < nf && !strcmp(r->byname[hi]->base, base); hi++)
			;
		size_t at_key = 0, altered = 0;
		for (size_t i = lo; i < hi; i++)
			at_key += tail_match(r->byname[i]->path, k, kl);
		if (at_key == 0 && hi == lo) {
			problem(r, PRB_CTD_MISSING, d->path, le->object, NULL,
			        "no such log file was given");
			continue;
		}
		if (at_key == 0 && hi - lo > 1) {
			problem(r, PRB_CTD_MISSING, d->path, le->object, NULL,
			        "none at this key, and %zu log files share its "
			        "base name", hi - lo);
			continue;
		}
		for (size_t i = lo; i < hi; i++) {
			struct ctd_file *f = r->byname[i];
			if (at_key && !tail_match(f->path, k, kl))
				continue;
			f->listed = 1;
			if (CRYPTO_memcmp(f->hash, le->hash, 32) == 0)
				continue;
			char want[65], got[65];
			prb_hex_encode(le->hash, 32, want);
			prb_hex_encode(f->hash, 32, got);
			problem(r, PRB_CTD_ALTERED, d->path, le->object, f->path,
			        "SHA-256 %.16s... is not the %.16s... listed", got,
			        want);
			altered++;
		}
		if (!altered)
			r->sum.logfiles_matched++;
	}
}

/* 1 if d names prev as its previous digest. */
static int
links_to(const struct ctd_digest *prev, const struct ctd_digest *d)
{
	return !d->starting && !strcmp(d->prev_object, prev->object) &&
	       !strcmp(d->prev_bucket, prev->bucket);
}

static void
check_link(run *r, const struct ctd_digest *prev, const struct ctd_digest *d)
{
	if (d->starting) {
		problem(r, PRB_CTD_GAP, d->path, NULL, NULL,
		        "a starting digest (validation restarted) after %s, "
		        "which ends %s", prev->path, prev->end_text);
		return;
	}
	if (!links_to(prev, d)) {
		problem(r, PRB_CTD_GAP, d->path, d->prev_object, NULL,
		        "its previous digest is not present; the one before "
		        "it is %s", prev->path);
		return;
	}
	if (d->start != prev->end)
		problem(r, PRB_CTD_GAP, d->path, prev->object, NULL,
		        "digestStartTime %s is not the previous digest's "
		        "digestEndTime %s", d->start_text, prev->end_text);
	if (CRYPTO_memcmp(d->prev_hash, prev->hash, 32)) {
		char got[65];
		prb_hex_encode(prev->hash, 32, got);
		problem(r, PRB_CTD_CHAIN_HASH, prev->path, prev->object, NULL,
		        "content SHA-256 %.16s... is not the "
		        "previousDigestHashValue in %s", got, d->path);
	}
}

static const struct ctd_key *
find_key(const prb_ctd *c, const uint8_t fpr[16])
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (!memcmp(c->keys[i].fpr_pkcs1, fpr, 16) ||
		    !memcmp(c->keys[i].fpr_spki, fpr, 16))
			return &c->keys[i];
	return NULL;
}

/* 1 verified, 0 not, -1 out of memory. */
static int
verify(const struct ctd_digest *d, EVP_PKEY *pkey, const char *sighex)
{
	char tbs[TBS_MAX], hash[65];
	uint8_t sig[MAX_SIG];
	size_t siglen = strlen(sighex) / 2;
	prb_hex_encode(d->hash, 32, hash);
	int n = snprintf(tbs, sizeof tbs, "%s\n%s/%s\n%s\n%s", d->end_text,
	                 d->bucket, d->object, hash,
	                 d->prev_sig ? d->prev_sig : "null");
	if (n < 0 || (size_t)n >= sizeof tbs ||
	    hex_decode(sighex, 2 * siglen, sig, siglen))
		return 0; /* cannot happen: lengths and hex checked on input */
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	if (!m)
		return -1;
	int ok = EVP_DigestVerifyInit(m, &pc, EVP_sha256(), NULL, pkey) == 1 &&
	         EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
	         EVP_DigestVerify(m, sig, siglen, (const unsigned char *)tbs,
	                          (size_t)n) == 1;
	EVP_MD_CTX_free(m);
	ERR_clear_error();
	return ok;
}

static void
check_signature(run *r, const struct ctd_digest *d, int newest)
{
	const char *sig = d->next_sig ? d->next_sig : d->given_sig;
	if (d->next_sig && d->given_sig && !hex_equal(d->next_sig, d->given_sig))
		problem(r, PRB_CTD_CHAIN_SIG, d->path, d->object, NULL,
		        "the signature given differs from the "
		        "previousDigestSignature of the next digest");
	if (!sig || r->c->nkeys == 0) {
		r->sum.sigs_unchecked++;
		if (!sig && newest && r->c->nkeys > 0)
			problem(r, PRB_CTD_UNSIGNED_NEWEST, d->path, d->object,
			        NULL, "the newest digest of its chain: give its "
			        "x-amz-meta-signature to authenticate it and its "
			        "log files");
		return;
	}
	const struct ctd_key *k = find_key(r->c, d->fpr);
	if (!k) {
		char fpr[33];
		prb_hex_encode(d->fpr, 16, fpr);
		r->sum.sigs_failed++;
		problem(r, PRB_CTD_UNKNOWN_KEY, d->path, d->object, NULL,
		        "no public key given has fingerprint %s", fpr);
		return;
	}
	int v = verify(d, k->pkey, sig);
	if (v < 0) {
		r->rc = PRB_ENOMEM;
		r->sum.sigs_unchecked++;
	} else if (v) {
		r->sum.sigs_verified++;
	} else {
		r->sum.sigs_failed++;
		problem(r, PRB_CTD_BAD_SIGNATURE, d->path, d->object, NULL,
		        "the SHA256withRSA signature (%s) does not verify",
		        d->next_sig ? "from the next digest" : "given");
	}
}

/* One chain, d[0..n) ordered by end time; a backfill digest alone. */
static void
check_chain(run *r, struct ctd_digest **d, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (!d[i]->backfill && links_to(d[i], d[i + 1]))
			d[i]->next_sig = d[i + 1]->prev_sig;
	for (size_t i = 0; i < n; i++) {
		r->sum.digests++;
		check_moved(r, d[i]);
		if (i > 0)
			check_link(r, d[i - 1], d[i]);
		check_signature(r, d[i], i + 1 == n && !d[i]->backfill);
		check_logs(r, d[i]);
	}
}

int
prb_ctd_check(prb_ctd *c, void (*report)(void *ctx, const prb_ctd_problem *p),
              void *ctx, prb_ctd_summary *sum)
{
	if (!c)
		return PRB_EINVAL;
	run r = {c, report, ctx, 0, 0, {0}, NULL};
	struct ctd_digest **d = NULL;
	size_t n = c->ndigests;
	if ((n && !(d = malloc(n * sizeof *d))) ||
	    (c->nfiles && !(r.byname = malloc(c->nfiles * sizeof *r.byname)))) {
		free(d);
		return PRB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		d[i] = c->digests[i];
		d[i]->skip = 0;
		d[i]->next_sig = d[i]->given_sig = NULL;
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		c->files[i].listed = 0;
		r.byname[i] = &c->files[i];
	}
	if (c->nfiles)
		qsort(r.byname, c->nfiles, sizeof *r.byname, cmp_file);
	if (n) {
		mark_duplicates(&r, d, n);
		attach_signatures(&r, d, n);
		size_t m = 0; /* drop the duplicates */
		for (size_t i = 0; i < n; i++)
			if (!d[i]->skip)
				d[m++] = d[i];
		qsort(d, m, sizeof *d, cmp_chain);
		for (size_t i = 0, j; i < m; i = j) {
			for (j = i + 1; j < m && !d[i]->backfill &&
			                !strcmp(d[j]->chain, d[i]->chain) &&
			                !d[j]->backfill;
			     j++)
				;
			check_chain(&r, d + i, j - i);
		}
	}
	for (size_t i = 0; i < c->nfiles; i++)
		r.sum.logfiles_unlisted += !c->files[i].listed;
	free(d);
	free(r.byname);
	if (sum)
		*sum = r.sum;
	return r.rc ? r.rc : r.problems;
}
