-- id: retention.log-retention-shortened
-- title: Log retention set below the minimum
-- severity: high
-- rationale: Shortening how long logs are kept lets evidence expire before a
-- rationale: review reaches it. AWS CloudWatch Logs retention policies and
-- rationale: CloudTrail Lake event data stores, Azure Log Analytics workspace
-- rationale: and table retention, GCP Cloud Logging bucket retention set below
-- rationale: min_retention_days. A CloudWatch DeleteRetentionPolicy means
-- rationale: "keep forever" and is not cited.
-- covers: AWS (logs PutRetentionPolicy, cloudtrail Create/UpdateEventDataStore
-- covers: retentionPeriod), Azure (Microsoft.OperationalInsights/workspaces/
-- covers: write and workspaces/tables/write), GCP (ConfigServiceV2
-- covers: CreateBucket/UpdateBucket, bucket.retentionDays). Kubernetes keeps no
-- covers: log retention in its API.
-- Only calls that succeeded: a refused change shortened nothing.
-- param: min_retention_days = 365
SELECT leaf,
       format || ': ' || operation || ' sets retention to ' || days ||
       ' days (minimum ' || :min_retention_days || ') on ' ||
       coalesce(resource_id, target, '?') || ' by ' || coalesce(principal, '?') AS detail
FROM (
  SELECT leaf, format, operation, resource_id, principal,
         coalesce(json_extract(request, '$.logGroupName'),
                  json_extract(request, '$.eventDataStore'),
                  json_extract(request, '$.name')) AS target,
         CASE
           WHEN format = 'cloudtrail' AND service = 'logs.amazonaws.com'
                AND operation = 'PutRetentionPolicy'
             THEN json_extract(request, '$.retentionInDays')
           WHEN format = 'cloudtrail' AND service = 'cloudtrail.amazonaws.com'
                AND operation IN ('CreateEventDataStore', 'UpdateEventDataStore')
             THEN json_extract(request, '$.retentionPeriod')
           WHEN format = 'azure-activity'
                AND lower(operation) = 'microsoft.operationalinsights/workspaces/write'
             THEN json_extract(request, '$.properties.retentionInDays')
           -- a table's own retention; its total (with long-term) when given
           WHEN format = 'azure-activity'
                AND lower(operation) = 'microsoft.operationalinsights/workspaces/tables/write'
             THEN coalesce(json_extract(request, '$.properties.totalRetentionInDays'),
                           json_extract(request, '$.properties.retentionInDays'))
           -- (an update changes only the fields its updateMask names)
           WHEN format = 'gcp-audit'
                AND (operation = 'google.logging.v2.ConfigServiceV2.CreateBucket'
                     OR (operation = 'google.logging.v2.ConfigServiceV2.UpdateBucket'
                         AND instr(lower(coalesce(json_extract(request, '$.updateMask.paths'),
                                                  json_extract(request, '$.updateMask'), '')),
                                   'retention') > 0))
             THEN coalesce(json_extract(request, '$.bucket.retentionDays'),
                           json_extract(request, '$.retentionDays'))
         END AS days
  FROM events
  WHERE succeeded
)
WHERE days IS NOT NULL AND CAST(days AS INTEGER) < :min_retention_days
ORDER BY leaf
