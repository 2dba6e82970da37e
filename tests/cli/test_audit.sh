#!/bin/sh
# Black-box tests of probity audit and probity verify-evidence: each shipped
# policy (policies/) with events that must and must not trigger it, --params,
# determinism, the log left untouched, --fail-on, bad policies named by file
# and line, a stale index refused, and one altered byte in each kind of
# bundle file detected naming the file.
#
# Env: PROBITY (binary), VERBOSE=1.
set -u
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
PACK=$(cd "$HERE/../../policies" && pwd)
# The three policies these events were written for, picked from the pack by
# id (the pack grows; its policies are tested one by one in
# test_policies.sh).
POL=$T/pol
mkdir "$POL"
for id in residency.outside-allowed-regions concealment.audit-trail-disabled privileged.aws-root-use; do
	f=$(grep -l "^-- id: $id\$" "$PACK"/*.sql | head -n 1)
	if [ -n "$f" ]; then cp "$f" "$POL/"; else bad "policy $id in the pack"; fi
done
ROOTUSE=$(grep -l "^-- id: privileged.aws-root-use\$" "$POL"/*.sql | head -n 1)
EV=$HERE/audit/events

new_key audit-test.example/log "$T/k" || finish
VKEY=$VK
L=$T/log
new_log "$L" "$T/k" || finish
prb ingest "$L" --key "$T/k" "$EV"
[ "$RC" -eq 0 ] || { bad "ingest of the audit events" "exit $RC: $(head_of "$T/err")"; finish; }
eq "15 events ingested" "$(cp_size "$L")" 15

# cited FILE POLICY: the leaves POLICY's findings cite, space-separated.
# (findings.json is RFC 8785: members sorted, so entries precede policy.)
cited() {
	grep -o '"entries":\[[0-9,]*\],"policy":"'"$2"'"' "$1" |
		sed 's/.*\[\([0-9,]*\)\].*/\1/' | tr ',\n' '  ' | sed 's/ *$//'
}
# files FILE: a listing of DIR's files with their hashes (SQLite's -wal and
# -shm companions excluded: they are SQLite's, not probity's writes).
files() { (cd "$1" && find . -type f ! -name '*-wal' ! -name '*-shm' | sort | xargs sha256sum); }

# ---------------------------------------------------------------------------
section "the shipped policies on events that must and must not trigger them"
files "$L" >"$T/before"
prb audit "$L" --policies "$POL" --out "$T/b1"
if [ "$RC" -eq 0 ]; then ok "audit runs"; else bad "audit runs" "exit $RC: $(head_of "$T/err")"; finish; fi
check "summary line" grep -q "with 3 policies: 8 findings (critical 4, high 3, medium 1" "$T/out"
F=$T/b1/findings.json
# residency: 1 = EC2 in us-east-1, 6 = Azure storage whose request body
# places it in eastus (processed in westeurope), 11 = GCP VM in asia-east1-a.
# Not: 0 (S3 eu-west-1), 2 (IAM: global, no location), 7 (Azure storage
# placed in westeurope though processed in eastus), 9 (GCS europe-west1).
eq "residency cites 1 6 11" "$(cited "$F" residency.outside-allowed-regions)" "1 6 11"
# concealment: 3 CloudTrail StopLogging, 8 Azure diagnosticSettings delete,
# 10 GCP DeleteSink, 13 k8s auditsink deleted. Not: 4 (DeleteTrail
# refused), 5 (DescribeTrails), 14 (k8s delete refused with 403).
eq "concealment cites 3 8 10 13" "$(cited "$F" concealment.audit-trail-disabled)" "3 8 10 13"
eq "root use cites 3 (not 1, an IAM user)" "$(cited "$F" privileged.aws-root-use)" "3"
check "detail carried" grep -q '"detail":"cloudtrail: StopLogging by arn:aws:iam::111122223333:root"' "$F"
check "findings.json names the checkpoint" grep -q "^{\"checkpoint\":{\"origin\":\"audit-test.example/log\",\"root\":\"$(cp_root "$L")\",\"size\":15}" "$F"
cmp -s "$T/b1/checkpoint" "$L/checkpoint" && ok "bundle checkpoint is the log's, verbatim" || bad "bundle checkpoint is the log's, verbatim"
eq "one entry and one proof per cited leaf" \
	"$(ls "$T/b1/entries" | sort -n | tr '\n' ' ')|$(ls "$T/b1/proofs" | sort -n | tr '\n' ' ')" \
	"1.json 3.json 6.json 8.json 10.json 11.json 13.json |1.tlog-proof 3.tlog-proof 6.tlog-proof 8.tlog-proof 10.tlog-proof 11.tlog-proof 13.tlog-proof "
prb prove "$L" 6
cmp -s "$T/out" "$T/b1/proofs/6.tlog-proof" && ok "proof is the one probity prove gives" || bad "proof is the one probity prove gives"
expect_ok "verify-proof accepts a bundle's entry and proof" verify-proof "$T/b1/proofs/6.tlog-proof" "$T/b1/entries/6.json" --vkey "$VKEY"
files "$L" >"$T/after"
cmp -s "$T/before" "$T/after" && ok "audit wrote nothing in the log directory" || bad "audit wrote nothing in the log directory" "$(diff "$T/before" "$T/after" | head -n 4)"

expect_ok "verify-evidence accepts the bundle" verify-evidence "$T/b1" --vkey "$VKEY"
check "verify-evidence summary" grep -q "8 findings citing 7 entries" "$T/out"

section "the default pack"
# Without --policies, from any directory: the pack this build was made
# with (the tree's policies/), every policy of it.
(cd "$T" && $TO "$PROBITY" audit "$L" --out "$T/bdef" >"$T/out" 2>"$T/err"); RC=$?
eq "audit without --policies, elsewhere" "$RC" 0
eq "every policy of the pack ran" "$(grep -o '"sha256":"[0-9a-f]*"' "$T/bdef/findings.json" | wc -l)" "$(ls "$PACK"/*.sql | wc -l)"
check "the pack's size is in the summary" grep -q "with $(ls "$PACK"/*.sql | wc -l) policies:" "$T/out"

section "determinism"
expect_ok "second audit" audit "$L" --policies "$POL" --out "$T/b2"
cmp -s "$T/b1/findings.json" "$T/b2/findings.json" && ok "findings.json byte-identical" || bad "findings.json byte-identical"
diff -r "$T/b1" "$T/b2" >/dev/null && ok "whole bundle identical" || bad "whole bundle identical"

section "parameters"
printf '{"allowed_regions": ["eu-west-1", "us-east-1", "westeurope", "eastus", "europe-west1", "asia-east1-a"]}' >"$T/params.json"
expect_ok "audit with --params" audit "$L" --policies "$POL" --params "$T/params.json" --out "$T/b3"
eq "overridden regions: no residency finding" "$(cited "$T/b3/findings.json" residency.outside-allowed-regions)" ""
check "overridden value recorded in findings.json" grep -q '"asia-east1-a"' "$T/b3/findings.json"
expect_ok "a bundle without residency findings verifies" verify-evidence "$T/b3" --vkey "$VKEY"
printf '{"allowed_regons": []}' >"$T/typo.json"
expect_fail "unknown parameter refused" audit "$L" --policies "$POL" --params "$T/typo.json" --out "$T/b4"
err_has "error names the params file and the parameter" "typo.json.*allowed_regons"
printf '[1]' >"$T/arr.json"
expect_fail "params not an object refused" audit "$L" --policies "$POL" --params "$T/arr.json" --out "$T/b4"
[ ! -e "$T/b4" ] && ok "no bundle after a failed audit" || bad "no bundle after a failed audit"

section "--fail-on"
prb audit "$L" --policies "$POL" --fail-on critical --out "$T/f1"
eq "critical finding with --fail-on critical: exit 3" "$RC" 3
[ -f "$T/f1/findings.json" ] && ok "bundle still written with exit 3" || bad "bundle still written with exit 3"
prb audit "$L" --policies "$ROOTUSE" --fail-on high --out "$T/f2"
eq "medium finding with --fail-on high: exit 0" "$RC" 0
prb audit "$L" --policies "$ROOTUSE" --fail-on low --out "$T/f3"
eq "medium finding with --fail-on low: exit 3" "$RC" 3
prb audit "$L" --fail-on severe --out "$T/f4"
eq "bad --fail-on: usage error" "$RC" 2
prb audit "$L" --policies "$POL"
eq "missing --out: usage error" "$RC" 2
expect_fail "non-empty bundle directory refused" audit "$L" --policies "$POL" --out "$T/b1"
mkdir "$T/empty"
expect_ok "empty bundle directory accepted" audit "$L" --policies "$POL" --out "$T/empty"

section "bad policies: file and line"
B=$T/badpol
mkdir "$B"
write_pol() {
	rm -f "$B"/*.sql
	cat >"$B/$1"
}
write_pol syntax.sql <<'EOF'
-- id: t.syntax
-- title: t
-- severity: low
SELECT leaf
FROM events
WHERE operation = 'x' AND AND 1
EOF
expect_fail "SQL syntax error" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file and the line of the error" "syntax\.sql:6: SQL error: .*syntax error"
write_pol nocol.sql <<'EOF'
-- id: t.nocol
-- title: t
-- severity: low

SELECT event_id FROM events
EOF
expect_fail "no leaf column" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file and the query's line" "nocol\.sql:5: .*leaf"
write_pol noparam.sql <<'EOF'
-- id: t.noparam
-- title: t
-- severity: low
-- param: a = 1
SELECT leaf FROM events
WHERE leaf > :a
  AND region IN (SELECT value FROM json_each(:regions))
EOF
expect_fail "undeclared parameter" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file, line and parameter" "noparam\.sql:7: missing parameter.*:regions"
write_pol badcol.sql <<'EOF'
-- id: t.badcol
-- title: t
-- severity: low
SELECT leaf FROM events
WHERE no_such_column = 1
EOF
expect_fail "unknown column" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file and a line" "badcol\.sql:[45]: SQL error: no such column"
write_pol nosev.sql <<'EOF'
-- id: t.nosev
-- title: t
SELECT leaf FROM events
EOF
expect_fail "header without severity" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file" "nosev\.sql:1: .*severity"
write_pol badsev.sql <<'EOF'
-- id: t.badsev
-- title: t
-- severity: urgent
SELECT leaf FROM events
EOF
expect_fail "unknown severity" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file and line" "badsev\.sql:3: severity"
write_pol badjson.sql <<'EOF'
-- id: t.badjson
-- title: t
-- severity: low
-- param: x = [1,
SELECT leaf FROM events
EOF
expect_fail "param default not JSON" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file and line" "badjson\.sql:4: param"
write_pol write.sql <<'EOF'
-- id: t.write
-- title: t
-- severity: low
DELETE FROM events RETURNING leaf
EOF
expect_fail "a writing statement refused" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file" "write\.sql:4"
write_pol two.sql <<'EOF'
-- id: t.two
-- title: t
-- severity: low
SELECT leaf FROM events;
SELECT leaf FROM events;
EOF
expect_fail "two statements refused" audit "$L" --policies "$B" --out "$T/x"
err_has "names the second statement's line" "two\.sql:5"
write_pol range.sql <<'EOF'
-- id: t.range
-- title: t
-- severity: low
SELECT 99 AS leaf
EOF
expect_fail "a leaf beyond the log refused" audit "$L" --policies "$B" --out "$T/x"
err_has "names the file" "range\.sql:4: row 1: leaf"
[ -z "$(ls "$L" | grep -v -e checkpoint -e tile -e index.sqlite -e blob -e lock)" ] && ok "log directory holds nothing new" || bad "log directory holds nothing new" "$(ls "$L")"
if [ -f "$L/index.sqlite" ] && command -v sqlite3 >/dev/null 2>&1; then
	eq "events still there after the DELETE policy" "$(sqlite3 "$L/index.sqlite" 'SELECT count(*) FROM events')" 15
fi

section "the index must cover the checkpoint"
cp "$L/index.sqlite" "$T/old-index"
printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"k-late","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"z"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"pods","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2024-03-02T00:00:00Z","stageTimestamp":"2024-03-02T00:00:01Z"}\n' >"$T/late.log"
prb ingest "$L" --key "$T/k" "$T/late.log"
eq "one more event ingested" "$(cp_size "$L")" 16
rm -f "$L/index.sqlite-wal" "$L/index.sqlite-shm"
cp "$T/old-index" "$L/index.sqlite"
expect_fail "stale index refused" audit "$L" --policies "$POL" --out "$T/x"
err_has "says to run ingest or reindex" "covers 15 entries.*checkpoint 16.*probity ingest"
rm -f "$L/index.sqlite"
expect_fail "no index refused" audit "$L" --policies "$POL" --out "$T/x"
err_has "says to run ingest or reindex" "no index"
expect_ok "reindex" reindex "$L"
expect_ok "audit after reindex" audit "$L" --policies "$POL" --out "$T/b5"

section "tampered bundles"
# tamper NAME FILE OFFSET WHAT: copy b1, flip a byte of FILE at OFFSET, and
# verify-evidence must fail naming WHAT.
tamper() {
	rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb"
	flip_byte "$T/tb/$2" "$3" || { bad "$1: cannot flip"; return; }
	expect_fail "$1" verify-evidence "$T/tb" --vkey "$VKEY" &&
		err_has "$1: names $4" "$4"
}
off_of() { grep -bo -- "$2" "$1" | head -n 1 | cut -d: -f1; }
tamper "checkpoint root altered" checkpoint $(($(off_of "$T/b1/checkpoint" "$(cp_root "$L")") + 3)) "tb/checkpoint"
tamper "checkpoint signature altered" checkpoint $(($(wc -c <"$T/b1/checkpoint") - 5)) "tb/checkpoint"
tamper "findings.json root altered" findings.json $(($(off_of "$F" '"root":"') + 10)) "tb/findings.json"
tamper "findings.json leaf altered" findings.json $(off_of "$F" '"entries":\[3\]') "tb/findings.json"
tamper "findings.json made non-canonical" findings.json 0 "tb/findings.json"
tamper "entry altered" entries/3.json 20 "tb/entries/3.json"
tamper "entry's last byte altered" entries/13.json $(($(wc -c <"$T/b1/entries/13.json") - 1)) "tb/entries/13.json"
tamper "proof hash altered" proofs/3.tlog-proof $(($(off_of "$T/b1/proofs/3.tlog-proof" '^index') + 12)) "tb/(proofs/3.tlog-proof|entries/3.json)"
tamper "proof index line altered" proofs/3.tlog-proof 29 "tb/proofs/3.tlog-proof"
tamper "proof's checkpoint altered" proofs/3.tlog-proof $(($(wc -c <"$T/b1/proofs/3.tlog-proof") - 5)) "tb/proofs/3.tlog-proof"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && rm "$T/tb/proofs/8.tlog-proof"
expect_fail "missing proof" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/proofs/8.tlog-proof: missing"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && rm "$T/tb/entries/8.json"
expect_fail "missing entry" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/entries/8.json: missing"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && cp "$T/tb/entries/8.json" "$T/tb/entries/9.json"
expect_fail "extra entry" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/entries/9.json: unexpected"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && echo x >"$T/tb/notes.txt"
expect_fail "extra file" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/notes.txt: unexpected"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && cp "$T/b5/proofs/3.tlog-proof" "$T/tb/proofs/3.tlog-proof"
expect_fail "proof against another checkpoint" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/proofs/3.tlog-proof: its checkpoint"
new_key other.example/log "$T/k2"
expect_fail "another log's key refused" verify-evidence "$T/b1" --vkey "$VK" && err_has "names the checkpoint" "b1/checkpoint"
expect_fail "no bundle" verify-evidence "$T/nope" --vkey "$VKEY"

section "the policies and the manifest in the bundle"
# policies/<id>.sql: the exact files run, checked against findings.json.
for f in "$POL"/*.sql; do
	id=$(sed -n 's/^-- id: *//p' "$f" | head -n 1)
	cmp -s "$f" "$T/b1/policies/$id.sql" && ok "bundle carries $id's file" || bad "bundle carries $id's file"
done
# SHA256SUMS is what sha256sum -c reads, and lists every other file.
(cd "$T/b1" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1 && ok "sha256sum -c accepts SHA256SUMS" || bad "sha256sum -c accepts SHA256SUMS"
eq "SHA256SUMS lists every other file, sorted" "$(cut -c67- "$T/b1/SHA256SUMS" | tr '\n' ' ')" \
	"$(cd "$T/b1" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' ')"
DET=$(off_of "$F" '"detail":"cloudtrail: StopLogging')
tamper "a finding's detail altered (still RFC 8785)" findings.json $((DET + 14)) "tb/findings.json: altered"
TIT=$(off_of "$F" '"title":"AWS account root')
[ -n "$TIT" ] && tamper "a title altered in findings.json" findings.json $((TIT + 12)) "tb/findings.json"
RU=$(basename "$ROOTUSE" .sql)
tamper "a policy file altered" "policies/privileged.aws-root-use.sql" 3 "tb/policies/privileged.aws-root-use.sql"
tamper "SHA256SUMS altered" SHA256SUMS 80 "tb/SHA256SUMS: altered: line 2"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && rm "$T/tb/policies/privileged.aws-root-use.sql"
expect_fail "missing policy file" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/policies/privileged.aws-root-use.sql: missing"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && cp "$PACK/residency.sql" "$T/tb/policies/extra.sql"
expect_fail "extra policy file" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/policies/extra.sql: unexpected"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && rm "$T/tb/SHA256SUMS"
expect_fail "missing SHA256SUMS" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/SHA256SUMS: missing"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && sed -i '/findings.json$/d' "$T/tb/SHA256SUMS"
expect_fail "a file left out of SHA256SUMS" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/findings.json: not listed"
rm -rf "$T/tb" && cp -r "$T/b1" "$T/tb" && mkdir "$T/tb/entries/sub"
expect_fail "a directory inside entries/" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/entries/sub: unexpected"

section "a cited large record travels with its blob"
# A root login whose record is over 65,535 bytes: committed as a stub and a
# blob; the bundle carries the blob, checked against the stub.
LB=$T/lblob
new_log "$LB" "$T/k"
PAD=$(head -c 70000 /dev/zero | tr '\0' 'x')
printf '{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2024-03-02T09:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"%s","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"eventID":"big-root-login","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}]}\n' "$PAD" >"$T/big.json"
prb ingest "$LB" --key "$T/k" "$T/big.json"
eq "large record ingested" "$RC" 0
expect_ok "audit of the large record" audit "$LB" --policies "$ROOTUSE" --out "$T/bb"
HEX=$(ls "$T/bb/blobs" 2>/dev/null)
eq "one blob in the bundle" "$(printf '%s\n' "$HEX" | grep -c '^[0-9a-f]\{64\}$')" 1
eq "it is the log's blob" "$(fsha "$T/bb/blobs/$HEX")" "$HEX"
check "its stub is the cited entry" grep -q "\"sha256\":\"$HEX\"" "$T/bb/entries/0.json"
expect_ok "verify-evidence checks the blob" verify-evidence "$T/bb" --vkey "$VKEY"
rm -rf "$T/tb" && cp -r "$T/bb" "$T/tb" && flip_byte "$T/tb/blobs/$HEX" 30000
expect_fail "altered blob" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/blobs/$HEX"
rm -rf "$T/tb" && cp -r "$T/bb" "$T/tb" && rm "$T/tb/blobs/$HEX"
expect_fail "missing blob" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/blobs/$HEX"
rm -rf "$T/tb" && cp -r "$T/bb" "$T/tb" && cp "$T/tb/blobs/$HEX" "$T/tb/blobs/$(printf '%064d' 0)"
expect_fail "extra blob" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "unexpected"

section "audit --check: the findings are what the log holds"
prb audit "$L" --check "$T/b1"
eq "a bundle is reproduced from its log" "$RC" 0
check "says so" grep -q "^reproduced .*/b1/findings.json: 8 findings of 3 policies on .* at size 15, byte for byte$" "$T/out"
# The log grows by a record that the residency policy flags; the bundle is
# still reproduced as of its own checkpoint, a new audit differs.
cp -r "$L" "$T/lg"
printf '{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},"eventTime":"2024-03-03T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.10","userAgent":"aws-cli/2","requestParameters":{"instanceType":"m5.large"},"responseElements":null,"eventID":"later-run-us","eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}\n' >"$T/later.json"
N0=$(cp_size "$L")
prb ingest "$T/lg" --key "$T/k" "$T/later.json"
eq "the log grows by one" "$(cp_size "$T/lg")" $((N0 + 1))
expect_ok "a new audit of the grown log" audit "$T/lg" --policies "$POL" --out "$T/bg"
check "which flags the new record" grep -q "\"entries\":\[$N0\],\"policy\":\"residency.outside-allowed-regions\"" "$T/bg/findings.json"
prb audit "$T/lg" --check "$T/b1"
eq "the old bundle is reproduced as of its checkpoint" "$RC" 0
check "at its own size" grep -q "at size 15, byte for byte$" "$T/out"
# A forger who alters a detail everywhere it is shown (findings.json, the
# SARIF and the report) and fixes SHA256SUMS passes verify-evidence (which
# cannot know the log) but not --check.
rm -rf "$T/tf" && cp -r "$T/b1" "$T/tf"
sed -i 's/StopLogging by arn:aws:iam::111122223333:root/StopLogging by arn:aws:iam::111122223333:user-x/' "$T/tf/findings.json" "$T/tf/findings.sarif" "$T/tf/report.html"
sed -i "s/$(fsha "$T/b1/findings.json")/$(fsha "$T/tf/findings.json")/" "$T/tf/report.html"
(cd "$T/tf" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
expect_ok "a re-hashed forgery passes the offline check" verify-evidence "$T/tf" --vkey "$VKEY"
expect_fail "but not --check" audit "$L" --check "$T/tf"
err_has "which says where it differs" "tf/findings.json: not what its policies give on $L at size 15: differs from byte 190 .a re-run gives 8 findings, the bundle lists 8.$"
expect_fail "a bundle of another tree" audit "$L" --check "$T/bb"
err_has "is refused" "bb/checkpoint: its root at size 1 is not the root of"
new_key other.example/log "$T/k3"
new_log "$T/lo" "$T/k3"
expect_fail "a bundle of another log" audit "$T/lo" --check "$T/b1"
err_has "is refused" "b1/checkpoint: of log audit-test.example/log, not of"
expect_fail "--check with --out" audit "$L" --check "$T/b1" --out "$T/x"
eq "is a usage error" "$RC" 2
# A policy sees events only through the view (as of the bundle's size).
mkdir -p "$T/polm"
printf -- '-- id: test.main-events\n-- title: reads main.events\n-- severity: low\n-- rationale: a test policy that names the table with its schema\nSELECT leaf FROM main.events WHERE leaf = 2\n' >"$T/polm/m.sql"
expect_fail "a policy cannot read main.events, past the view" audit "$L" --policies "$T/polm" --out "$T/bm"
err_has "naming the policy" "polm/m.sql:5: SQL error: access to events.leaf is prohibited"
printf -- '-- id: test.succeeded\n-- title: refused calls\n-- severity: low\n-- rationale: a test policy of the derived column succeeded, the refused calls\nSELECT leaf FROM events WHERE NOT succeeded\n' >"$T/polm/m.sql"
expect_ok "the view's succeeded column" audit "$L" --policies "$T/polm" --out "$T/bm"
# refused: 4 (DeleteTrail, AccessDenied), 14 (k8s delete, 403); none else
eq "is false exactly for the refused calls" "$(cited "$T/bm/findings.json" test.succeeded)" "4 14"

section "one altered byte anywhere"
# Every file of a bundle (cosigned checkpoint, a blob, every kind of file),
# at its first, middle and last byte: verify-evidence must fail and name
# that file (for SHA256SUMS: it, or the file its altered line names).
SW=$T/sweep
mkdir -p "$SW"
for B in "$T/b1" "$T/bb"; do
	[ -d "$B" ] || continue
	(cd "$B" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) >"$SW/files"
	nf=0 nbad=0
	while read -r f; do
		len=$(wc -c <"$B/$f")
		for off in 0 $((len / 2)) $((len - 1)); do
			rm -rf "$SW/b" && cp -r "$B" "$SW/b"
			flip_byte "$SW/b/$f" "$off" || continue
			nf=$((nf + 1))
			$TO "$PROBITY" verify-evidence "$SW/b" --vkey "$VKEY" >/dev/null 2>"$SW/err"
			rc=$?
			if [ "$rc" -ne 1 ]; then
				nbad=$((nbad + 1)); bad "$(basename "$B"): $f byte $off altered: exit $rc" "$(head -c 300 "$SW/err")"
			elif [ "$f" = SHA256SUMS ]; then
				grep -q "/b/" "$SW/err" || { nbad=$((nbad + 1)); bad "$(basename "$B"): $f byte $off: names a file" "$(head -c 300 "$SW/err")"; }
			elif ! grep -qF "$f" "$SW/err"; then
				nbad=$((nbad + 1)); bad "$(basename "$B"): $f byte $off altered: names $f" "$(head -c 300 "$SW/err")"
			fi
		done
	done <"$SW/files"
	[ "$nbad" -eq 0 ] && ok "$(basename "$B"): $nf one-byte alterations over $(wc -l <"$SW/files") files, each refused naming its file"
done

section "witnesses"
# A copy of the log whose checkpoint two witnesses cosigned (cosignature/v1,
# made with openssl by lib.sh, not by probity); a third witness did not.
if [ -z "$HAVE_OPENSSL" ]; then
	skip "witness tests need openssl and basenc or xxd"
else
	cp -r "$L" "$T/lw"
	new_witness witness-one.example "$T/w1.pem" && W1=$WVK
	new_witness witness-two.example "$T/w2.pem" && W2=$WVK
	new_witness witness-three.example "$T/w3.pem" && W3=$WVK
	cosign "$T/lw/checkpoint" witness-one.example "$T/w1.pem" 1700000000
	cosign "$T/lw/checkpoint" witness-two.example "$T/w2.pem" 1700000100
	expect_ok "audit of the cosigned log" audit "$T/lw" --policies "$POL" --out "$T/bw"
	cmp -s "$T/bw/checkpoint" "$T/lw/checkpoint" && ok "bundle carries the cosigned checkpoint" || bad "bundle carries the cosigned checkpoint"
	eq "proofs embed the cosigned checkpoint" "$(proof_checkpoint "$T/bw/proofs/3.tlog-proof" | fsha /dev/stdin)" "$(fsha "$T/lw/checkpoint")"
	expect_ok "verify-evidence with both witnesses" verify-evidence "$T/bw" --vkey "$VKEY" --witness-vkey "$W1" --witness-vkey "$W2"
	check "reports witness one with its time" grep -q "^cosigned by witness witness-one.example at 1700000000\$" "$T/out"
	check "reports witness two" grep -q "^cosigned by witness witness-two.example at 1700000100\$" "$T/out"
	printf '%s\n' "$W2" >"$T/w2.vkey"
	expect_ok "a witness key from a file, --witness-vkey=" verify-evidence "$T/bw" --vkey "$VKEY" --witness-vkey="$T/w2.vkey"
	expect_ok "without witness keys the cosignatures are not required" verify-evidence "$T/bw" --vkey "$VKEY"
	expect_fail "a witness that did not cosign" verify-evidence "$T/bw" --vkey "$VKEY" --witness-vkey "$W1" --witness-vkey "$W3"
	err_has "says how many cosigned" "cosigned by 1 of the witnesses given, 2 required"
	check "names the missing witness" grep -q "^not cosigned by witness witness-three.example\$" "$T/out"
	expect_ok "--witnesses 1 of two" verify-evidence "$T/bw" --vkey "$VKEY" --witness-vkey "$W1" --witness-vkey "$W3" --witnesses 1
	expect_fail "--witnesses above the keys given" verify-evidence "$T/bw" --vkey "$VKEY" --witness-vkey "$W1" --witnesses 2
	eq "that is a usage error" "$RC" 2
	# A forged cosignature: witness-one's name and key ID over another
	# key's signature. With witness-one's key given, the note must not open.
	cp -r "$L" "$T/lf"
	cosign "$T/lf/checkpoint" witness-one.example "$T/w3.pem" 1700000000
	sed -i '$d' "$T/lf/checkpoint"
	vk_parts "$W1"
	_sig=$({ printf %s "$VK_ID" | hexbin; printf '%016x' 1700000000 | hexbin; cat "$T/cosig.sig"; } | base64 -w0)
	printf '%s %s %s\n' "$EMDASH" witness-one.example "$_sig" >>"$T/lf/checkpoint"
	expect_ok "audit of the log with a forged cosignature" audit "$T/lf" --policies "$POL" --out "$T/bf"
	expect_ok "the forgery is not checked without the witness's key" verify-evidence "$T/bf" --vkey "$VKEY"
	expect_fail "a forged cosignature is refused" verify-evidence "$T/bf" --vkey "$VKEY" --witness-vkey "$W1"
	err_has "as an invalid signature, naming the checkpoint" "bf/checkpoint: invalid signature by key witness-one.example"
fi

finish
