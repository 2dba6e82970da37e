-- id: retention.deletion-lifecycle-added
-- title: Lifecycle rule that deletes data added
-- severity: medium
-- rationale: A lifecycle rule that expires or deletes objects destroys data on
-- rationale: a schedule, without a further call anyone would notice. AWS S3
-- rationale: lifecycle configurations with Expiration rules, Azure storage
-- rationale: management policies with delete actions, GCP bucket lifecycle
-- rationale: rules with a Delete action.
-- covers: AWS, Azure, GCP. Kubernetes has no storage lifecycle rules.
-- Only calls that succeeded.
SELECT leaf,
       format || ': ' || operation || ' on ' || coalesce(resource_id, '?') ||
       ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE succeeded
  AND (
       (format = 'cloudtrail' AND service = 's3.amazonaws.com'
        AND operation IN ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
        AND (instr(request, '"Expiration"') > 0
             OR instr(request, '"NoncurrentVersionExpiration"') > 0))
    OR (format = 'azure-activity'
        AND lower(operation) = 'microsoft.storage/storageaccounts/managementpolicies/write'
        AND instr(lower(request), '"delete"') > 0)
    OR (format = 'gcp-audit' AND operation IN ('storage.buckets.update',
                                               'storage.buckets.create')
        AND instr(request, '"Delete"') > 0)
  )
ORDER BY leaf
