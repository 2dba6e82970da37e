/*
 * Evidence bundles (evidence.h): writing them, and verifying them offline
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

#include "probity/blob.h"
#include "probity/entry.h"
#include "probity/evidence.h"
#include "probity/index.h"
#include "probity/jcs.h"
#include "probity/proof.h"
#include "probity/report.h"
#include "base/util.h"
#include "audit/audit_int.h"

/* The largest file of each role a bundle may hold (evidence.h): a
 * larger one is refused on its size (fstat) before it is read, so a
 * verify holds at most one of each at a time, and the rest streams. */
#define ENTRY_FILE_MAX (1u << 17) /* an entry is at most 65,535 bytes */
#define PROOF_FILE_MAX (PRB_NOTE_MAX_SIZE + (1u << 16)) /* its checkpoint
                                          and at most 64 hashes */
#define POLICY_FILE_MAX (1u << 20) /* as policy.c's POLICY_MAX */
#define MANIFEST "SHA256SUMS"
#define CHUNK ((size_t)1 << 16) /* bytes hashed or compared at a time */

static int read_in(int dir, const char *name, uint8_t **data, size_t *len,
                   prb_err *err);

/* ---- writing a bundle -------------------------------------------------- */

/* A new file of the bundle, fsynced; its directory is fsynced once at
 * the end (prb_evidence_write). */
static int
write_new(const char *dir, const char *name, const void *data, size_t len,
          prb_err *err)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path)
		return prb_err_set(err, PRB_EINVAL, dir, UINT64_MAX,
		                   "path too long");
	return prb_write_durable(AT_FDCWD, path, data, len, 0644,
	                         PRB_DURABLE_NEW | PRB_DURABLE_NODIR, err);
}


/* dir must be new or an empty directory; creates it and its subdirs. */
static int
make_bundle_dir(const char *dir, prb_err *err)
{
	if (mkdir(dir, 0755) != 0) {
		if (errno != EEXIST)
			return prb_err_set(err, PRB_EIO, dir, UINT64_MAX,
			                   "cannot create the bundle directory: %s",
			                   strerror(errno));
		int rc = prb_dir_check_empty(dir, err);
		if (rc)
			return rc;
	}
	char sub[PATH_MAX];
	const char *subs[] = {"entries", "proofs", "policies"};
	for (int i = 0; i < 3; i++) {
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

/* When entry is the stub of a large record, writes the record's bytes as
 * blobs/<sha256 hex> (checked against the stub on the way). */
static int
write_blob_of(const char *dir, prb_log *log, const uint8_t *entry,
              size_t elen, prb_err *err)
{
	char hex[65], name[PATH_MAX];
	size_t blen;
	uint8_t *blob = NULL;
	if (!prb_entry_stub(entry, elen, hex, &blen))
		return 0;
	if (blen > PRB_EVIDENCE_BLOB_MAX) /* verify-evidence would refuse it */
		return prb_err_set(err, PRB_ETOOBIG, hex, UINT64_MAX,
		                   "a cited large record of %zu bytes, over the "
		                   "%zu a bundle may hold", blen,
		                   (size_t)PRB_EVIDENCE_BLOB_MAX);
	int rc = prb_blob_get(prb_blob_from_store, prb_log_store(log), hex,
	                      blen, &blob, err);
	snprintf(name, sizeof name, "%s/blobs", dir);
	if (rc == 0 && mkdir(name, 0755) != 0 && errno != EEXIST)
		rc = prb_err_set(err, PRB_EIO, name, UINT64_MAX,
		                 "cannot create: %s", strerror(errno));
	snprintf(name, sizeof name, "blobs/%s", hex);
	if (rc == 0)
		rc = write_new(dir, name, blob, blen, err);
	free(blob);
	return rc;
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
		rc = write_blob_of(dir, log, entry, elen, err);
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

/* The record of a cited entry, from the log (a prb_cited_record_fn). */
static int
log_record(void *ctx, uint64_t leaf, json_t **rec, prb_err *err)
{
	prb_log *log = ctx;
	uint8_t *entry = NULL;
	size_t elen;
	int canonical;
	char hex[65];
	int rc = prb_log_read_entry(log, leaf, &entry, &elen, err);
	if (rc == 0)
		rc = prb_entry_record(entry, elen, prb_blob_from_store,
		                      prb_log_store(log), rec, &canonical, hex,
		                      err);
	free(entry);
	return rc;
}

static int
report_too_big(const char *name, size_t len, prb_err *err)
{
	return prb_err_set(err, PRB_ETOOBIG, name, UINT64_MAX,
	                   "%zu bytes, over the %zu a bundle may hold: narrow "
	                   "the policies", len, (size_t)PRB_EVIDENCE_REPORT_MAX);
}

/* findings.sarif and report.html, made from what the bundle holds. */
static int
write_reports(const char *dir, prb_log *log, const prb_policy_set *ps,
              const char *fj, size_t fjlen, const char *cp, size_t cplen,
              prb_err *err)
{
	char *sarif = NULL, *html = NULL;
	size_t slen, hlen;
	int rc = prb_report_sarif(fj, fjlen, ps->v, ps->n, &sarif, &slen, err);
	if (rc == 0 && slen > PRB_EVIDENCE_REPORT_MAX)
		rc = report_too_big("findings.sarif", slen, err);
	if (rc == 0)
		rc = write_new(dir, "findings.sarif", sarif, slen, err);
	if (rc == 0)
		rc = prb_report_html(fj, fjlen, (const uint8_t *)cp, cplen, ps->v,
		                     ps->n, log_record, log, &html, &hlen, err);
	if (rc == 0 && hlen > PRB_EVIDENCE_REPORT_MAX)
		rc = report_too_big("report.html", hlen, err);
	if (rc == 0)
		rc = write_new(dir, "report.html", html, hlen, err);
	free(sarif);
	free(html);
	return rc;
}

/* policies/<id>.sql: the exact file of every policy run. */
static int
write_policies(const char *dir, const prb_policy_set *ps, prb_err *err)
{
	char name[PATH_MAX];
	for (size_t i = 0; i < ps->n; i++) {
		snprintf(name, sizeof name, "policies/%s.sql", ps->v[i].id);
		int rc = write_new(dir, name, ps->v[i].text, ps->v[i].text_len,
		                   err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The bundle's files (top level and one level of subdirectories, which is
 * all a bundle has) as paths relative to dir, sorted bytewise; manifest
 * excluded. A subdirectory deeper down, or anything but regular files and
 * directories, is an error naming it. */
typedef struct {
	char **v;
	size_t n, cap;
} name_list;

static void
names_free(name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int
names_add(name_list *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return PRB_ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return PRB_ENOMEM;
	l->n++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_files(int dir, const char *sub, name_list *out, prb_err *err)
{
	char rel[1024];
	int fd = prb_open_beneath(dir, sub ? sub : ".", O_RDONLY | O_DIRECTORY,
	                          0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return prb_err_set(err, PRB_ENOTFOUND, sub, UINT64_MAX,
		                   "cannot read the directory: %s",
		                   prb_beneath_strerror(e));
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    (!sub && strcmp(n, MANIFEST) == 0))
			continue;
		snprintf(rel, sizeof rel, "%s%s%s", sub ? sub : "",
		         sub ? "/" : "", n);
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0)
			rc = prb_err_set(err, PRB_EIO, rel, UINT64_MAX,
			                 "cannot stat: %s", strerror(errno));
		else if (S_ISDIR(st.st_mode) && !sub)
			rc = list_files(dir, rel, out, err);
		else if (!S_ISREG(st.st_mode))
			rc = prb_err_set(err, PRB_EPROOF, rel, UINT64_MAX,
			                 "unexpected: not a regular file (a "
			                 "link, FIFO or device): refused");
		else if (names_add(out, rel))
			rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                 "out of memory");
	}
	closedir(d);
	if (rc == 0 && !sub && out->n)
		qsort(out->v, out->n, sizeof *out->v, cmp_str);
	return rc;
}

size_t
prb_evidence_role_max(const char *rel)
{
	return !strncmp(rel, "entries/", 8)    ? ENTRY_FILE_MAX
	       : !strncmp(rel, "proofs/", 7)   ? PROOF_FILE_MAX
	       : !strncmp(rel, "policies/", 9) ? POLICY_FILE_MAX
	       : !strncmp(rel, "blobs/", 6)    ? PRB_EVIDENCE_BLOB_MAX
	       : !strcmp(rel, "checkpoint")    ? PRB_NOTE_MAX_SIZE
	       : !strcmp(rel, "findings.sarif") ||
	                       !strcmp(rel, "report.html")
	               ? PRB_EVIDENCE_REPORT_MAX
	               : PRB_FINDINGS_MAX; /* findings.json, SHA256SUMS */
}

/* Opens the regular file rel beneath the bundle's directory (no link, no
 * "..", no FIFO or device: prb_open_beneath), of at most prb_evidence_role_max(rel)
 * bytes; its size in *size. -1 with err set. */
static int
open_in(int dir, const char *rel, uint64_t *size, prb_err *err)
{
	struct stat st;
	int fd = prb_open_beneath(dir, rel, O_RDONLY, 0);
	if (fd < 0)
		prb_err_set(err, errno == ENOENT ? PRB_ENOTFOUND : PRB_EIO, rel,
		            UINT64_MAX, "%s", prb_beneath_strerror(errno));
	else if (fstat(fd, &st) != 0) {
		prb_err_set(err, PRB_EIO, rel, UINT64_MAX, "fstat: %s",
		            strerror(errno));
		close(fd);
		fd = -1;
	} else if ((uint64_t)st.st_size > prb_evidence_role_max(rel)) {
		prb_err_set(err, PRB_ETOOBIG, rel, UINT64_MAX,
		            "%llu bytes, over the %zu such a file can need: "
		            "refused", (unsigned long long)st.st_size,
		            prb_evidence_role_max(rel));
		close(fd);
		fd = -1;
	} else
		*size = (uint64_t)st.st_size;
	return fd;
}

/* Reads the next chunk of fd into buf (at most CHUNK bytes): its length,
 * 0 at the end, or -1 with err set (naming rel). */
static ssize_t
read_chunk(int fd, uint8_t *buf, const char *rel, prb_err *err)
{
	for (;;) {
		ssize_t r = read(fd, buf, CHUNK);
		if (r >= 0 || errno != EINTR) {
			if (r < 0)
				prb_err_set(err, PRB_EIO, rel, UINT64_MAX,
				            "read: %s", strerror(errno));
			return r;
		}
	}
}

/* SHA-256 hex of the bundle's file rel, streamed (never held whole). */
static int
file_sha256(int dir, const char *rel, char hex[65], prb_err *err)
{
	uint64_t size;
	uint8_t md[PRB_SHA256_SIZE];
	int fd = open_in(dir, rel, &size, err);
	if (fd < 0)
		return err ? err->code : PRB_EIO;
	uint8_t *buf = malloc(CHUNK);
	prb_sha256_ctx *c = prb_sha256_new();
	int rc = buf && c ? 0 : prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
	                                    "out of memory");
	ssize_t r = 0;
	while (rc == 0 && (r = read_chunk(fd, buf, rel, err)) > 0)
		prb_sha256_update(c, buf, (size_t)r);
	if (rc == 0 && r < 0)
		rc = PRB_EIO;
	if (rc == 0) {
		prb_sha256_final(c, md);
		prb_hex_encode(md, sizeof md, hex);
	}
	prb_sha256_free(c);
	free(buf);
	close(fd);
	return rc;
}

/* Writes the manifest: "<sha256 hex>  <path>" for every other file of the
 * bundle, sorted by path (the format sha256sum -c reads). */
static int
write_manifest(const char *dir, prb_err *err)
{
	name_list l = {0};
	char *text = NULL, hex[65];
	size_t len = 0, cap = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = dfd < 0 ? prb_err_set(err, PRB_EIO, dir, UINT64_MAX, "%s",
	                               strerror(errno))
	                 : list_files(dfd, NULL, &l, err);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		size_t need = len + 64 + 2 + strlen(l.v[i]) + 2;
		if (need > cap) {
			cap = 2 * need;
			char *nt = realloc(text, cap);
			if (!nt) {
				rc = prb_err_set(err, PRB_ENOMEM, NULL,
				                 UINT64_MAX, "out of memory");
				break;
			}
			text = nt;
		}
		if ((rc = file_sha256(dfd, l.v[i], hex, err)) == 0)
			len += (size_t)sprintf(text + len, "%s  %s\n", hex,
			                       l.v[i]);
	}
	if (dfd >= 0)
		close(dfd);
	if (rc == 0)
		rc = write_new(dir, MANIFEST, text ? text : "", len, err);
	free(text);
	names_free(&l);
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
	int rc = prb_checkpoint_peek((const uint8_t *)cp, cplen, &c, err);
	if (rc == 0)
		rc = prb_audit_findings_json(ps, &c, f, n, &json, &jlen, err);
	if (rc == 0 && jlen > PRB_FINDINGS_MAX)
		rc = prb_err_set(err, PRB_ETOOBIG, "findings.json", UINT64_MAX,
		                 "%zu findings make %zu bytes, over the %zu a "
		                 "bundle may hold: narrow the policies", n, jlen,
		                 (size_t)PRB_FINDINGS_MAX);
	if (rc == 0 && n && !(leaves = malloc(n * sizeof *leaves)))
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "out of memory");
	if (rc == 0)
		rc = make_bundle_dir(dir, err);
	if (rc == 0)
		rc = write_new(dir, "checkpoint", cp, cplen, err);
	if (rc == 0)
		rc = write_new(dir, "findings.json", json, jlen, err);
	if (rc == 0)
		rc = write_policies(dir, ps, err);
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
	if (rc == 0)
		rc = write_reports(dir, log, ps, json, jlen, cp, cplen, err);
	/* the manifest last: it lists every other file */
	if (rc == 0)
		rc = write_manifest(dir, err);
	char sub[PATH_MAX];
	struct stat st;
	const char *subs[] = {"entries", "proofs", "policies", "blobs"};
	for (int i = 0; rc == 0 && i < 4; i++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
		if (stat(sub, &st) == 0)
			rc = prb_fsync_dir(sub, err);
	}
	if (rc == 0)
		rc = prb_fsync_dir(dir, err);
	free(json);
	free(leaves);
	return rc;
}

/* ---- verifying a bundle ------------------------------------------------ */

static int
read_in(int dir, const char *name, uint8_t **data, size_t *len, prb_err *err)
{
	uint64_t size;
	size_t got = 0;
	int fd = open_in(dir, name, &size, err);
	if (fd < 0)
		return err ? err->code : PRB_EIO;
	uint8_t *buf = malloc((size_t)size + 1);
	int rc = buf ? 0 : prb_err_set(err, PRB_ENOMEM, name, UINT64_MAX,
	                               "out of memory");
	while (rc == 0 && got < size) {
		ssize_t r = read(fd, buf + got, (size_t)size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			rc = prb_err_set(err, PRB_EIO, name, got, "%s",
			                 r < 0 ? strerror(errno)
			                       : "file shrank while reading");
		else
			got += (size_t)r;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[got] = 0;
	*data = buf;
	*len = got;
	return 0;
}

static int
verr(prb_err *err, int code, const char *name, const char *fmt,
     const char *a, unsigned long long u)
{
	return prb_err_set(err, code, name, UINT64_MAX, fmt, a, u);
}

/* Reads findings.json of the bundle in dir (fj[0..*fjlen), malloc'd) and
 * parses it (*root); it must be in its RFC 8785 form. */
static int
read_findings(int dir, uint8_t **fj, size_t *fjlen, json_t **root,
              prb_err *err)
{
	char *canon = NULL;
	size_t clen = 0;
	json_error_t je;
	int rc = read_in(dir, "findings.json", fj, fjlen, err);
	if (rc == 0 && !(*root = json_loadb((const char *)*fj, *fjlen,
	                                    JSON_REJECT_DUPLICATES |
	                                    JSON_DECODE_INT_AS_REAL, &je)))
		rc = prb_err_set(err, PRB_EMALFORMED, "findings.json",
		                 (uint64_t)je.position, "not JSON: %s", je.text);
	if (rc == 0 && (prb_jcs_encode(*root, &canon, &clen, NULL) != 0 ||
	                clen != *fjlen || memcmp(canon, *fj, clen) != 0))
		rc = verr(err, PRB_EMALFORMED, "findings.json", "not in its "
		          "RFC 8785 form (altered after the audit?)%s", "", 0);
	free(canon);
	return rc;
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

/* The directory sub of the bundle, opened beneath it (never through a
 * link); NULL with errno. */
static DIR *
open_subdir(int dir, const char *sub)
{
	int fd = prb_open_beneath(dir, sub, O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d && fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

static int
has_leaf(const uint64_t *leaves, size_t n, uint64_t leaf)
{
	return bsearch(&leaf, leaves, n, sizeof leaf, cmp_u64) != NULL;
}

/* Every file in dir/sub is SUB/<leaf><suffix> of a cited leaf. */
static int
check_listing(int dir, const char *sub, const char *suffix,
              const uint64_t *leaves, size_t nl, prb_err *err)
{
	DIR *d = open_subdir(dir, sub);
	if (!d)
		return verr(err, PRB_ENOTFOUND, sub, "missing directory (or not "
		            "a directory: %s)", prb_beneath_strerror(errno), 0);
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
/* Reads blobs/<hex> from the bundle (a prb_blob_get_fn), noting which. */
typedef struct {
	int dir;
	char name[80]; /* "blobs/<hex>" last asked for */
} bundle_blobs;

static int
get_bundle_blob(void *ctx, const char *hex, uint8_t **data, size_t *len,
                prb_err *err)
{
	bundle_blobs *b = ctx;
	snprintf(b->name, sizeof b->name, "blobs/%s", hex);
	return read_in(b->dir, b->name, data, len, err);
}

/* When entry (the file en) is the stub of a large record, the record's
 * bytes must be in blobs/<hex> with the stub's length and digest; the blob
 * is added to *blobs. */
static int
check_blob_of(int dir, const char *en, const uint8_t *entry,
              size_t elen, name_list *blobs, prb_err *err)
{
	json_t *rec = NULL;
	int canonical;
	char hex[65];
	bundle_blobs b = {dir, ""};
	int rc = prb_entry_record(entry, elen, get_bundle_blob, &b, &rec,
	                          &canonical, hex, err);
	json_decref(rec);
	if (rc) {
		char m[sizeof err->msg];
		snprintf(m, sizeof m, "%s", err->msg);
		return prb_err_set(err, rc, b.name[0] ? b.name : en, UINT64_MAX,
		                   "the large record %s stands for: %s", en, m);
	}
	if (hex[0] && names_add(blobs, b.name))
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	return 0;
}

static int
check_cited(int dir, uint64_t leaf, const uint8_t *cp, size_t cplen,
            const prb_verifier *vs, size_t nvs, name_list *blobs,
            prb_err *err)
{
	char en[64], pn[64];
	uint8_t *entry = NULL, *ptext = NULL;
	size_t elen, plen;
	prb_tlog_proof *p = NULL;
	snprintf(en, sizeof en, "entries/%llu.json", (unsigned long long)leaf);
	snprintf(pn, sizeof pn, "proofs/%llu.tlog-proof",
	         (unsigned long long)leaf);
	int rc = read_in(dir, en, &entry, &elen, err);
	if (rc == PRB_ENOTFOUND)
		rc = verr(err, rc, en, "missing: findings.json cites leaf "
		          "%s%llu", "", leaf);
	if (rc == 0 && (rc = read_in(dir, pn, &ptext, &plen,
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
		          "bundle's checkpoint (one of the two was altered, "
		          "or it is another checkpoint's proof)%s", "", 0);
	if (rc == 0 && prb_tlog_proof_verify(p, entry, elen, vs, nvs, NULL,
	                                     err) != 0) {
		char m[sizeof err->msg];
		snprintf(m, sizeof m, "%s", err->msg);
		rc = prb_err_set(err, PRB_EPROOF, en, UINT64_MAX, "does not "
		                 "verify with %s (one of the two was altered): "
		                 "%s", pn, m);
	}
	if (rc == 0)
		rc = check_blob_of(dir, en, entry, elen, blobs, err);
	prb_tlog_proof_free(p);
	free(entry);
	free(ptext);
	return rc;
}

static int
check_top_level(int dir, prb_err *err)
{
	static const char *const names[] = {"checkpoint", "findings.json",
	                                    "entries", "proofs", "policies",
	                                    "blobs", "findings.sarif",
	                                    "report.html", MANIFEST};
	DIR *d = open_subdir(dir, ".");
	if (!d)
		return verr(err, PRB_EIO, ".", "cannot read the bundle: %s",
		            prb_beneath_strerror(errno), 0);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		int known = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			known |= strcmp(de->d_name, names[i]) == 0;
		if (!known)
			rc = verr(err, PRB_EPROOF, de->d_name, "unexpected file "
			          "in the bundle%s", "", 0);
	}
	closedir(d);
	return rc;
}

/* Every file in dir/sub is one of want (paths "sub/name"). */
static int
check_subdir(int dir, const char *sub, name_list *want, prb_err *err)
{
	char name[1024];
	DIR *d = open_subdir(dir, sub);
	if (!d)
		return errno == ENOENT && want->n == 0
		       ? 0 : verr(err, PRB_ENOTFOUND, sub, "missing directory%s",
		                  "", 0);
	if (want->n)
		qsort(want->v, want->n, sizeof *want->v, cmp_str);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(name, sizeof name, "%s/%s", sub, de->d_name);
		const char *key = name;
		if (!want->n || !bsearch(&key, want->v, want->n, sizeof *want->v,
		                         cmp_str))
			rc = verr(err, PRB_EPROOF, name, "unexpected file: "
			          "nothing in findings.json calls for it%s", "", 0);
	}
	closedir(d);
	return rc;
}

/* policies/: exactly one file per policy findings.json lists, whose
 * SHA-256 is the one listed, which parses with that id, title and
 * severity, and declares exactly the parameters listed; and every finding
 * names a listed policy with its title and severity. */
static int
check_policies(int dir, const json_t *root, prb_policy **pvout,
               size_t *npout, prb_err *err)
{
	const char *F = "findings.json";
	const json_t *pols = json_object_get(root, "policies");
	const json_t *fs = json_object_get(root, "findings");
	size_t np = json_array_size(pols), i;
	prb_policy *pv = calloc(np ? np : 1, sizeof *pv);
	name_list want = {0};
	int rc = pv ? 0 : PRB_ENOMEM;
	for (i = 0; rc == 0 && i < np; i++) {
		const json_t *e = json_array_get(pols, i);
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *sha = json_string_value(json_object_get(e, "sha256"));
		const char *title = json_string_value(json_object_get(e, "title"));
		const char *sev = json_string_value(json_object_get(e, "severity"));
		const json_t *params = json_object_get(e, "params");
		char name[1024], hex[65];
		if (!id || !sha || !title || !sev || !json_is_object(params)) {
			rc = verr(err, PRB_EMALFORMED, F, "policy %s%llu is "
			          "malformed", "", i);
			break;
		}
		/* the id names a file: checked before anything is opened */
		if (!id[0] || id[0] == '.' || strchr(id, '/') ||
		    strlen(id) > 200) {
			rc = verr(err, PRB_EMALFORMED, F, "policy %s%llu: its id "
			          "is not a policy id (a path?): refused", "", i);
			break;
		}
		snprintf(name, sizeof name, "policies/%s.sql", id);
		uint8_t *text;
		size_t len;
		if ((rc = read_in(dir, name, &text, &len,
		                  err)) != 0) {
			if (rc == PRB_ENOTFOUND)
				rc = verr(err, rc, name, "missing: findings.json "
				          "lists policy %s", id, 0);
			break;
		}
		prb_sha256_hex(text, len, hex);
		rc = strcmp(hex, sha) != 0
		     ? verr(err, PRB_EPROOF, name, "its SHA-256 is not the one "
		            "findings.json lists%s", "", 0)
		     : prb_policy_parse(name, (const char *)text, len, &pv[i],
		                        err);
		free(text);
		if (rc == 0 && (strcmp(pv[i].id, id) != 0 ||
		                strcmp(pv[i].title, title) != 0 ||
		                strcmp(prb_severity_name(pv[i].severity), sev) != 0))
			rc = verr(err, PRB_EPROOF, F, "policy %s: id, title or "
			          "severity is not its file's", id, 0);
		size_t declared = 0;
		for (size_t k = 0; rc == 0 && k < pv[i].nparams; k++)
			declared += json_object_get(params,
			                            pv[i].params[k].name) != NULL;
		if (rc == 0 && (declared != pv[i].nparams ||
		                json_object_size(params) != pv[i].nparams))
			rc = verr(err, PRB_EPROOF, F, "policy %s: its parameters "
			          "are not the ones its file declares", id, 0);
		if (rc == 0 && names_add(&want, name))
			rc = PRB_ENOMEM;
	}
	const json_t *f;
	json_array_foreach(fs, i, f) {
		if (rc)
			break;
		const char *id = json_string_value(json_object_get(f, "policy"));
		const char *title = json_string_value(json_object_get(f, "title"));
		const char *sev = json_string_value(json_object_get(f, "severity"));
		size_t k = 0;
		while (k < np && strcmp(pv[k].id, id) != 0)
			k++;
		if (k == np)
			rc = verr(err, PRB_EPROOF, F, "finding %s%llu names a "
			          "policy that is not listed", "", i);
		else if (strcmp(pv[k].title, title) != 0 ||
		         strcmp(prb_severity_name(pv[k].severity), sev) != 0)
			rc = verr(err, PRB_EPROOF, F, "finding %s%llu: title or "
			          "severity is not its policy's", "", i);
	}
	if (rc == PRB_ENOMEM)
		rc = prb_err_set(err, rc, NULL, UINT64_MAX, "out of memory");
	if (rc == 0)
		rc = check_subdir(dir, "policies", &want, err);
	if (rc == 0) {
		*pvout = pv;
		*npout = np;
		pv = NULL;
	}
	for (i = 0; pv && i < np; i++)
		prb_policy_clear(&pv[i]);
	free(pv);
	names_free(&want);
	return rc;
}

/* The record of a cited entry, from the bundle (a prb_cited_record_fn). */
static int
bundle_record(void *ctx, uint64_t leaf, json_t **rec, prb_err *err)
{
	const int *dir = ctx;
	bundle_blobs b = {*dir, ""};
	char en[64], hex[65];
	uint8_t *entry;
	size_t elen;
	int canonical;
	snprintf(en, sizeof en, "entries/%llu.json", (unsigned long long)leaf);
	int rc = read_in(*dir, en, &entry, &elen, err);
	if (rc == 0) {
		rc = prb_entry_record(entry, elen, get_bundle_blob, &b, rec,
		                      &canonical, hex, err);
		free(entry);
	}
	return rc;
}

/* Whether the bundle's file rel holds exactly want[0..wlen): its size
 * first (fstat, so a file of another size is never read), then its bytes
 * a chunk at a time. 0, or PRB_EPROOF / an error with err set. */
static int
same_bytes(int dir, const char *rel, const char *want, size_t wlen,
           prb_err *err)
{
	uint64_t size, at = 0;
	int fd = open_in(dir, rel, &size, err);
	if (fd < 0)
		return err && err->code == PRB_ENOTFOUND
		       ? verr(err, PRB_ENOTFOUND, rel, "missing%s", "", 0)
		       : err ? err->code : PRB_EIO;
	uint8_t *buf = size == wlen ? malloc(CHUNK) : NULL;
	int rc = size != wlen || buf ? 0
	         : prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
	                       "out of memory");
	ssize_t r = 0;
	int same = size == wlen;
	while (rc == 0 && same && (r = read_chunk(fd, buf, rel, err)) > 0) {
		same = at + (uint64_t)r <= wlen &&
		       memcmp(buf, want + at, (size_t)r) == 0;
		at += (uint64_t)r;
	}
	if (rc == 0 && r < 0)
		rc = PRB_EIO;
	if (rc == 0 && (!same || at != wlen))
		rc = verr(err, PRB_EPROOF, rel, "altered: it is not what the "
		          "bundle's findings, checkpoint, policies and entries "
		          "give%s", "", 0);
	free(buf);
	close(fd);
	return rc;
}

/* findings.sarif and report.html are what the bundle gives, byte for
 * byte (run once everything they are made from has verified). */
static int
check_reports(int dir, const uint8_t *fj, size_t fjlen, const uint8_t *cp,
              size_t cplen, const prb_policy *pv, size_t np, prb_err *err)
{
	static const char *const names[] = {"findings.sarif", "report.html"};
	int rc = 0;
	for (int i = 0; rc == 0 && i < 2; i++) {
		char *want = NULL;
		size_t wlen = 0;
		rc = i == 0
		     ? prb_report_sarif((const char *)fj, fjlen, pv, np, &want,
		                        &wlen, err)
		     : prb_report_html((const char *)fj, fjlen, cp, cplen, pv,
		                       np, bundle_record, &dir, &want, &wlen,
		                       err);
		if (rc == 0)
			rc = same_bytes(dir, names[i], want, wlen, err);
		free(want);
	}
	return rc;
}

/* The manifest lists every other file of the bundle, sorted, each with
 * its SHA-256; and the blobs directory holds only the blobs of cited
 * entries (blobs). */
static int
check_manifest(int dir, name_list *blobs, prb_err *err)
{
	uint8_t *text = NULL;
	size_t len;
	name_list have = {0};
	char hex[65];
	int rc = check_subdir(dir, "blobs", blobs, err);
	if (rc == 0 && (rc = read_in(dir, MANIFEST, &text, &len,
	                             err)) == PRB_ENOTFOUND)
		rc = verr(err, rc, MANIFEST, "missing%s", "", 0);
	if (rc == 0)
		rc = list_files(dir, NULL, &have, err);
	size_t off = 0, i = 0;
	while (rc == 0 && off < len) {
		const char *l = (const char *)text + off;
		const char *nl = memchr(l, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - l) : len - off;
		if (!nl || ll < 67 || l[64] != ' ' || l[65] != ' ') {
			rc = verr(err, PRB_EMALFORMED, MANIFEST, "line %s%llu is "
			          "not \"<sha256 hex>  <path>\"", "", i + 1);
			break;
		}
		if (i >= have.n || ll - 66 != strlen(have.v[i]) ||
		    memcmp(l + 66, have.v[i], ll - 66) != 0) {
			rc = i < have.n
			     ? verr(err, PRB_EPROOF, have.v[i], "not listed as "
			            "line %s%llu of " MANIFEST " says", "", i + 1)
			     : verr(err, PRB_EPROOF, MANIFEST, "line %s%llu lists "
			            "a file the bundle does not have", "", i + 1);
			break;
		}
		/* Every file but these four has been checked whole on its
		 * own by now (proofs, digests): a difference there means the
		 * manifest was altered. findings.json's free text (details)
		 * and the checkpoint's signature lines from unknown keys only
		 * the manifest covers; the reports are checked after it. */
		if ((rc = file_sha256(dir, have.v[i], hex, err)) == 0 &&
		    memcmp(hex, l, 64) != 0)
			rc = !strcmp(have.v[i], "findings.json") ||
			     !strcmp(have.v[i], "checkpoint") ||
			     !strcmp(have.v[i], "findings.sarif") ||
			     !strcmp(have.v[i], "report.html")
			     ? verr(err, PRB_EPROOF, have.v[i], "altered: its "
			            "SHA-256 is not the one " MANIFEST " lists "
			            "(or " MANIFEST " was altered)%s", "", 0)
			     : verr(err, PRB_EPROOF, MANIFEST, "altered: line "
			            "%s%llu does not give the SHA-256 of the file "
			            "it names (which checks out on its own)", "",
			            i + 1);
		off += ll + 1;
		i++;
	}
	if (rc == 0 && i < have.n)
		rc = verr(err, PRB_EPROOF, have.v[i], "not listed in "
		          MANIFEST "%s", "", 0);
	free(text);
	names_free(&have);
	return rc;
}

/* A bundle's checkpoint, findings.json and policies/ as read and checked
 * against each other: bundle_read, then bundle_policies. */
typedef struct {
	uint8_t *cp, *fj; /* the checkpoint note and findings.json */
	size_t cplen, fjlen;
	json_t *root;      /* findings.json parsed */
	uint64_t *leaves;  /* the cited leaves, sorted, each once */
	size_t nl;
	prb_policy *pv;    /* the policies findings.json lists, in its order */
	size_t np;
	prb_evidence_summary s;
} bundle_files;

/* Reads the checkpoint of the bundle in dir (opened with vs[0..nvs), or
 * with nvs 0 parsed, its signatures unchecked) and findings.json, which
 * must be of it (check_findings). */
static int
bundle_read(bundle_files *b, int dir, const prb_verifier *vs, size_t nvs,
            prb_err *err)
{
	memset(b, 0, sizeof *b);
	int rc = read_in(dir, "checkpoint", &b->cp,
	                 &b->cplen, err);
	if (rc == 0 && (rc = nvs ? prb_checkpoint_open(b->cp, b->cplen, vs, nvs,
	                                               &b->s.cp, NULL, err)
	                         : prb_checkpoint_peek(b->cp, b->cplen, &b->s.cp,
	                                           err)) != 0 && err)
		snprintf(err->where, sizeof err->where, "checkpoint");
	if (rc == 0)
		rc = read_findings(dir, &b->fj, &b->fjlen, &b->root, err);
	if (rc == 0)
		rc = check_findings(b->root, &b->s.cp, &b->leaves, &b->nl, &b->s,
		                    err);
	b->s.entries = b->nl;
	return rc;
}

/* The bundle's policy files against findings.json (check_policies). */
static int
bundle_policies(bundle_files *b, int dir, prb_err *err)
{
	int rc = check_policies(dir, b->root, &b->pv, &b->np, err);
	b->s.policies = b->np;
	return rc;
}

static void
bundle_free(bundle_files *b)
{
	json_decref(b->root);
	for (size_t i = 0; i < b->np; i++)
		prb_policy_clear(&b->pv[i]);
	free(b->pv);
	free(b->leaves);
	free(b->cp);
	free(b->fj);
	memset(b, 0, sizeof *b);
}

/* The bundle's directory at path, whose files are then opened beneath it
 * (open_in). -1 with err set. */
static int
open_bundle(const char *path, prb_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		prb_err_set(err, errno == ENOTDIR ? PRB_ENOTFOUND : PRB_EIO, NULL,
		            UINT64_MAX, "%s: %s", path, errno == ENOTDIR
		                          ? "is not a directory (nor a .tar, "
		                            ".tar.gz or .tgz bundle)"
		                          : strerror(errno));
	return fd;
}

int
prb_evidence_verify(const char *path, const prb_verifier *vs, size_t nvs,
                    prb_evidence_summary *sum, prb_err *err)
{
	bundle_files b = {0};
	name_list blobs = {0};
	int dir = open_bundle(path, err);
	if (dir < 0)
		return err ? err->code : PRB_EIO;
	int rc = check_top_level(dir, err);
	if (rc == 0)
		rc = bundle_read(&b, dir, vs, nvs, err);
	if (rc == 0)
		rc = check_listing(dir, "entries", ".json", b.leaves, b.nl, err);
	if (rc == 0)
		rc = check_listing(dir, "proofs", ".tlog-proof", b.leaves, b.nl,
		                   err);
	for (size_t i = 0; rc == 0 && i < b.nl; i++)
		rc = check_cited(dir, b.leaves[i], b.cp, b.cplen, vs, nvs, &blobs,
		                 err);
	if (rc == 0)
		rc = bundle_policies(&b, dir, err);
	if (rc == 0)
		rc = check_manifest(dir, &blobs, err);
	if (rc == 0)
		rc = check_reports(dir, b.fj, b.fjlen, b.cp, b.cplen, b.pv, b.np,
		                   err);
	if (rc == 0 && sum)
		*sum = b.s;
	names_free(&blobs);
	bundle_free(&b);
	close(dir);
	return rc;
}


/* ---- reproducing a bundle's findings on its log ------------------------ */

/* The policies check_policies read from the bundle as the set they were
 * run as: sorted by id, each once (as audit lists them), with the
 * parameter values findings.json lists, and named in errors as the files
 * of the bundle at `bundle`. */
static int
policies_as_run(const char *bundle, const json_t *root, prb_policy *pv,
                size_t np, prb_err *err)
{
	const json_t *pols = json_object_get(root, "policies");
	for (size_t i = 0; i < np; i++) {
		prb_policy *p = &pv[i];
		const json_t *params = json_object_get(json_array_get(pols, i),
		                                       "params");
		if (i > 0 && strcmp(pv[i - 1].id, p->id) >= 0)
			return verr(err, PRB_EMALFORMED, "findings.json", "its "
			            "policies are not listed by id, each once, as "
			            "audit lists them%s", "", 0);
		for (size_t k = 0; k < p->nparams; k++) {
			json_decref(p->params[k].value);
			p->params[k].value = json_incref(
				json_object_get(params, p->params[k].name));
		}
		char *file = malloc(strlen(bundle) + 1 + strlen(p->file) + 1);
		if (!file)
			return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		sprintf(file, "%s/%s", bundle, p->file);
		free(p->file);
		p->file = file;
	}
	return 0;
}

/* The bundle's checkpoint c is one of the log's: its origin, a size the
 * log has reached, and the log's root at that size. */
static int
check_of_log(const char *bundle, prb_log *log, const char *dir,
             const prb_checkpoint *c, prb_err *err)
{
	char w[PATH_MAX];
	size_t len;
	prb_checkpoint lc;
	prb_hash r;
	snprintf(w, sizeof w, "%s/checkpoint", bundle);
	const char *lcp = prb_log_checkpoint(log, &len);
	if (prb_checkpoint_peek((const uint8_t *)lcp, len, &lc, NULL) != 0 ||
	    strcmp(lc.origin, c->origin) != 0)
		return prb_err_set(err, PRB_EORIGIN, w, UINT64_MAX,
		                   "of log %s, not of %s", c->origin, dir);
	if (c->size > prb_log_size(log))
		return prb_err_set(err, PRB_ESPLIT, w, UINT64_MAX,
		                   "size %llu, but %s has only %llu entries",
		                   (unsigned long long)c->size, dir,
		                   (unsigned long long)prb_log_size(log));
	int rc = prb_log_root_at(log, c->size, &r, err);
	if (rc == 0 && memcmp(r.b, c->root.b, sizeof r.b) != 0)
		rc = prb_err_set(err, PRB_ESPLIT, w, UINT64_MAX,
		                 "its root at size %llu is not the root of %s at "
		                 "that size: another tree (a split view?)",
		                 (unsigned long long)c->size, dir);
	return rc;
}

/* Runs the policies ps on the log as of the bundle's checkpoint (s->cp),
 * which must give its findings.json (fj[0..fjlen)) byte for byte. */
static int
run_again(const char *bundle, prb_log *log, const char *dir,
          const prb_policy_set *ps, const prb_evidence_summary *s,
          const uint8_t *fj, size_t fjlen, prb_err *err)
{
	char path[PATH_MAX], *got = NULL;
	size_t n = 0, glen = 0, at = 0;
	prb_finding *f = NULL;
	prb_hash latest;
	prb_log_root(log, &latest);
	snprintf(path, sizeof path, "%s/%s", dir, PRB_INDEX_FILE);
	int rc = prb_audit_run_at(path, ps, prb_log_size(log), &latest,
	                          s->cp.size, &f, &n, err);
	if (rc == 0)
		rc = prb_audit_findings_json(ps, &s->cp, f, n, &got, &glen, err);
	while (rc == 0 && at < glen && at < fjlen && got[at] == (char)fj[at])
		at++;
	snprintf(path, sizeof path, "%s/findings.json", bundle);
	if (rc == 0 && (at < glen || glen != fjlen))
		rc = prb_err_set(err, PRB_EPROOF, path, UINT64_MAX, "not what its "
		                 "policies give on %s at size %llu: differs from "
		                 "byte %zu (a re-run gives %zu findings, the bundle "
		                 "lists %zu)", dir, (unsigned long long)s->cp.size,
		                 at, prb_findings_count(ps, f, n, NULL),
		                 s->findings);
	prb_findings_free(f, n);
	free(got);
	return rc;
}

int
prb_evidence_reproduce(const char *bundle, prb_log *log, const char *dir,
                       prb_evidence_summary *sum, prb_err *err)
{
	bundle_files b = {0};
	int bd = open_bundle(bundle, err);
	int rc = bd < 0 ? (err ? err->code : PRB_EIO)
	                : bundle_read(&b, bd, NULL, 0, err);
	if (rc == 0)
		rc = bundle_policies(&b, bd, err);
	if (bd >= 0)
		close(bd);
	if (rc == 0)
		rc = policies_as_run(bundle, b.root, b.pv, b.np, err);
	if (rc)
		prb_err_prefix(err, bundle);
	if (rc == 0)
		rc = check_of_log(bundle, log, dir, &b.s.cp, err);
	prb_policy_set ps = {b.pv, b.np};
	if (rc == 0)
		rc = run_again(bundle, log, dir, &ps, &b.s, b.fj, b.fjlen, err);
	if (rc == 0 && sum)
		*sum = b.s;
	bundle_free(&b);
	return rc;
}
