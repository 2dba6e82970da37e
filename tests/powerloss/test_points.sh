#!/bin/sh
# Power loss at chosen points of a commit, with the default flags. A log
# inside LazyFS holds 300 acknowledged entries; LazyFS is told to crash
# (losing every byte not fsynced) at one point of the next batch, which
# appends 300 more with probity add:
#   before / after the fsync of the new checkpoint (checkpoint.tmp),
#   before / after its rename to checkpoint,
#   in the middle of a tile write, of an entry-bundle write, and of the
#   checkpoint write (torn-op: the first half of the write persisted).
# The fault must fire. After the power comes back every acknowledged entry
# must be at its index, every entry of the log the input's, the log must
# verify and the next writer (probity add) append and verify; a checkpoint
# left synced but not renamed is installed by it, a torn one is not.
#
# Not shown here: a lost rename or a missing directory fsync (LazyFS
# makes create, rename, mkdir and unlink durable at once; see lib.sh).
#
# Env: see lib.sh (PL_SYNC_ARGS).
set -u
. "$(dirname "$0")/lib.sh"

pl_setup
new_key powerloss.example/points "$T/k" || finish
VKP=$VK
gen_lines a- 1 300 >"$T/first"
gen_lines b- 1 300 >"$T/batch"

# point NAME WANT FAULT...: a fresh log of 300 entries, the FAULT commands,
# then the batch. In a FAULT, @ is the log's backing directory (a torn
# write names its file exactly) and ~ the log's name (a crash fault's
# pattern matches anywhere in a path: commands must stay under 100 bytes).
# WANT: the checkpoint size the next writer must start from (300: the
# batch is gone, 600: it is in, possibly as a pending checkpoint).
point() {
	_name=$1 _want=$2
	shift 2
	section "$_name"
	D=$MNT/$np
	new_log "$D" "$T/k" || return 1
	# shellcheck disable=SC2086
	add_ok "$_name: the first 300 entries" "$D" "$T/k" 0 300 "$T/first" $PL_SYNC_ARGS || return 1
	for _f; do
		_f=$(echo "$_f" | sed "s|@|$BACK/$np|g; s|~|$np|g")
		if [ "${#_f}" -gt 99 ]; then
			bad "$_name: fault command under 100 bytes (LazyFS reads them in 100-byte chunks; a shorter TMPDIR helps)" "$_f"
			return 1
		fi
		lz_fault "$_f" || { bad "$_name: LazyFS takes the fault" "$_f" "$(tail -n 3 "$LZLOG")"; return 1; }
	done
	: >"$T/aout"
	# shellcheck disable=SC2086
	"$PROBITY" add "$D" --key "$T/k" $PL_SYNC_ARGS "$T/batch" >"$T/aout" 2>"$T/aerr" &
	_pp=$!
	_i=0
	while ! pid_gone "$_pp" && lz_alive && [ "$_i" -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	if lz_alive; then
		bad "$_name: the fault fires" "LazyFS still runs; add: $(head_of "$T/aout") $(head_of "$T/aerr")"
	elif grep -q "Triggered fault condition" "$LZLOG"; then
		ok "$_name: the fault fires (LazyFS crashed there)"
	else
		bad "$_name: LazyFS crashed where the fault was set" "$(tail -n 3 "$LZLOG")"
	fi
	pl_crash fault "$_pp" || { bad "$_name: LazyFS mounts again" "$(tail -n 3 "$LZLOG")"; return 1; }
	RC=0
	sanity_after "add ($_name)" "$T/aerr"

	acked=$(last_size "$T/aout" 300)
	pl_size "$D"
	echo "$_name: acknowledged $acked, checkpoint after the cut $S"
	cat "$T/first" >"$T/want"
	[ "$S" -gt 300 ] && head -n $((S - 300)) "$T/batch" >>"$T/want"
	pl_read "$D" "$S"
	ACKS=$((ACKS + acked))
	pl_count_lost "$_name" "$(pl_lost "$T/got" "$T/want" "$acked")" "the $acked acknowledged entries" "$(head_of "$T/aerr")"
	check "$_name: every entry of the log is the input's" cmp -s "$T/got" "$T/want"
	verify_ok "$_name: the log verifies" "$D" "$VKP"
	pl_next_writer "$np" "$D" "$T/k" "$VKP" "$S" || { pl_keep "$np" "$D"; return 1; }
	eq "$_name: the next writer appends at size" "$BASE" "$_want"
	{ cat "$T/first"; head -n $((BASE - 300)) "$T/batch"; cat "$T/after"; } >"$T/want"
	pl_read "$D" $((BASE + 3))
	check "$_name: the log holds what was written, then the next writer's entries" cmp -s "$T/got" "$T/want"
	points=$((points + 1))
}

points=0 np=p0
# A rename crash fault gives from_rgx as well as to_rgx: without a source
# pattern LazyFS never matches a rename. A tile or bundle is written in
# place when new, or as NAME.tmp then renamed: the torn write is set on both.
for spec in \
	"before the checkpoint's fsync|300|lazyfs::crash::timing=before::op=fsync::from_rgx=~/checkpoint.tmp" \
	"after the checkpoint's fsync|600|lazyfs::crash::timing=after::op=fsync::from_rgx=~/checkpoint.tmp" \
	"before the checkpoint's rename|600|lazyfs::crash::timing=before::op=rename::from_rgx=~/checkpoint.tmp::to_rgx=~/checkpoint$" \
	"after the checkpoint's rename|600|lazyfs::crash::timing=after::op=rename::from_rgx=~/checkpoint.tmp::to_rgx=~/checkpoint$" \
	"a torn tile write|300|lazyfs::torn-op::file=@/tile/0/001::parts=2::persist=1|lazyfs::torn-op::file=@/tile/0/001.tmp::parts=2::persist=1" \
	"a torn entry-bundle write|300|lazyfs::torn-op::file=@/tile/entries/001::parts=2::persist=1|lazyfs::torn-op::file=@/tile/entries/001.tmp::parts=2::persist=1" \
	"a torn checkpoint write|300|lazyfs::torn-op::file=@/checkpoint.tmp::parts=2::persist=1"; do
	np=p$((${np#p} + 1))
	IFS='|'
	# shellcheck disable=SC2086
	set -- $spec
	unset IFS
	point "$@"
done
echo "summary: points: $points of 7 crash points recovered, ${PL_SYNC_ARGS:-default flags}; $ACKS acknowledged entries checked at their indexes; lost $LOST"
finish
