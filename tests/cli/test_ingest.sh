#!/bin/sh
# Black-box tests of probity ingest, reindex and the index checks of verify:
# every record of the real samples in ../shared/data committed and indexed,
# re-ingest adds nothing, bad files rejected whole while the rest goes on,
# gzip, large records by digest, numbers JCS cannot carry, an index left
# behind by a crash caught up, tampering with the index or a blob detected.
# Records are re-derived independently where python3 is available
# (json.dumps with sorted keys is RFC 8785 for records without fractions).
#
# Env: PROBITY (binary), PRB_SHARED (optional real samples), VERBOSE=1.
set -u
. "$(dirname "$0")/lib.sh"

HAVE_SQLITE=""
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1
# q DIR SQL: one query on DIR's index
q() { sqlite3 -batch -noheader "$1/index.sqlite" "$2"; }

new_key ingest-test.example/log "$T/k" || finish
VKEY=$VK
L=$T/log
new_log "$L" "$T/k" || finish

# ---------------------------------------------------------------------------
section "synthetic records of each format (no ../shared needed)"
D=$T/in
mkdir -p "$D/aws" "$D/azure" "$D/gcp" "$D/k8s"
cat >"$D/aws/ct.json" <<'EOF'
{"Records":[
 {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},
  "eventTime":"2024-03-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"eu-west-1",
  "sourceIPAddress":"192.0.2.10","userAgent":"aws-cli/2","requestParameters":{"bucketName":"b1","CreateBucketConfiguration":{"LocationConstraint":"eu-west-1"}},
  "responseElements":null,"eventID":"11111111-0000-0000-0000-000000000001","eventType":"AwsApiCall","recipientAccountId":"111122223333"},
 {"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},
  "eventTime":"2024-03-01T10:05:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1",
  "sourceIPAddress":"198.51.100.7","userAgent":"console","requestParameters":{"name":"main-trail"},"responseElements":null,
  "eventID":"11111111-0000-0000-0000-000000000002","eventType":"AwsApiCall","recipientAccountId":"111122223333"}
]}
EOF
cat >"$D/azure/activity.jsonl" <<'EOF'
{"time":"2024-03-01T11:00:00.1234567Z","resourceId":"/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1","operationName":"MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE","category":"Administrative","resultType":"Success","correlationId":"c-1","callerIpAddress":"203.0.113.5","identity":{"claims":{"http://schemas.microsoft.com/identity/claims/tenantid":"t-1"}},"properties":{"eventCategory":"Administrative","entity":"/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1","message":"Microsoft.Storage/storageAccounts/write","subscriptionId":"sub-1"},"level":"Information","location":"global","eventDataId":"e-1","tenantId":"t-1"}
EOF
cat >"$D/gcp/audit.json" <<'EOF'
[{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","status":{},"authenticationInfo":{"principalEmail":"bob@example.com"},"requestMetadata":{"callerIp":"192.0.2.99"},"serviceName":"storage.googleapis.com","methodName":"storage.buckets.create","resourceName":"projects/_/buckets/b2"},
  "insertId":"gcp-1","resource":{"type":"gcs_bucket","labels":{"project_id":"proj-1","location":"europe-west1","bucket_name":"b2"}},
  "timestamp":"2024-03-01T12:00:00.5Z","severity":"NOTICE","logName":"projects/proj-1/logs/cloudaudit.googleapis.com%2Factivity"}]
EOF
cat >"$D/k8s/audit.log" <<'EOF'
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"carol","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","name":"p1","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"2024-03-01T13:00:00.000000Z","stageTimestamp":"2024-03-01T13:00:00.100000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"carol"},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","name":"p1","apiVersion":"v1"},"requestReceivedTimestamp":"2024-03-01T13:00:00.000000Z","stageTimestamp":"2024-03-01T13:00:00.050000Z"}
EOF
prb ingest "$L" --key "$T/k" "$D"
if [ "$RC" -eq 0 ]; then ok "ingest of one directory with every format"; else bad "ingest of every format" "exit $RC: $(head_of "$T/err" 5)"; fi
eq "size line after the batch" "$(grep -E '^size ' "$T/out" | tail -n 1)" "size 6"
check "summary counts 6 new, 0 duplicates" grep -q "6 records, 6 new, 0 duplicates; log size 6" "$T/out"
verify_ok "the log verifies after ingest" "$L" "$VKEY"
check "verify says the index matches" grep -q "index: matches the log" "$T/out"

if [ -n "$HAVE_SQLITE" ]; then
	eq "index rows" "$(q "$L" 'SELECT count(*) FROM events')" 6
	eq "formats in leaf order (walk in byte order: aws azure gcp k8s)" \
		"$(q "$L" 'SELECT group_concat(format, " ") FROM (SELECT format FROM events ORDER BY leaf)')" \
		"cloudtrail cloudtrail azure-activity gcp-audit k8s-audit k8s-audit"
	eq "CloudTrail row" "$(q "$L" "SELECT event_id, event_time, account, principal, operation, region, source_ip FROM events WHERE leaf = 1")" \
		"11111111-0000-0000-0000-000000000002|2024-03-01T10:05:00Z|111122223333|arn:aws:iam::111122223333:root|StopLogging|us-east-1|198.51.100.7"
	eq "Azure event id and subscription" "$(q "$L" "SELECT event_id, account, source_ip FROM events WHERE format = 'azure-activity'")" "e-1|sub-1|203.0.113.5"
	eq "GCP row" "$(q "$L" "SELECT event_id, account, principal, operation, location FROM events WHERE format = 'gcp-audit'")" \
		"gcp-1|proj-1|bob@example.com|storage.buckets.create|europe-west1"
	eq "k8s event ids are auditID/stage" "$(q "$L" "SELECT group_concat(event_id, ' ') FROM events WHERE format = 'k8s-audit'")" \
		"a-1/ResponseComplete a-1/ResponseStarted"
	eq "every entry canonical" "$(q "$L" 'SELECT count(*) FROM events WHERE canonical = 1')" 6
	eq "meta covers the log" "$(q "$L" "SELECT value FROM meta WHERE key = 'log_size'")" 6
else
	skip "sqlite3 not installed: index contents not inspected"
fi

# The entry of the GCP record is its RFC 8785 form (known answer, written
# by hand from the record above: members sorted, no whitespace).
prb prove "$L" 3
if [ "$RC" -eq 0 ]; then
	printf '%s' '{"insertId":"gcp-1","logName":"projects/proj-1/logs/cloudaudit.googleapis.com%2Factivity","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"bob@example.com"},"methodName":"storage.buckets.create","requestMetadata":{"callerIp":"192.0.2.99"},"resourceName":"projects/_/buckets/b2","serviceName":"storage.googleapis.com","status":{}},"resource":{"labels":{"bucket_name":"b2","location":"europe-west1","project_id":"proj-1"},"type":"gcs_bucket"},"severity":"NOTICE","timestamp":"2024-03-01T12:00:00.5Z"}' >"$T/gcp.jcs"
	cp "$T/out" "$T/gcp.proof"
	expect_ok "the JCS form of the GCP record is leaf 3 (re-derived from the export)" verify-proof "$T/gcp.proof" "$T/gcp.jcs" --vkey "$VKEY"
else
	bad "prove 3" "exit $RC: $(head_of "$T/err")"
fi

section "progress on a terminal"
if command -v script >/dev/null 2>&1; then
	PL=$T/plog
	new_log "$PL" "$T/k"
	script -qec "$PROBITY ingest $PL --key $T/k $D" /dev/null </dev/null >"$T/tty" 2>&1
	check "files, records and records/s shown on a terminal" grep -Eq '[0-9]+/4 files +[0-9]+ records +[0-9]+ records/s' "$T/tty"
	prb ingest "$PL" --key "$T/k" "$D"
	check "and not when stderr is not a terminal" sh -c "! grep -q 'records/s' '$T/err'"
else
	skip "script(1) not found: progress on a terminal not tested"
fi

section "re-ingest adds nothing"
prb ingest "$L" --key "$T/k" "$D"
eq "re-ingest exit" "$RC" 0
check "re-ingest: 0 new, 6 duplicates" grep -q "6 records, 0 new, 6 duplicates; log size 6" "$T/out"
eq "checkpoint size unchanged" "$(cp_size "$L")" 6
check "no size line when nothing is new" sh -c "! grep -q '^size ' '$T/out'"
if [ -w /dev/full ]; then
	$TO "$PROBITY" ingest "$L" --key "$T/k" "$D" >/dev/full 2>"$T/err"
	RC=$?
	LASTCMD="probity ingest (nothing new) >/dev/full"
	sanity_after "$LASTCMD" "$T/err"
	eq "ingest whose summary cannot be written exits 1" "$RC" 1
	err_has "and says stdout failed" 'probity ingest: stdout:'
else
	skip "/dev/full is not writable here: ingest stdout failure not tested"
fi
sed 's/"StopLogging"/"DeleteTrail"/' "$D/aws/ct.json" >"$T/altered.json"
prb ingest "$L" --key "$T/k" "$T/altered.json"
eq "a record re-delivered under its event id with other content: exit 5" "$RC" 5
err_has "reported with file, record and the leaf that has the id" "altered.json: line [0-9]+, record 2: event id 11111111-0000-0000-0000-000000000002 is at leaf 1 already, with other content"
check "counted as conflicting, not as a duplicate" grep -q "2 records, 0 new, 1 duplicates; 1 conflicting" "$T/out"
eq "nothing committed" "$(cp_size "$L")" 6

# ---------------------------------------------------------------------------
section "bad files are rejected whole; the others go on"
B=$T/bad
mkdir -p "$B"
cp "$D/aws/ct.json" "$B/a-good-but-dup.json"
printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"b-1","stage":"ResponseComplete","verb":"get","user":{"username":"dave"},"requestReceivedTimestamp":"2024-03-02T00:00:00Z","stageTimestamp":"2024-03-02T00:00:00Z","requestURI":"/api"}' \
	'{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"b-2","stage":"ResponseComplete","verb":"get",' >"$B/b-broken.jsonl"
printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"c-1","stage":"ResponseComplete","verb":"list","user":{"username":"erin"},"requestReceivedTimestamp":"2024-03-02T00:00:01Z","stageTimestamp":"2024-03-02T00:00:01Z","requestURI":"/api"}' >"$B/c-good.jsonl"
printf '{"Records":[{"eventVersion":"1.08","eventSource":"x","eventName":"y","eventTime":"2024-01-01T00:00:00Z","eventID":"u-1","awsRegion":"us-east-1","note":"\377"}]}' >"$B/d-badutf8.json"
printf 'not gzip at all' | gzip -c | head -c 20 >"$B/e-truncated.json.gz"
printf '%s\n' '{"hello":"world"}' >"$B/f-unknown.json"
prb ingest "$L" --key "$T/k" "$B"
eq "a run with rejected files exits 5" "$RC" 5
check "the good new record committed" grep -q "log size 7" "$T/out"
check "summary counts only accepted files" grep -q "ingested 2 files: 3 records, 1 new, 2 duplicates" "$T/out"
err_has "broken JSON named with its line" "b-broken.jsonl.*line 2"
err_has "invalid UTF-8 named" "d-badutf8.json"
err_has "truncated gzip named" "e-truncated.json.gz"
err_has "unplaceable record named" "f-unknown.json"
err_has "the closing summary lists every rejected file" "4 of 6 files rejected.*b-broken.jsonl.*d-badutf8.json.*e-truncated.json.gz.*f-unknown.json"
if [ -n "$HAVE_SQLITE" ]; then
	eq "nothing of the broken file indexed" "$(q "$L" "SELECT count(*) FROM events WHERE event_id LIKE 'b-%'")" 0
	eq "the good file indexed at leaf 6" "$(q "$L" "SELECT event_id FROM events WHERE leaf = 6")" "c-1/ResponseComplete"
fi
verify_ok "log and index verify after rejections" "$L" "$VKEY"

section "--format holds every record to one format"
printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"f-1","stage":"ResponseComplete","verb":"get","user":{"username":"x"},"requestReceivedTimestamp":"2024-03-02T00:00:01Z","stageTimestamp":"2024-03-02T00:00:01Z","requestURI":"/api"}' >"$T/k8s-one.jsonl"
prb ingest "$L" --key "$T/k" --format cloudtrail "$T/k8s-one.jsonl"
eq "a k8s file under --format cloudtrail is rejected" "$RC" 5
eq "nothing committed" "$(cp_size "$L")" 7
prb ingest "$L" --key "$T/k" --format k8s-audit "$T/k8s-one.jsonl"
eq "accepted under its own format" "$RC" 0
eq "committed" "$(cp_size "$L")" 8
prb ingest "$L" --key "$T/k" --format nosuch "$T/k8s-one.jsonl"
eq "an unknown --format is a usage error" "$RC" 2

section "what the walk meets: links, FIFOs, records that mention digest fields"
W=$T/walk
mkdir -p "$W/sub"
printf '{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root","accountId":"1"},"eventTime":"2024-03-07T00:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.1","userAgent":"\\"digestPublicKeyFingerprint\\" \\"logFiles\\"","requestParameters":{"name":"t"},"responseElements":null,"eventID":"w-1","eventType":"AwsApiCall","recipientAccountId":"1"}]}' >"$W/sub/mentions.json"
ln -s "$T/nonexistent.json" "$W/dangling.json"
ln -s "$W/sub" "$W/linked-dir"
mkfifo "$W/fifo.json" 2>/dev/null || true
WL=$T/walklog
new_log "$WL" "$T/k"
prb ingest "$WL" --key "$T/k" "$W"
eq "a tree with a dangling link and a FIFO: exit 5" "$RC" 5
check "the record that mentions digest fields is committed, once (the linked directory is not followed)" grep -q "1 records, 1 new, 0 duplicates; log size 1" "$T/out"
err_has "the dangling link is named" "dangling.json"
if [ -p "$W/fifo.json" ]; then err_has "the FIFO is named, not read" "fifo.json: not a regular file"; fi

# ---------------------------------------------------------------------------
section "gzip, numbers JCS cannot carry, large records"
G=$T/g
mkdir -p "$G"
printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"g-1","stage":"ResponseComplete","verb":"delete","user":{"username":"gz"},"requestReceivedTimestamp":"2024-03-03T00:00:00Z","stageTimestamp":"2024-03-03T00:00:00Z","requestURI":"/api"}' | gzip -c >"$G/a.jsonl.gz"
# 2^53 + 1 is not a double: the record is committed as its exact text
printf '%s' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"n-1","stage":"ResponseComplete","verb":"get","user":{"username":"num"},"requestReceivedTimestamp":"2024-03-03T00:00:01Z","stageTimestamp":"2024-03-03T00:00:01Z","requestURI":"/api","annotations":{"n":9007199254740993}}' >"$G/b-bignum.json"
cp "$G/b-bignum.json" "$T/bignum.entry"
# a record of about 100 KB
{
	printf '%s' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"l-1","stage":"ResponseComplete","verb":"patch","user":{"username":"big"},"requestReceivedTimestamp":"2024-03-03T00:00:02Z","stageTimestamp":"2024-03-03T00:00:02Z","requestURI":"/api","requestObject":{"data":"'
	head -c 75000 /dev/zero | tr '\0' 'x'
	printf '%s\n' '"}}'
} >"$G/c-large.jsonl"
prb ingest "$L" --key "$T/k" "$G"
if [ "$RC" -eq 0 ]; then ok "gzip, big number and large record ingested"; else bad "ingest g" "exit $RC: $(head_of "$T/err" 5)"; fi
check "the summary says what was not committed in JCS form" grep -q "1 records committed as their exact source text.*1 large records committed by digest" "$T/out"
eq "three new entries" "$(cp_size "$L")" 11
prb prove "$L" 9
cp "$T/out" "$T/bignum.proof"
expect_ok "the big-number record's entry is its exact source text" verify-proof "$T/bignum.proof" "$T/bignum.entry" --vkey "$VKEY"
if [ -n "$HAVE_SQLITE" ]; then
	eq "index marks it not canonical" "$(q "$L" "SELECT canonical FROM events WHERE event_id = 'n-1/ResponseComplete'")" 0
	BLOB=$(q "$L" "SELECT blob FROM events WHERE event_id = 'l-1/ResponseComplete'")
	eq "the large record's blob is its JCS bytes' SHA-256" "$(fsha "$L/blob/sha256/$BLOB")" "$BLOB"
	check "blob larger than an entry can be" test "$(wc -c <"$L/blob/sha256/$BLOB")" -gt 65535
	verify_ok "verify with a blob" "$L" "$VKEY"
	cp "$L/blob/sha256/$BLOB" "$T/blob.bak"
	flip_byte "$L/blob/sha256/$BLOB" 500
	expect_fail "an altered blob fails verify" verify "$L" --vkey "$VKEY"
	err_has "naming the blob" "blob/sha256/$BLOB"
	rm "$L/blob/sha256/$BLOB"
	expect_fail "a missing blob fails verify" verify "$L" --vkey "$VKEY"
	err_has "naming the blob as missing" "blob/sha256/$BLOB.*missing"
	cp "$T/blob.bak" "$L/blob/sha256/$BLOB"
	verify_ok "restored blob verifies" "$L" "$VKEY"
	# a line added with probity add that looks like a stub is not one
	printf '{"length":5,"sha256":"%064d","type":"probity.dev/blob/v1"}\n' 0 >"$T/fake-stub"
	expect_ok "add a stub-shaped line" add "$L" --key "$T/k" "$T/fake-stub"
	verify_ok "it is not taken for a stub: verify passes" "$L" "$VKEY"
	expect_ok "reindex passes" reindex "$L"
fi

# ---------------------------------------------------------------------------
section "the index is derived data: reindex, tampering, catching up"
if [ -n "$HAVE_SQLITE" ]; then
	q "$L" 'SELECT * FROM events ORDER BY leaf' >"$T/rows.before"
	q "$L" "UPDATE events SET principal = 'mallory' WHERE leaf = 4"
	expect_fail "a tampered index row fails verify" verify "$L" --vkey "$VKEY"
	err_has "naming the leaf and the column" "leaf 4, column principal.*mallory"
	q "$L" "DELETE FROM events WHERE leaf = 2"
	expect_fail "a deleted index row fails verify" verify "$L" --vkey "$VKEY"
	err_has "naming the leaf" "leaf 2"
	expect_ok "reindex" reindex "$L"
	q "$L" 'SELECT * FROM events ORDER BY leaf' >"$T/rows.after"
	check "reindex gives back the rows ingest wrote" cmp -s "$T/rows.before" "$T/rows.after"
	verify_ok "verify after reindex" "$L" "$VKEY"
	printf 'not a database' >"$L/index.sqlite"
	prb ingest "$L" --key "$T/k" "$D"
	eq "ingest refuses a corrupt index" "$RC" 1
	err_has "and says reindex rebuilds it" "probity reindex .* rebuilds it from the log"
	expect_ok "reindex replaces a corrupt index" reindex "$L"
	check "no scratch file left" test ! -e "$L/index.sqlite.new"
	q "$L" 'SELECT * FROM events ORDER BY leaf' >"$T/rows.after"
	check "same rows from the log alone" cmp -s "$T/rows.before" "$T/rows.after"
	rm -f "$L/index.sqlite" "$L/index.sqlite-wal" "$L/index.sqlite-shm"
	expect_ok "reindex from nothing" reindex "$L"
	q "$L" 'SELECT * FROM events ORDER BY leaf' >"$T/rows.after"
	check "same rows from the log alone" cmp -s "$T/rows.before" "$T/rows.after"

	# A crash after the log's commit and before the index's: model it by
	# putting back an older index.
	cp "$L/index.sqlite" "$T/old.sqlite" # closed cleanly: no -wal file
	printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"z-1","stage":"ResponseComplete","verb":"get","user":{"username":"z"},"requestReceivedTimestamp":"2024-03-04T00:00:00Z","stageTimestamp":"2024-03-04T00:00:00Z","requestURI":"/api"}' >"$T/z.jsonl"
	expect_ok "ingest one more" ingest "$L" --key "$T/k" "$T/z.jsonl"
	check "no WAL file left after a clean exit" test ! -e "$L/index.sqlite-wal"
	cp "$T/old.sqlite" "$L/index.sqlite"
	verify_ok "an index behind the log (a crash between the two commits) verifies" "$L" "$VKEY"
	check "and verify says what is not indexed yet" grep -q "for the first 12 entries; entries 12..12 are not indexed yet" "$T/out"
	cp "$L/index.sqlite" "$T/behind.sqlite"
	q "$L" "UPDATE meta SET value = '14' WHERE key = 'log_size'"
	expect_fail "an index claiming more than the log has fails verify" verify "$L" --vkey "$VKEY"
	err_has "saying so" "covers 14 entries, the log has only 13"
	cp "$T/behind.sqlite" "$L/index.sqlite"
	q "$L" "UPDATE meta SET value = '$(printf '%064d' 0)' WHERE key = 'log_root'"
	expect_fail "an index of another log fails verify" verify "$L" --vkey "$VKEY"
	err_has "saying so" "root for size 12 is not the log's"
	cp "$T/behind.sqlite" "$L/index.sqlite"
	prb ingest "$L" --key "$T/k" "$T/z.jsonl"
	eq "the next ingest catches up" "$RC" 0
	err_has "saying what it indexed" "indexing entries 12..12"
	check "and counts the record as a duplicate" grep -q "1 records, 0 new, 1 duplicates; log size 13" "$T/out"
	verify_ok "verify after catching up" "$L" "$VKEY"
fi

# ---------------------------------------------------------------------------
section "verify while an ingest runs"
V=$T/vlog
new_log "$V" "$T/k"
mkdir -p "$T/vin"
i=1
while [ "$i" -le 60 ]; do
	printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"v-%d","stage":"ResponseComplete","verb":"get","user":{"username":"v"},"requestReceivedTimestamp":"2024-03-05T00:00:00Z","stageTimestamp":"2024-03-05T00:00:00Z","requestURI":"/api"}\n' "$i" >"$T/vin/$i.jsonl"
	i=$((i + 1))
done
(
	for f in "$T"/vin/*.jsonl; do
		$TO "$PROBITY" ingest "$V" --key "$T/k" "$f" >/dev/null 2>&1 || echo "ingest $f failed" >>"$T/vbg.err"
	done
) &
BG=$!
BGPIDS="$BGPIDS $BG"
vfail=0 vruns=0
while kill -0 "$BG" 2>/dev/null && [ "$vruns" -lt 40 ]; do
	prb verify "$V" --vkey "$VKEY"
	vruns=$((vruns + 1))
	[ "$RC" -eq 0 ] || { vfail=$((vfail + 1)); cp "$T/err" "$T/vfail.err"; }
done
wait "$BG"
eq "no verify failed while ingests committed ($vruns runs)" "$vfail" 0
[ "$vfail" -eq 0 ] || cat "$T/vfail.err"
check "every background ingest succeeded" test ! -s "$T/vbg.err"
verify_ok "and after" "$V" "$VKEY"

# ---------------------------------------------------------------------------
section "CloudTrail digest files: chain, log file hashes, RSA signatures"
if [ -z "$HAVE_OPENSSL" ]; then
	skip "openssl not found: the CloudTrail digest tests need it to sign"
else
	C=$T/ct
	ACC=111122223333
	LD=AWSLogs/$ACC/CloudTrail/us-east-1/2024/03/01
	DD=AWSLogs/$ACC/CloudTrail-Digest/us-east-1/2024/03/01
	mkdir -p "$C/$LD" "$C/$DD"
	LOGF=$LD/${ACC}_CloudTrail_us-east-1_20240301T1000Z_abc.json.gz
	sed 's/eu-west-1/eu-west-2/; s/000000000001/000000000101/; s/000000000002/000000000102/' "$D/aws/ct.json" >"$T/ct.json"
	gzip -c <"$T/ct.json" >"$C/$LOGF"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/ct.pem" 2>/dev/null
	openssl rsa -in "$T/ct.pem" -RSAPublicKey_out -outform DER -out "$T/ct.pub" 2>/dev/null
	FP=$(openssl dgst -md5 -r <"$T/ct.pub" | cut -c1-32)
	LOGHASH=$(sha256sum <"$T/ct.json" | cut -c1-64)
	# digest NAME START END PREVOBJ PREVHASH PREVSIG LOGFILES -> writes the
	# .json.gz, sets SIG to its signature (hex)
	digest() {
		_obj=$DD/${ACC}_CloudTrail-Digest_us-east-1_main_us-east-1_$1.json.gz
		if [ -n "$4" ]; then
			_prev="\"previousDigestS3Bucket\":\"ct-bucket\",\"previousDigestS3Object\":\"$4\",\"previousDigestHashValue\":\"$5\",\"previousDigestHashAlgorithm\":\"SHA-256\",\"previousDigestSignature\":\"$6\""
		else
			_prev='"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null'
		fi
		printf '{"awsAccountId":"%s","digestStartTime":"%s","digestEndTime":"%s","digestS3Bucket":"ct-bucket","digestS3Object":"%s","digestPublicKeyFingerprint":"%s","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"%s","oldestEventTime":"%s",%s,"logFiles":[%s]}' \
			"$ACC" "$2" "$3" "$_obj" "$FP" "$3" "$2" "$_prev" "$7" >"$T/digest.json"
		gzip -c <"$T/digest.json" >"$C/$_obj"
		DHASH=$(sha256sum <"$T/digest.json" | cut -c1-64)
		printf '%s\n%s\n%s\n%s' "$3" "ct-bucket/$_obj" "$DHASH" "${6:-null}" >"$T/tbs"
		[ -n "$4" ] || printf '%s\n%s\n%s\nnull' "$3" "ct-bucket/$_obj" "$DHASH" >"$T/tbs"
		SIG=$(openssl dgst -sha256 -sign "$T/ct.pem" <"$T/tbs" | binhex)
		OBJ=$_obj
	}
	digest 20240301T110000Z 2024-03-01T10:00:00Z 2024-03-01T11:00:00Z "" "" "" \
		"{\"s3Bucket\":\"ct-bucket\",\"s3Object\":\"$LOGF\",\"hashValue\":\"$LOGHASH\",\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":\"2024-03-01T10:05:00Z\",\"oldestEventTime\":\"2024-03-01T10:00:00Z\"}"
	D1=$OBJ D1HASH=$DHASH D1SIG=$SIG
	digest 20240301T120000Z 2024-03-01T11:00:00Z 2024-03-01T12:00:00Z "$D1" "$D1HASH" "$D1SIG" ""
	D2=$OBJ
	digest 20240301T130000Z 2024-03-01T12:00:00Z 2024-03-01T13:00:00Z "$D2" "$DHASH" "$SIG" ""
	D2SIG=$SIG # the newest digest's (named D2SIG for the options below)
	CL=$T/ctlog
	new_log "$CL" "$T/k"
	prb ingest "$CL" --key "$T/k" --cloudtrail-key "$T/ct.pub" --cloudtrail-signature "$C/$OBJ=$D2SIG" "$C"
	if [ "$RC" -eq 0 ]; then ok "a clean digest chain: exit 0"; else bad "clean digest chain" "exit $RC: $(head_of "$T/err" 4)"; fi
	check "both digests' signatures verified, the log file matched" grep -q "cloudtrail digests: 3 checked, 1 log files listed, 1 present and unaltered, 3 signatures verified, 0 not checked; 0 problems" "$T/out"
	check "the log file's records committed (digests are not)" grep -q "ingested 4 files: 2 records, 2 new" "$T/out"
	prb ingest "$CL" --key "$T/k" "$C"
	eq "without keys: exit 0" "$RC" 0
	check "signatures counted as not checked" grep -q "0 signatures verified, 3 not checked; 0 problems" "$T/out"
	# the same records, other bytes: nothing new for the log, but altered
	{ cat "$T/ct.json"; echo; } | gzip -c >"$C/$LOGF"
	prb ingest "$CL" --key "$T/k" --cloudtrail-key "$T/ct.pub" --cloudtrail-signature "$C/$OBJ=$D2SIG" "$C"
	eq "an altered log file: exit 5" "$RC" 5
	err_has "reported as altered, naming the file" "altered.*$LOGF"
	check "its records are duplicates all the same" grep -q "2 records, 0 new, 2 duplicates" "$T/out"
	rm "$C/$LOGF"
	prb ingest "$CL" --key "$T/k" "$C"
	eq "a missing log file: exit 5" "$RC" 5
	err_has "reported as missing" "missing.*$LOGF"
	gzip -c <"$T/ct.json" >"$C/$LOGF"
	D2SIG_BAD=$(printf %s "$D2SIG" | sed 's/^./0/; t; s/^/0/')
	[ "$D2SIG_BAD" = "$D2SIG" ] && D2SIG_BAD=$(printf %s "$D2SIG" | sed 's/^./1/')
	prb ingest "$CL" --key "$T/k" --cloudtrail-key "$T/ct.pub" --cloudtrail-signature "$C/$OBJ=$D2SIG_BAD" "$C"
	eq "a wrong signature: exit 5" "$RC" 5
	err_has "reported" "signature"
	rm "$C/$D2"
	prb ingest "$CL" --key "$T/k" "$C"
	eq "a digest removed from the middle of the chain: exit 5" "$RC" 5
	err_has "reported as a gap" "gap"
fi

# ---------------------------------------------------------------------------
section "a checkpoint commit in doubt (LD_PRELOAD fault shim)"
if ${CC:-cc} -shared -fPIC -o "$T/shim.so" "$(dirname "$0")/shim_commit.c" -ldl 2>/dev/null; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	DL=$T/doubt
	new_log "$DL" "$T/k"
	printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"d-1","stage":"ResponseComplete","verb":"get","user":{"username":"d"},"requestReceivedTimestamp":"2024-03-06T00:00:00Z","stageTimestamp":"2024-03-06T00:00:00Z","requestURI":"/api"}\n' >"$T/d1.jsonl"
	printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"d-2","stage":"ResponseComplete","verb":"get","user":{"username":"d"},"requestReceivedTimestamp":"2024-03-06T00:00:01Z","stageTimestamp":"2024-03-06T00:00:01Z","requestURI":"/api"}\n' >"$T/d2.jsonl"
	expect_ok "an empty index first (creating it syncs a directory too)" reindex "$DL"
	PRB_SHIM=dirsync LD_PRELOAD="$T/shim.so" $TO "$PROBITY" ingest "$DL" --key "$T/k" "$T/d1.jsonl" >"$T/out" 2>"$T/err"
	RC=$?
	eq "a failed directory sync after the rename: exit 1" "$RC" 1
	err_has "the batch is settled as committed" "turned out committed"
	check "and acknowledged" grep -q "^size 1$" "$T/out"
	verify_ok "log and index agree" "$DL" "$VKEY"
	check "the index has the record" grep -q "index: matches the log, row by row$" "$T/out"
	PRB_SHIM=rename LD_PRELOAD="$T/shim.so" $TO "$PROBITY" ingest "$DL" --key "$T/k" "$T/d2.jsonl" >"$T/out" 2>"$T/err"
	RC=$?
	eq "a failed rename of the checkpoint: exit 1" "$RC" 1
	err_has "the batch is not committed" "is not committed"
	check "and not acknowledged" sh -c "! grep -q '^size' '$T/out'"
	check "nothing counted as new" grep -q "1 records, 0 new, 0 duplicates" "$T/out"
	prb ingest "$DL" --key "$T/k" "$T/d1.jsonl" "$T/d2.jsonl"
	check "ingesting again adds just the missing record" grep -q "2 records, 1 new, 1 duplicates; log size 2" "$T/out"
	verify_ok "and the log verifies" "$DL" "$VKEY"
else
	skip "cannot build the fault shim"
fi

# ---------------------------------------------------------------------------
section "bad arguments"
expect_fail "ingest needs --key" ingest "$L" "$D"
prb ingest "$L" --key "$T/k" "$T/nonexistent"
eq "a missing path is a rejected file" "$RC" 5
err_has "named" "nonexistent"
prb ingest --help
eq "ingest --help" "$RC" 0
prb reindex --help
eq "reindex --help" "$RC" 0
mkdir -p "$T/empty"
expect_fail "reindex of a directory without a log" reindex "$T/empty"

# ---------------------------------------------------------------------------
section "the real samples in ../shared/data"
S=$PRB_SHARED/data
if [ ! -d "$S" ]; then
	skip "$S not found: the real-sample tests need ../shared/data"
	finish
fi
R=$T/real
new_log "$R" "$T/k" || finish
ingest_count() { # MSG PATH... : must ingest, prints nothing; sets NEW
	_m=$1; shift
	prb ingest "$R" --key "$T/k" "$@"
	NEW=$(sed -n 's/.* records, \([0-9]*\) new, .*/\1/p' "$T/out")
	DUP=$(sed -n 's/.* new, \([0-9]*\) duplicates.*/\1/p' "$T/out")
	CONF=$(sed -n 's/.* duplicates; \([0-9]*\) conflicting.*/\1/p' "$T/out")
	CONF=${CONF:-0}
}
ingest_count ct "$S"/cloudtrail/invictus/*.json
eq "CloudTrail invictus: exit" "$RC" 0
eq "CloudTrail invictus: 2900 records new" "$NEW" 2900
ingest_count ct "$S"/cloudtrail/stratus/*.json
eq "CloudTrail stratus: 310 records" "$((NEW + DUP))" 310
ingest_count gcp "$S"/gcp-audit/*/*.json
eq "GCP: 4 LogEntries" "$NEW" 4
eq "GCP: exit" "$RC" 0
# The REST example is an OpenAPI example file: its list response is under
# responses."200".body. The file itself is not an export: rejected.
prb ingest "$R" --key "$T/k" "$S/azure-activity/azure-rest-api-specs/GetActivityLogsFiltered.json"
eq "an OpenAPI example file is not an export: rejected" "$RC" 5
err_has "saying no format fits" "GetActivityLogsFiltered.json: line 1, record 1: record fits no format"
AZ_REST=""
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["responses"]["200"]["body"], open(sys.argv[2], "w"))' \
		"$S/azure-activity/azure-rest-api-specs/GetActivityLogsFiltered.json" "$T/rest-body.json" && AZ_REST=$T/rest-body.json
fi
[ -n "$AZ_REST" ] || skip "python3 not found: the Azure REST list body is not extracted (9 Azure records, not 10)"
ingest_count az $AZ_REST "$S/azure-activity/microsoft-docs/activity-log-schema.md.rest-api.jsonl" \
	"$S/azure-activity/microsoft-docs/activity-log-schema.md.eventhub-envelope.jsonl" "$S/azure-activity/microsoft-docs/activity-log-schema.md.policy-repaired.jsonl"
eq "Azure: 10 records" "$((NEW + DUP + CONF))" "$([ -n "$AZ_REST" ] && echo 10 || echo 9)"
# The docs' Administrative and Policy examples share one eventDataId with
# different content: the second is a conflict, reported, not committed.
eq "Azure: one conflicting record" "$CONF" 1
eq "Azure: exit 5 for the conflict" "$RC" 5
err_has "the conflict names the file and the leaf already holding the id" "policy-repaired.jsonl: line 1, record 1: event id .* is at leaf [0-9]+ already, with other content"
prb ingest "$R" --key "$T/k" "$S/azure-activity/microsoft-docs/activity-log-schema.md.policy-as-published.json.txt"
eq "the invalid-as-published Azure Policy block is rejected" "$RC" 5
err_has "naming the file" "policy-as-published"
prb ingest "$R" --key "$T/k" "$S"/k8s-audit/falco/*.json
eq "k8s: the falco malformed stub makes the run fail" "$RC" 5
err_has "naming the malformed stub" "fal_01_003.json"
K8S=$(sed -n 's/.* records, \([0-9]*\) new, .*/\1/p' "$T/out")
K8SDUP=$(sed -n 's/.* new, \([0-9]*\) duplicates.*/\1/p' "$T/out")
K8SCONF=$(sed -n 's/.* duplicates; \([0-9]*\) conflicting.*/\1/p' "$T/out")
eq "k8s: 51 events" "$((K8S + K8SDUP + ${K8SCONF:-0}))" 51
# falco's test files reuse two auditIDs for different events
eq "k8s: two conflicting auditIDs reported" "${K8SCONF:-0}" 2
TOTAL=$(cp_size "$R")
verify_ok "the log of every real sample verifies" "$R" "$VKEY"
prb ingest "$R" --key "$T/k" "$S"/cloudtrail/*/*.json "$S"/gcp-audit/*/*.json
check "re-ingest of the real samples: 0 new" grep -q ", 0 new, " "$T/out"
eq "and the log did not grow" "$(cp_size "$R")" "$TOTAL"
if [ -n "$HAVE_SQLITE" ]; then
	eq "every entry of the log is indexed" "$(q "$R" 'SELECT count(*) FROM events')" "$TOTAL"
	eq "no CloudTrail row lacks its core fields" \
		"$(q "$R" "SELECT count(*) FROM events WHERE format = 'cloudtrail' AND (event_time IS NULL OR operation IS NULL OR region IS NULL OR account IS NULL)")" 0
fi
finish
