-- id: retention.deletion-lifecycle-added
-- title: Lifecycle rule that deletes data added
-- severity: medium
-- rationale: A lifecycle rule that expires or deletes objects destroys data on
-- rationale: a schedule, without a further call anyone would notice. AWS S3
-- rationale: lifecycle configurations with enabled Expiration or
-- rationale: NoncurrentVersionExpiration rules, Azure storage management
-- rationale: policies with enabled delete actions (base blobs, snapshots,
-- rationale: versions), GCP bucket lifecycle rules with a Delete action; each
-- rationale: when it deletes data younger than min_age_days, or by a date or
-- rationale: a version count rather than an age. A rule that only moves data
-- rationale: to a colder tier, or only removes expired delete markers, keeps it.
-- covers: AWS, Azure, GCP. Kubernetes has no storage lifecycle rules.
-- covers: GCP: Cloud Storage logs a bucket's request body only under the
-- covers: gcp.detailedAuditLoggingMode organization policy; without it the
-- covers: record names the call, not the rule, and nothing is cited.
-- Only calls that succeeded: a refused rule deletes nothing.
-- param: min_age_days = 365
WITH rules AS (
  -- AWS: LifecycleConfiguration.Rule is an object for one rule, else an array
  SELECT e.leaf, json_extract(r.value, '$.ID') AS rule,
         json_extract(r.value, '$.Expiration.Days') AS days, 'current versions' AS what
  FROM events e, json_each(CASE json_type(e.request, '$.LifecycleConfiguration.Rule')
                             WHEN 'array' THEN json_extract(e.request, '$.LifecycleConfiguration.Rule')
                             ELSE json_array(json_extract(e.request, '$.LifecycleConfiguration.Rule'))
                           END) r
  WHERE e.format = 'cloudtrail' AND e.succeeded AND e.service = 's3.amazonaws.com'
    AND e.operation IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
    AND coalesce(json_extract(r.value, '$.Status'), 'Enabled') = 'Enabled'
    AND (json_type(r.value, '$.Expiration.Days') IS NOT NULL
         OR json_type(r.value, '$.Expiration.Date') IS NOT NULL)
  UNION ALL
  SELECT e.leaf, json_extract(r.value, '$.ID'),
         json_extract(r.value, '$.NoncurrentVersionExpiration.NoncurrentDays'),
         'noncurrent versions'
  FROM events e, json_each(CASE json_type(e.request, '$.LifecycleConfiguration.Rule')
                             WHEN 'array' THEN json_extract(e.request, '$.LifecycleConfiguration.Rule')
                             ELSE json_array(json_extract(e.request, '$.LifecycleConfiguration.Rule'))
                           END) r
  WHERE e.format = 'cloudtrail' AND e.succeeded AND e.service = 's3.amazonaws.com'
    AND e.operation IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
    AND coalesce(json_extract(r.value, '$.Status'), 'Enabled') = 'Enabled'
    AND json_type(r.value, '$.NoncurrentVersionExpiration') IS NOT NULL
  UNION ALL
  -- Azure: rules[].definition.actions.{baseBlob,snapshot,version}.delete
  -- (operationName in any casing; a rule is enabled unless it says false)
  SELECT e.leaf, json_extract(r.value, '$.name'),
         (SELECT min(c.value) FROM json_each(a.value, '$.delete') c
          WHERE c.key GLOB 'daysAfter*'),
         a.key
  FROM events e, json_each(e.request, '$.properties.policy.rules') r,
       json_each(r.value, '$.definition.actions') a
  WHERE e.format = 'azure-activity' AND e.succeeded
    AND lower(e.operation) = 'microsoft.storage/storageaccounts/managementpolicies/write'
    AND coalesce(json_extract(r.value, '$.enabled'), 1) <> 0
    AND json_type(a.value, '$.delete') IS NOT NULL
  UNION ALL
  -- GCP: lifecycle.rule[] with action.type Delete; age in days when given
  SELECT e.leaf, NULL, json_extract(r.value, '$.condition.age'), 'objects'
  FROM events e, json_each(e.request, '$.lifecycle.rule') r
  WHERE e.format = 'gcp-audit' AND e.succeeded
    AND e.operation IN ('storage.buckets.update', 'storage.buckets.create')
    AND json_extract(r.value, '$.action.type') = 'Delete'
)
SELECT e.leaf,
       e.format || ': ' || e.operation || ' on ' || coalesce(e.resource_id, '?') ||
       ' deletes ' ||
       group_concat(r.what || coalesce(' after ' || r.days || ' days', ' by date or count') ||
                    coalesce(' (rule ' || r.rule || ')', ''), '; ') ||
       ', under the minimum of ' || :min_age_days || ' days, by ' ||
       coalesce(e.principal, '?') AS detail
FROM rules r JOIN events e ON e.leaf = r.leaf
WHERE r.days IS NULL OR CAST(r.days AS INTEGER) < :min_age_days
GROUP BY e.leaf
ORDER BY e.leaf
