-- id: residency.outside-allowed-regions
-- title: Resource or data placed outside the allowed regions
-- severity: high
-- rationale: Data residency and export control: a resource created, data
-- rationale: written or a replica added in a region not in allowed_regions.
-- rationale: Judged by where the record says the resource lives (the index's
-- rationale: location: S3 LocationConstraint, Azure's request body location,
-- rationale: GCP resourceLocation or resource labels), never by where the call
-- rationale: was processed; plus the replica regions a request adds (DynamoDB
-- rationale: global table replicas, Cosmos DB account locations). Only calls
-- rationale: that create or place: reads, deletions and stops place nothing.
-- rationale: Global services (IAM, STS, Organizations, billing ... which
-- rationale: CloudTrail logs under us-east-1) are not judged.
-- covers: AWS, Azure, GCP. Kubernetes audit events carry no region (a
-- covers: cluster's region is the provider's record of the cluster).
-- Only calls that succeeded: a refused attempt placed nothing.
-- param: allowed_regions = ["eu-west-1", "eu-central-1", "westeurope", "northeurope", "europe-west1", "europe-west4", "global"]
-- param: aws_global_services = ["account.amazonaws.com", "billingconsole.amazonaws.com", "budgets.amazonaws.com", "ce.amazonaws.com", "cur.amazonaws.com", "ecr-public.amazonaws.com", "health.amazonaws.com", "notifications.amazonaws.com", "pricing.amazonaws.com", "route53domains.amazonaws.com", "savingsplans.amazonaws.com", "support.amazonaws.com", "trustedadvisor.amazonaws.com"]
WITH placed AS (
  -- where the record says the resource lives
  SELECT leaf, location AS place
  FROM events
  WHERE succeeded AND location IS NOT NULL
    AND (
         -- AWS: calls that create or put something (CloudTrail has every
         -- non-global service's calls under the region they act in)
         (format = 'cloudtrail'
          AND service NOT IN (SELECT value FROM json_each(:aws_global_services))
          AND (operation GLOB 'Create*' OR operation GLOB 'Put*'
               OR operation GLOB 'Run*' OR operation GLOB 'Copy*'
               OR operation GLOB 'Import*' OR operation GLOB 'Restore*'
               OR operation GLOB 'Upload*' OR operation GLOB 'Allocate*'
               OR operation GLOB 'Register*' OR operation GLOB 'Replicate*'
               OR operation = 'CompleteMultipartUpload'))
         -- Azure: location only ever comes from a request body (a write)
      OR format = 'azure-activity'
         -- GCP: any method but reads, deletions and stops, by the last part
         -- of methodName (v1.compute.instances.get, ...ConfigServiceV2.ListSinks)
      OR (format = 'gcp-audit'
          AND lower(substr(operation, length(rtrim(operation,
                replace(operation, '.', ''))) + 1)) NOT GLOB 'get*'
          AND lower(substr(operation, length(rtrim(operation,
                replace(operation, '.', ''))) + 1)) NOT GLOB 'list*'
          AND lower(substr(operation, length(rtrim(operation,
                replace(operation, '.', ''))) + 1))
              NOT IN ('aggregatedlist', 'search', 'lookup', 'testiampermissions',
                      'delete', 'stop'))
    )
  UNION ALL
  -- AWS DynamoDB global table replicas (CreateGlobalTable's replicationGroup,
  -- UpdateTable's and UpdateGlobalTable's replicaUpdates create)
  SELECT e.leaf, coalesce(json_extract(r.value, '$.regionName'),
                          json_extract(r.value, '$.create.regionName'))
  FROM events e, json_each(e.request, '$.replicationGroup') r
  WHERE e.format = 'cloudtrail' AND e.succeeded
    AND e.service = 'dynamodb.amazonaws.com' AND e.operation = 'CreateGlobalTable'
  UNION ALL
  SELECT e.leaf, json_extract(r.value, '$.create.regionName')
  FROM events e, json_each(e.request, '$.replicaUpdates') r
  WHERE e.format = 'cloudtrail' AND e.succeeded
    AND e.service = 'dynamodb.amazonaws.com'
    AND e.operation IN ('UpdateTable', 'UpdateGlobalTable')
    AND json_extract(r.value, '$.create.regionName') IS NOT NULL
  UNION ALL
  -- Azure Cosmos DB account regions ("West US" as well as "westus")
  SELECT e.leaf, replace(json_extract(l.value, '$.locationName'), ' ', '')
  FROM events e, json_each(e.request, '$.properties.locations') l
  WHERE e.format = 'azure-activity' AND e.succeeded
    AND lower(e.operation) = 'microsoft.documentdb/databaseaccounts/write'
),
outside AS (
  SELECT leaf, place FROM placed
  WHERE place IS NOT NULL
    -- an allowed region, or a zone of one (GCP's europe-west1-b)
    AND NOT EXISTS (SELECT 1 FROM json_each(:allowed_regions)
                    WHERE lower(place) = lower(value)
                       OR lower(place) GLOB lower(value) || '-[a-z]')
)
SELECT e.leaf,
       e.format || ': ' || e.operation || coalesce(' ' || e.resource_id, '') ||
       ' in ' || group_concat(DISTINCT o.place) ||
       CASE WHEN e.region IS NOT NULL AND e.region <> coalesce(e.location, '')
            THEN ' (processed in ' || e.region || ')' ELSE '' END ||
       ' by ' || coalesce(e.principal, '?') AS detail
FROM outside o JOIN events e ON e.leaf = o.leaf
GROUP BY e.leaf
ORDER BY e.leaf
