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
finish
