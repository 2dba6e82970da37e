#!/bin/sh
# Memory stays bounded as the log grows: the peak resident size of
# verify, prove, consistency and a small add is the same (within a
# margin) on a log of 1,000 entries and on one of 300,000, because the
# program holds only the right edge of the tree and the tiles it reads.
. "$(dirname "$0")/lib.sh"

if [ ! -x /usr/bin/time ]; then
	skip "GNU time (/usr/bin/time) is not installed"
	finish
fi
VK=$("$PROBITY" keygen test.example/mem -o "$T/key")
mklog() { # mklog DIR N
	"$PROBITY" init "$1" --key "$T/key" &&
		awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "mem-entry-%09d-padding-padding\n", i }' |
		"$PROBITY" add "$1" --key "$T/key" >/dev/null
}
mklog "$T/small" 1000
mklog "$T/large" 300000
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "more-%d\n", i }' >"$T/more"

rss() { # rss CMD... -> peak resident KiB
	/usr/bin/time -f '%M' -o "$T/rss" "$@" >/dev/null 2>"$T/err" ||
		{ echo "FAIL: $*: $(cat "$T/err")" >&2; echo 999999999; return; }
	tail -n 1 "$T/rss"
}
MARGIN=16384 # KiB
# ASan keeps freed blocks in quarantine (256 MiB by default), which would
# look like growth: keep it small here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
for c in "verify @ --vkey $VK" "prove @ 999" "consistency @ 1" "add @ --key $T/key $T/more"; do
	# shellcheck disable=SC2086
	s=$(rss "$PROBITY" $(echo "$c" | sed "s|@|$T/small|"))
	# shellcheck disable=SC2086
	l=$(rss "$PROBITY" $(echo "$c" | sed "s|@|$T/large|"))
	name=$(echo "$c" | cut -d' ' -f1)
	if [ "$l" -le $((s + MARGIN)) ]; then
		ok "$name: peak RSS ${l} KiB at 300,000 entries vs ${s} KiB at 1,000"
	else
		bad "$name: memory grows with the log" "${s} KiB at 1,000 entries, ${l} KiB at 300,000"
	fi
done
finish
