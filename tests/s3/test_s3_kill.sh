#!/bin/sh
# SIGKILL of the writer of an S3 log under load (issue 14), round after
# round, for each way in: `probity add` fed at several paces, `probity
# ingest` of many export files, and `probity serve` under concurrent POST
# clients. After each kill: every acknowledged entry is in the bucket, byte
# for byte at its index, as read anonymously over plain HTTP; `probity
# verify` passes; and the next writer (the next round's, or a one-line
# add) appends after what is there.
#
# Ingest comes last: lib.sh's entries_range reads short plain entries only.
# Env (s3_rounds; halved or fewer under a sanitizer build):
# PRB_S3_ROUNDS (kills per way in, default 4), PRB_S3_SECONDS (no new
# kill after it, per way in, default 90).
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/s3lib.sh"

s3_rounds 4 2 90
s3_log_fixture kill.example/log probity-kill log
gocheck_build || echo "note: $GOCHECK_WHY; ingest entries compared by size only"

# nap FILE PID [MAX]: once FILE holds an acknowledgement (at most 60 s),
# a random moment 0..MAX (1.5) s later: a kill under load, not at the open
nap() {
	_i=0
	while [ "$_i" -lt 600 ] && ! grep -q . $1 2>/dev/null && kill -0 "$2" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	sleep "$(awk -v s="$(rand 100000)" -v m="${3:-1.5}" 'BEGIN { srand(s); printf "%.2f", rand() * m }')"
}

# after_kill WHAT S0 ACKED: the log verifies and holds at least ACKED
# entries (acknowledged sizes of the run killed, which started at S0);
# sets SIZE.
after_kill() {
	expect_ok "$1: probity verify after SIGKILL" verify "$L" --vkey "$LVK"
	SIZE=$(s3_size)
	if [ -n "$SIZE" ] && [ "$SIZE" -ge "$3" ]; then
		ok "$1: acknowledged size $3 kept (bucket's checkpoint: $SIZE, run started at $2)"
	else
		bad "$1: acknowledged size $3 lost" "bucket's checkpoint size: '$SIZE'"
	fi
}

# next_appends WHAT: a one-line add after the kill must append at the end.
next_appends() {
	_s=$(s3_size)
	printf '%s\n' "$1" >"$T/one"
	prb add "$L" --key "$T/key" "$T/one"
	eq "$1: the next writer appends at $_s" "$RC $(cat "$T/out")" "0 size $((_s + 1))"
}

section "probity add, killed"
start=$(date +%s)
r=1
while [ "$r" -le "$ROUNDS" ] && [ $(($(date +%s) - start)) -lt "$BUDGET" ]; do
	s0=$(s3_size)
	mode=$((r % 3))
	add_fed "$mode" "a$r-" 200000 "$L" "$T/key"
	nap "$T/aout" "$PP"
	kill -9 "$PP" 2>/dev/null
	wait "$PP" 2>/dev/null
	kill "$PG" 2>/dev/null
	wait "$PG" 2>/dev/null
	RC=0 # killed on purpose: only a sanitizer report counts
	sanity_after "add (round $r)" "$T/aerr"
	acked=$(last_size "$T/aout" "$s0")
	after_kill "add round $r (input mode $mode)" "$s0" "$acked"
	if mirror_ok "add round $r" "$T/mirror"; then
		# the run's entries are its input lines 1..n in order, n >= acked
		n=$((MS - s0))
		eq "add round $r: entries $s0..$MS are the run's first $n lines, in order ($((acked - s0)) acknowledged)" \
			"$(entries_range "$T/mirror" "$MS" "$s0" "$MS" | tr '\n' ' ')" "$(gen_lines "a$r-" 1 "$n" | tr '\n' ' ')"
	fi
	next_appends "after-add-$r"
	r=$((r + 1))
done

section "probity serve under concurrent POST clients, killed"
AT=append-token-0123456789abcdef
printf 'read,append %s\n' "$AT" >"$T/tokens"
chmod 600 "$T/tokens"
A="Authorization: Bearer $AT"
start=$(date +%s)
r=1 acked=0
while [ "$r" -le "$ROUNDS" ] && [ $(($(date +%s) - start)) -lt "$BUDGET" ]; do
	if ! start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
		bad "serve round $r: serve starts" "$(head_of "$T/s.err")"
		break
	fi
	start_clients 6 "$r"
	nap "$T/ack.*.$r" "$SPID"
	kill -9 "$SPID"
	wait "$SPID" 2>/dev/null
	for p in $CP; do wait "$p"; done
	RC=0
	sanity_after "serve (round $r)" "$T/s.err"
	cat "$T"/ack.*."$r" 2>/dev/null >"$T/acks.$r"
	n=$(wc -l <"$T/acks.$r")
	acked=$((acked + n))
	expect_ok "serve round $r: probity verify after SIGKILL" verify "$L" --vkey "$LVK"
	if mirror_ok "serve round $r" "$T/mirror"; then
		eq "serve round $r: all $n acknowledged entries at the indexes they were given" \
			"$(acks_missing "$T/acks.$r" "$T/mirror" "$MS" | head -n 3)" ""
	fi
	r=$((r + 1))
done
check "serve: entries were acknowledged before the kills ($acked)" test "$acked" -gt 0
next_appends "after-serve"
section "probity ingest, killed"
mkdir -p "$T/in"
FILES=40 PER=1000
f=1
while [ "$f" -le "$FILES" ]; do
	# Kubernetes audit events in canonical JSON (keys sorted, no
	# spaces): each record's entry is its line, byte for byte
	seq 1 "$PER" | awk -v f="$f" '{ printf "{\"apiVersion\":\"audit.k8s.io/v1\",\"auditID\":\"f%d-%d\",\"kind\":\"Event\",\"level\":\"Metadata\",\"objectRef\":{\"namespace\":\"ns\",\"resource\":\"pods\"},\"requestReceivedTimestamp\":\"2024-03-01T00:00:00.000000Z\",\"requestURI\":\"/api/v1/pods\",\"responseStatus\":{\"code\":200},\"sourceIPs\":[\"10.0.0.1\"],\"stage\":\"ResponseComplete\",\"stageTimestamp\":\"2024-03-01T00:00:00.100000Z\",\"user\":{\"username\":\"u%d\"},\"verb\":\"get\"}\n", f, $1, $1 % 7 }' >"$T/in/f$(printf %03d "$f").jsonl"
	f=$((f + 1))
done
# what the log must hold: what it held before, then every record once, in
# file order (reruns skip what is indexed; the index catches up the log)
s0=$(s3_size)
if mirror_ok "before ingest" "$T/mirror"; then
	entries_range "$T/mirror" "$MS" 0 "$MS" >"$T/want"
	cat "$T/in"/f*.jsonl >>"$T/want"
fi
start=$(date +%s)
r=1
while [ "$r" -le "$ROUNDS" ] && [ $(($(date +%s) - start)) -lt "$BUDGET" ]; do
	s1=$(s3_size)
	"$PROBITY" ingest "$L" --key "$T/key" "$T/in" >"$T/iout" 2>"$T/ierr" &
	IP=$!
	BGPIDS="$BGPIDS $IP"
	nap "$T/iout" "$IP" 0.6
	kill -9 "$IP" 2>/dev/null
	wait "$IP" 2>/dev/null
	RC=0
	sanity_after "ingest (round $r)" "$T/ierr"
	acked=$(last_size "$T/iout" "$s1")
	after_kill "ingest round $r" "$s1" "$acked"
	if [ -n "${GOCHECK:-}" ] && mirror_ok "ingest round $r" "$T/mirror"; then
		if "$GOCHECK" verify-log -entries "$T/want" "$T/mirror" "$LVK" >"$T/gv" 2>&1; then
			ok "ingest round $r: x/mod finds every entry of size $MS byte for byte at its index: $(tail -n 1 "$T/gv")"
		else
			bad "ingest round $r: entries over HTTP vs the records" "$(tail -n 2 "$T/gv")"
		fi
	fi
	r=$((r + 1))
done
prb ingest "$L" --key "$T/key" "$T/in"
eq "ingest let finish: every record exactly once" "$RC $(s3_size)" "0 $((s0 + FILES * PER))"
expect_ok "the log and its index verify" verify "$L" --vkey "$LVK"
next_appends "after-ingest"

finish
