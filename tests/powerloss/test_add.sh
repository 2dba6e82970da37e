#!/bin/sh
# Power loss under probity add, with the default flags: in each round add
# runs on a log inside LazyFS, is killed at a random moment and the power
# is cut (LazyFS drops every byte not fsynced), alternately after the kill
# and while add still runs. After the cut every acknowledged entry (below
# the last "size N" printed) must be at its index byte for byte, the
# entries past it the input's next lines, the log must verify, an
# inclusion proof of the last acknowledged entry must check, and the next
# writer (probity add) must append and verify.
#
# Env: see lib.sh (PL_ROUNDS, default 30, 5 under build/san; PL_SECONDS,
# default 100; PL_SYNC_ARGS); PL_MAXMS, the longest delay before the cut
# (default 1500); PL_FRESH, a new log every N rounds (default 10).
set -u
. "$(dirname "$0")/lib.sh"

pl_rounds 30 5 100
MAXMS=${PL_MAXMS:-1500}
pl_setup
new_key powerloss.example/add "$T/k" || finish
VKA=$VK

# --sync fs rests on syncfs(2), which a FUSE filesystem ignores: refused.
new_log "$MNT/fs" "$T/k" || finish
printf 'x\n' >"$T/x"
expect_fail "add --sync fs on a FUSE filesystem is refused" add "$MNT/fs" --key "$T/k" --sync fs "$T/x" &&
	err_has "... saying why" "syncfs"
eq "... and appends nothing" "$(cp_size "$MNT/fs")" 0

it=1
while [ "$it" -le "$ROUNDS" ] && pl_time_left; do
	pl_round_log "$it" "$T/k" || break
	s0=$(cp_size "$D")
	# shellcheck disable=SC2086
	add_fed $((it % 3)) "c$it-" 20000 "$D" "$T/k" $PL_SYNC_ARGS
	pl_round_start "$it"
	hung=$LZ_HUNG
	pl_crash "$HOW" "$PP" || { bad "round $it: LazyFS mounts again after the cut" "$(tail -n 3 "$LZLOG")"; break; }
	kill "$PG" 2>/dev/null
	wait "$PG" 2>/dev/null
	BGPIDS=""
	RDONE=$it
	tag="round $it ($HOW after $MS ms)"
	# killed on purpose: only a sanitizer report counts, or, when add
	# alone was killed, an add that ended by itself and failed
	RC=0
	sanity_after "add (round $it)" "$T/aerr"
	if [ "$HOW" = kill ] && [ "$hung" -eq "$LZ_HUNG" ] && [ "$WRC" -ne 137 ] && [ "$WRC" -ne 0 ]; then
		bad "$tag: add ended with exit $WRC before the kill" "$(head_of "$T/aerr")"
	fi

	acked=$(last_size "$T/aout" "$s0")
	why=$(size_lines_ok "$T/aout" "$s0" "$acked") || bad "$tag: stdout of the killed add" "$why"
	pl_acked $((acked - s0))
	pl_size "$D"
	echo "$tag: size $s0, acknowledged $acked, checkpoint after the cut $S"
	# what the log must hold: what it held, then the input's next lines
	cp "$T/exp" "$T/want"
	[ "$S" -gt "$s0" ] && gen_lines "c$it-" 1 $((S - s0)) >>"$T/want"
	pl_read "$D" "$S"
	pl_count_lost "$tag" "$(pl_lost "$T/got" "$T/want" "$acked")" "the $acked acknowledged entries" "$(head_of "$T/aerr")"
	if [ "$S" -ge "$s0" ] && cmp -s "$T/got" "$T/want"; then
		ok "$tag: every entry of the log is the input's, in order"
	else
		bad "$tag: the log's entries are not what was written" "$(cmp "$T/got" "$T/want" 2>&1 | head -n 1)"
	fi
	verify_ok "$tag: the log verifies after the cut" "$D" "$VKA" || BROKEN=1
	if [ "$acked" -gt 0 ] && [ "$S" -ge "$acked" ]; then
		i=$((acked - 1))
		sed -n "$acked"p "$T/want" | tr -d '\n' >"$T/e"
		prb prove "$D" "$i"
		cp "$T/out" "$T/p"
		expect_ok "$tag: inclusion proof of entry $i" verify-proof "$T/p" "$T/e" --vkey "$VKA"
	fi
	if pl_next_writer "r$it" "$D" "$T/k" "$VKA" "$S"; then
		# a pending batch the next writer installed holds the input's next lines
		head -n "$s0" "$T/exp" >"$T/want"
		[ "$BASE" -gt "$s0" ] && gen_lines "c$it-" 1 $((BASE - s0)) >>"$T/want"
		cat "$T/after" >>"$T/want"
		pl_read "$D" $((BASE + 3))
		if cmp -s "$T/got" "$T/want"; then
			ok "$tag: the log holds what was written, then the next writer's entries"
			mv "$T/want" "$T/exp"
		else
			bad "$tag: after the next writer, the entries are not what was written" "$(cmp "$T/got" "$T/want" 2>&1 | head -n 1)"
			BROKEN=1
		fi
	else
		BROKEN=1
	fi
	pl_round_end "add-$it"
	it=$((it + 1))
done
pl_summary add ""
finish
