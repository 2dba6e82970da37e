-- id: privileged.aws-root-use
-- title: AWS account root user used
-- severity: medium
-- rationale: The root user bypasses IAM policies; day-to-day use of it, or
-- rationale: its use outside break-glass procedures, is a privileged-access
-- rationale: finding. Only records whose identity type is Root are cited.
SELECT leaf,
       'root of ' || coalesce(principal_account, account, '?') || ': ' ||
       operation AS detail
FROM events
WHERE format = 'cloudtrail' AND principal_type = 'Root'
ORDER BY leaf
