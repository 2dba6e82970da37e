#!/bin/sh
# Hostile files (issue 13): a log directory others can write to never
# makes a writer read or write outside it. For every file a writer
# creates (checkpoint.tmp, NAME.tmp, full and partial tiles of the tree
# and of entries, blobs, index.sqlite and its journal), a symbolic link,
# a FIFO or a hard link planted before `add` / `ingest` / serve's writer
# runs, and planted while it runs, is refused with a message naming the
# file, and the file outside is unchanged. (Lock: flock on the directory
# itself; there is no lock file to plant.) Signer and witness key files
# readable by group or others are refused, as ssh refuses them.
set -u
# a FIFO that hangs a regression is cut short
PRB_TIMEOUT=${PRB_TIMEOUT:-60}
. "$(dirname "$0")/lib.sh"

new_key hostile.example/log "$T/k" || finish
OUT=$T/outside
printf 'precious bytes outside the log\n' >"$OUT"
OSHA=$(fsha "$OUT")
ODIR=$T/outdir
mkdir -p "$ODIR"

# untouched MSG: the outside file and directory are as they were
untouched() {
	eq "$1: the file outside is unchanged" "$(fsha "$OUT")" "$OSHA"
	eq "$1: nothing was made in the directory outside" "$(ls -A "$ODIR")" ""
}
# refused MSG NAME: the last command failed, not by a signal or timeout,
# with a message naming NAME and saying it refused; nothing outside changed
refused() {
	if [ "$RC" -ne 0 ] && [ "$RC" -lt 124 ]; then ok "$1: fails"; else
		bad "$1: fails" "command: $LASTCMD" "exit $RC, stderr: $(head_of "$T/err")"; fi
	err_has "$1: the message names the file and the refusal" "$2.*refused"
	untouched "$1"
}
# fresh DIR [N]: a new log with N (default 0) entries a1..aN
fresh() {
	rm -rf "$1"
	new_log "$1" "$T/k" || finish
	if [ "${2:-0}" -gt 0 ]; then
		gen_lines a 1 "$2" | "$PROBITY" add "$1" --key "$T/k" >/dev/null || bad "prefill $1"
	fi
}

# ---------------------------------------------------------------------------
section "add: links planted before the writer runs"
L=$T/log
# plant WHAT NAME: WHAT is sym (link to the outside file), dsym (link to
# the outside directory), fifo or hard (a hard link to the outside file)
plant() {
	mkdir -p "$(dirname "$L/$2")"
	case $1 in
	sym) ln -s "$OUT" "$L/$2" ;;
	dsym) ln -s "$ODIR" "$L/$2" ;;
	fifo) mkfifo "$L/$2" ;;
	hard) ln "$OUT" "$L/$2" ;;
	esac
}
# not_followed MSG NAME: the last command either refused NAME (refused)
# or succeeded having removed or replaced the planted NAME (a name past
# the checkpoint is the writer's to remove) with a log that verifies;
# either way nothing outside changed
not_followed() {
	if [ "$RC" -ne 0 ]; then refused "$1" "$2"; return; fi
	check "$1: the planted name is gone or a regular file" test ! -L "$L/$2" -a ! -p "$L/$2"
	_rc=$RC
	prb verify "$L" --vkey "$VKL"
	eq "$1: the log verifies" "$RC" 0
	RC=$_rc
	untouched "$1"
}
VKL=$VK
# case_add WHAT NAME PREFILL LINES [MODE]: NAME planted in a log of
# PREFILL entries, then LINES more added (which creates NAME); MODE
# refused (default) or not_followed
case_add() {
	fresh "$L" "$3"
	plant "$1" "$2"
	gen_lines b 1 "$4" >"$T/in"
	prb add "$L" --key "$T/k" "$T/in"
	${5:-refused} "add, $1 at $2" "$2"
}
case_add sym checkpoint.tmp 0 1
case_add fifo checkpoint.tmp 0 1
case_add hard checkpoint.tmp 0 1 not_followed
case_add sym tile/0/000 0 256 not_followed
case_add sym tile/entries/000 0 256 not_followed
case_add sym tile/0/000.p/1 0 1 not_followed
case_add sym tile/entries/000.p/1 0 1 not_followed
case_add sym tile/1/000.p/1 255 1 not_followed
case_add fifo tile/0/000.p/1 0 1 not_followed
case_add dsym tile 0 1
case_add dsym tile/0 0 1
case_add dsym tile/entries/000.p 0 1
# a leftover file not named by the checkpoint, with a link or a hard
# link at its NAME.tmp: the writer removes or refuses them (they are in
# the directory), and never writes through them
for how in sym hard; do
	fresh "$L" 0
	mkdir -p "$L/tile/entries/000.p"
	printf 'left by a crash' >"$L/tile/entries/000.p/1"
	plant "$how" tile/entries/000.p/1.tmp
	prb add "$L" --key "$T/k" "$T/in"
	check "add, $how at the .tmp of a leftover file: no signal or timeout" test "$RC" -lt 124
	untouched "add, $how at the .tmp of a leftover file"
done
# the log is usable again once a planted name is removed
case_add sym checkpoint.tmp 0 1
rm -f "$L/checkpoint.tmp"
prb add "$L" --key "$T/k" "$T/in"
eq "add works once the planted checkpoint.tmp is removed" "$RC" 0

# ---------------------------------------------------------------------------
section "add: links planted while the writer runs"
# case_live NAME...: add fed through a fifo commits line 1, then NAMEs are
# planted (links to the outside file), then line 2 arrives
case_live() {
	fresh "$L" 0
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	: >"$T/aout"
	$TO "$PROBITY" add "$L" --key "$T/k" <"$T/fifo" >"$T/aout" 2>"$T/err" &
	PP=$!
	BGPIDS="$BGPIDS $PP"
	exec 3>"$T/fifo"
	echo live-1 >&3
	_i=0
	while ! grep -q '^size 1$' "$T/aout" && [ "$_i" -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	eq "live add: the first line is committed" "$(cat "$T/aout")" "size 1"
	for n in "$@"; do plant sym "$n"; done
	echo live-2 >&3
	exec 3>&-
	wait "$PP"
	RC=$?
	LASTCMD="probity add (live, $*)"
	refused "add, links planted while it runs ($*)" "$1"
}
case_live checkpoint.tmp
case_live tile/0/000.p/2 tile/entries/000.p/2

# ---------------------------------------------------------------------------
section "ingest: index, journal and blobs"
I=$T/in-k8s
mkdir -p "$I"
rec() { # rec ID [PAD]: one k8s audit record, PAD bytes of padding
	printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"%s","stage":"ResponseComplete","verb":"patch","user":{"username":"u"},"requestReceivedTimestamp":"2024-03-03T00:00:02Z","stageTimestamp":"2024-03-03T00:00:02Z","requestURI":"/api","requestObject":{"data":"' "$1"
	head -c "${2:-1}" /dev/zero | tr '\0' 'x'
	printf '"}}\n'
}
rec big-1 75000 >"$I/big.jsonl"
rec small-1 >"$T/small.jsonl"
# the blob's name, from an ingest into a log of its own
fresh "$T/probe" 0
"$PROBITY" ingest "$T/probe" --key "$T/k" "$I/big.jsonl" >/dev/null 2>&1
BLOB=$(ls "$T/probe/blob/sha256" 2>/dev/null | head -n 1)
if [ -z "$BLOB" ]; then bad "the large record makes a blob"; fi
case_ingest() { # case_ingest WHAT NAME FILE
	fresh "$L" 0
	plant "$1" "$2"
	prb ingest "$L" --key "$T/k" "$3"
	refused "ingest, $1 at $2" "$2"
}
case_ingest sym index.sqlite "$T/small.jsonl"
case_ingest sym index.sqlite-journal "$T/small.jsonl"
# beside an index that exists: ingest opens it in place
fresh "$L" 0
prb ingest "$L" --key "$T/k" "$T/small.jsonl"
for sfx in -wal -journal -shm; do
	rm -f "$L/index.sqlite-wal" "$L/index.sqlite-journal" "$L/index.sqlite-shm"
	plant sym "index.sqlite$sfx"
	prb ingest "$L" --key "$T/k" "$I/big.jsonl"
	refused "ingest into an index, sym at index.sqlite$sfx" "index.sqlite$sfx"
done
case_ingest fifo index.sqlite "$T/small.jsonl"
case_ingest sym "blob/sha256/$BLOB" "$I/big.jsonl"
case_ingest dsym blob "$I/big.jsonl"
case_ingest dsym blob/sha256 "$I/big.jsonl"
case_ingest sym checkpoint.tmp "$T/small.jsonl"

# while it runs: ingest reads a regular file, then blocks on a fifo
# (its next input) while the names are planted
fresh "$L" 0
rm -f "$T/fifo"
mkfifo "$T/fifo"
$TO "$PROBITY" ingest "$L" --key "$T/k" "$T/small.jsonl" "$T/fifo" >"$T/out" 2>"$T/err" &
PP=$!
BGPIDS="$BGPIDS $PP"
_i=0
while [ ! -e "$L/index.sqlite" ] && [ "$_i" -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
sleep 0.2
mkdir -p "$L/blob"
plant dsym blob/sha256
plant sym checkpoint.tmp
rec big-1 75000 >"$T/fifo"
wait "$PP"
RC=$?
LASTCMD="probity ingest (live)"
refused "ingest, links planted while it runs" "(blob/sha256|checkpoint.tmp)"

# ---------------------------------------------------------------------------
section "readers: verify and audit never read through a planted link"
fresh "$L" 0
prb ingest "$L" --key "$T/k" "$T/small.jsonl"
mv "$L/tile/entries/000.p/1" "$T/entry-outside"
ln -s "$T/entry-outside" "$L/tile/entries/000.p/1"
prb verify "$L" --vkey "$VKL"
check "verify over a linked entry bundle fails" test "$RC" -ne 0 -a "$RC" -lt 124
err_has "verify names the linked file and refuses it" "tile/entries/000.p/1.*symbolic link.*refused"
rm "$L/tile/entries/000.p/1"
mv "$T/entry-outside" "$L/tile/entries/000.p/1"
mv "$L/index.sqlite" "$T/index-outside"
ln -s "$T/index-outside" "$L/index.sqlite"
prb audit "$L" --out "$T/aud"
check "audit over a linked index fails" test "$RC" -ne 0 -a "$RC" -lt 124
err_has "audit names the linked index and refuses it" "index.sqlite: a symbolic link.*refused"

# ---------------------------------------------------------------------------
section "serve's writer: links planted before and while it runs"
if ! command -v curl >/dev/null 2>&1; then
	skip "curl is not installed (make deps installs it)"
else
	AT=append-token-0123456789abcdef
	printf 'read,append %s\n' "$AT" >"$T/tokens"
	chmod 600 "$T/tokens"
	A="Authorization: Bearer $AT"
	fresh "$L" 0
	if start_server s serve "$L" --key "$T/k" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
		http -H "$A" --data-binary 'one' "$URL/add"
		eq "serve: the first entry is added" "$CODE" 200
		plant sym tile/0/000.p/2
		plant sym tile/entries/000.p/2
		plant sym checkpoint.tmp
		http -H "$A" --data-binary 'two' "$URL/add"
		check "serve: the add over planted links is not acknowledged" test "$CODE" != 200
		stop_server "$SPID" >/dev/null 2>&1
		cp "$T/s.err" "$T/err"
		LASTCMD="probity serve"
		err_has "serve names the refused file" "(tile/0/000.p/2|tile/entries/000.p/2|checkpoint.tmp).*refused"
		untouched "serve, links planted while it runs"
	else
		bad "serve starts" "$(head_of "$T/s.err")"
	fi
	# before: serve refuses the planted checkpoint.tmp it meets when
	# starting or at its first batch
	fresh "$L" 0
	plant sym checkpoint.tmp
	if start_server s serve "$L" --key "$T/k" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
		http -H "$A" --data-binary 'one' "$URL/add"
		check "serve: an add over a planted checkpoint.tmp is not acknowledged" test "$CODE" != 200
		stop_server "$SPID" >/dev/null 2>&1
	fi
	cp "$T/s.err" "$T/err"
	err_has "serve, planted before: names the refused checkpoint.tmp" "checkpoint.tmp.*refused"
	untouched "serve, planted before"
fi

# ---------------------------------------------------------------------------
section "secret key files readable by group or others are refused"
fresh "$L" 0
printf 'k1\n' >"$T/in"
prb keygen hostile.example/witness -o "$T/wk" --witness
for f in "$T/k" "$T/wk"; do
	eq "keygen writes $(basename "$f") with mode 600" "$(stat -c %a "$f")" 600
done
for mode in 640 604 644 660; do
	chmod "$mode" "$T/k"
	expect_fail "add with a signer key of mode $mode" add "$L" --key "$T/k" "$T/in"
	err_has "the message names the key file and its mode" "$T/k: permissions 0$mode are too open.*chmod 600"
	eq "nothing was added with a key of mode $mode" "$(cp_size "$L")" 0
done
chmod 600 "$T/k"
prb add "$L" --key "$T/k" "$T/in"
eq "the key of mode 600 adds" "$RC" 0
chmod 644 "$T/wk"
prb witness --listen 127.0.0.1:0 --key "$T/wk" --log "hostile.example/log=$VKL" --state "$T/wstate"
check "witness with a key of mode 644 exits" test "$RC" -ne 0 -a "$RC" -lt 124
err_has "witness names the key file and its mode" "$T/wk: permissions 0644 are too open"

# ---------------------------------------------------------------------------
section "verify-evidence: hostile bundles, in bounded memory and time"
# Each run is bounded in time (timeout) and, unless the binary is built
# with AddressSanitizer (which reserves terabytes of address space), in
# memory: ulimit -v $CEIL KiB in a subshell. The per-file bounds are in
# include/probity/evidence.h (findings.json 8 MiB, report.html 64 MiB,
# ...). A verify that read the 256 MiB findings.json below whole would
# need gigabytes and be cut off by the ceiling.
CEIL=1048576
ASAN=""
grep -q __asan_init "$PROBITY" 2>/dev/null && ASAN=1
# ev ARGS...: probity ARGS under the ceiling, at most 60 s
ev() {
	LASTCMD="probity $*"
	if [ -n "$ASAN" ]; then
		timeout -k 5 60 "$PROBITY" "$@" >"$T/out" 2>"$T/err"
	else
		(ulimit -v "$CEIL" && exec timeout -k 5 60 "$PROBITY" "$@") >"$T/out" 2>"$T/err"
	fi
	RC=$?
	sanity_after "$LASTCMD" "$T/err"
}
# ev_refused MSG PATTERN ARGS...: exits 1 (not killed, not timed out)
# with a one-line message matching PATTERN
ev_refused() {
	_m=$1 _p=$2
	shift 2
	ev "$@"
	if [ "$RC" -eq 1 ] && one_line "$T/err" && grep -Eq -- "$_p" "$T/err"; then ok "$_m"; else
		bad "$_m" "command: $LASTCMD" "exit $RC (124/137: timed out or killed), stderr: $(head_of "$T/err")"; fi
}
EL=$T/evlog
new_key hostile.example/evidence "$T/ek" || finish
EVK=$VK
new_log "$EL" "$T/ek"
{
	printf '%s\n' '{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},'
	printf '%s\n' '"eventTime":"2024-03-01T10:05:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1",'
	printf '%s\n' '"sourceIPAddress":"198.51.100.7","userAgent":"console","requestParameters":{"name":"main-trail"},"responseElements":null,'
	printf '%s\n' '"eventID":"11111111-0000-0000-0000-000000000002","eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}'
} >"$T/ct.json"
prb ingest "$EL" --key "$T/ek" "$T/ct.json"
prb audit "$EL" --out "$T/b"
eq "audit writes a bundle" "$RC" 0
ev verify-evidence "$T/b" --vkey "$EVK"
eq "the bundle verifies under the memory ceiling" "$RC" 0
# copy NAME: a fresh copy of the bundle at $T/NAME, set as B
copy() { rm -rf "$T/$1"; cp -R "$T/b" "$T/$1"; B=$T/$1; }

copy big
{
	printf '{"checkpoint":{},"findings":[{"entries":['
	yes '[],' | tr -d '\n' | head -c $((256 << 20))
	printf '0]}],"policies":[]}'
} >"$B/findings.json"
ev_refused "a 256 MiB findings.json is refused on its size" "findings.json: [0-9]+ bytes, over the 8388608 .*refused" verify-evidence "$B" --vkey "$EVK"
rm -rf "$B"
copy sparse
rm "$B/report.html"
truncate -s 1G "$B/report.html"
ev_refused "a 1 GiB sparse report.html is refused on its size" "report.html: 1073741824 bytes, over the 67108864 .*refused" verify-evidence "$B" --vkey "$EVK"
rm -rf "$B"
copy fifo
rm "$B/checkpoint"
mkfifo "$B/checkpoint"
ev_refused "a FIFO named checkpoint is refused, not waited on" "checkpoint: not a regular file.*refused" verify-evidence "$B" --vkey "$EVK"
copy fifo2
rm "$B/entries/0.json"
mkfifo "$B/entries/0.json"
ev_refused "a FIFO among the entries is refused" "entries/0.json: not a regular file.*refused" verify-evidence "$B" --vkey "$EVK"
copy link
cp "$B/checkpoint" "$T/cp-outside"
rm "$B/checkpoint"
ln -s "$T/cp-outside" "$B/checkpoint"
ev_refused "a checkpoint that is a link (to a valid copy) is refused" "checkpoint: a symbolic link.*refused" verify-evidence "$B" --vkey "$EVK"
copy linkdir
mv "$B/entries" "$T/entries-outside"
ln -s "$T/entries-outside" "$B/entries"
ev_refused "an entries directory that is a link is refused" "entries.*symbolic link" verify-evidence "$B" --vkey "$EVK"
rm -rf "$T/entries-outside"
copy linkpol
P1=$(ls "$B/policies" | head -n 1)
mv "$B/policies/$P1" "$T/$P1"
ln -s "$T/$P1" "$B/policies/$P1"
ev_refused "a policy file that is a link is refused" "policies/$P1: a symbolic link.*refused" verify-evidence "$B" --vkey "$EVK"
# policies/../../x.sql: an id in findings.json names a file outside the
# bundle, here a FIFO: opening it would hang the verify (cut off by the
# timeout); it must be refused before anything is opened
copy dotdot
ID=$(basename "$P1" .sql)
sed -i "s|\"id\":\"$ID\"|\"id\":\"../../x\"|" "$B/findings.json"
mkfifo "$T/x.sql"
ev_refused "policies/../../x.sql is refused before it is opened" "findings.json: policy [0-9]+: its id is not a policy id.*refused" verify-evidence "$B" --vkey "$EVK"
rm -f "$T/x.sql"
copy extra
printf 'x' >"$B/entries/7.json"
ev_refused "an entry no finding cites is refused" "entries/7.json: unexpected file" verify-evidence "$B" --vkey "$EVK"

# ---------------------------------------------------------------------------
section "evidence as one file: audit --out B.tar / .tar.gz / .tgz"
for ext in tar tar.gz tgz; do
	prb audit "$EL" --out "$T/one.$ext"
	eq "audit --out one.$ext" "$RC" 0
	check "one.$ext is a file" test -f "$T/one.$ext"
	ev verify-evidence "$T/one.$ext" --vkey "$EVK"
	eq "verify-evidence one.$ext, under the memory ceiling" "$RC" 0
	check "verify-evidence one.$ext says verified, nothing on stderr" sh -c "grep -q '^verified .*one.$ext' '$T/out' && test ! -s '$T/err'"
	prb audit "$EL" --check "$T/one.$ext"
	eq "audit --check one.$ext reproduces it" "$RC" 0
done
check "the tar holds the bundle's files at its top" sh -c "tar -tf '$T/one.tar' | grep -qx findings.json"
prb audit "$EL" --out "$T/one.tar"
check "audit never writes over an existing file" test "$RC" -ne 0
err_has "saying it exists" "one.tar.*exists"
check "no temporary directory is left by audit" sh -c "! ls -d '$T'/one.tar.d.* 2>/dev/null"
check "no temporary directory is left by verify-evidence" sh -c "! ls -d '${TMPDIR:-/tmp}'/probity-bundle.* 2>/dev/null | grep -q ."

# mktar NAME ARGS...: a tar $T/NAME.tar of the unpacked bundle $T/u with
# GNU tar ARGS (names kept as given: -P)
rm -rf "$T/u"
mkdir "$T/u"
tar -xf "$T/one.tar" -C "$T/u"
mktar() { _n=$1; shift; rm -f "$T/$_n.tar"; tar -cf "$T/$_n.tar" -P -C "$T/u" "$@" 2>/dev/null; }
FILES=$(cd "$T/u" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
# shellcheck disable=SC2086
mktar same $FILES
ev verify-evidence "$T/same.tar" --vkey "$EVK"
eq "a tar made by GNU tar of the same files verifies" "$RC" 0
cp -R "$T/u" "$T/u.bak"
sed -i 's/"detail":"/"detail":"forged /' "$T/u/findings.json"
# shellcheck disable=SC2086
mktar forged $FILES
prb audit "$EL" --check "$T/forged.tar"
check "audit --check of a tar with a forged detail fails" test "$RC" -eq 1
err_has "naming the tar's findings.json, not where it was unpacked" "^probity audit: $T/forged.tar/findings.json: not what its policies give"
cp "$T/u.bak/findings.json" "$T/u/findings.json"
printf 'x' | dd of="$T/u/entries/0.json" bs=1 seek=10 conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
mktar altered $FILES
ev_refused "a tar with an altered entry is refused" "altered.tar/entries/0.json" verify-evidence "$T/altered.tar" --vkey "$EVK"
rm -rf "$T/u"
mv "$T/u.bak" "$T/u"
ln -s "$T/u/checkpoint" "$T/u/report2"
# shellcheck disable=SC2086
mktar symlink $FILES report2
ev_refused "a tar with a symbolic link entry is refused" "symlink.tar/report2: a symbolic link: refused" verify-evidence "$T/symlink.tar" --vkey "$EVK"
rm "$T/u/report2"
ln "$T/u/checkpoint" "$T/u/hard"
# shellcheck disable=SC2086
mktar hard $FILES hard
ev_refused "a tar with a hard link entry is refused" "hard.tar/.*a hard link: refused" verify-evidence "$T/hard.tar" --vkey "$EVK"
rm "$T/u/hard"
mkfifo "$T/u/fifo"
# shellcheck disable=SC2086
mktar fifo $FILES fifo
ev_refused "a tar with a FIFO entry is refused" "fifo.tar/fifo: a FIFO: refused" verify-evidence "$T/fifo.tar" --vkey "$EVK"
rm "$T/u/fifo"
printf 'outside\n' >"$T/escape-target"
# shellcheck disable=SC2086
mktar dotdot $FILES --transform 's|^checkpoint$|../escape-target|'
ev_refused "a tar with a ../ entry is refused" "dotdot.tar/\.\./escape-target: an empty, \"\.\" or \"\.\.\" component" verify-evidence "$T/dotdot.tar" --vkey "$EVK"
eq "the ../ entry's target is unchanged" "$(cat "$T/escape-target")" "outside"
# shellcheck disable=SC2086
mktar abs $FILES --transform "s|^checkpoint\$|$T/escape-target|"
ev_refused "a tar with an absolute entry is refused" "an absolute name: refused" verify-evidence "$T/abs.tar" --vkey "$EVK"
eq "the absolute entry's target is unchanged" "$(cat "$T/escape-target")" "outside"
# shellcheck disable=SC2086
mktar dup --hard-dereference $FILES checkpoint
ev_refused "a tar naming a file twice is refused" "dup.tar/checkpoint: a second entry of this name" verify-evidence "$T/dup.tar" --vkey "$EVK"
# a findings.json of 300 MiB (sparse on disk and in the tar): refused on
# the size its header declares, before a byte of it is read
rm "$T/u/findings.json"
truncate -s 300M "$T/u/findings.json"
rm -f "$T/big.tar"
# shellcheck disable=SC2086
tar -cSf "$T/big.tar" -C "$T/u" $FILES
ev_refused "a tar with a 300 MiB findings.json is refused on its size" "big.tar/findings.json: 314572800 bytes, over the 8388608 .*refused" verify-evidence "$T/big.tar" --vkey "$EVK"
rm -f "$T/big.tar"
printf 'not a tar at all' >"$T/junk.tar"
ev_refused "a file that is not a tar is refused" "junk.tar" verify-evidence "$T/junk.tar" --vkey "$EVK"
check "no temporary directory is left after the refusals" sh -c "! ls -d '${TMPDIR:-/tmp}'/probity-bundle.* 2>/dev/null | grep -q ."

finish
