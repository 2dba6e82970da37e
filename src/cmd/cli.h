/* Shared pieces of the probity command-line program. */
#ifndef PRB_CLI_H
#define PRB_CLI_H

#include <stdio.h>

#include "probity/cosign.h"
#include "probity/error.h"
#include "probity/log.h"
#include "probity/note.h"
#include "probity/store.h"
#include "probity/writer.h"
#include "base/util.h"

/* Exit statuses. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* One option of a subcommand: "--key" takes a value into *value;
 * a flag (value == NULL) sets *flag. */
typedef struct {
	const char *name;
	const char **value;
	int *flag;
} cli_opt;

/* Parses argv[1..] into options and up to maxpos positional arguments.
 * Handles --help (prints usage, returns 1 with *exit_code = 0) and usage
 * errors (returns 1 with *exit_code = EXIT_USAGE). Returns 0 to go on. */
int cli_parse(const char *cmd, const char *usage, int argc, char **argv,
              cli_opt *opts, const char **pos, int minpos, int maxpos,
              int *npos, int *exit_code);

/* Takes every value of the repeatable option NAME ("NAME V" or "NAME=V")
 * out of argv (compacting argv, updating *argc) into vals[0..*nvals), at
 * most max of them. Returns 0, or non-zero after printing the error (a
 * usage error: the caller exits EXIT_USAGE). Run
 * it before cli_parse, which does not know repeatable options. */
int cli_take_repeated(const char *cmd, const char *name, int *argc,
                      char **argv, const char **vals, int max, int *nvals);

/* Prints "probity CMD: WHAT (usage: <first usage line>)" on one line and
 * returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *usage, const char *what);

/* Prints "probity CMD: [where: ]message" and returns EXIT_FAIL. */
int cli_fail(const char *cmd, const prb_err *err);
int cli_failf(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* For commands that acknowledge durable batches on stdout: a reader that
 * went away (EPIPE) becomes an error saying what is committed, not a
 * silent death by SIGPIPE. */
void cli_acks_on_stdout(void);

/* Flushes stdout: 0, or the errno (EIO when none was set) when what was
 * printed could not all be written (a full disk, a closed descriptor). */
int cli_stdout_flush(void);

/* cli_stdout_flush, and on failure "probity CMD: stdout: <reason>" on
 * stderr: EXIT_OK or EXIT_FAIL. */
int cli_stdout_done(const char *cmd);

/* Parses a decimal uint64 argument; prints an error on failure. */
int cli_u64(const char *cmd, const char *what, const char *s,
            unsigned long long *out);

/* Refuses a key file that lies inside the log directory (DESIGN.md
 * invariant 4: no secret inside the log directory). */
int cli_key_outside(const char *cmd, const char *keyfile, const char *dir);

/* Parses --sync (files|fs) into a PRB_SYNC_* mode; NULL (no --sync) is
 * PRB_SYNC_FILES. */
int cli_sync_mode(const char *cmd, const char *arg, int *mode);

/* Prefixes err->where (a name inside the log) with "DIR/". */
void cli_prefix_where(prb_err *err, const char *dir);

/* Opens DIR's store and the log; signer may be NULL (read-only). */
int cli_open_log(const char *cmd, const char *dir, int sync_mode,
                 prb_signer *signer, int lock_wait_ms, prb_store **st,
                 prb_log **log);
/* For reading a log's objects from threads: *st = a second handle on
 * DIR's store when it is not DIR itself (an S3 store), else NULL. Says
 * why on stderr and returns -1 when it cannot. */
int cli_open_objects(const char *cmd, const char *dir, prb_store **st);
/* Opens cfg->dir for appending through the writer (prb_writer_open);
 * says why on stderr and returns -1 when it cannot. */
int cli_open_writer(const char *cmd, const prb_writer_cfg *cfg,
                    prb_writer **w);

/* Opens (creating if missing) DIR's index, DIR/index.sqlite. */
struct prb_index;
int cli_open_index(const char *cmd, const char *dir, struct prb_index **ix);

/* Parses n "URL=VKEY" --witness arguments into ws (at most
 * PRB_COSIGN_MAX). Prints the error; returns non-zero on one. */
#define PRB_COSIGN_MAX 32
int cli_witnesses(const char *cmd, const char **args, int n,
                  prb_cosign_witness *ws);

/* A progress line on stderr, only when stderr is a terminal. */
typedef struct {
	int on;
	double start, last;
	const char *unit;
	const char *of_unit; /* if set, "done/total of_unit" is shown too */
} cli_progress;

void cli_progress_init(cli_progress *p, const char *unit);
/* done of total (0: unknown) sets the bar; items is the count shown
 * with its rate, in p's unit. At most five redraws a second. */
void cli_progress_update(cli_progress *p, unsigned long long done,
                         unsigned long long total, unsigned long long items);
/* A prb_progress_fn over a cli_progress (ctx): done of total, shown as
 * items too. */
void cli_progress_fn(void *ctx, uint64_t done, uint64_t total);
/* Erases the progress line (call before printing to a shared terminal). */
void cli_progress_done(cli_progress *p);

int cmd_keygen(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_consistency(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_verify_proof(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_verify_evidence(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_witness(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

#endif
