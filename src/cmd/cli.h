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

/* Exit statuses, one table for every subcommand (README "Exit status";
 * each --help lists those its command can give). */
enum {
	EXIT_OK = 0,       /* done */
	EXIT_FAIL = 1,     /* failed */
	EXIT_USAGE = 2,    /* the command line is wrong */
	EXIT_FINDINGS = 3, /* audit: a finding at or above --fail-on;
	                      monitor: a split view or inconsistent checkpoint */
	EXIT_BADDATA = 4,  /* monitor: the log serves entries or tiles that
	                      do not verify */
	EXIT_PARTIAL = 5,  /* done, but some inputs were rejected (with
	                      --strict, files holding no JSON too) or
	                      conflicting */
};

/* One option of a subcommand, a row of its option table. The table both
 * parses the command line, with getopt_long's conventions (--name=V,
 * --name V, -k V, -kV, unique abbreviations of long names, "--" ends the
 * options, options and operands in any order), and writes the option
 * lines of --help, so what is parsed and what is documented are one.
 * An old spelling is a row of its own sharing the value of the row it
 * stands for, its help saying so. */
typedef struct {
	const char *name;  /* long name without "--"; NULL ends the table */
	char key;          /* short alias (-k), 0 for none */
	const char *arg;   /* the value's name in --help; NULL: a flag */
	const char *help;  /* one line of description, wrapped by --help */
	const char **value; /* a valued option: its value (the last given) */
	int *flag;         /* a flag: set to 1 when given */
	const char **list; /* a repeatable option: every value, in order, */
	int max;           /* at most max of them, */
	int *n;            /* their number in *n (set to 0 first) */
} cli_opt;

/* Rows several subcommands share. */
#define CLI_OPT_KEY(p)                                                     \
	{.name = "key", .key = 'k', .arg = "KEYFILE", .value = (p),        \
	 .help = "the log's signer key file (required; not inside DIR)"}
#define CLI_OPT_VKEY(p)                                                    \
	{.name = "vkey", .arg = "VERIFIERKEY", .value = (p),               \
	 .help = "the log's verifier key: a key string, or a file holding " \
	         "one (required)"}
#define CLI_OPT_SYNC(p)                                                    \
	{.name = "sync", .arg = "files|fs", .value = (p),                  \
	 .help = "how a batch is made durable: an fsync of every file and " \
	         "directory it wrote, issued together (files, the "         \
	         "default; any filesystem), or one syncfs(2) of the "       \
	         "filesystem (fs; refused where syncfs is not known to "    \
	         "sync, such as FUSE)"}
#define CLI_OPT_LOCK_TIMEOUT(p)                                            \
	{.name = "lock-timeout", .arg = "SECONDS", .value = (p),           \
	 .help = "wait this long for another writer (default 30)"}

/* add and serve: the witnesses asked to cosign (help says when). */
#define CLI_OPT_WITNESS(l, np, q, t, when)                                     \
	{.name = "witness", .arg = "URL=VKEY", .list = (l),                \
	 .max = PRB_COSIGN_MAX, .n = (np),                                 \
	 .help = "a witness (c2sp.org/tlog-witness) and its cosignature "   \
	         "verifier key (repeatable): " when},                        \
	{.name = "witnesses", .arg = "N", .value = (q),                     \
	 .help = "cosignatures needed (default: every witness)"},          \
	{.name = "witness-timeout", .arg = "SECONDS",                      \
	 .value = (t),                                                     \
	 .help = "bound on each witness request (default 5)"}

/* verify-evidence and monitor: the witnesses whose cosignatures count. */
#define CLI_OPT_WITNESS_VKEY(l, max_, np, q)                               \
	{.name = "witness-vkey", .arg = "VKEY", .list = (l), .max = (max_), \
	 .n = (np),                                                        \
	 .help = "a witness's cosignature/v1 verifier key (type 0x04), a "  \
	         "key string or a file holding one (repeatable)"},          \
	{.name = "witnesses", .arg = "N", .value = (q),                    \
	 .help = "how many of those witnesses must have cosigned the "      \
	         "checkpoint (default: all of them)"}

/* serve and witness: where they listen, and HTTPS. */
#define CLI_OPT_LISTEN(p)                                                  \
	{.name = "listen", .arg = "ADDR:PORT", .value = (p),               \
	 .help = "where to listen (required): IPv4:PORT, [IPv6]:PORT, "     \
	         "HOST:PORT (HOST's first IPv4 address, else its first "    \
	         "IPv6 one) or :PORT (every IPv4 interface, 0.0.0.0); "     \
	         "PORT 0 picks a free one"}
#define CLI_OPT_TLS(cert, key)                                             \
	{.name = "tls-cert", .arg = "PEM", .value = (cert),                \
	 .help = "serve HTTPS with this PEM certificate (with --tls-key)"}, \
	{.name = "tls-key", .arg = "PEM", .value = (key),                  \
	 .help = "the PEM private key of --tls-cert"}

/* A subcommand's command line and help text. */
typedef struct {
	const char *name;     /* "add" */
	const char *synopsis; /* what follows "probity NAME " in Usage:, one
	                         line per form, '\n' between forms */
	const char *about;    /* what the command does (paragraphs) */
	const char *after;    /* text after the options, or NULL */
	const char *exits;    /* exit status lines beyond 0, 1 and 2, each
	                         "  N  meaning\n", or NULL */
	int minpos, maxpos;   /* how many operands it takes */
} cli_cmd;

/* Parses argv[1..] against opts (NULL: the command has none besides
 * --help) into the options' variables and up to c->maxpos operands in
 * pos[0..*npos). Returns 0 to go on, or 1 with *exit_code set: after
 * --help or -h (the help printed on stdout, EXIT_OK) or a usage error
 * (said on stderr, EXIT_USAGE). */
int cli_parse(const cli_cmd *c, cli_opt *opts, int argc, char **argv,
              const char **pos, int *npos, int *exit_code);

/* Prints "probity CMD: WHAT (usage: probity CMD <first synopsis>; see
 * probity CMD --help)" on one line and returns EXIT_USAGE. */
int cli_usage_error(const cli_cmd *c, const char *what);

/* Prints the exit status table of every command (0, 1, 2) followed by
 * extra (lines as cli_cmd.exits, or NULL) under "Exit status:". */
void cli_print_exits(FILE *f, const char *extra);

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

/* Prefixes err->where (a name inside the log) with "DIR/", or with the
 * store's URL for an object of a log DIR/store names (S3). */
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

/* The connection limits of serve and witness (include/probity/http.h),
 * as given on the command line (NULL: not given). */
typedef struct {
	const char *connections, *per_client, *idle, *head, *body;
} cli_httpd_args;
/* Their rows of an option table. */
#define CLI_OPT_HTTPD_LIMITS(l)                                            \
	{.name = "connections", .arg = "N", .value = &(l).connections,     \
	 .help = "simultaneous connections (default 256); more are closed " \
	         "at once, unanswered"},                                     \
	{.name = "per-client", .arg = "N", .value = &(l).per_client,       \
	 .help = "simultaneous connections from one IP address (default "  \
	         "32); more are closed at once, unanswered"},                \
	{.name = "idle-timeout", .arg = "SECONDS", .value = &(l).idle,     \
	 .help = "close a connection idle this long (default 30)"},        \
	{.name = "head-timeout", .arg = "SECONDS", .value = &(l).head,     \
	 .help = "a request head (request line and headers) must be "       \
	         "complete this long after the connection is ready for "    \
	         "it, however its bytes trickle in (default 10); else the " \
	         "connection is closed, after a 408 on its first request"}, \
	{.name = "body-timeout", .arg = "SECONDS", .value = &(l).body,     \
	 .help = "a request body must be complete this long after its "     \
	         "head (default 60); else the connection is closed"}
/* The limits as numbers, 0 where not given (the server's default). */
typedef struct {
	unsigned conn_limit, per_client, timeout_s, head_s, body_s;
} cli_httpd_limits;
/* Checks a into out. Returns 0, or -1 after printing the error (a usage
 * error). */
int cli_httpd_limits_parse(const char *cmd, const cli_httpd_args *a,
                           cli_httpd_limits *out);

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
int cmd_vkey(int argc, char **argv);
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
