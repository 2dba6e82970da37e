/*
 * Private to src/ingest/: the format adapters, each defined in its own
 * file (cloudtrail.c, azure.c, gcp.c, k8s.c), as formats.c tries them.
 */
#ifndef PRB_INGEST_ADAPTERS_H
#define PRB_INGEST_ADAPTERS_H

#include "ingest/fx.h"

extern const fx_format fx_cloudtrail, fx_azure, fx_gcp, fx_k8s;

#endif
