/*
 * probity ingest: cloud audit-log exports into the log and the index.
 * probity reindex: the index rebuilt from the log alone.
 *
 * Every record of a file is parsed and normalised before anything of the
 * file is used, so a malformed file contributes nothing; then each record
 * goes to the writer (prb_writer_record: index row, blob, entry), and a
 * batch is shipped at the end of the file that makes it large or old
 * enough. The writer commits the log first and the index after it
 * (include/probity/writer.h), and "size N" is printed once both are done.
 * A crash in between leaves the index behind the log; the next run (or
 * reindex) indexes the missing entries from the log itself.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probity/ctdigest.h"
#include "probity/entry.h"
#include "probity/index.h"
#include "probity/ingest.h"
#include "probity/sha256.h"
#include "ingest/gzip.h"
#include "base/util.h"
#include "cli.h"

#define FILE_LIMIT ((size_t)1 << 30)    /* bytes of one export file */
#define BATCH_ENTRIES 65536
#define BATCH_BYTES ((size_t)64 << 20)
#define BATCH_SECONDS 1.0 /* a batch older than this is committed at the
                             end of the file that makes it so */
#define MAX_CT_KEYS 64

static const cli_cmd ingest_cmd = {
	"ingest", "DIR --key KEYFILE [OPTION]... PATH...",
	"Commits cloud audit-log records, one log entry per record, and indexes\n"
	"them in DIR/index.sqlite. PATH is a file or a directory walked\n"
	"recursively (in byte order of names; names starting with \".\" are\n"
	"skipped inside directories). Files may be gzip-compressed. A file\n"
	"found in a directory that holds no JSON (its content, uncompressed,\n"
	"does not start with { or [: a README, a checksum list) is no cloud\n"
	"export: it is skipped and listed at the end (with --strict,\n"
	"rejected); a file named as PATH is always read.\n"
	"Each record's entry is its RFC 8785 canonical JSON. A record whose\n"
	"event id is already in the log is a duplicate and adds nothing.\n"
	"A file that does not parse, or holds a record its format does not\n"
	"allow, is rejected whole (nothing from it is committed); the others go\n"
	"on, and the run ends with status 5 listing every rejected file.\n"
	"CloudTrail digest files (CloudTrail-Digest/) are not committed but\n"
	"checked: their chain and the SHA-256 of every log file they list;\n"
	"their RSA signatures too when --cloudtrail-key gives the public keys\n"
	"(PEM or DER). A problem found there also makes the status 5.\n"
	"Records are committed in batches (at file ends, once a batch is a\n"
	"second old or large); \"size N\" is printed each time one is durable,\n"
	"then a summary.\n",
	NULL,
	"  5  done, but a file was rejected (or, with --strict, held no JSON),\n"
	"     a record conflicted with one in the log, or a CloudTrail digest\n"
	"     check found a problem; the rest is committed\n",
	2, 4096};

typedef struct {
	prb_event ev;
	prb_entry en;
	uint64_t line, number; /* where it is in its file */
} pending;

/* A list of paths; named[i]: v[i] was named on the command line (not
 * found in a directory walked). */
typedef struct {
	char **v;
	unsigned char *named;
	size_t n, cap;
} pathlist;

static int
push_path(pathlist *l, const char *p, int named)
{
	if (l->n == l->cap) {
		size_t c = l->cap ? 2 * l->cap : 64;
		char **v = realloc(l->v, c * sizeof *v);
		if (v == NULL)
			return -1;
		l->v = v;
		unsigned char *f = realloc(l->named, c);
		if (f == NULL)
			return -1;
		l->named = f;
		l->cap = c;
	}
	if ((l->v[l->n] = strdup(p)) == NULL)
		return -1;
	l->named[l->n++] = (unsigned char)named;
	return 0;
}

static void
free_paths(pathlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->named);
}

typedef struct {
	const char *dir;
	prb_format hint;
	prb_writer *w;
	prb_signer *signer;
	prb_ctd *ctd;
	/* the batch being built (its entries are in the writer) */
	size_t bytes;
	double batch_start;
	/* the file being parsed */
	pending *recs;
	size_t nrecs, caprecs;
	const char *path;
	/* counts */
	unsigned long long files, records, fresh, dups, conflicts, source_text,
		blobs;
	unsigned long long b_fresh, b_source_text, b_blobs; /* in the batch */
	unsigned long long files_total;
	pathlist rejected, skipped; /* skipped: held no JSON (no --strict) */
	unsigned long long nrejected, nskipped; /* listed or not */
	int strict; /* --strict: a file found holding no JSON is rejected */
	char last_batched[PATH_MAX], last_committed[PATH_MAX];
	cli_progress pr;
	int out_failed; /* stdout failed: said once, in ingest_committed() */
} ingester;

static void
clear_file(ingester *g)
{
	for (size_t i = 0; i < g->nrecs; i++) {
		prb_event_free(&g->recs[i].ev);
		prb_entry_free(&g->recs[i].en);
	}
	g->nrecs = 0;
}

/* Records one rejected file and prints why. */
static void
reject(ingester *g, const char *path, const prb_err *err)
{
	cli_progress_done(&g->pr);
	prb_err e = *err;
	snprintf(e.where, sizeof e.where, "%s", path);
	cli_fail("ingest", &e);
	g->nrejected++;
	(void)push_path(&g->rejected, path, 0); /* out of memory: unlisted */
}

/* 1 if data, after white space (and a UTF-8 byte order mark), starts a
 * JSON object or array, as every cloud export does: a file found in a
 * directory that does not (a README, a checksum list) is no export. */
static int
looks_like_json(const uint8_t *data, size_t len)
{
	size_t i = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	while (i < len && (data[i] == ' ' || data[i] == '\t' ||
	                   data[i] == '\r' || data[i] == '\n'))
		i++;
	return i < len && (data[i] == '{' || data[i] == '[');
}

/* A file found in a directory holds no JSON: listed at the end as
 * skipped, or with --strict rejected. */
static void
not_json(ingester *g, const char *path)
{
	prb_err e;
	if (g->strict) {
		prb_err_set(&e, PRB_EMALFORMED, NULL, UINT64_MAX,
		            "holds no JSON: not a cloud export (--strict "
		            "rejects it)");
		reject(g, path, &e);
		return;
	}
	g->nskipped++;
	(void)push_path(&g->skipped, path, 0); /* out of memory: unlisted */
}

typedef struct {
	ingester *g;
	const char *buf; /* the file's (decompressed) bytes */
	prb_err *err;
} file_ctx;

/* prb_record_fn: normalise and encode one record of the current file. */
static int
take_record(void *ctx, json_t *rec, const prb_record_pos *pos)
{
	file_ctx *fc = ctx;
	ingester *g = fc->g;
	if (g->nrecs == g->caprecs) {
		size_t c = g->caprecs ? 2 * g->caprecs : 256;
		pending *r = realloc(g->recs, c * sizeof *r);
		if (r == NULL)
			return prb_err_set(fc->err, PRB_ENOMEM, NULL, UINT64_MAX,
			                   "out of memory");
		g->recs = r;
		g->caprecs = c;
	}
	pending *p = &g->recs[g->nrecs];
	int rc = prb_event_from_record(g->hint, rec, &p->ev, fc->err);
	if (rc == 0) {
		rc = prb_entry_from_record(rec, fc->buf + pos->offset,
		                           (size_t)pos->length, &p->en, fc->err);
		if (rc != 0)
			prb_event_free(&p->ev);
	}
	if (rc != 0) {
		char m[sizeof fc->err->msg];
		snprintf(m, sizeof m, "%s", fc->err->msg);
		prb_err_set(fc->err, rc, NULL, pos->offset,
		            "line %llu, record %llu: %s",
		            (unsigned long long)pos->line,
		            (unsigned long long)pos->number, m);
		return rc;
	}
	p->line = pos->line;
	p->number = pos->number;
	g->nrecs++;
	return 0;
}

/* 1 if the file is a CloudTrail digest rather than a log file: it sits in
 * a CloudTrail-Digest directory (where CloudTrail delivers digests), or it
 * is a JSON object whose own members are a digest's. A record that merely
 * mentions those names is not enough. */
static int
is_digest(const char *path, const uint8_t *data, size_t len)
{
	const char *d = strstr(path, "CloudTrail-Digest/");
	if (d != NULL && (d == path || d[-1] == '/'))
		return 1;
	if (memmem(data, len < 4096 ? len : 4096,
	           "\"digestPublicKeyFingerprint\"", 28) == NULL)
		return 0;
	json_t *v = json_loadb((const char *)data, len, 0, NULL);
	int yes = json_is_object(v) &&
	          json_object_get(v, "digestPublicKeyFingerprint") != NULL &&
	          json_object_get(v, "digestStartTime") != NULL &&
	          json_object_get(v, "logFiles") != NULL;
	json_decref(v);
	return yes;
}

/* The batch r is in the log (and the writer recorded it in the index,
 * unless r says that failed): count it, say so. */
static int
ingest_committed(ingester *g, const prb_writer_batch *r)
{
	prb_err err = r->index_err;
	uint64_t size = r->size;
	int rc = r->index_rc;
	cli_progress_done(&g->pr);
	printf("size %llu\n", (unsigned long long)size);
	int e = cli_stdout_flush();
	if (e && rc == 0) {
		prb_err_set(&err, PRB_EIO, "stdout", UINT64_MAX,
		            "%s: \"size N\" cannot be printed", strerror(e));
		rc = PRB_EIO;
	}
	g->bytes = 0;
	g->fresh += g->b_fresh;
	g->source_text += g->b_source_text;
	g->blobs += g->b_blobs;
	g->b_fresh = g->b_source_text = g->b_blobs = 0;
	memcpy(g->last_committed, g->last_batched, sizeof g->last_committed);
	if (rc == PRB_EIO && strcmp(err.where, "stdout") == 0) {
		g->out_failed = 1;
		cli_failf("ingest", "stdout: %s; the log holds %llu entries, "
		          "this batch included, and the index records them; "
		          "stopping", err.msg, (unsigned long long)size);
	} else if (rc != 0) {
		cli_fail("ingest", &err);
		cli_failf("ingest", "the log holds %llu entries, this batch "
		          "included, but the index could not record them; the "
		          "next ingest or probity reindex %s indexes them from "
		          "the log",
		          (unsigned long long)size, g->dir);
	}
	return rc;
}

/* The log entries and index rows of the batch become durable, in that
 * order. On failure the run stops and says exactly what is committed. */
static int
ingest_flush(ingester *g)
{
	prb_err err;
	prb_err_clear(&err);
	uint64_t before = prb_writer_size(g->w);
	prb_writer_batch r;
	memset(&r, 0, sizeof r);
	r.state = PRB_BATCH_OUT;
	int building = prb_writer_building(g->w) > 0;
	int rc = prb_writer_ship(g->w, &err);
	if (!building && rc == 0)
		return 0;
	if (rc == 0) {
		prb_writer_collect(g->w, &r);
		rc = r.rc;
		err = r.err;
	}
	if (rc == 0)
		return ingest_committed(g, &r);
	cli_progress_done(&g->pr);
	cli_prefix_where(&err, g->dir);
	cli_fail("ingest", &err);
	if (r.state == PRB_BATCH_IN) {
		cli_failf("ingest", "the batch in doubt turned out committed "
		          "(reopening the log settled it); stopping here");
		ingest_committed(g, &r);
		return rc;
	}
	if (r.state == PRB_BATCH_DOUBT)
		cli_failf("ingest", "the last batch (files after %s, up to %s) "
		          "may or may not be in the log; run probity verify %s, "
		          "then ingest the same paths again (what is already in "
		          "counts as duplicates)",
		          g->last_committed[0] ? g->last_committed : "none",
		          g->last_batched, g->dir);
	else
		cli_failf("ingest", "the log holds %llu entries: this run's "
		          "batches up to the file %s; the last batch (files after "
		          "it, up to %s) is not committed; ingest the same paths "
		          "again to add what is missing",
		          (unsigned long long)before,
		          g->last_committed[0] ? g->last_committed : "(none)",
		          g->last_batched);
	return rc;
}

/* A record whose event id is in the log already: a duplicate if its
 * entry is the same, else a conflict (the provider re-delivered the event
 * with other content), reported and not committed. */
static void
known(ingester *g, const pending *p, int outcome, uint64_t leaf)
{
	if (outcome == PRB_WRITER_DUPLICATE) {
		g->dups++;
		return;
	}
	cli_progress_done(&g->pr);
	fprintf(stderr, "probity ingest: %s: line %llu, record %llu: event id "
	        "%s is at leaf %llu already, with other content; this version "
	        "is not committed\n",
	        g->last_batched, (unsigned long long)p->line,
	        (unsigned long long)p->number, p->ev.event_id,
	        (unsigned long long)leaf);
	g->conflicts++;
}

/* Moves the current file's new records into the batch. */
static int
batch_file(ingester *g)
{
	prb_err err;
	prb_err_clear(&err);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < g->nrecs; i++) {
		pending *p = &g->recs[i];
		uint64_t leaf;
		int outcome;
		if (prb_writer_building(g->w) == 0)
			g->batch_start = prb_now_mono();
		rc = prb_writer_record(g->w, &p->ev, &p->en, &leaf, &outcome,
		                       &err);
		if (rc != 0)
			break;
		if (outcome != PRB_WRITER_NEW) {
			known(g, p, outcome, leaf);
			continue;
		}
		g->bytes += p->en.len;
		g->b_fresh++;
		g->b_source_text += !p->en.canonical;
		g->b_blobs += p->en.blob != NULL;
	}
	if (rc != 0) {
		cli_progress_done(&g->pr);
		size_t k = strlen(g->dir);
		if (strncmp(err.where, g->dir, k) != 0 || err.where[k] != '/')
			cli_prefix_where(&err, g->dir); /* a blob's store name */
		cli_fail("ingest", &err);
		cli_failf("ingest", "the log holds %llu entries: this run's "
		          "batches up to the file %s; nothing after it is "
		          "committed; ingest the same paths again to add what is "
		          "missing",
		          (unsigned long long)prb_writer_size(g->w),
		          g->last_committed[0] ? g->last_committed : "(none)");
		return rc;
	}
	g->records += g->nrecs;
	clear_file(g);
	size_t n = prb_writer_building(g->w);
	if (n >= BATCH_ENTRIES || g->bytes >= BATCH_BYTES ||
	    (n > 0 && prb_now_mono() - g->batch_start >= BATCH_SECONDS))
		return ingest_flush(g);
	return 0;
}

/* Reads, checks and batches one file. Returns non-zero only for failures
 * that stop the run (the log or index failing); a bad file is rejected
 * and the run goes on. */
static int
ingest_file(ingester *g, const char *path, int named)
{
	prb_err err;
	prb_err_clear(&err);
	uint8_t *raw = NULL, *data = NULL;
	size_t rawlen, len;
	g->files++;
	int rc = prb_read_file(path, FILE_LIMIT, &raw, &rawlen, &err);
	if (rc != 0) {
		reject(g, path, &err);
		return 0;
	}
	uint8_t d[32];
	if (prb_is_gzip(raw, rawlen)) {
		rc = prb_gunzip(raw, rawlen, FILE_LIMIT, &data, &len, &err);
		free(raw);
		if (rc != 0) {
			reject(g, path, &err);
			return 0;
		}
	} else {
		data = raw;
		len = rawlen;
	}
	if (!named && !looks_like_json(data, len)) {
		free(data);
		not_json(g, path);
		return 0;
	}
	if (is_digest(path, data, len)) {
		rc = prb_ctd_add_digest(g->ctd, path, data, len, &err);
		free(data);
		if (rc != 0)
			reject(g, path, &err);
		return 0;
	}
	prb_sha256(data, len, d); /* digests list the uncompressed content's */
	rc = prb_ctd_add_logfile(g->ctd, path, d, &err);
	if (rc != 0) {
		free(data);
		cli_fail("ingest", &err);
		return rc;
	}
	file_ctx fc = {g, (const char *)data, &err};
	rc = prb_records_scan((const char *)data, len, take_record, &fc, &err);
	free(data);
	if (rc != 0) {
		clear_file(g);
		reject(g, path, &err);
		return 0;
	}
	snprintf(g->last_batched, sizeof g->last_batched, "%s", path);
	return batch_file(g);
}

static int
byte_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Adds path, or every regular file under it, to l (directories in byte
 * order of names, dot names skipped, symbolic links to directories not
 * followed, other files that are not regular rejected). A path that
 * cannot be read is still added: reading it reports the error. */
static int
walk(ingester *g, pathlist *l, const char *path, int top)
{
	struct stat sb;
	prb_err e;
	if (top || lstat(path, &sb) != 0 || S_ISLNK(sb.st_mode)) {
		if (stat(path, &sb) != 0) /* missing, or a dangling link */
			return push_path(l, path, top); /* reading says why */
		if (!top && S_ISDIR(sb.st_mode))
			return 0; /* links to directories are not followed */
	}
	if (!S_ISDIR(sb.st_mode)) {
		if (top || S_ISREG(sb.st_mode))
			return push_path(l, path, top);
		prb_err_set(&e, PRB_EINVAL, NULL, UINT64_MAX,
		            "not a regular file (not read)");
		reject(g, path, &e);
		g->files++;
		return 0;
	}
	struct dirent **names;
	int n = scandir(path, &names, NULL, byte_order);
	if (n < 0)
		return push_path(l, path, 1); /* reading it says why */
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (rc == 0 && names[i]->d_name[0] != '.') {
			char sub[PATH_MAX];
			int k = snprintf(sub, sizeof sub, "%s%s%s", path,
			                 path[strlen(path) - 1] == '/' ? "" : "/",
			                 names[i]->d_name);
			if (k < (int)sizeof sub) {
				rc = walk(g, l, sub, 0);
			} else {
				prb_err_set(&e, PRB_EINVAL, NULL, UINT64_MAX,
				            "%s: path longer than %d bytes",
				            names[i]->d_name, PATH_MAX - 1);
				reject(g, path, &e);
				g->files++;
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static void
report_problem(void *ctx, const prb_ctd_problem *p)
{
	ingester *g = ctx;
	cli_progress_done(&g->pr);
	fprintf(stderr, "probity ingest: cloudtrail digest %s: %s: %s%s%s\n",
	        p->digest ? p->digest : "-", prb_ctd_kind_name(p->kind),
	        p->object ? p->object : "", p->object ? ": " : "", p->detail);
}

static void
catching_up(void *ctx, uint64_t from, uint64_t to)
{
	(void)ctx;
	fprintf(stderr, "probity ingest: indexing entries %llu..%llu, which "
	        "the log has and the index lacks\n",
	        (unsigned long long)from, (unsigned long long)to - 1);
}

/* Opens the index and indexes what the log has and the index lacks (a
 * crash after a log commit and before the index's). */
static int
catch_up(ingester *g)
{
	prb_err err;
	prb_err_clear(&err);
	if (prb_writer_index_open(g->w, &err) == 0)
		return 0;
	return cli_fail("ingest", &err); /* where names DIR already */
}

static int
run(ingester *g, const char **paths, int npaths)
{
	pathlist l = {0};
	int rc = 0;
	for (int i = 0; rc == 0 && i < npaths; i++)
		rc = walk(g, &l, paths[i], 1);
	if (rc != 0) {
		cli_failf("ingest", "listing the input: out of memory");
		goto done;
	}
	g->files_total = l.n + g->files; /* + those the walk rejected */
	cli_progress_init(&g->pr, "records");
	g->pr.of_unit = "files";
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		rc = ingest_file(g, l.v[i], l.named[i]);
		cli_progress_update(&g->pr, g->files, g->files_total,
		                    g->records + g->nrecs);
	}
	if (rc == 0)
		rc = ingest_flush(g);
	cli_progress_done(&g->pr);
done:
	free_paths(&l);
	return rc;
}

static void
summary(ingester *g)
{
	printf("ingested %llu files: %llu records, %llu new, %llu duplicates; ",
	       g->files - g->nrejected - g->nskipped, g->records, g->fresh,
	       g->dups);
	if (g->conflicts)
		printf("%llu conflicting (an event id already in the log with "
		       "other content: not committed, listed above); ",
		       g->conflicts);
	if (g->w != NULL && prb_writer_log(g->w) != NULL)
		printf("log size %llu\n",
		       (unsigned long long)prb_writer_size(g->w));
	else
		printf("log size unknown (the log could not be reopened)\n");
	if (g->nskipped)
		printf("note: %llu files found in directories hold no JSON (not "
		       "cloud exports): skipped, listed on stderr\n",
		       g->nskipped);
	if (g->files < g->files_total)
		printf("note: %llu of %llu files were not read (the run stopped "
		       "at the error above)\n",
		       g->files_total - g->files, g->files_total);
	if (g->source_text || g->blobs)
		printf("note: %llu records committed as their exact source text "
		       "(numbers RFC 8785 cannot carry exactly), %llu large "
		       "records committed by digest (DIR/blob/sha256/)\n",
		       g->source_text, g->blobs);
}

/* "probity ingest: N of M files WHAT: PATH..." on stderr, when N > 0. */
static void
list_paths(const pathlist *l, unsigned long long n, unsigned long long of,
           const char *what)
{
	if (n == 0)
		return;
	fprintf(stderr, "probity ingest: %llu of %llu files %s:", n, of, what);
	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, " %s", l->v[i]);
	fprintf(stderr, "%s\n", l->n < n ? " (and more: out of memory)" : "");
}

/* --cloudtrail-signature DIGEST=HEX: the newest digests' own signatures. */
static int
load_ct_sigs(ingester *g, const char **sigs, int nsigs)
{
	for (int i = 0; i < nsigs; i++) {
		const char *eq = strrchr(sigs[i], '=');
		prb_err err;
		prb_err_clear(&err);
		if (eq == NULL || eq == sigs[i])
			return cli_failf("ingest", "--cloudtrail-signature %s: "
			                 "need DIGEST=HEXSIGNATURE", sigs[i]);
		char name[PATH_MAX];
		snprintf(name, sizeof name, "%.*s", (int)(eq - sigs[i]),
		         sigs[i]);
		if (prb_ctd_add_signature(g->ctd, name, eq + 1, strlen(eq + 1),
		                          &err) != 0)
			return cli_fail("ingest", &err);
	}
	return 0;
}

static int
load_ct_keys(ingester *g, const char **keys, int nkeys)
{
	for (int i = 0; i < nkeys; i++) {
		prb_err err;
		uint8_t *k;
		size_t klen;
		prb_err_clear(&err);
		int rc = prb_read_file(keys[i], 1 << 20, &k, &klen, &err);
		if (rc == 0) {
			rc = prb_ctd_add_pubkey(g->ctd, k, klen, NULL, &err);
			free(k);
			if (rc != 0)
				snprintf(err.where, sizeof err.where, "%s", keys[i]);
		}
		if (rc != 0)
			return cli_fail("ingest", &err);
	}
	return 0;
}

/* Checks the digests gathered; returns the number of problems. */
static unsigned long long
check_digests(ingester *g)
{
	prb_ctd_summary sum;
	int problems = prb_ctd_check(g->ctd, report_problem, g, &sum);
	if (sum.digests > 0)
		printf("cloudtrail digests: %zu checked, %zu log files listed, "
		       "%zu present and unaltered, %zu signatures verified, %zu "
		       "not checked; %d problems\n",
		       sum.digests, sum.logfiles_listed, sum.logfiles_matched,
		       sum.sigs_verified, sum.sigs_unchecked, problems);
	return problems < 0 ? 1 : (unsigned long long)problems;
}

int
cmd_ingest(int argc, char **argv)
{
	const char *key = NULL, *sync = NULL, *wait = NULL, *format = NULL;
	const char *pos[4096], *ct_keys[MAX_CT_KEYS], *ct_sigs[MAX_CT_KEYS];
	int npos, code, mode, nct, nsig;
	unsigned long long wait_s = 30;
	ingester g;
	memset(&g, 0, sizeof g);
	cli_opt opts[] = {
		CLI_OPT_KEY(&key),
		{.name = "format",
		 .arg = "auto|cloudtrail|azure-activity|gcp-audit|k8s-audit",
		 .value = &format,
		 .help = "every record must be of this format (default: auto, "
		         "each record's format is recognised)"},
		{.name = "cloudtrail-key", .arg = "PUBKEYFILE", .list = ct_keys,
		 .max = MAX_CT_KEYS, .n = &nct,
		 .help = "a CloudTrail digest public key, PEM or DER "
		         "(repeatable)"},
		{.name = "cloudtrail-signature", .arg = "DIGEST=HEX",
		 .list = ct_sigs, .max = MAX_CT_KEYS, .n = &nsig,
		 .help = "the signature of a digest file (its S3 "
		         "x-amz-meta-signature), needed for the newest digest "
		         "of each chain (repeatable)"},
		{.name = "strict", .flag = &g.strict,
		 .help = "reject (status 5), rather than skip, a file found in "
		         "a directory that holds no JSON"},
		CLI_OPT_SYNC(&sync),
		CLI_OPT_LOCK_TIMEOUT(&wait),
		{0}};
	if (cli_parse(&ingest_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!key)
		return cli_usage_error(&ingest_cmd,
		                       "--key KEYFILE is required");
	g.dir = pos[0];
	cli_acks_on_stdout();
	if ((format && prb_format_parse(format, &g.hint) != 0))
		return cli_usage_error(&ingest_cmd,
		                       "unknown --format");
	if (cli_sync_mode("ingest", sync, &mode) ||
	    (wait && cli_u64("ingest", "--lock-timeout", wait, &wait_s)))
		return EXIT_USAGE;
	prb_err err;
	prb_err_clear(&err);
	if (prb_signer_load(key, &g.signer, &err))
		return cli_fail("ingest", &err);
	int rc = EXIT_FAIL;
	if ((g.ctd = prb_ctd_new()) == NULL) {
		cli_failf("ingest", "out of memory");
		goto done;
	}
	prb_writer_cfg cfg = {.dir = g.dir, .sync_mode = mode,
	                      .signer = g.signer,
	                      .lock_wait_ms = (int)(wait_s * 1000),
	                      .on_catch_up = catching_up};
	if (load_ct_keys(&g, ct_keys, nct) || load_ct_sigs(&g, ct_sigs, nsig) ||
	    cli_key_outside("ingest", key, g.dir) ||
	    cli_open_writer("ingest", &cfg, &g.w) || catch_up(&g))
		goto done;
	int failed = run(&g, pos + 1, npos - 1);
	summary(&g);
	if (!g.out_failed && cli_stdout_done("ingest") != EXIT_OK)
		failed = 1;
	unsigned long long problems = check_digests(&g);
	list_paths(&g.rejected, g.nrejected, g.files,
	           "rejected (nothing from them committed)");
	list_paths(&g.skipped, g.nskipped, g.files,
	           "skipped: found in a directory, they hold no JSON (not "
	           "cloud exports; --strict rejects them)");
	if (failed)
		rc = EXIT_FAIL;
	else if (g.nrejected || problems || g.conflicts)
		rc = EXIT_PARTIAL;
	else
		rc = EXIT_OK;
done:
	free_paths(&g.rejected);
	free_paths(&g.skipped);
	clear_file(&g);
	free(g.recs);
	prb_ctd_free(g.ctd);
	prb_writer_close(g.w);
	prb_signer_free(g.signer);
	return rc;
}
