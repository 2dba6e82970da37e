#!/bin/sh
# A checkpoint commit that fails midway leaves the batch in doubt; `add`
# settles it at once by reopening the log, prints `size N` only if the
# batch turned out committed, and says which in one line. Faults come from
# an LD_PRELOAD shim (tests/cli/shim_commit.c).
. "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
if ! $CC -shared -fPIC -o "$T/shim.so" "$(dirname "$0")/shim_commit.c" -ldl 2>"$T/cc.err"; then
	skip "cannot build the fault shim: $(head -n 1 "$T/cc.err")"
	finish
fi
# the ASan build would insist on coming first in the preload list
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
VK=$("$PROBITY" keygen test.example/doubt -o "$T/key")
L=$T/log
"$PROBITY" init "$L" --key "$T/key"
seq 1 10 | "$PROBITY" add "$L" --key "$T/key" >/dev/null

section "the directory sync after the checkpoint's rename fails"
seq 11 15 | PRB_SHIM=dirsync LD_PRELOAD="$T/shim.so" \
	"$PROBITY" add "$L" --key "$T/key" >"$T/out" 2>"$T/err"
eq "add fails" "$?" 1
eq "the settled batch is acknowledged" "$(cat "$T/out")" "size 15"
eq "one line on stderr" "$(wc -l <"$T/err")" 1
if grep -q "turned out committed" "$T/err"; then ok "it says the batch is in"
else bad "it says the batch is in" "$(cat "$T/err")"; fi
eq "checkpoint size" "$(sed -n 2p "$L/checkpoint")" 15
"$PROBITY" verify "$L" --vkey "$VK" >/dev/null 2>&1
eq "the log verifies" "$?" 0

section "the checkpoint's rename fails"
seq 16 20 | PRB_SHIM=rename LD_PRELOAD="$T/shim.so" \
	"$PROBITY" add "$L" --key "$T/key" >"$T/out" 2>"$T/err"
eq "add fails" "$?" 1
eq "nothing is acknowledged" "$(cat "$T/out")" ""
if grep -q "was NOT committed" "$T/err"; then ok "it says the batch is not in"
else bad "it says the batch is not in" "$(cat "$T/err")"; fi
eq "checkpoint size" "$(sed -n 2p "$L/checkpoint")" 15
[ -e "$L/checkpoint.tmp" ] && bad "no pending checkpoint is left" "checkpoint.tmp exists" ||
	ok "no pending checkpoint is left"
seq 16 20 | "$PROBITY" add "$L" --key "$T/key" >"$T/out" 2>"$T/err"
eq "the same batch goes in afterwards" "$(cat "$T/out")" "size 20"
"$PROBITY" verify "$L" --vkey "$VK" >/dev/null 2>&1
eq "the log verifies" "$?" 0

# At least three batches from one file (at most 1,048,576 entries each,
# fewer on a slow machine: a batch also ends after a second), pipelined:
# batch 3 is read, hashed and written while batch 2 commits. When batch
# 2's commit fails, batch 3 must not be committed either (its checkpoint
# would cover batch 2), even where its compare-and-swap would succeed.
seq 1 2500000 | sed 's/^/pipelined-entry-/' >"$T/big"
# three LOG SHIM [ARG...]: runs add on the big input under the shim (with
# the extra arguments); prints its exit
three() {
	_log=$1 _shim=$2
	shift 2
	PRB_SHIM=$_shim LD_PRELOAD="$T/shim.so" \
		"$PROBITY" add "$_log" --key "$T/key" "$@" "$T/big" >"$T/out" 2>"$T/err"
	echo $?
}
# after_three LOG WHAT SIZE: the checkpoint is at SIZE, and the log
# verifies, then grows and verifies again.
after_three() {
	eq "$2: checkpoint size" "$(sed -n 2p "$1/checkpoint")" "$3"
	[ -e "$1/checkpoint.tmp" ] && bad "$2: no pending checkpoint is left" "checkpoint.tmp exists" ||
		ok "$2: no pending checkpoint is left"
	"$PROBITY" verify "$1" --vkey "$VK" >/dev/null 2>&1
	eq "$2: the log verifies" "$?" 0
	seq 1 300 | "$PROBITY" add "$1" --key "$T/key" >"$T/out2" 2>"$T/err2"
	eq "$2: the log grows afterwards" "$(cat "$T/out2")" "size $(($3 + 300))"
	"$PROBITY" verify "$1" --vkey "$VK" >/dev/null 2>&1
	eq "$2: and verifies" "$?" 0
}
has() { if grep -q "$2" "$T/err"; then ok "$1"; else bad "$1" "$(cat "$T/err")"; fi; }
# sizes: the "size N" lines printed, space-separated
sizes() { sed -n 's/^size //p' "$T/out" | tr '\n' ' '; }

# sync_fails LOG SHIM WHAT [ARG...]: batch 2's sync fails while batch 3 is
# staged; only batch 1 is acknowledged, and the log goes on
sync_fails() {
	_l=$1 _s=$2 _w=$3
	shift 3
	"$PROBITY" init "$_l" --key "$T/key"
	eq "$_w: add fails" "$(three "$_l" "$_s" "$@")" 1
	n1=$(sizes | cut -d' ' -f1)
	eq "$_w: only the first batch is acknowledged" "$(sizes)" "${n1:-none} "
	eq "$_w: one line on stderr" "$(wc -l <"$T/err")" 1
	has "$_w: it says batch 2 and what follows are not in" \
		"was NOT committed, nor the [0-9]* entries after it (input up to $T/big line [0-9]*)"
	has "$_w: it says what is committed" "$n1 entries from this run are committed (log size $n1)"
	after_three "$_l" "$_w" "$n1"
}

section "pipelined: the second batch's file fsync fails while the third is staged (default --sync files)"
sync_fails "$T/log2" filesync:2 "file fsync"

section "pipelined: the second batch's syncfs fails while the third is staged (--sync fs)"
"$PROBITY" init "$T/fscheck" --key "$T/key"
if "$PROBITY" add "$T/fscheck" --key "$T/key" --sync fs </dev/null >/dev/null 2>"$T/fs.err"; then
	sync_fails "$T/log2fs" syncfs:2 "syncfs" --sync fs
else
	skip "--sync fs is refused on this filesystem: $(cat "$T/fs.err")"
fi

section "pipelined: the second checkpoint's directory sync fails (in doubt, in fact committed)"
L3=$T/log3
"$PROBITY" init "$L3" --key "$T/key"
eq "add fails" "$(three "$L3" dirsync:2)" 1
n2=$(sizes | cut -d' ' -f2)
eq "two batches acknowledged, the second once settled" "$(sizes | wc -w)" 2
eq "one line on stderr" "$(wc -l <"$T/err")" 1
has "it says batch 2 is in" "turned out committed when the log was reopened"
has "and that batch 3 is not" \
	"the [0-9]* entries after it (input up to $T/big line [0-9]*) were NOT committed"
has "it says what is committed" "$n2 entries from this run are committed (log size $n2)"
after_three "$L3" "directory sync" "$n2"

section "pipelined: the second checkpoint's rename fails (in doubt, not committed)"
L4=$T/log4
"$PROBITY" init "$L4" --key "$T/key"
eq "add fails" "$(three "$L4" rename:2)" 1
n1=$(sizes | cut -d' ' -f1)
eq "only the first batch is acknowledged" "$(sizes)" "${n1:-none} "
has "it says batch 2 and what follows are not in" \
	"was NOT committed, nor the [0-9]* entries after it"
after_three "$L4" "rename" "$n1"

section "pipelined: a tile write fails (disk full) some batches in"
L5=$T/log5
"$PROBITY" init "$L5" --key "$T/key"
eq "add fails" "$(three "$L5" write:10000)" 1
last=$(sizes | awk '{ print $NF }')
if why=$(size_lines_ok "$T/out" 0 "${last:-0}"); then ok "stdout is increasing 'size N' lines"
else bad "stdout is increasing 'size N' lines" "$why"; fi
eq "one line on stderr" "$(wc -l <"$T/err")" 1
has "it names the failure and says the batch is not in" "No space left on device.*was NOT committed"
has "it says what is committed" "${last:-0} entries from this run are committed (log size ${last:-0})"
after_three "$L5" "disk full" "${last:-0}"

# ingest commits through the same writer: a batch in doubt is settled by
# reopening, the index records it only if it is in, and is never ahead of
# the durable log.
section "ingest: the checkpoint's directory sync fails (in doubt, in)"
L6=$T/log6
"$PROBITY" init "$L6" --key "$T/key"
mkct() { # mkct FILE ID...: a CloudTrail export with one record per id
	f=$1; shift
	{ printf '{"Records": ['; sep=
	  for id in "$@"; do
		printf '%s{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accountId":"111122223333"},"eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"eu-west-1","requestParameters":{"bucketName":"b%s"},"eventID":"%s","eventType":"AwsApiCall","recipientAccountId":"111122223333"}' "$sep" "$id" "$id"
		sep=,
	  done; printf ']}\n'; } >"$f"
}
mkct "$T/ct1.json" e1 e2 e3
PRB_SHIM=dirsync LD_PRELOAD="$T/shim.so" \
	"$PROBITY" ingest "$L6" --key "$T/key" "$T/ct1.json" >"$T/out" 2>"$T/err"
eq "ingest fails" "$?" 1
has "it says the batch turned out committed" "turned out committed"
check "the settled batch is acknowledged" grep -q "^size 3$" "$T/out"
eq "checkpoint size" "$(sed -n 2p "$L6/checkpoint")" 3
eq "the index records the settled batch" \
	"$(sqlite3 "$L6/index.sqlite" "SELECT value FROM meta WHERE key = 'log_size'")" 3
"$PROBITY" verify "$L6" --vkey "$VK" >/dev/null 2>&1
eq "the log and its index verify" "$?" 0

section "ingest: the checkpoint's rename fails (not in)"
mkct "$T/ct2.json" e4 e5
PRB_SHIM=rename LD_PRELOAD="$T/shim.so" \
	"$PROBITY" ingest "$L6" --key "$T/key" "$T/ct2.json" >"$T/out" 2>"$T/err"
eq "ingest fails" "$?" 1
has "it says the last batch is not committed" "is not committed"
check "nothing is acknowledged" sh -c "! grep -q '^size' '$T/out'"
eq "checkpoint size" "$(sed -n 2p "$L6/checkpoint")" 3
eq "the index is not ahead of the log" \
	"$(sqlite3 "$L6/index.sqlite" "SELECT value FROM meta WHERE key = 'log_size'")" 3
eq "... and has no row for them" \
	"$(sqlite3 "$L6/index.sqlite" "SELECT count(*) FROM events WHERE event_id IN ('e4', 'e5')")" 0
"$PROBITY" ingest "$L6" --key "$T/key" "$T/ct1.json" "$T/ct2.json" >"$T/out" 2>"$T/err"
eq "the same files again: status 0" "$?" 0
check "... the new records go in, the old are duplicates" \
	grep -q "5 records, 2 new, 3 duplicates" "$T/out"
"$PROBITY" verify "$L6" --vkey "$VK" >/dev/null 2>&1
eq "the log and its index verify" "$?" 0
finish
