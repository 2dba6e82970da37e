-- id: privileged.grant-outside-organization
-- title: Access granted to principals outside the organization
-- severity: high
-- rationale: A grant to an identity outside the customer's own domains hands
-- rationale: access to someone the customer's controls do not govern. GCP IAM
-- rationale: policies binding any role to a user, group or domain outside
-- rationale: org_domains (service accounts count by the domain of their
-- rationale: project), and allUsers or allAuthenticatedUsers.
-- covers: GCP. AWS cross-account trust is isolation.cross-account-delegation;
-- covers: Azure role assignments name object ids only, whose tenant the
-- covers: Activity Log does not give; Kubernetes users have no domain.
-- Only calls that succeeded.
-- param: org_domains = ["example.com"]
SELECT e.leaf,
       'gcp-audit: ' || e.operation || ' grants ' || min(json_extract(b.value, '$.role')) ||
       ' to ' || min(m.value) || ' on ' || coalesce(e.resource_id, '?') ||
       ' by ' || coalesce(e.principal, '?') AS detail
FROM events e,
     json_each(e.request, '$.policy.bindings') b,
     json_each(b.value, '$.members') m
WHERE e.format = 'gcp-audit' AND e.succeeded
  AND (e.operation LIKE '%SetIamPolicy' OR e.operation = 'storage.setIamPermissions')
  AND (m.value IN ('allUsers', 'allAuthenticatedUsers')
       OR (m.value LIKE '%@%'
           AND lower(substr(m.value, instr(m.value, '@') + 1))
               NOT IN (SELECT lower(value) FROM json_each(:org_domains))
           AND lower(substr(m.value, instr(m.value, '@') + 1))
               NOT LIKE '%.gserviceaccount.com')
       OR (m.value LIKE 'domain:%'
           AND lower(substr(m.value, 8))
               NOT IN (SELECT lower(value) FROM json_each(:org_domains))))
GROUP BY e.leaf
ORDER BY e.leaf
