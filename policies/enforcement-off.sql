-- id: concealment.checks-switched-off
-- title: Compliance checks or threat detection switched off
-- severity: high
-- rationale: Switching off the controls that would flag misuse conceals it as
-- rationale: surely as deleting the logs. AWS Config recorders stopped or
-- rationale: deleted and Config rules deleted, GuardDuty detectors deleted,
-- rationale: Security Hub disabled; Azure Policy assignments deleted, set to
-- rationale: DoNotEnforce, or exempted; GCP organization policies deleted;
-- rationale: Kubernetes admission webhooks and validating admission policies
-- rationale: deleted.
-- covers: AWS, Azure, GCP, Kubernetes.
-- Only calls that succeeded.
SELECT leaf,
       format || ': ' || operation || ' on ' || coalesce(resource_id, '?') ||
       ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE succeeded
  AND (
       (format = 'cloudtrail' AND (
            (service = 'config.amazonaws.com'
             AND operation IN ('StopConfigurationRecorder',
                               'DeleteConfigurationRecorder',
                               'DeleteConfigRule', 'DeleteDeliveryChannel'))
         OR (service = 'guardduty.amazonaws.com'
             AND operation IN ('DeleteDetector', 'DisassociateFromMasterAccount'))
         OR (service = 'securityhub.amazonaws.com'
             AND operation = 'DisableSecurityHub')))
    OR (format = 'azure-activity' AND (
            lower(operation) IN ('microsoft.authorization/policyassignments/delete',
                                 'microsoft.authorization/policyexemptions/write')
         OR (lower(operation) = 'microsoft.authorization/policyassignments/write'
             AND json_extract(request, '$.properties.enforcementMode') = 'DoNotEnforce')))
    OR (format = 'gcp-audit'
        AND operation IN ('google.cloud.orgpolicy.v2.OrgPolicy.DeletePolicy',
                          'SetOrgPolicy.ClearOrgPolicy'))
    OR (format = 'k8s-audit' AND operation IN (
            'delete validatingwebhookconfigurations',
            'delete mutatingwebhookconfigurations',
            'delete validatingadmissionpolicies',
            'delete validatingadmissionpolicybindings'))
  )
ORDER BY leaf
