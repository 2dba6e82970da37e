-- id: bulk.speech-to-text-at-scale
-- title: Speech-to-text provisioned or run at scale
-- severity: high
-- rationale: Transcribing speech in bulk is the step that turns intercepted
-- rationale: calls into searchable text. Its control-plane traces, counted
-- rationale: per account (AWS, GCP project, Azure subscription) over
-- rationale: window_hours, never the audio or text: AWS Transcribe jobs
-- rationale: started, GCP Speech-to-Text recognitions and recognizers, Azure
-- rationale: Speech (SpeechServices) accounts created. Every event of a window
-- rationale: holding at least min_operations is cited.
-- covers: AWS, Azure, GCP (where Data Access audit logs are on). Kubernetes
-- covers: has no speech service.
-- Only calls that succeeded.
-- param: min_operations = 100
-- param: window_hours = 24
WITH ops AS (
  SELECT leaf, format, account, operation, julianday(event_time) * 24.0 AS h
  FROM events
  WHERE succeeded
    AND ((format = 'cloudtrail' AND service = 'transcribe.amazonaws.com'
          AND operation IN ('StartTranscriptionJob', 'StartCallAnalyticsJob',
                            'StartMedicalTranscriptionJob',
                            'StartStreamTranscription'))
      OR (format = 'gcp-audit' AND service = 'speech.googleapis.com'
          AND (operation LIKE '%.Recognize' OR operation LIKE '%.LongRunningRecognize'
               OR operation LIKE '%.BatchRecognize' OR operation LIKE '%.CreateRecognizer'))
      OR (format = 'azure-activity'
          AND lower(operation) = 'microsoft.cognitiveservices/accounts/write'
          AND json_extract(request, '$.kind') = 'SpeechServices'))
),
windows AS (
  SELECT a.leaf AS start, a.account, a.h, count(*) AS n
  FROM ops a JOIN ops b
    ON b.account = a.account AND b.h >= a.h AND b.h < a.h + :window_hours
  GROUP BY a.leaf
  HAVING count(*) >= :min_operations
)
SELECT DISTINCT o.leaf,
       o.format || ': ' || (SELECT max(n) FROM windows x WHERE x.account = o.account) ||
       ' speech-to-text operations in account ' || o.account || ' within ' ||
       :window_hours || ' h (threshold ' || :min_operations || ')' AS detail
FROM ops o JOIN windows w
  ON o.account = w.account AND o.h >= w.h AND o.h < w.h + :window_hours
ORDER BY o.leaf
