#!/bin/sh
# Runs every test against each build named (build/rel, build/san) and prints the
# total as "N passed, N failed, N skipped". Each test program or script
# prints its own "<name>: N passed, N failed, N skipped" line, which is
# summed here; a program that exits non-zero without such a line counts as
# one failure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
export PRB_SHARED="${PRB_SHARED:-$ROOT/../shared}"
if [ ! -d "$PRB_SHARED" ]; then
	echo "note: $PRB_SHARED not found: tests that need the shared vectors and data will skip"
fi
pass=0 fail=0 skip=0
run() {
	name=$1; shift
	out=$("$@" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -n 30
		echo "$name: no result line (exit $rc)"
		fail=$((fail + 1)); return
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p'); s=${s:-0}
	if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
		printf '%s\n' "$out" | grep -E 'FAIL|SKIP|error' | head -n 40
		[ "$f" -eq 0 ] && f=1
	fi
	printf '%s\n' "$out" | grep -E '^SKIP' | head -n 5
	echo "[$BUILD] $line"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}
[ $# -gt 0 ] || set -- build/rel
for BUILD in "$@"; do
export PROBITY="$ROOT/$BUILD/probity"
export PRB_BUILD="$ROOT/$BUILD"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && run "$(basename "$t")" "$t"
done
for h in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$h" ] || continue
	n=$(basename "$h")
	run "$n" "$h" "tests/fuzz/corpus/${n#fuzz_}"
done
for s in tests/cli/test_*.sh tests/interop/test_*.sh tests/powerloss/test_*.sh tests/s3/test_*.sh; do
	[ -f "$s" ] && run "$(basename "$s")" sh "$s"
done
done
echo "total: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
