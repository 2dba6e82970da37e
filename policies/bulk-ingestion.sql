-- id: bulk.high-throughput-ingestion
-- title: High-throughput ingestion pipeline provisioned
-- severity: medium
-- rationale: Taking in a whole population's traffic needs streaming capacity
-- rationale: far beyond an ordinary application's; the capacity asked for is
-- rationale: in the control-plane call. AWS Kinesis streams created or
-- rationale: resharded to at least min_shards shards, or created on-demand;
-- rationale: Azure Event Hubs namespaces with at least min_throughput_units
-- rationale: throughput units, and Event Hubs Dedicated clusters.
-- covers: AWS, Azure. GCP Pub/Sub and Dataflow calls carry no capacity;
-- covers: Kubernetes workloads are not pipelines the provider sells.
-- Only calls that succeeded.
-- param: min_shards = 50
-- param: min_throughput_units = 10
SELECT leaf,
       format || ': ' || operation || ' ' || coalesce(resource_id,
         json_extract(request, '$.streamName'), '?') || ' with capacity ' ||
       coalesce(json_extract(request, '$.shardCount'),
                json_extract(request, '$.targetShardCount'),
                json_extract(request, '$.streamModeDetails.streamMode'),
                json_extract(request, '$.sku.capacity'),
                json_extract(request, '$.sku.name'), '?') ||
       ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE succeeded
  AND (
       (format = 'cloudtrail' AND service = 'kinesis.amazonaws.com' AND (
            (operation = 'CreateStream'
             AND (CAST(json_extract(request, '$.shardCount') AS INTEGER) >= :min_shards
                  OR json_extract(request, '$.streamModeDetails.streamMode') = 'ON_DEMAND'))
         OR (operation = 'UpdateShardCount'
             AND CAST(json_extract(request, '$.targetShardCount') AS INTEGER) >= :min_shards)))
    OR (format = 'azure-activity' AND (
            lower(operation) = 'microsoft.eventhub/clusters/write'
         OR (lower(operation) = 'microsoft.eventhub/namespaces/write'
             AND CAST(json_extract(request, '$.sku.capacity') AS INTEGER)
                 >= :min_throughput_units)))
  )
ORDER BY leaf
