#!/bin/sh
# RGW (the S3 endpoint) stopped and started again while an S3 log is
# written (issue 14): the writer retries with backoff within its bound, or
# fails with a clear one-line message and the next run recovers; nothing it
# acknowledged is lost. Rounds with `probity add` fed a steady input and
# with `probity serve` under concurrent POST clients; RGW is killed
# (SIGKILL) at a random moment for 0.5 to 4 s, then started on the same
# port. After each round the log verifies and every acknowledged entry is
# at its index (read anonymously over plain HTTP).
#
# Env: PRB_S3_ROUNDS (outages per way in, default 4; 2 under a sanitizer
# build).
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/s3lib.sh"

s3_rounds 4 2 600
s3_log_fixture rgw.example/log probity-rgw log

# outage: RGW killed at a random moment 0.3..1.3 s from now, for 0.5..4 s
outage() {
	sleep "$(awk -v s="$(rand 100000)" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() }')"
	ceph_rgw_stop
	DOWN=$(awk -v s="$(rand 100000)" 'BEGIN { srand(s); printf "%.1f", 0.5 + rand() * 3.5 }')
	sleep "$DOWN"
	if ceph_rgw_start; then return 0; fi
	bad "RGW restarts" "$(head -n 20 "$CEPH_DIR/why")"
	finish
}

section "probity add while RGW goes away and comes back"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	s0=$(s3_size)
	N=$((50 * 120))
	: >"$T/aout"
	: >"$T/aerr"
	gen_paced "g$r-" 50 0.02 120 | "$PROBITY" add "$L" --key "$T/key" >"$T/aout" 2>"$T/aerr" &
	AP=$!
	BGPIDS="$BGPIDS $AP"
	outage
	wait "$AP"
	rc=$?
	RC=$rc
	sanity_after "add (round $r)" "$T/aerr"
	acked=$(last_size "$T/aout" "$s0")
	if [ "$rc" -eq 0 ]; then
		ok "add round $r: RGW down ${DOWN}s: the writer rode it out (all $N entries)"
		eq "add round $r: its last size line is the end of its input" "$acked" "$((s0 + N))"
	elif one_line "$T/aerr"; then
		ok "add round $r: RGW down ${DOWN}s: the writer failed with one line: $(head -c 300 "$T/aerr")"
		printf 'recover-%s\n' "$r" >"$T/one"
		prb add "$L" --key "$T/key" "$T/one"
		eq "add round $r: the next run recovers and appends" "$RC" 0
	else
		bad "add round $r: exit $rc without a one-line message" "$(head_of "$T/aerr" 5)"
	fi
	expect_ok "add round $r: probity verify" verify "$L" --vkey "$LVK"
	if mirror_ok "add round $r" "$T/mirror"; then
		# entries from s0 on: the input's first n lines (n >= acked - s0),
		# then at most the recovery line
		n=$(entries_range "$T/mirror" "$MS" "$s0" "$MS" | grep -c "^g$r-")
		check "add round $r: every acknowledged entry kept ($((acked - s0)) acknowledged, $n in)" test "$n" -ge $((acked - s0))
		eq "add round $r: the run's entries are its first $n lines, in order" \
			"$(entries_range "$T/mirror" "$MS" "$s0" $((s0 + n)) | tr '\n' ' ')" "$(gen_lines "g$r-" 1 "$n" | tr '\n' ' ')"
	fi
	r=$((r + 1))
done

section "probity serve under concurrent POST clients while RGW goes away"
AT=append-token-0123456789abcdef
printf 'read,append %s\n' "$AT" >"$T/tokens"
chmod 600 "$T/tokens"
A="Authorization: Bearer $AT"
if ! start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
	bad "serve starts" "$(head_of "$T/s.err")"
	finish
fi
r=1
while [ "$r" -le "$ROUNDS" ]; do
	start_clients 4 "$r"
	outage
	for p in $CP; do wait "$p"; done
	# the server takes appends again once RGW is back (a bounded wait)
	i=0 CODE=""
	while [ "$i" -lt 60 ] && kill -0 "$SPID" 2>/dev/null; do
		http -H "$A" --data-binary "back-$r" "$URL/add"
		[ "$CODE" = 200 ] && break
		sleep 1
		i=$((i + 1))
	done
	if [ "$CODE" = 200 ]; then
		ok "serve round $r: RGW down ${DOWN}s; appends succeed again after it came back ($i retries)"
		echo "$(cat "$T/body") back-$r" >>"$T/ack.x.$r"
	elif kill -0 "$SPID" 2>/dev/null; then
		bad "serve round $r: no append succeeds after RGW came back" "last: $CODE $(head -c 200 "$T/body")"
	else
		wait "$SPID"
		RC=$?
		sanity_after "serve (round $r)" "$T/s.err"
		if one_line "$T/s.err"; then
			ok "serve round $r: serve stopped with one line: $(head -c 300 "$T/s.err")"
		else
			bad "serve round $r: serve stopped (exit $RC) without a one-line message" "$(head_of "$T/s.err" 5)"
		fi
		start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens" ||
			{ bad "serve round $r: the next serve starts" "$(head_of "$T/s.err")"; finish; }
	fi
	cat "$T"/ack.*."$r" 2>/dev/null >"$T/acks.$r"
	if mirror_ok "serve round $r" "$T/mirror"; then
		eq "serve round $r: all $(wc -l <"$T/acks.$r") acknowledged entries at the indexes they were given" \
			"$(acks_missing "$T/acks.$r" "$T/mirror" "$MS" | head -n 3)" ""
	fi
	r=$((r + 1))
done
stop_server "$SPID"
expect_ok "probity verify after the outages" verify "$L" --vkey "$LVK"
finish
