-- id: retention.immutability-removed
-- title: Immutability or legal hold removed
-- severity: high
-- rationale: Object locks, immutability policies and legal holds keep records
-- rationale: from being deleted or altered; removing one makes destruction of
-- rationale: evidence possible. AWS S3 legal holds switched OFF, object-lock
-- rationale: retention bypassed or bucket lock configuration disabled; Azure
-- rationale: blob container immutability policies deleted and legal holds
-- rationale: cleared; GCP bucket retention policies removed or shortened.
-- covers: AWS, Azure, GCP. Kubernetes has no immutability setting in its API.
-- Only calls that succeeded.
SELECT leaf,
       format || ': ' || operation || ' on ' || coalesce(resource_id, '?') ||
       ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE succeeded
  AND (
       (format = 'cloudtrail' AND service = 's3.amazonaws.com' AND (
            (operation = 'PutObjectLegalHold'
             AND upper(json_extract(request, '$.LegalHold.Status')) = 'OFF')
         OR (operation IN ('PutObjectRetention', 'DeleteObject', 'DeleteObjects')
             AND json_extract(request, '$.x-amz-bypass-governance-retention') IN (1, 'true'))
         OR (operation = 'PutObjectLockConfiguration'
             AND json_extract(request, '$.ObjectLockConfiguration.ObjectLockEnabled') IS NOT 'Enabled')))
    OR (format = 'azure-activity' AND (
            lower(operation) LIKE 'microsoft.storage/storageaccounts/blobservices/containers/immutabilitypolicies/delete'
         OR lower(operation) = 'microsoft.storage/storageaccounts/blobservices/containers/clearlegalhold/action'))
    OR (format = 'gcp-audit' AND operation = 'storage.buckets.update'
        AND json_type(request, '$.retentionPolicy') = 'null')
  )
ORDER BY leaf
