/*
 * probity serve: GET /metrics, the Prometheus text format of the counts
 * the committer and the POST /add handlers keep in prb_server (under mu).
 */
#include <stdio.h>
#include <stdlib.h>

#include "net/serve_int.h"
#include "base/sbuf.h"

static const unsigned status_codes[7] = {200, 400, 401, 403, 413, 500, 503};

void
serve_metrics_count_status(prb_server *s, unsigned status)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < 7; i++)
		if (status_codes[i] == status)
			s->m_requests[i]++;
	pthread_mutex_unlock(&s->mu);
}

static void
hist_print(prb_sbuf *b, const char *name, const char *help, const histogram *h,
           const double *bounds, size_t nb)
{
	uint64_t cum = 0;
	prb_sbuf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < nb; i++) {
		cum += h->count[i];
		prb_sbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
		            (unsigned long long)cum);
	}
	cum += h->count[nb];
	prb_sbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
	            "%s_count %llu\n", name, (unsigned long long)cum, name,
	            h->sum, name, (unsigned long long)h->n);
}

enum MHD_Result
serve_metrics_get(prb_server *s, struct MHD_Connection *c)
{
	prb_sbuf b = {0};
	pthread_mutex_lock(&s->mu);
	prb_sbuf_printf(&b,
	            "# HELP probity_appended_entries_total Entries made "
	            "durable through POST /add.\n"
	            "# TYPE probity_appended_entries_total counter\n"
	            "probity_appended_entries_total %llu\n"
	            "# HELP probity_batches_total Batches committed.\n"
	            "# TYPE probity_batches_total counter\n"
	            "probity_batches_total %llu\n"
	            "# HELP probity_failed_batches_total Batches not "
	            "committed.\n"
	            "# TYPE probity_failed_batches_total counter\n"
	            "probity_failed_batches_total %llu\n"
	            "# HELP probity_queue_entries Entries waiting for a "
	            "batch.\n"
	            "# TYPE probity_queue_entries gauge\n"
	            "probity_queue_entries %zu\n"
	            "# HELP probity_queue_limit_entries Entries the queue "
	            "holds at most.\n"
	            "# TYPE probity_queue_limit_entries gauge\n"
	            "probity_queue_limit_entries %zu\n"
	            "# HELP probity_queue_full_total Requests refused with "
	            "503 because the queue was full.\n"
	            "# TYPE probity_queue_full_total counter\n"
	            "probity_queue_full_total %llu\n"
	            "# HELP probity_tree_size Size of the latest durable "
	            "checkpoint.\n"
	            "# TYPE probity_tree_size gauge\n"
	            "probity_tree_size %llu\n"
	            "# HELP probity_published_size Size of the checkpoint "
	            "GET /checkpoint serves.\n"
	            "# TYPE probity_published_size gauge\n"
	            "probity_published_size %llu\n"
	            "# HELP probity_witness_rounds_total Checkpoints sent to "
	            "the witnesses, by whether a quorum cosigned.\n"
	            "# TYPE probity_witness_rounds_total counter\n"
	            "probity_witness_rounds_total{quorum=\"yes\"} %llu\n"
	            "probity_witness_rounds_total{quorum=\"no\"} %llu\n",
	            (unsigned long long)s->m_entries,
	            (unsigned long long)s->m_batches,
	            (unsigned long long)s->m_failed_batches, s->queued,
	            s->cfg.queue_entries,
	            (unsigned long long)s->m_rejected_full,
	            (unsigned long long)s->size,
	            (unsigned long long)s->published,
	            (unsigned long long)s->m_cosigned,
	            (unsigned long long)s->m_uncosigned);
	prb_sbuf_printf(&b, "# HELP probity_add_requests_total POST /add "
	            "answers by status.\n"
	            "# TYPE probity_add_requests_total counter\n");
	for (size_t i = 0; i < 7; i++)
		prb_sbuf_printf(&b, "probity_add_requests_total{code=\"%u\"} %llu\n",
		            status_codes[i],
		            (unsigned long long)s->m_requests[i]);
	hist_print(&b, "probity_batch_entries", "Entries per committed batch.",
	           &s->m_batch, batch_bounds, NBATCH);
	hist_print(&b, "probity_durable_latency_seconds",
	           "From a POST /add being queued to its batch being durable.",
	           &s->m_lat, lat_bounds, NLAT);
	pthread_mutex_unlock(&s->mu);
	if (!b.p || b.oom) {
		free(b.p);
		return prb_httpd_replyf(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                        "out of memory");
	}
	enum MHD_Result r = prb_httpd_reply(
		c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		"no-store", b.p, b.len);
	free(b.p);
	return r;
}
