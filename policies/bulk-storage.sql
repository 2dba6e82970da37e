-- id: bulk.storage-provisioning-burst
-- title: Storage provisioned at scale in a short time
-- severity: medium
-- rationale: Bulk acquisition of data needs somewhere to put it: many buckets,
-- rationale: storage accounts or volumes created by one principal within a
-- rationale: window is a control-plane sign of it, visible without looking at
-- rationale: any data. Counted per principal over window_hours from each
-- rationale: creation: AWS S3 CreateBucket and EC2 CreateVolume, Azure storage
-- rationale: account and managed disk writes, GCP bucket and disk creation.
-- rationale: Every creation of a burst of at least min_creations is cited.
-- covers: AWS, Azure, GCP. Kubernetes volume claims are storage the cluster
-- covers: already has, not newly acquired.
-- Only calls that succeeded.
-- param: min_creations = 20
-- param: window_hours = 24
WITH creates AS (
  SELECT leaf, format, operation, principal, event_time,
         julianday(event_time) * 24.0 AS h
  FROM events
  WHERE succeeded
    AND ((format = 'cloudtrail'
          AND ((service = 's3.amazonaws.com' AND operation = 'CreateBucket')
               OR (service = 'ec2.amazonaws.com' AND operation = 'CreateVolume')))
      OR (format = 'azure-activity'
          AND lower(operation) IN ('microsoft.storage/storageaccounts/write',
                                   'microsoft.compute/disks/write'))
      OR (format = 'gcp-audit'
          AND (operation = 'storage.buckets.create'
               OR operation LIKE '%.compute.disks.insert')))
),
bursts AS (
  -- each creation that starts a window holding enough creations
  SELECT a.leaf AS start, a.principal, a.h, count(*) AS n
  FROM creates a JOIN creates b
    ON b.principal = a.principal AND b.h >= a.h AND b.h < a.h + :window_hours
  GROUP BY a.leaf
  HAVING count(*) >= :min_creations
)
SELECT DISTINCT c.leaf,
       c.format || ': ' || c.principal || ' created ' ||
       (SELECT max(n) FROM bursts x WHERE x.principal = c.principal) ||
       ' storage resources within ' || :window_hours || ' h (threshold ' ||
       :min_creations || ')' AS detail
FROM creates c JOIN bursts s
  ON c.principal = s.principal AND c.h >= s.h AND c.h < s.h + :window_hours
ORDER BY c.leaf
