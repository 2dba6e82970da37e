#!/bin/sh
# Storage faults with the real filesystem store, end to end: a full disk
# (a small tmpfs, when this machine lets us mount one) and a write refused
# by the kernel (RLIMIT_FSIZE, SIGXFSZ ignored). Each time `probity add`
# must fail with one clear line naming the file, must not acknowledge the
# failed batch, and must leave a log that verifies and grows once the
# fault is gone.
. "$(dirname "$0")/lib.sh"

lines() { # lines N LEN PREFIX: N lines of LEN bytes
	awk -v n="$1" -v len="$2" -v p="$3" 'BEGIN {
		pad = ""; while (length(pad) < len) pad = pad "abcdefghijklmnopqrstuvwxyz0123456789";
		for (i = 0; i < n; i++) { s = p "-" i "-" pad; print substr(s, 1, len) } }'
}

VK=$("$PROBITY" keygen test.example/disk -o "$T/key")

# after_fault LOG OUT ERR WHAT: the run failed cleanly and the log is whole.
after_fault() {
	last=$(grep '^size ' "$2" | tail -n 1 | cut -d' ' -f2)
	last=${last:-$4}
	n=$(wc -l <"$3")
	eq "$5: one line on stderr" "$n" 1
	if grep -q 'was NOT committed' "$3" && grep -q "$6" "$3"; then
		ok "$5: error says what failed and that the batch is not committed"
	else
		bad "$5: error message" "$(cat "$3")"
	fi
	if "$PROBITY" verify "$1" --vkey "$VK" >/dev/null 2>"$T/verr"; then
		ok "$5: the log verifies"
	else
		bad "$5: the log verifies" "$(cat "$T/verr")"
	fi
	size=$(sed -n 2p "$1/checkpoint")
	eq "$5: checkpoint size is the last acknowledged size" "$size" "$last"
}

section "full disk: a 1 MiB tmpfs"
M="$T/mnt"
mkdir -p "$M"
if mount -t tmpfs -o size=1m tmpfs "$M" 2>/dev/null; then
	"$PROBITY" init "$M/log" --key "$T/key"
	lines 200 100 a >"$T/a"
	"$PROBITY" add "$M/log" --key "$T/key" "$T/a" >"$T/out" 2>"$T/err"
	eq "small add fits" "$?" 0
	lines 20000 200 b >"$T/b" # 4 MB: cannot fit
	"$PROBITY" add "$M/log" --key "$T/key" "$T/b" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -ne 0 ] && ok "add on a full disk fails" ||
		bad "add on a full disk fails" "exit $rc"
	after_fault "$M/log" "$T/out" "$T/err" 200 "full disk" "No space left"
	# the failed batch removed what it wrote: the log grows again
	lines 100 100 c >"$T/c"
	before=$(sed -n 2p "$M/log/checkpoint")
	"$PROBITY" add "$M/log" --key "$T/key" "$T/c" >"$T/out" 2>"$T/err"
	eq "after the full disk, add works again" "$?" 0
	eq "size grew by 100" "$(sed -n 2p "$M/log/checkpoint")" "$((before + 100))"
	"$PROBITY" verify "$M/log" --vkey "$VK" >/dev/null 2>&1
	eq "and verifies" "$?" 0
	umount "$M"
else
	skip "cannot mount a tmpfs here (not root, or not allowed): full-disk case"
fi

section "a write refused by the kernel (file size limit)"
L="$T/log"
"$PROBITY" init "$L" --key "$T/key"
lines 300 100 d >"$T/d"
"$PROBITY" add "$L" --key "$T/key" "$T/d" >/dev/null
lines 5000 1000 e >"$T/e"
(trap '' XFSZ; ulimit -f 32; exec "$PROBITY" add "$L" --key "$T/key" "$T/e") \
	>"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -ne 0 ] && ok "add fails when writes are refused" ||
	bad "add fails when writes are refused" "exit $rc"
after_fault "$L" "$T/out" "$T/err" 300 "refused write" "File too large"
"$PROBITY" add "$L" --key "$T/key" "$T/e" >/dev/null 2>"$T/err"
eq "without the limit the same input is added" "$?" 0
eq "size 5300" "$(sed -n 2p "$L/checkpoint")" 5300
"$PROBITY" verify "$L" --vkey "$VK" >/dev/null 2>"$T/err"
eq "and the log verifies" "$?" 0
finish
