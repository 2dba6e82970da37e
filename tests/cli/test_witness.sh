#!/bin/sh
# Black-box tests of probity keygen --witness and probity witness, the
# c2sp.org/tlog-witness add-checkpoint server: every status the spec
# defines, posted with curl against the real binary on 127.0.0.1; the
# cosignature checked independently with openssl and by probity
# verify-evidence; state kept across a clean restart and across kill -9.
#
# Env: PROBITY (binary), VERBOSE=1.
set -u
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v curl >/dev/null 2>&1; then
	skip "probity witness tests need curl"
	finish
fi

# start_witness [ARGS...]: runs the witness in the background on a free
# port with the keys and state below; sets WPID and URL (empty on failure).
start_witness() {
	: >"$T/w.out"
	"$PROBITY" witness --listen 127.0.0.1:0 --key "$T/w.key" \
		--log "example.com/log=$LVK" --log "audit-test.example/log=$T/a.vkey" \
		--state "$T/w.sqlite" "$@" >"$T/w.out" 2>>"$T/w.err" &
	WPID=$!
	BGPIDS="$BGPIDS $WPID"
	_i=0
	while [ "$_i" -lt 150 ] && ! grep -q '^listening on ' "$T/w.out"; do
		kill -0 "$WPID" 2>/dev/null || break
		sleep 0.1
		_i=$((_i + 1))
	done
	URL=$(sed -n 's/^listening on //p' "$T/w.out")
	if [ -z "$URL" ]; then bad "witness started" "$(head_of "$T/w.err")"; return 1; fi
	ok "witness started: $URL"
}
# stop_witness SIGNAL: stops it and waits; sets WRC.
stop_witness() {
	kill "-$1" "$WPID" 2>/dev/null
	_i=0
	while [ "$_i" -lt 100 ] && kill -0 "$WPID" 2>/dev/null; do sleep 0.1; _i=$((_i + 1)); done
	wait "$WPID"
	WRC=$?
}
# post FILE [PATH]: POSTs FILE; sets CODE and CTYPE, the body in $T/body.
post() {
	_r=$(curl -s -m 20 -o "$T/body" -w '%{http_code} %{content_type}' \
		--data-binary @"$1" "$URL${2:-/add-checkpoint}")
	CODE=${_r%% *} CTYPE=${_r#* }
}
# expect_status MSG CODE FILE: posting FILE answers CODE.
expect_status() {
	post "$3"
	if [ "$CODE" = "$2" ]; then ok "$1"; else bad "$1" "got $CODE ($CTYPE), want $2" "body: $(head_of "$T/body")"; fi
}
# req OUT OLD PROOFFILE CHECKPOINTFILE: a request body.
req() { { echo "old $2"; cat "$3"; echo; cat "$4"; } >"$1"; }

# cosig_ok MSG CHECKPOINTFILE LINE: the line is "— w.example/w1 base64" by
# the witness key over the checkpoint's text, checked with openssl; sets TS.
cosig_ok() {
	_why=""
	vk_parts "$WVK"
	case $3 in
	"$EMDASH w.example/w1 "*) _s=${3#"$EMDASH w.example/w1 "} ;;
	*) _s=""; _why="not a signature line of w.example/w1: $3" ;;
	esac
	if [ -n "$_s" ]; then
		printf %s "$_s" | base64 -d >"$T/cs.raw" 2>/dev/null
		[ "$(wc -c <"$T/cs.raw")" -eq 76 ] || _why="$_why; not 4+8+64 bytes"
		[ "$(head -c 4 "$T/cs.raw" | binhex)" = "$VK_ID" ] || _why="$_why; key ID is not $VK_ID"
		TS=$((0x$(head -c 12 "$T/cs.raw" | tail -c 8 | binhex)))
		_now=$(date +%s)
		{ [ "$TS" -gt $((_now - 600)) ] && [ "$TS" -le $((_now + 5)) ]; } || _why="$_why; timestamp $TS is not now ($_now)"
		if [ -n "$HAVE_OPENSSL" ]; then
			{ printf '302A300506032B6570032100' | hexbin; printf %s "$VK_KEY" | base64 -d | tail -c 32; } >"$T/cs.pub"
			tail -c 64 "$T/cs.raw" >"$T/cs.sig"
			{ printf 'cosignature/v1\ntime %s\n' "$TS"; sed '/^$/,$d' "$2"; } >"$T/cs.msg"
			openssl pkeyutl -verify -pubin -inkey "$T/cs.pub" -keyform DER -rawin \
				-in "$T/cs.msg" -sigfile "$T/cs.sig" >/dev/null 2>&1 ||
				_why="$_why; Ed25519 over cosignature/v1 does not verify (openssl)"
		fi
	fi
	if [ -z "$_why" ]; then ok "$1"; else bad "$1" "${_why#; }"; fi
}

section "keygen --witness"
new_key example.com/log "$T/log.key" || finish
LVK=$VK
prb keygen w.example/w1 -o "$T/w.key" --witness
eq "keygen --witness exits 0" "$RC" 0
WVK=$(head -n 1 "$T/out")
vk_parts "$WVK"
eq "vkey name" "$VK_NAME" "w.example/w1"
eq "vkey type byte 0x04" "$(b64hex "$VK_KEY" | cut -c1-2)" "04"
eq "vkey key ID = SHA-256(name || 0x0A || 0x04 || pub)[:4]" "$VK_ID" "$(key_id_of "$VK_NAME" "$VK_KEY")"
eq "key file mode 0600" "$(stat -c %a "$T/w.key")" "600"
SK=$(cat "$T/w.key")
case $SK in
"PRIVATE+KEY+w.example/w1+$VK_ID+"*) ok "key file is PRIVATE+KEY+name+id+..." ;;
*) bad "key file is PRIVATE+KEY+name+id+..." "$(echo "$SK" | cut -c1-40)" ;;
esac
SEED=${SK#"PRIVATE+KEY+w.example/w1+$VK_ID+"}
eq "key file carries 0x04 || seed" "$(b64hex "$SEED" | cut -c1-2)" "04"
if [ -n "$HAVE_OPENSSL" ]; then
	eq "the vkey is the seed's public key (openssl)" "$(ed25519_pub_of_seed "$SEED")" "$(b64hex "$VK_KEY" | cut -c3-)"
fi
expect_fail "keygen --witness refuses to overwrite" keygen w.example/w1 -o "$T/w.key" --witness
err_has "says why" "refusing to overwrite"
eq "key file unchanged" "$(cat "$T/w.key")" "$SK"
expect_fail "a witness key is not a log key" init "$T/nolog" --key "$T/w.key"
expect_fail "a log key is not a witness key" witness --listen 127.0.0.1:0 --key "$T/log.key" --log "example.com/log=$LVK" --state "$T/x.sqlite"

section "usage"
prb witness --help
eq "--help exits 0" "$RC" 0
check "--help shows usage" grep -q "^Usage: probity witness" "$T/out"
prb witness
eq "no arguments: exit 2" "$RC" 2
prb witness --listen 127.0.0.1:0 --key "$T/w.key"
eq "no --log: exit 2" "$RC" 2
prb witness --listen 127.0.0.1:0 --key "$T/w.key" --log "$LVK"
eq "--log without ORIGIN=: exit 2" "$RC" 2
expect_fail "a bad vkey" witness --listen 127.0.0.1:0 --key "$T/w.key" --log "example.com/log=nonsense+1+2" --state "$T/x.sqlite"
err_has "in the probity witness: style" "^probity witness: "
expect_fail "a bad listen address" witness --listen nowhere --key "$T/w.key" --log "example.com/log=$LVK" --state "$T/x.sqlite"

section "a log and the second log of the audit events"
L=$T/log
new_log "$L" "$T/log.key" || finish
gen_lines e 1 3 | add_ok "3 entries" "$L" "$T/log.key" 0 3
prb checkpoint "$L" && cp "$T/out" "$T/cp3"
new_key audit-test.example/log "$T/a.key" || finish
printf '%s\n' "$VK" >"$T/a.vkey"
AVK=$VK

start_witness || finish
: >"$T/empty"

section "200: the first checkpoint, old 0"
req "$T/r" 0 "$T/empty" "$T/cp3"
expect_status "old 0, empty proof: 200" 200 "$T/r"
eq "200 content type" "$CTYPE" "text/plain; charset=utf-8"
eq "one line" "$(wc -l <"$T/body")" 1
cosig_ok "the cosignature verifies (openssl)" "$T/cp3" "$(cat "$T/body")"

section "409: old does not match"
expect_status "old 0 again: 409" 409 "$T/r"
eq "409 content type" "$CTYPE" "text/x.tlog.size"
eq "409 body is the stored size" "$(od -An -c "$T/body" | tr -s ' ')" " 3 \n"

section "400"
printf 'garbage\n' >"$T/r"
expect_status "garbage: 400" 400 "$T/r"
req "$T/r" 03 "$T/empty" "$T/cp3"
expect_status "old with a leading zero: 400" 400 "$T/r"
req "$T/r" 4 "$T/empty" "$T/cp3"
expect_status "old 4 above size 3: 400" 400 "$T/r"
{ echo "old 3"; cat "$T/cp3"; } >"$T/r"
expect_status "no empty line after the proof: 400" 400 "$T/r"
{ echo "old 0"; echo; sed '/^$/,$d' "$T/cp3"; } >"$T/r"
expect_status "unsigned checkpoint: 400" 400 "$T/r"
: >"$T/r"
expect_status "empty body: 400" 400 "$T/r"

section "404, 403"
new_key example.com/other "$T/o.key"
new_log "$T/other" "$T/o.key"
prb checkpoint "$T/other" && cp "$T/out" "$T/cpo"
req "$T/r" 0 "$T/empty" "$T/cpo"
expect_status "unknown origin: 404" 404 "$T/r"
# the same origin signed by another key
new_key example.com/log "$T/fake.key"
new_log "$T/fake" "$T/fake.key"
gen_lines e 1 5 | add_ok "fake log" "$T/fake" "$T/fake.key" 0 5
prb checkpoint "$T/fake" && cp "$T/out" "$T/cpf"
req "$T/r" 3 "$T/empty" "$T/cpf"
expect_status "signed by an untrusted key: 403" 403 "$T/r"
# the trusted key's signature altered
gen_lines e 4 5 | add_ok "2 more entries" "$L" "$T/log.key" 3 5
prb checkpoint "$L" && cp "$T/out" "$T/cp5"
prb consistency "$L" 3 && cp "$T/out" "$T/p35"
sl=$(sed -n 5p "$T/cp5")
sig=${sl##* }
case $sig in A*) nsig=B${sig#A} ;; *) nsig=A${sig#?} ;; esac
sed "5s|$sig|$nsig|" "$T/cp5" >"$T/cp5bad"
req "$T/r" 3 "$T/p35" "$T/cp5bad"
expect_status "altered signature of the trusted key: 403" 403 "$T/r"

section "422"
sed '1s/^./X/' "$T/p35" >"$T/p35bad"
if cmp -s "$T/p35" "$T/p35bad"; then sed '1s/^./Y/' "$T/p35" >"$T/p35bad"; fi
req "$T/r" 3 "$T/p35bad" "$T/cp5"
expect_status "altered consistency proof: 422" 422 "$T/r"
req "$T/r" 3 "$T/empty" "$T/cp5"
expect_status "missing consistency proof: 422" 422 "$T/r"
req "$T/r" 3 "$T/p35" "$T/cp5"
expect_status "3 -> 5 with the right proof: 200" 200 "$T/r"
cosig_ok "cosignature of size 5 verifies" "$T/cp5" "$(cat "$T/body")"
cp "$T/body" "$T/cosig5"
# a fork: the same key, size 5, other entries
F=$T/fork
new_log "$F" "$T/log.key"
gen_lines x 1 5 | add_ok "forked log" "$F" "$T/log.key" 0 5
prb checkpoint "$F" && cp "$T/out" "$T/cpfork"
req "$T/r" 5 "$T/empty" "$T/cpfork"
expect_status "same size, other root (a split view): 422" 422 "$T/r"
req "$T/r" 5 "$T/empty" "$T/cp5"
expect_status "same size, same root: 200" 200 "$T/r"

section "404, 405, 413 of the HTTP layer"
post "$T/r" /nowhere
eq "unknown path: 404" "$CODE" 404
_r=$(curl -s -m 20 -o "$T/body" -w '%{http_code}' "$URL/add-checkpoint")
eq "GET /add-checkpoint: 405" "$_r" 405
_r=$(curl -s -m 20 -o /dev/null -D "$T/hdr" -X PUT --data-binary @"$T/r" -w '%{http_code}' "$URL/add-checkpoint")
eq "PUT /add-checkpoint: 405" "$_r" 405
check "405 says Allow: POST" grep -qi '^Allow: POST' "$T/hdr"
head -c 1200000 /dev/zero >"$T/big"
expect_status "a body over the limit: 413" 413 "$T/big"
req "$T/r" 5 "$T/empty" "$T/cp5"
expect_status "still serving after a 413: 200" 200 "$T/r"

section "monitoring: GET /<origin hash>/checkpoint"
H=$(printf %s example.com/log | sha256sum | cut -c1-64)
_r=$(curl -s -m 20 -o "$T/mon" -w '%{http_code}' "$URL/$H/checkpoint")
eq "200" "$_r" 200
eq "the checkpoint text" "$(sed '/^$/,$d' "$T/mon")" "$(sed '/^$/,$d' "$T/cp5")"
check "with the log's signature" grep -qF "$(sed -n 5p "$T/cp5")" "$T/mon"
cosig_ok "and the witness's cosignature" "$T/cp5" "$(grep "^$EMDASH w.example/w1 " "$T/mon")"
H2=$(printf %s audit-test.example/log | sha256sum | cut -c1-64)
_r=$(curl -s -m 20 -o /dev/null -w '%{http_code}' "$URL/$H2/checkpoint")
eq "a log never cosigned: 404" "$_r" 404

section "clean stop, restart"
stop_witness TERM
eq "SIGTERM: exit 0" "$WRC" 0
if grep -Eq 'Sanitizer|runtime error' "$T/w.err"; then bad "witness stderr clean" "$(grep -E 'ERROR|runtime error' "$T/w.err" | head -n 3)"; fi
start_witness || finish
req "$T/r" 0 "$T/empty" "$T/cp3"
expect_status "after a restart, old 0: 409" 409 "$T/r"
eq "the stored size survived" "$(cat "$T/body")" 5

section "kill -9 right after a 200"
gen_lines e 6 8 | add_ok "3 more entries" "$L" "$T/log.key" 5 8
prb checkpoint "$L" && cp "$T/out" "$T/cp8"
prb consistency "$L" 5 && cp "$T/out" "$T/p58"
req "$T/r" 5 "$T/p58" "$T/cp8"
expect_status "5 -> 8: 200" 200 "$T/r"
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
start_witness || finish
req "$T/r" 5 "$T/p58" "$T/cp8"
expect_status "after kill -9, old 5: 409" 409 "$T/r"
eq "size 8 survived kill -9" "$(cat "$T/body")" 8
req "$T/r" 8 "$T/empty" "$T/cp8"
expect_status "old 8: 200" 200 "$T/r"
stop_witness INT
eq "SIGINT: exit 0" "$WRC" 0

section "probity verify-evidence accepts the cosignature"
PACK=$(cd "$HERE/../../policies" && pwd)
POL=$T/pol
mkdir "$POL"
f=$(grep -l "^-- id: privileged.aws-root-use\$" "$PACK"/*.sql | head -n 1)
if [ -z "$f" ] || [ ! -d "$HERE/audit/events" ]; then
	skip "no audit events or policy to build an evidence bundle"
else
	cp "$f" "$POL/"
	A=$T/alog
	new_log "$A" "$T/a.key"
	prb ingest "$A" --key "$T/a.key" "$HERE/audit/events"
	eq "ingest" "$RC" 0
	start_witness || finish
	req "$T/r" 0 "$T/empty" "$A/checkpoint"
	expect_status "audit log's checkpoint: 200" 200 "$T/r"
	cat "$T/body" >>"$A/checkpoint"
	expect_ok "audit of the cosigned log" audit "$A" --policies "$POL" --out "$T/bundle"
	expect_ok "verify-evidence with the witness key" verify-evidence "$T/bundle" --vkey "$AVK" --witness-vkey "$WVK"
	check "reports the witness" grep -q "^cosigned by witness w.example/w1 at [0-9]*\$" "$T/out"
	prb keygen w.example/w1 -o "$T/w2.key" --witness
	expect_fail "another key of the same name did not cosign" verify-evidence "$T/bundle" --vkey "$AVK" --witness-vkey "$(head -n 1 "$T/out")"
	stop_witness TERM
fi

section "TLS"
if [ -z "$HAVE_OPENSSL" ]; then
	skip "TLS test needs openssl"
elif ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-subj /CN=127.0.0.1 -days 1 -keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1; then
	skip "openssl cannot make a test certificate"
else
	rm -f "$T/w.sqlite" "$T/w.sqlite-wal" "$T/w.sqlite-shm"
	start_witness --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" || finish
	case $URL in https://*) ok "https URL" ;; *) bad "https URL" "$URL" ;; esac
	req "$T/r" 0 "$T/empty" "$T/cp8"
	_r=$(curl -s -m 20 --cacert "$T/tls.crt" -o "$T/body" -w '%{http_code}' --data-binary @"$T/r" "$URL/add-checkpoint")
	eq "200 over TLS" "$_r" 200
	cosig_ok "cosignature over TLS verifies" "$T/cp8" "$(cat "$T/body")"
	stop_witness TERM
	eq "TLS witness exits 0" "$WRC" 0
fi

if grep -Eq 'Sanitizer|runtime error' "$T/w.err"; then
	bad "no sanitizer report from the witness" "$(grep -E 'ERROR|runtime error|SUMMARY' "$T/w.err" | head -n 3)"
else
	ok "no sanitizer report from the witness"
fi
finish
