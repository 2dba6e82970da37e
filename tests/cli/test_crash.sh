#!/bin/sh
# Crash test: `probity add` killed with SIGKILL at a random instant, many
# times. After each kill the log must verify, hold every acknowledged entry
# (every index below the last "size N" line printed) with the right content,
# and accept further appends.
#
# Env: CRASH_ITER (iterations, default 30), CRASH_MAXMS (longest delay before
# the kill, default 300), CRASH_SECONDS (time budget: no new iteration starts
# after it, default 100), CRASH_FRESH (start a new log every N iterations,
# default 10), CRASH_KEEP (directory: copy a failing log there).
set -u
. "$(dirname "$0")/lib.sh"

ITER=${CRASH_ITER:-30}
MAXMS=${CRASH_MAXMS:-300}
BUDGET=${CRASH_SECONDS:-100}
FRESH=${CRASH_FRESH:-10}
BURST=40000

K=$T/crash.key
new_key crash.example/log "$K" || finish
VKC=$VK
D=""
start=$(date +%s)
with_acks=0 beyond=0 done_iter=0 pending=0
it=1
while [ "$it" -le "$ITER" ]; do
	if [ $(($(date +%s) - start)) -ge "$BUDGET" ]; then
		echo "note: time budget of ${BUDGET}s reached after $done_iter iterations"
		break
	fi
	if [ $(((it - 1) % FRESH)) -eq 0 ]; then
		D=$T/log$it
		new_log "$D" "$K" || break
	fi
	s0=$(cp_size "$D")
	ms=$(rand $((MAXMS + 1)))
	mode=$((it % 3))
	add_fed "$mode" "c$it-" "$BURST" "$D" "$K"
	pg=$PG pp=$PP
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pp" 2>/dev/null
	{ wait "$pp"; } 2>/dev/null
	RC=$?
	kill "$pg" 2>/dev/null
	wait "$pg" 2>/dev/null
	BGPIDS=""
	done_iter=$it
	# A run that ended by itself (input exhausted) must have succeeded.
	if [ "$RC" -ne 137 ] && [ "$RC" -ne 0 ]; then
		sanity_after "add (iteration $it)" "$T/aerr"
		bad "iteration $it: add ended with exit $RC before the kill" "$(head_of "$T/aerr")"
	fi
	acked=$(last_size "$T/aout" "$s0")
	if why=$(size_lines_ok "$T/aout" "$s0" "$acked"); then ok "iteration $it: stdout is 'size N' lines"
	else bad "iteration $it: stdout of the killed add" "$why"; fi

	prb verify "$D" --vkey "$VKC"
	vrc=$RC
	s=$(cp_size "$D")
	echo "iteration $it: mode $mode, kill after ${ms} ms, size $s0 -> acknowledged $acked, checkpoint $s (verify exit $vrc)"
	if [ "$vrc" -eq 0 ]; then ok "iteration $it: log verifies after SIGKILL"
	else
		bad "iteration $it: verify after SIGKILL (mode $mode, ${ms} ms)" "exit $vrc: $(head_of "$T/err")"
		[ -n "${CRASH_KEEP:-}" ] && mkdir -p "$CRASH_KEEP" && cp -R "$D" "$CRASH_KEEP/crash-$it"
	fi
	case $s in '' | *[!0-9]*) bad "iteration $it: checkpoint size unreadable" "$(head_of "$D/checkpoint")"; break ;; esac
	if [ "$s" -ge "$acked" ] && [ "$s" -ge "$s0" ]; then ok "iteration $it: checkpoint size $s >= acknowledged $acked"
	else bad "iteration $it: checkpoint size $s below acknowledged size $acked (or start $s0)"; fi
	[ "$acked" -gt "$s0" ] && with_acks=$((with_acks + 1))
	[ "$s" -gt "$acked" ] && beyond=$((beyond + 1))

	# Every entry this run committed, in order, with the generator's content.
	if [ "$s" -gt "$s0" ]; then
		entries_range "$D" "$s" "$s0" "$s" >"$T/got"
		gen_lines "c$it-" 1 $((s - s0)) >"$T/want"
		if cmp -s "$T/got" "$T/want"; then ok "iteration $it: entries $s0..$((s - 1)) read back"
		else bad "iteration $it: entries $s0..$((s - 1)) differ from the input" "$(cmp "$T/got" "$T/want" 2>&1 | head -n 1)"; fi
	fi
	# Proofs: the last acknowledged entry, a random new one, a random old one.
	idx=""
	[ "$acked" -gt "$s0" ] && idx="$((acked - 1))"
	[ "$s" -gt "$s0" ] && idx="$idx $((s0 + $(rand $((s - s0)))))"
	[ "$s0" -gt 0 ] && idx="$idx $(rand "$s0")"
	for i in $idx; do
		entries_range "$D" "$s" "$i" $((i + 1)) | tr -d '\n' >"$T/e"
		if [ "$i" -ge "$s0" ]; then
			eq "iteration $it: entry $i content" "$(cat "$T/e")" "c$it-$((i - s0 + 1))"
		fi
		prb prove "$D" "$i"
		cp "$T/out" "$T/p"
		expect_ok "iteration $it: prove+verify-proof $i" verify-proof "$T/p" "$T/e" --vkey "$VKC"
	done

	# The log accepts appends after the crash. A kill between writing the
	# new checkpoint (synced, as checkpoint.tmp) and renaming it leaves a
	# signed checkpoint the next writer must install, never contradict.
	base=$s
	if [ -f "$D/checkpoint.tmp" ]; then
		p=$(sed -n 2p "$D/checkpoint.tmp")
		case $p in ''|*[!0-9]*) p=0 ;; esac
		if [ "$p" -gt "$s" ]; then
			base=$p
			pending=$((pending + 1))
		fi
	fi
	printf 'after-%d-1\nafter-%d-2\nafter-%d-3\n' "$it" "$it" "$it" >"$T/after"
	add_ok "iteration $it: add after the crash" "$D" "$K" "$s" $((base + 3)) "$T/after"
	if [ -f "$D/checkpoint.tmp" ]; then
		bad "iteration $it: the pending checkpoint was installed or removed" "still there"
	else
		ok "iteration $it: no pending checkpoint left"
	fi
	if [ "$base" -gt "$s" ]; then
		entries_range "$D" $((base + 3)) "$s0" "$base" >"$T/got"
		gen_lines "c$it-" 1 $((base - s0)) >"$T/want"
		if cmp -s "$T/got" "$T/want"; then ok "iteration $it: the installed batch holds the input's next lines"
		else bad "iteration $it: the installed batch differs from the input" "$(cmp "$T/got" "$T/want" 2>&1 | head -n 1)"; fi
	fi
	eq "iteration $it: appended entries read back" "$(entries_range "$D" $((base + 3)) "$base" $((base + 3)) | tr '\n' ' ')" \
		"after-$it-1 after-$it-2 after-$it-3 "
	verify_ok "iteration $it: log verifies after the follow-up add" "$D" "$VKC"
	it=$((it + 1))
done
echo "summary: $done_iter iterations in $(($(date +%s) - start))s; $with_acks had acknowledged entries, $beyond had a checkpoint beyond the last acknowledgement, $pending left a pending checkpoint that was installed"
if [ "$done_iter" -gt 0 ] && [ "$with_acks" -eq 0 ]; then
	skip "no iteration was killed after an acknowledged batch (raise CRASH_MAXMS)"
fi
finish
