/* probity witness: a c2sp.org/tlog-witness server over libprobity's
 * witness (src/net/witness.c has the protocol's rules and statuses). */
#include <stdlib.h>
#include <string.h>

#include "probity/http.h"
#include "probity/witness.h"
#include "cli.h"
#include "daemon.h"

#define MAX_LOGS 256

static const cli_cmd witness_cmd = {
	"witness", "--listen ADDR:PORT --key KEYFILE --log ORIGIN=VKEY...",
	"Runs a c2sp.org/tlog-witness witness: POST /add-checkpoint takes\n"
	"\"old <size>\", a consistency proof and a signed checkpoint, and\n"
	"answers with a c2sp.org/tlog-cosignature cosignature/v1 line signed\n"
	"by KEYFILE (a key from `probity keygen NAME -o KEYFILE --witness`).\n"
	"GET /<hex SHA-256 of origin>/checkpoint serves the latest cosigned\n"
	"checkpoint of a log. Prints \"listening on URL\" once ready.\n",
	"SIGINT or SIGTERM stops the witness (exit 0). SIGHUP reads the TLS\n"
	"certificate and key again, on the same socket; if that fails, the old\n"
	"ones stay (said on stderr).\n",
	NULL, 0, 0};

typedef struct {
	prb_witness *w;
} server;

static enum MHD_Result
send_resp(struct MHD_Connection *c, prb_witness_resp *r)
{
	if (r->status == 422 || r->status >= 500)
		fprintf(stderr, "probity witness: %u: %.*s", r->status,
		        (int)(r->len > 300 ? 300 : r->len),
		        r->body ? r->body : "");
	enum MHD_Result ret = prb_httpd_reply(c, r->status, r->content_type,
	                                      "no-store", r->body, r->len);
	prb_witness_resp_free(r);
	return ret;
}

/* "/<64 lowercase hex>/checkpoint": copies the hex into hex. */
static int
monitor_path(const char *url, char hex[65])
{
	if (url[0] != '/' || strlen(url) != 1 + 64 + strlen("/checkpoint") ||
	    strcmp(url + 65, "/checkpoint") != 0)
		return 0;
	for (int i = 0; i < 64; i++) {
		char ch = url[1 + i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return 0;
	}
	memcpy(hex, url + 1, 64);
	hex[64] = 0;
	return 1;
}

/* The first call for a request (headers read, no body yet). */
static enum MHD_Result
first_call(server *s, struct MHD_Connection *c, const char *url,
           const char *method, void **con_cls)
{
	char hex[65];
	if (monitor_path(url, hex)) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return prb_httpd_replyf_header(
				c, 405, MHD_HTTP_HEADER_ALLOW, "GET, HEAD",
				"method not allowed");
		prb_witness_resp r;
		prb_witness_checkpoint(s->w, hex, &r);
		return send_resp(c, &r);
	}
	if (strcmp(url, "/add-checkpoint") != 0)
		return prb_httpd_replyf(c, 404, "not found");
	if (strcmp(method, "POST") != 0)
		return prb_httpd_replyf_header(c, 405, MHD_HTTP_HEADER_ALLOW,
		                               "POST", "method not allowed");
	if (prb_httpd_declares_over(c, PRB_WITNESS_MAX_BODY))
		return prb_httpd_replyf(c, 413, "request body over %u bytes",
		                        (unsigned)PRB_WITNESS_MAX_BODY);
	prb_httpd_body *b = calloc(1, sizeof *b); /* the POST body */
	if (!b)
		return MHD_NO;
	b->max = PRB_WITNESS_MAX_BODY;
	*con_cls = b;
	return MHD_YES;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
       const char *method, const char *version, const char *upload_data,
       size_t *upload_size, void **con_cls)
{
	server *s = cls;
	prb_httpd_body *b = *con_cls;
	(void)version;
	if (!b)
		return first_call(s, c, url, method, con_cls);
	if (*upload_size > 0) {
		prb_httpd_body_add(b, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (b->too_big)
		return prb_httpd_replyf(c, 413, "request body over %u bytes",
		                        (unsigned)PRB_WITNESS_MAX_BODY);
	if (b->oom)
		return prb_httpd_replyf(c, 500, "out of memory");
	prb_witness_resp r;
	prb_witness_add(s->w, b->buf ? b->buf : (const uint8_t *)"", b->len, 0,
	                &r);
	return send_resp(c, &r);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
          enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	prb_httpd_body *b = *con_cls;
	if (b) {
		prb_httpd_body_free(b);
		free(b);
		*con_cls = NULL;
	}
}

/* Parses the --log values into logs[]. */
static int
parse_logs(const char **vals, int n, prb_witness_log *logs, char **origins)
{
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(vals[i], '=');
		if (!eq || eq == vals[i] || !eq[1])
			return cli_usage_error(&witness_cmd,
			                       "--log takes ORIGIN=VKEY");
		size_t ol = (size_t)(eq - vals[i]);
		if (!(origins[i] = malloc(ol + 1)))
			return cli_failf("witness", "out of memory");
		memcpy(origins[i], vals[i], ol);
		origins[i][ol] = 0;
		logs[i].origin = origins[i];
		prb_err err;
		prb_err_clear(&err);
		if (prb_verifier_load(eq + 1, &logs[i].key, &err)) {
			if (!err.where[0])
				snprintf(err.where, sizeof err.where,
				         "--log %s", origins[i]);
			return cli_fail("witness", &err);
		}
	}
	return 0;
}

/* SIGHUP: the TLS files read again. */
static int
witness_reload(void *d, prb_err *err)
{
	return prb_httpd_reload(d, err);
}

int
cmd_witness(int argc, char **argv)
{
	const char *listen = NULL, *key = NULL, *state = "witness.sqlite";
	const char *cert = NULL, *tkey = NULL, *logv[MAX_LOGS], *pos[1];
	int npos, code, nlogs = 0, rc = EXIT_FAIL;
	cli_httpd_args la = {0};
	cli_httpd_limits lim;
	cli_opt opts[] = {
		CLI_OPT_LISTEN(&listen),
		{.name = "key", .key = 'k', .arg = "KEYFILE", .value = &key,
		 .help = "the witness's cosigner key file (required)"},
		{.name = "log", .arg = "ORIGIN=VKEY", .list = logv,
		 .max = MAX_LOGS, .n = &nlogs,
		 .help = "a log to witness (at least one): its checkpoint "
		         "origin line and a verifier key (or a file holding "
		         "one) trusted to sign it; repeat for more logs, or for "
		         "more keys of one origin. ORIGIN may not contain '='. "
		         "The key's name need not equal the origin"},
		{.name = "state-file", .arg = "FILE", .value = &state,
		 .help = "SQLite database of the latest cosigned size and root "
		         "per origin (default: witness.sqlite in the current "
		         "directory; created if missing)"},
		{.name = "state", .arg = "FILE", .value = &state,
		 .help = "the old spelling of --state-file"},
		CLI_OPT_TLS(&cert, &tkey),
		CLI_OPT_HTTPD_LIMITS(la),
		{0}};
	if (cli_parse(&witness_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!listen || !key || nlogs == 0)
		return cli_usage_error(&witness_cmd,
		                       "--listen, --key and at least one --log "
		                       "are required");
	if (!cert != !tkey)
		return cli_usage_error(&witness_cmd,
		                       "--tls-cert and --tls-key go together");
	if (cli_httpd_limits_parse("witness", &la, &lim))
		return EXIT_USAGE;
	prb_witness_log logs[MAX_LOGS];
	char *origins[MAX_LOGS] = {0};
	prb_cosigner *ck = NULL;
	prb_witness *w = NULL;
	prb_httpd *d = NULL;
	prb_err err;
	prb_err_clear(&err);
	prb_httpd_block_signals();
	if ((code = parse_logs(logv, nlogs, logs, origins)) != 0) {
		rc = code;
		goto done;
	}
	if (prb_cosigner_load(key, &ck, &err) ||
	    prb_witness_open(state, ck, logs, (size_t)nlogs, &w, &err)) {
		cli_fail("witness", &err);
		goto done;
	}
	server s = {w};
	prb_httpd_cfg cfg = {0};
	cfg.listen = listen;
	cfg.tls_cert = cert;
	cfg.tls_key = tkey;
	cfg.handler = handle;
	cfg.handler_ctx = &s;
	cfg.completed = completed;
	cfg.conn_limit = lim.conn_limit;
	cfg.per_client = lim.per_client;
	cfg.timeout_s = lim.timeout_s;
	cfg.head_s = lim.head_s;
	cfg.body_s = lim.body_s;
	if (prb_httpd_start(&cfg, &d, &err)) {
		cli_fail("witness", &err);
		goto done;
	}
	printf("listening on %s\n", prb_httpd_url(d));
	if (cli_stdout_done("witness") != EXIT_OK)
		goto done;
	cli_daemon_run("witness", prb_httpd_url(d), witness_reload, d);
	rc = EXIT_OK;
done:
	prb_httpd_stop(d);
	prb_witness_close(w);
	prb_cosigner_free(ck);
	for (int i = 0; i < nlogs; i++)
		free(origins[i]);
	return rc;
}
