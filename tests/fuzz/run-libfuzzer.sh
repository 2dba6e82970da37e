#!/bin/sh
# Coverage-guided fuzzing of every tests/fuzz/fuzz_*.c harness with libFuzzer.
#
#   sh tests/fuzz/run-libfuzzer.sh [SECONDS] [HARNESS...]
#
# SECONDS (default 60) is the run time of each harness; HARNESS names
# (the fuzz_<name>.c files: checkpoint, ctdigest, edge, entry,
# evidence_tar, gzip, http, jcs, key, note, policy, proof, records,
# witness) limit the run to those.
# Each harness is built with clang (-fsanitize=fuzzer,address,undefined)
# into build/fuzz/ and run on
# build/fuzz/corpus-<name>, a copy of tests/fuzz/corpus/<name> kept between
# runs, so the committed corpus is never written to. A crash, leak, timeout
# or sanitizer report stops that harness; its reproducer path is printed
# and the script exits non-zero after the remaining harnesses.
# Set CLANG to use another clang, FUZZ_FLAGS for extra libFuzzer options.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
case $SECONDS_EACH in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS] [HARNESS...]; harnesses:" \
		"$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ')" >&2
	exit 2
	;;
esac
CLANG=${CLANG:-clang}
OUT=build/fuzz
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "run-libfuzzer: $CLANG not found; libFuzzer needs clang" >&2
	exit 2
fi
mkdir -p "$OUT" || exit 1

if [ $# -gt 0 ]; then
	names=$*
else
	names=
	for f in tests/fuzz/fuzz_*.c; do
		n=${f#tests/fuzz/fuzz_}
		names="$names ${n%.c}"
	done
fi

# Tokens of the formats, to help the mutator past exact-match checks.
DICT=$OUT/probity.dict
cat >"$DICT" <<'EOF'
"\x0a\x0a"
"\xe2\x80\x94 "
"\xe2\x80\x94"
"+"
"PRIVATE+KEY+"
"\x2bc74f20a3\x2b"
"example.com/log1000"
"witness.example.com/log1000-w1"
"PeterNeumann"
"c2sp.org/tlog-proof@v1\x0a"
"index "
"old "
"old 0\x0a\x0a"
"extra "
"="
"=="
"tile/"
"tile/entries/"
"x000/"
"x999/"
".p/"
"255"
"9223372036854775807"
"18446744073709551615"
"cosignature/v1"
"\xc2\xa0"
"\xe3\x80\x80"
"\\u0000"
"\\ud83d\\ude00"
"\\uffff"
"e+21"
"e-7"
"e-324"
"1.7976931348623157e308"
"9007199254740993"
"-0.0"
"\x0a--\x0a"
"previousDigestSignature"
"previousDigestS3Object"
"SHA256withRSA"
"SHA-256"
"AWSLogs/"
"_backfill"
"-----BEGIN PUBLIC KEY-----"
"\x1f\x8b"
"%00"
"/add?format="
"/tile/entries/"
"gzip"
";q=0"
EOF

status=0
crashes=
for n in $names; do
	src=tests/fuzz/fuzz_$n.c
	bin=$OUT/fuzz_$n
	corpus=$OUT/corpus-$n
	art=$OUT/artifacts-$n
	if [ ! -f "$src" ]; then
		echo "run-libfuzzer: no harness $src" >&2
		status=1
		continue
	fi
	echo "== $n: building $bin"
	# shellcheck disable=SC2086
	if ! "$CLANG" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-D_GNU_SOURCE -Iinclude -Isrc "$src" src/base/*.c src/log/*.c src/ingest/*.c src/audit/*.c src/writer/*.c src/net/*.c -lmicrohttpd -lcurl -lsqlite3 -ljansson -larchive -lz -lcrypto -pthread -o "$bin"; then
		echo "run-libfuzzer: building $n failed" >&2
		status=1
		continue
	fi
	# A working copy of the committed seeds (plus what earlier runs found).
	mkdir -p "$corpus" "$art" || exit 1
	if [ -d "tests/fuzz/corpus/$n" ]; then
		cp -p "tests/fuzz/corpus/$n"/* "$corpus"/ 2>/dev/null
	fi
	echo "== $n: fuzzing for ${SECONDS_EACH}s on $corpus"
	log=$OUT/fuzz_$n.log
	# shellcheck disable=SC2086
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 -dict="$DICT" \
		-artifact_prefix="$art/" ${FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1
	rc=$?
	# Final statistics (the last "#N: cov" line in -fork mode).
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|Done [0-9]+ runs)' \
		"$log" | tail -n 3
	grep -E '^#[0-9]+: cov' "$log" | tail -n 1
	if [ "$rc" -ne 0 ]; then
		status=1
		repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
			tail -n 1)
		echo "!! $n: libFuzzer exited with status $rc; log: $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*invariant violated)' "$log" |
			head -n 5
		if [ -n "$repro" ]; then
			echo "!! reproducer: $repro"
			echo "!!   replay: $bin $repro   (or build/san/fuzz/fuzz_$n $repro)"
			crashes="$crashes $repro"
		fi
	else
		echo "== $n: no crash ($(find "$corpus" -type f | wc -l) inputs in $corpus)"
	fi
done

if [ -n "$crashes" ]; then
	echo
	echo "Crash reproducers:$crashes"
	echo "Keep them under tests/fuzz/crashes/ (never in the corpus) until fixed."
fi
echo
echo "To add the interesting new inputs to the committed corpus, minimise each"
echo "working copy into it (only inputs that add coverage are copied), e.g.:"
for n in $names; do
	[ -d "$OUT/corpus-$n" ] &&
		echo "  $OUT/fuzz_$n -merge=1 tests/fuzz/corpus/$n $OUT/corpus-$n"
done
echo "then review the added files: keep them small and meaningful."
exit $status
