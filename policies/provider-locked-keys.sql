-- id: isolation.provider-locked-keys
-- title: Keys held outside the provider's reach
-- severity: medium
-- rationale: Customer-managed keys held in an external key store or HSM lock
-- rationale: the provider out of the data it stores: it can no longer look,
-- rationale: even when required to. AWS KMS keys with EXTERNAL or
-- rationale: EXTERNAL_KEY_STORE origin and custom key stores; Azure disk
-- rationale: encryption sets and managed HSMs; GCP Cloud KMS keys with
-- rationale: EXTERNAL or EXTERNAL_VPC protection and EKM connections.
-- covers: AWS, Azure, GCP. Kubernetes secrets encryption is configured on
-- covers: the API server, not through the API.
-- Only calls that succeeded.
SELECT leaf,
       format || ': ' || operation || ' ' || coalesce(resource_id, '') ||
       ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE succeeded
  AND (
       (format = 'cloudtrail' AND service = 'kms.amazonaws.com' AND (
            operation = 'CreateCustomKeyStore'
         OR (operation = 'CreateKey'
             AND json_extract(request, '$.origin') IN ('EXTERNAL', 'EXTERNAL_KEY_STORE'))))
    OR (format = 'azure-activity'
        AND lower(operation) IN ('microsoft.compute/diskencryptionsets/write',
                                 'microsoft.keyvault/managedhsms/write'))
    OR (format = 'gcp-audit' AND service = 'cloudkms.googleapis.com' AND (
            operation = 'CreateEkmConnection'
         OR (operation IN ('CreateCryptoKey', 'CreateCryptoKeyVersion')
             AND coalesce(json_extract(request, '$.cryptoKey.versionTemplate.protectionLevel'),
                          json_extract(request, '$.cryptoKeyVersion.protectionLevel'))
                 IN ('EXTERNAL', 'EXTERNAL_VPC'))))
  )
ORDER BY leaf
