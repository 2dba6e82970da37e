-- id: residency.outside-allowed-regions
-- title: Resource or data placed outside the allowed regions
-- severity: high
-- rationale: Data residency and export control. The location column is
-- rationale: where the record says the resource lives (S3 LocationConstraint,
-- rationale: Azure's request body location, GCP resource labels), not where
-- rationale: the call was processed; records of global services (IAM, STS,
-- rationale: Organizations ...) carry no location and are not judged here.
-- param: allowed_regions = ["eu-west-1", "eu-central-1", "westeurope", "northeurope", "europe-west1", "europe-west4", "global"]
--
-- Only calls that succeeded: a refused attempt placed nothing.
SELECT leaf,
       format || ': ' || coalesce(operation, '?') || ' in ' || location ||
       ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE location IS NOT NULL
  -- an allowed region, or a zone of one (GCP's europe-west1-b)
  AND NOT EXISTS (SELECT 1 FROM json_each(:allowed_regions)
                  WHERE lower(location) = lower(value)
                     OR lower(location) LIKE lower(value) || '-_')
  AND succeeded
ORDER BY leaf
