-- id: concealment.checks-switched-off
-- title: Compliance checks or threat detection switched off
-- severity: high
-- rationale: Switching off the controls that would flag misuse conceals it as
-- rationale: surely as deleting the logs. AWS Config recorders stopped or
-- rationale: deleted, Config rules and conformance packs deleted, GuardDuty
-- rationale: detectors deleted or disabled and findings auto-archived,
-- rationale: Security Hub, Macie and Inspector disabled, Security Hub
-- rationale: standards and controls disabled, IAM Access Analyzer analyzers
-- rationale: deleted, service control policies detached or switched off;
-- rationale: Azure Policy assignments deleted, set to DoNotEnforce, or
-- rationale: exempted, Defender for Cloud plans set to Free; GCP
-- rationale: organization policies deleted, cleared or set to not enforce,
-- rationale: Security Command Center services disabled and mute rules
-- rationale: created; Kubernetes admission webhooks and validating admission
-- rationale: policies deleted, and webhooks patched to ignore their failures.
-- covers: AWS, Azure, GCP, Kubernetes.
-- Only calls that succeeded: a refused attempt switched nothing off.
SELECT e.leaf,
       e.format || ': ' || e.operation || ' on ' ||
       coalesce(e.resource_id, c.target, 'account ' || e.account, '?') ||
       coalesce(' (' || c.why || ')', '') ||
       ' by ' || coalesce(e.principal, '?') AS detail
FROM events e JOIN (
  -- AWS -----------------------------------------------------------------
  SELECT leaf,
         coalesce(json_extract(request, '$.configurationRecorderName'),
                  json_extract(request, '$.configRuleName'),
                  json_extract(request, '$.conformancePackName'),
                  json_extract(request, '$.deliveryChannelName'),
                  json_extract(request, '$.detectorId'),
                  json_extract(request, '$.analyzerName'),
                  json_extract(request, '$.policyId')) AS target,
         CASE
           WHEN operation = 'UpdateDetector' THEN 'enable false'
           WHEN operation = 'CreateFilter' THEN 'auto-archive filter ' ||
             coalesce(json_extract(request, '$.name'), '?')
           WHEN operation = 'UpdateStandardsControl' THEN
             coalesce(json_extract(request, '$.standardsControlArn'), '?') || ' disabled: ' ||
             coalesce(json_extract(request, '$.disabledReason'), '')
           WHEN operation = 'BatchDisableStandards' THEN
             json_extract(request, '$.standardsSubscriptionArns')
           WHEN operation = 'DetachPolicy' THEN
             'from ' || coalesce(json_extract(request, '$.targetId'), '?')
         END AS why
  FROM events
  WHERE format = 'cloudtrail' AND succeeded
    AND ((service = 'config.amazonaws.com'
          AND operation IN ('StopConfigurationRecorder', 'DeleteConfigurationRecorder',
                            'DeleteConfigRule', 'DeleteDeliveryChannel',
                            'DeleteConformancePack', 'DeleteOrganizationConfigRule',
                            'DeleteOrganizationConformancePack'))
      OR (service = 'guardduty.amazonaws.com' AND (
              operation IN ('DeleteDetector', 'DisassociateFromMasterAccount',
                            'DisassociateFromAdministratorAccount')
           OR (operation = 'UpdateDetector' AND json_extract(request, '$.enable') = 0)
           OR (operation = 'CreateFilter' AND json_extract(request, '$.action') = 'ARCHIVE')))
      OR (service = 'securityhub.amazonaws.com' AND (
              operation IN ('DisableSecurityHub', 'BatchDisableStandards')
           OR (operation = 'UpdateStandardsControl'
               AND json_extract(request, '$.controlStatus') = 'DISABLED')))
      OR (service = 'macie2.amazonaws.com' AND operation = 'DisableMacie')
      OR (service = 'inspector2.amazonaws.com' AND operation = 'Disable')
      OR (service = 'access-analyzer.amazonaws.com' AND operation = 'DeleteAnalyzer')
      OR (service = 'organizations.amazonaws.com'
          AND (operation = 'DisablePolicyType'
               -- (detaching the default FullAWSAccess restricts, not frees)
               OR (operation IN ('DetachPolicy', 'DeletePolicy')
                   AND json_extract(request, '$.policyId') <> 'p-FullAWSAccess'))))
  UNION ALL
  -- Azure (operationName in any casing) --------------------------------
  SELECT leaf, NULL,
         CASE WHEN lower(operation) = 'microsoft.authorization/policyassignments/write'
                THEN 'enforcementMode DoNotEnforce'
              WHEN lower(operation) = 'microsoft.authorization/policyexemptions/write'
                THEN 'exemption ' || coalesce(json_extract(request, '$.properties.exemptionCategory'), '?') ||
                     ' of ' || coalesce(json_extract(request, '$.properties.policyAssignmentId'), '?')
              WHEN lower(operation) = 'microsoft.security/pricings/write'
                THEN 'pricingTier Free'
         END
  FROM events
  WHERE format = 'azure-activity' AND succeeded
    AND (lower(operation) IN ('microsoft.authorization/policyassignments/delete',
                              'microsoft.authorization/policyexemptions/write')
      OR (lower(operation) = 'microsoft.authorization/policyassignments/write'
          AND json_extract(request, '$.properties.enforcementMode') = 'DoNotEnforce')
      OR (lower(operation) = 'microsoft.security/pricings/write'
          AND json_extract(request, '$.properties.pricingTier') = 'Free'))
  UNION ALL
  -- GCP -----------------------------------------------------------------
  SELECT leaf,
         coalesce(json_extract(request, '$.name'),
                  json_extract(request, '$.policy.name'),
                  json_extract(request, '$.securityCenterService.name')),
         CASE WHEN operation LIKE '%.OrgPolicy.UpdatePolicy' THEN
                CASE WHEN json_extract(request, '$.policy.spec.reset') = 1
                     THEN 'reset to the default'
                     WHEN instr(json_extract(request, '$.policy.spec.rules'), '"allowAll":true') > 0
                     THEN 'allowAll' ELSE 'enforce false' END
              WHEN operation LIKE '%.UpdateSecurityCenterService' THEN 'DISABLED'
              WHEN operation LIKE '%.CreateMuteConfig' THEN
                'mutes ' || coalesce(json_extract(request, '$.muteConfig.filter'), '?')
         END
  FROM events
  WHERE format = 'gcp-audit' AND succeeded
    AND (operation = 'google.cloud.orgpolicy.v2.OrgPolicy.DeletePolicy'
         -- Resource Manager v1 (cloudresourcemanager.googleapis.com)
      OR (service = 'cloudresourcemanager.googleapis.com'
          AND operation LIKE '%ClearOrgPolicy')
         -- v2 policies reset to the default, or a rule that does not enforce
      OR (operation = 'google.cloud.orgpolicy.v2.OrgPolicy.UpdatePolicy'
          AND (json_extract(request, '$.policy.spec.reset') = 1
               OR EXISTS (SELECT 1 FROM json_each(request, '$.policy.spec.rules') r
                          WHERE json_extract(r.value, '$.enforce') = 0
                             OR json_extract(r.value, '$.allowAll') = 1)))
      OR (operation LIKE 'google.cloud.securitycentermanagement.v%.SecurityCenterManagement.UpdateSecurityCenterService'
          AND json_extract(request, '$.securityCenterService.intendedEnablementState') = 'DISABLED')
      OR operation GLOB 'google.cloud.securitycenter.v*.SecurityCenter.CreateMuteConfig')
  UNION ALL
  -- Kubernetes ----------------------------------------------------------
  SELECT leaf, NULL,
         CASE WHEN operation LIKE 'patch %' THEN 'failurePolicy Ignore' END
  FROM events
  WHERE format = 'k8s-audit' AND succeeded
    AND (operation IN ('delete validatingwebhookconfigurations',
                       'delete mutatingwebhookconfigurations',
                       'delete validatingadmissionpolicies',
                       'delete validatingadmissionpolicybindings',
                       'deletecollection validatingwebhookconfigurations',
                       'deletecollection mutatingwebhookconfigurations')
         -- a webhook patched to let requests through when it cannot be
         -- reached (a patch holds only what changes; an update carries the
         -- whole object, so it cannot tell a change from a webhook that
         -- always ignored failures, and is not judged)
      OR (operation IN ('patch validatingwebhookconfigurations',
                        'patch mutatingwebhookconfigurations')
          AND EXISTS (SELECT 1 FROM json_tree(request) t
                      WHERE t.key = 'failurePolicy' AND t.value = 'Ignore')))
) c ON c.leaf = e.leaf
ORDER BY e.leaf
