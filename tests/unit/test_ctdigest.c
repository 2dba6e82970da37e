/*
 * AWS CloudTrail digest checking (include/probity/ctdigest.h), against:
 *   - known answers from AWS's documentation: the four ListPublicKeys
 *     key values printed with their fingerprints (CloudTrail User Guide,
 *     "Custom implementations of CloudTrail log file integrity
 *     validation", and aws-cli's list-public-keys example), and the two
 *     sample digests of "CloudTrail digest file structure", which must
 *     parse;
 *   - a chain made by an independent implementation (Python's
 *     cryptography package, following the guide): the fuzz corpus seed
 *     tests/fuzz/corpus/ctdigest/ok-chain3-signed;
 *   - digest chains generated here: an RSA-2048 key made with OpenSSL's
 *     EVP API, three hourly digests over four gzip'd in-memory log files,
 *     each signed over the data signing string exactly as the guide gives
 *     it (written out below independently of the library), then broken
 *     one way at a time.
 * AWS publishes no digest together with its signature and the key that
 * made it, so signing has no external known answer: the chain is checked
 * against the guide's recipe only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "probity/ctdigest.h"
#include "probity/error.h"
#include "t.h"

#define BUCKET "amzn-s3-demo-bucket"
#define ACCT "111122223333"
#define DDIR "AWSLogs/" ACCT "/CloudTrail-Digest/us-east-2/2015/08/17/"
#define LDIR "AWSLogs/" ACCT "/CloudTrail/us-east-2/2015/08/17/"
#define ROOT "/data/ct/" /* where the tree was downloaded */
#define NLOGS 4
#define NDIG 3

/* ------------------------------------------------------------------ */
/* Fixture: log files, keys, digests                                   */

typedef struct {
	char name[128];  /* base name */
	char raw[256];   /* uncompressed content */
	uint8_t gz[512]; /* as delivered */
	size_t rawlen, gzlen;
	uint8_t sha[32]; /* of raw */
} tlog;

typedef struct {
	char json[4096];
	size_t len;
	char object[256]; /* digestS3Object */
	char path[512];   /* local path */
	char sig[2 * 512 + 1]; /* hex of the signature */
} tdigest;

static tlog logs[NLOGS];
static EVP_PKEY *key_a, *key_b;

static void
hex(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * n] = '\0';
}

static void
sha256(const void *data, size_t len, uint8_t out[32])
{
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}

static size_t
gzip(const char *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	int zr = deflate(&zs, Z_FINISH);
	size_t n = cap - zs.avail_out;
	deflateEnd(&zs);
	return zr == Z_STREAM_END ? n : 0;
}

static void
make_logs(void)
{
	for (int i = 0; i < NLOGS; i++) {
		tlog *l = &logs[i];
		snprintf(l->name, sizeof l->name,
		         ACCT "_CloudTrail_us-east-2_20150817T1%d45Z_"
		              "9nYN7gp2eWAJHIf%c.json.gz",
		         4 + i / 2, 'a' + i);
		l->rawlen = (size_t)snprintf(
		        l->raw, sizeof l->raw,
		        "{\"Records\":[{\"eventVersion\":\"1.08\",\"eventID\":"
		        "\"e-%d\",\"eventName\":\"RunInstances\"}]}",
		        i);
		l->gzlen = gzip(l->raw, l->rawlen, l->gz, sizeof l->gz);
		sha256(l->raw, l->rawlen, l->sha);
	}
}

/* The DER of a public key: X.509 SubjectPublicKeyInfo or PKCS#1. */
static size_t
pub_der(EVP_PKEY *k, int spki, uint8_t *out, size_t cap)
{
	unsigned char *der = NULL;
	int n = spki ? i2d_PUBKEY(k, &der) : i2d_PublicKey(k, &der);
	size_t r = n > 0 && (size_t)n <= cap ? (size_t)n : 0;
	if (r)
		memcpy(out, der, r);
	OPENSSL_free(der);
	return r;
}

/* Fingerprint as AWS computes it: hex MD5 of the PKCS#1 DER. */
static void
fingerprint(EVP_PKEY *k, char out[33])
{
	uint8_t der[1024], md[16];
	size_t n = pub_der(k, 0, der, sizeof der);
	EVP_Digest(der, n, md, NULL, EVP_md5(), NULL);
	hex(md, 16, out);
}

static void
sign_hex(EVP_PKEY *k, const char *tbs, char *out)
{
	uint8_t sig[512];
	size_t n = sizeof sig;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	if (!m || EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(m, sig, &n, (const uint8_t *)tbs, strlen(tbs)) != 1)
		n = 0;
	EVP_MD_CTX_free(m);
	hex(sig, n, out);
}

typedef struct {
	int hour;            /* digestStartTime hour; ends an hour later */
	int start_minute;    /* 1 normally */
	const tdigest *prev; /* NULL: a starting digest */
	int first_log, nlogs;
	EVP_PKEY *signer;
	EVP_PKEY *named;     /* whose fingerprint the digest names */
	const char *pad;     /* extra text after '{' (not signed over) */
} spec;

/*
 * A digest as CloudTrail writes it (member order of the guide's sample),
 * signed over the guide's data signing string:
 *   digestEndTime \n bucket/object \n hex(SHA-256(digest)) \n previous
 *   signature (or "null")
 */
static void
make_digest(tdigest *d, const spec *s)
{
	char fpr[33], prev[2048], files[2048] = "", hash[65], tbs[4096];
	uint8_t h[32];
	size_t off = 0;
	fingerprint(s->named ? s->named : s->signer, fpr);
	snprintf(d->object, sizeof d->object,
	         DDIR ACCT "_CloudTrail-Digest_us-east-2_your-trail-name_"
	              "us-east-2_20150817T%02d0131Z.json.gz",
	         s->hour + 1);
	snprintf(d->path, sizeof d->path, ROOT "%s", d->object);
	if (s->prev) {
		sha256(s->prev->json, s->prev->len, h);
		hex(h, 32, hash);
		snprintf(prev, sizeof prev,
		         "  \"previousDigestS3Bucket\": \"" BUCKET "\",\n"
		         "  \"previousDigestS3Object\": \"%s\",\n"
		         "  \"previousDigestHashValue\": \"%s\",\n"
		         "  \"previousDigestHashAlgorithm\": \"SHA-256\",\n"
		         "  \"previousDigestSignature\": \"%s\",\n",
		         s->prev->object, hash, s->prev->sig);
	} else {
		snprintf(prev, sizeof prev,
		         "  \"previousDigestS3Bucket\": null,\n"
		         "  \"previousDigestS3Object\": null,\n"
		         "  \"previousDigestHashValue\": null,\n"
		         "  \"previousDigestHashAlgorithm\": null,\n"
		         "  \"previousDigestSignature\": null,\n");
	}
	for (int i = 0; i < s->nlogs; i++) {
		const tlog *l = &logs[s->first_log + i];
		hex(l->sha, 32, hash);
		off += (size_t)snprintf(
		        files + off, sizeof files - off,
		        "%s\n    {\n      \"s3Bucket\": \"" BUCKET "\",\n"
		        "      \"s3Object\": \"" LDIR "%s\",\n"
		        "      \"hashValue\": \"%s\",\n"
		        "      \"hashAlgorithm\": \"SHA-256\",\n"
		        "      \"newestEventTime\": \"2015-08-17T14:52:27Z\",\n"
		        "      \"oldestEventTime\": \"2015-08-17T14:42:27Z\"\n    }",
		        i ? "," : "", l->name, hash);
	}
	d->len = (size_t)snprintf(
	        d->json, sizeof d->json,
	        "{%s\n  \"awsAccountId\": \"" ACCT "\",\n"
	        "  \"digestStartTime\": \"2015-08-17T%02d:%02d:31Z\",\n"
	        "  \"digestEndTime\": \"2015-08-17T%02d:01:31Z\",\n"
	        "  \"digestS3Bucket\": \"" BUCKET "\",\n"
	        "  \"digestS3Object\": \"%s\",\n"
	        "  \"digestPublicKeyFingerprint\": \"%s\",\n"
	        "  \"digestSignatureAlgorithm\": \"SHA256withRSA\",\n"
	        "  \"newestEventTime\": null,\n  \"oldestEventTime\": null,\n"
	        "%s  \"logFiles\": [%s%s]\n}\n",
	        s->pad ? s->pad : "", s->hour, s->start_minute, s->hour + 1,
	        d->object, fpr, prev, files, s->nlogs ? "\n  " : "");
	sha256(d->json, d->len, h);
	hex(h, 32, hash);
	snprintf(tbs, sizeof tbs, "2015-08-17T%02d:01:31Z\n" BUCKET "/%s\n%s\n%s",
	         s->hour + 1, d->object, hash, s->prev ? s->prev->sig : "null");
	sign_hex(s->signer, tbs, d->sig);
}

/* The standard chain: d[0] 14:01-15:01 (starting) lists logs 0 and 1,
 * d[1] 15:01-16:01 logs 2 and 3, d[2] 16:01-17:01 an empty hour. */
static void
make_chain(tdigest d[NDIG], EVP_PKEY *signer, EVP_PKEY *named)
{
	for (int i = 0; i < NDIG; i++) {
		spec s = {14 + i, 1, i ? &d[i - 1] : NULL, 2 * i,
		          i < 2 ? 2 : 0, signer, named, NULL};
		make_digest(&d[i], &s);
	}
}

/* ------------------------------------------------------------------ */
/* Running a check                                                     */

#define MAXP 16
typedef struct {
	int n;
	struct {
		int kind;
		char digest[512], object[512], path[512], detail[256];
	} p[MAXP];
} seen;

static void
collect(void *ctx, const prb_ctd_problem *p)
{
	seen *s = ctx;
	if (s->n < MAXP) {
		s->p[s->n].kind = p->kind;
		snprintf(s->p[s->n].digest, 512, "%s", p->digest ? p->digest : "");
		snprintf(s->p[s->n].object, 512, "%s", p->object ? p->object : "");
		snprintf(s->p[s->n].path, 512, "%s", p->path ? p->path : "");
		snprintf(s->p[s->n].detail, 256, "%s", p->detail);
	}
	s->n++;
}

/* 1 if a problem of `kind` names `digest` and (if not NULL) `object`. */
static int
has(const seen *s, int kind, const char *digest, const char *object)
{
	for (int i = 0; i < s->n && i < MAXP; i++)
		if (s->p[i].kind == kind && !strcmp(s->p[i].digest, digest) &&
		    (!object || !strcmp(s->p[i].object, object)))
			return 1;
	return 0;
}

static void
dump(const char *what, const seen *s)
{
	for (int i = 0; i < s->n && i < MAXP; i++)
		fprintf(stderr, "  %s: %s %s [%s] %s\n", what,
		        prb_ctd_kind_name(s->p[i].kind), s->p[i].digest,
		        s->p[i].object, s->p[i].detail);
}

enum { KEY_SPKI_DER, KEY_PKCS1_DER, KEY_PEM, KEY_BASE64, KEY_FORMS };

static int
add_key(prb_ctd *c, EVP_PKEY *k, int form)
{
	uint8_t der[1024];
	char text[2048];
	size_t n = pub_der(k, form != KEY_PKCS1_DER, der, sizeof der);
	if (form == KEY_PEM) {
		BIO *b = BIO_new(BIO_s_mem());
		char *p;
		PEM_write_bio_PUBKEY(b, k);
		long l = BIO_get_mem_data(b, &p);
		int rc = prb_ctd_add_pubkey(c, (uint8_t *)p, (size_t)l, NULL, NULL);
		BIO_free(b);
		return rc;
	}
	if (form == KEY_BASE64) {
		EVP_EncodeBlock((unsigned char *)text, der, (int)n);
		return prb_ctd_add_pubkey(c, (uint8_t *)text, strlen(text), NULL,
		                          NULL);
	}
	return prb_ctd_add_pubkey(c, der, n, NULL, NULL);
}

/* What to load into a checker. */
typedef struct {
	const tdigest *d;
	int nd;
	unsigned skip_digest;  /* bit i: leave d[i] out */
	unsigned skip_log;     /* bit i: leave log i out */
	int alter_log;         /* flip a byte of this log (-1: none) */
	EVP_PKEY *keys[2];
	int key_form;
	const char *sidecar;   /* signature of the newest digest, or NULL */
} load;

static int
run(const load *l, seen *s, prb_ctd_summary *sum)
{
	prb_ctd *c = prb_ctd_new();
	prb_err err;
	int rc = 0;
	memset(s, 0, sizeof *s);
	for (int i = 0; i < l->nd && !rc; i++)
		if (!(l->skip_digest >> i & 1))
			rc = prb_ctd_add_digest(c, l->d[i].path,
			                        (const uint8_t *)l->d[i].json,
			                        l->d[i].len, &err);
	for (int i = 0; i < NLOGS && !rc; i++) {
		tlog t = logs[i];
		uint8_t h[32];
		char path[512];
		if (l->skip_log >> i & 1)
			continue;
		if (i == l->alter_log) {
			t.raw[20] ^= 1;
			t.gzlen = gzip(t.raw, t.rawlen, t.gz, sizeof t.gz);
		}
		snprintf(path, sizeof path, ROOT LDIR "%s", t.name);
		rc = prb_ctd_hash_logfile(t.gz, t.gzlen, h, &err) ||
		     prb_ctd_add_logfile(c, path, h, &err);
	}
	for (int i = 0; i < 2 && !rc; i++)
		if (l->keys[i])
			rc = add_key(c, l->keys[i], l->key_form);
	if (!rc && l->sidecar)
		rc = prb_ctd_add_signature(c, l->d[l->nd - 1].object, l->sidecar,
		                           strlen(l->sidecar), &err);
	if (rc) {
		fprintf(stderr, "loading failed: %d %s\n", rc, err.msg);
		prb_ctd_free(c);
		return -1000;
	}
	rc = prb_ctd_check(c, collect, s, sum);
	prb_ctd_free(c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Known answers from AWS's documentation                              */

/* ListPublicKeys "Value"s and their "Fingerprint"s: the guide's
 * list-public-keys sample response (three keys) and aws-cli's
 * awscli/examples/cloudtrail/list-public-keys.rst. The third is an X.509
 * SubjectPublicKeyInfo; the others are PKCS#1. */
static const struct {
	const char *value, *fingerprint, *pkcs1_md5;
} aws_keys[] = {
	{"MIIBCgKCAQEAn11L2YZ9h7onug2ILi1MWyHiMRsTQjfWE+pHVRLk1QjfWhirG+lpOa8N"
	 "rwQ/r7Ah5bNL6HepznOU9XTDSfmmnP97mqyc7z/upfZdS/AHhYcGaz7n6Wc/RRBU6Vm"
	 "iPCrAUojuSk6/GjvA8iOPFsYDuBtviXarvuLPlrT9kAd4Lb+rFfR5peEgBEkhlzc5Hu"
	 "WO7S0y+KunqxX6jQBnXGMtxmPBPP0FylgWGNdFtks/4YSKcgqwH0YDcawP9GGGDAeCI"
	 "qPWIXDLG1jOjRRzWfCmD0iJUkz8vTsn4hq/5ZxRFE7UBAUiVcGbdnDdvVfhF9C3dQiD"
	 "q3k7adQIziLT0cShgQIDAQAB",
	 "8eba5db5bea9b640d1c96a77256fe7f2", "8eba5db5bea9b640d1c96a77256fe7f2"},
	{"MIIBCgKCAQEApfYL2FiZhpN74LNWVUzhR+VheYhwhYm8w0n5Gf6i95ylW5kBAWKVEmnA"
	 "QG7BvS5g9SMqFDQx52fW7NWV44IvfJ2xGXT+wT+DgR6ZQ+6yxskQNqV5YcXj4Aa5Zz4"
	 "jJfsYjDuO2MDTZNIzNvBNzaBJ+r2WIWAJ/Xq54kyF63B6WE38vKuDE7nSd1FqQuEoNB"
	 "FLPInvgggYe2Ym1Refe2z71wNcJ2kY+q0h1BSHrSM8RWuJIw7MXwF9iQncg9jYzUlNJ"
	 "omozQzAG5wSRfbplcCYNY40xvGd/aAmO0m+Y+XFMrKwtLCwseHPvj843qVno6x4BJN9"
	 "bpWnoPo9sdsbGoiK3QIDAQAB",
	 "8933b39ddc64d26d8e14ffbf6566fee4", "8933b39ddc64d26d8e14ffbf6566fee4"},
	{"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqlzPJbvZJ42UdcmLfPUqXYNf"
	 "Os6I8lCfao/tOs8CmzPOEdtLWugB9xoIUz78qVHdKIqxbaG4jWHfJBiOSSFBM0lt8cd"
	 "Vo4TnRa7oG9io5pysS6DJhBBAeXsicufsiFJR+wrUNh8RSLxL4k6G1+BhLX20tJkZ/e"
	 "rT97tDGBujAelqseGg3vPZbTx9SMfOLN65PdLFudLP7Gat0Z9p5jw/rjpclKfo9Bfc3"
	 "heeBxWGKwBBOKnFAaN9V57pOaosCvPKmHd9bg7jsQkI9Xp22IzGLsTFJZYVA3KiTAEl"
	 "DMu80iFXPHEq9hKNbt9e4URFam+1utKVEiLkR2disdCmPTK0VQIDAQAB",
	 "31e8b5433410dfb61a9dc45cc65b22ff", "9258aeaac04b4e7988a7ef49773b501e"},
	{"MIIBCgKCAQEAlSS3cl92HDycr/MTj0moOhas8habjrraXw+KzlWF0axSI2tcF+3iJ9BK"
	 "QAVSKxGwxwu3m0wG3J+kUl1xboEcEPHYoIYMbgfSw7KGnuDKwkLzsQWhUJ0cIbOHASo"
	 "x1vv/5fNXkrHhGbDCHeVXm804c83nvHUEFYThr1PfyP/8HwrCtR3FX5OANtQCP61C1n"
	 "JtSSkC8JSQUOrIP4CuwJjc+4WGDk+BGH5m9iuiAKkipEHWmUl8/P7XpfpWQuk4h8g3p"
	 "XZOrNXr08lbh4d39svj7UqdhvOXoBISp9t/EXYuePGEtBdrKD9Dz+VHwyUPtBQvYr9B"
	 "nkF88qBnaPNhS44rzwIDAQAB",
	 "7f3f401420072e50a65a141430817ab3", "7f3f401420072e50a65a141430817ab3"},
};

/* "CloudTrail digest file structure": the sample digest and the sample
 * of an hour without activity (awsdocs/aws-cloudtrail-user-guide). */
static const char aws_sample[] =
        "{\n"
        "  \"awsAccountId\": \"111122223333\",\n"
        "  \"digestStartTime\": \"2015-08-17T14:01:31Z\",\n"
        "  \"digestEndTime\": \"2015-08-17T15:01:31Z\",\n"
        "  \"digestS3Bucket\": \"S3-bucket-name\",\n"
        "  \"digestS3Object\": \"AWSLogs/111122223333/CloudTrail-Digest/"
        "us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_"
        "your-trail-name_us-east-2_20150817T150131Z.json.gz\",\n"
        "  \"digestPublicKeyFingerprint\": \"31e8b5433410dfb61a9dc45cc65b22ff\",\n"
        "  \"digestSignatureAlgorithm\": \"SHA256withRSA\",\n"
        "  \"newestEventTime\": \"2015-08-17T14:52:27Z\",\n"
        "  \"oldestEventTime\": \"2015-08-17T14:42:27Z\",\n"
        "  \"previousDigestS3Bucket\": \"S3-bucket-name\",\n"
        "  \"previousDigestS3Object\": \"AWSLogs/111122223333/CloudTrail-"
        "Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_"
        "us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz\",\n"
        "  \"previousDigestHashValue\": \"97fb791cf91ffc440d274f8190dbdd9a"
        "a09c34432aba82739df18b6d3c13df2d\",\n"
        "  \"previousDigestHashAlgorithm\": \"SHA-256\",\n"
        "  \"previousDigestSignature\": \"50887ccffad4c002b97caa37cc9dc626e"
        "3c680207d41d27fa5835458e066e0d3652fc4dfc30937e4d5f4cc7f796e7a258fb5"
        "0a43ac427f2237f6e505d4efaf373d156e15e3b68dea9f58111d395b62628d6bd36"
        "7a9024d2183b5c5f6e19466d3a996b92df705bc997b8a0e13430f241d733cf95df4"
        "e41bb6c304c3f58363043572ea57a27085639ce187e679c0d81c7519b1184fa77fb"
        "7ab0b0e40a32dace6e1eefc3995c5ae182da49b62b26398cebb52a2201a6387b75b"
        "89c83e5570bcb9bba6c34a80f2f00a1c6ebe07d1ff149eccd812dc805bb3eeff665"
        "7db32a6cb48d2d096404eb76181877bc6ebb8cd0b23f823200155b2fd8848d428e4"
        "6e8456328a\",\n"
        "  \"logFiles\": [\n"
        "    {\n"
        "      \"s3Bucket\": \"S3-bucket-name\",\n"
        "      \"s3Object\": \"AWSLogs/111122223333/CloudTrail/us-east-2/2015/"
        "08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_"
        "9nYN7gp2eWAJHIfT.json.gz\",\n"
        "      \"hashValue\": \"9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41"
        "b618e5b6e22c1fc71f6\",\n"
        "      \"hashAlgorithm\": \"SHA-256\",\n"
        "      \"newestEventTime\": \"2015-08-17T14:52:27Z\",\n"
        "      \"oldestEventTime\": \"2015-08-17T14:42:27Z\"\n"
        "    }\n"
        "  ]\n"
        "}\n";

static const char aws_sample_empty[] =
        "{\n"
        "  \"awsAccountId\": \"111122223333\",\n"
        "  \"digestStartTime\": \"2015-08-20T17:01:31Z\",\n"
        "  \"digestEndTime\": \"2015-08-20T18:01:31Z\",\n"
        "  \"digestS3Bucket\": \"example-bucket-name\",\n"
        "  \"digestS3Object\": \"AWSLogs/111122223333/CloudTrail-Digest/"
        "us-east-2/2015/08/20/111122223333_CloudTrail-Digest_us-east-2_"
        "example-trail-name_us-east-2_20150820T180131Z.json.gz\",\n"
        "  \"digestPublicKeyFingerprint\": \"31e8b5433410dfb61a9dc45cc65b22ff\",\n"
        "  \"digestSignatureAlgorithm\": \"SHA256withRSA\",\n"
        "  \"newestEventTime\": null,\n"
        "  \"oldestEventTime\": null,\n"
        "  \"previousDigestS3Bucket\": \"example-bucket-name\",\n"
        "  \"previousDigestS3Object\": \"AWSLogs/111122223333/CloudTrail-"
        "Digest/us-east-2/2015/08/20/111122223333_CloudTrail-Digest_"
        "us-east-2_example-trail-name_us-east-2_20150820T170131Z.json.gz\",\n"
        "  \"previousDigestHashValue\": \"ed96c4bac9eaa8fe9716ca0e515da519"
        "38be651b1db31d781956416a9d05cdfa\",\n"
        "  \"previousDigestHashAlgorithm\": \"SHA-256\",\n"
        "  \"previousDigestSignature\": \"82705525fb0fe7f919f9434e5b7138cb4"
        "1793c776c7414f3520c0242902daa8cc8286b29263d2627f2f259471c745b1654af"
        "76e2073264b2510fd45236b3aea4d80c0e8e6455223d7bd54ff80af0edf22a5f14f"
        "a856626daec919f0591479aa4f213787ba1e1076328dcf8ff624e03a977fa5612dc"
        "f58594c590fd8c1c5b48bddf43fc84ecc00b41bedd0ff7f293c3e2de8dcdc78f98b"
        "03e17577f5822ba842399d69eb79921c0429773509520e08c8b518702d987dfbb3a"
        "4e5d8c5f17673ce1f989dfff82d4becf24e452f20d3bcac94ad50131f93e57f1015"
        "5536acb54c60efbe9d57228c2b930bc6082b2318e3ccd36834a8e835b8d112dbf32"
        "145f445c11\",\n"
        "  \"logFiles\": []\n"
        "}\n";

static void
kat_aws(void)
{
	prb_err err;
	char fpr[33];
	for (size_t i = 0; i < sizeof aws_keys / sizeof aws_keys[0]; i++) {
		prb_ctd *c = prb_ctd_new();
		const char *v = aws_keys[i].value;
		int rc = prb_ctd_add_pubkey(c, (const uint8_t *)v, strlen(v), fpr,
		                            &err);
		CHECK(rc == 0 && !strcmp(fpr, aws_keys[i].pkcs1_md5),
		      "AWS key %zu: rc %d, fingerprint %s", i, rc,
		      rc ? err.msg : fpr);
		prb_ctd_free(c);
	}

	/* As pasted from the CLI's output, with a newline. */
	char pasted[1024];
	snprintf(pasted, sizeof pasted, " %s\n", aws_keys[0].value);
	prb_ctd *ck = prb_ctd_new();
	int rck = prb_ctd_add_pubkey(ck, (const uint8_t *)pasted, strlen(pasted),
	                             fpr, &err);
	CHECK(rck == 0 && !strcmp(fpr, aws_keys[0].fingerprint),
	      "base64 key with blanks around it: rc %d", rck);
	prb_ctd_free(ck);

	/* The sample digests parse; the SPKI key of the guide's list is the
	 * one their fingerprint 31e8b543... selects (so the check gets to the
	 * signature, which the guide does not give: a stand-in fails). */
	static const char fake_sig[] = "00112233";
	const char *v = aws_keys[2].value;
	const char *p1 = "s3/" "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/"
	                 "2015/08/17/111122223333_CloudTrail-Digest_us-east-2_"
	                 "your-trail-name_us-east-2_20150817T150131Z.json.gz";
	const char *p2 = "s3/" "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/"
	                 "2015/08/20/111122223333_CloudTrail-Digest_us-east-2_"
	                 "example-trail-name_us-east-2_20150820T180131Z.json.gz";
	prb_ctd *c = prb_ctd_new();
	prb_ctd_summary sum;
	seen s = {0};
	int rc1 = prb_ctd_add_digest(c, p1, (const uint8_t *)aws_sample,
	                             strlen(aws_sample), &err);
	int rc2 = prb_ctd_add_digest(c, p2, (const uint8_t *)aws_sample_empty,
	                             strlen(aws_sample_empty), &err);
	CHECK(rc1 == 0 && rc2 == 0, "AWS sample digests parse (%d, %d: %s)",
	      rc1, rc2, err.msg);
	prb_ctd_add_pubkey(c, (const uint8_t *)v, strlen(v), NULL, NULL);
	prb_ctd_add_signature(c, p2, fake_sig, strlen(fake_sig), NULL);
	int n = prb_ctd_check(c, collect, &s, &sum);
	/* Two chains (different trails): each is its own newest. The
	 * sample's log file is not given. */
	CHECK(n == 3 && has(&s, PRB_CTD_UNSIGNED_NEWEST, p1, NULL) &&
	              has(&s, PRB_CTD_BAD_SIGNATURE, p2, NULL) &&
	              has(&s, PRB_CTD_MISSING, p1, NULL) && sum.digests == 2 &&
	              sum.logfiles_listed == 1 && sum.sigs_failed == 1,
	      "AWS samples: %d problems", n);
	if (n != 3)
		dump("aws", &s);
	prb_ctd_free(c);
}

/* The fuzz seed ok-chain3-signed: three chained digests over three log
 * files (two gzip'd), the newest digest's signature and the public key,
 * made and signed with Python's cryptography package; in chunks
 * "Dpath\njson", "Lpath\ncontent", "Sname\nhex", "Kkey" separated by
 * "\n--\n" (see tests/fuzz/fuzz_ctdigest.c). */
static void
kat_python_chain(void)
{
	static uint8_t buf[65536];
	FILE *f = fopen("tests/fuzz/corpus/ctdigest/ok-chain3-signed", "rb");
	if (!f) {
		SKIP("tests/fuzz/corpus/ctdigest/ok-chain3-signed not found");
		return;
	}
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	prb_ctd *c = prb_ctd_new();
	prb_err err;
	int rc = 0;
	for (size_t off = 0; off < len && !rc;) {
		uint8_t *ch = buf + off, *z = memmem(ch, len - off, "\n--\n", 4);
		size_t n = z ? (size_t)(z - ch) : len - off;
		uint8_t *nl = memchr(ch, '\n', n), h[32];
		off += n + 4;
		if (ch[0] == 'K') {
			rc = prb_ctd_add_pubkey(c, ch + 1, n - 1, NULL, &err);
			continue;
		}
		if (!nl)
			continue;
		*nl = '\0';
		const char *name = (const char *)ch + 1;
		size_t blen = n - (size_t)(nl + 1 - ch);
		if (ch[0] == 'D')
			rc = prb_ctd_add_digest(c, name, nl + 1, blen, &err);
		else if (ch[0] == 'S')
			rc = prb_ctd_add_signature(c, name, (const char *)nl + 1,
			                           blen, &err);
		else if (ch[0] == 'L')
			rc = prb_ctd_hash_logfile(nl + 1, blen, h, &err) ||
			     prb_ctd_add_logfile(c, name, h, &err);
	}
	prb_ctd_summary sum;
	seen s = {0};
	int n = rc ? -1 : prb_ctd_check(c, collect, &s, &sum);
	CHECK(n == 0 && sum.digests == 3 && sum.sigs_verified == 3 &&
	              sum.logfiles_listed == 3 && sum.logfiles_matched == 3,
	      "chain signed by Python's cryptography: %d problems (%s)", n,
	      rc ? err.msg : "");
	if (n > 0)
		dump("python", &s);
	prb_ctd_free(c);
}

/* ------------------------------------------------------------------ */
/* Log file hashing                                                    */

static void
test_hash_logfile(void)
{
	uint8_t h[32], gz[1024];
	prb_err err;
	const tlog *l = &logs[0];
	int rc = prb_ctd_hash_logfile(l->gz, l->gzlen, h, &err);
	CHECK(l->gzlen > 0 && rc == 0 && !memcmp(h, l->sha, 32),
	      "gzip'd log: SHA-256 of the uncompressed content (rc %d)", rc);
	rc = prb_ctd_hash_logfile((const uint8_t *)l->raw, l->rawlen, h, &err);
	CHECK(rc == 0 && !memcmp(h, l->sha, 32), "plain log hashed as is");
	uint8_t empty[32];
	sha256("", 0, empty);
	rc = prb_ctd_hash_logfile(NULL, 0, h, &err);
	CHECK(rc == 0 && !memcmp(h, empty, 32), "empty log (rc %d)", rc);
	for (size_t cut = 1; cut < l->gzlen; cut += 7) {
		rc = prb_ctd_hash_logfile(l->gz, l->gzlen - cut, h, &err);
		CHECK(rc == PRB_EMALFORMED, "gzip cut by %zu: rc %d", cut, rc);
	}
	memcpy(gz, l->gz, l->gzlen);
	memcpy(gz + l->gzlen, "\n", 1);
	rc = prb_ctd_hash_logfile(gz, l->gzlen + 1, h, &err);
	CHECK(rc == PRB_EMALFORMED && err.offset == l->gzlen,
	      "byte after the gzip member: rc %d, offset %llu", rc,
	      (unsigned long long)err.offset);
	memcpy(gz + l->gzlen, l->gz, l->gzlen); /* a second member */
	rc = prb_ctd_hash_logfile(gz, 2 * l->gzlen, h, &err);
	CHECK(rc == PRB_EMALFORMED, "two gzip members: rc %d", rc);
	memcpy(gz, l->gz, l->gzlen);
	gz[l->gzlen / 2] ^= 0x55;
	rc = prb_ctd_hash_logfile(gz, l->gzlen, h, &err);
	CHECK(rc == PRB_EMALFORMED, "corrupt deflate data or CRC: rc %d", rc);
}

/* ------------------------------------------------------------------ */
/* Chains                                                              */

static void
test_clean(const tdigest d[NDIG])
{
	seen s;
	prb_ctd_summary sum;
	for (int form = 0; form < KEY_FORMS; form++) {
		load l = {d, NDIG, 0, 0, -1, {key_a, NULL}, form, d[2].sig};
		int n = run(&l, &s, &sum);
		CHECK(n == 0 && sum.digests == 3 && sum.logfiles_listed == 4 &&
		              sum.logfiles_matched == 4 &&
		              sum.logfiles_unlisted == 0 &&
		              sum.sigs_verified == 3 && sum.sigs_failed == 0 &&
		              sum.sigs_unchecked == 0,
		      "clean chain, key form %d: %d problems, %zu verified", form,
		      n, sum.sigs_verified);
		if (n)
			dump("clean", &s);
	}
	/* Added newest first; an unrelated key too, as base64, the right
	 * one as PEM; the newest signature under the digest's path; log
	 * files under another prefix, one found by its base name only; a
	 * signature for a digest that was not added. */
	static const int order[NDIG] = {2, 0, 1};
	prb_ctd *c = prb_ctd_new();
	for (int i = 0; i < NDIG; i++) {
		const tdigest *x = &d[order[i]];
		prb_ctd_add_digest(c, x->path, (const uint8_t *)x->json, x->len,
		                   NULL);
	}
	add_key(c, key_b, KEY_BASE64);
	add_key(c, key_a, KEY_PEM);
	prb_ctd_add_signature(c, d[2].path, d[2].sig, strlen(d[2].sig), NULL);
	prb_ctd_add_signature(c, BUCKET "/AWSLogs/none.json.gz", "00", 2, NULL);
	for (int i = 0; i < NLOGS; i++) {
		char path[512];
		snprintf(path, sizeof path,
		         i == 3 ? "elsewhere/%.127s" : "mnt/x/" LDIR "%.127s", logs[i].name);
		prb_ctd_add_logfile(c, path, logs[i].sha, NULL);
	}
	memset(&s, 0, sizeof s);
	int n = prb_ctd_check(c, collect, &s, &sum);
	CHECK(n == 1 &&
	              has(&s, PRB_CTD_MISSING, BUCKET "/AWSLogs/none.json.gz",
	                  NULL) &&
	              sum.sigs_verified == 3 && sum.logfiles_matched == 4,
	      "reordered, other prefix, base-name match: %d problems", n);
	if (n != 1)
		dump("reordered", &s);
	/* Checking twice gives the same answer. */
	int n2 = prb_ctd_check(c, NULL, NULL, &sum);
	CHECK(n2 == n && sum.sigs_verified == 3, "second check: %d", n2);
	prb_ctd_free(c);
}

static void
test_signatures_unknown(const tdigest d[NDIG])
{
	seen s;
	prb_ctd_summary sum;
	load l = {d, NDIG, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, NULL};
	int n = run(&l, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_UNSIGNED_NEWEST, d[2].path, d[2].object) &&
	              sum.sigs_verified == 2 && sum.sigs_unchecked == 1,
	      "no signature for the newest: %d problems", n);
	load nokey = {d, NDIG, 0, 0, -1, {NULL, NULL}, 0, NULL};
	n = run(&nokey, &s, &sum);
	CHECK(n == 0 && sum.sigs_verified == 0 && sum.sigs_unchecked == 3 &&
	              sum.logfiles_matched == 4,
	      "no key: signatures counted as unchecked (%d problems)", n);
}

static void
test_log_faults(const tdigest d[NDIG])
{
	seen s;
	prb_ctd_summary sum;
	char obj[512], path[512];
	load alt = {d, NDIG, 0, 0, 2, {key_a, NULL}, KEY_SPKI_DER, d[2].sig};
	int n = run(&alt, &s, &sum);
	snprintf(obj, sizeof obj, LDIR "%s", logs[2].name);
	snprintf(path, sizeof path, ROOT LDIR "%s", logs[2].name);
	CHECK(n == 1 && has(&s, PRB_CTD_ALTERED, d[1].path, obj) &&
	              !strcmp(s.p[0].path, path) && sum.logfiles_matched == 3,
	      "a changed byte in log 2: %d problems", n);
	load mis = {d, NDIG, 0, 1u << 1, -1, {key_a, NULL}, KEY_SPKI_DER,
	            d[2].sig};
	n = run(&mis, &s, &sum);
	snprintf(obj, sizeof obj, LDIR "%s", logs[1].name);
	CHECK(n == 1 && has(&s, PRB_CTD_MISSING, d[0].path, obj) &&
	              sum.logfiles_listed == 4 && sum.logfiles_matched == 3,
	      "log 1 missing: %d problems", n);
	if (n != 1)
		dump("missing", &s);
}

static void
test_chain_faults(const tdigest d[NDIG])
{
	seen s;
	prb_ctd_summary sum;
	/* The middle digest removed. */
	load gap = {d, NDIG, 1u << 1, 0, -1, {key_a, NULL}, KEY_SPKI_DER,
	            d[2].sig};
	int n = run(&gap, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_GAP, d[2].path, d[1].object) &&
	              sum.digests == 2 && sum.sigs_verified == 1 &&
	              sum.sigs_unchecked == 1 && sum.logfiles_unlisted == 2,
	      "middle digest removed: %d problems", n);
	if (n != 1)
		dump("gap", &s);

	/* The middle digest altered where JSON does not care: its hash in
	 * the next digest no longer matches, nor does its signature. */
	tdigest e[NDIG] = {d[0], d[1], d[2]};
	memmove(e[1].json + 2, e[1].json + 1, e[1].len);
	e[1].json[1] = ' ';
	e[1].len++;
	load alt = {e, NDIG, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, d[2].sig};
	n = run(&alt, &s, &sum);
	CHECK(n == 2 && has(&s, PRB_CTD_CHAIN_HASH, d[1].path, d[1].object) &&
	              has(&s, PRB_CTD_BAD_SIGNATURE, d[1].path, d[1].object) &&
	              sum.sigs_verified == 2,
	      "middle digest altered: %d problems", n);
	if (n != 2)
		dump("chain-hash", &s);

	/* A digest rewritten to cover a changed log file. */
	char want[65], got[65];
	tlog t = logs[2];
	uint8_t h[32];
	t.raw[20] ^= 1;
	sha256(t.raw, t.rawlen, h);
	hex(logs[2].sha, 32, want);
	hex(h, 32, got);
	memcpy(e, d, sizeof e);
	char *at = strstr(e[1].json, want);
	if (at)
		memcpy(at, got, 64);
	load cover = {e, NDIG, 0, 0, 2, {key_a, NULL}, KEY_SPKI_DER, d[2].sig};
	n = run(&cover, &s, &sum);
	CHECK(at && n == 2 && has(&s, PRB_CTD_CHAIN_HASH, d[1].path, NULL) &&
	              has(&s, PRB_CTD_BAD_SIGNATURE, d[1].path, NULL) &&
	              sum.logfiles_matched == 4,
	      "digest rewritten over a changed log: %d problems", n);

	/* A start time that leaves a minute uncovered; a restarted chain. */
	tdigest g[NDIG];
	make_chain(g, key_a, NULL);
	spec late = {15, 2, &g[0], 2, 2, key_a, NULL, NULL};
	make_digest(&g[1], &late);
	spec next = {16, 1, &g[1], 4, 0, key_a, NULL, NULL};
	make_digest(&g[2], &next);
	load lg = {g, NDIG, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, g[2].sig};
	n = run(&lg, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_GAP, g[1].path, g[0].object) &&
	              sum.sigs_verified == 3,
	      "start a minute late: %d problems", n);
	make_chain(g, key_a, NULL);
	spec restart = {16, 1, NULL, 4, 0, key_a, NULL, NULL};
	make_digest(&g[2], &restart);
	load lr = {g, NDIG, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, g[2].sig};
	n = run(&lr, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_GAP, g[2].path, NULL) &&
	              sum.sigs_verified == 2 && sum.sigs_unchecked == 1,
	      "validation restarted: %d problems", n);
}

static void
test_signature_faults(const tdigest d[NDIG])
{
	seen s;
	prb_ctd_summary sum;
	char bad[sizeof d[2].sig];
	memcpy(bad, d[2].sig, sizeof bad);
	bad[10] = bad[10] == '0' ? '1' : '0';
	load l = {d, NDIG, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, bad};
	int n = run(&l, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_BAD_SIGNATURE, d[2].path, d[2].object) &&
	              sum.sigs_verified == 2 && sum.sigs_failed == 1,
	      "corrupted newest signature: %d problems", n);

	/* A signature in a digest corrupted: the digest it signs fails, and
	 * so does the digest carrying it. */
	tdigest e[NDIG] = {d[0], d[1], d[2]};
	char *at = strstr(e[2].json, d[1].sig);
	if (at)
		at[100] = at[100] == 'a' ? 'b' : 'a';
	load lc = {e, NDIG, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, d[2].sig};
	n = run(&lc, &s, &sum);
	CHECK(at && n == 2 && has(&s, PRB_CTD_BAD_SIGNATURE, d[1].path, NULL) &&
	              has(&s, PRB_CTD_BAD_SIGNATURE, d[2].path, NULL) &&
	              sum.sigs_verified == 1,
	      "previousDigestSignature corrupted: %d problems", n);

	/* A signature given for the middle digest that is not the one the
	 * next digest carries. */
	prb_ctd *c = prb_ctd_new();
	for (int i = 0; i < NDIG; i++)
		prb_ctd_add_digest(c, d[i].path, (const uint8_t *)d[i].json,
		                   d[i].len, NULL);
	add_key(c, key_a, KEY_PKCS1_DER);
	for (int i = 0; i < NLOGS; i++)
		prb_ctd_add_logfile(c, logs[i].name, logs[i].sha, NULL);
	char name[600];
	snprintf(name, sizeof name, BUCKET "/%s", d[2].object);
	prb_ctd_add_signature(c, name, d[2].sig, strlen(d[2].sig), NULL);
	prb_ctd_add_signature(c, d[1].object, bad, strlen(bad), NULL);
	memset(&s, 0, sizeof s);
	n = prb_ctd_check(c, collect, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_CHAIN_SIG, d[1].path, d[1].object) &&
	              sum.sigs_verified == 3,
	      "given signature disagrees with the chain: %d problems", n);
	if (n != 1)
		dump("chain-sig", &s);
	prb_ctd_free(c);

	/* Only another key. */
	load wk = {d, NDIG, 0, 0, -1, {key_b, NULL}, KEY_SPKI_DER, d[2].sig};
	n = run(&wk, &s, &sum);
	CHECK(n == 3 && has(&s, PRB_CTD_UNKNOWN_KEY, d[0].path, d[0].object) &&
	              has(&s, PRB_CTD_UNKNOWN_KEY, d[1].path, NULL) &&
	              has(&s, PRB_CTD_UNKNOWN_KEY, d[2].path, NULL) &&
	              sum.sigs_failed == 3,
	      "wrong key: %d problems", n);
	/* Digests naming key B but signed with key A. */
	tdigest w[NDIG];
	make_chain(w, key_a, key_b);
	load wb = {w, NDIG, 0, 0, -1, {key_b, key_a}, KEY_PEM, w[2].sig};
	n = run(&wb, &s, &sum);
	CHECK(n == 3 && has(&s, PRB_CTD_BAD_SIGNATURE, w[0].path, NULL) &&
	              has(&s, PRB_CTD_BAD_SIGNATURE, w[2].path, NULL) &&
	              sum.sigs_failed == 3,
	      "signed by another key than named: %d problems", n);
}

static void
test_placement(const tdigest d[NDIG])
{
	seen s;
	prb_ctd_summary sum;
	tdigest e[NDIG] = {d[0], d[1], d[2]};
	snprintf(e[0].path, sizeof e[0].path, ROOT "renamed.json.gz");
	load l = {e, NDIG, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, d[2].sig};
	int n = run(&l, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_MOVED, e[0].path, d[0].object),
	      "digest not where its key says: %d problems", n);
	/* Decompressed in place (.json) is where it should be. */
	snprintf(e[0].path, sizeof e[0].path, "%.*s", (int)strlen(d[0].path) - 3,
	         d[0].path);
	n = run(&l, &s, &sum);
	CHECK(n == 0, "inflated digest beside the .gz: %d problems", n);

	/* The same digest twice; then an altered copy. */
	tdigest x[NDIG + 1] = {d[0], d[1], d[1], d[2]};
	snprintf(x[2].path, sizeof x[2].path, "/zz/%s", d[1].object);
	load ld = {x, NDIG + 1, 0, 0, -1, {key_a, NULL}, KEY_SPKI_DER, d[2].sig};
	n = run(&ld, &s, &sum);
	CHECK(n == 0 && sum.digests == 3 && sum.sigs_verified == 3,
	      "a digest twice: %d problems, %zu digests", n, sum.digests);
	x[2].json[1] = ' ';
	x[2].json[2] = ' ';
	n = run(&ld, &s, &sum);
	CHECK(n == 1 && has(&s, PRB_CTD_DUPLICATE, x[2].path, d[1].object),
	      "an altered copy of a digest: %d problems", n);
}

/* ------------------------------------------------------------------ */
/* Malformed digests                                                   */

typedef struct {
	const char *from, *to; /* replace the first `from` with `to` */
	const char *member;    /* the member err->offset names (NULL: none) */
	int syntax;            /* a JSON syntax error */
} breakage;

static const breakage breakages[] = {
	/* missing members */
	{"\"digestStartTime\"", "\"x\"", NULL, 0},
	{"\"digestEndTime\"", "\"x\"", NULL, 0},
	{"\"digestS3Bucket\"", "\"x\"", NULL, 0},
	{"\"digestS3Object\"", "\"x\"", NULL, 0},
	{"\"digestPublicKeyFingerprint\"", "\"x\"", NULL, 0},
	{"\"digestSignatureAlgorithm\"", "\"x\"", NULL, 0},
	{"\"previousDigestSignature\"", "\"x\"", NULL, 0},
	{"\"previousDigestS3Object\"", "\"x\"", NULL, 0},
	{"\"previousDigestS3Bucket\"", "\"x\"", NULL, 0},
	{"\"previousDigestHashValue\"", "\"x\"", NULL, 0},
	{"\"previousDigestHashAlgorithm\"", "\"x\"", NULL, 0},
	{"\"logFiles\"", "\"x\"", NULL, 0},
	{"\"hashValue\"", "\"x\"", NULL, 0},
	{"\"s3Object\"", "\"x\"", NULL, 0},
	{"\"s3Bucket\"", "\"x\"", NULL, 0},
	{"\"hashAlgorithm\"", "\"x\"", NULL, 0},
	/* null, wrong types, empty */
	{"\"digestS3Bucket\": \"" BUCKET "\"", "\"digestS3Bucket\": null",
	 "digestS3Bucket", 0},
	{"\"digestS3Bucket\": \"" BUCKET "\"", "\"digestS3Bucket\": \"\"",
	 "digestS3Bucket", 0},
	{"\"digestS3Bucket\": \"" BUCKET "\"", "\"digestS3Bucket\": 7",
	 "digestS3Bucket", 0},
	{"\"logFiles\": [", "\"logFiles\": {\"a\":1}, \"z\": [", "logFiles", 0},
	{"\"logFiles\": [\n    {", "\"logFiles\": [ 1, {", "logFiles", 0},
	{"\"previousDigestHashValue\": \"", "\"previousDigestHashValue\": null, "
	 "\"x\": \"", "previousDigestHashValue", 0},
	/* bad hex */
	{"\"hashValue\": \"", "\"hashValue\": \"g", "hashValue", 0},
	{"\"hashValue\": \"", "\"hashValue\": \"0", "hashValue", 0},
	{"\"digestPublicKeyFingerprint\": \"", "\"digestPublicKeyFingerprint\": \"a",
	 "digestPublicKeyFingerprint", 0},
	{"\"previousDigestSignature\": \"", "\"previousDigestSignature\": \"a",
	 "previousDigestSignature", 0},
	{"\"previousDigestSignature\": \"", "\"previousDigestSignature\": \"xy",
	 "previousDigestSignature", 0},
	{"\"previousDigestHashValue\": \"", "\"previousDigestHashValue\": \"-",
	 "previousDigestHashValue", 0},
	/* bad times */
	{"2015-08-17T16:01:31Z\",\n  \"digestS3",
	 "2015-08-17 15:01:31Z\",\n  \"digestS3", "digestEndTime", 0},
	{"2015-08-17T16:01:31Z\",\n  \"digestS3",
	 "2015-08-17T15:01:31\",\n  \"digestS3", "digestEndTime", 0},
	{"2015-08-17T16:01:31Z\",\n  \"digestS3",
	 "2015-08-17T15:01:31+00:00\",\n  \"digestS3", "digestEndTime", 0},
	{"2015-08-17T16:01:31Z\",\n  \"digestS3",
	 "2015-02-29T15:01:31Z\",\n  \"digestS3", "digestEndTime", 0},
	{"2015-08-17T16:01:31Z\",\n  \"digestS3",
	 "2015-08-17T24:00:00Z\",\n  \"digestS3", "digestEndTime", 0},
	{"2015-08-17T16:01:31Z\",\n  \"digestS3",
	 "2015-08-17T15:01:60Z\",\n  \"digestS3", "digestEndTime", 0},
	{"2015-08-17T16:01:31Z\",\n  \"digestS3",
	 "2015-08-17T15:01:30Z\",\n  \"digestS3", "digestStartTime", 0},
	{"\"digestStartTime\": \"2015-08-17T15:01:31Z\"",
	 "\"digestStartTime\": 1439820091", "digestStartTime", 0},
	/* algorithms */
	{"\"SHA256withRSA\"", "\"SHA1withRSA\"", "digestSignatureAlgorithm", 0},
	{"\"hashAlgorithm\": \"SHA-256\"", "\"hashAlgorithm\": \"MD5\"",
	 "hashAlgorithm", 0},
	{"\"previousDigestHashAlgorithm\": \"SHA-256\"",
	 "\"previousDigestHashAlgorithm\": \"sha-256\"",
	 "previousDigestHashAlgorithm", 0},
	/* JSON */
	{"{", "[{", NULL, 1},
	{"\"awsAccountId\"", "\"awsAccountId\": 1, \"awsAccountId\"", NULL, 1},
	{"\"awsAccountId\": \"", "\"awsAccountId\": \"\\u0000", NULL, 1},
	{"\n}\n", "\n", NULL, 1},
	{"\n}\n", "\n}\n{}", NULL, 1},
	{"\"awsAccountId\": \"", "\"awsAccountId\": \"\xff", NULL, 1},
};

static void
test_malformed(const tdigest d[NDIG])
{
	/* d[1] has every member non-null and two log files. */
	for (size_t i = 0; i < sizeof breakages / sizeof breakages[0]; i++) {
		const breakage *b = &breakages[i];
		char text[8192];
		const char *at = strstr(d[1].json, b->from);
		if (!at) {
			CHECK(0, "breakage %zu: \"%s\" not found", i, b->from);
			continue;
		}
		size_t pre = (size_t)(at - d[1].json);
		int len = snprintf(text, sizeof text, "%.*s%s%s", (int)pre,
		                   d[1].json, b->to, at + strlen(b->from));
		prb_ctd *c = prb_ctd_new();
		prb_err err;
		prb_err_clear(&err);
		int rc = prb_ctd_add_digest(c, "p/d.json", (const uint8_t *)text,
		                            (size_t)len, &err);
		uint64_t want = UINT64_MAX;
		if (b->member) {
			char q[64];
			snprintf(q, sizeof q, "\"%s\"", b->member);
			want = (uint64_t)(strstr(text, q) - text);
		}
		int ok = rc == PRB_EMALFORMED && !strcmp(err.where, "p/d.json");
		if (b->syntax)
			ok = ok && err.offset <= (uint64_t)len &&
			     strstr(err.msg, "not JSON") != NULL;
		else
			ok = ok && err.offset == want;
		if (b->member && !b->syntax)
			ok = ok && strstr(err.msg, b->member) != NULL;
		CHECK(ok, "breakage %zu (%s -> %s): rc %d, offset %lld (want "
		          "%lld), %s", i, b->from, b->to, rc,
		      (long long)err.offset, (long long)want, err.msg);
		prb_ctd_summary sum;
		int n = prb_ctd_check(c, NULL, NULL, &sum);
		CHECK(n == 0 && sum.digests == 0, "breakage %zu left a digest", i);
		prb_ctd_free(c);
	}
	/* A starting digest with one previous member set. */
	char text[8192];
	const char *at = strstr(d[0].json, "\"previousDigestS3Object\": null");
	int len = snprintf(text, sizeof text, "%.*s\"previousDigestS3Object\": "
	                   "\"x\"%s", (int)(at - d[0].json), d[0].json,
	                   at + strlen("\"previousDigestS3Object\": null"));
	prb_ctd *c = prb_ctd_new();
	prb_err err;
	int rc = prb_ctd_add_digest(c, "p", (const uint8_t *)text, (size_t)len,
	                            &err);
	CHECK(rc == PRB_EMALFORMED && strstr(err.msg, "previousDigestS3Object"),
	      "starting digest with a previous object: rc %d", rc);
	rc = prb_ctd_add_digest(c, "p", NULL, 0, &err);
	CHECK(rc == PRB_EMALFORMED, "empty digest: rc %d", rc);
	rc = prb_ctd_add_signature(c, "p", "abc", 3, &err);
	CHECK(rc == PRB_EMALFORMED, "odd-length signature: rc %d", rc);
	rc = prb_ctd_add_pubkey(c, (const uint8_t *)"MIIB", 4, NULL, &err);
	CHECK(rc == PRB_EKEY, "truncated key: rc %d", rc);
	/* Not RSA, and RSA under 2048 bits. */
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *small = EVP_RSA_gen(1024);
	CHECK(ed && add_key(c, ed, KEY_SPKI_DER) == PRB_EKEY, "Ed25519 key");
	CHECK(small && add_key(c, small, KEY_PEM) == PRB_EKEY, "RSA-1024 key");
	EVP_PKEY_free(ed);
	EVP_PKEY_free(small);
	prb_ctd_free(c);
}

int
main(void)
{
	tdigest d[NDIG];
	make_logs();
	key_a = EVP_RSA_gen(2048);
	key_b = EVP_RSA_gen(2048);
	if (!key_a || !key_b) {
		CHECK(0, "RSA key generation failed");
		return T_DONE("test_ctdigest");
	}
	make_chain(d, key_a, NULL);

	kat_aws();
	kat_python_chain();
	test_hash_logfile();
	test_clean(d);
	test_signatures_unknown(d);
	test_log_faults(d);
	test_chain_faults(d);
	test_signature_faults(d);
	test_placement(d);
	test_malformed(d);

	EVP_PKEY_free(key_a);
	EVP_PKEY_free(key_b);
	return T_DONE("test_ctdigest");
}
