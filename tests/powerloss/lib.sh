# Shared by tests/powerloss/test_*.sh: a simulated power cut under a log.
# Sourced after nothing else (it sources tests/cli/lib.sh); POSIX sh.
#
# LazyFS (../shared/tools/lazyfs, a FUSE filesystem with its own page
# cache) keeps every write that was not fsynced in memory: dropping that
# cache (lazyfs::clear-cache) and mounting again is a power cut. It is
# built once, with its build.sh, into build/lazyfs (reused when present).
#
# What LazyFS cannot show: create, rename, mkdir and unlink go straight to
# its backing directory and are durable at once, so a lost rename or a
# missing directory fsync never shows here; those need another method
# (tests/cli/test_indoubt.sh and shim_commit.c fail the directory sync).
#
# Its two known faults are survived as ../shared/tools/lazyfs/example-lib.sh
# does: a LazyFS that hangs (a writer stuck in a FUSE request it never
# answers) is a power cut at that moment and is killed; one that dies by
# itself has lost its cache, a power cut at a moment the test did not pick.
#
# Env: PL_SYNC_ARGS (extra arguments for every writer, e.g. "--sync
# files"; default none: the default flags are what is tested),
# PL_ROUNDS / PL_SECONDS (rounds and time budget of a script; fewer rounds
# under build/san), PL_MAXMS (the longest delay before a cut), PL_FRESH
# (a new log every N rounds, default 10), PL_KEEP (directory: copy a
# failing log there), PL_TIMEOUT (seconds per probity run, default 120),
# LZ_CACHE (LazyFS's cache, default 128mb: un-fsynced bytes must fit).

. "$(dirname "$0")/../cli/lib.sh"

PL_TOP=$(cd "$(dirname "$0")/../.." && pwd)
PL_SYNC_ARGS=${PL_SYNC_ARGS:-}
PRB_TIMEOUT=${PL_TIMEOUT:-120}
[ -n "$TO" ] && TO="timeout -k 5 $PRB_TIMEOUT"
LZ_SRC=$PRB_SHARED/tools/lazyfs
LZ_DIR=$PL_TOP/build/lazyfs
LZ=$LZ_DIR/lazyfs/build/lazyfs
LZ_PKGS="fuse3 libfuse3-dev cmake g++ libtoml11-dev libspdlog-dev"
# Short paths: LazyFS reads fault commands, which name backing paths, in
# 100-byte chunks; so /tmp whatever TMPDIR says (removed by lz_stop).
W=$(mktemp -d /tmp/plXXXXXX 2>/dev/null) || W=$T/w
MNT=$W/m
BACK=$W/r
FIFO=$W/f
DONE=$W/d
LZLOG=$W/lz.log
LZPID=""
trap 'lz_stop; cleanup' EXIT
# counts over a script: LazyFS killed because it hung, LazyFS found dead
LZ_HUNG=0 LZ_DIED=0

# pl_rounds REL SAN SECONDS: sets ROUNDS (PL_ROUNDS, else REL, or SAN
# under a sanitizer build, said so), BUDGET (PL_SECONDS, else SECONDS: no
# round starts after it) and START.
pl_rounds() {
	case ${PRB_BUILD:-} in
	*/san | */san/)
		ROUNDS=${PL_ROUNDS:-$2}
		echo "note: sanitizer build: $ROUNDS rounds (a release build runs $1)"
		;;
	*) ROUNDS=${PL_ROUNDS:-$1} ;;
	esac
	BUDGET=${PL_SECONDS:-$3}
	START=$(date +%s)
}
# pl_time_left: the script's time budget is not used up (says so if it is).
pl_time_left() {
	[ $(($(date +%s) - START)) -lt "$BUDGET" ] && return 0
	echo "note: time budget of ${BUDGET}s reached"
	return 1
}

# pl_setup: ends the script with a skip when LazyFS cannot run here (no
# source, no usable FUSE, packages missing), else builds it if needed and
# mounts it on $MNT. (It is unmounted on exit.)
pl_setup() {
	if [ ! -f "$LZ_SRC/build.sh" ]; then
		skip "power-loss tests: no LazyFS source at $LZ_SRC (../shared/tools/lazyfs)"
		finish
	fi
	if [ ! -c /dev/fuse ] || [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ]; then
		skip "power-loss tests: /dev/fuse is missing or not usable by $(id -un)"
		finish
	fi
	if ! command -v fusermount3 >/dev/null 2>&1; then
		skip "power-loss tests: fusermount3 is not installed (make deps installs fuse3)"
		finish
	fi
	lz_build || finish
	if ! lz_mount; then
		skip "power-loss tests: LazyFS does not mount here (FUSE unusable?): $(tail -n 2 "$W/lz.err" "$LZLOG" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
		finish
	fi
}

# lz_build: builds LazyFS into $LZ_DIR unless it is there; one build at a
# time (flock). Returns 1 after a skip or a failure.
lz_build() {
	[ -x "$LZ" ] && [ -f "$LZ_DIR/.built" ] && return 0
	if command -v dpkg-query >/dev/null 2>&1; then
		_miss=""
		for _p in $LZ_PKGS; do
			dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q "install ok installed" || _miss="$_miss $_p"
		done
		if [ -n "$_miss" ]; then
			skip "power-loss tests: packages to build LazyFS are missing:$_miss (make deps installs them)"
			return 1
		fi
	fi
	mkdir -p "$PL_TOP/build"
	echo "note: building LazyFS from $LZ_SRC into $LZ_DIR (once)"
	(
		flock 9
		[ -f "$LZ_DIR/.built" ] && exit 0
		rm -rf "$LZ_DIR"
		sh "$LZ_SRC/build.sh" "$LZ_DIR" >"$PL_TOP/build/lazyfs.log" 2>&1 &&
			[ -x "$LZ" ] && touch "$LZ_DIR/.built"
	) 9>"$PL_TOP/build/lazyfs.lock"
	[ -x "$LZ" ] && [ -f "$LZ_DIR/.built" ] && return 0
	bad "LazyFS builds with $LZ_SRC/build.sh" "$(tail -n 5 "$PL_TOP/build/lazyfs.log" 2>/dev/null)"
	return 1
}

lz_config() {
	mkdir -p "$MNT" "$BACK"
	cat >"$W/lz.toml" <<EOF
[faults]
fifo_path="$FIFO"
fifo_path_completed="$DONE"
[cache]
apply_eviction=false
[cache.simple]
custom_size="${LZ_CACHE:-128mb}"
blocks_per_page=1
[filesystem]
log_all_operations=false
logfile="$LZLOG"
EOF
	[ -p "$FIFO" ] || mkfifo "$FIFO"
	[ -p "$DONE" ] || mkfifo "$DONE"
}

# pid_gone PID: no such process, or a zombie whose threads have all ended.
pid_gone() {
	kill -0 "$1" 2>/dev/null || return 0
	[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ] &&
		[ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ]
}
lz_alive() { [ -n "$LZPID" ] && ! pid_gone "$LZPID"; }
# lz_gone N: waits for LazyFS to end, killing it after N tries of 50 ms;
# 30 s at most (then says so).
lz_gone() {
	_i=0
	while ! pid_gone "$LZPID"; do
		_i=$((_i + 1))
		[ "$_i" -ge "$1" ] && kill -9 "$LZPID" 2>/dev/null
		[ "$_i" -gt 600 ] && { echo "note: LazyFS (pid $LZPID) does not end" >&2; return 1; }
		sleep 0.05
	done
}

# lz_mount: starts LazyFS (foreground mode, in the background) on $MNT over
# $BACK and waits until it is mounted and reads fault commands.
lz_mount() {
	lz_config
	if grep -q " $MNT " /proc/mounts; then echo "lz_mount: $MNT already mounted" >&2; return 1; fi
	# a reader must hold the completion fifo open, else LazyFS's fault
	# thread blocks opening it
	exec 8<>"$DONE"
	"$LZ" "$MNT" --config-path "$W/lz.toml" -o modules=subdir -o subdir="$BACK" \
		-f >/dev/null 2>"$W/lz.err" &
	LZPID=$!
	_i=0
	until mountpoint -q "$MNT" && grep -q "waiting for fault commands" "$LZLOG" 2>/dev/null; do
		_i=$((_i + 1))
		if [ "$_i" -gt 400 ] || ! lz_alive; then
			echo "lz_mount: LazyFS did not come up" >&2
			return 1
		fi
		sleep 0.05
	done
}

# lz_cmd CMD: writes one command to the fault fifo (5 s at most: a dead
# LazyFS has no reader).
lz_cmd() { timeout 5 sh -c 'printf "%s\n" "$1" >"$2"' _ "$1" "$FIFO"; }

# lz_fault CMD: sends a crash or torn-write fault and waits until LazyFS
# has taken it (one command per read of the fifo); status 1 if refused.
lz_fault() {
	_n=$(grep -c "VALID crash fault\|configured successfully\|INVALID" "$LZLOG")
	lz_cmd "$1" || return 1
	_i=0
	while [ "$(grep -c "VALID crash fault\|configured successfully\|INVALID" "$LZLOG")" -le "$_n" ]; do
		_i=$((_i + 1))
		[ "$_i" -gt 100 ] && return 1
		sleep 0.05
	done
	! tail -n 3 "$LZLOG" | grep -q INVALID
}

# lz_clear: drops every un-fsynced byte and waits for LazyFS to say so.
lz_clear() {
	lz_alive || return 2
	lz_cmd "lazyfs::clear-cache" || return 2
	_l=$(timeout 20 sh -c 'IFS= read -r l && printf %s "$l"' <&8) || return 1
	[ "$_l" = "finished::clear-cache" ]
}

# lz_reap PID: PID was sent SIGKILL; waits at most 10 s for it to end. A
# process stuck in a FUSE request LazyFS never answers cannot end: then
# LazyFS is killed (a power cut at this instant) and the status is 4. The
# caller waits for PID.
lz_reap() {
	_i=0
	while ! pid_gone "$1"; do
		_i=$((_i + 1))
		if [ "$_i" -gt 200 ]; then
			lz_alive && kill -9 "$LZPID" 2>/dev/null
			LZ_HUNG=$((LZ_HUNG + 1))
			echo "note: a writer hung in LazyFS; LazyFS killed (a power cut now)"
			return 4
		fi
		sleep 0.05
	done
	return 0
}

# lz_umount: unmounts (LazyFS's destroy does not write its cache back) and
# waits for LazyFS to end.
lz_umount() {
	if grep -q " $MNT " /proc/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	if [ -n "$LZPID" ]; then
		lz_gone 100
		wait "$LZPID" 2>/dev/null
		LZPID=""
	fi
	exec 8<&-
}

# lz_powerloss: the power cut: drops what was not fsynced, unmounts, mounts
# again (fresh kernel caches). A LazyFS already dead (killed, or crashed by
# a fault) lost its cache with it: the same cut. Status 1 when LazyFS does
# not come back.
lz_powerloss() {
	if lz_alive && ! lz_clear; then
		echo "note: clear-cache failed; LazyFS killed instead"
		kill -9 "$LZPID" 2>/dev/null
	fi
	lz_umount
	lz_mount
}

# lz_stop: on exit: no LazyFS, no mount and no work directory left behind.
lz_stop() {
	lz_alive && kill -9 "$LZPID" 2>/dev/null
	lz_umount 2>/dev/null
	grep -q " $MNT " /proc/mounts || rm -rf "$W"
}

# pl_crash HOW PID...: the crash of a round, at this instant. HOW "kill":
# the writer's processes PID... are killed (kill -9), then the power is
# cut; "cut": LazyFS is killed first (the power goes while the writer
# runs), then the writer; "fault": LazyFS crashed at a fault it was
# given. Otherwise a LazyFS found dead died by itself (counted in
# LZ_DIED). Waits for the first PID, a child of this shell (its status in
# WRC); LazyFS is mounted again after: status 1 if not.
pl_crash() {
	_how=$1
	shift
	if [ "$_how" = fault ]; then
		: # LazyFS crashed at the fault the test set
	elif ! lz_alive; then
		LZ_DIED=$((LZ_DIED + 1))
		echo "note: LazyFS had died by itself (a power cut at that moment): $(tail -qn 1 "$LZLOG" "$W/lz.err" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
	elif [ "$_how" = cut ]; then
		lz_gone 0
	fi
	for _p; do kill -9 "$_p" 2>/dev/null; done
	for _p; do lz_reap "$_p"; done
	wait "$1" 2>/dev/null
	WRC=$?
	lz_powerloss
}

# ---- rounds --------------------------------------------------------------------

# Counts over a script's rounds, printed by pl_summary.
RDONE=0 LOGS=0 WITH_ACKS=0 ACKS=0 LOST=0 LOSSY=0 BROKEN=1
FRESH=${PL_FRESH:-10}

# pl_round_log IT KEY: at the first round, every FRESH rounds and after a
# round that left the log broken (BROKEN set), a new log D=$MNT/lIT signed
# with KEY and an empty $T/exp (the log's entries, one per line).
pl_round_log() {
	[ -z "$BROKEN" ] && [ $((($1 - 1) % FRESH)) -ne 0 ] && return 0
	D=$MNT/l$1
	new_log "$D" "$2" || return 1
	: >"$T/exp"
	BROKEN="" LOGS=$((LOGS + 1))
}

# pl_round_start IT: sets HOW, the way round IT crashes (kill, cut in
# turn), MS, a random delay in MINMS..MAXMS milliseconds, and sleeps it.
pl_round_start() {
	HOW=kill
	[ $(($1 % 2)) -eq 0 ] && HOW=cut
	_min=${MINMS:-0}
	MS=$((_min + $(rand $((MAXMS - _min + 1)))))
	sleep "$((MS / 1000)).$(printf %03d $((MS % 1000)))"
}

# pl_acked N: a round acknowledged N new entries.
pl_acked() {
	[ "$1" -gt 0 ] && WITH_ACKS=$((WITH_ACKS + 1))
	ACKS=$((ACKS + $1))
}

# pl_count_lost TAG N WHAT DETAIL: after the cut of round TAG, N of the
# acknowledged entries WHAT were not at their indexes.
pl_count_lost() {
	LOST=$((LOST + $2))
	if [ "$2" -eq 0 ]; then
		ok "$1: $3 at their indexes"
	else
		LOSSY=$((LOSSY + 1))
		bad "$1: $2 lost or changed of $3 (checkpoint size $S)" "$4"
	fi
}

# pl_round_end TAG: a broken log is kept (PL_KEEP) and replaced next round.
pl_round_end() {
	[ -n "$BROKEN" ] || return 0
	pl_keep "$1" "$D"
	echo "note: a fresh log from the next round on"
}

# pl_summary WRITER DETAIL: the counts, for the README; a skip if no round
# was cut after an acknowledgement.
pl_summary() {
	echo "summary: $1: $RDONE rounds on $LOGS logs in $(($(date +%s) - START))s, ${PL_SYNC_ARGS:-default flags}$2; $WITH_ACKS rounds cut after an acknowledgement; $ACKS acknowledged entries checked at their indexes; lost $LOST (in $LOSSY rounds); LazyFS hung $LZ_HUNG, died by itself $LZ_DIED"
	[ "$RDONE" -gt 0 ] && [ "$WITH_ACKS" -eq 0 ] && skip "no round was cut after an acknowledgement (raise PL_MAXMS)"
	return 0
}

# ---- checks after a cut ------------------------------------------------------

# pl_size D: sets S to D's checkpoint size, -1 when there is none to read.
pl_size() {
	S=$(cp_size "$1" 2>/dev/null)
	case $S in '' | *[!0-9]*) S=-1 ;; esac
}

# pl_read D SIZE: the entries of D (a tree of SIZE) into $T/got, one per
# line (short printable entries only: see entries_range); none if SIZE < 1.
pl_read() {
	: >"$T/got"
	[ "$2" -gt 0 ] && entries_range "$1" "$2" 0 "$2" >"$T/got" 2>/dev/null
	return 0
}

# pl_lost GOT WANT N: how many of the first N lines of WANT (entries, one
# per line, at their indexes) are not the same line of GOT.
pl_lost() {
	head -n "$3" "$1" >"$T/lost.got"
	head -n "$3" "$2" >"$T/lost.want"
	# every line of WANT is compared: a missing one is an empty line
	paste -d '\t' "$T/lost.want" "$T/lost.got" | awk -F '\t' '$1 != $2 { n++ } END { print n + 0 }'
}

# pl_next_writer TAG D KEY VK S: the next writer after the cut, probity add
# of the lines TAG-after-1..3 (TAG short: entries_range reads them back).
# It must append them at S, or at the size of the pending checkpoint
# (checkpoint.tmp, synced but not renamed when the power went) if it
# installs that; and the log must verify. Sets BASE, where they went; the
# lines are in $T/after. Status 1 if not.
pl_next_writer() {
	_pend=$(sed -n 2p "$2/checkpoint.tmp" 2>/dev/null)
	printf '%s-after-1\n%s-after-2\n%s-after-3\n' "$1" "$1" "$1" >"$T/after"
	# shellcheck disable=SC2086
	prb add "$2" --key "$3" "$T/after" $PL_SYNC_ARGS
	_fin=$(last_size "$T/out" 3)
	BASE=$((_fin - 3))
	if [ "$RC" -ne 0 ]; then
		bad "$1: the next writer (probity add) appends" "command: $LASTCMD" "exit $RC, stderr: $(head_of "$T/err")"
		return 1
	fi
	if [ "$BASE" != "$5" ] && [ "$BASE" != "$_pend" ]; then
		bad "$1: the next writer appends at size $5 (or at the pending checkpoint's ${_pend:-none})" "it appended at $BASE"
		return 1
	fi
	if ! _why=$(size_lines_ok "$T/out" "$5" "$_fin") || [ "$(cp_size "$2")" != "$_fin" ]; then
		bad "$1: the next writer's size lines and checkpoint" "$_why" "checkpoint size $(cp_size "$2"), want $_fin"
		return 1
	fi
	ok "$1: the next writer (probity add) appends at $BASE"
	verify_ok "$1: the log verifies after the next writer" "$2" "$4"
	[ "$RC" -eq 0 ]
}

# pl_keep TAG D: keeps a copy of a failing log in PL_KEEP, if set.
pl_keep() {
	[ -n "${PL_KEEP:-}" ] || return 0
	mkdir -p "$PL_KEEP" && cp -R "$2" "$PL_KEEP/$1" && echo "note: log kept in $PL_KEEP/$1"
}

# bundle_offset FILE N: the length of the first N entries of the entry
# bundle FILE (each a 2-byte big-endian length, then its bytes); the
# offsets of a bundle are kept in $T/offsets.*.
bundle_offset() {
	[ -f "$1" ] || return 0
	_of=$T/offsets.$(echo "$1" | cksum | cut -d' ' -f1)
	[ -f "$_of" ] || od -An -v -tu1 "$1" | awk '
		{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END { print 0; for (o = 0; o + 1 < n; ) { o += 2 + b[o] * 256 + b[o + 1]; print o } }' >"$_of"
	sed -n "$(($2 + 1))p" "$_of"
}

# pl_bundles_lost D S REF ACKED: D (checkpoint size S) must hold the same
# entries as the reference log REF (written without a cut), byte for byte:
# each entry bundle of D equals REF's (a partial one, the start of REF's).
# Prints how many of the entries below ACKED are in a bundle that is
# missing or differs, or past S.
pl_bundles_lost() {
	[ "$2" -gt 0 ] || { echo "$4"; return; }
	_lost=0
	[ "$2" -lt "$4" ] && _lost=$(($4 - $2))
	tiles_for_size "$2" | grep '^tile/entries/' >"$T/bundles"
	while read -r _b; do
		_full=${_b%.p/*}
		# tile/entries/x001/234 is bundle 1234: entries 1234*256...
		_n=$(echo "${_full#tile/entries/}" | tr -d 'x/' | sed 's/^0*//')
		_from=$((${_n:-0} * 256)) _w=256
		if [ "$_b" = "$_full" ]; then
			cmp -s "$1/$_b" "$3/$_b" && continue
		else
			_w=${_b##*/}
			_ref=$3/$_full
			[ -f "$_ref" ] || _ref=$(ls -d "$3/$_full.p/"* 2>/dev/null | head -n 1)
			_len=$(bundle_offset "$_ref" "$_w")
			[ -n "$_len" ] && [ "$(wc -c <"$1/$_b" 2>/dev/null)" = "$_len" ] &&
				cmp -s -n "$_len" "$1/$_b" "$_ref" && continue
		fi
		_to=$((_from + _w))
		[ "$_to" -gt "$4" ] && _to=$4
		[ "$_to" -gt "$_from" ] && _lost=$((_lost + _to - _from))
	done <"$T/bundles"
	echo "$_lost"
}
