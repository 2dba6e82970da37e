#!/bin/sh
# The log on object storage (probity init --store s3://BUCKET/PREFIX)
# against a real single-node Ceph RGW (tests/s3/ceph.sh, on random ports on
# 127.0.0.1, stopped at exit): what the filesystem log's CLI tests cover --
# init, add, checkpoint, prove, consistency, verify, ingest, audit,
# reindex, serve (+ --redirect) -- each result checked against known
# answers (the log1000 vectors of golang.org/x/mod/sumdb) and against the
# bucket's objects read straight over S3; plus: a writer's open fences the
# checkpoint, a second DIR attached to the same log, a writer another one
# took over loses its commit and forks nothing, a planted object at a tile
# path stops the writer with a clear message, and a commit whose answer
# was lost is settled (in the store, and by the writer's reopen).
# Skips without Ceph.
#
# Env: PROBITY (binary), VERBOSE=1.
set -u
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/ceph.sh"

BK=probity-basic
ceph_fixture "$BK"
URL1=s3://$BK/logs/one
O1=/$BK/logs/one # the same log's objects, for s3 GET

# The log1000 vectors (test_cli.sh has them with their provenance).
V_SKEY='PRIVATE+KEY+example.com/log1000+1421a28f+ASk80HwVCn7AdUdc75dD/pLGqR/JdQEkOVkkA9AwiWzX'
V_VKEY='example.com/log1000+1421a28f+ARteS+cPHncoRMO3XRdmEdbOhKXJLvdAigE0ES6StKKE'
V_SIG1000='FCGij9qPYyDbFxFK1KJdSTw/HeqyJJt129aGdjU+asclvAczTOGWasMb4Yek6zwy2X7KYMNIrytWpCdDIJpybl9cYgs='
ROOT256=+F9OrTQIBxC00egIMBVDqquBqgTeuIWZNQ3Cak8vWN4=
ROOT1000=0D1jt3KvmQGYF+4+AYKG02omFhvbW/6CKOksAqvpEV0=
CONS_256_1000='MUv1ErFfDGcUlQkVAv4BKFNFh6BHpM8ERmyt+nSDzB0=
0pUD4PYEmhlTwaL9L5UWJJha89FXWrJMM0Mcaywfuik='
K=$T/v.key
printf '%s\n' "$V_SKEY" >"$K"
chmod 600 "$K"

# bucket_cp PREFIXPATH: the checkpoint object, straight from S3, to $T/bcp
bucket_cp() { s3 GET "$1/checkpoint" >"$T/bcp"; }
# size_of FILE: line 2 of a checkpoint
size_of() { sed -n 2p "$1"; }

# ---------------------------------------------------------------------------
section "init --store"
L=$T/log
expect_ok "init DIR --store $URL1" init "$L" --key "$K" --store "$URL1"
eq "DIR/store names the log's store" "$(cat "$L/store")" "$URL1"
check "DIR holds no tiles and no checkpoint" test ! -e "$L/tile" -a ! -e "$L/checkpoint"
bucket_cp "$O1"
eq "the size-0 checkpoint is the object PREFIX/checkpoint" "$S3_CODE/$(size_of "$T/bcp")" 200/0
expect_fail "init again on the same DIR" init "$L" --key "$K" --store "$URL1"
new_key other.example/log "$T/o.key"
expect_fail "init of a DIR for another key's log on that prefix is refused" \
	init "$T/other" --key "$T/o.key" --store "$URL1"
err_has "it says whose log is there" "example.com/log1000"
check "the refused DIR names no store" test ! -e "$T/other/store"
expect_fail "a malformed bucket name" init "$T/bad" --key "$K" --store s3://Bad_Bucket/x
err_has "is named as such" "bucket name"
expect_fail "a prefix with a .. segment" init "$T/bad2" --key "$K" --store "s3://$BK/a/../b"
prb init "$T/nocreds" --key "$K" --store "s3://$BK/logs/nocreds"
prb_nocreds() { env -u AWS_ACCESS_KEY_ID "$PROBITY" "$@" >"$T/out" 2>"$T/err"; RC=$?; }
prb_nocreds checkpoint "$T/nocreds"
check "without AWS_ACCESS_KEY_ID a command fails" test "$RC" -ne 0
err_has "naming the variable" "AWS_ACCESS_KEY_ID"
env AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 "$PROBITY" checkpoint "$L" >"$T/out" 2>"$T/err"
check "a wrong secret: the command fails" test $? -ne 0
err_has "naming the object by its URL, with S3's answer" "^probity checkpoint: $URL1/checkpoint: GET answered HTTP 403"

# ---------------------------------------------------------------------------
section "add, and the objects at their tlog-tiles paths"
gen_lines entry- 0 255 >"$T/a1"
gen_lines entry- 256 999 >"$T/a2"
prb add "$L" --key "$K" "$T/a1"
eq "add 256 entries" "$RC/$(cat "$T/out")" "0/size 256"
bucket_cp "$O1"
eq "the bucket's checkpoint has the known root of size 256" "$(sed -n 3p "$T/bcp")" "$ROOT256"
prb add "$L" --key "$K" "$T/a2"
eq "add 744 more" "$RC/$(cat "$T/out")" "0/size 1000"
bucket_cp "$O1"
eq "root of size 1000 is the known one" "$(sed -n 3p "$T/bcp")" "$ROOT1000"
check "the checkpoint carries the known signature of size 1000" \
	grep -qxF "— example.com/log1000 $V_SIG1000" "$T/bcp"
expect_ok "probity checkpoint" checkpoint "$L"
cmp -s "$T/out" "$T/bcp" && ok "probity checkpoint prints the bucket's object" ||
	bad "probity checkpoint prints the bucket's object" "$(head_of "$T/out")"
for o in tile/0/000:8192 tile/0/002:8192 tile/0/003.p/232:7424 tile/1/000.p/3:96 \
	tile/entries/000: tile/entries/003.p/232:; do
	n=${o%%:*} want=${o#*:}
	s3 GET "$O1/$n" >"$T/obj"
	got=$(wc -c <"$T/obj")
	if [ "$S3_CODE" = 200 ] && { [ -z "$want" ] || [ "$got" = "$want" ]; }; then
		ok "object $n (${got} bytes)"
	else bad "object PREFIX/$n" "HTTP $S3_CODE, $got bytes, want ${want:-any}"; fi
done
eq "an entry bundle holds the entries, length-prefixed" \
	"$(s3 GET "$O1/tile/entries/000" | head -c 9 | od -An -c | tr -s ' ')" " \\0 \\a e n t r y - 0"
gen_lines entry- 1000 1023 >"$T/a3"
prb add "$L" --key "$K" "$T/a3"
eq "add 24 more: tile 3 is full" "$RC/$(cat "$T/out")" "0/size 1024"
s3 GET "$O1/tile/0/003" >/dev/null
eq "the full tile is written" "$S3_CODE" 200
s3 GET "/$BK?delimiter=%2F&list-type=2&prefix=logs%2Fone%2Ftile%2F0%2F003.p%2F" >"$T/list"
check "and the partials of it are gone (ListObjectsV2 finds none)" \
	grep -q "<KeyCount>0</KeyCount>" "$T/list"

# ---------------------------------------------------------------------------
section "prove, consistency, verify"
prb prove "$L" 5
eq "prove 5" "$RC" 0
cp "$T/out" "$T/proof5"
printf 'entry-5' >"$T/e5"
expect_ok "verify-proof accepts it" verify-proof "$T/proof5" "$T/e5" --vkey "$V_VKEY"
printf 'entry-6' >"$T/e6"
expect_fail "and refuses another entry" verify-proof "$T/proof5" "$T/e6" --vkey "$V_VKEY"
prb consistency "$L" 256 1000
eq "consistency 256 1000 is the known proof" "$RC/$(cat "$T/out")" "0/$CONS_256_1000"
expect_ok "verify recomputes every tile from the bucket" verify "$L" --vkey "$V_VKEY"
check "of size 1024" grep -q "size 1024, every tile" "$T/out"

# ---------------------------------------------------------------------------
section "the fence: a writer deletes leftovers only behind a fence"
bucket_cp "$O1"
cp "$T/bcp" "$T/before"
prb add "$L" --key "$K" /dev/null
bucket_cp "$O1"
eq "a writer with nothing to clean up leaves the checkpoint alone" "$RC/$(sha256sum <"$T/bcp")" "0/$(sha256sum <"$T/before")"
s3 PUT "$O1/tile/0/004.p/9" --data-binary leftover >/dev/null
eq "a leftover planted beyond the checkpoint (a partial of tile 4)" "$S3_CODE" 200
prb add "$L" --key "$K" /dev/null
eq "add of nothing" "$RC" 0
s3 GET "$O1/tile/0/004.p/9" >/dev/null
eq "the writer's open removed the leftover" "$S3_CODE" 404
bucket_cp "$O1"
check "after fencing: the checkpoint has a probity-fence line" grep -q "^— probity-fence " "$T/bcp"
eq "and is otherwise the same" "$(grep -v '^— probity-fence ' "$T/bcp" | sha256sum)" "$(sha256sum <"$T/before")"
expect_ok "and verifies (an unknown signature is ignored)" verify "$L" --vkey "$V_VKEY"

# ---------------------------------------------------------------------------
section "a second DIR attached to the same log"
L2=$T/log2
expect_ok "init DIR2 --store on the existing log of the same key" init "$L2" --key "$K" --store "$URL1"
check "says it attached, at size 1024" grep -q "attached .* (origin example.com/log1000, size 1024)" "$T/out"
gen_lines from2- 1 10 >"$T/b1"
prb add "$L2" --key "$K" "$T/b1"
eq "add through DIR2" "$RC/$(cat "$T/out")" "0/size 1034"
gen_lines from1- 1 10 >"$T/b2"
prb add "$L" --key "$K" "$T/b2"
eq "then through DIR1, which goes on from there" "$RC/$(cat "$T/out")" "0/size 1044"
expect_ok "verify through DIR2" verify "$L2" --vkey "$V_VKEY"

# ---------------------------------------------------------------------------
section "ingest, audit, reindex"
new_key audit-test.example/log "$T/ak" && AVK=$VK
LA=$T/alog
expect_ok "init a second log on another prefix" init "$LA" --key "$T/ak" --store "s3://$BK/logs/audit"
EV=$(cd "$(dirname "$0")/../cli/audit/events" && pwd)
prb ingest "$LA" --key "$T/ak" "$EV"
eq "ingest of the audit events" "$RC" 0
check "15 records, 15 new" grep -q "15 records, 15 new, 0 duplicates; log size 15" "$T/out"
check "DIR holds the index" test -s "$LA/index.sqlite"
prb ingest "$LA" --key "$T/ak" "$EV"
check "a second ingest adds nothing" grep -q "15 records, 0 new, 15 duplicates; log size 15" "$T/out"
PACK=$(cd "$(dirname "$0")/../../policies" && pwd)
mkdir "$T/pol"
for id in residency.outside-allowed-regions concealment.audit-trail-disabled privileged.aws-root-use; do
	f=$(grep -l "^-- id: $id\$" "$PACK"/*.sql | head -n 1)
	[ -n "$f" ] && cp "$f" "$T/pol/"
done
prb audit "$LA" --policies "$T/pol" --out "$T/ev"
eq "audit" "$RC" 0
check "finds what the filesystem log's test finds" \
	grep -q "with 3 policies: 8 findings (critical 4, high 3, medium 1" "$T/out"
bucket_cp "/$BK/logs/audit"
cmp -s "$T/ev/checkpoint" "$T/bcp" && ok "the evidence's checkpoint is the bucket's" ||
	bad "the evidence's checkpoint is the bucket's"
expect_ok "verify-evidence" verify-evidence "$T/ev" --vkey "$AVK"
rm -f "$LA/index.sqlite"
prb reindex "$LA"
eq "reindex rebuilds the index from the bucket" "$RC/$(cat "$T/out")" "0/reindexed $LA: 15 entries"
expect_ok "verify compares the index row by row" verify "$LA" --vkey "$AVK"
check "and it matches" grep -q "index: matches the log, row by row" "$T/out"

# ---------------------------------------------------------------------------
section "serve reads the bucket"
AT=append-token-0123456789abcdef
printf 'read,append %s\n' "$AT" >"$T/tokens"
chmod 600 "$T/tokens"
A="Authorization: Bearer $AT"
if start_server s serve "$L" --key "$K" --listen 127.0.0.1:0 --tokens "$T/tokens" --public; then
	ok "serve on an S3 log"
	bucket_cp "$O1"
	http "$URL/checkpoint"
	cmp -s "$T/body" "$T/bcp" && ok "GET /checkpoint is the bucket's" || bad "GET /checkpoint is the bucket's" "HTTP $CODE"
	for n in tile/0/000 tile/1/000.p/4 tile/entries/003; do
		http "$URL/$n"
		s3 GET "$O1/$n" >"$T/obj"
		if [ "$CODE" = 200 ] && cmp -s "$T/body" "$T/obj"; then ok "GET /$n is the object's bytes"
		else bad "GET /$n is the object's bytes" "HTTP $CODE"; fi
	done
	http "$URL/tile/0/009"
	eq "a tile beyond the tree is 404" "$CODE" 404
	http -H "$A" --data-binary "$(printf 'p1\np2\np3')" "$URL/add"
	eq "POST /add" "$CODE/$(tr '\n' ' ' <"$T/body")" "200/1044 1045 1046 "
	bucket_cp "$O1"
	eq "committed to the bucket" "$(size_of "$T/bcp")" 1047
	stop_server "$SPID"
else
	bad "serve on an S3 log" "$(head_of "$T/s.err")"
fi

section "serve --redirect"
check "the bucket is made public-read" ceph_public_read "$BK"
PUB=$AWS_ENDPOINT_URL/$BK/logs/one
if start_server r serve "$L" --key "$K" --listen 127.0.0.1:0 --public --redirect "$PUB/"; then
	CODE=$(curl -s -m 30 -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/tile/0/001")
	eq "a tile GET answers 302 to the bucket's URL" "$CODE" "302 $PUB/tile/0/001"
	curl -s -m 30 -L -o "$T/viaredirect" "$URL/tile/entries/001"
	s3 GET "$O1/tile/entries/001" >"$T/obj"
	cmp -s "$T/viaredirect" "$T/obj" && ok "following it gives the object's bytes (anonymous GET)" ||
		bad "following the redirect gives the object's bytes"
	http "$URL/tile/0/099"
	eq "a tile beyond the tree is still 404" "$CODE" 404
	http "$URL/checkpoint"
	eq "GET /checkpoint is served, not redirected" "$CODE/$(size_of "$T/body")" 200/1047
	stop_server "$SPID"
else
	bad "serve --redirect" "$(head_of "$T/r.err")"
fi

# ---------------------------------------------------------------------------
section "a writer another one took over commits nothing"
if start_server w serve "$L" --key "$K" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
	WPID=$SPID WURL=$URL
	http -H "$A" --data-binary "w1" "$WURL/add"
	eq "writer A (serve on DIR1) appends" "$CODE/$(cat "$T/body")" "200/1047"
	prb add "$L2" --key "$K" "$T/b1"
	eq "writer B (add on DIR2) appends" "$RC/$(cat "$T/out")" "0/size 1058"
	http -H "$A" --data-binary "w2" "$WURL/add"
	eq "A's next batch is not committed" "$CODE" 500
	if grep -Eq "another writer changed the checkpoint|already holds other bytes" "$T/w.err"; then
		ok "A says another writer took over"
	else bad "A says another writer took over" "$(head_of "$T/w.err" 5)"; fi
	bucket_cp "$O1"
	eq "the log is B's" "$(size_of "$T/bcp")" 1058
	http -H "$A" --data-binary "w3" "$WURL/add"
	eq "A, reopened, appends after B's entries" "$CODE/$(cat "$T/body")" "200/1058"
	stop_server "$WPID"
else
	bad "serve (writer A)" "$(head_of "$T/w.err")"
fi
expect_ok "no fork: the log verifies" verify "$L" --vkey "$V_VKEY"
check "at size 1059" grep -q "size 1059," "$T/out"

# ---------------------------------------------------------------------------
section "write once: a planted object at a tile path stops the writer"
if start_server p serve "$L" --key "$K" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
	http -H "$A" --data-binary "q0" "$URL/add"
	eq "an append (the writer is in tile/entries/)" "$CODE/$(cat "$T/body")" "200/1059"
	s3 PUT "$O1/tile/entries/004" --data-binary planted >/dev/null
	eq "an object planted where bundle 4 will go" "$S3_CODE" 200
	gen_lines q 1 220 >"$T/q"
	http -H "$A" --data-binary "@$T/q" "$URL/add"
	eq "the batch that fills bundle 4 is not committed" "$CODE" 500
	if grep -q "tile/entries/004: the bucket already holds other bytes" "$T/p.err"; then
		ok "the writer names the object and why"
	else bad "the writer names the object and why" "$(head_of "$T/p.err" 5)"; fi
	bucket_cp "$O1"
	eq "the checkpoint is unchanged" "$(size_of "$T/bcp")" 1060
	http -H "$A" --data-binary "@$T/q" "$URL/add"
	eq "reopened, the writer removed what no checkpoint names and goes on" "$CODE/$(head -n 1 "$T/body")" "200/1060"
	stop_server "$SPID"
else
	bad "serve (plant)" "$(head_of "$T/p.err")"
fi
expect_ok "the log verifies" verify "$L" --vkey "$V_VKEY"
check "at size 1280" grep -q "size 1280," "$T/out"

# ---------------------------------------------------------------------------
section "a commit whose answer is lost"
CC=${CC:-cc}
if $CC -shared -fPIC -o "$T/shim.so" "$(dirname "$0")/shim_s3.c" -ldl 2>"$T/cc.err"; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	# a process's first conditional PUT sends the ETag quoted, which RGW
	# refuses; the second, unquoted, is the commit that takes effect
	gen_lines lost- 1 5 >"$T/c1"
	PRB_S3SHIM=put:2:1 LD_PRELOAD="$T/shim.so" "$PROBITY" add "$L" --key "$K" "$T/c1" >"$T/out" 2>"$T/err"
	eq "the retry finds the commit in place: acknowledged" "$?/$(cat "$T/out")" "0/size 1285"
	check "(the answer was lost)" grep -q "shim: the answer to PUT .*checkpoint" "$T/err"
	bucket_cp "$O1"
	eq "the bucket has it" "$(size_of "$T/bcp")" 1285
	gen_lines lost- 6 10 >"$T/c2"
	PRB_S3SHIM=all:2:16 LD_PRELOAD="$T/shim.so" "$PROBITY" add "$L" --key "$K" "$T/c2" >"$T/out" 2>"$T/err"
	eq "every answer lost, reading back too: add fails but acknowledges the batch" "$?/$(cat "$T/out")" "1/size 1290"
	check "it says the batch was in doubt and turned out committed" \
		grep -q "may or may not have been replaced.*turned out committed" "$T/err"
	bucket_cp "$O1"
	eq "the bucket has it" "$(size_of "$T/bcp")" 1290
	expect_ok "the log verifies" verify "$L" --vkey "$V_VKEY"
else
	skip "cannot build the fault shim: $(head -n 1 "$T/cc.err")"
fi

# ---------------------------------------------------------------------------
section "serve on an S3 log: at most 16 objects held at once"
# serve reads an object whole through the store and holds it until sent;
# 100 downloads of a 16 MiB bundle at 4 MB/s each would hold 1.6 GB
# without the bound. With it: 16 held (256 MiB), the others wait up to
# 5 s for a slot, then get 503 with Retry-After.
BL=$T/biglog
new_key big.example/log "$T/big.key"
expect_ok "init a log of 16 MiB bundles" init "$BL" --key "$T/big.key" --store "s3://$BK/logs/big"
head -c 65535 /dev/zero | tr '\0' b >"$T/line"
i=0
while [ "$i" -lt 256 ]; do cat "$T/line"; echo; i=$((i + 1)); done >"$T/lines"
"$PROBITY" add "$BL" --key "$T/big.key" <"$T/lines" >/dev/null 2>&1
s3 GET "/$BK/logs/big/tile/entries/000" >"$T/bundle"
eq "the bucket holds a full bundle of 256 entries of 65,535 bytes" "$S3_CODE/$(wc -c <"$T/bundle")" 200/16777472
if start_server big serve "$BL" --key "$T/big.key" --listen 127.0.0.1:0 --public --per-client 250; then
	i=0 pids=""
	while [ "$i" -lt 100 ]; do
		curl -s -m 90 --limit-rate 4M -o "$T/dl.$i" -D "$T/dl.$i.hdr" -w '%{http_code}' "$URL/tile/entries/000" >"$T/dl.$i.code" &
		pids="$pids $!"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	wait $pids
	peak=$(hwm "$SPID")
	stop_server "$SPID"
	served=0 busy=0 wrong=0
	i=0
	while [ "$i" -lt 100 ]; do
		case $(cat "$T/dl.$i.code") in
		200) if cmp -s "$T/dl.$i" "$T/bundle"; then served=$((served + 1)); else wrong=$((wrong + 1)); fi ;;
		503) if grep -qi '^retry-after: 1' "$T/dl.$i.hdr"; then busy=$((busy + 1)); else wrong=$((wrong + 1)); fi ;;
		*) wrong=$((wrong + 1)) ;;
		esac
		i=$((i + 1))
	done
	echo "100 downloads: $served served whole, $busy answered 503; peak RSS of serve ${peak:-?} kB"
	eq "every download is the bundle's bytes or 503 with Retry-After" "$wrong" 0
	check "at least the 16 slots' worth were served" test "$served" -ge 16
	# the bound: 16 x 16 MiB held plus the program (1 GiB under ASan,
	# whose allocator keeps freed memory in quarantine); one held copy
	# per download would be 1.6 GB
	lim=524288
	case $PROBITY in */san/*) lim=1048576 ;; esac
	if [ -n "$peak" ] && [ "$peak" -lt "$lim" ]; then ok "peak RSS ${peak} kB < $lim kB"; else bad "peak RSS ${peak:-?} kB under $lim kB"; fi
	rm -f "$T"/dl.*
else
	bad "serve on the big log" "$(head_of "$T/big.err")"
fi

finish
