#!/bin/sh
# report.html and findings.sarif of an evidence bundle: deterministic, the
# SARIF 2.1.0 structure, record text escaped, no script and no network,
# "no findings" said plainly, each file refused by verify-evidence when
# altered (also with SHA256SUMS re-made), and the page rendered by headless
# Chromium, its screenshot read back by OCR for the expected findings.
#
# Env: PROBITY (binary), VERBOSE=1.
set -u
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
PACK=$(cd "$HERE/../../policies" && pwd)
EV=$HERE/audit/events
POL=$T/pol
mkdir "$POL"
for id in residency.outside-allowed-regions concealment.audit-trail-disabled privileged.aws-root-use; do
	f=$(grep -l "^-- id: $id\$" "$PACK"/*.sql | head -n 1)
	if [ -n "$f" ]; then cp "$f" "$POL/"; else bad "policy $id in the pack"; fi
done

new_key report-test.example/log "$T/k" || finish
VKEY=$VK
L=$T/log
new_log "$L" "$T/k" || finish
# The audit events, and a hostile record: a root call whose fields carry
# markup, quotes and ampersands.
mkdir "$T/ev"
cp -r "$EV"/* "$T/ev/"
printf '%s\n' '{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2024-03-02T08:00:00Z","eventSource":"s3.amazonaws.com","eventName":"<script>alert(\"x\")</script>&amp;","awsRegion":"eu-west-1","sourceIPAddress":"192.0.2.1","userAgent":"a","requestParameters":{"bucketName":"q'"'"'uote"},"responseElements":null,"eventID":"hostile-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}' >"$T/ev/hostile.json"
prb ingest "$L" --key "$T/k" "$T/ev"
[ "$RC" -eq 0 ] || { bad "ingest" "exit $RC: $(head_of "$T/err")"; finish; }
expect_ok "audit" audit "$L" --policies "$POL" --out "$T/b1"
B=$T/b1
S=$B/findings.sarif
H=$B/report.html

section "determinism"
expect_ok "second audit" audit "$L" --policies "$POL" --out "$T/b2"
cmp -s "$S" "$T/b2/findings.sarif" && ok "findings.sarif byte-identical" || bad "findings.sarif byte-identical"
cmp -s "$H" "$T/b2/report.html" && ok "report.html byte-identical" || bad "report.html byte-identical"
check "no absolute path in the report" sh -c "! grep -q '$T' '$H'"

section "SARIF 2.1.0"
NF=$(grep -o '"policy":"' "$B/findings.json" | wc -l)
check "\$schema and version" grep -q '^{"\$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":\[{' "$S"
check "version 2.1.0 last" grep -q '"version":"2.1.0"}$' "$S"
check "the driver is probity" grep -q '"driver":{"name":"probity","rules":\[' "$S"
eq "one rule per policy" "$(grep -o '"defaultConfiguration":' "$S" | wc -l)" 3
eq "one result per finding" "$(grep -o '"ruleId":"' "$S" | wc -l)" "$NF"
check "critical concealment is level error" grep -q '"level":"error","locations":\[{"physicalLocation":{"artifactLocation":{"uri":"entries/3.json"}}}\],"message":{"text":"cloudtrail: StopLogging' "$S"
check "medium root use is level warning" grep -q '"level":"warning","locations":\[{"physicalLocation":{"artifactLocation":{"uri":"entries/3.json"}}}\],"message":{"text":"root of 111122223333: StopLogging"},"properties":{"entries":\[3\]},"ruleId":"privileged.aws-root-use","ruleIndex":1}' "$S"
check "rules carry the rationale" grep -q '"fullDescription":{"text":"Data residency and export control.' "$S"
check "the checkpoint is in the run" grep -q "\"properties\":{\"checkpoint\":{\"origin\":\"report-test.example/log\",\"root\":\"$(cp_root "$L")\",\"size\":$(cp_size "$L")}}" "$S"
# every result's uri names a cited entry the bundle holds
for u in $(grep -o '"uri":"entries/[0-9]*.json"' "$S" | sed 's/"uri":"//; s/"$//' | sort -u); do
	[ -f "$B/$u" ] || bad "SARIF uri $u is in the bundle"
done
ok "SARIF uris name files of the bundle"

section "report.html"
check "a Content-Security-Policy with no script and no network" grep -q "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">" "$H"
check "no script element from the records" sh -c "! grep -qi '<script' '$H'"
check "the hostile operation shown escaped" grep -qF '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;' "$H"
check "no external reference" sh -c "! grep -Eqi '(src|href)=\"(https?:)?//' '$H'"
check "the checkpoint's origin, size and root" grep -q "report-test.example/log.*$(cp_size "$L") entries.*$(cp_root "$L")" "$H"
check "the log's signature listed" grep -q "the log&#39;s signature\|the log's signature" "$H"
check "counts by severity" grep -q '<h2>Findings by severity: '"$NF"' in all</h2>' "$H"
check "the findings.json hash stated" grep -q "$(fsha "$B/findings.json")" "$H"
check "the determinism claim and how to check it" grep -q 'byte-identical <code>findings.json</code>.*probity audit LOGDIR --check BUNDLE' "$H"
eq "one verified mark per cited entry of each finding" "$(grep -o '&#10003; verified</a>' "$H" | wc -l)" "$(grep -o '"entries":\[[0-9,]*\]' "$B/findings.json" | tr -cd ',[' | wc -c)"
check "the timeline lists the cited events in time order" sh -c "grep -o '<h2>Timeline.*<h2>Findings</h2>' '$H' | grep -o '20[0-9-]*T[0-9:.]*Z' | sort -c"
# no findings: said plainly
mkdir -p "$T/none"
printf -- '-- id: test.nothing\n-- title: Matches nothing\n-- severity: low\n-- rationale: a test policy that no record can match, to see the page say so\nSELECT leaf FROM events WHERE 0\n' >"$T/none/n.sql"
expect_ok "audit with no findings" audit "$L" --policies "$T/none" --out "$T/b0"
check "says no policy matched any entry" grep -q "<strong>No findings.</strong> None of the 1 policies below matched any of the $(cp_size "$L") entries" "$T/b0/report.html"
expect_ok "the empty bundle verifies" verify-evidence "$T/b0" --vkey "$VKEY"

section "verify-evidence holds both to the bundle"
for f in report.html findings.sarif; do
	rm -rf "$T/tb" && cp -r "$B" "$T/tb"
	flip_byte "$T/tb/$f" 200
	expect_fail "$f altered" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/$f: altered"
	(cd "$T/tb" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
	expect_fail "$f altered, SHA256SUMS re-made" verify-evidence "$T/tb" --vkey "$VKEY" &&
		err_has "names it" "tb/$f: altered: it is not what the bundle"
	rm -rf "$T/tb" && cp -r "$B" "$T/tb" && rm "$T/tb/$f"
	(cd "$T/tb" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
	expect_fail "$f missing" verify-evidence "$T/tb" --vkey "$VKEY" && err_has "names it" "tb/$f: missing"
done

section "rendered by headless Chromium, read back from the screenshot"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] || ! command -v tesseract >/dev/null 2>&1; then
	skip "chromium or tesseract not installed (scripts/deps.sh installs both): the rendering is not checked"
else
	mkdir -p "$T/home"
	# --no-sandbox: the tests run as root, where Chromium's sandbox
	# refuses to start; the page is our own and holds no script.
	HOME=$T/home XDG_CONFIG_HOME=$T/home XDG_CACHE_HOME=$T/home \
		timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-extensions --hide-scrollbars \
		--window-size=1280,4000 --screenshot="$T/shot.png" \
		"file://$H" >"$T/chrome.out" 2>&1
	if [ -s "$T/shot.png" ]; then ok "screenshot taken"; else bad "screenshot taken" "$(tail -n 3 "$T/chrome.out")"; fi
	HOME=$T/home XDG_CONFIG_HOME=$T/home XDG_CACHE_HOME=$T/home \
		timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-extensions --dump-dom "file://$H" \
		>"$T/dom.html" 2>"$T/chrome.err"
	check "the rendered DOM has the three findings' titles" sh -c \
		"grep -q 'Audit trail stopped, deleted or narrowed' '$T/dom.html' && grep -q 'Resource or data placed outside the allowed regions' '$T/dom.html' && grep -q 'AWS account root user used' '$T/dom.html'"
	eq "the rendered DOM has every verified mark" "$(grep -o '✓ verified' "$T/dom.html" | wc -l)" "$(grep -o '&#10003; verified' "$H" | wc -l)"
	if [ -s "$T/shot.png" ]; then
		tesseract "$T/shot.png" "$T/ocr" >/dev/null 2>&1
		tr -s ' \n' ' ' <"$T/ocr.txt" >"$T/ocr1.txt"
		for want in "Findings by severity: $NF in all" \
			"Audit trail stopped, deleted or narrowed" \
			"Resource or data placed outside the allowed regions" \
			"AWS account root user used" "verified" \
			"report-test.example/log"; do
			if grep -qiF "$want" "$T/ocr1.txt"; then ok "screenshot shows: $want"; else bad "screenshot shows: $want" "OCR read: $(head -c 400 "$T/ocr1.txt")"; fi
		done
		# the counts row: critical, high, medium, low, info
		# OCR may drop the space between a count and its word, and read
		# 0 as O: compare without spaces, O read as 0.
		tr -d ' ' <"$T/ocr1.txt" | sed 's/O/0/g' >"$T/ocr2.txt"
		for sev in critical high medium low info; do
			n=$(sed 's/"policies":.*//' "$B/findings.json" | grep -o "\"severity\":\"$sev\"" | wc -l)
			check "screenshot shows $n $sev" grep -qi "$n$sev" "$T/ocr2.txt"
		done
	fi
fi


finish
