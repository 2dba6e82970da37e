/* probity: the command-line program, a thin layer over libprobity. */
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{"keygen", cmd_keygen, "write a new signer (or --witness) key, print its vkey"},
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

static int
usage(void)
{
	FILE *f = stdout;
	fprintf(f, "usage: probity COMMAND [ARGS...]   (probity COMMAND --help)\n"
	           "\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "probity: missing command (see probity --help)\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage();
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "probity: unknown command \"%s\" (see probity --help)\n",
	        argv[1]);
	return EXIT_USAGE;
}
