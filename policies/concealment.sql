-- id: concealment.audit-trail-disabled
-- title: Audit trail stopped, deleted or narrowed
-- severity: critical
-- rationale: Switching off or narrowing the audit trail hides what follows.
-- rationale: AWS CloudTrail trails stopped or deleted, CloudTrail Lake event
-- rationale: data stores deleted or their ingestion stopped, trails changed
-- rationale: to log less (single region, no global services, no log file
-- rationale: validation) or to deliver elsewhere, event selectors that drop
-- rationale: management or write events, VPC flow logs and DNS query logging
-- rationale: deleted, CloudWatch Logs log groups and streams deleted with the
-- rationale: events they hold, an account leaving its organization (and so its
-- rationale: organization trail); Azure diagnostic settings and log profiles
-- rationale: deleted, diagnostic settings written with every log category
-- rationale: off, Log Analytics workspaces deleted; GCP log sinks and log
-- rationale: buckets deleted, sinks disabled or their destination, filter or
-- rationale: exclusions changed, exclusions added or changed,
-- rationale: logs deleted, audit log configs removed or exempting members;
-- rationale: Kubernetes dynamic audit sinks changed and events deleted.
-- covers: AWS, Azure, GCP, Kubernetes (its audit policy is an API server
-- covers: file, not an API object: only audit sinks and events are visible).
-- Only calls that succeeded: a refused attempt concealed nothing.
-- detail: "FORMAT: OPERATION by PRINCIPAL", then what narrowed it when the
-- call is not a plain stop or delete (tests/cli/test_audit.sh pins the form)
SELECT e.leaf,
       e.format || ': ' || e.operation || ' by ' || coalesce(e.principal, '?') ||
       coalesce(' (' || coalesce(c.target, e.resource_id, '?') || ': ' || c.why || ')', '')
       AS detail
FROM events e JOIN (
  -- AWS ---------------------------------------------------------------
  SELECT leaf,
         coalesce(json_extract(request, '$.name'),
                  json_extract(request, '$.trailName'),
                  json_extract(request, '$.eventDataStore'),
                  json_extract(request, '$.logGroupName') ||
                    coalesce('/' || json_extract(request, '$.logStreamName'), '')) AS target,
         CASE operation
           WHEN 'UpdateTrail' THEN
             trim(CASE WHEN json_extract(request, '$.isMultiRegionTrail') = 0
                       THEN 'single region; ' ELSE '' END ||
                  CASE WHEN json_extract(request, '$.includeGlobalServiceEvents') = 0
                       THEN 'no global service events; ' ELSE '' END ||
                  CASE WHEN json_extract(request, '$.enableLogFileValidation') = 0
                       THEN 'log file validation off; ' ELSE '' END ||
                  CASE WHEN json_extract(request, '$.s3BucketName') IS NOT NULL
                       THEN 'delivers to bucket ' || json_extract(request, '$.s3BucketName') || '; '
                       ELSE '' END ||
                  CASE WHEN json_extract(request, '$.cloudWatchLogsLogGroupArn') = ''
                       THEN 'CloudWatch Logs delivery removed; ' ELSE '' END, '; ')
           WHEN 'PutEventSelectors' THEN
             coalesce((SELECT group_concat(x, '; ') FROM (
                 SELECT DISTINCT CASE
                   WHEN json_extract(s.value, '$.includeManagementEvents') = 0
                     THEN 'management events off'
                   WHEN coalesce(json_extract(s.value, '$.readWriteType'), 'All') <> 'All'
                     THEN json_extract(s.value, '$.readWriteType') || ' events only'
                   WHEN json_array_length(s.value, '$.excludeManagementEventSources') > 0
                     THEN 'excludes ' || json_extract(s.value, '$.excludeManagementEventSources')
                 END AS x
                 FROM json_each(request, '$.eventSelectors') s) WHERE x IS NOT NULL),
               'advanced selectors ' || json_extract(request, '$.advancedEventSelectors'))
           WHEN 'DeleteLogGroup' THEN 'log group deleted with its events'
           WHEN 'DeleteLogStream' THEN 'log stream deleted with its events'
         END AS why
  FROM events
  WHERE format = 'cloudtrail' AND succeeded
    AND (
         (service = 'cloudtrail.amazonaws.com' AND (
              operation IN ('StopLogging', 'DeleteTrail', 'DeleteEventDataStore',
                            'StopEventDataStoreIngestion')
           OR (operation = 'UpdateTrail' AND (
                   json_extract(request, '$.isMultiRegionTrail') = 0
                OR json_extract(request, '$.includeGlobalServiceEvents') = 0
                OR json_extract(request, '$.enableLogFileValidation') = 0
                OR json_extract(request, '$.s3BucketName') IS NOT NULL
                OR json_extract(request, '$.cloudWatchLogsLogGroupArn') = ''))
              -- basic selectors: management events off, only reads or only
              -- writes, event sources excluded
           OR (operation = 'PutEventSelectors' AND (
                   EXISTS (SELECT 1 FROM json_each(request, '$.eventSelectors') s
                           WHERE json_extract(s.value, '$.includeManagementEvents') = 0
                              OR coalesce(json_extract(s.value, '$.readWriteType'), 'All') <> 'All'
                              OR json_array_length(s.value, '$.excludeManagementEventSources') > 0)
                   -- advanced selectors: none selects management events, or
                   -- one leaves events out (readOnly, Not... operators)
                OR (json_array_length(request, '$.advancedEventSelectors') > 0 AND (
                        NOT EXISTS (SELECT 1 FROM json_each(request, '$.advancedEventSelectors') a,
                                                  json_each(a.value, '$.fieldSelectors') f
                                    WHERE json_extract(f.value, '$.field') = 'eventCategory'
                                      AND json_extract(f.value, '$.equals') LIKE '%"Management"%')
                     OR EXISTS (SELECT 1 FROM json_each(request, '$.advancedEventSelectors') a,
                                              json_each(a.value, '$.fieldSelectors') f
                                WHERE json_extract(f.value, '$.field') = 'readOnly'
                                   OR json_type(f.value, '$.notEquals') IS NOT NULL
                                   OR json_type(f.value, '$.notStartsWith') IS NOT NULL
                                   OR json_type(f.value, '$.notEndsWith') IS NOT NULL)))))))
      OR (service = 'ec2.amazonaws.com' AND operation = 'DeleteFlowLogs')
         -- stored log events destroyed (CloudTrail's and flow logs' among them)
      OR (service = 'logs.amazonaws.com'
          AND operation IN ('DeleteLogGroup', 'DeleteLogStream'))
      OR (service = 'route53resolver.amazonaws.com'
          AND operation IN ('DeleteResolverQueryLogConfig',
                            'DisassociateResolverQueryLogConfig'))
      OR (service = 'organizations.amazonaws.com' AND operation = 'LeaveOrganization')
    )
  UNION ALL
  -- Azure (operationName in any casing) ------------------------------
  SELECT leaf, NULL,
         CASE WHEN lower(operation) = 'microsoft.insights/diagnosticsettings/write'
              THEN 'every log category disabled' END
  FROM events
  WHERE format = 'azure-activity' AND succeeded
    AND (lower(operation) IN ('microsoft.insights/diagnosticsettings/delete',
                              'microsoft.insights/logprofiles/delete',
                              'microsoft.operationalinsights/workspaces/delete')
      OR (lower(operation) = 'microsoft.insights/diagnosticsettings/write'
          AND json_array_length(request, '$.properties.logs') > 0
          AND NOT EXISTS (SELECT 1 FROM json_each(request, '$.properties.logs') l
                          WHERE json_extract(l.value, '$.enabled') = 1)))
  UNION ALL
  -- GCP ---------------------------------------------------------------
  SELECT e.leaf,
         coalesce(json_extract(e.request, '$.sinkName'),
                  json_extract(e.request, '$.logName'),
                  json_extract(e.request, '$.name')),
         CASE WHEN e.operation LIKE '%SetIamPolicy' THEN
           CASE WHEN coalesce(json_array_length(e.request, '$.policy.auditConfigs'), 0) = 0
                THEN 'audit log configs removed'
                ELSE 'exempts ' || (SELECT group_concat(m.value, ', ')
                                    FROM json_tree(e.request, '$.policy.auditConfigs') m
                                    WHERE m.path LIKE '%.exemptedMembers' AND m.type = 'text')
                     || ' from audit logging' END
              WHEN e.operation = 'google.logging.v2.ConfigServiceV2.UpdateSink' THEN
                CASE WHEN json_extract(e.request, '$.sink.disabled') = 1 THEN 'sink disabled'
                     ELSE 'changes ' || e.mask ||
                          coalesce('; filter ' || json_extract(e.request, '$.sink.filter'), '') ||
                          coalesce('; destination ' || json_extract(e.request, '$.sink.destination'), '') ||
                          coalesce('; exclusions ' || json_extract(e.request, '$.sink.exclusions'), '')
                END
              WHEN e.operation = 'google.logging.v2.ConfigServiceV2.UpdateExclusion' THEN
                'changes ' || e.mask ||
                coalesce('; filter ' || json_extract(e.request, '$.exclusion.filter'), '')
         END
  FROM (
    -- mask: the fields an update changes (updateMask, a string or {paths});
    -- UpdateSink without one changes destination, filter and includeChildren
    SELECT *, lower(replace(coalesce(
             CASE json_type(request, '$.updateMask')
               WHEN 'text' THEN json_extract(request, '$.updateMask')
               WHEN 'object' THEN (SELECT group_concat(value, ',')
                                   FROM json_each(request, '$.updateMask.paths'))
             END,
             CASE WHEN operation = 'google.logging.v2.ConfigServiceV2.UpdateSink'
                  THEN 'destination,filter,includeChildren' END), '_', '')) AS mask
    FROM events
    WHERE format = 'gcp-audit' AND succeeded) e
  WHERE (e.operation IN ('google.logging.v2.ConfigServiceV2.DeleteSink',
                         'google.logging.v2.ConfigServiceV2.DeleteBucket',
                         'google.logging.v2.ConfigServiceV2.CreateExclusion',
                         'google.logging.v2.LoggingServiceV2.DeleteLog')
         -- a sink disabled, or what it exports or where changed (not its
         -- description or writer identity): a changed filter may narrow
      OR (e.operation = 'google.logging.v2.ConfigServiceV2.UpdateSink'
          AND (json_extract(e.request, '$.sink.disabled') = 1
               OR instr(e.mask, 'destination') OR instr(e.mask, 'filter')
               OR instr(e.mask, 'exclusions') OR instr(e.mask, 'includechildren')))
         -- an exclusion changed, unless only switched off (which logs more)
      OR (e.operation = 'google.logging.v2.ConfigServiceV2.UpdateExclusion'
          AND NOT (e.mask = 'disabled'
                   AND json_extract(e.request, '$.exclusion.disabled') = 1))
         -- Data Access audit logging switched off (auditConfigs in the
         -- update mask and none left) or members exempted from it
      OR (e.operation LIKE '%SetIamPolicy'
          AND instr(coalesce(json_extract(e.request, '$.updateMask'), ''), 'auditConfigs') > 0
          AND (coalesce(json_array_length(e.request, '$.policy.auditConfigs'), 0) = 0
               OR EXISTS (SELECT 1 FROM json_tree(e.request, '$.policy.auditConfigs') m
                          WHERE m.path LIKE '%.exemptedMembers' AND m.type = 'text'))))
  UNION ALL
  -- Kubernetes ----------------------------------------------------------
  SELECT leaf, NULL, NULL
  FROM events
  WHERE format = 'k8s-audit' AND succeeded
    AND ((service = 'auditregistration.k8s.io'
          AND operation NOT LIKE 'get %' AND operation NOT LIKE 'list %'
          AND operation NOT LIKE 'watch %')
      OR (service IN ('core', 'events.k8s.io')
          AND operation IN ('delete events', 'deletecollection events')))
) c ON c.leaf = e.leaf
ORDER BY e.leaf
