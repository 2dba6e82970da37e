#!/bin/sh
# The end-to-end demonstration of the verifiable log on an embedded default:
# a key, a log, control-plane style records appended in batches, a signed
# checkpoint, an inclusion proof checked offline, a consistency proof, a
# full verification, and tamper detection; then cloud audit-log exports of
# the four providers ingested and indexed, re-ingested (nothing added), a
# malformed export rejected, the index queried and verified against the
# log; then the audit story on generated data with planted violations:
# ingest, checkpoint, audit with the shipped policy pack, the report,
# offline verification of the evidence, a re-check against the log, and a
# tampered bundle refused. Runs in a temporary directory; the audit's
# evidence bundle (and a screenshot of its report, when Chromium is
# installed) is kept in build/demo/. Last, the log as a service on
# 127.0.0.1: a witness cosigning, appends over HTTP answered once durable,
# a monitor verifying every entry, and a split view caught.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P="$ROOT/probity"
W=$(mktemp -d "${TMPDIR:-/tmp}/probity-demo.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
cd "$W"
step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }

step "1. A signer key for the log (the origin is the key name)"
echo "$ $P keygen demo.probity.example/log -o log.key"
VKEY=$("$P" keygen demo.probity.example/log -o log.key)
echo "verifier key: $VKEY"

step "2. An empty log: a signed checkpoint of size 0"
show "$P" init log --key log.key
show cat log/checkpoint

step "3. Append 1,000 control-plane records (one per line), then 300 more"
i=0
while [ $i -lt 1300 ]; do
	printf '{"event":"CreateBucket","region":"eu-west-1","seq":%d}\n' $i
	i=$((i + 1))
done > records.jsonl
head -n 1000 records.jsonl > first.jsonl
tail -n 300 records.jsonl > second.jsonl
show "$P" add log --key log.key first.jsonl
OLD=$(sed -n 2p log/checkpoint)
show "$P" add log --key log.key second.jsonl
show cat log/checkpoint
echo "tiles:"; (cd log && find tile -type f | sort | sed 's/^/  /')

step "4. Prove that record 1234 is in the log, and check it offline"
show "$P" prove log 1234 > 1234.tlog-proof
cat 1234.tlog-proof
sed -n 1235p records.jsonl | tr -d '\n' > entry-1234
show "$P" verify-proof 1234.tlog-proof entry-1234 --vkey "$VKEY"

step "5. The log at size $OLD is a prefix of the log now (consistency proof)"
show "$P" consistency log "$OLD"

step "6. Verify everything from the entries up"
show "$P" verify log --vkey "$VKEY"

step "7. Tamper with one record: verification names the file and position"
cp -r log tampered
printf 'X' | dd of=tampered/tile/entries/000 bs=1 seek=20 conv=notrunc 2>/dev/null
if "$P" verify tampered --vkey "$VKEY"; then
	echo "tampering went unnoticed" >&2
	exit 1
fi
printf '{"event":"DeleteTrail"}' > forged
if "$P" verify-proof 1234.tlog-proof forged --vkey "$VKEY"; then
	echo "a forged entry was accepted" >&2
	exit 1
fi
step "8. Ingest cloud audit-log exports (CloudTrail .json.gz, Azure Activity, GCP audit, Kubernetes audit)"
CT=exports/AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/01
mkdir -p "$CT" exports/azure exports/gcp exports/k8s
cat > ct.json <<'END'
{"Records":[
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops","accountId":"111122223333"},"eventTime":"2024-03-01T09:00:00Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"eu-west-1","sourceIPAddress":"192.0.2.10","userAgent":"aws-cli/2","requestParameters":{"bucketName":"archive-1","CreateBucketConfiguration":{"LocationConstraint":"eu-west-1"}},"responseElements":null,"eventID":"d1c1a0e0-0000-4000-8000-000000000001","eventType":"AwsApiCall","recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2024-03-01T09:30:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userAgent":"console","requestParameters":{"name":"org-trail"},"responseElements":null,"eventID":"d1c1a0e0-0000-4000-8000-000000000002","eventType":"AwsApiCall","recipientAccountId":"111122223333"}
]}
END
gzip -c ct.json > "$CT/111122223333_CloudTrail_eu-west-1_20240301T0930Z_demo.json.gz"
cat > exports/azure/activity.jsonl <<'END'
{"time":"2024-03-01T10:00:00Z","resourceId":"/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Insights/diagnosticSettings/audit","operationName":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE","category":"Administrative","resultType":"Success","correlationId":"c-1","callerIpAddress":"203.0.113.5","properties":{"subscriptionId":"sub-1"},"level":"Informational","location":"global","eventDataId":"e-1"}
END
cat > exports/gcp/audit.json <<'END'
[{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","status":{},"authenticationInfo":{"principalEmail":"ops@example.com"},"requestMetadata":{"callerIp":"192.0.2.99"},"serviceName":"logging.googleapis.com","methodName":"google.logging.v2.ConfigServiceV2.DeleteSink","resourceName":"projects/proj-1/sinks/audit-export"},"insertId":"g-1","resource":{"type":"logging_sink","labels":{"project_id":"proj-1"}},"timestamp":"2024-03-01T11:00:00Z","severity":"NOTICE","logName":"projects/proj-1/logs/cloudaudit.googleapis.com%2Factivity"}]
END
cat > exports/k8s/audit.log <<'END'
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"k-1","stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings","verb":"create","user":{"username":"mallory"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"clusterrolebindings","name":"mallory-admin","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"2024-03-01T12:00:00.000000Z","stageTimestamp":"2024-03-01T12:00:00.010000Z"}
END
show "$P" ingest log --key log.key exports

step "9. Ingest the same exports again: every record is a duplicate, nothing is added"
show "$P" ingest log --key log.key exports

step "10. A malformed export is rejected whole, naming file and line; the others go on"
printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"k-2",' > broken.jsonl
if show "$P" ingest log --key log.key broken.jsonl; then
	echo "a malformed export was accepted" >&2
	exit 1
fi

step "11. The index (log/index.sqlite): normalised fields, each row pointing at its leaf"
if command -v sqlite3 >/dev/null 2>&1; then
	show sqlite3 -header -column log/index.sqlite \
		"SELECT leaf, format, event_time, principal, operation, region FROM events ORDER BY leaf"
else
	echo "(sqlite3 not installed: skipped)"
fi

step "12. Verify the log, and that the index is exactly what the log's entries give"
show "$P" verify log --vkey "$VKEY"

step "13. Generate a month of control-plane records of a provider's customers, with planted violations"
GEN="$ROOT/build/rel/gen-events"
D="$ROOT/build/demo"
rm -rf "$D" && mkdir -p "$D"
show "$GEN" --seed 2024 --events 20000 --out records
ls records/*
"$P" keygen provider.example/audit-log -o audit.key >audit.vkey
AVKEY=$(cat audit.vkey)
"$P" init audit --key audit.key >/dev/null
show "$P" ingest audit --key audit.key records

step "14. The signed checkpoint the audit will be about"
show "$P" checkpoint audit

step "15. Audit with the shipped policy pack; the auditor sets the allowed regions"
cat > params.json <<'END'
{"allowed_regions": ["westeurope", "northeurope", "eu-west-1", "eu-central-1", "europe-west1", "europe-west4", "global"]}
END
cat params.json
show "$P" audit audit --params params.json --out "$D/bundle"
echo "findings by policy:"
grep -o '"policy":"[^"]*"' "$D/bundle/findings.json" | sort | uniq -c

step "16. Open the report"
echo "report: file://$D/bundle/report.html"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROMIUM" ]; then
	mkdir -p "$W/chrome"
	# --no-sandbox: Chromium's sandbox refuses to run as root; the page has
	# no script and may load nothing (its Content-Security-Policy).
	HOME="$W/chrome" timeout 60 "$CHROMIUM" --headless --no-sandbox \
		--disable-gpu --hide-scrollbars --window-size=1280,2400 \
		--screenshot="$D/report.png" "file://$D/bundle/report.html" \
		>/dev/null 2>&1 || true
	[ -s "$D/report.png" ] && echo "screenshot: $D/report.png"
else
	echo "(chromium not installed: no screenshot)"
fi

step "17. Verify the evidence offline, with nothing but the bundle and the log's public key"
show "$P" verify-evidence "$D/bundle" --vkey "$AVKEY"

step "18. Re-check the findings against the log itself: the same bytes"
show "$P" audit audit --check "$D/bundle"

step "19. Alter one byte of a copy of the bundle: verification refuses it, naming the file"
cp -r "$D/bundle" bundle-copy
f=bundle-copy/entries/$(ls bundle-copy/entries | head -n 1)
printf 'X' | dd of="$f" bs=1 seek=12 count=1 conv=notrunc 2>/dev/null
if show "$P" verify-evidence bundle-copy --vkey "$AVKEY"; then
	echo "a tampered bundle was accepted" >&2
	exit 1
fi

# background LOGNAME ARGS...: probity ARGS in the background; waits for its
# "listening on URL" line and sets URL
background() {
	n=$1
	shift
	"$P" "$@" >"$n.out" 2>"$n.err" &
	PIDS="$PIDS $!"
	i=0 URL=""
	while [ -z "$URL" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		URL=$(sed -n 's/^listening on //p' "$n.out")
		i=$((i + 1))
	done
	[ -n "$URL" ] || { cat "$n.err" >&2; exit 1; }
	printf '$ probity %s &   # listening on %s\n' "$*" "$URL" >&2
}

step "20. A witness, run by someone else, with its own key, agrees to witness the log"
"$P" keygen witness.example/w1 -o witness.key --witness >witness.vkey
WVKEY=$(cat witness.vkey)
background witness witness --listen 127.0.0.1:0 --key witness.key \
	--log "provider.example/audit-log=$AVKEY" --state witness.sqlite
WURL=$URL

step "21. Serve the log over HTTP; it publishes only checkpoints the witness has cosigned"
printf 'read,append demo-appender-0123456789abcdef\nread demo-auditor-0123456789abcdef\n' >tokens
chmod 600 tokens
background serve serve audit --key audit.key --listen 127.0.0.1:0 --tokens tokens \
	--witness "$WURL=$WVKEY"
SURL=$URL
i=0
until curl -sf "$SURL/checkpoint" | grep -q "^— witness.example/w1 " || [ "$i" -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
show curl -s "$SURL/checkpoint"

step "22. Append over HTTP: the answer (leaf indexes) comes once the entries are durable"
printf '{"demo":"a record appended over HTTP"}\n{"demo":"another"}\n' >two.jsonl
show curl -s -H "Authorization: Bearer demo-appender-0123456789abcdef" --data-binary @two.jsonl "$SURL/add"
printf '(an auditor'"'"'s read-only credential cannot append: HTTP %s)\n' \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer demo-auditor-0123456789abcdef" --data-binary x "$SURL/add")"
i=0
until [ "$(curl -s "$SURL/checkpoint" | sed -n 2p)" = "$(sed -n 2p audit/checkpoint)" ] || [ "$i" -ge 50 ]; do sleep 0.1; i=$((i + 1)); done

step "23. An independent monitor follows the log over HTTP and verifies every entry and the cosignature"
printf 'demo-auditor-0123456789abcdef\n' >auditor.token
chmod 600 auditor.token
show "$P" monitor "$SURL" --vkey "$AVKEY" --witness-vkey "$WVKEY" --token auditor.token --state monitor --once

step "24. The same key signs another history of the same size: the monitor catches the split view"
"$P" init fork --key audit.key >/dev/null
size=$(sed -n 2p audit/checkpoint)
seq 1 "$size" | sed 's/^/forged /' | "$P" add fork --key audit.key >/dev/null
background fork serve fork --key audit.key --listen 127.0.0.1:0 --tokens tokens
if show "$P" monitor "$URL" --vkey "$AVKEY" --token auditor.token --state monitor --once; then
	echo "the split view was not caught" >&2
	exit 1
fi
show ls monitor/evidence/*/

printf '\nDemo complete: every step above was checked. The evidence bundle is in %s\n' "$D/bundle"
