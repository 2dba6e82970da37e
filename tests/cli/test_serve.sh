#!/bin/sh
# probity serve, black-box over 127.0.0.1: appends answered once durable
# and shared between concurrent requests, the tiles served as the files
# are, credentials (none, read-only, append-only), limits and bad input,
# metrics, TLS. Every request is bounded by curl's -m; every wait by a
# counted loop.
. "$(dirname "$0")/lib.sh"

serve_fixture test.example/serve
RT=read-token-0123456789abcdef
BT=both-token-0123456789abcdef
printf '# rights token\nappend %s\nread %s\n\nread,append %s\n' "$AT" "$RT" "$BT" >"$T/tokens"
R="Authorization: Bearer $RT"
B="Authorization: Bearer $BT"

section "starting"
if ! start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
	bad "serve starts and prints 'listening on URL'" "$(head_of "$T/s.err")"
	finish
fi
ok "serve prints 'listening on URL'"
case $URL in http://127.0.0.1:[1-9]*) ok "the URL names the port bound" ;; *) bad "URL" "$URL" ;; esac

section "the checkpoint: public, as the file, not cached long"
http "$URL/checkpoint"
eq "GET /checkpoint: 200" "$CODE" 200
check "GET /checkpoint: the file's bytes" cmp -s "$T/body" "$L/checkpoint"
eq "checkpoint content type" "$(hdr Content-Type)" "text/plain; charset=utf-8"
eq "checkpoint cache control" "$(hdr Cache-Control)" "no-cache"

section "appends need an append credential"
http --data-binary "x" "$URL/add"
eq "POST /add without a credential: 401" "$CODE" 401
case $(hdr WWW-Authenticate) in Bearer*) ok "401 says WWW-Authenticate: Bearer" ;; *) bad "WWW-Authenticate" "$(cat "$T/hdr")" ;; esac
http -H "$R" --data-binary "x" "$URL/add"
eq "POST /add with a read-only credential: 403" "$CODE" 403
http -H "Authorization: Bearer not-a-token-0123456789" --data-binary "x" "$URL/add"
eq "POST /add with an unknown token: 401" "$CODE" 401
http -H "Authorization: Basic $(printf 'a:b' | base64)" --data-binary "x" "$URL/add"
eq "POST /add with a non-bearer credential: 401" "$CODE" 401
eq "nothing was appended by refused requests" "$(cp_size "$L")" 0

section "an append is answered with its leaf indexes once durable"
printf 'alpha\nbeta\ngamma\n' >"$T/three"
http -H "$A" --data-binary "@$T/three" "$URL/add"
eq "POST /add: 200" "$CODE" 200
eq "POST /add: one index per entry" "$(cat "$T/body")" "$(printf '0\n1\n2')"
eq "the checkpoint file already covers them when the answer comes" "$(cp_size "$L")" 3
http -H "$B" --data-binary "delta" "$URL/add"
eq "a last line without a newline is an entry" "$(cat "$T/body")" 3
printf 'e1\r\n\nx y\n' >"$T/odd"
http -H "$B" --data-binary "@$T/odd" "$URL/add"
eq "'\\r' kept, empty line an empty entry" "$(cat "$T/body" | tr '\n' ' ')" "4 5 6 "
eq "entries are the lines" "$(entries_range "$L" 7 0 4 | tr '\n' ' ')" "alpha beta gamma delta "
http "$URL/checkpoint"
check "GET /checkpoint serves the new checkpoint" cmp -s "$T/body" "$L/checkpoint"

section "reading tiles needs a read credential on a private log"
http "$URL/tile/entries/000.p/7"
eq "bundle without a credential: 401" "$CODE" 401
http -H "$A" "$URL/tile/entries/000.p/7"
eq "bundle with an append-only credential: 403" "$CODE" 403
http -H "$R" "$URL/tile/entries/000.p/7"
eq "bundle with a read credential: 200" "$CODE" 200
check "bundle: the file's bytes" cmp -s "$T/body" "$L/tile/entries/000.p/7"
eq "bundle content type" "$(hdr Content-Type)" "application/octet-stream"
eq "bundle caching: long-lived, private" "$(hdr Cache-Control)" "private, max-age=31536000, immutable"
http -H "$R" "$URL/tile/0/000.p/7"
check "hash tile: the file's bytes" cmp -s "$T/body" "$L/tile/0/000.p/7"
http -H "$B" -H "Accept-Encoding: gzip" "$URL/tile/entries/000.p/7"
eq "bundle with Accept-Encoding: gzip is gzip-encoded" "$(hdr Content-Encoding)" gzip
if gzip -dc <"$T/body" >"$T/unz" 2>/dev/null && cmp -s "$T/unz" "$L/tile/entries/000.p/7"; then
	ok "the gzip body decodes to the bundle"
else
	bad "gzip body decodes to the bundle"
fi
http -H "$B" -H "Accept-Encoding: gzip;q=0, identity" "$URL/tile/entries/000.p/7"
eq "gzip;q=0 is not gzip-encoded" "$(hdr Content-Encoding)" ""
check "... and is the bundle" cmp -s "$T/body" "$L/tile/entries/000.p/7"
http -H "$B" -H "Accept-Encoding: identity, gzip; q=0.0" "$URL/tile/entries/000.p/7"
eq "'gzip; q=0.0' is not gzip-encoded" "$(hdr Content-Encoding)" ""
http -H "$B" -H "Accept-Encoding: br;q=1.0, *;q=0.5" "$URL/tile/entries/000.p/7"
eq "'*;q=0.5' accepts gzip" "$(hdr Content-Encoding)" gzip
http -H "$R" "$URL/tile/entries/000.p/8"
eq "a bundle beyond the tree: 404" "$CODE" 404
http -H "$R" "$URL/tile/entries/001"
eq "a full bundle not yet there: 404" "$CODE" 404
for p in /tile/0/0.p/7 /tile/entries/000.p/0 /tile/../index.sqlite /index.sqlite /checkpoint.tmp /tile/ /tile/0/x001/000; do
	http -H "$R" "$URL$p"
	eq "GET $p: 404" "$CODE" 404
done
http -X PUT -H "$B" --data-binary x "$URL/checkpoint"
eq "PUT /checkpoint: 405" "$CODE" 405
http -H "$B" "$URL/add"
eq "GET /add: 405" "$CODE" 405

section "bad input: 400 with the reason, nothing committed"
before=$(cp_size "$L")
head -c 65536 /dev/zero | tr '\0' a >"$T/big"
{ echo ok-line; cat "$T/big"; echo; } >"$T/bigbody"
http -H "$A" --data-binary "@$T/bigbody" "$URL/add"
eq "an entry over 65,535 bytes: 400" "$CODE" 400
check "... naming the line and the limit" grep -q "line 2: entry of 65536 bytes is over the limit of 65535" "$T/body"
http -H "$A" --data-binary "" "$URL/add"
eq "an empty body: 400" "$CODE" 400
http -H "$A" --data-binary "{}" "$URL/add?format=nosuch"
eq "an unknown format: 400" "$CODE" 400
check "... naming it" grep -q 'unknown format "nosuch"' "$T/body"
http -H "$A" --data-binary '{"Records": [{"eventVersion": ' "$URL/add?format=cloudtrail"
eq "records that do not parse: 400" "$CODE" 400
check "... saying where" grep -q "line 1" "$T/body"
eq "nothing committed by bad requests" "$(cp_size "$L")" "$before"

section "body limits"
stop_server "$SPID"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" --max-body 1000 --queue 5 || bad "restart with limits"
head -c 1001 /dev/zero | tr '\0' b >"$T/1001"
http -H "$A" --data-binary "@$T/1001" "$URL/add"
eq "a body over --max-body: 413" "$CODE" 413
http -H "$A" -H "Transfer-Encoding: chunked" --data-binary "@$T/1001" "$URL/add"
eq "a chunked body over --max-body: 413" "$CODE" 413
seq 1 6 >"$T/six"
http -H "$A" --data-binary "@$T/six" "$URL/add"
eq "more entries than the queue holds: 413" "$CODE" 413
eq "nothing committed by refused requests" "$(cp_size "$L")" "$before"
http -H "$A" --data-binary "@$T/three" "$URL/add"
eq "the server still appends" "$(cat "$T/body" | tr '\n' ' ')" "7 8 9 "

section "concurrent appends share batches"
stop_server "$SPID"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" || bad "restart"
base=$(cp_size "$L")
w=0
while [ "$w" -lt 8 ]; do
	(
		i=0
		while [ "$i" -lt 25 ]; do
			printf 'w%d-%d-a\nw%d-%d-b\n' "$w" "$i" "$w" "$i" |
				curl -s -m 30 -H "$A" --data-binary @- "$URL/add" >>"$T/conc.$w" || echo "curl failed" >>"$T/conc.$w"
			i=$((i + 1))
		done
	) &
	w=$((w + 1))
done
wait_n=0
while [ "$(cat "$T"/conc.* 2>/dev/null | wc -l)" -lt 400 ] && [ "$wait_n" -lt 600 ]; do
	sleep 0.1
	wait_n=$((wait_n + 1))
done
sleep 0.2
cat "$T"/conc.* >"$T/conc"
eq "400 indexes came back" "$(wc -l <"$T/conc")" 400
eq "every index is distinct and new" "$(sort -n "$T/conc" | uniq | awk -v b="$base" '$1 >= b && $1 < b + 400' | wc -l)" 400
eq "the log holds them all" "$(cp_size "$L")" $((base + 400))
http -H "$R" "$URL/metrics"
batches=$(grep '^probity_batches_total ' "$T/body" | cut -d' ' -f2)
if [ -n "$batches" ] && [ "$batches" -lt 200 ]; then
	ok "200 requests took fewer than 200 batches ($batches): group commit"
else
	bad "group commit" "batches: $batches"
fi
eq "metrics count the entries" "$(grep '^probity_appended_entries_total ' "$T/body" | cut -d' ' -f2)" 400
eq "metrics count the 200s" "$(grep '^probity_add_requests_total{code="200"} ' "$T/body" | cut -d' ' -f2)" 200
check "metrics have the durable latency histogram" grep -q '^probity_durable_latency_seconds_count 200$' "$T/body"
check "metrics have the batch size histogram" grep -q '^probity_batch_entries_bucket{le="+Inf"} '"$batches"'$' "$T/body"
check "metrics have the queue depth" grep -q '^probity_queue_entries 0$' "$T/body"
eq "metrics content type" "$(hdr Content-Type)" "text/plain; version=0.0.4; charset=utf-8"
http "$URL/metrics"
eq "metrics need a read credential on a private log" "$CODE" 401
http "$URL/healthz"
eq "healthz: 200 ok" "$CODE $(cat "$T/body")" "200 ok"
verify_ok "the log verifies after concurrent appends" "$L" "$LVK"
for f in "$T"/conc.*; do
	if ! sort -n -c "$f" 2>/dev/null; then bad "one client's indexes increase" "$f"; fi
done
ok "each client's indexes increase"

section "every tile and bundle served is the file"
n=0 diff=""
for f in $(cd "$L" && find tile -type f | sort); do
	http -H "$R" "$URL/$f"
	if [ "$CODE" = 200 ] && cmp -s "$T/body" "$L/$f"; then n=$((n + 1)); else diff="$diff $f($CODE)"; fi
done
eq "all files under tile/ served byte for byte ($n)" "$diff" ""
[ "$n" -ge 6 ] && ok "full and partial tiles of several levels were compared" || bad "too few tiles compared: $n"

section "records with ?format=: indexed, duplicates found"
CT=$T/ct.json
cat >"$CT" <<'J'
{"Records": [
{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli","requestParameters":{"bucketName":"b1"},"responseElements":null,"requestID":"R1","eventID":"11111111-1111-1111-1111-111111111111","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"},
{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2024-01-02T03:04:06Z","eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli","requestParameters":{"bucketName":"b1"},"responseElements":null,"requestID":"R2","eventID":"22222222-2222-2222-2222-222222222222","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}
]}
J
base=$(cp_size "$L")
http -H "$A" --data-binary "@$CT" "$URL/add?format=cloudtrail"
eq "records: 200" "$CODE" 200
eq "records: an index per record" "$(cat "$T/body" | tr '\n' ' ')" "$base $((base + 1)) "
http -H "$A" --data-binary "@$CT" "$URL/add?format=auto"
eq "the same records again: duplicates at their leaves" "$(cat "$T/body" | tr '\n' ' ')" "$base duplicate $((base + 1)) duplicate "
sed 's/"bucketName":"b1"}/"bucketName":"b2"}/' "$CT" >"$T/ct2.json"
http -H "$A" --data-binary "@$T/ct2.json" "$URL/add?format=cloudtrail"
eq "same event ids, other content: conflicts" "$(cat "$T/body" | tr '\n' ' ')" "$base conflict $((base + 1)) conflict "
eq "duplicates and conflicts add nothing" "$(cp_size "$L")" $((base + 2))
rows=$(sqlite3 "$L/index.sqlite" "SELECT count(*) FROM events WHERE format = 'cloudtrail'")
eq "the index has a row per record" "$rows" 2
leaf=$(sqlite3 "$L/index.sqlite" "SELECT leaf FROM events WHERE operation = 'DeleteBucket'")
eq "... at the leaf the answer gave" "$leaf" $((base + 1))
http -H "$A" --data-binary '{"hello": 1}' "$URL/add?format=cloudtrail"
eq "a record of another format: 400" "$CODE" 400

section "plain and records requests at once: each batch one kind, all acknowledged"
base=$(cp_size "$L")
pids=""
i=0
while [ "$i" -lt 12 ]; do
	seq 1 400 | sed "s/^/mixed-$i-/" >"$T/mixp.$i"
	sed "s/11111111-1111-1111-1111-111111111111/mix-$i-a/; s/22222222-2222-2222-2222-222222222222/mix-$i-b/" "$CT" >"$T/mixr.$i"
	curl -s -m 30 -o "$T/mixp.$i.body" -w '%{http_code}' -H "$A" --data-binary "@$T/mixp.$i" "$URL/add" >"$T/mixp.$i.code" &
	pids="$pids $!"
	curl -s -m 30 -o "$T/mixr.$i.body" -w '%{http_code}' -H "$A" --data-binary "@$T/mixr.$i" "$URL/add?format=cloudtrail" >"$T/mixr.$i.code" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
codes=$(cat "$T"/mixp.*.code "$T"/mixr.*.code | tr -d '\n')
eq "24 concurrent plain and records requests: all 200" "$codes" "$(printf '200%.0s' $(seq 1 24))"
eq "every entry of them is in the log" "$(cp_size "$L")" $((base + 12 * 402))
bad_ix=""
i=0
while [ "$i" -lt 12 ]; do
	first=$(head -n 1 "$T/mixp.$i.body")
	got=$(entries_range "$L" "$(cp_size "$L")" "$first" $((first + 400)))
	[ "$got" = "$(cat "$T/mixp.$i")" ] || bad_ix="$bad_ix $i"
	i=$((i + 1))
done
eq "each plain request's lines at the indexes it was given" "$bad_ix" ""
rows=$(sqlite3 "$L/index.sqlite" "SELECT count(*) FROM events WHERE event_id LIKE 'mix-%'")
eq "each record indexed" "$rows" 24

section "records need the index to be this log's (the writer's checks)"
stop_server "$SPID"
cp "$L/index.sqlite" "$T/index.good"
before=$(cp_size "$L")
sqlite3 "$L/index.sqlite" "UPDATE meta SET value = '$(printf '%064d' 0)' WHERE key = 'log_root'"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" || bad "restart"
sed 's/2222/3333/g; s/1111/4444/g' "$CT" >"$T/ct3.json"
http -H "$A" --data-binary "@$T/ct3.json" "$URL/add?format=cloudtrail"
eq "an index whose root is another log's: 500" "$CODE" 500
check "... saying it belongs to another log" grep -q "belongs to another log" "$T/body"
eq "... and nothing is appended" "$(cp_size "$L")" "$before"
http -H "$A" --data-binary "plain-while-index-bad" "$URL/add"
eq "plain entries still go in" "$CODE" 200
stop_server "$SPID"
sqlite3 "$L/index.sqlite" "UPDATE meta SET value = '99999999' WHERE key = 'log_size'"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" || bad "restart"
http -H "$A" --data-binary "@$T/ct3.json" "$URL/add?format=cloudtrail"
eq "an index covering more than the log: 500" "$CODE" 500
check "... saying how much each covers" grep -q "the index covers 99999999 entries but the log has" "$T/body"
stop_server "$SPID"
"$PROBITY" reindex "$L" >/dev/null 2>&1
eq "reindex rebuilds it" "$?" 0
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" || bad "restart"
http -H "$A" --data-binary "@$T/ct3.json" "$URL/add?format=cloudtrail"
eq "then the records go in" "$CODE" 200
rows=$(sqlite3 "$L/index.sqlite" "SELECT count(*) FROM events WHERE event_id LIKE '33333333-%' OR event_id LIKE '44444444-%'")
eq "... and are indexed" "$rows" 2
"$PROBITY" verify "$L" --vkey "$LVK" >/dev/null 2>&1
eq "the log and its index verify" "$?" 0

section "a slow client is cut off; others are served meanwhile"
stop_server "$SPID"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" --idle-timeout 2 || bad "restart"
# a body announced as 100 bytes of which 1 comes: the server waits
( curl -s -m 25 -o /dev/null -w '%{http_code}' -H "$A" -H 'Content-Length: 100' \
	--data-binary x "$URL/add" >"$T/slow.code" 2>/dev/null
  echo done >"$T/slow.done" ) &
SLOWP=$!
http -H "$A" --data-binary "while-slow" "$URL/add"
eq "another client is served while a slow one hangs" "$CODE" 200
i=0
while [ ! -f "$T/slow.done" ] && [ "$i" -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
if [ -f "$T/slow.done" ]; then ok "the idle client was disconnected (--idle-timeout 2) before its own 25 s limit"; else bad "the slow client was not cut off within 15 s"; fi
wait "$SLOWP" 2>/dev/null
case $(cat "$T/slow.code" 2>/dev/null) in 200) bad "the slow client's request was acknowledged" ;; *) ok "the slow client's request was not acknowledged" ;; esac
eq "nothing of the slow request was appended" "$(entries_range "$L" "$(cp_size "$L")" $(($(cp_size "$L") - 1)) "$(cp_size "$L")")" "while-slow"

section "stopping answers what is in flight, then exits 0"
stop_server "$SPID"
eq "SIGTERM: exit status 0" "$?" 0
sanity_after "serve" "$T/s.err"
verify_ok "the log verifies after the server stopped" "$L" "$LVK"

section "a public log: tiles without a credential, appends still need one"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" --public || bad "public start"
http "$URL/tile/entries/000"
eq "public: a bundle without a credential: 200" "$CODE" 200
check "public: the bundle's bytes" cmp -s "$T/body" "$L/tile/entries/000"
eq "public: caching says public" "$(hdr Cache-Control)" "public, max-age=31536000, immutable"
http --data-binary x "$URL/add"
eq "public: POST /add without a credential: 401" "$CODE" 401
stop_server "$SPID"

section "no --tokens: nobody may append"
start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 || bad "start without tokens"
http -H "$A" --data-binary x "$URL/add"
eq "without --tokens POST /add: 403" "$CODE" 403
check "... saying why" grep -q "no credentials" "$T/body"
stop_server "$SPID"

section "TLS"
if openssl req -x509 -newkey ed25519 -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 -nodes \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1; then
	if start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" \
		--tls-cert "$T/tls.crt" --tls-key "$T/tls.key"; then
		case $URL in https://*) ok "with a certificate the URL is https" ;; *) bad "https URL" "$URL" ;; esac
		http --cacert "$T/tls.crt" "$URL/checkpoint"
		eq "GET /checkpoint over TLS" "$CODE" 200
		check "... the checkpoint" cmp -s "$T/body" "$L/checkpoint"
		http --cacert "$T/tls.crt" -H "$A" --data-binary tls-entry "$URL/add"
		eq "POST /add over TLS: 200" "$CODE" 200
		http "${URL#https}" >/dev/null 2>&1
		http "http${URL#https}/checkpoint"
		if [ "$CODE" != 200 ]; then ok "plain HTTP to the TLS port gets no checkpoint"; else bad "plain HTTP on TLS port"; fi
		stop_server "$SPID"
	else
		bad "serve with --tls-cert/--tls-key starts" "$(head_of "$T/s.err")"
	fi
else
	skip "openssl cannot make an Ed25519 certificate here"
fi

section "command-line errors"
expect_fail "no --listen" serve "$L" --key "$T/key"
eq "no --listen: usage status 2" "$RC" 2
expect_fail "a bad --listen" serve "$L" --key "$T/key" --listen localhost
err_has "... names the form" "ADDR:PORT"
chmod 644 "$T/tokens"
expect_fail "a token file others can read" serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens"
err_has "... says so" "readable by group or others"
chmod 600 "$T/tokens"
printf 'write %s\n' "$AT" >"$T/badtok"
chmod 600 "$T/badtok"
expect_fail "a token file with unknown rights" serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/badtok"
err_has "... names the line" "line 1"
printf 'read short\n' >"$T/badtok"
expect_fail "a token too short" serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/badtok"
expect_fail "--tls-cert without --tls-key" serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tls-cert "$T/tls.crt"
start_server s2 serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" || bad "start"
prb serve "$L" --key "$T/key" --listen 127.0.0.1:0 --lock-timeout 0
if [ "$RC" -ne 0 ] && grep -q "another probity process is writing to this log" "$T/err"; then ok "a second writer on the same log is refused (the lock)"; else bad "second server" "exit $RC: $(head_of "$T/err")"; fi
prb reindex "$L" --lock-timeout 0
eq "reindex while the server writes: refused" "$RC" 1
eq "... naming the directory once" "$(cat "$T/err")" "probity reindex: $L: another probity process is writing to this log"
stop_server "$SPID"
verify_ok "the log verifies at the end" "$L" "$LVK"
finish
