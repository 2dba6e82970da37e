#!/bin/sh
# The program never hands out what it has not checked: proofs from
# corrupt tiles are refused, a checkpoint without a well-formed signature
# by its origin is refused, verify checks the partial tiles and bundles
# kept for earlier checkpoints, and a read error in the middle of `add`
# keeps (and reports) what was read before it.
. "$(dirname "$0")/lib.sh"

VK=$("$PROBITY" keygen test.example/integrity -o "$T/key")
L=$T/log
"$PROBITY" init "$L" --key "$T/key"
seq 1 300 | "$PROBITY" add "$L" --key "$T/key" >/dev/null
echo 301 | "$PROBITY" add "$L" --key "$T/key" >/dev/null

refuses() { # refuses MSG PATTERN CMD...: CMD fails, one line, matching
	m=$1 pat=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
		grep -q "$pat" "$T/err"; then
		ok "$m"
	else
		bad "$m" "exit $rc" "stdout: $(head -c 200 "$T/out")" "stderr: $(cat "$T/err")"
	fi
}

section "proofs are checked before they are printed"
cp -r "$L" "$T/c1"
printf 'x' | dd of="$T/c1/tile/0/000" bs=1 seek=40 conv=notrunc 2>/dev/null
refuses "prove refuses when a tile is corrupt" "run probity verify" \
	"$PROBITY" prove "$T/c1" 5
refuses "consistency refuses when a tile is corrupt" "run probity verify" \
	"$PROBITY" consistency "$T/c1" 10
"$PROBITY" prove "$T/c1" 290 >/dev/null 2>&1
eq "a proof that does not touch the corrupt tile is still given" "$?" 0
cp -r "$L" "$T/c2"
printf "x" | dd of="$T/c2/tile/entries/000" bs=1 seek=2 conv=notrunc 2>/dev/null # entry 0
refuses "prove refuses an entry that does not match its tile" "verify" \
	"$PROBITY" prove "$T/c2" 0

section "a checkpoint must carry a well-formed signature by its origin"
cp -r "$L" "$T/c3"
head -c $(($(wc -c <"$L/checkpoint") - 10)) "$L/checkpoint" >"$T/c3/checkpoint"
refuses "checkpoint refuses a truncated checkpoint" "checkpoint" \
	"$PROBITY" checkpoint "$T/c3"
refuses "prove refuses a truncated checkpoint" "checkpoint" \
	"$PROBITY" prove "$T/c3" 1
cp -r "$L" "$T/c4"
{ head -n 4 "$L/checkpoint"; echo "garbage"; } >"$T/c4/checkpoint"
refuses "a garbage signature line is refused" "malformed" \
	"$PROBITY" checkpoint "$T/c4"
cp -r "$L" "$T/c5"
{ head -n 4 "$L/checkpoint"; printf '\342\200\224 someone.else AAAAAAAAAAAA\n'; } >"$T/c5/checkpoint"
refuses "a checkpoint signed only by another name is refused" "no signature" \
	"$PROBITY" checkpoint "$T/c5"

section "partials kept for earlier checkpoints are verified"
for f in tile/0/001.p/44 tile/entries/001.p/44; do
	rm -rf "$T/c6"
	cp -r "$L" "$T/c6"
	if [ -f "$T/c6/$f" ]; then
		printf 'x' | dd of="$T/c6/$f" bs=1 seek=7 conv=notrunc 2>/dev/null
		refuses "verify finds a corrupt $f" "$f" \
			"$PROBITY" verify "$T/c6" --vkey "$VK"
	else
		bad "the size-300 checkpoint's $f is kept" "missing"
	fi
done
"$PROBITY" verify "$L" --vkey "$VK" >/dev/null 2>&1
eq "the untouched log verifies" "$?" 0

section "a read error in the middle of add"
printf 'a\nb\nc\n' >"$T/f1"
mkdir "$T/adir"
"$PROBITY" add "$L" --key "$T/key" "$T/f1" "$T/adir" >"$T/out" 2>"$T/err"
eq "add fails" "$?" 1
eq "the lines read before are committed" "$(tail -n 1 "$T/out")" "size 304"
if grep -q "3 entries from this run were committed (log size 304)" "$T/err"; then
	ok "and the error says so"
else
	bad "the error says what was committed" "$(cat "$T/err")"
fi
finish
