-- id: concealment.audit-trail-disabled
-- title: Audit trail stopped, deleted or narrowed
-- severity: critical
-- rationale: Switching off or narrowing the audit trail hides what follows.
-- rationale: AWS CloudTrail trails stopped, deleted or changed, VPC flow
-- rationale: logs and DNS query logging deleted, an account leaving its
-- rationale: organization (and so its organization trail); Azure
-- rationale: diagnostic settings and log profiles deleted; GCP log sinks
-- rationale: deleted or changed and exclusions added; Kubernetes dynamic
-- rationale: audit sinks changed. Refused attempts are not findings.
-- covers: AWS, Azure, GCP, Kubernetes.
SELECT leaf,
       format || ': ' || operation || ' by ' || coalesce(principal, '?') AS detail
FROM events
WHERE succeeded
  AND (
       (service = 'cloudtrail.amazonaws.com'
        AND operation IN ('StopLogging', 'DeleteTrail', 'UpdateTrail',
                          'PutEventSelectors', 'DeleteEventDataStore'))
    OR (service = 'ec2.amazonaws.com' AND operation = 'DeleteFlowLogs')
    OR (service = 'route53resolver.amazonaws.com'
        AND operation IN ('DeleteResolverQueryLogConfig',
                          'DisassociateResolverQueryLogConfig'))
    OR (service = 'organizations.amazonaws.com'
        AND operation = 'LeaveOrganization')
    OR lower(operation) IN ('microsoft.insights/diagnosticsettings/delete',
                            'microsoft.insights/logprofiles/delete')
    OR operation IN ('google.logging.v2.ConfigServiceV2.DeleteSink',
                     'google.logging.v2.ConfigServiceV2.UpdateSink',
                     'google.logging.v2.ConfigServiceV2.CreateExclusion')
    OR (format = 'k8s-audit' AND service = 'auditregistration.k8s.io'
        AND operation NOT LIKE 'get %' AND operation NOT LIKE 'list %'
        AND operation NOT LIKE 'watch %')
  )
ORDER BY leaf
