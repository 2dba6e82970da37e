/*
 * probity add: one entry per input line, appended in durable batches
 * (group commit). A batch is committed when the input has no more data
 * ready, when it reaches BATCH_BYTES or BATCH_ENTRIES, when it is a
 * second old, or at the end of the input; each commit prints "size N".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probity/tile.h"
#include "cli.h"

#define READ_SIZE (1u << 20)
#define BATCH_BYTES ((size_t)64 << 20)
#define BATCH_ENTRIES ((size_t)1 << 20)
#define BATCH_SECONDS 1.0

static const char add_usage[] =
	"usage: probity add DIR --key KEYFILE [--sync fs|files]\n"
	"                   [--lock-timeout SECONDS] [FILE...]\n"
	"\n"
	"Appends one entry per input line (the line's bytes without its \"\\n\";\n"
	"a \"\\r\" is kept, an empty line is an empty entry) from each FILE, or\n"
	"from stdin when no FILE or \"-\" is given. Entries are committed in\n"
	"batches; each time a batch is durable (entries, tiles and a new signed\n"
	"checkpoint written and synced) \"size N\" is printed on stdout.\n"
	"A line over 65,535 bytes stops the run: the entries before it are\n"
	"committed and the error says exactly which.\n"
	"\n"
	"  --sync fs|files       how a batch is made durable: one syncfs(2) of\n"
	"                        the filesystem (fs, default) or an fsync of\n"
	"                        every file and directory written (files)\n"
	"  --lock-timeout SECS   wait this long for another writer (default 30)\n";

typedef struct {
	prb_log *log;
	prb_store *st;    /* to reopen the log after a commit in doubt */
	prb_signer *signer;
	uint8_t *arena; /* finished entries, then the line being read */
	size_t arena_len, cur_len;
	size_t *lens;
	const uint8_t **ptrs;
	size_t n;
	double batch_start;
	unsigned long long committed, start_size, bytes_read, bytes_total;
	cli_progress pr;
	/* the input being read */
	const char *name;
	unsigned long long line;
} adder;

/* After a commit in doubt: reopening the log settles it (an interrupted
 * checkpoint write is installed or removed). Returns 1 if the batch turned
 * out committed, 0 if not, -1 if it is still unknown. */
static int
settle(adder *a, uint64_t before)
{
	prb_err e;
	prb_log_close(a->log);
	a->log = NULL;
	if (prb_log_open(a->st, a->signer, 0, &a->log, &e) != 0)
		return -1;
	uint64_t size = prb_log_size(a->log);
	return size >= before + a->n ? 1 : size == before ? 0 : -1;
}

static int
commit(adder *a)
{
	if (a->n == 0)
		return 0;
	prb_err err;
	prb_err_clear(&err);
	size_t off = 0;
	for (size_t i = 0; i < a->n; i++) {
		a->ptrs[i] = a->arena + off;
		off += a->lens[i];
	}
	uint64_t before = prb_log_size(a->log);
	if (prb_log_append(a->log, a->ptrs, a->lens, a->n, &err)) {
		int in = err.code == PRB_EINDOUBT ? settle(a, before) : 0;
		cli_progress_done(&a->pr);
		if (in == 1) {
			a->committed += a->n;
			printf("size %llu\n", (unsigned long long)(before + a->n));
			fflush(stdout);
		}
		fprintf(stderr, "probity add: %s%s%s; the batch of %zu entries "
		        "(input up to %s line %llu) %s; %llu entries from this run "
		        "are committed (log size %llu); stopping\n",
		        err.where, err.where[0] ? ": " : "", err.msg, a->n,
		        a->name, a->line,
		        in == 1   ? "turned out committed when the log was reopened"
		        : in == 0 ? "was NOT committed"
		                  : "may or may not have been committed (the next "
		                    "probity add on this log settles it)",
		        a->committed,
		        (unsigned long long)(before + (in == 1 ? a->n : 0)));
		return -1;
	}
	a->committed += a->n;
	cli_progress_done(&a->pr);
	printf("size %llu\n", (unsigned long long)prb_log_size(a->log));
	fflush(stdout);
	memmove(a->arena, a->arena + a->arena_len, a->cur_len);
	a->arena_len = 0;
	a->n = 0;
	return 0;
}

/* The line being read is complete: it becomes an entry of the batch. */
static int
finish_line(adder *a)
{
	a->lens[a->n++] = a->cur_len;
	a->arena_len += a->cur_len;
	a->cur_len = 0;
	a->line++;
	if (a->n == 1)
		a->batch_start = cli_now();
	if (a->n == BATCH_ENTRIES || a->arena_len >= BATCH_BYTES ||
	    (a->n % 4096 == 0 && cli_now() - a->batch_start > BATCH_SECONDS))
		return commit(a);
	return 0;
}

static int
too_long(adder *a)
{
	if (commit(a))
		return -1;
	cli_progress_done(&a->pr);
	cli_failf("add", "%s:%llu: line is over the %d-byte entry limit; "
	          "%llu entries from this run were committed (log size %llu); "
	          "nothing from %s line %llu on was added", a->name,
	          a->line + 1, PRB_MAX_ENTRY, a->committed,
	          a->start_size + a->committed, a->name, a->line + 1);
	return -1;
}

/* Adds bytes of the current line; the newline is not included. */
static int
append_bytes(adder *a, const uint8_t *p, size_t n)
{
	if (a->cur_len + n > PRB_MAX_ENTRY)
		return too_long(a);
	memcpy(a->arena + a->arena_len + a->cur_len, p, n);
	a->cur_len += n;
	return 0;
}

static int
no_data_ready(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, 0) == 0;
}

static int
read_input(adder *a, int fd, uint8_t *rb, int pollable)
{
	for (;;) {
		if (a->n > 0 && ((pollable && no_data_ready(fd)) ||
		                 cli_now() - a->batch_start > BATCH_SECONDS) &&
		    commit(a))
			return -1;
		ssize_t r = read(fd, rb, READ_SIZE);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			if (commit(a)) /* what was read before stays durable */
				return -1;
			cli_progress_done(&a->pr);
			cli_failf("add", "%s: read: %s; %llu entries from this run "
			          "were committed (log size %llu); nothing from %s "
			          "line %llu on was added", a->name, strerror(e),
			          a->committed, a->start_size + a->committed,
			          a->name, a->line + 1);
			return -1;
		}
		if (r == 0)
			break;
		a->bytes_read += (unsigned long long)r;
		const uint8_t *p = rb, *end = rb + r;
		while (p < end) {
			const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
			const uint8_t *stop = nl ? nl : end;
			if (append_bytes(a, p, (size_t)(stop - p)))
				return -1;
			p = stop;
			if (nl) {
				p++;
				if (finish_line(a))
					return -1;
			}
		}
		cli_progress_update(&a->pr, a->bytes_read, a->bytes_total,
		                    a->committed + a->n);
	}
	if (a->cur_len > 0)
		return finish_line(a); /* a last line without a newline */
	return 0;
}

static int
add_file(adder *a, const char *path, uint8_t *rb)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO
	                                : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		commit(a);
		cli_failf("add", "%s: %s; %llu entries from this run "
		                 "were committed (log size %llu)", path,
		                 strerror(errno), a->committed,
		                 a->start_size + a->committed);
		return -1;
	}
	struct stat st;
	int pollable = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
	a->name = fd == STDIN_FILENO ? "stdin" : path;
	a->line = 0;
	int rc = read_input(a, fd, rb, pollable);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

static unsigned long long
total_bytes(const char **files, int n)
{
	unsigned long long t = 0;
	struct stat st;
	for (int i = 0; i < n; i++) {
		if (strcmp(files[i], "-") == 0 || stat(files[i], &st) != 0 ||
		    !S_ISREG(st.st_mode))
			return 0;
		t += (unsigned long long)st.st_size;
	}
	return t;
}

static int
run(adder *a, const char **files, int nfiles)
{
	uint8_t *rb = malloc(READ_SIZE);
	a->arena = malloc(BATCH_BYTES + PRB_MAX_ENTRY + 1);
	a->lens = malloc(BATCH_ENTRIES * sizeof *a->lens);
	a->ptrs = malloc(BATCH_ENTRIES * sizeof *a->ptrs);
	int rc = -1;
	if (!rb || !a->arena || !a->lens || !a->ptrs) {
		cli_failf("add", "out of memory");
		goto out;
	}
	a->bytes_total = total_bytes(files, nfiles);
	cli_progress_init(&a->pr, "entries");
	rc = 0;
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = add_file(a, files[i], rb);
	if (nfiles == 0)
		rc = add_file(a, "-", rb);
	if (rc == 0)
		rc = commit(a);
	cli_progress_done(&a->pr);
out:
	free(rb);
	free(a->arena);
	free(a->lens);
	free(a->ptrs);
	return rc;
}

int
cmd_add(int argc, char **argv)
{
	const char *key = NULL, *sync = NULL, *wait = NULL;
	const char *pos[4096];
	int npos, code, mode;
	unsigned long long wait_s = 30;
	cli_opt opts[] = {{"--key", &key, NULL},
	                  {"--sync", &sync, NULL},
	                  {"--lock-timeout", &wait, NULL},
	                  {0}};
	if (cli_parse("add", add_usage, argc, argv, opts, pos, 1, 4096, &npos,
	              &code))
		return code;
	if (!key)
		return cli_usage_error("add", add_usage, "--key KEYFILE is required");
	if (cli_sync_mode("add", sync, &mode) ||
	    (wait && cli_u64("add", "--lock-timeout", wait, &wait_s)))
		return EXIT_USAGE;
	prb_err err;
	prb_signer *s = NULL;
	prb_store *st = NULL;
	adder a;
	memset(&a, 0, sizeof a);
	prb_err_clear(&err);
	if (prb_signer_load(key, &s, &err))
		return cli_fail("add", &err);
	int rc = EXIT_FAIL;
	if (cli_key_outside("add", key, pos[0]) ||
	    cli_open_log("add", pos[0], mode, s, (int)(wait_s * 1000), &st,
	                 &a.log))
		goto done;
	a.start_size = prb_log_size(a.log);
	a.st = st;
	a.signer = s;
	a.name = "stdin";
	if (run(&a, pos + 1, npos - 1) == 0)
		rc = EXIT_OK;
done:
	prb_log_close(a.log);
	prb_store_close(st);
	prb_signer_free(s);
	return rc;
}
