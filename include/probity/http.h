/*
 * The HTTP server side shared by `probity serve` and `probity witness`:
 * a GNU libmicrohttpd daemon (one thread per connection, so handlers may
 * block, e.g. until an append is durable), with TLS when a certificate is
 * given. What a hostile client can hold is bounded here, before any
 * handler runs:
 *
 *  1. Connections: at most conn_limit in all and per_client from one IP
 *     address. A connection over either limit is closed at once, before
 *     a byte is read (libmicrohttpd refuses it; no HTTP answer).
 *  2. The request head (request line and headers) must be complete
 *     head_s seconds after the connection is ready for it (accepted, or
 *     the previous response sent): a deadline, not reset by each byte. A
 *     connection past it gets "408 Request Timeout" (plain HTTP, first
 *     request; with TLS or on a kept-alive connection no answer) and is
 *     shut down. A watchdog thread enforces it.
 *  3. A request body must be complete body_s seconds after its head: else
 *     the connection is shut down, with no answer (the handler never sees
 *     the request's end).
 *  4. Idle: a connection with no traffic for timeout_s seconds is closed
 *     (libmicrohttpd's timeout, which each byte resets; it bounds a
 *     client that reads a response slowly).
 *  5. The request target, as received (before any unescaping), must be a
 *     path of [A-Za-z0-9._/-] starting with '/', followed only on the
 *     path cfg.query_path by '?' and a query of [A-Za-z0-9._~=&,-]; any
 *     other byte, a '%' escape or a '?' elsewhere included, is answered
 *     400 before a handler runs (prb_httpd_target_ok). So every resource
 *     has exactly one name.
 */
#ifndef PROBITY_HTTP_H
#define PROBITY_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <microhttpd.h>

#include "error.h"

typedef struct prb_httpd prb_httpd;

#define PRB_HTTPD_CONNECTIONS 256
#define PRB_HTTPD_PER_CLIENT 32
#define PRB_HTTPD_HEAD_S 10
#define PRB_HTTPD_BODY_S 60
#define PRB_HTTPD_IDLE_S 30

typedef struct {
	const char *listen;   /* "ADDR:PORT" as prb_httpd_parse_listen
	                         takes it; PORT 0 picks a free port */
	const char *tls_cert; /* PEM certificate file, or NULL for plain HTTP */
	const char *tls_key;  /* PEM private key file; with tls_cert */
	unsigned conn_limit;  /* simultaneous connections; 0:
	                         PRB_HTTPD_CONNECTIONS */
	unsigned timeout_s;   /* a connection idle this long is closed (slow
	                         clients); 0: 30 */
	unsigned per_client;  /* simultaneous connections from one IP
	                         address; 0: PRB_HTTPD_PER_CLIENT */
	unsigned head_s;      /* request head deadline (rule 2); 0:
	                         PRB_HTTPD_HEAD_S */
	unsigned body_s;      /* request body deadline (rule 3); 0:
	                         PRB_HTTPD_BODY_S */
	const char *query_path; /* the one path that may take a query
	                           ("/add"), or NULL: none may */
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

/* 1 if the request target t[0..len) (raw, as received) is one rule 5
 * allows: "/" then [A-Za-z0-9._/-]*, then, if that path is query_path
 * (may be NULL), optionally "?" and [A-Za-z0-9._~=&,-]*. 0 for anything
 * else (a NUL, a '%', a space, a byte over 0x7e, ...). Pure;
 * thread-safe. */
int prb_httpd_target_ok(const char *t, size_t len, const char *query_path);

/* Binds and starts serving, with the watchdog thread of rules 2-3.
 * cfg's strings must stay valid until prb_httpd_stop: prb_httpd_reload
 * reads the TLS files again. */
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
