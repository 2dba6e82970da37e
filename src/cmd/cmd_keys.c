/* probity keygen, probity init. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "base/util.h"

static const cli_cmd keygen_cmd = {
	"keygen", "NAME -o KEYFILE [--witness]",
	"Writes a new Ed25519 signer key named NAME to KEYFILE (mode 0600; an\n"
	"existing file is never overwritten) in the signed-note format\n"
	"PRIVATE+KEY+<name>+<key id>+<base64>, and prints its verifier key\n"
	"<name>+<key id>+<base64> on stdout. NAME becomes the log's origin:\n"
	"use a schema-less URL such as example.com/audit-log.\n"
	"\n"
	"With --witness the key is a c2sp.org/tlog-cosignature cosigner key\n"
	"(signature type 0x04, cosignature/v1) for `probity witness --key`;\n"
	"NAME names the witness (e.g. witness.example.com/w1) and the verifier\n"
	"key printed is the one logs and clients configure for it. probity\n"
	"vkey KEYFILE prints the verifier key again.\n",
	NULL, NULL, 1, 1};

/* Writes skey and a newline to a new file `out` (mode 0600, never over an
 * existing file), durably. */
static int
write_key_file(const char *out, char *skey, size_t cap)
{
	size_t n = strlen(skey);
	if (n + 1 >= cap)
		return cli_failf("keygen", "%s: key string too long", out);
	skey[n] = '\n';
	prb_err err;
	if (prb_write_durable(AT_FDCWD, out, skey, n + 1, 0600, PRB_DURABLE_NEW,
	                      &err) != 0)
		return cli_failf("keygen", "%s: %s%s", out, err.msg,
		                 err.code == PRB_EEXIST
		                         ? " (refusing to overwrite a key)"
		                         : "");
	return 0;
}

int
cmd_keygen(int argc, char **argv)
{
	const char *out = NULL, *pos[1];
	int npos, code, witness = 0;
	cli_opt opts[] = {
		{.name = "out", .key = 'o', .arg = "KEYFILE", .value = &out,
		 .help = "the key file to write (required)"},
		{.name = "witness", .flag = &witness,
		 .help = "a witness's cosigner key (cosignature/v1), not a log's"},
		{0}};
	if (cli_parse(&keygen_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!out)
		return cli_usage_error(&keygen_cmd, "-o KEYFILE is required");
	prb_err err;
	prb_signer *s = NULL;
	prb_cosigner *c = NULL;
	char skey[PRB_KEY_MAX], vkey[PRB_KEY_MAX];
	prb_err_clear(&err);
	if (witness ? prb_cosigner_generate(pos[0], &c, &err)
	            : prb_signer_generate(pos[0], &s, &err))
		return cli_fail("keygen", &err);
	int rc = EXIT_FAIL;
	if (witness ? prb_cosigner_skey(c, skey, sizeof skey) ||
	                      prb_cosigner_vkey(c, vkey, sizeof vkey)
	            : prb_signer_skey(s, skey, sizeof skey) ||
	                      prb_signer_vkey(s, vkey, sizeof vkey)) {
		cli_failf("keygen", "%s: key string too long", pos[0]);
		goto done;
	}
	if (write_key_file(out, skey, sizeof skey))
		goto done;
	printf("%s\n", vkey);
	int e = cli_stdout_flush();
	if (e == 0) {
		rc = EXIT_OK;
	} else { /* nobody has its verifier key: the key is of no use */
		int gone = unlink(out) == 0;
		cli_failf("keygen", "stdout: %s; %s %s (its verifier key could "
		          "not be printed)", strerror(e), out,
		          gone ? "removed" : "NOT removed");
	}
done:
	OPENSSL_cleanse(skey, sizeof skey);
	prb_signer_free(s);
	prb_cosigner_free(c);
	return rc;
}

static const cli_cmd init_cmd = {
	"init", "DIR --key KEYFILE [--store s3://BUCKET/PREFIX]",
	"Creates an empty log in DIR (created if missing, or an empty\n"
	"directory) with a checkpoint of size 0 signed by KEYFILE. The log's\n"
	"origin is the key's name. KEYFILE must not be inside DIR.\n"
	"\n"
	"With --store the tiles, entry bundles, blobs and checkpoint live in\n"
	"an S3 bucket under PREFIX, at their c2sp.org/tlog-tiles paths; DIR\n"
	"keeps the store's URL (DIR/store), the index and the lock. The\n"
	"environment gives AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
	"AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL and\n"
	"AWS_S3_FORCE_PATH_STYLE (default: path style for an IP address or\n"
	"localhost endpoint). If PREFIX already holds a log whose checkpoint\n"
	"KEYFILE signed, DIR is attached to it (a second machine's directory\n"
	"for the same log); a log of another key is refused.\n",
	NULL, NULL, 1, 1};

/* init --store: DIR names the store, then the log is created there, or
 * DIR is attached to the log of this key already there. */
static int
init_s3(const char *dir, const char *url, prb_signer *s)
{
	char path[PATH_MAX];
	prb_store *st = NULL;
	prb_log *log = NULL;
	prb_err err;
	prb_err_clear(&err);
	snprintf(path, sizeof path, "%s/%s", dir, PRB_STORE_URL_FILE);
	char line[PRB_STORE_URL_MAX + 1];
	int n = snprintf(line, sizeof line, "%s\n", url);
	if (n < 0 || (size_t)n >= sizeof line)
		return cli_failf("init", "%s: URL too long", url);
	if (prb_write_durable(AT_FDCWD, path, line, (size_t)n, 0644,
	                      PRB_DURABLE_NEW, &err))
		return cli_fail("init", &err);
	int rc = prb_store_open(dir, PRB_SYNC_FILES, &st, &err);
	if (rc == 0)
		rc = prb_log_create(st, s, &err);
	if (rc == PRB_EEXIST && strcmp(err.where, "checkpoint") == 0) {
		prb_err_clear(&err);
		rc = prb_log_open(st, s, 0, &log, &err);
		if (rc == 0)
			printf("attached %s to the log at %s (origin %s, size "
			       "%llu)\n", dir, url, prb_signer_name(s),
			       (unsigned long long)prb_log_size(log));
	}
	prb_log_close(log);
	prb_store_close(st);
	if (rc == 0)
		return cli_stdout_done("init");
	unlink(path);
	if (strncmp(err.where, "s3://", 5) != 0 && strcmp(err.where, url)) {
		char w[sizeof err.where + PRB_STORE_URL_MAX];
		snprintf(w, sizeof w, "%s%s%s", url, err.where[0] ? "/" : "",
		         err.where);
		snprintf(err.where, sizeof err.where, "%.*s",
		         (int)sizeof err.where - 1, w);
	}
	return cli_fail("init", &err);
}

int
cmd_init(int argc, char **argv)
{
	const char *key = NULL, *store = NULL, *pos[1];
	int npos, code;
	cli_opt opts[] = {CLI_OPT_KEY(&key),
	                  {.name = "store", .arg = "s3://BUCKET/PREFIX",
	                   .value = &store,
	                   .help = "keep the log's objects in this bucket "
	                           "under PREFIX (DIR keeps the index and "
	                           "the lock)"},
	                  {0}};
	if (cli_parse(&init_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!key)
		return cli_usage_error(&init_cmd, "--key KEYFILE is required");
	const char *dir = pos[0];
	prb_err err;
	prb_signer *s = NULL;
	prb_store *st = NULL;
	prb_err_clear(&err);
	if (prb_signer_load(key, &s, &err))
		return cli_fail("init", &err);
	int rc = EXIT_FAIL;
	if (mkdir(dir, 0755) == 0 ? prb_fsync_parent(dir) != 0
	                           : errno != EEXIST) {
		cli_failf("init", "%s: %s", dir, strerror(errno));
		goto done;
	}
	/* not over another log's files, nor anything else */
	if (prb_dir_check_empty(dir, &err)) {
		char cp[PATH_MAX];
		snprintf(cp, sizeof cp, "%s/checkpoint", dir);
		if (err.code == PRB_EEXIST && access(cp, F_OK) == 0)
			cli_failf("init", "%s: a log already exists here", dir);
		else
			cli_fail("init", &err);
		goto done;
	}
	if (cli_key_outside("init", key, dir))
		goto done;
	if (store) {
		rc = init_s3(dir, store, s);
		goto done;
	}
	if (prb_store_open_dir(dir, PRB_SYNC_FILES, &st, &err) ||
	    prb_log_create(st, s, &err)) {
		if (err.code == PRB_EEXIST)
			cli_failf("init", "%s: a log already exists here", dir);
		else
			cli_fail("init", &err);
		goto done;
	}
	rc = EXIT_OK;
done:
	prb_store_close(st);
	prb_signer_free(s);
	return rc;
}

static const cli_cmd vkey_cmd = {
	"vkey", "KEYFILE",
	"Prints the verifier key of the signer key (probity keygen) or witness\n"
	"cosigner key (probity keygen --witness) in KEYFILE, as keygen printed\n"
	"it: <name>+<key id>+<base64>.\n",
	NULL, NULL, 1, 1};

int
cmd_vkey(int argc, char **argv)
{
	const char *pos[1];
	int npos, code;
	if (cli_parse(&vkey_cmd, NULL, argc, argv, pos, &npos, &code))
		return code;
	prb_err err, werr;
	prb_signer *s = NULL;
	prb_cosigner *c = NULL;
	char vkey[PRB_KEY_MAX];
	prb_err_clear(&err);
	prb_err_clear(&werr);
	if (prb_signer_load(pos[0], &s, &err) == 0)
		code = prb_signer_vkey(s, vkey, sizeof vkey);
	else if (prb_cosigner_load(pos[0], &c, &werr) == 0)
		code = prb_cosigner_vkey(c, vkey, sizeof vkey);
	else
		return cli_fail("vkey", &err); /* a signer's error says most */
	prb_signer_free(s);
	prb_cosigner_free(c);
	if (code)
		return cli_failf("vkey", "%s: key string too long", pos[0]);
	printf("%s\n", vkey);
	return cli_stdout_done("vkey");
}
