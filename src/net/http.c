/* HTTP server helpers over GNU libmicrohttpd: see include/probity/http.h. */
#include "probity/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

/* Where a connection is in its current request (rules 2-3 of http.h). */
enum conn_phase {
	PH_HEAD,   /* waiting for a request head: head deadline */
	PH_BODY,   /* head read, body not yet complete: body deadline */
	PH_ANSWER, /* a response is being made or sent: no deadline */
};

/* One connection, tracked by the watchdog (the socket context). */
typedef struct hconn {
	struct hconn *prev, *next;
	int fd;               /* a dup of the socket: shutdown() through it
	                         never hits a reused descriptor */
	enum conn_phase phase;
	double since;         /* when the phase began (prb_now_mono) */
	int expired;          /* the watchdog shut it down */
	int reused;           /* a request was answered on it before */
} hconn;

/* One request (the con_cls libmicrohttpd keeps for us). */
typedef struct {
	void *inner;          /* the handler's own con_cls */
	int bad_target;       /* rule 5 failed: answered 400 */
	uintptr_t target_end; /* where the raw target's C string ends */
	int started;          /* the handler has been called */
} hreq;

/* A daemon a reload replaced (prb_httpd_reload): quiesced, finishing the
 * connections it has. */
typedef struct hretired {
	struct MHD_Daemon *d;
	char *cert, *key;     /* what it was started with */
	int fd;               /* its descriptor of the listening socket */
	struct hretired *next;
} hretired;

struct prb_httpd {
	struct MHD_Daemon *d;
	char *cert, *key;
	char url[96];
	prb_httpd_cfg cfg;   /* as started: prb_httpd_reload starts it again */
	unsigned flags;
	int quiesced_fd;     /* the listening socket once quiesced, else -1 */
	hretired *retired;   /* daemons reloads replaced, newest first */
	unsigned head_s, body_s; /* cfg's deadlines, defaults applied */
	pthread_mutex_t mu;   /* guards conns and each hconn */
	pthread_cond_t wake;
	hconn *conns;         /* of every daemon, retired ones too */
	int stopping, watching;
	pthread_t watchdog;
	pthread_mutex_t log_mu; /* log_mhd's rate limit: */
	double log_start;       /* the current window's start */
	unsigned log_n, log_dropped; /* lines shown, not shown in it */
};

/* The address HOST resolves to, IPv4 first (as Go's net.Listen): one
 * daemon binds one address. 0, or a PRB_EINVAL saying why not. */
static int
resolve_listen(const char *arg, const char *host, unsigned long port,
               struct sockaddr_storage *ss, socklen_t *len, prb_err *err)
{
	struct addrinfo hints, *res, *ai, *pick = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int e = getaddrinfo(host, NULL, &hints, &res);
	if (e != 0)
		return prb_err_set(err, PRB_EINVAL, arg, UINT64_MAX,
		                   "host %s: %s", host, gai_strerror(e));
	for (ai = res; ai; ai = ai->ai_next)
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    (!pick || (pick->ai_family == AF_INET6 &&
		               ai->ai_family == AF_INET)))
			pick = ai;
	if (pick) {
		memcpy(ss, pick->ai_addr, pick->ai_addrlen);
		*len = pick->ai_addrlen;
		if (pick->ai_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port =
				htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port =
				htons((uint16_t)port);
	}
	freeaddrinfo(res);
	return pick ? 0 : prb_err_set(err, PRB_EINVAL, arg, UINT64_MAX,
	                              "host %s has no IPv4 or IPv6 address",
	                              host);
}

int
prb_httpd_parse_listen(const char *arg, struct sockaddr_storage *ss,
                       socklen_t *len, prb_err *err)
{
	char host[256];
	const char *colon, *h = arg;
	size_t hl;
	memset(ss, 0, sizeof *ss);
	if (arg[0] == '[') {
		const char *rb = strchr(arg, ']');
		if (!rb || rb[1] != ':')
			goto bad;
		h = arg + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - arg);
	}
	if ((hl == 0 && h != arg) || hl >= sizeof host)
		goto bad;
	memcpy(host, h, hl);
	host[hl] = 0;
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535 || colon[1] == '-' ||
	    colon[1] == '+')
		goto bad;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (hl == 0 || inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		/* ":PORT" is every IPv4 interface, as nginx's "listen PORT" */
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
		return 0;
	}
	if (h == arg) /* a host name; "[...]" holds IPv6 addresses only */
		return resolve_listen(arg, host, port, ss, len, err);
bad:
	return prb_err_set(err, PRB_EINVAL, arg, UINT64_MAX,
	                   "not ADDR:PORT (IPv4:PORT, [IPv6]:PORT, HOST:PORT "
	                   "or :PORT; PORT 0-65535)");
}

/* A PEM file as a NUL-terminated string (prb_read_file adds the NUL). */
static char *
read_pem(const char *path, prb_err *err)
{
	uint8_t *data;
	size_t len;
	if (prb_read_file(path, 1 << 20, &data, &len, err))
		return NULL;
	return (char *)data;
}

/* libmicrohttpd's messages, one whole line each, at most LOG_BURST per
 * LOG_WINDOW seconds: a flood must not flood the operator's log too. */
#define LOG_BURST 20
#define LOG_WINDOW 10.0

static void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	prb_httpd *d = cls;
	char msg[512];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n > 0 && (size_t)n < sizeof msg && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	double now = prb_now_mono();
	unsigned dropped = 0;
	pthread_mutex_lock(&d->log_mu);
	if (now - d->log_start >= LOG_WINDOW) {
		dropped = d->log_dropped;
		d->log_start = now;
		d->log_n = d->log_dropped = 0;
	}
	int show = d->log_n < LOG_BURST;
	if (show)
		d->log_n++;
	else
		d->log_dropped++;
	pthread_mutex_unlock(&d->log_mu);
	if (dropped)
		fprintf(stderr, "probity httpd: %u more messages not shown\n",
		        dropped);
	if (show)
		fprintf(stderr, "probity httpd: %s\n", msg);
}

/* ---- rule 5: the request target as received ---- */

static int
path_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	       ch == '-' || ch == '/';
}

int
prb_httpd_target_ok(const char *t, size_t len, const char *query_path)
{
	if (len == 0 || t[0] != '/')
		return 0;
	size_t i = 1;
	while (i < len && path_byte((unsigned char)t[i]))
		i++;
	if (i < len && t[i] == '?' && query_path &&
	    strlen(query_path) == i && memcmp(t, query_path, i) == 0)
		for (i++; i < len; i++) {
			unsigned char ch = (unsigned char)t[i];
			if (!(path_byte(ch) && ch != '/') && ch != '~' &&
			    ch != '=' && ch != '&' && ch != ',')
				break;
		}
	return i == len;
}

/* ---- rules 2-3: the watchdog ---- */

/* Content-Length: the 33 bytes of the last line */
static const char timeout_408[] = "HTTP/1.1 408 Request Timeout\r\n"
                                  "Connection: close\r\n"
                                  "Content-Type: text/plain\r\n"
                                  "Content-Length: 33\r\n\r\n"
                                  "the request head came too slowly\n";

/* Enters phase ph for connection c (from the handler's threads). Returns
 * -1 if the watchdog already shut c down. */
static int
conn_phase(prb_httpd *d, struct MHD_Connection *c, enum conn_phase ph)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	hconn *h = i ? (hconn *)i->socket_context : NULL;
	int rc = 0;
	if (!h)
		return 0;
	pthread_mutex_lock(&d->mu);
	if (h->expired)
		rc = -1;
	else if (h->phase != ph) {
		h->reused |= ph == PH_HEAD; /* only a finished request goes
		                               back to PH_HEAD */
		h->phase = ph;
		h->since = prb_now_mono();
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

/* MHD_OPTION_NOTIFY_CONNECTION: tracks each connection from accept to
 * close. A connection that cannot be tracked is shut down at once. */
static void
notify_conn(void *cls, struct MHD_Connection *c, void **ctx,
            enum MHD_ConnectionNotificationCode code)
{
	prb_httpd *d = cls;
	hconn *h = *ctx;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *i = MHD_get_connection_info(
			c, MHD_CONNECTION_INFO_CONNECTION_FD);
		h = calloc(1, sizeof *h);
		if (!h || !i || (h->fd = fcntl(i->connect_fd, F_DUPFD_CLOEXEC,
		                               0)) < 0) {
			if (i)
				shutdown(i->connect_fd, SHUT_RDWR);
			free(h);
			return;
		}
		h->phase = PH_HEAD;
		h->since = prb_now_mono();
		pthread_mutex_lock(&d->mu);
		h->next = d->conns;
		if (d->conns)
			d->conns->prev = h;
		d->conns = h;
		pthread_mutex_unlock(&d->mu);
		*ctx = h;
		return;
	}
	if (!h)
		return;
	pthread_mutex_lock(&d->mu);
	if (h->prev)
		h->prev->next = h->next;
	else
		d->conns = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&d->mu);
	close(h->fd);
	free(h);
	*ctx = NULL;
}

/* Shuts down every connection past its deadline. Called with mu held. */
static void
expire(prb_httpd *d, double now)
{
	for (hconn *h = d->conns; h; h = h->next) {
		if (h->expired || h->phase == PH_ANSWER)
			continue;
		double limit = h->phase == PH_HEAD ? d->head_s : d->body_s;
		if (now - h->since < limit)
			continue;
		h->expired = 1;
		/* 408 only where nothing else is being sent, and not on a
		 * kept-alive connection, where a client could read it as the
		 * answer to the request it sends next */
		if (h->phase == PH_HEAD && !h->reused && !d->cfg.tls_cert)
			(void)!send(h->fd, timeout_408, sizeof timeout_408 - 1,
			            MSG_NOSIGNAL | MSG_DONTWAIT);
		shutdown(h->fd, SHUT_RDWR);
	}
}

static void *
watchdog(void *arg)
{
	prb_httpd *d = arg;
	pthread_mutex_lock(&d->mu);
	while (!d->stopping) {
		expire(d, prb_now_mono());
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000; /* deadlines kept to 1/4 s */
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&d->wake, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* ---- the handler's wrappers ---- */

/* MHD_OPTION_URI_LOG_CALLBACK: the raw target, before unescaping. */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	prb_httpd *d = cls;
	(void)c;
	hreq *r = calloc(1, sizeof *r);
	size_t len = strlen(uri);
	if (r) {
		r->bad_target = !prb_httpd_target_ok(uri, len,
		                                     d->cfg.query_path);
		r->target_end = (uintptr_t)(uri + len);
	}
	return r;
}

/* 1 if the request announces a body (Content-Length above 0, or
 * chunked). */
static int
has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	return (cl && strspn(cl, "0") != strlen(cl)) || te;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
       const char *method, const char *version, const char *upload,
       size_t *upload_size, void **con_cls)
{
	prb_httpd *d = cls;
	hreq *r = *con_cls;
	if (!r)
		return MHD_NO; /* out of memory in uri_log */
	if (!r->started) {
		r->started = 1;
		/* libmicrohttpd 0.9.75 cuts the request line in place: the
		 * target, a NUL where the space was, the version. A target
		 * that is a C string stopping short of that space held a
		 * raw NUL byte, and the bytes after it were hidden from
		 * rule 5. */
		if ((uintptr_t)version != r->target_end + 1)
			r->bad_target = 1;
		/* a body keeps its deadline until it is all in, even after
		 * an early answer (a 401, a 413) */
		if (conn_phase(d, c, has_body(c) ? PH_BODY : PH_ANSWER) != 0)
			return MHD_NO;
		if (r->bad_target)
			return prb_httpd_replyf(c, MHD_HTTP_BAD_REQUEST,
			                        "the request target may hold only "
			                        "[A-Za-z0-9._/-] (and, where a query "
			                        "is taken, after '?' "
			                        "[A-Za-z0-9._~=&,-]); no %%-escapes");
	} else if (*upload_size == 0 && conn_phase(d, c, PH_ANSWER) != 0) {
		return MHD_NO; /* the body came in after its deadline */
	} else if (r->bad_target) {
		*upload_size = 0; /* the body of a refused request: dropped */
		return MHD_YES;
	}
	return d->cfg.handler(d->cfg.handler_ctx, c, url, method, version,
	                      upload, upload_size, &r->inner);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
          enum MHD_RequestTerminationCode toe)
{
	prb_httpd *d = cls;
	hreq *r = *con_cls;
	if (!r)
		return;
	if (d->cfg.completed)
		d->cfg.completed(d->cfg.completed_ctx, c, &r->inner, toe);
	free(r);
	*con_cls = NULL;
	conn_phase(d, c, PH_HEAD); /* keep-alive: the next head's deadline */
}

/* Starts an MHD daemon as d->cfg and d->flags say, with the PEM cert and
 * key (NULL for plain HTTP), listening as `where` says (an address, or a
 * listening socket). */
static struct MHD_Daemon *
start_daemon(prb_httpd *d, char *cert, char *key, struct MHD_OptionItem *where)
{
	const prb_httpd_cfg *cfg = &d->cfg;
	unsigned limit = cfg->conn_limit ? cfg->conn_limit
	                                 : PRB_HTTPD_CONNECTIONS;
	unsigned timeout = cfg->timeout_s ? cfg->timeout_s : PRB_HTTPD_IDLE_S;
	unsigned per_ip = cfg->per_client ? cfg->per_client
	                                  : PRB_HTTPD_PER_CLIENT;
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
		{MHD_OPTION_END, 0, NULL},
	};
	return MHD_start_daemon(
		d->flags, 0, NULL, NULL, handle, d,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, d,
		MHD_OPTION_ARRAY, where,
		MHD_OPTION_CONNECTION_LIMIT, limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log, d,
		MHD_OPTION_NOTIFY_CONNECTION, notify_conn, d,
		MHD_OPTION_NOTIFY_COMPLETED, completed, d,
		MHD_OPTION_ARRAY, cert ? tls : tls + 2,
		MHD_OPTION_END);
}

int
prb_httpd_start(const prb_httpd_cfg *cfg, prb_httpd **out, prb_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	*out = NULL;
	int rc = prb_httpd_parse_listen(cfg->listen, &ss, &sl, err);
	if (rc)
		return rc;
	if (!cfg->tls_cert != !cfg->tls_key)
		return prb_err_set(err, PRB_EINVAL, NULL, UINT64_MAX,
		                   "a TLS certificate needs its key and a key "
		                   "its certificate");
	prb_httpd *d = calloc(1, sizeof *d);
	if (!d)
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	d->quiesced_fd = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->log_mu, NULL);
	pthread_cond_init(&d->wake, NULL);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
	                 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	                 MHD_USE_ITC; /* for MHD_quiesce_daemon */
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->tls_cert) {
		if (!(d->cert = read_pem(cfg->tls_cert, err)) ||
		    !(d->key = read_pem(cfg->tls_key, err))) {
			rc = err ? err->code : PRB_EIO;
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	d->cfg = *cfg;
	d->flags = flags;
	d->head_s = cfg->head_s ? cfg->head_s : PRB_HTTPD_HEAD_S;
	d->body_s = cfg->body_s ? cfg->body_s : PRB_HTTPD_BODY_S;
	if (pthread_create(&d->watchdog, NULL, watchdog, d) != 0) {
		rc = prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                 "cannot start the watchdog thread");
		goto fail;
	}
	d->watching = 1;
	struct MHD_OptionItem where[] = {
		{MHD_OPTION_SOCK_ADDR, 0, &ss},
		{MHD_OPTION_END, 0, NULL},
	};
	d->d = start_daemon(d, d->cert, d->key, where);
	if (!d->d) {
		rc = prb_err_set(err, PRB_EIO, cfg->listen, UINT64_MAX,
		                 "cannot listen (address in use, not local, or "
		                 "a bad TLS certificate or key)");
		goto fail;
	}
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(d->d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET6_ADDRSTRLEN];
	const void *a = ss.ss_family == AF_INET6
	                        ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
	                        : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
	inet_ntop(ss.ss_family, a, host, sizeof host);
	snprintf(d->url, sizeof d->url,
	         ss.ss_family == AF_INET6 ? "%s://[%s]:%u" : "%s://%s:%u",
	         cfg->tls_cert ? "https" : "http", host,
	         di ? (unsigned)di->port : 0u);
	*out = d;
	return 0;
fail:
	prb_httpd_stop(d);
	return rc;
}

const char *
prb_httpd_url(const prb_httpd *d)
{
	return d->url;
}

void
prb_httpd_quiesce(prb_httpd *d)
{
	if (d && d->d && d->quiesced_fd < 0)
		d->quiesced_fd = MHD_quiesce_daemon(d->d);
}

/* Connections open on daemon md. */
static unsigned
daemon_connections(struct MHD_Daemon *md)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(
		md, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i ? i->num_connections : 0;
}

/* Frees a certificate and its key, wiping the key. */
static void
free_pem(char *cert, char *key)
{
	free(cert);
	if (key) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
}

/* Stops a retired daemon (waiting for its connections) and frees it. */
static void
retired_stop(hretired *r)
{
	MHD_stop_daemon(r->d);
	if (r->fd >= 0)
		close(r->fd);
	free_pem(r->cert, r->key);
	free(r);
}

unsigned
prb_httpd_connections(const prb_httpd *d)
{
	unsigned n = 0;
	if (d->d)
		n += daemon_connections(d->d);
	for (const hretired *r = d->retired; r; r = r->next)
		n += daemon_connections(r->d);
	return n;
}

/* ---- reload: a new daemon on the same listening socket ----
 * The new daemon (the certificate and key read again) is started on the
 * listening socket of the one serving, which is then quiesced: it takes
 * no more connections, finishes those it has, and is stopped at the next
 * reload once idle, or with the rest by prb_httpd_stop. The socket stays
 * open throughout, so no connection is refused meanwhile. */

int
prb_httpd_reload(prb_httpd *d, prb_err *err)
{
	if (!d->cfg.tls_cert)
		return 0;
	char *cert = read_pem(d->cfg.tls_cert, err);
	char *key = cert ? read_pem(d->cfg.tls_key, err) : NULL;
	if (!key) {
		free(cert);
		return err->code;
	}
	hretired *r = calloc(1, sizeof *r);
	if (!r) {
		free_pem(cert, key);
		return prb_err_set(err, PRB_ENOMEM, NULL, UINT64_MAX,
		                   "out of memory");
	}
	/* the new daemon gets a descriptor of its own for the socket: MHD
	 * closes it when the daemon fails to start, or is stopped */
	const union MHD_DaemonInfo *li =
		MHD_get_daemon_info(d->d, MHD_DAEMON_INFO_LISTEN_FD);
	struct MHD_OptionItem where[] = {
		{MHD_OPTION_LISTEN_SOCKET, li ? dup(li->listen_fd) : -1, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_Daemon *nd =
		where[0].value >= 0 ? start_daemon(d, cert, key, where) : NULL;
	if (!nd) {
		free_pem(cert, key);
		free(r);
		return prb_err_set(err, PRB_EINVAL, d->cfg.tls_cert, UINT64_MAX,
		                   "the certificate or key %s was refused: "
		                   "still serving the previous ones",
		                   d->cfg.tls_key);
	}
	/* the old daemon takes no more connections and is retired */
	r->d = d->d;
	r->cert = d->cert;
	r->key = d->key;
	r->fd = MHD_quiesce_daemon(r->d);
	r->next = d->retired;
	d->retired = r;
	d->d = nd;
	d->cert = cert;
	d->key = key;
	/* idle daemons of earlier reloads go */
	hretired **pp = &r->next;
	while (*pp) {
		hretired *x = *pp;
		if (daemon_connections(x->d) == 0) {
			*pp = x->next;
			retired_stop(x);
		} else {
			pp = &x->next;
		}
	}
	return 0;
}

void
prb_httpd_stop(prb_httpd *d)
{
	if (!d)
		return;
	while (d->retired) {
		hretired *r = d->retired;
		d->retired = r->next;
		retired_stop(r);
	}
	if (d->d)
		MHD_stop_daemon(d->d);
	if (d->watching) { /* after the daemons: they track connections */
		pthread_mutex_lock(&d->mu);
		d->stopping = 1;
		pthread_cond_signal(&d->wake);
		pthread_mutex_unlock(&d->mu);
		pthread_join(d->watchdog, NULL);
	}
	pthread_mutex_destroy(&d->mu);
	pthread_mutex_destroy(&d->log_mu);
	pthread_cond_destroy(&d->wake);
	if (d->quiesced_fd >= 0)
		close(d->quiesced_fd);
	free_pem(d->cert, d->key);
	free(d);
}

void
prb_httpd_block_signals(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
prb_httpd_wait_signal(void)
{
	sigset_t s;
	int sig = 0;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	while (sigwait(&s, &sig) != 0)
		;
	return sig;
}

/* A response with a copy of body and, when not NULL, a Content-Type, a
 * Cache-Control and one more header. */
static enum MHD_Result
respond(struct MHD_Connection *c, unsigned status, const char *ctype,
        const char *cache_control, const char *name, const char *value,
        const void *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (cache_control)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		                        cache_control);
	if (name)
		MHD_add_response_header(r, name, value);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
prb_httpd_reply(struct MHD_Connection *c, unsigned status, const char *ctype,
                const char *cache_control, const void *body, size_t len)
{
	return respond(c, status, ctype, cache_control, NULL, NULL, body, len);
}

/* The text response of prb_httpd_replyf and prb_httpd_replyf_header. */
static enum MHD_Result
respond_text(struct MHD_Connection *c, unsigned status,
             const char *cache_control, const char *name, const char *value,
             const char *fmt, va_list ap)
{
	char msg[1024];
	int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof msg - 2)
		n = sizeof msg - 2;
	msg[n++] = '\n';
	return respond(c, status, "text/plain; charset=utf-8", cache_control,
	               name, value, msg, (size_t)n);
}

enum MHD_Result
prb_httpd_replyf(struct MHD_Connection *c, unsigned status, const char *fmt,
                 ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result r =
		respond_text(c, status, "no-store", NULL, NULL, fmt, ap);
	va_end(ap);
	return r;
}

enum MHD_Result
prb_httpd_replyf_header(struct MHD_Connection *c, unsigned status,
                        const char *name, const char *value, const char *fmt,
                        ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result r = respond_text(c, status, NULL, name, value, fmt, ap);
	va_end(ap);
	return r;
}

int
prb_httpd_declares_over(struct MHD_Connection *c, size_t max)
{
	const char *cl = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl && strtoull(cl, NULL, 10) > max;
}

int
prb_httpd_body_add(prb_httpd_body *b, const char *data, size_t n)
{
	if (b->too_big || n > b->max - b->len) {
		b->too_big = 1;
		return -1;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		uint8_t *p = realloc(b->buf, cap ? cap : 1);
		if (!p) {
			b->oom = 1;
			return -1;
		}
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return 0;
}

void
prb_httpd_body_free(prb_httpd_body *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}
