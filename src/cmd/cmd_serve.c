/* probity serve: the log over HTTP (see include/probity/serve.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/http.h"
#include "probity/serve.h"
#include "cli.h"
#include "daemon.h"

static const cli_cmd serve_cmd = {
	"serve", "DIR --key KEYFILE --listen ADDR:PORT [OPTION]...",
	"Serves the log in DIR over HTTP until SIGINT or SIGTERM. Prints\n"
	"\"listening on URL\" once it accepts connections (PORT 0 picks a free\n"
	"port). SIGHUP reads --tokens and the TLS certificate and key again,\n"
	"on the same socket; if that fails, the old ones stay (said on stderr).\n"
	"\n"
	"  POST /add             one entry per body line; the answer (200) comes\n"
	"                        once the entries are durable: one line per\n"
	"                        entry, its leaf index. Concurrent requests\n"
	"                        share batches. 400 bad input (the reason in the\n"
	"                        body), 413 body too large, 503 + Retry-After\n"
	"                        queue full, 500 not committed.\n"
	"  POST /add?format=F    cloud audit records as for probity ingest (F:\n"
	"                        auto, cloudtrail, azure-activity, gcp-audit,\n"
	"                        k8s-audit), indexed in DIR/index.sqlite; a line\n"
	"                        per record: its leaf index, followed by\n"
	"                        \" duplicate\" or \" conflict\" when the event\n"
	"                        id was already at that leaf (same or other\n"
	"                        content; nothing is added for either).\n"
	"  GET /checkpoint       the latest checkpoint (public)\n"
	"  GET /tile/...         tiles and entry bundles (c2sp.org/tlog-tiles)\n"
	"  GET /metrics          Prometheus text format\n"
	"  GET /healthz          \"ok\"\n",
	NULL, NULL, 1, 1};

static int
opt_size(const char *what, const char *arg, unsigned long long max,
         unsigned long long *out)
{
	if (!arg)
		return 0;
	if (cli_u64("serve", what, arg, out))
		return -1;
	if (*out == 0 || *out > max) {
		cli_failf("serve", "%s must be 1 to %llu", what, max);
		return -1;
	}
	return 0;
}

/* SIGHUP: --tokens and the TLS files read again. */
static int
serve_reload(void *srv, prb_err *err)
{
	return prb_serve_reload(srv, err);
}

int
cmd_serve(int argc, char **argv)
{
	const char *key = NULL, *listen = NULL, *tokens = NULL, *cert = NULL,
		   *tlskey = NULL, *sync = NULL, *wait = NULL, *body = NULL,
		   *queue = NULL, *batch = NULL, *redirect = NULL;
	cli_httpd_args la = {0};
	cli_httpd_limits lim;
	int pub = 0, npos, code, mode;
	const char *pos[1], *wargs[PRB_COSIGN_MAX], *quorum = NULL,
		   *wtimeout = NULL;
	int nw = 0;
	cli_opt opts[] = {
		CLI_OPT_KEY(&key),
		CLI_OPT_LISTEN(&listen),
		{.name = "tokens", .arg = "FILE", .value = &tokens,
		 .help = "the credentials accepted, one per line: \"read "
		         "TOKEN\", \"append TOKEN\" or \"read,append TOKEN\" "
		         "(Authorization: Bearer TOKEN); without it nobody may "
		         "append. Mode 0600, outside DIR"},
		{.name = "public", .flag = &pub,
		 .help = "tiles, bundles and metrics need no credential "
		         "(default: a read credential)"},
		CLI_OPT_TLS(&cert, &tlskey),
		{.name = "max-body", .arg = "BYTES", .value = &body,
		 .help = "largest POST body (default 8388608)"},
		{.name = "queue", .arg = "ENTRIES", .value = &queue,
		 .help = "entries waiting at most before 503 (default 65536)"},
		{.name = "batch", .arg = "ENTRIES", .value = &batch,
		 .help = "entries per batch at most (default 65536)"},
		CLI_OPT_HTTPD_LIMITS(la),
		CLI_OPT_WITNESS(wargs, &nw, &quorum, &wtimeout,
		                "each new checkpoint is sent to it with a "
		                "consistency proof, and GET /checkpoint serves "
		                "only checkpoints cosigned by enough witnesses "
		                "(503 before the first); they are also written, "
		                "cosignatures included, to DIR/checkpoint"),
		CLI_OPT_SYNC(&sync),
		CLI_OPT_LOCK_TIMEOUT(&wait),
		{.name = "redirect", .arg = "URL", .value = &redirect,
		 .help = "answer GETs of tiles and bundles with a 302 to "
		         "URL/PATH (e.g. the public URL of the bucket of a log "
		         "made with init --store); without it they are read "
		         "from DIR or its store"},
		{0}};
	if (cli_parse(&serve_cmd, opts, argc, argv, pos, &npos, &code))
		return code;
	if (!key)
		return cli_usage_error(&serve_cmd,
		                       "--key KEYFILE is required");
	if (!listen)
		return cli_usage_error(&serve_cmd,
		                       "--listen ADDR:PORT is required");
	unsigned long long wait_s = 30, max_body = 0, nq = 0, nb = 0,
			   nquorum = 0, wt_s = 5;
	if (cli_sync_mode("serve", sync, &mode) ||
	    (wait && cli_u64("serve", "--lock-timeout", wait, &wait_s)) ||
	    opt_size("--max-body", body, 1ull << 30, &max_body) ||
	    opt_size("--queue", queue, 1ull << 24, &nq) ||
	    opt_size("--batch", batch, 1ull << 24, &nb) ||
	    cli_httpd_limits_parse("serve", &la, &lim) ||
	    opt_size("--witnesses", quorum, nw ? (unsigned)nw : 1, &nquorum) ||
	    opt_size("--witness-timeout", wtimeout, 3600, &wt_s))
		return EXIT_USAGE;
	if (quorum && !nw)
		return cli_usage_error(&serve_cmd,
		                       "--witnesses needs --witness");
	prb_cosign_witness ws[PRB_COSIGN_MAX];
	if (cli_witnesses("serve", wargs, nw, ws))
		return EXIT_USAGE;
	if (!cert != !tlskey)
		return cli_usage_error(&serve_cmd,
		                       "--tls-cert and --tls-key go together");
	prb_err err;
	prb_signer *signer = NULL;
	prb_cosign *cosign = NULL;
	prb_writer *w = NULL;
	prb_server *srv = NULL;
	prb_store *objects = NULL;
	prb_err_clear(&err);
	prb_httpd_block_signals();
	if (prb_signer_load(key, &signer, &err))
		return cli_fail("serve", &err);
	int rc = EXIT_FAIL;
	size_t need = nquorum ? (size_t)nquorum : (size_t)nw;
	if (nw && prb_cosign_new(ws, (size_t)nw, need, (long)wt_s * 1000,
	                         &cosign, &err)) {
		cli_fail("serve", &err);
		goto done;
	}
	prb_writer_cfg wcfg = {.dir = pos[0], .sync_mode = mode,
	                       .signer = signer,
	                       .lock_wait_ms = (int)(wait_s * 1000),
	                       .cosign = cosign};
	if (cli_key_outside("serve", key, pos[0]) ||
	    (tokens && cli_key_outside("serve", tokens, pos[0])) ||
	    cli_open_writer("serve", &wcfg, &w) ||
	    cli_open_objects("serve", pos[0], &objects))
		goto done;
	prb_serve_cfg cfg = {
		.dir = pos[0],
		.writer = w,
		.signer = signer,
		.listen = listen,
		.tls_cert = cert,
		.tls_key = tlskey,
		.tokens = tokens,
		.public_read = pub,
		.max_body = (size_t)max_body,
		.queue_entries = (size_t)nq,
		.batch_entries = (size_t)nb,
		.conn_limit = lim.conn_limit,
		.timeout_s = lim.timeout_s,
		.per_client = lim.per_client,
		.head_s = lim.head_s,
		.body_s = lim.body_s,
		.cosign = cosign,
		.quorum = need,
		.objects = objects,
		.redirect = redirect,
	};
	w = NULL; /* the server owns it now, also on failure */
	if (prb_serve_start(&cfg, &srv, &err)) {
		cli_fail("serve", &err);
		goto done;
	}
	printf("listening on %s\n", prb_serve_url(srv));
	fflush(stdout);
	cli_daemon_run("serve", prb_serve_url(srv), serve_reload, srv);
	prb_serve_stop(srv);
	rc = EXIT_OK;
done:
	prb_writer_close(w);
	prb_store_close(objects);
	prb_cosign_free(cosign);
	prb_signer_free(signer);
	return rc;
}
