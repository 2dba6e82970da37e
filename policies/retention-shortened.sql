-- id: retention.log-retention-shortened
-- title: Log retention set below the minimum
-- severity: high
-- rationale: Shortening how long logs are kept lets evidence expire before a
-- rationale: review reaches it. AWS CloudWatch Logs retention policies, Azure
-- rationale: Log Analytics workspace retention and GCP Cloud Logging bucket
-- rationale: retention set below min_retention_days, and CloudWatch retention
-- rationale: policies deleted (which means "keep forever" and is not cited).
-- covers: AWS (logs PutRetentionPolicy), Azure (Microsoft.OperationalInsights/
-- covers: workspaces/write, properties.retentionInDays), GCP (ConfigServiceV2
-- covers: CreateBucket/UpdateBucket, bucket.retentionDays). Kubernetes keeps no
-- covers: log retention in its API.
-- Only calls that succeeded: a refused change shortened nothing.
-- param: min_retention_days = 365
SELECT leaf,
       format || ': ' || operation || ' sets retention to ' || days ||
       ' days (minimum ' || :min_retention_days || ') on ' ||
       coalesce(resource_id, '?') || ' by ' || coalesce(principal, '?') AS detail
FROM (
  SELECT leaf, format, operation, resource_id, principal,
         CASE
           WHEN format = 'cloudtrail' AND service = 'logs.amazonaws.com'
                AND operation = 'PutRetentionPolicy'
             THEN json_extract(request, '$.retentionInDays')
           WHEN format = 'azure-activity'
                AND lower(operation) = 'microsoft.operationalinsights/workspaces/write'
             THEN json_extract(request, '$.properties.retentionInDays')
           WHEN format = 'gcp-audit'
                AND operation IN ('google.logging.v2.ConfigServiceV2.UpdateBucket',
                                  'google.logging.v2.ConfigServiceV2.CreateBucket')
             THEN coalesce(json_extract(request, '$.bucket.retentionDays'),
                           json_extract(request, '$.retentionDays'))
         END AS days
  FROM events
  WHERE succeeded
)
WHERE days IS NOT NULL AND CAST(days AS INTEGER) < :min_retention_days
ORDER BY leaf
