/*
 * Fuzz harness: AWS CloudTrail digest checking (include/probity/ctdigest.h).
 *
 * The input is a sequence of chunks separated by the line "--" (SEP
 * below), which neither pretty-printed JSON nor small gzip files hold in
 * practice. The first byte of a chunk says what it is, the rest up to the
 * first '\n' names it, and the bytes after are its body:
 *   D path \n json     prb_ctd_add_digest
 *   L path \n content  prb_ctd_hash_logfile (gzip or plain) and
 *                      prb_ctd_add_logfile
 *   S name \n hex      prb_ctd_add_signature
 *   K key              prb_ctd_add_pubkey (PEM, DER or base64)
 * The checker always holds the key the corpus seeds were signed with
 * (generated for them with Python's cryptography package, which also made
 * the gzip'd log files and signed the chains over AWS's data signing
 * string); a seed adds others with K. Then prb_ctd_check runs twice; the
 * reports and the summary must agree with each other and between the
 * runs, else abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probity/ctdigest.h"

/* Always added, so that mutated inputs reach signature verification. */
static const char *const keys[] = {
	/* The corpus key (fingerprint 4fce395c64038ecd6d286c1ad47dace4),
	 * generated for the seeds; its private half was not kept. */
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvqgNcchbgcHp6FwoNyxGEe"
	"6yEbOdRylT31cG99X923Aa8EMkVmw/OvjVTQUotxWjDw7OP8bVKF5yqIKEf0cXjxQl"
	"3FjQ3OAZGRDJ/PCqYD/ki/TYgGUCaMxNTa/kza0HBU1PO3C71jJUk7U1LCjZ7O52qk"
	"DqVhcmwHo/3WlrM3RtN13I6TAPHcgO11I8B1+DyZeSWmReGkl0I6N6QvfM8Thl5yPq"
	"UawovKKJojoGPQwyxOHAX2u5/d5LhC5gSLY9ZkAwognRp0vC7vb2+IQXK8+aVsXxcg"
	"Pr3RnSTGSr9vX22BUo8fe6TUgl2cih1w9+p1lwXUKHz29P3OkHKg2wtwIDAQAB",
};
#define NKEYS (sizeof keys / sizeof keys[0])
#define SEP "\n--\n"
#define SEP_LEN 4

typedef struct {
	int n;
	size_t failed; /* BAD_SIGNATURE and UNKNOWN_KEY reports */
} tally;

static void
on_problem(void *ctx, const prb_ctd_problem *p)
{
	tally *t = ctx;
	check(p->kind >= PRB_CTD_MISSING && p->kind <= PRB_CTD_DUPLICATE);
	check(strcmp(prb_ctd_kind_name(p->kind), "unknown") != 0);
	check(p->digest != NULL);
	check(strnlen(p->detail, sizeof p->detail) < sizeof p->detail);
	if (p->kind == PRB_CTD_ALTERED)
		check(p->path != NULL && p->object != NULL);
	if (p->kind == PRB_CTD_BAD_SIGNATURE || p->kind == PRB_CTD_UNKNOWN_KEY)
		t->failed++;
	t->n++;
}

/* A fallible call's error record agrees with its result. */
static void
check_rc(int rc, const prb_err *err)
{
	check(rc <= 0);
	if (rc) {
		check(err->code == rc);
		check(strnlen(err->msg, sizeof err->msg) < sizeof err->msg);
		check(strnlen(err->where, sizeof err->where) < sizeof err->where);
	}
}

/* Copies name[0..n) into a NUL-terminated buffer, or NULL. */
static char *
cstr(const uint8_t *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void
add_chunk(prb_ctd *c, const uint8_t *s, size_t n, size_t *ndigests,
          size_t *nfiles)
{
	prb_err err;
	prb_err_clear(&err);
	if (n == 0)
		return;
	if (s[0] == 'K') {
		char fpr[33];
		int rc = prb_ctd_add_pubkey(c, s + 1, n - 1, fpr, &err);
		check_rc(rc, &err);
		if (rc == 0)
			check(strlen(fpr) == 32);
		return;
	}
	const uint8_t *nl = memchr(s + 1, '\n', n - 1);
	if (!nl)
		return;
	size_t namelen = (size_t)(nl - (s + 1)), bodylen = n - (namelen + 2);
	const uint8_t *body = nl + 1;
	char *name = cstr(s + 1, namelen);
	if (!name)
		return;
	int rc = 0;
	if (s[0] == 'D') {
		rc = prb_ctd_add_digest(c, name, body, bodylen, &err);
		*ndigests += rc == 0;
	} else if (s[0] == 'S') {
		rc = prb_ctd_add_signature(c, name, (const char *)body, bodylen,
		                           &err);
	} else if (s[0] == 'L') {
		uint8_t h[32];
		rc = prb_ctd_hash_logfile(body, bodylen, h, &err);
		if (rc == 0) {
			rc = prb_ctd_add_logfile(c, name, h, &err);
			*nfiles += rc == 0;
		}
	}
	check_rc(rc, &err);
	free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	prb_ctd *c = prb_ctd_new();
	size_t ndigests = 0, nfiles = 0;
	if (!c)
		return 0;
	for (size_t i = 0; i < NKEYS; i++)
		check(prb_ctd_add_pubkey(c, (const uint8_t *)keys[i],
		                         strlen(keys[i]), NULL, NULL) == 0);
	for (size_t off = 0; off < size;) {
		const uint8_t *z = memmem(data + off, size - off, SEP, SEP_LEN);
		size_t n = z ? (size_t)(z - (data + off)) : size - off;
		add_chunk(c, data + off, n, &ndigests, &nfiles);
		off += n + SEP_LEN;
	}

	tally t1 = {0, 0}, t2 = {0, 0};
	prb_ctd_summary s1, s2;
	int n1 = prb_ctd_check(c, on_problem, &t1, &s1);
	int n2 = prb_ctd_check(c, on_problem, &t2, &s2);
	check(n1 >= 0 && n1 == t1.n);
	check(n2 == n1 && t2.n == t1.n && t2.failed == t1.failed);
	check(memcmp(&s1, &s2, sizeof s1) == 0);
	check(s1.digests <= ndigests);
	check(s1.sigs_verified + s1.sigs_failed + s1.sigs_unchecked ==
	      s1.digests);
	check(s1.sigs_failed == t1.failed);
	check(s1.logfiles_matched <= s1.logfiles_listed);
	check(s1.logfiles_unlisted <= nfiles);
	prb_ctd_free(c);
	return 0;
}
