/* serve and witness under a service manager: see daemon.h. The
 * notifications are libsystemd's sd_notify, a no-op without
 * NOTIFY_SOCKET. */
#include <signal.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "probity/http.h"
#include "daemon.h"

int
cli_daemon_run(const char *cmd, const char *url, cli_reload_fn reload,
               void *ctx)
{
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s", url);
	for (;;) {
		int sig = prb_httpd_wait_signal();
		if (sig != SIGHUP) {
			sd_notify(0, "STOPPING=1");
			fprintf(stderr, "probity %s: signal %d: stopping\n", cmd,
			        sig);
			return sig;
		}
		sd_notify(0, "RELOADING=1");
		prb_err err;
		prb_err_clear(&err);
		if (reload(ctx, &err))
			fprintf(stderr, "probity %s: reload (SIGHUP) failed, going "
			        "on as before: %s%s%s\n", cmd, err.where,
			        err.where[0] ? ": " : "",
			        err.msg[0] ? err.msg : prb_strerror(err.code));
		else
			fprintf(stderr, "probity %s: reloaded (SIGHUP)\n", cmd);
		sd_notifyf(0, "READY=1\nSTATUS=listening on %s", url);
	}
}
