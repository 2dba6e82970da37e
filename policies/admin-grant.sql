-- id: privileged.admin-grant
-- title: Owner or administrator rights granted
-- severity: high
-- rationale: Whoever holds owner or administrator rights can read, move or
-- rationale: delete anything and switch off the controls; every such grant is
-- rationale: a reviewable event. AWS managed policies in aws_admin_policies
-- rationale: attached to a user, group or role; Azure role assignments of the
-- rationale: role definitions in azure_privileged_roles (Owner, User Access
-- rationale: Administrator, Contributor by default); GCP IAM policies that
-- rationale: bind a role in gcp_privileged_roles; Kubernetes bindings to the
-- rationale: cluster roles in k8s_privileged_roles.
-- covers: AWS, Azure, GCP, Kubernetes.
-- Only calls that succeeded.
-- param: aws_admin_policies = ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"]
-- param: azure_privileged_roles = ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "b24988ac-6180-42a0-ab88-20f7382dd24c"]
-- param: gcp_privileged_roles = ["roles/owner", "roles/editor", "roles/resourcemanager.organizationAdmin", "roles/iam.securityAdmin"]
-- param: k8s_privileged_roles = ["cluster-admin", "admin"]
SELECT leaf, detail FROM (
  SELECT leaf,
         'cloudtrail: ' || operation || ' ' || json_extract(request, '$.policyArn') ||
         ' to ' || coalesce(json_extract(request, '$.userName'),
                            json_extract(request, '$.roleName'),
                            json_extract(request, '$.groupName'), '?') ||
         ' by ' || coalesce(principal, '?') AS detail
  FROM events
  WHERE format = 'cloudtrail' AND succeeded
    AND service = 'iam.amazonaws.com'
    AND operation IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
    AND json_extract(request, '$.policyArn')
        IN (SELECT value FROM json_each(:aws_admin_policies))
  UNION ALL
  SELECT leaf,
         'azure-activity: role ' || r.value || ' assigned to ' ||
         coalesce(json_extract(request, '$.properties.principalId'), '?') ||
         ' at ' || coalesce(resource_id, '?') || ' by ' || coalesce(principal, '?')
  FROM events, json_each(:azure_privileged_roles) r
  WHERE format = 'azure-activity' AND succeeded
    AND lower(operation) = 'microsoft.authorization/roleassignments/write'
    AND lower(coalesce(json_extract(request, '$.properties.roleDefinitionId'), ''))
        LIKE '%/' || lower(r.value)
  UNION ALL
  SELECT e.leaf,
         'gcp-audit: ' || e.operation || ' binds ' || min(json_extract(b.value, '$.role')) ||
         ' on ' || coalesce(e.resource_id, '?') || ' by ' || coalesce(e.principal, '?')
  FROM events e, json_each(e.request, '$.policy.bindings') b
  WHERE e.format = 'gcp-audit' AND e.succeeded
    AND (e.operation LIKE '%SetIamPolicy' OR e.operation = 'storage.setIamPermissions')
    AND json_extract(b.value, '$.role') IN (SELECT value FROM json_each(:gcp_privileged_roles))
  GROUP BY e.leaf
  UNION ALL
  SELECT leaf,
         'k8s-audit: ' || operation || ' ' || coalesce(resource_id, '?') ||
         ' binds ' || json_extract(request, '$.roleRef.name') || ' by ' ||
         coalesce(principal, '?')
  FROM events
  WHERE format = 'k8s-audit' AND succeeded
    AND operation IN ('create clusterrolebindings', 'update clusterrolebindings',
                      'patch clusterrolebindings', 'create rolebindings',
                      'update rolebindings', 'patch rolebindings')
    AND json_extract(request, '$.roleRef.name')
        IN (SELECT value FROM json_each(:k8s_privileged_roles))
)
ORDER BY leaf
