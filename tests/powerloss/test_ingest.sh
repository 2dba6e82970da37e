#!/bin/sh
# Power loss under probity ingest, with the default flags: in each round
# ingest runs over generated cloud records (gen-events), one run per part
# of them in turn (as a collector would), into a log inside LazyFS; at a
# random moment the run is killed and the power is cut (alternately after
# the kill and while ingest still runs). After the cut every
# acknowledged entry (below the last "size N" printed) must be there, and
# every entry of the log byte for byte the one an uninterrupted ingest of
# the same records wrote at that index (the entry bundles are compared);
# the log must verify, and its index (DIR/index.sqlite) never be ahead of
# it. The next round's ingest resumes the same log; every few rounds one
# is let finish: exactly one entry per record, an index matching the log
# row by row, and the next writer (probity add) appends and verifies.
#
# Env: see lib.sh (PL_ROUNDS, default 30, 5 under build/san; PL_SECONDS,
# default 150; PL_SYNC_ARGS); PL_EVENTS, records per part (default
# 1500); PL_PARTS (default 8); PL_MAXMS, the longest delay before the cut
# (default 2000).
set -u
. "$(dirname "$0")/lib.sh"

pl_rounds 30 5 150
EVENTS=${PL_EVENTS:-1500}
PARTS=${PL_PARTS:-8}
MAXMS=${PL_MAXMS:-2000}
PERLOG=4 # cuts per log before an ingest is let finish
pl_setup
GEN=${PRB_BUILD:-$(dirname "$PROBITY")}/gen-events
if [ ! -x "$GEN" ]; then
	bad "gen-events is built" "$GEN not found (make rel-all builds it)"
	finish
fi
new_key powerloss.example/ingest "$T/k" || finish
VKI=$VK
HAVE_SQLITE=""
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1

# ingest_parts DIR: probity ingest of each part in turn (the pid of the
# one running in $T/cur), its output appended to $T/iout, its errors to
# $T/ierr, the status of each run that ended to $T/irc. Status 1 when one
# fails.
ingest_parts() {
	_k=1
	while [ "$_k" -le "$PARTS" ]; do
		# shellcheck disable=SC2086
		"$PROBITY" ingest "$1" --key "$T/k" $PL_SYNC_ARGS "$T/in/p$_k" >>"$T/iout" 2>>"$T/ierr" &
		echo $! >"$T/cur"
		wait $!
		_rc=$?
		echo "part $_k: exit $_rc" >>"$T/irc"
		[ "$_rc" -eq 0 ] || return 1
		_k=$((_k + 1))
	done
}

# the records, and the reference: the same runs, uninterrupted, off LazyFS
mkdir -p "$T/in"
k=1
while [ "$k" -le "$PARTS" ]; do
	"$GEN" --seed "$k" --events "$EVENTS" --no-planted --out "$T/in/p$k" >/dev/null 2>"$T/gen.err" ||
		{ bad "gen-events writes part $k" "$(head_of "$T/gen.err")"; finish; }
	# event ids of their own (gen-events numbers them from 0 whatever the seed)
	find "$T/in/p$k" -type f -exec sed -i "s/\"bg-/\"p$k-/g" {} +
	k=$((k + 1))
done
new_log "$T/ref" "$T/k" || finish
: >"$T/iout"
ingest_parts "$T/ref"
eq "the reference ingest commits every record" "$? $(cp_size "$T/ref")" "0 $((PARTS * EVENTS))"
TOTAL=$(cp_size "$T/ref")

# index_ok TAG: the index (if any) covers at most the log's S entries.
index_ok() {
	[ -n "$HAVE_SQLITE" ] && [ -f "$D/index.sqlite" ] || return 0
	_ix=$(sqlite3 "$D/index.sqlite" "SELECT (SELECT value FROM meta WHERE key = 'log_size'), (SELECT coalesce(max(leaf) + 1, 0) FROM events)" 2>&1)
	_cov=${_ix%%|*} _rows=${_ix##*|}
	if [ "${_cov:-0}" -le "$S" ] 2>/dev/null && [ "$_rows" -le "$S" ] 2>/dev/null; then
		ok "$1: the index (size ${_cov:-0}, rows below $_rows) is not ahead of the log ($S)"
	else
		bad "$1: the index is ahead of the durable log, or unreadable" "index: $_ix, log: $S"
	fi
}

# finish_log: an ingest let finish leaves one entry per record and an
# index matching the log row by row; then the next writer, probity add.
finish_log() {
	: >"$T/iout"
	: >"$T/ierr"
	if ingest_parts "$D"; then ok "log $LOGS: the ingest let finish exits 0"
	else bad "log $LOGS: the ingest let finish exits 0" "$(cat "$T/irc")" "$(head_of "$T/ierr")"; fi
	eq "log $LOGS: exactly one entry per record, whatever the cuts" "$(cp_size "$D")" "$TOTAL"
	eq "log $LOGS: every entry is the reference's" "$(pl_bundles_lost "$D" "$TOTAL" "$T/ref" "$TOTAL")" 0
	prb verify "$D" --vkey "$VKI"
	eq "log $LOGS: verify after the finished ingest" "$RC" 0
	check "log $LOGS: the index matches the log, row by row" grep -q "index: matches the log, row by row$" "$T/out"
	if [ -n "$HAVE_SQLITE" ]; then
		eq "log $LOGS: one index row per record" "$(sqlite3 "$D/index.sqlite" 'SELECT count(*), count(DISTINCT event_id) FROM events')" "$TOTAL|$TOTAL"
	fi
	pl_next_writer "l$LOGS" "$D" "$T/k" "$VKI" "$TOTAL" || pl_keep "ingest-log$LOGS" "$D"
}

# a log is used until an ingest is let finish on it (finish_log)
FRESH=1000000 MINMS=200
it=1 cuts=0
while [ "$it" -le "$ROUNDS" ] && pl_time_left; do
	[ -n "$BROKEN" ] && cuts=0
	pl_round_log "$it" "$T/k" || break
	s0=$(cp_size "$D")
	: >"$T/iout"
	: >"$T/ierr"
	: >"$T/irc"
	ingest_parts "$D" &
	pl=$!
	BGPIDS="$pl"
	pl_round_start "$it"
	hung=$LZ_HUNG
	kill -STOP "$pl" 2>/dev/null # no next part; the one running is in $T/cur
	pl_crash "$HOW" "$pl" "$(cat "$T/cur")" || { bad "round $it: LazyFS mounts again after the cut" "$(tail -n 3 "$LZLOG")"; break; }
	BGPIDS=""
	RDONE=$it cuts=$((cuts + 1))
	tag="round $it ($HOW after $MS ms)"
	RC=0
	sanity_after "ingest (round $it)" "$T/ierr"
	if [ "$HOW" = kill ] && [ "$hung" -eq "$LZ_HUNG" ] && grep -qv 'exit 0$' "$T/irc"; then
		bad "$tag: ingest ended by itself and failed" "$(cat "$T/irc")" "$(head_of "$T/ierr")"
	fi

	acked=$(last_size "$T/iout" "$s0")
	pl_acked $((acked - s0))
	pl_size "$D"
	echo "$tag: size $s0, acknowledged $acked, checkpoint after the cut $S"
	pl_count_lost "$tag" "$(pl_bundles_lost "$D" "$S" "$T/ref" "$acked")" \
		"the $acked acknowledged entries, byte for byte," "$(head_of "$T/ierr")"
	if [ "$S" -ge "$s0" ] && [ "$(pl_bundles_lost "$D" "$S" "$T/ref" "$S")" -eq 0 ]; then
		ok "$tag: every entry of the log is the reference's"
	else
		bad "$tag: the log's entries are not the reference's (size $S, was $s0)"
	fi
	verify_ok "$tag: the log verifies, its index not ahead of it" "$D" "$VKI" || BROKEN=1
	index_ok "$tag"
	[ "$S" -lt "$s0" ] && BROKEN=1
	if [ -z "$BROKEN" ] && { [ "$S" -eq "$TOTAL" ] || [ "$cuts" -ge "$PERLOG" ]; }; then
		finish_log
		BROKEN=1 # done with: a new log next round
	else
		pl_round_end "ingest-$it"
	fi
	it=$((it + 1))
done
[ -z "$BROKEN" ] && finish_log
pl_summary ingest ", $PARTS parts of $EVENTS records"
finish
