/*
 * The HTTP server side shared by `probity serve` and `probity witness`:
 * a GNU libmicrohttpd daemon (one thread per connection, so handlers may
 * block, e.g. until an append is durable), bounded in connections, idle
 * time and request size, with TLS when a certificate is given.
 */
#ifndef PROBITY_HTTP_H
#define PROBITY_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <microhttpd.h>

#include "error.h"

typedef struct prb_httpd prb_httpd;

typedef struct {
	const char *listen;   /* "ADDR:PORT" as prb_httpd_parse_listen
	                         takes it; PORT 0 picks a free port */
	const char *tls_cert; /* PEM certificate file, or NULL for plain HTTP */
	const char *tls_key;  /* PEM private key file; with tls_cert */
	unsigned conn_limit;  /* simultaneous connections; 0: 256 */
	unsigned timeout_s;   /* a connection idle this long is closed (slow
	                         clients); 0: 30 */
	MHD_AccessHandlerCallback handler;
	void *handler_ctx;
	MHD_RequestCompletedCallback completed; /* may be NULL */
	void *completed_ctx;
} prb_httpd_cfg;

/* Parses "IPv4:PORT", "[IPv6]:PORT", "HOST:PORT" (the first IPv4
 * address HOST resolves to, else its first IPv6 one) or ":PORT" (every
 * IPv4 interface, 0.0.0.0) into a socket address. PRB_EINVAL with a
 * reason. */
int prb_httpd_parse_listen(const char *arg, struct sockaddr_storage *ss,
                           socklen_t *len, prb_err *err);

/* Binds and starts serving. cfg's strings must stay valid until
 * prb_httpd_stop: prb_httpd_reload reads the TLS files again. */
int prb_httpd_start(const prb_httpd_cfg *cfg, prb_httpd **out, prb_err *err);

/* The base URL actually bound, "http[s]://ADDR:PORT" (the port is the
 * real one when 0 was asked for). Valid until prb_httpd_stop. */
const char *prb_httpd_url(const prb_httpd *d);

/* Reads the TLS certificate and key again (cfg->tls_cert, tls_key) and
 * serves new connections with them on the same listening socket; those
 * open finish with the old ones. On failure (a file missing, malformed,
 * or a key not of the certificate) nothing changes and err says why.
 * Plain HTTP: nothing to do. Not concurrently with prb_httpd_stop or
 * prb_httpd_quiesce. */
int prb_httpd_reload(prb_httpd *d, prb_err *err);

/* Stops accepting new connections; those open go on. */
void prb_httpd_quiesce(prb_httpd *d);

/* Connections open now. */
unsigned prb_httpd_connections(const prb_httpd *d);

/* Stops accepting, waits for the connection threads, frees. Accepts NULL. */
void prb_httpd_stop(prb_httpd *d);

/* Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it before
 * starting any thread, so every thread inherits the mask) and ignores
 * SIGPIPE. */
void prb_httpd_block_signals(void);

/* Waits until SIGINT, SIGTERM or SIGHUP (a reload) arrives; returns the
 * signal number. */
int prb_httpd_wait_signal(void);

/* Queues a response with a copy of body. ctype and cache_control may be
 * NULL (no header). Returns MHD's result for the handler to return. */
enum MHD_Result prb_httpd_reply(struct MHD_Connection *c, unsigned status,
                                const char *ctype, const char *cache_control,
                                const void *body, size_t len);

/* A text/plain response: the formatted message and a newline. */
enum MHD_Result prb_httpd_replyf(struct MHD_Connection *c, unsigned status,
                                 const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* As prb_httpd_replyf, with one more header `name: value` (Allow on a
 * 405, Retry-After on a 503, WWW-Authenticate on a 401) and no
 * Cache-Control. */
enum MHD_Result prb_httpd_replyf_header(struct MHD_Connection *c,
                                        unsigned status, const char *name,
                                        const char *value, const char *fmt,
                                        ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;

/* 1 if the request's Content-Length declares a body of more than max
 * bytes: it can be refused before it is read. */
int prb_httpd_declares_over(struct MHD_Connection *c, size_t max);

/* A request body collected across the handler's upload calls, at most
 * `max` bytes. */
typedef struct {
	uint8_t *buf;
	size_t len, cap, max;
	int too_big; /* more than max bytes were offered; the rest dropped */
	int oom;     /* memory ran out: bytes were dropped */
} prb_httpd_body;

/* Appends n bytes. Returns 0, or -1 when the body would pass max
 * (too_big is set and the bytes dropped) or when memory runs out (oom is
 * set and the bytes dropped). */
int prb_httpd_body_add(prb_httpd_body *b, const char *data, size_t n);
void prb_httpd_body_free(prb_httpd_body *b);

#endif
