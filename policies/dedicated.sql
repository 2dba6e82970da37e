-- id: isolation.dedicated-environment
-- title: Dedicated or segregated environment created
-- severity: info
-- rationale: Single-tenant hardware and networks cut off from public access
-- rationale: are legitimate, but they are also how a workload is kept out of
-- rationale: sight of the provider's shared-infrastructure controls; a review
-- rationale: of alleged misuse starts from where such environments are. AWS
-- rationale: dedicated hosts allocated and instances launched with dedicated
-- rationale: or host tenancy; Azure dedicated hosts, and storage accounts or
-- rationale: key vaults created with public network access disabled; GCP
-- rationale: sole-tenant node groups.
-- covers: AWS, Azure, GCP. Kubernetes isolation (namespaces, network
-- covers: policies) is routine and is not cited.
-- Only calls that succeeded.
SELECT leaf,
       format || ': ' || operation || ' ' || coalesce(resource_id, '') ||
       ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE succeeded
  AND (
       (format = 'cloudtrail' AND service = 'ec2.amazonaws.com' AND (
            operation = 'AllocateHosts'
         OR (operation = 'RunInstances'
             AND lower(coalesce(json_extract(request, '$.placement.tenancy'),
                                json_extract(request, '$.instancesSet.items[0].placement.tenancy'),
                                '')) IN ('dedicated', 'host'))))
    OR (format = 'azure-activity' AND (
            lower(operation) IN ('microsoft.compute/hostgroups/hosts/write',
                                 'microsoft.compute/hostgroups/write')
         OR (lower(operation) IN ('microsoft.storage/storageaccounts/write',
                                  'microsoft.keyvault/vaults/write')
             AND json_extract(request, '$.properties.publicNetworkAccess') = 'Disabled')))
    OR (format = 'gcp-audit'
        AND (operation LIKE '%.compute.nodeGroups.insert'
             OR operation LIKE '%.compute.nodeTemplates.insert'))
  )
ORDER BY leaf
