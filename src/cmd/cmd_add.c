/*
 * probity add: one entry per input line, appended in durable batches
 * (group commit). A batch is committed when the input has no more data
 * ready, when it reaches BATCH_BYTES or BATCH_ENTRIES, when it is a
 * second old, or at the end of the input; each commit prints "size N".
 *
 * Input is read straight into a small arena, and each read's complete
 * lines are hashed and handed to the store at once
 * (prb_writer_append), so a batch never sits in memory whole. Batches
 * are pipelined by the writer: batch k+1 is read, hashed and written
 * while batch k is made durable (prb_writer_ship), and "size N" for k is
 * printed once k is durable (prb_writer_collect), in order. Before a read
 * that could block, every batch in flight is waited for, so a slow
 * producer still gets its acknowledgements at once.
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

#define READ_SIZE ((size_t)1 << 20)
#define BATCH_BYTES ((size_t)64 << 20)
#define BATCH_ENTRIES ((size_t)1 << 20)
#define BATCH_SECONDS 1.0
#define STAGE_ENTRIES 4096 /* entries handed to the log at a time */
/* the line being read and room for one more read */
#define ARENA_SIZE (PRB_MAX_ENTRY + 1 + READ_SIZE)

static const cli_cmd add_cmd = {
	"add", "DIR --key KEYFILE [OPTION]... [FILE]...",
	"Appends one entry per input line (the line's bytes without its \"\\n\";\n"
	"a \"\\r\" is kept, an empty line is an empty entry) from each FILE, or\n"
	"from stdin when no FILE or \"-\" is given. Entries are committed in\n"
	"batches; each time a batch is durable (entries, tiles and a new signed\n"
	"checkpoint written and synced) \"size N\" is printed on stdout.\n"
	"A line over 65,535 bytes stops the run: the entries before it are\n"
	"committed and the error says exactly which.\n",
	"With --witness, too few cosignatures make the status 1; the entries\n"
	"stay committed.\n",
	NULL, 1, 4096};

/* A batch started and not yet acknowledged. */
typedef struct {
	size_t n;
	const char *name; /* the input its last line is from */
	unsigned long long line;
} flight;

typedef struct {
	prb_writer *w;
	const char *dir;
	uint8_t *arena;   /* lines not yet staged, then the line being read */
	size_t fill;      /* bytes read into the arena */
	size_t line_start; /* where the line being read starts */
	size_t *lens;     /* the lines not yet staged */
	const uint8_t **ptrs;
	size_t n;
	size_t batch_n;   /* entries of the batch being read, staged or not */
	size_t batch_bytes; /* and their input bytes */
	double batch_start;
	flight fl[2];     /* in flight, oldest first */
	int nfl;
	unsigned long long committed, start_size, bytes_read, bytes_total;
	cli_progress pr;
	prb_cosign *cosign;      /* NULL without --witness */
	uint64_t witnessed;      /* the size last sent to the witnesses */
	int witness_failed;      /* a quorum was missed: exit status 1 */
	int out_err;             /* stdout failed (errno): no more "size N" */
	/* the input being read */
	const char *name;
	unsigned long long line;
} adder;

/* Counts a durable batch and prints "size N"; -1 when stdout cannot take
 * it (a->out_err says why). */
static int
add_acknowledge(adder *a, size_t n, uint64_t size)
{
	a->committed += n;
	cli_progress_done(&a->pr);
	if (a->out_err)
		return -1;
	printf("size %llu\n", (unsigned long long)size);
	a->out_err = cli_stdout_flush();
	return a->out_err ? -1 : 0;
}

static flight
pop_flight(adder *a)
{
	flight f = a->fl[0];
	a->fl[0] = a->fl[1];
	a->nfl--;
	return f;
}

/*
 * Batch f failed (r: the writer settled a commit in doubt by reopening
 * the log); `staged` is the batch being read after every batch in flight
 * (n = 0: none). Collects the batches still in flight (they fail too: a
 * failed batch stops every later commit) and states in one line exactly
 * what is committed. Returns -1.
 */
static int
add_fail(adder *a, const flight *f, const prb_writer_batch *r, flight staged)
{
	const prb_err *err = &r->err;
	uint64_t before = a->start_size + a->committed;
	flight later = {0, NULL, 0}; /* what comes after f, not committed */
	while (a->nfl > 0) {
		flight g = pop_flight(a);
		later.n += g.n;
		later.name = g.name;
		later.line = g.line;
		prb_writer_batch x;
		prb_writer_collect(a->w, &x);
	}
	if (staged.n > 0) {
		later.n += staged.n;
		later.name = staged.name;
		later.line = staged.line;
	}
	int in = r->state == PRB_BATCH_IN    ? 1
	         : r->state == PRB_BATCH_OUT ? 0
	                                     : -1;
	cli_progress_done(&a->pr);
	if (in == 1)
		add_acknowledge(a, f->n, before + f->n);
	char rest[600] = "";
	if (later.n > 0)
		snprintf(rest, sizeof rest, "%s the %zu entries after it (input "
		         "up to %s line %llu)%s", in == 0 ? ", nor" : "; and",
		         later.n, later.name, later.line,
		         in == 0 ? "" : " were NOT committed");
	char out[160] = "";
	if (a->out_err)
		snprintf(out, sizeof out, "; and stdout: %s: \"size N\" "
		         "lines could not be printed", strerror(a->out_err));
	fprintf(stderr, "probity add: %s%s%s; the batch of %zu entries "
	        "(input up to %s line %llu) %s%s; %llu entries from this run "
	        "are committed (log size %llu)%s; stopping\n",
	        err->where, err->where[0] ? ": " : "", err->msg, f->n, f->name,
	        f->line,
	        in == 1   ? "turned out committed when the log was reopened"
	        : in == 0 ? "was NOT committed"
	                  : "may or may not have been committed (the next "
	                    "probity add on this log settles it)",
	        rest, a->committed, a->start_size + a->committed, out);
	return -1;
}

/* Waits for the oldest batch in flight and acknowledges it. When its
 * "size N" cannot be printed, the run stops: the batches still in flight
 * are waited for, and the error says what is committed. */
static int
add_collect(adder *a)
{
	prb_writer_batch r;
	flight f = pop_flight(a);
	flight staged = {a->batch_n, a->name, a->line};
	prb_writer_collect(a->w, &r);
	if (r.rc)
		return add_fail(a, &f, &r, staged);
	if (add_acknowledge(a, f.n, r.size) == 0)
		return 0;
	while (a->nfl > 0) {
		f = pop_flight(a);
		prb_writer_collect(a->w, &r);
		if (r.rc)
			return add_fail(a, &f, &r, staged);
		add_acknowledge(a, f.n, r.size);
	}
	cli_progress_done(&a->pr);
	cli_failf("add", "stdout: %s: \"size N\" cannot be printed; %llu "
	          "entries from this run are committed (log size %llu), nothing "
	          "after them; stopping", strerror(a->out_err), a->committed,
	          a->start_size + a->committed);
	return -1;
}

/* The batch being read failed with err while it was staged or started:
 * it is not committed; the batches in flight before it may be. */
static int
staging_failed(adder *a, const prb_err *err)
{
	flight f = {a->batch_n, a->name, a->line};
	while (a->nfl > 0) {
		prb_writer_batch r;
		flight g = pop_flight(a);
		prb_writer_collect(a->w, &r);
		if (r.rc)
			return add_fail(a, &g, &r, f);
		add_acknowledge(a, g.n, r.size);
	}
	flight none = {0, NULL, 0};
	prb_writer_batch lost;
	memset(&lost, 0, sizeof lost);
	lost.state = PRB_BATCH_OUT;
	lost.rc = err->code;
	lost.err = *err;
	return add_fail(a, &f, &lost, none);
}

/* Hands the lines read so far to the log, as part of the batch being
 * read; the arena may then be reused. */
static int
add_stage(adder *a)
{
	prb_err err;
	prb_err_clear(&err);
	if (prb_writer_append(a->w, a->ptrs, a->lens, a->n, &err))
		return staging_failed(a, &err);
	a->n = 0;
	return 0;
}

/* Starts committing the batch read so far. The batch before it is then
 * acknowledged, so one batch commits while the next is read and hashed. */
static int
add_ship(adder *a)
{
	if (a->batch_n == 0)
		return 0;
	prb_err err;
	prb_err_clear(&err);
	while (a->nfl > 1)
		if (add_collect(a))
			return -1;
	if (prb_writer_append(a->w, a->ptrs, a->lens, a->n, &err) ||
	    prb_writer_ship(a->w, &err))
		return staging_failed(a, &err);
	flight f = {a->batch_n, a->name, a->line};
	a->fl[a->nfl++] = f;
	a->n = a->batch_n = a->batch_bytes = 0;
	while (a->nfl > 1)
		if (add_collect(a))
			return -1;
	return 0;
}

/* With witnesses and nothing in flight: has the latest checkpoint
 * cosigned and publishes it. A missed quorum is reported, not fatal. */
static void
add_witness(adder *a)
{
	uint64_t size = prb_writer_size(a->w);
	if (!a->cosign || a->nfl > 0 || a->batch_n > 0 || size == a->witnessed)
		return;
	prb_writer_cosigned c;
	prb_err err;
	prb_err_clear(&err);
	cli_progress_done(&a->pr);
	a->witnessed = size;
	if (prb_writer_cosign(a->w, &c, &err)) {
		cli_failf("add", "witnesses: %s", err.msg);
		a->witness_failed = 1;
		return;
	}
	if (c.publish_rc) {
		cli_prefix_where(&c.publish_err, a->dir);
		cli_failf("add", "the checkpoint of size %llu was cosigned but "
		          "could not be written: %s",
		          (unsigned long long)size, c.publish_err.msg);
		a->witness_failed = 1;
	} else {
		fprintf(stderr, "probity add: checkpoint size %llu cosigned by "
		        "%zu witnesses%s%s\n", (unsigned long long)size, c.got,
		        c.warn.msg[0] ? "; " : "", c.warn.msg);
	}
	free(c.note);
}

/* Commits what was read and waits until every batch is acknowledged. */
static int
add_flush(adder *a)
{
	if (add_ship(a))
		return -1;
	while (a->nfl > 0)
		if (add_collect(a))
			return -1;
	return 0;
}

/* The line [line_start, end) is complete: it becomes an entry of the
 * batch; `next` is where the following line starts. */
static int
finish_line(adder *a, size_t end, size_t next)
{
	a->ptrs[a->n] = a->arena + a->line_start;
	a->lens[a->n++] = end - a->line_start;
	a->batch_bytes += next - a->line_start;
	a->line_start = next;
	a->line++;
	if (++a->batch_n == 1)
		a->batch_start = prb_now_mono();
	if (a->batch_n == BATCH_ENTRIES || a->batch_bytes >= BATCH_BYTES ||
	    (a->batch_n % 4096 == 0 &&
	     prb_now_mono() - a->batch_start > BATCH_SECONDS))
		return add_ship(a);
	return a->n == STAGE_ENTRIES ? add_stage(a) : 0;
}

static int
too_long(adder *a)
{
	if (add_flush(a))
		return -1;
	cli_progress_done(&a->pr);
	cli_failf("add", "%s:%llu: line is over the %d-byte entry limit; "
	          "%llu entries from this run were committed (log size %llu); "
	          "nothing from %s line %llu on was added", a->name,
	          a->line + 1, PRB_MAX_ENTRY, a->committed,
	          a->start_size + a->committed, a->name, a->line + 1);
	return -1;
}

static int
no_data_ready(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	return poll(&p, 1, 0) == 0;
}

/* Splits the bytes read from `pos` on into lines; the complete ones are
 * staged and the line being read moves to the front of the arena. */
static int
add_scan(adder *a, size_t pos)
{
	while (pos < a->fill) {
		uint8_t *nl = memchr(a->arena + pos, '\n', a->fill - pos);
		size_t end = nl ? (size_t)(nl - a->arena) : a->fill;
		if (end - a->line_start > PRB_MAX_ENTRY)
			return too_long(a);
		if (!nl)
			break;
		pos = end + 1;
		if (finish_line(a, end, pos))
			return -1;
	}
	if (add_stage(a))
		return -1;
	size_t keep = a->fill - a->line_start;
	memmove(a->arena, a->arena + a->line_start, keep);
	a->fill = keep;
	a->line_start = 0;
	return 0;
}

static int
read_input(adder *a, int fd, int pollable)
{
	for (;;) {
		if ((a->batch_n > 0 || a->nfl > 0) && pollable &&
		    no_data_ready(fd)) {
			if (add_flush(a)) /* acknowledge before a read that waits */
				return -1;
			add_witness(a);
		} else if (a->batch_n > 0 &&
		           prb_now_mono() - a->batch_start > BATCH_SECONDS) {
			if (add_ship(a))
				return -1;
		}
		ssize_t r = read(fd, a->arena + a->fill, READ_SIZE);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			if (add_flush(a)) /* what was read before stays durable */
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
		size_t pos = a->fill;
		a->fill += (size_t)r;
		if (add_scan(a, pos))
			return -1;
		size_t queued = a->batch_n;
		for (int i = 0; i < a->nfl; i++)
			queued += a->fl[i].n;
		cli_progress_update(&a->pr, a->bytes_read, a->bytes_total,
		                    a->committed + queued);
	}
	if (a->fill > a->line_start && /* a last line without a newline */
	    (finish_line(a, a->fill, a->fill) || add_stage(a)))
		return -1;
	a->fill = a->line_start = 0;
	return 0;
}

static int
add_file(adder *a, const char *path)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO
	                                : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (add_flush(a))
			return -1;
		cli_failf("add", "%s: %s; %llu entries from this run "
		                 "were committed (log size %llu)", path,
		                 strerror(e), a->committed,
		                 a->start_size + a->committed);
		return -1;
	}
	struct stat st;
	int pollable = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
	a->name = fd == STDIN_FILENO ? "stdin" : path;
	a->line = 0;
	int rc = read_input(a, fd, pollable);
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
	a->arena = malloc(ARENA_SIZE);
	a->lens = malloc(STAGE_ENTRIES * sizeof *a->lens);
	a->ptrs = malloc(STAGE_ENTRIES * sizeof *a->ptrs);
	int rc = -1;
	if (!a->arena || !a->lens || !a->ptrs) {
		cli_failf("add", "out of memory");
		goto out;
	}
	a->bytes_total = total_bytes(files, nfiles);
	cli_progress_init(&a->pr, "entries");
	rc = 0;
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = add_file(a, files[i]);
	if (nfiles == 0)
		rc = add_file(a, "-");
	if (rc == 0)
		rc = add_flush(a);
	if (rc == 0)
		add_witness(a);
	if (a->witness_failed)
		rc = -1;
	cli_progress_done(&a->pr);
out:
	free(a->arena);
	free(a->lens);
	free(a->ptrs);
	return rc;
}

int
cmd_add(int argc, char **argv)
{
	const char *key = NULL, *sync = NULL, *wait = NULL, *quorum = NULL,
		   *wtimeout = NULL;
	const char *pos[4096], *wargs[PRB_COSIGN_MAX];
	int npos, code, mode, nw = 0;
	unsigned long long wait_s = 30, nquorum = 0, wt_s = 5;
	cli_opt opts[] = {
		CLI_OPT_KEY(&key),
		CLI_OPT_SYNC(&sync),
		CLI_OPT_LOCK_TIMEOUT(&wait),
		CLI_OPT_WITNESS(wargs, &nw, &quorum, &wtimeout,
		                "when the input pauses and at its end, the "
		                "latest checkpoint is sent to the witnesses with "
		                "a consistency proof; once enough cosign, "
		                "DIR/checkpoint is rewritten with their "
		                "cosignatures. Too few: the entries stay "
		                "committed, the status is 1 and the error names "
		                "each witness that failed and why"),
		{0}};
	if (cli_parse(&add_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!key)
		return cli_usage_error(&add_cmd, "--key KEYFILE is required");
	if (cli_sync_mode("add", sync, &mode) ||
	    (wait && cli_u64("add", "--lock-timeout", wait, &wait_s)) ||
	    (quorum && cli_u64("add", "--witnesses", quorum, &nquorum)) ||
	    (wtimeout && cli_u64("add", "--witness-timeout", wtimeout, &wt_s)))
		return EXIT_USAGE;
	if (quorum && (nquorum == 0 || nquorum > (unsigned)nw))
		return cli_usage_error(&add_cmd,
		                       "--witnesses N needs 1 <= N <= the number "
		                       "of --witness");
	prb_cosign_witness ws[PRB_COSIGN_MAX];
	if (cli_witnesses("add", wargs, nw, ws))
		return EXIT_USAGE;
	prb_err err;
	prb_signer *s = NULL;
	adder a;
	memset(&a, 0, sizeof a);
	cli_acks_on_stdout();
	prb_err_clear(&err);
	if (prb_signer_load(key, &s, &err))
		return cli_fail("add", &err);
	int rc = EXIT_FAIL;
	if (nw && prb_cosign_new(ws, (size_t)nw,
	                         nquorum ? (size_t)nquorum : (size_t)nw,
	                         (long)wt_s * 1000, &a.cosign, &err)) {
		cli_fail("add", &err);
		goto done;
	}
	prb_writer_cfg cfg = {.dir = pos[0], .sync_mode = mode, .signer = s,
	                      .lock_wait_ms = (int)(wait_s * 1000),
	                      .cosign = a.cosign};
	if (cli_key_outside("add", key, pos[0]) ||
	    cli_open_writer("add", &cfg, &a.w))
		goto done;
	a.start_size = prb_writer_size(a.w);
	a.witnessed = nw ? UINT64_MAX : 0;
	a.dir = pos[0];
	a.name = "stdin";
	if (run(&a, pos + 1, npos - 1) == 0)
		rc = EXIT_OK;
done:
	prb_writer_close(a.w);
	prb_cosign_free(a.cosign);
	prb_signer_free(s);
	return rc;
}
