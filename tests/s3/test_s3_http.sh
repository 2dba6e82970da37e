#!/bin/sh
# The bucket of an S3 log read as any reader would (issue 14): the objects
# are at the c2sp.org/tlog-tiles paths under the prefix, so that plain
# HTTP GETs of RGW (a public-read bucket, no credentials, no probity)
# fetch a log that `probity verify` and an independent verifier (Go's
# x/mod tlog, tests/interop/gocheck.go) accept byte for byte, and that
# `probity monitor` follows both straight from the bucket's HTTP endpoint
# and through `probity serve` of the S3 log, as it grows.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/s3lib.sh"

s3_log_fixture http.example/log probity-http log/one
gocheck_build || echo "note: $GOCHECK_WHY"

# entries of every length class, incl. an empty one and one of 65,535
# bytes (the largest entry)
{
	seq 1 700 | sed 's/^/entry-/'
	echo
	head -c 49149 /dev/urandom | base64 -w0 | cut -c1-65535
	seq 701 1100 | sed 's/^/entry-/'
} >"$T/entries"
N=$(wc -l <"$T/entries")
prb add "$L" --key "$T/key" "$T/entries"
eq "add $N entries to the S3 log" "$RC $(last_size "$T/out" 0)" "0 $N"
expect_ok "probity verify of the S3 log" verify "$L" --vkey "$LVK"

section "plain HTTP, no credentials"
mirror_ok "anonymous GETs from RGW" "$T/mirror" || finish
eq "the checkpoint over HTTP is the log's" "$(cat "$T/mirror/checkpoint")" "$(prb checkpoint "$L"; cat "$T/out")"
check_tiles "over HTTP" "$T/mirror" "$N"
# the log's own signature line (the S3 store may add a fence line of a key
# no verifier knows: c2sp.org/signed-note has verifiers ignore it)
{ sed -n 1,4p "$T/mirror/checkpoint"; grep "^$EMDASH http.example/log " "$T/mirror/checkpoint"; } >"$T/cp.own"
check_checkpoint "the checkpoint's signature (openssl)" "$T/cp.own" http.example/log "$N" "$LVK"
if [ -n "${GOCHECK:-}" ]; then
	if "$GOCHECK" verify-log -entries "$T/entries" "$T/mirror" "$LVK" >"$T/gv" 2>&1; then
		ok "x/mod verifies what HTTP served, every entry byte for byte: $(tail -n 1 "$T/gv")"
	else
		bad "x/mod verify-log of the log fetched over HTTP" "$(tail -n 3 "$T/gv")"
	fi
else
	skip "x/mod check: $GOCHECK_WHY"
fi
C=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X PUT --data-binary x "${HURL}checkpoint")
eq "an anonymous PUT of the checkpoint is refused" "$C" 403

section "probity monitor, straight from the bucket"
prb monitor "$HURL" --vkey "$LVK" --state "$T/mon1" --once
eq "monitor verifies the log from entry 0 over the bucket's HTTP endpoint" "$RC $(cut -d' ' -f1-3 "$T/out")" "0 verified size $N"
printf 'later-%s\n' 1 2 3 >"$T/more"
prb add "$L" --key "$T/key" "$T/more"
prb monitor "$HURL" --vkey "$LVK" --state "$T/mon1" --once
eq "... and follows it as it grows" "$RC $(cut -d' ' -f1-3,6 "$T/out")" "0 verified size $((N + 3)) (+3"

section "probity monitor, through probity serve of the S3 log"
printf 'read %s\n' read-token-0123456789abcdef >"$T/tokens"
chmod 600 "$T/tokens"
if start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" --public; then
	prb monitor "$URL/" --vkey "$LVK" --state "$T/mon2" --once
	eq "monitor verifies the log served by probity serve" "$RC $(cut -d' ' -f1-3 "$T/out")" "0 verified size $((N + 3))"
	http "$URL/tile/entries/000"
	eq "serve's tiles are the bucket's, byte for byte" "$CODE $(fsha "$T/body")" "200 $(fsha "$T/mirror/tile/entries/000")"
	stop_server "$SPID"
else
	bad "serve of the S3 log starts" "$(head_of "$T/s.err")"
fi
finish
