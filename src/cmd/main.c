/* probity: the command-line program, a thin layer over libprobity. */
#include <string.h>

#include "cli.h"

#ifndef PRB_VERSION
#error "PRB_VERSION comes from the file VERSION, by the Makefile"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{"keygen", cmd_keygen, "write a new signer (or --witness) key, print its vkey"},
	{"vkey", cmd_vkey, "print the verifier key of a signer or witness key"},
	{"init", cmd_init, "create an empty log with a signed checkpoint"},
	{"add", cmd_add, "append one entry per input line, in durable batches"},
	{"checkpoint", cmd_checkpoint, "print the latest signed checkpoint"},
	{"prove", cmd_prove, "print a c2sp.org/tlog-proof@v1 inclusion proof"},
	{"consistency", cmd_consistency, "print a consistency proof"},
	{"verify", cmd_verify, "recompute and check the whole log"},
	{"verify-proof", cmd_verify_proof, "check an inclusion proof offline"},
	{"ingest", cmd_ingest, "commit and index cloud audit-log exports"},
	{"reindex", cmd_reindex, "rebuild the index from the log alone"},
	{"audit", cmd_audit, "run policies, write an evidence bundle"},
	{"verify-evidence", cmd_verify_evidence,
	 "check an evidence bundle offline"},
	{"serve", cmd_serve, "serve the log over HTTP: appends, tiles, metrics"},
	{"witness", cmd_witness, "cosign checkpoints (c2sp.org/tlog-witness)"},
	{"monitor", cmd_monitor, "follow a remote log, verifying every entry"},
};

/* probity --help, in the form help2man makes probity(1) of. */
static int
usage(void)
{
	FILE *f = stdout;
	fprintf(f, "Usage: probity COMMAND [OPTION]... [ARG]...\n"
	           "  or:  probity --version\n"
	           "\nA verifiable log (C2SP tlog-tiles) of cloud control-plane "
	           "records,\nwitnessed, audited against policies with "
	           "offline-checkable evidence.\n"
	           "\nCommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-17s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`probity COMMAND --help` (or `probity help COMMAND`) "
	           "describes a command and\nits options. "
	           "Options follow getopt_long's conventions: --name=VALUE\n"
	           "or --name VALUE, a short alias where there is one (-k, -o, "
	           "-h), \"--\" ends\nthe options.\n"
	           "\nOptions:\n"
	           "  -h, --help        print this help and exit\n"
	           "  -V, --version     print the version and exit\n");
	cli_print_exits(f, "  3  findings: audit --fail-on met; monitor: a "
	                   "split view or inconsistent\n"
	                   "     checkpoint\n"
	                   "  4  monitor: the log serves entries or tiles that "
	                   "do not verify\n"
	                   "  5  done, but some inputs were rejected or "
	                   "conflicting (ingest: a file\n"
	                   "     rejected, a record conflicting, a CloudTrail "
	                   "digest problem)\n");
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "probity: missing command (see probity --help)\n");
		return EXIT_USAGE;
	}
	const char *a = argv[1];
	char help[] = "--help";
	if (strcmp(a, "help") == 0 && argc == 3) { /* probity help CMD */
		a = argv[1] = argv[2];
		argv[2] = help;
	} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
	           strcmp(a, "help") == 0) {
		return usage();
	}
	if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
		printf("probity %s\n", PRB_VERSION);
		return cli_stdout_done("--version");
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(a, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "probity: unknown command \"%s\" (see probity --help)\n",
	        a);
	return EXIT_USAGE;
}
