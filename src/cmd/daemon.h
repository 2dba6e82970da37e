/* The life of serve and witness once listening: systemd's readiness
 * protocol and the signals (daemon.c). */
#ifndef PROBITY_CMD_DAEMON_H
#define PROBITY_CMD_DAEMON_H

#include "probity/error.h"

/* Reads the configuration again; on failure leaves it as it was and
 * says why in err. */
typedef int (*cli_reload_fn)(void *ctx, prb_err *err);

/* Runs a server that listens at url until SIGINT or SIGTERM (signals
 * blocked by prb_httpd_block_signals): tells the service manager it is
 * ready (sd_notify READY=1, when NOTIFY_SOCKET is set), and on SIGHUP
 * calls reload, between RELOADING=1 and READY=1, saying on stderr whether
 * it took. Sends STOPPING=1 before returning the stopping signal. */
int cli_daemon_run(const char *cmd, const char *url, cli_reload_fn reload,
                   void *ctx);

#endif
