/*
 * The log as an HTTP service (`probity serve`): appends over POST /add,
 * answered only once durable, many requests sharing one batch (group
 * commit); the log read as c2sp.org/tlog-tiles static resources; metrics.
 *
 * Endpoints:
 *   POST /add                 one entry per body line (append right)
 *   POST /add?format=F        cloud audit records (F as for probity
 *                             ingest: auto, cloudtrail, ...), indexed
 *   GET  /checkpoint          public
 *   GET  /tile/<L>/<N>[.p/W]  read right, unless the log is public
 *   GET  /tile/entries/...    read right, unless the log is public
 *   GET  /metrics             Prometheus text format (read right, unless
 *                             public)
 *   GET  /healthz             public
 *
 * Invariants:
 *  1. A 200 to POST /add is sent only after the writer reported IN the
 *     batch holding every entry of the request (DESIGN.md
 *     invariant 1): the entries, their tiles and a signed checkpoint
 *     covering them are durable. Any other answer means none of the
 *     request's entries is acknowledged; a 500 says whether they may be in
 *     the log anyway (a commit in doubt).
 *  2. Only resources of the committed tree are served: a tile or bundle
 *     beyond the latest durable checkpoint is 404, so nothing served can
 *     later change (what a failed batch wrote is removed and rewritten).
 *  3. With witnesses, GET /checkpoint serves only a checkpoint that at
 *     least `quorum` of them have cosigned (503 until there is one); the
 *     log's own commits go on regardless and appends are acknowledged as
 *     soon as they are durable.
 *  4. Credentials are compared as SHA-256 digests with CRYPTO_memcmp,
 *     against every configured token, so the time taken does not depend
 *     on how much of a token matched.
 */
#ifndef PROBITY_SERVE_H
#define PROBITY_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "cosign.h"
#include "error.h"
#include "log.h"
#include "note.h"
#include "store.h"
#include "writer.h"

typedef struct prb_server prb_server;


typedef struct {
	const char *dir;         /* the log directory (for messages) */
	prb_writer *writer;      /* the log's writer: the server takes it over
	                            (closes it), also on failure */
	prb_signer *signer;      /* the writer's; must outlive the server */
	const char *listen;      /* "ADDR:PORT" */
	const char *tls_cert, *tls_key; /* both or neither */
	const char *tokens;      /* token file, or NULL: nobody may append */
	int public_read;         /* tiles, bundles, metrics without a token */
	size_t max_body;         /* bytes of one POST body; 0: 8 MiB */
	size_t queue_entries;    /* entries waiting at most; 0: 65,536 */
	size_t batch_entries;    /* entries per batch at most; 0: 65,536 */
	unsigned conn_limit;     /* 0: 256 */
	unsigned timeout_s;      /* idle connection timeout; 0: 30 */
	unsigned per_client;     /* connections from one IP address; 0: 32 */
	unsigned head_s, body_s; /* request head and body deadlines; 0: 10,
	                            60 (include/probity/http.h) */
	prb_cosign *cosign;      /* the writer's witnesses (see "Witnessing"
	                            above), or NULL; not owned */
	size_t quorum;           /* cosignatures it needs to publish */
	/* Tiles and bundles: NULL to read their files under dir; else read
	 * through this store, whose get() must be thread-safe (the S3
	 * store's is); not owned. */
	prb_store *objects;
	/* If set, GETs of tiles and bundles of the committed tree answer
	 * 302 to redirect + "/" + path (the bucket's public URL). */
	const char *redirect;
} prb_serve_cfg;

/*
 * Witnessing: after each committed batch (and once at start), the
 * committer sends the new checkpoint to every witness with a consistency
 * proof (include/probity/cosign.h); when `quorum` cosign, the checkpoint
 * with their cosignatures replaces DIR/checkpoint (prb_log_publish) and
 * becomes what GET /checkpoint serves. Witnesses are asked between batches,
 * never while one is being committed.
 *
 * Token file: one credential per line, "<rights> <token>", rights being
 * "read", "append" or "read,append"; blank lines and lines starting with
 * '#' are ignored. Tokens are 16 to 256 printable ASCII characters
 * without spaces. A malformed line: PRB_EMALFORMED with err->offset the
 * line number. The file must not be readable by group or others
 * (PRB_EINVAL), like a key file.
 */

/* Starts serving (the committer thread and the HTTP daemon). */
int prb_serve_start(const prb_serve_cfg *cfg, prb_server **out, prb_err *err);

/* Reads cfg->tokens and the TLS certificate and key again and serves
 * with them from now on, on the same listening socket (SIGHUP). All or
 * nothing: on failure (a file missing or malformed) the server goes on
 * as it was and err says why. Called by one thread at a time, not
 * concurrently with prb_serve_stop. */
int prb_serve_reload(prb_server *s, prb_err *err);

/* The URL bound ("http://127.0.0.1:PORT"). */
const char *prb_serve_url(const prb_server *s);

/* Stops accepting connections, refuses new requests on open ones (503),
 * commits and answers every request already queued or in a batch, gives
 * the answers up to 2 s to leave, then closes the connections and the
 * log. Accepts NULL. */
void prb_serve_stop(prb_server *s);

#endif
