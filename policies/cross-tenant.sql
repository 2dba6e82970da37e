-- id: isolation.cross-account-delegation
-- title: Access delegated to another account or tenant
-- severity: high
-- rationale: Delegating access across account or tenant boundaries moves
-- rationale: control of resources, and of what they hold, to a party outside
-- rationale: the customer. AWS IAM roles whose trust policy names an account
-- rationale: that is neither the role's own nor trusted; EBS snapshots,
-- rationale: AMIs and RDS snapshots shared with such an account or made
-- rationale: public; Azure Lighthouse
-- rationale: registration definitions managed by a tenant not trusted, and
-- rationale: their assignments.
-- covers: AWS (CreateRole, UpdateAssumeRolePolicy), Azure (Microsoft.
-- covers: ManagedServices). GCP grants across organizations are in
-- covers: privileged.grant-outside-organization; Kubernetes has no accounts.
-- Only calls that succeeded.
-- param: trusted_accounts = []
-- param: trusted_tenants = []
SELECT leaf, detail FROM (
  -- AWS: accounts named in the trust policy (ARNs or bare account ids)
  SELECT e.leaf,
         'cloudtrail: ' || e.operation || ' ' ||
         coalesce(json_extract(e.request, '$.roleName'), '?') ||
         ' trusts account ' || min(CASE WHEN t.value LIKE 'arn:aws:iam::%'
                                        THEN substr(t.value, 14, 12)
                                        ELSE t.value END) ||
         ' (role in ' || coalesce(e.account, '?') || ') by ' ||
         coalesce(e.principal, '?') AS detail
  FROM events e,
       json_tree(json(coalesce(json_extract(e.request, '$.assumeRolePolicyDocument'),
                                 json_extract(e.request, '$.policyDocument')))) t
  WHERE e.format = 'cloudtrail' AND e.succeeded
    AND e.service = 'iam.amazonaws.com'
    AND e.operation IN ('CreateRole', 'UpdateAssumeRolePolicy')
    AND json_valid(coalesce(json_extract(e.request, '$.assumeRolePolicyDocument'),
                            json_extract(e.request, '$.policyDocument')))
    AND t.type = 'text'
    AND (t.value LIKE 'arn:aws:iam::%' OR t.value GLOB
         '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]')
    AND CASE WHEN t.value LIKE 'arn:aws:iam::%' THEN substr(t.value, 14, 12)
             ELSE t.value END
        NOT IN (SELECT value FROM json_each(:trusted_accounts))
    AND CASE WHEN t.value LIKE 'arn:aws:iam::%' THEN substr(t.value, 14, 12)
             ELSE t.value END <> coalesce(e.account, '')
  GROUP BY e.leaf
  UNION ALL
  -- AWS: EBS snapshots, AMIs and RDS snapshots shared with another account
  -- (or with everyone: "all")
  SELECT e.leaf,
         'cloudtrail: ' || e.operation || ' shares ' ||
         coalesce(json_extract(e.request, '$.snapshotId'),
                  json_extract(e.request, '$.imageId'),
                  json_extract(e.request, '$.dBSnapshotIdentifier'), '?') ||
         ' with ' || min(t.value) || ' by ' || coalesce(e.principal, '?')
  FROM events e, json_tree(e.request) t
  WHERE e.format = 'cloudtrail' AND e.succeeded
    AND e.operation IN ('ModifySnapshotAttribute', 'ModifyImageAttribute',
                        'ModifyDBSnapshotAttribute',
                        'ModifyDBClusterSnapshotAttribute')
    AND t.type = 'text'
    AND (t.fullkey GLOB '*.add.items[[]*].userId'
         OR t.fullkey GLOB '*.add.items[[]*].group'
         OR t.fullkey GLOB '$.valuesToAdd[[]*]')
    AND t.value NOT IN (SELECT value FROM json_each(:trusted_accounts))
    AND t.value <> coalesce(e.account, '')
  GROUP BY e.leaf
  UNION ALL
  -- Azure Lighthouse
  SELECT leaf,
         'azure-activity: ' || operation || ' managed by tenant ' ||
         coalesce(json_extract(request, '$.properties.managedByTenantId'), '?') ||
         ' on ' || coalesce(resource_id, '?') || ' by ' ||
         coalesce(principal, '?')
  FROM events
  WHERE format = 'azure-activity' AND succeeded
    AND (lower(operation) = 'microsoft.managedservices/registrationassignments/write'
         OR (lower(operation) = 'microsoft.managedservices/registrationdefinitions/write'
             AND coalesce(json_extract(request, '$.properties.managedByTenantId'), '')
                 NOT IN (SELECT value FROM json_each(:trusted_tenants))))
)
ORDER BY leaf
