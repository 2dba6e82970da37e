-- id: retention.immutability-removed
-- title: Immutability, legal hold or deletion protection removed
-- severity: high
-- rationale: Object locks, immutability policies, legal holds and deletion
-- rationale: locks keep records from being deleted or altered; removing or
-- rationale: weakening one makes destruction of evidence possible. AWS S3
-- rationale: legal holds switched OFF, object-lock retention bypassed, bucket
-- rationale: default retention removed, set to GOVERNANCE (bypassable) or
-- rationale: below min_lock_days, bucket versioning suspended (an overwrite
-- rationale: or delete no longer keeps the previous version); AWS Backup
-- rationale: vault locks deleted and Glacier vault locks aborted; Azure blob
-- rationale: immutability policies deleted or written with a period below
-- rationale: min_lock_days, legal holds cleared, resource locks deleted, blob
-- rationale: and container soft delete or blob versioning switched off,
-- rationale: Recovery Services vault immutability or soft delete disabled;
-- rationale: GCP bucket retention policies removed.
-- covers: AWS, Azure, GCP. Kubernetes has no immutability setting in its API.
-- covers: GCP: Cloud Storage logs a bucket update's request body only under
-- covers: the gcp.detailedAuditLoggingMode organization policy; without it
-- covers: the record names the call, not the change, and nothing is cited.
-- covers: Azure: a blobServices write states settings, not changes, so a
-- covers: body that restates "off" is cited as if it switched it off.
-- Only calls that succeeded: a refused attempt removed nothing.
-- param: min_lock_days = 365
SELECT e.leaf,
       e.format || ': ' || e.operation || ' on ' || coalesce(c.target, e.resource_id, '?') ||
       coalesce(' (' || c.why || ')', '') ||
       ' by ' || coalesce(e.principal, '?') AS detail
FROM events e JOIN (
  -- AWS -----------------------------------------------------------------
  SELECT leaf,
         coalesce(json_extract(request, '$.bucketName') || coalesce('/' || json_extract(request, '$.key'), ''),
                  json_extract(request, '$.backupVaultName'),
                  json_extract(request, '$.vaultName')) AS target,
         CASE
           WHEN operation = 'PutObjectLegalHold' THEN 'legal hold OFF'
           WHEN operation = 'PutObjectLockConfiguration' THEN
             CASE WHEN json_type(request, '$.ObjectLockConfiguration.Rule.DefaultRetention') IS NULL
                  THEN 'default retention removed'
                  ELSE coalesce(json_extract(request, '$.ObjectLockConfiguration.Rule.DefaultRetention.Mode'), '?') ||
                       ' ' || coalesce(json_extract(request, '$.ObjectLockConfiguration.Rule.DefaultRetention.Days') || ' days',
                                       json_extract(request, '$.ObjectLockConfiguration.Rule.DefaultRetention.Years') || ' years', '?') ||
                       ' (minimum ' || :min_lock_days || ' days, COMPLIANCE)' END
           WHEN json_extract(request, '$.x-amz-bypass-governance-retention') IS NOT NULL
             THEN 'governance retention bypassed'
           WHEN operation = 'PutBucketVersioning' THEN 'versioning Suspended'
         END AS why
  FROM events
  WHERE format = 'cloudtrail' AND succeeded
    AND ((service = 's3.amazonaws.com' AND (
              (operation = 'PutObjectLegalHold'
               AND upper(json_extract(request, '$.LegalHold.Status')) = 'OFF')
           OR (operation IN ('PutObjectRetention', 'DeleteObject', 'DeleteObjects')
               AND json_extract(request, '$.x-amz-bypass-governance-retention') IN (1, 'true'))
              -- object lock cannot be switched off once on; its default
              -- retention can be dropped, made bypassable or shortened
           OR (operation = 'PutObjectLockConfiguration'
               AND (json_type(request, '$.ObjectLockConfiguration.Rule.DefaultRetention') IS NULL
                    OR json_extract(request, '$.ObjectLockConfiguration.Rule.DefaultRetention.Mode') = 'GOVERNANCE'
                    OR coalesce(CAST(json_extract(request, '$.ObjectLockConfiguration.Rule.DefaultRetention.Days') AS INTEGER),
                                CAST(json_extract(request, '$.ObjectLockConfiguration.Rule.DefaultRetention.Years') AS INTEGER) * 365)
                       < :min_lock_days))
              -- versioning cannot be switched off, only suspended
           OR (operation = 'PutBucketVersioning'
               AND json_extract(request, '$.VersioningConfiguration.Status') = 'Suspended')))
      OR (service = 'backup.amazonaws.com' AND operation = 'DeleteBackupVaultLockConfiguration')
      OR (service = 'glacier.amazonaws.com' AND operation = 'AbortVaultLock'))
  UNION ALL
  -- Azure (operationName in any casing) --------------------------------
  SELECT leaf, NULL,
         CASE
           WHEN lower(operation) = 'microsoft.authorization/locks/delete' THEN 'resource lock deleted'
           WHEN lower(operation) = 'microsoft.storage/storageaccounts/blobservices/write'
             THEN trim(CASE WHEN json_extract(request, '$.properties.deleteRetentionPolicy.enabled') = 0
                            THEN 'blob soft delete off; ' ELSE '' END ||
                       CASE WHEN json_extract(request, '$.properties.containerDeleteRetentionPolicy.enabled') = 0
                            THEN 'container soft delete off; ' ELSE '' END ||
                       CASE WHEN json_extract(request, '$.properties.isVersioningEnabled') = 0
                            THEN 'versioning off; ' ELSE '' END, '; ')
           WHEN lower(operation) = 'microsoft.storage/storageaccounts/blobservices/containers/immutabilitypolicies/write'
             THEN 'retention period ' ||
                  json_extract(request, '$.properties.immutabilityPeriodSinceCreationInDays') ||
                  ' days (minimum ' || :min_lock_days || ')'
           WHEN lower(operation) = 'microsoft.recoveryservices/vaults/write'
             THEN 'immutability ' ||
                  coalesce(json_extract(request, '$.properties.securitySettings.immutabilitySettings.state'), '-') ||
                  ', soft delete ' ||
                  coalesce(json_extract(request, '$.properties.securitySettings.softDeleteSettings.softDeleteState'), '-')
         END
  FROM events
  WHERE format = 'azure-activity' AND succeeded
    AND (lower(operation) IN ('microsoft.storage/storageaccounts/blobservices/containers/immutabilitypolicies/delete',
                              'microsoft.storage/storageaccounts/blobservices/containers/clearlegalhold/action',
                              'microsoft.authorization/locks/delete')
      OR (lower(operation) = 'microsoft.storage/storageaccounts/blobservices/write'
          AND (json_extract(request, '$.properties.deleteRetentionPolicy.enabled') = 0
               OR json_extract(request, '$.properties.containerDeleteRetentionPolicy.enabled') = 0
               OR json_extract(request, '$.properties.isVersioningEnabled') = 0))
         -- a time-based retention policy shorter than the minimum (an
         -- unlocked one can be shortened; a locked one only extended)
      OR (lower(operation) = 'microsoft.storage/storageaccounts/blobservices/containers/immutabilitypolicies/write'
          AND CAST(json_extract(request, '$.properties.immutabilityPeriodSinceCreationInDays') AS INTEGER)
              < :min_lock_days)
      OR (lower(operation) = 'microsoft.recoveryservices/vaults/write'
          AND (json_extract(request, '$.properties.securitySettings.immutabilitySettings.state') = 'Disabled'
               OR json_extract(request, '$.properties.securitySettings.softDeleteSettings.softDeleteState') = 'Disabled')))
  UNION ALL
  -- GCP: the update sets retentionPolicy to null ------------------------
  SELECT leaf, NULL, 'retention policy removed'
  FROM events
  WHERE format = 'gcp-audit' AND succeeded
    AND operation = 'storage.buckets.update'
    AND json_type(request, '$.retentionPolicy') = 'null'
) c ON c.leaf = e.leaf
ORDER BY e.leaf
