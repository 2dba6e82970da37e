/*
 * Evidence bundles (audit.h): writing them, and verifying them offline
 * with no access to the log.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "probity/audit.h"
#include "probity/jcs.h"
#include "probity/proof.h"
#include "util.h"
#include "audit_int.h"

#define FINDINGS_MAX (1u << 24)   /* bytes of findings.json we read */
#define ENTRY_FILE_MAX (1u << 17) /* an entry is at most 65,535 bytes */
#define PROOF_FILE_MAX (1u << 22)

/* ---- writing a bundle -------------------------------------------------- */

static int
write_new(const char *dir, const char *name, const void *data, size_t len,
          prb_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX,
		                   "cannot create: %s", strerror(errno));
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			return prb_err_set(err, e == ENOSPC ? PRB_ENOSPC : PRB_EIO,
			                   path, UINT64_MAX, "write: %s",
			                   strerror(e));
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX, "fsync: %s",
		                   strerror(errno));
	return 0;
}

static int
sync_dir(const char *path, prb_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		if (fd >= 0)
			close(fd);
		return prb_err_set(err, PRB_EIO, path, UINT64_MAX,
		                   "fsync of the directory failed");
	}
	close(fd);
	return 0;
}

/* dir must be new or an empty directory; creates it and its subdirs. */
static int
make_bundle_dir(const char *dir, prb_err *err)
{
	if (mkdir(dir, 0755) != 0) {
		DIR *d = errno == EEXIST ? opendir(dir) : NULL;
		if (!d)
			return prb_err_set(err, PRB_EIO, dir, UINT64_MAX,
			                   "cannot create the bundle directory");
		struct dirent *de;
		int empty = 1;
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		closedir(d);
		if (!empty)
			return prb_err_set(err, PRB_EEXIST, dir, UINT64_MAX,
			                   "exists and is not empty");
	}
	char sub[PATH_MAX];
	const char *subs[] = {"entries", "proofs"};
	for (int i = 0; i < 2; i++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
		if (mkdir(sub, 0755) != 0)
			return prb_err_set(err, PRB_EIO, sub, UINT64_MAX,
			                   "cannot create: %s", strerror(errno));
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Writes entries/L.json and proofs/L.tlog-proof for one leaf. */
static int
write_cited(const char *dir, prb_log *log, uint64_t leaf, const char *cp,
            size_t cplen, prb_err *err)
{
	uint8_t *entry = NULL;
	size_t elen, n, plen;
	prb_hash path[PRB_MAX_PROOF];
	char name[64], *proof = NULL;
	int rc = prb_log_read_entry(log, leaf, &entry, &elen, err);
	if (rc == 0)
		rc = prb_log_prove_inclusion(log, leaf, prb_log_size(log), path,
		                             &n, err);
	if (rc == 0) {
		snprintf(name, sizeof name, "entries/%llu.json",
		         (unsigned long long)leaf);
		rc = write_new(dir, name, entry, elen, err);
	}
	if (rc == 0 && prb_tlog_proof_format(leaf, path, n, NULL, 0, cp, cplen,
	                                     &proof, &plen))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc == 0) {
		snprintf(name, sizeof name, "proofs/%llu.tlog-proof",
		         (unsigned long long)leaf);
		rc = write_new(dir, name, proof, plen, err);
	}
	free(entry);
	free(proof);
	return rc;
}

int
prb_evidence_write(const char *dir, prb_log *log, const prb_policy_set *ps,
                   const prb_finding *f, size_t n, prb_err *err)
{
	size_t cplen, jlen, nl = 0;
	const char *cp = prb_log_checkpoint(log, &cplen);
	prb_checkpoint c;
	char *json = NULL;
	uint64_t *leaves = NULL;
	prb_note *note = NULL;
	int rc = prb_note_parse((const uint8_t *)cp, cplen, &note, err);
	if (rc == 0)
		rc = prb_checkpoint_parse(note->text, note->text_len, &c, err);
	prb_note_free(note);
	if (rc == 0)
		rc = prb_audit_findings_json(ps, &c, f, n, &json, &jlen, err);
	if (rc == 0 && n && !(leaves = malloc(n * sizeof *leaves)))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc == 0)
		rc = make_bundle_dir(dir, err);
	if (rc == 0)
		rc = write_new(dir, "checkpoint", cp, cplen, err);
	if (rc == 0)
		rc = write_new(dir, "findings.json", json, jlen, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		leaves[i] = f[i].leaf;
	if (rc == 0 && n)
		qsort(leaves, n, sizeof *leaves, cmp_u64);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (i > 0 && leaves[i] == leaves[i - 1])
			continue;
		rc = write_cited(dir, log, leaves[i], cp, cplen, err);
		nl++;
	}
	char sub[PATH_MAX];
	snprintf(sub, sizeof sub, "%s/entries", dir);
	if (rc == 0)
		rc = sync_dir(sub, err);
	snprintf(sub, sizeof sub, "%s/proofs", dir);
	if (rc == 0)
		rc = sync_dir(sub, err);
	if (rc == 0)
		rc = sync_dir(dir, err);
	free(json);
	free(leaves);
	return rc;
}

/* ---- verifying a bundle ------------------------------------------------ */

static int
read_in(const char *dir, const char *name, size_t limit, uint8_t **data,
        size_t *len, prb_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int rc = prb_read_file(path, limit, data, len, err);
	if (rc && err)
		snprintf(err->where, sizeof err->where, "%s", name);
	return rc;
}

static int
verr(prb_err *err, int code, const char *name, const char *fmt,
     const char *a, unsigned long long u)
{
	return prb_err_set(err, code, name, UINT64_MAX, fmt, a, u);
}

/* A JSON number that is an integer in [0, max). */
static int
leaf_of(const json_t *v, uint64_t max, uint64_t *out)
{
	if (!json_is_number(v))
		return -1;
	double d = json_number_value(v);
	if (!(d >= 0 && d < (double)max && d == (double)(uint64_t)d))
		return -1;
	*out = (uint64_t)d;
	return 0;
}

/* Checks the structure of findings.json against checkpoint c, fills the
 * sorted unique cited leaves (*leaves, malloc'd) and the summary. */
static int
check_findings(const json_t *root, const prb_checkpoint *c, uint64_t **leaves,
               size_t *nl, prb_evidence_summary *sum, prb_err *err)
{
	const char *F = "findings.json";
	json_t *want = prb_audit_checkpoint_json(c);
	int same = want && json_equal(want, json_object_get(root, "checkpoint"));
	json_decref(want);
	if (!same)
		return verr(err, PRB_EPROOF, F, "its checkpoint is not the "
		            "bundle's checkpoint%s", "", 0);
	const json_t *fs = json_object_get(root, "findings");
	const json_t *pols = json_object_get(root, "policies");
	if (!json_is_array(fs) || !json_is_array(pols) ||
	    json_object_size(root) != 3)
		return verr(err, PRB_EMALFORMED, F, "expected exactly the "
		            "members checkpoint, policies, findings%s", "", 0);
	size_t cap = 0, i;
	json_t *e;
	*leaves = NULL;
	*nl = 0;
	const char *prev_id = "";
	json_array_foreach(fs, i, e) {
		const char *id = json_string_value(json_object_get(e, "policy"));
		const char *sev = json_string_value(json_object_get(e, "severity"));
		const json_t *ents = json_object_get(e, "entries");
		const json_t *det = json_object_get(e, "detail");
		int s;
		if (!id || !json_is_string(json_object_get(e, "title")) || !sev ||
		    prb_severity_parse(sev, &s) || !json_is_array(ents) ||
		    json_array_size(ents) == 0 ||
		    !(json_is_string(det) || json_is_null(det)))
			return verr(err, PRB_EMALFORMED, F, "finding %s%llu is "
			            "malformed", "", i);
		if (strcmp(id, prev_id) < 0)
			return verr(err, PRB_EMALFORMED, F, "finding %s%llu is "
			            "out of order", "", i);
		prev_id = id;
		sum->by_severity[s]++;
		size_t j;
		json_t *l;
		json_array_foreach(ents, j, l) {
			uint64_t leaf;
			if (leaf_of(l, c->size, &leaf))
				return verr(err, PRB_EMALFORMED, F, "finding "
				            "%s%llu cites an entry that is not a "
				            "leaf of the checkpoint", "", i);
			if (*nl == cap) {
				cap = cap ? 2 * cap : 64;
				uint64_t *nv = realloc(*leaves, cap * sizeof *nv);
				if (!nv)
					return PRB_ENOMEM;
				*leaves = nv;
			}
			(*leaves)[(*nl)++] = leaf;
		}
	}
	sum->findings = json_array_size(fs);
	if (*nl)
		qsort(*leaves, *nl, sizeof **leaves, cmp_u64);
	size_t k = 0;
	for (i = 0; i < *nl; i++)
		if (k == 0 || (*leaves)[k - 1] != (*leaves)[i])
			(*leaves)[k++] = (*leaves)[i];
	*nl = k;
	return 0;
}

static int
has_leaf(const uint64_t *leaves, size_t n, uint64_t leaf)
{
	return bsearch(&leaf, leaves, n, sizeof leaf, cmp_u64) != NULL;
}

/* Every file in dir/sub is SUB/<leaf><suffix> of a cited leaf. */
static int
check_listing(const char *dir, const char *sub, const char *suffix,
              const uint64_t *leaves, size_t nl, prb_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	DIR *d = opendir(path);
	if (!d)
		return verr(err, PRB_ENOTFOUND, sub, "missing directory%s", "",
		            0);
	struct dirent *de;
	int rc = 0;
	size_t sl = strlen(suffix);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t l = strlen(n);
		uint64_t leaf;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		char name[PATH_MAX];
		snprintf(name, sizeof name, "%s/%s", sub, n);
		if (l <= sl || strcmp(n + l - sl, suffix) != 0 ||
		    prb_parse_u64(n, l - sl, UINT64_MAX, &leaf) ||
		    !has_leaf(leaves, nl, leaf))
			rc = verr(err, PRB_EPROOF, name, "unexpected file: no "
			          "finding in findings.json cites it%s", "", 0);
	}
	closedir(d);
	return rc;
}

/* The entry and proof of one cited leaf. */
static int
check_cited(const char *dir, uint64_t leaf, const uint8_t *cp, size_t cplen,
            const prb_verifier *vs, size_t nvs, prb_err *err)
{
	char en[64], pn[64];
	uint8_t *entry = NULL, *ptext = NULL;
	size_t elen, plen;
	prb_tlog_proof *p = NULL;
	snprintf(en, sizeof en, "entries/%llu.json", (unsigned long long)leaf);
	snprintf(pn, sizeof pn, "proofs/%llu.tlog-proof",
	         (unsigned long long)leaf);
	int rc = read_in(dir, en, ENTRY_FILE_MAX, &entry, &elen, err);
	if (rc == PRB_ENOTFOUND)
		rc = verr(err, rc, en, "missing: findings.json cites leaf "
		          "%s%llu", "", leaf);
	if (rc == 0 && (rc = read_in(dir, pn, PROOF_FILE_MAX, &ptext, &plen,
	                             err)) == PRB_ENOTFOUND)
		rc = verr(err, rc, pn, "missing: findings.json cites leaf "
		          "%s%llu", "", leaf);
	if (rc == 0 && (rc = prb_tlog_proof_parse(ptext, plen, &p, err)) != 0)
		snprintf(err->where, sizeof err->where, "%s", pn);
	if (rc == 0 && p->index != leaf)
		rc = verr(err, PRB_EPROOF, pn, "proves index %s%llu, not the "
		          "index its name says", "",
		          (unsigned long long)p->index);
	if (rc == 0 && (p->checkpoint_len != cplen ||
	                memcmp(p->checkpoint, cp, cplen) != 0))
		rc = verr(err, PRB_EPROOF, pn, "its checkpoint is not the "
		          "bundle's checkpoint%s", "", 0);
	if (rc == 0 && prb_tlog_proof_verify(p, entry, elen, vs, nvs, NULL,
	                                     err) != 0) {
		char m[sizeof err->msg];
		snprintf(m, sizeof m, "%s", err->msg);
		rc = prb_err_set(err, PRB_EPROOF, en, UINT64_MAX, "does not "
		                 "verify with %s (one of the two was altered): "
		                 "%s", pn, m);
	}
	prb_tlog_proof_free(p);
	free(entry);
	free(ptext);
	return rc;
}

static int
check_top_level(const char *dir, prb_err *err)
{
	static const char *const names[] = {"checkpoint", "findings.json",
	                                    "entries", "proofs"};
	DIR *d = opendir(dir);
	if (!d)
		return verr(err, PRB_ENOTFOUND, NULL, "%s is not a directory",
		            dir, 0);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		int known = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (int i = 0; i < 4; i++)
			known |= strcmp(de->d_name, names[i]) == 0;
		if (!known)
			rc = verr(err, PRB_EPROOF, de->d_name, "unexpected file "
			          "in the bundle%s", "", 0);
	}
	closedir(d);
	return rc;
}

int
prb_evidence_verify(const char *dir, const prb_verifier *vs, size_t nvs,
                    prb_evidence_summary *sum, prb_err *err)
{
	prb_evidence_summary s;
	uint8_t *cp = NULL, *fj = NULL;
	size_t cplen, fjlen, nl = 0, clen = 0;
	uint64_t *leaves = NULL;
	json_t *root = NULL;
	char *canon = NULL;
	memset(&s, 0, sizeof s);
	int rc = check_top_level(dir, err);
	if (rc == 0)
		rc = read_in(dir, "checkpoint", PRB_NOTE_MAX_SIZE, &cp, &cplen,
		             err);
	if (rc == 0 && (rc = prb_checkpoint_open(cp, cplen, vs, nvs, &s.cp,
	                                         NULL, err)) != 0)
		snprintf(err->where, sizeof err->where, "checkpoint");
	if (rc == 0)
		rc = read_in(dir, "findings.json", FINDINGS_MAX, &fj, &fjlen, err);
	if (rc == 0) {
		json_error_t je;
		root = json_loadb((const char *)fj, fjlen, JSON_REJECT_DUPLICATES |
		                  JSON_DECODE_INT_AS_REAL, &je);
		if (!root)
			rc = prb_err_set(err, PRB_EMALFORMED, "findings.json",
			                 (uint64_t)je.position, "not JSON: %s",
			                 je.text);
	}
	if (rc == 0 && (prb_jcs_encode(root, &canon, &clen, NULL) != 0 ||
	                clen != fjlen || memcmp(canon, fj, clen) != 0))
		rc = verr(err, PRB_EMALFORMED, "findings.json", "not in its "
		          "RFC 8785 form (altered after the audit?)%s", "", 0);
	if (rc == 0)
		rc = check_findings(root, &s.cp, &leaves, &nl, &s, err);
	if (rc == 0)
		rc = check_listing(dir, "entries", ".json", leaves, nl, err);
	if (rc == 0)
		rc = check_listing(dir, "proofs", ".tlog-proof", leaves, nl, err);
	for (size_t i = 0; rc == 0 && i < nl; i++)
		rc = check_cited(dir, leaves[i], cp, cplen, vs, nvs, err);
	s.entries = nl;
	if (rc == 0 && sum)
		*sum = s;
	json_decref(root);
	free(canon);
	free(leaves);
	free(cp);
	free(fj);
	return rc;
}

