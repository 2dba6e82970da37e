#!/bin/sh
# Crash test of probity ingest: killed with SIGKILL at a random instant,
# many times, over one set of export files. After each kill the log must
# verify, hold every acknowledged entry (up to the last "size N" printed),
# and its index must agree with it for the entries it covers (it may lag:
# the next run catches it up). Then an ingest that is let finish must leave
# exactly one entry per record (no record committed twice across the
# crashes) and an index that matches the log row by row.
#
# Env: CRASH_ITER (kills, default 12, four per log), CRASH_MAXMS (longest
# delay before a kill, default 3500), CRASH_SECONDS (time budget: no new
# kill after it, default 150).
set -u
. "$(dirname "$0")/lib.sh"

ITER=${CRASH_ITER:-12}
MAXMS=${CRASH_MAXMS:-3500}
BUDGET=${CRASH_SECONDS:-150}
PERLOG=4 # kills per log, before it is let finish
FILES=40
PER=2000
TOTAL=$((FILES * PER))

new_key crash-ingest.example/log "$T/k" || finish
VKC=$VK
L=$T/log
new_log "$L" "$T/k" || finish
mkdir -p "$T/in"
f=1
while [ "$f" -le "$FILES" ]; do
	# every third file gzip-compressed; records of 300-400 bytes
	seq 1 "$PER" | awk -v f="$f" '{printf "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"f%d-%d\",\"stage\":\"ResponseComplete\",\"verb\":\"get\",\"user\":{\"username\":\"u%d\"},\"sourceIPs\":[\"10.0.0.1\"],\"requestURI\":\"/api/v1/pods\",\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"ns\"},\"responseStatus\":{\"code\":200},\"requestReceivedTimestamp\":\"2024-03-01T00:00:00.000000Z\",\"stageTimestamp\":\"2024-03-01T00:00:00.100000Z\"}\n", f, $1, $1 % 7}' >"$T/in/f$f.jsonl"
	[ $((f % 3)) -eq 0 ] && gzip "$T/in/f$f.jsonl"
	f=$((f + 1))
done

# finish_log: an ingest let finish must leave exactly one entry per record
# and an index matching the log row by row.
finish_log() {
	prb ingest "$L" --key "$T/k" "$T/in"
	eq "log $seg: the run let finish exits 0" "$RC" 0
	eq "log $seg: exactly one entry per record, whatever the kills" "$(cp_size "$L")" "$TOTAL"
	prb verify "$L" --vkey "$VKC"
	eq "log $seg: verify after the last run" "$RC" 0
	check "log $seg: the index matches the log, row by row" grep -q "index: matches the log, row by row$" "$T/out"
	if command -v sqlite3 >/dev/null 2>&1; then
		eq "log $seg: one index row per record" "$(sqlite3 "$L/index.sqlite" 'SELECT count(*), count(DISTINCT event_id) FROM events')" "$TOTAL|$TOTAL"
	fi
}

start=$(date +%s)
it=1 kills=0 acked_total=0 seg=1
while [ "$it" -le "$ITER" ]; do
	if [ $(($(date +%s) - start)) -ge "$BUDGET" ]; then
		echo "note: time budget of ${BUDGET}s reached after $kills kills"
		break
	fi
	if [ "$it" -gt 1 ] && [ $(((it - 1) % PERLOG)) -eq 0 ]; then
		finish_log
		seg=$((seg + 1))
		L=$T/log$seg
		new_log "$L" "$T/k" || break
	fi
	s0=$(cp_size "$L")
	ms=$(rand $((MAXMS + 1)))
	"$PROBITY" ingest "$L" --key "$T/k" "$T/in" >"$T/out.$it" 2>"$T/err.$it" &
	pid=$!
	BGPIDS="$BGPIDS $pid"
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	RC=0 # killed on purpose: only a sanitizer report counts
	sanity_after "ingest (killed after ${ms} ms)" "$T/err.$it"
	kills=$((kills + 1))
	acked=$(last_size "$T/out.$it" "$s0")
	[ "$acked" -gt "$s0" ] && acked_total=$((acked_total + 1))
	size=$(cp_size "$L")
	if [ "$size" -lt "$acked" ]; then
		bad "kill $it: acknowledged size $acked lost (checkpoint size $size)"
	else
		ok "kill $it after ${ms} ms: every acknowledged entry kept ($acked <= $size)"
	fi
	prb verify "$L" --vkey "$VKC"
	if [ "$RC" -eq 0 ]; then
		ok "kill $it: log verifies and the index agrees for what it covers"
	else
		bad "kill $it: verify" "exit $RC: $(head_of "$T/err")"
		break
	fi
	it=$((it + 1))
done
echo "note: $kills kills over $seg logs, $acked_total of them after at least one acknowledged batch"
finish_log
finish
