#!/bin/sh
# Two writers on two machines against one S3 prefix (issue 14): two DIRs
# (each made by `probity init DIR --store`: its own index and lock)
# run `probity add` at the same moment, round after round, on one log in
# the throw-away Ceph. Each round one of them wins and the other, if the
# race caught it, fails with a clear message saying exactly how many of
# its entries are committed; the log never forks: every checkpoint seen
# (by a reader polling the bucket over HTTP during the rounds, and by both
# writers' DIRs after each) is consistent with every other, and only what
# a writer acknowledged or reported committed is in the log, in its order,
# nothing of a failed batch.
#
# Rounds: barrier rounds (both writers have opened the log, i.e. read the
# same checkpoint, before either gets its input) with equal batches (the
# same tile paths) and with unequal ones, paced rounds (many batches
# each, interleaved), and slow staggered rounds (the second writer commits
# between two of the first's commits: the first loses after committing
# some of its entries). Env: PRB_S3_ROUNDS (default 12; 4 under a
# sanitizer build), PRB_S3_SECONDS
# (no new round after it, default 150).
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/s3lib.sh"

s3_rounds 12 4 150
s3_log_fixture race.example/log probity-race log
M2=$T/m2
mkdir -p "$M2"
expect_ok "init of a second DIR on the same prefix attaches to the log" init "$M2" --key "$T/key" --store "$S3_URL" || finish
gocheck_build || echo "note: $GOCHECK_WHY; consistency proofs checked by lib.sh instead"

# waiting PID: the process's main thread is blocked in read(2) on fd 0
# (it has opened the log), or it has ended (its open failed)
waiting() {
	case $(cat "/proc/$1/syscall" 2>/dev/null) in "0 0x0 "*) return 0 ;; esac
	! _ceph_alive "$1"
}

# start_writer W DIR: probity add DIR reading the fifo $T/f.W (held open
# read-write on fd 7 for A, 8 for B, so that opening it does not block);
# pid in WP_W, output $T/o.W, $T/e.W
start_writer() {
	: >"$T/o.$1"
	: >"$T/e.$1"
	"$PROBITY" add "$2" --key "$T/key" <"$T/f.$1" >"$T/o.$1" 2>"$T/e.$1" 7>&- 8>&- &
	eval "WP_$1=\$!"
	BGPIDS="$BGPIDS $!"
}

# judge R W RC: checks writer W's outcome in round R; sets C_W (its
# entries committed) and appends "PREFIX COUNT" to $T/expect.
judge() {
	_w=$2 _rc=$3 _in=$(eval echo "\$N_$2")
	sanity_after "writer $_w, round $1" "$T/e.$_w"
	if [ "$_rc" -eq 0 ]; then
		_c=$_in
		eq "round $1: writer $_w (exit 0) acknowledged all $_in entries" "$(size_lines_ok "$T/o.$_w" 0 "$(last_size "$T/o.$_w" 0)" && echo ok)" ok
	else
		LOST=$((LOST + 1))
		if one_line "$T/e.$_w" && grep -Eiq 'checkpoint changed|another writer|concurren|conflict' "$T/e.$_w"; then
			ok "round $1: writer $_w lost the race with a clear one-line message"
		else
			bad "round $1: writer $_w lost (exit $_rc): its message" "$(head_of "$T/e.$_w" 4)"
		fi
		_c=$(sed -n 's/.*; \([0-9]*\) entries from this run are committed (log size \([0-9]*\)).*/\1/p' "$T/e.$_w")
		_ls=$(sed -n 's/.*; \([0-9]*\) entries from this run are committed (log size \([0-9]*\)).*/\2/p' "$T/e.$_w")
		[ -n "$_c" ] && [ "$_c" -gt 0 ] && LOSTSOME=$((LOSTSOME + 1))
		if [ -n "$_c" ]; then
			# its last "size N" is the log size it reports, the size
			# of the last checkpoint it wrote
			[ "$_c" -gt 0 ] && eq "round $1: writer $_w reports log size $_ls = its last acknowledged size" "$_ls" "$(last_size "$T/o.$_w" "?")"
		elif [ -s "$T/o.$_w" ]; then
			bad "round $1: writer $_w acknowledged entries but its message does not state what is committed" "$(head_of "$T/e.$_w")"
			_c=0
		else
			# it lost before it committed anything (at its open): it
			# acknowledged nothing and nothing of it is in the log
			OPENLOST=$((OPENLOST + 1))
			_c=0
		fi
		echo "$1 $_w $_ls $_c" >>"$T/loser.sizes"
	fi
	echo "r$1$_w $_c $_in" >>"$T/expect"
	grep -E '^size [0-9]+$' "$T/o.$_w" | sed "s/^size /r$1$_w /" >>"$T/acked"
}

LOST=0 OPENLOST=0 LOSTSOME=0
: >"$T/expect"
: >"$T/acked"
: >"$T/loser.sizes"
mkfifo "$T/f.A" "$T/f.B"
cp_watch "$T/seen"
start=$(date +%s)
r=1
while [ "$r" -le "$ROUNDS" ]; do
	if [ $(($(date +%s) - start)) -ge "$BUDGET" ]; then
		echo "note: time budget of ${BUDGET}s reached after $((r - 1)) rounds"
		break
	fi
	mode=$((r % 4))
	exec 7<>"$T/f.A" 8<>"$T/f.B"
	start_writer A "$L"
	[ "$mode" -eq 3 ] || start_writer B "$M2"
	case $mode in
	0 | 1)
		if [ "$mode" -eq 0 ]; then N_A=5 N_B=5; else N_A=$((1 + $(rand 40))) N_B=$((200 + $(rand 400))); fi
		section "round $r: both opened, then $N_A and $N_B entries at once"
		i=0
		while [ "$i" -lt 300 ] && ! { waiting "$WP_A" && waiting "$WP_B"; }; do
			sleep 0.1
			i=$((i + 1))
		done
		[ "$i" -lt 300 ] || echo "note: round $r: the writers were not both waiting for input after 30 s"
		gen_lines "r${r}A" 1 "$N_A" >&7
		gen_lines "r${r}B" 1 "$N_B" >&8
		exec 7>&- 8>&-
		;;
	3)
		# staggered and slow: B starts (opens the log) between two of
		# A's commits and commits before A's next, so A loses after
		# committing some
		# (a writer's open and first commit take ~1.2 s on RGW here)
		N_A=$((10 * 3)) N_B=$((10 * 2))
		section "round $r: paced slowly, B starting 5 s after A: $N_A and $N_B entries, 10 every 4 s"
		gen_paced "r${r}A" 10 4 3 >"$T/f.A" 7>&- 8>&- &
		GA=$!
		BGPIDS="$BGPIDS $GA"
		sleep 0.1
		exec 7>&-
		sleep 5
		start_writer B "$M2"
		gen_paced "r${r}B" 10 4 2 >"$T/f.B" 7>&- 8>&- &
		GB=$!
		BGPIDS="$BGPIDS $GB"
		sleep 0.1
		exec 8>&-
		;;
	*)
		N_A=$((20 * 40)) N_B=$N_A
		section "round $r: paced input, $N_A entries each in 20-entry pieces"
		# the generators become the fifos' writers before the shell lets
		# go of its own ends (else a writer could read end of input)
		gen_paced "r${r}A" 20 0.01 40 >"$T/f.A" 7>&- 8>&- &
		GA=$!
		gen_paced "r${r}B" 20 0.01 40 >"$T/f.B" 7>&- 8>&- &
		GB=$!
		BGPIDS="$BGPIDS $GA $GB"
		sleep 0.1
		exec 7>&- 8>&-
		;;
	esac
	wait "$WP_A"
	RA=$?
	wait "$WP_B"
	RB=$?
	if [ "$mode" -ge 2 ]; then
		kill "$GA" "$GB" 2>/dev/null
		wait "$GA" "$GB" 2>/dev/null
	fi
	if [ "$RA" -ne 0 ] && [ "$RB" -ne 0 ]; then
		bad "round $r: neither writer won" "A: exit $RA: $(head_of "$T/e.A")" "B: exit $RB: $(head_of "$T/e.B")"
	else
		ok "round $r: a writer won (exits A $RA, B $RB)"
	fi
	judge "$r" A "$RA"
	judge "$r" B "$RB"
	hget checkpoint "$T/seen.r$r" || bad "round $r: GET checkpoint over HTTP"
	for d in "$L" "$M2"; do
		prb checkpoint "$d"
		[ "$RC" -eq 0 ] && cp "$T/out" "$T/seen.d$r.$(basename "$d")"
	done
	expect_ok "round $r: probity verify (machine A's DIR)" verify "$L" --vkey "$LVK"
	r=$((r + 1))
done
kill "$CWP" 2>/dev/null
wait "$CWP" 2>/dev/null

section "the log after all rounds"
if [ "$LOST" -gt 0 ]; then ok "$LOST rounds had a loser ($OPENLOST of them lost while opening the log, $LOSTSOME after committing some of its entries)"; else bad "no writer ever lost a race: the test did not race"; fi
expect_ok "probity verify (machine B's DIR)" verify "$M2" --vkey "$LVK"
mirror_ok "final log" "$T/mirror" || finish
size=$MS
check_tiles "final log" "$T/mirror" "$size"
entries_range "$T/mirror" "$size" 0 "$size" >"$T/entries"
eq "the log holds exactly the entries the writers had committed" "$size" "$(awk '{ s += $2 } END { print s + 0 }' "$T/expect")"
# each writer's entries of a round: exactly its first C lines, in order
bad_w=""
while read -r pre c n; do
	got=$(grep -E "^${pre}[0-9]+$" "$T/entries" | sed "s/^$pre//" | tr '\n' ' ')
	want=$( [ "$c" -gt 0 ] && seq 1 "$c" | tr '\n' ' ')
	[ "$got" = "$want" ] || bad_w="$bad_w; $pre: committed $c of $n, log has [$(echo "$got" | cut -c1-80)]"
done <"$T/expect"
eq "each writer's committed entries, and nothing of a failed batch, in its order" "${bad_w#; }" ""
# every acknowledged size ends with an entry of its writer
bad_a=""
while read -r pre s; do
	e=$(sed -n "${s}p" "$T/entries")
	case $e in "$pre"*) ;; *) bad_a="$bad_a; $pre size $s: entry $((s - 1)) is '$e'" ;; esac
done <"$T/acked"
eq "every 'size N' a writer printed ends with its own entry ($(wc -l <"$T/acked") acknowledged batches)" "${bad_a#; }" ""
if [ -n "${GOCHECK:-}" ]; then
	if "$GOCHECK" verify-log "$T/mirror" "$LVK" >"$T/gv" 2>&1; then
		ok "x/mod verifies the log fetched over HTTP: $(tail -n 1 "$T/gv")"
	else
		bad "x/mod verify-log of the HTTP mirror" "$(tail -n 3 "$T/gv")"
	fi
fi
consistent_all "$L" "$LVK" "$T"/seen.*
finish
