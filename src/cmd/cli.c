/* Argument parsing, error printing and progress for the subcommands. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probity/index.h"
#include "cli.h"

static cli_opt *
find_opt(cli_opt *opts, const char *arg, const char **inline_val)
{
	*inline_val = NULL;
	for (cli_opt *o = opts; o && o->name; o++) {
		size_t n = strlen(o->name);
		if (strncmp(arg, o->name, n) != 0)
			continue;
		if (arg[n] == 0)
			return o;
		if (arg[n] == '=' && o->value) {
			*inline_val = arg + n + 1;
			return o;
		}
	}
	return NULL;
}

int
cli_usage_error(const char *cmd, const char *usage, const char *what)
{
	const char *u = strncmp(usage, "usage: ", 7) == 0 ? usage + 7 : usage;
	int n = (int)strcspn(u, "\n");
	fprintf(stderr, "probity %s: %s (usage: %.*s)\n", cmd, what, n, u);
	return EXIT_USAGE;
}

int
cli_parse(const char *cmd, const char *usage, int argc, char **argv,
          cli_opt *opts, const char **pos, int minpos, int maxpos,
          int *npos, int *exit_code)
{
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("%s", usage);
			*exit_code = EXIT_OK;
			return 1;
		}
		if (a[0] == '-' && a[1] != 0) {
			cli_opt *o = find_opt(opts, a, &v);
			if (!o) {
				fprintf(stderr, "probity %s: unknown option %s (see "
				        "probity %s --help)\n", cmd, a, cmd);
				*exit_code = EXIT_USAGE;
				return 1;
			}
			if (!o->value) {
				*o->flag = 1;
				continue;
			}
			if (!v && i + 1 >= argc) {
				fprintf(stderr, "probity %s: %s needs a value\n", cmd,
				        o->name);
				*exit_code = EXIT_USAGE;
				return 1;
			}
			*o->value = v ? v : argv[++i];
			continue;
		}
		if (*npos == maxpos) {
			fprintf(stderr, "probity %s: unexpected argument %s (see "
			        "probity %s --help)\n", cmd, a, cmd);
			*exit_code = EXIT_USAGE;
			return 1;
		}
		pos[(*npos)++] = a;
	}
	if (*npos < minpos) {
		cli_usage_error(cmd, usage, "missing arguments");
		*exit_code = EXIT_USAGE;
		return 1;
	}
	return 0;
}

int
cli_fail(const char *cmd, const prb_err *err)
{
	if (err->where[0])
		fprintf(stderr, "probity %s: %s: %s\n", cmd, err->where, err->msg);
	else
		fprintf(stderr, "probity %s: %s\n", cmd,
		        err->msg[0] ? err->msg : prb_strerror(err->code));
	return EXIT_FAIL;
}

int
cli_failf(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "probity %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

void
cli_acks_on_stdout(void)
{
	signal(SIGPIPE, SIG_IGN);
}

int
cli_stdout_flush(void)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	int e = errno ? errno : EIO;
	clearerr(stdout);
	return e;
}

int
cli_stdout_done(const char *cmd)
{
	int e = cli_stdout_flush();
	return e ? cli_failf(cmd, "stdout: %s", strerror(e)) : EXIT_OK;
}

int
cli_u64(const char *cmd, const char *what, const char *s,
        unsigned long long *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (*end == 0 && errno == 0)
		return 0;
bad:
	fprintf(stderr, "probity %s: %s must be a non-negative integer, not "
	        "\"%s\"\n", cmd, what, s);
	return -1;
}

int
cli_key_outside(const char *cmd, const char *keyfile, const char *dir)
{
	char k[PATH_MAX], d[PATH_MAX];
	if (!realpath(keyfile, k) || !realpath(dir, d))
		return 0; /* missing files are reported by their own checks */
	size_t n = strlen(d);
	if (strncmp(k, d, n) == 0 && k[n] == '/') {
		cli_failf(cmd, "%s: the key file is inside the log directory %s, "
		          "which is published; keep secrets elsewhere", keyfile,
		          dir);
		return -1;
	}
	return 0;
}

int
cli_sync_mode(const char *cmd, const char *arg, int *mode)
{
	if (!arg || strcmp(arg, "files") == 0)
		*mode = PRB_SYNC_FILES; /* the default: DESIGN.md invariant 6 */
	else if (strcmp(arg, "fs") == 0)
		*mode = PRB_SYNC_FS; /* checked against the filesystem at open */
	else {
		cli_failf(cmd, "--sync must be \"files\" or \"fs\", not \"%s\"",
		          arg);
		return -1;
	}
	return 0;
}

void
cli_prefix_where(prb_err *err, const char *dir)
{
	prb_err_prefix(err, dir);
}

int
cli_open_log(const char *cmd, const char *dir, int sync_mode,
             prb_signer *signer, int lock_wait_ms, prb_store **st,
             prb_log **log)
{
	prb_err err;
	prb_err_clear(&err);
	*st = NULL;
	*log = NULL;
	if (prb_store_open(dir, sync_mode, st, &err) ||
	    prb_log_open(*st, signer, lock_wait_ms, log, &err)) {
		if (strcmp(err.where, dir) != 0)
			cli_prefix_where(&err, dir);
		prb_store_close(*st);
		*st = NULL;
		return cli_fail(cmd, &err);
	}
	return 0;
}

int
cli_open_objects(const char *cmd, const char *dir, prb_store **st)
{
	char url[PRB_STORE_URL_MAX];
	prb_err err;
	prb_err_clear(&err);
	*st = NULL;
	if (prb_store_url(dir, url, &err) == 0 &&
	    (!url[0] || prb_store_open(dir, PRB_SYNC_FILES, st, &err) == 0))
		return 0;
	return cli_fail(cmd, &err) ? -1 : 0;
}

int
cli_open_writer(const char *cmd, const prb_writer_cfg *cfg, prb_writer **w)
{
	prb_err err;
	prb_err_clear(&err);
	if (prb_writer_open(cfg, w, &err)) {
		if (strcmp(err.where, cfg->dir) != 0)
			cli_prefix_where(&err, cfg->dir);
		return cli_fail(cmd, &err);
	}
	return 0;
}

void
cli_progress_init(cli_progress *p, const char *unit)
{
	p->on = isatty(STDERR_FILENO);
	p->start = prb_now_mono();
	p->last = p->start - 1; /* the first update draws at once */
	p->unit = unit;
	p->of_unit = NULL;
}

void
cli_progress_update(cli_progress *p, unsigned long long done,
                    unsigned long long total, unsigned long long items)
{
	if (!p->on)
		return;
	double t = prb_now_mono();
	if (t - p->last < 0.2)
		return;
	p->last = t;
	double rate = (double)items / (t - p->start > 1e-9 ? t - p->start : 1e-9);
	char bar[33] = "";
	if (total) {
		int pct = (int)(100.0 * (double)done / (double)total);
		pct = pct > 100 ? 100 : pct;
		bar[0] = '[';
		for (int i = 0; i < 30; i++)
			bar[1 + i] = i < pct * 30 / 100 ? '#' : '.';
		bar[31] = ']';
		bar[32] = 0;
		fprintf(stderr, "\r\033[K%s %3d%%  ", bar, pct);
		if (p->of_unit)
			fprintf(stderr, "%llu/%llu %s  ", done, total, p->of_unit);
		fprintf(stderr, "%llu %s  %.0f %s/s", items, p->unit, rate,
		        p->unit);
	} else {
		fprintf(stderr, "\r\033[K%llu %s  %.0f %s/s", items, p->unit, rate,
		        p->unit);
	}
	fflush(stderr);
}

void
cli_progress_fn(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress_update(ctx, done, total, done);
}

void
cli_progress_done(cli_progress *p)
{
	if (p->on && p->last > p->start) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

int
cli_open_index(const char *cmd, const char *dir, prb_index **ix)
{
	char path[PATH_MAX];
	prb_err err;
	prb_err_clear(&err);
	snprintf(path, sizeof path, "%s/%s", dir, PRB_INDEX_FILE);
	if (prb_index_open(path, ix, &err) != 0) {
		size_t n = strlen(err.msg);
		snprintf(err.msg + n, sizeof err.msg - n,
		         " (the index is derived data: probity reindex %s "
		         "rebuilds it from the log)", dir);
		return cli_fail(cmd, &err);
	}
	return 0;
}

int
cli_take_repeated(const char *cmd, const char *name, int *argc, char **argv,
                  const char **vals, int max, int *nvals)
{
	int o = 1;
	size_t nl = strlen(name);
	*nvals = 0;
	for (int i = 1; i < *argc; i++) {
		const char *v = NULL;
		if (strcmp(argv[i], name) == 0) {
			if (i + 1 >= *argc)
				return cli_failf(cmd, "%s needs a value", name);
			v = argv[++i];
		} else if (strncmp(argv[i], name, nl) == 0 &&
		           argv[i][nl] == '=') {
			v = argv[i] + nl + 1;
		} else {
			argv[o++] = argv[i];
			continue;
		}
		if (*nvals == max)
			return cli_failf(cmd, "%s given more than %d times", name,
			                 max);
		vals[(*nvals)++] = v;
	}
	*argc = o;
	return 0;
}

int
cli_witnesses(const char *cmd, const char **args, int n,
              prb_cosign_witness *ws)
{
	for (int i = 0; i < n; i++) {
		prb_err err;
		prb_err_clear(&err);
		if (prb_cosign_witness_parse(args[i], &ws[i], &err)) {
			cli_failf(cmd, "--witness %s: %s", args[i], err.msg);
			return 1;
		}
		if (ws[i].vkey.type != PRB_SIG_COSIGV1) {
			cli_failf(cmd, "--witness %s: not a cosignature/v1 "
			          "verifier key (probity keygen --witness makes "
			          "one)", args[i]);
			return 1;
		}
	}
	return 0;
}
