# Shared helpers for the black-box tests of the probity command-line program.
# Sourced by tests/cli/test_*.sh; POSIX sh (dash), coreutils, od.
#
# Environment: PROBITY = absolute path of the binary under test (required),
# PRB_BUILD = its build directory, PRB_SHARED = the shared vectors directory
# (optional: tests that need it skip). PRB_TIMEOUT = seconds allowed per
# probity run (default 300).
#
# Counting: ok/bad/skip record one assertion each; finish prints the
# "<script>: N passed, N failed, N skipped" line and exits 1 on any failure.

NAME=$(basename "$0")
PASS=0 FAIL=0 SKIPS=0
BGPIDS=""

if [ -z "${PROBITY:-}" ]; then
	if [ -x ./probity ]; then PROBITY=$(pwd)/probity; fi
fi
if [ -z "${PROBITY:-}" ] || [ ! -x "$PROBITY" ]; then
	echo "FAIL: PROBITY (${PROBITY:-unset}) is not an executable" >&2
	echo "$NAME: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
PRB_SHARED=${PRB_SHARED:-../shared}
PRB_TIMEOUT=${PRB_TIMEOUT:-300}
TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout -k 5 $PRB_TIMEOUT"

T=$(mktemp -d "${TMPDIR:-/tmp}/prbcli.XXXXXX") || exit 1
cleanup() {
	for p in $BGPIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
	if [ -z "${FINISHED:-}" ]; then
		echo "FAIL: $NAME stopped before its end"
		echo "$NAME: $PASS passed, $((FAIL + 1)) failed, $SKIPS skipped"
		exit 1
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ok() { PASS=$((PASS + 1)); [ -n "${VERBOSE:-}" ] && echo "ok   $*"; return 0; }
bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL: $1"
	shift
	for l in "$@"; do printf 'FAIL  | %s\n' "$(printf %s "$l" | tr '\n' '|' | cut -c1-400)"; done
	return 1
}
skip() { SKIPS=$((SKIPS + 1)); echo "SKIP: $*"; }
section() { echo "== $*"; }
finish() {
	FINISHED=1
	echo "$NAME: $PASS passed, $FAIL failed, $SKIPS skipped"
	[ "$FAIL" -eq 0 ]
	exit $?
}
# check MSG CMD...: passes when CMD succeeds.
check() { m=$1; shift; if "$@"; then ok "$m"; else bad "$m" "check: $*"; fi; }
# eq MSG GOT WANT
eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got:  $(printf %s "$2" | head -c 300)" "want: $(printf %s "$3" | head -c 300)"; fi
}

# The first lines of a file, for failure messages.
head_of() { [ -f "$1" ] && head -c 600 "$1" | head -n "${2:-3}"; }

# prb ARGS...: runs probity; stdout -> $T/out, stderr -> $T/err, status -> RC.
# A sanitizer report or a death by signal is a failure of its own.
prb() {
	LASTCMD="probity $*"
	# shellcheck disable=SC2086
	$TO "$PROBITY" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	sanity_after "$LASTCMD" "$T/err"
	return 0
}
# sanity_after CMD ERRFILE: records a failure for sanitizer output / signals.
sanity_after() {
	if grep -Eq 'Sanitizer|runtime error:|^SUMMARY: ' "$2" 2>/dev/null; then
		bad "sanitizer report from: $1" "$(grep -E 'ERROR|runtime error|SUMMARY' "$2" | head -n 3)"
	elif [ "$RC" -eq 124 ] && [ -n "$TO" ]; then
		bad "timed out after ${PRB_TIMEOUT}s: $1"
	elif [ "$RC" -gt 128 ]; then
		bad "killed by signal $((RC - 128)): $1" "$(head_of "$2")"
	fi
}

# expect_ok MSG ARGS...: probity ARGS must exit 0.
expect_ok() {
	m=$1; shift
	prb "$@"
	if [ "$RC" -eq 0 ]; then ok "$m"; return 0; fi
	bad "$m" "command: $LASTCMD" "exit $RC, stderr: $(head_of "$T/err")"
}

# one_line FILE: non-empty, exactly one line (a final newline is optional).
one_line() {
	[ -s "$1" ] || return 1
	n=$(wc -l <"$1")
	[ "$n" -le 1 ] || return 1
	[ "$n" -eq 1 ] && [ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' ')" != 0a ] && return 1
	return 0
}

# expect_fail MSG ARGS...: probity ARGS must exit non-zero (not by a signal)
# with a one-line error on stderr.
expect_fail() {
	m=$1; shift
	prb "$@"
	if [ "$RC" -eq 0 ]; then
		bad "$m" "command: $LASTCMD" "exit 0 (expected failure); stdout: $(head_of "$T/out")"
		return 1
	fi
	if [ "$RC" -gt 128 ] || [ "$RC" -eq 124 ]; then
		bad "$m" "command: $LASTCMD" "exit $RC (signal/timeout)"
		return 1
	fi
	if ! one_line "$T/err"; then
		bad "$m" "command: $LASTCMD" "exit $RC but stderr is not one line ($(wc -l <"$T/err") newlines, $(wc -c <"$T/err") bytes):" "$(head_of "$T/err" 4)"
		return 1
	fi
	ok "$m"
}

# err_has MSG PATTERN (grep -E on the last stderr)
err_has() {
	if grep -Eq -- "$2" "$T/err"; then ok "$1"; else bad "$1" "command: $LASTCMD" "stderr lacks /$2/: $(head_of "$T/err")"; fi
}

# ---- files and bytes ------------------------------------------------------

# sha of a file (hex)
fsha() { sha256sum <"$1" | cut -c1-64; }

# flip_byte FILE OFFSET: xor 0x01 into the byte at OFFSET.
flip_byte() {
	b=$(od -An -v -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	[ -n "$b" ] || return 1
	b=$((b ^ 1))
	# shellcheck disable=SC2059
	printf "\\$(printf %03o "$b")" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}

# truncate_to FILE NBYTES
truncate_to() { head -c "$2" "$1" >"$1.tmp" && mv "$1.tmp" "$1"; }

# be16 N: two bytes, big-endian.
be16() {
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $(($1 / 256)))\\$(printf %03o $(($1 % 256)))"
}

# hex <-> binary (hex in lowercase)
if command -v basenc >/dev/null 2>&1; then
	hexbin() { tr a-f A-F | basenc --base16 -d; }
elif command -v xxd >/dev/null 2>&1; then
	hexbin() { xxd -r -p; }
else
	hexbin() { return 1; }
	NO_HEXBIN=1
fi
binhex() { od -An -v -tx1 | tr -d ' \n'; }
b64hex() { printf %s "$1" | base64 -d 2>/dev/null | binhex; }
hexb64() { printf %s "$1" | hexbin | base64 -w0; }

# ---- Merkle tree (RFC 6962), independently of probity -----------------------

# leaf_hex FILE: SHA-256(0x00 || contents)
leaf_hex() { { printf '\000'; cat "$1"; } | sha256sum | cut -c1-64; }
# node_hex L R: SHA-256(0x01 || L || R), hex in and out
node_hex() { printf '01%s%s' "$1" "$2" | hexbin | sha256sum | cut -c1-64; }

# rsh: shift FN and SN right by one.
_rsh() { FN=$((FN >> 1)); SN=$((SN >> 1)); }

# verify_inclusion INDEX SIZE LEAFHEX ROOTHEX PATHFILE (hex hash per line)
# RFC 9162 2.1.3.2.
verify_inclusion() {
	[ "$1" -lt "$2" ] || return 1
	FN=$1 SN=$(($2 - 1)) r=$3
	while read -r p; do
		[ "$SN" -eq 0 ] && return 1
		if [ $((FN & 1)) -eq 1 ] || [ "$FN" -eq "$SN" ]; then
			r=$(node_hex "$p" "$r")
			if [ $((FN & 1)) -eq 0 ]; then
				while [ $((FN & 1)) -eq 0 ] && [ "$FN" -ne 0 ]; do _rsh; done
			fi
		else
			r=$(node_hex "$r" "$p")
		fi
		_rsh
	done <"$5"
	[ "$SN" -eq 0 ] && [ "$r" = "$4" ]
}

# verify_consistency M N ROOT1HEX ROOT2HEX PROOFFILE (hex hash per line)
# RFC 9162 2.1.4.2.
verify_consistency() {
	m=$1 n=$2
	[ "$m" -le "$n" ] || return 1
	if [ "$m" -eq "$n" ]; then [ ! -s "$5" ] && [ "$3" = "$4" ]; return; fi
	[ -s "$5" ] || return 1
	cp "$5" "$T/cproof"
	if [ $((m & (m - 1))) -eq 0 ]; then { echo "$3"; cat "$5"; } >"$T/cproof"; fi
	FN=$((m - 1)) SN=$((n - 1))
	while [ $((FN & 1)) -eq 1 ]; do _rsh; done
	fr=$(head -n 1 "$T/cproof") sr=$fr
	first=1
	while read -r c; do
		if [ $first -eq 1 ]; then first=0; continue; fi
		[ "$SN" -eq 0 ] && return 1
		if [ $((FN & 1)) -eq 1 ] || [ "$FN" -eq "$SN" ]; then
			fr=$(node_hex "$c" "$fr")
			sr=$(node_hex "$c" "$sr")
			if [ $((FN & 1)) -eq 0 ]; then
				while [ $((FN & 1)) -eq 0 ] && [ "$FN" -ne 0 ]; do _rsh; done
			fi
		else
			sr=$(node_hex "$sr" "$c")
		fi
		_rsh
	done <"$T/cproof"
	[ "$fr" = "$3" ] && [ "$sr" = "$4" ] && [ "$SN" -eq 0 ]
}

# b64lines_to_hex IN OUT: base64 hash per line -> hex hash per line
b64lines_to_hex() {
	: >"$2"
	while read -r l; do b64hex "$l" >>"$2"; echo >>"$2"; done <"$1"
}

# ---- tlog-tiles layout ------------------------------------------------------

# _pad3 V -> R (no fork)
_pad3() { if [ "$1" -lt 10 ]; then R=00$1; elif [ "$1" -lt 100 ]; then R=0$1; else R=$1; fi; }
# nfmt N -> NF: the tile index as 3-digit groups, x prefix on all but last.
nfmt() {
	_n=$1
	_pad3 $((_n % 1000)); NF=$R
	_n=$((_n / 1000))
	while [ "$_n" -gt 0 ]; do
		_pad3 $((_n % 1000)); NF="x$R/$NF"
		_n=$((_n / 1000))
	done
}
# tiles_for_size S: relative paths of every tile and bundle of a tree of S
# entries (c2sp.org/tlog-tiles), one per line.
tiles_for_size() {
	_s=$1 _l=0
	while [ "$_s" -gt 0 ]; do
		_full=$((_s / 256)) _w=$((_s % 256)) _i=0
		while [ "$_i" -lt "$_full" ]; do
			nfmt "$_i"; echo "tile/$_l/$NF"
			[ "$_l" -eq 0 ] && echo "tile/entries/$NF"
			_i=$((_i + 1))
		done
		if [ "$_w" -gt 0 ]; then
			nfmt "$_full"; echo "tile/$_l/$NF.p/$_w"
			[ "$_l" -eq 0 ] && echo "tile/entries/$NF.p/$_w"
		fi
		_s=$_full _l=$((_l + 1))
	done
}

# check_tiles MSG DIR SIZE: every tile/bundle of SIZE exists with the right
# length (hash tiles), and no partial tile remains beside its full tile.
check_tiles() {
	tiles_for_size "$3" >"$T/want_tiles"
	_miss="" _badlen="" _cnt=0
	while read -r p; do
		_cnt=$((_cnt + 1))
		if [ ! -f "$2/$p" ]; then _miss="$_miss $p"; continue; fi
		case $p in
		tile/entries/*) ;;
		*.p/*) [ "$(wc -c <"$2/$p")" -eq $((${p##*/} * 32)) ] || _badlen="$_badlen $p" ;;
		*) [ "$(wc -c <"$2/$p")" -eq 8192 ] || _badlen="$_badlen $p" ;;
		esac
	done <"$T/want_tiles"
	if [ -n "$_miss$_badlen" ]; then
		bad "$1: tiles of size $3" "missing:$(echo "$_miss" | cut -c1-300)" "wrong length:$(echo "$_badlen" | cut -c1-300)"
	else
		ok "$1: tiles of size $3"
	fi
	_obs=$(obsolete_partials "$2")
	if [ -z "$_obs" ]; then ok "$1: no obsolete partial tiles"; else bad "$1: obsolete partial tiles remain beside full tiles" "$(echo "$_obs" | head -n 5)"; fi
}
# obsolete_partials DIR: partial tiles whose full tile exists.
obsolete_partials() {
	[ -d "$1/tile" ] || return 0
	find "$1/tile" -type d -name '*.p' | while read -r p; do
		if [ -e "${p%.p}" ] && [ -n "$(ls -A "$p" 2>/dev/null)" ]; then
			echo "${p#"$1"/}/$(ls "$p" | head -n 3 | tr '\n' ' ')"
		fi
	done
}

# cp_line DIR N: line N of DIR/checkpoint
cp_line() { sed -n "${2}p" "$1/checkpoint"; }
cp_size() { cp_line "$1" 2; }
cp_root() { cp_line "$1" 3; }

# entries_range DIR SIZE FROM TO: entries FROM..TO-1 of the tree of SIZE
# entries, one per line, read from the entry bundles. Works only for entries
# that are printable, without newline, 1..31 bytes long (the length prefix
# bytes are all control characters and become line breaks).
entries_range() {
	_d=$1 _s=$2 _from=$3 _to=$4
	[ "$_to" -gt "$_from" ] || return 0
	_first=$((_from / 256)) _last=$(((_to - 1) / 256))
	set --
	_i=$_first
	while [ "$_i" -le "$_last" ]; do
		nfmt "$_i"
		if [ $((_i * 256 + 256)) -le "$_s" ]; then
			set -- "$@" "$_d/tile/entries/$NF"
		else
			set -- "$@" "$_d/tile/entries/$NF.p/$((_s - _i * 256))"
		fi
		_i=$((_i + 1))
	done
	cat "$@" | tr '\000-\037' '\n' | grep -av '^$' |
		sed -n "$((_from - _first * 256 + 1)),$((_to - _first * 256))p"
}

# size_lines_ok OUTFILE PREV FINAL: every stdout line is "size N", N strictly
# increasing above PREV, the last one FINAL. (No line at all only if FINAL =
# PREV.) Prints what is wrong.
size_lines_ok() {
	_p=$2 _n=0
	while IFS= read -r l; do
		_n=$((_n + 1))
		case $l in
		"size "*) v=${l#size } ;;
		*) echo "line $_n is not 'size N': $l"; return 1 ;;
		esac
		case $v in '' | *[!0-9]*) echo "line $_n: bad number: $l"; return 1 ;; esac
		if [ "$v" -lt "$_p" ] || { [ "$v" -eq "$_p" ] && [ "$_n" -gt 1 ]; }; then
			echo "line $_n: size $v not above previous $_p"; return 1
		fi
		_p=$v
	done <"$1"
	if [ "$_n" -eq 0 ] && [ "$3" -ne "$2" ]; then echo "no 'size N' line printed"; return 1; fi
	if [ "$_p" -ne "$3" ]; then echo "last size line $_p, expected $3"; return 1; fi
	return 0
}
# last_size OUTFILE DEFAULT: N of the last "size N" line, else DEFAULT.
last_size() {
	_v=$(grep -E '^size [0-9]+$' "$1" 2>/dev/null | tail -n 1 | cut -d' ' -f2)
	echo "${_v:-$2}"
}

# add_ok MSG DIR KEY PREV FINAL [FILES...] (stdin as given): add must succeed,
# print well-formed size lines ending at FINAL, and leave checkpoint size FINAL.
add_ok() {
	_m=$1 _d=$2 _k=$3 _pv=$4 _fi=$5; shift 5
	prb add "$_d" --key "$_k" "$@"
	if [ "$RC" -ne 0 ]; then
		bad "$_m" "command: $LASTCMD" "exit $RC, stderr: $(head_of "$T/err")"
		return 1
	fi
	if ! _why=$(size_lines_ok "$T/out" "$_pv" "$_fi"); then
		bad "$_m: size lines" "command: $LASTCMD" "$_why"
		return 1
	fi
	_cs=$(cp_size "$_d")
	if [ "$_cs" != "$_fi" ]; then bad "$_m: checkpoint size" "got $_cs, want $_fi"; return 1; fi
	ok "$_m"
}

# gen_lines PREFIX FROM TO: lines PREFIX<n> for n in FROM..TO
gen_lines() { seq "$2" "$3" | sed "s/^/$1/"; }
# gen_paced PREFIX CHUNK NAP ROUNDS: the lines PREFIX1, PREFIX2, ... in
# CHUNK lines at a time, a pause of NAP seconds after each, ROUNDS times
# (an input that arrives while the writer commits).
gen_paced() {
	_n=1 _j=0
	while [ "$_j" -lt "$4" ]; do
		seq "$_n" $((_n + $2 - 1)) | sed "s/^/$1/" || return 0
		_n=$((_n + $2)) _j=$((_j + 1))
		sleep "$3"
	done
}
# add_fed MODE PREFIX BURST DIR KEY [ARGS...]: probity add DIR --key KEY
# ARGS in the background (pid PP; stdout $T/aout, stderr $T/aerr), fed
# through a fifo by an input (pid PG) of the lines PREFIX1, PREFIX2, ...:
# MODE 0, BURST lines at once; 1, 50..449 lines every 10 ms; 2, 1..20
# lines every 3 ms. Both pids are in BGPIDS.
add_fed() {
	_m=$1 _pre=$2 _burst=$3 _dir=$4 _key=$5
	shift 5
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	case $_m in
	0) gen_lines "$_pre" 1 "$_burst" >"$T/fifo" & ;;
	1) gen_paced "$_pre" $((50 + $(rand 400))) 0.01 300 >"$T/fifo" & ;;
	*) gen_paced "$_pre" $((1 + $(rand 20))) 0.003 1000 >"$T/fifo" & ;;
	esac
	PG=$!
	# emptied here: a kill that lands before the child's redirection must
	# not leave an earlier run's output to be read as this one's
	: >"$T/aout"
	: >"$T/aerr"
	"$PROBITY" add "$_dir" --key "$_key" "$@" <"$T/fifo" >"$T/aout" 2>"$T/aerr" &
	PP=$!
	BGPIDS="$PG $PP"
}
# rand N: a random number in 0..N-1
rand() { echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1)); }

# new_key NAME FILE: keygen; sets VK to the verifier key.
new_key() {
	prb keygen "$1" -o "$2"
	if [ "$RC" -ne 0 ]; then bad "keygen $1" "exit $RC: $(head_of "$T/err")"; VK=""; return 1; fi
	VK=$(head -n 1 "$T/out")
}

# new_log DIR KEYFILE: mkdir + init
new_log() {
	mkdir -p "$1"
	prb init "$1" --key "$2"
	if [ "$RC" -ne 0 ]; then bad "init $1" "exit $RC: $(head_of "$T/err")"; return 1; fi
}

# verify_ok MSG DIR VKEY
verify_ok() { expect_ok "$1" verify "$2" --vkey "$3"; }

# mth_hex LEAFFILE [LO HI]: RFC 6962 Merkle tree hash of the hex leaf hashes
# on lines LO+1..HI of LEAFFILE (recursive, forks per node: small trees only).
mth_hex() {
	_lo=${2:-0} _hi=${3:-$(wc -l <"$1")}
	_n=$((_hi - _lo))
	if [ "$_n" -eq 0 ]; then printf '' | sha256sum | cut -c1-64; return; fi
	if [ "$_n" -eq 1 ]; then sed -n "$((_lo + 1))p" "$1"; return; fi
	_k=1
	while [ $((_k * 2)) -lt "$_n" ]; do _k=$((_k * 2)); done
	_l=$(mth_hex "$1" "$_lo" $((_lo + _k)))
	_r=$(mth_hex "$1" $((_lo + _k)) "$_hi")
	node_hex "$_l" "$_r"
}

# ---- keys and signatures -------------------------------------------------------

# vk_parts VK: sets VK_NAME VK_ID VK_KEY (base64 of type byte || key)
vk_parts() { VK_NAME=${1%%+*}; _r=${1#*+}; VK_ID=${_r%%+*}; VK_KEY=${_r#*+}; }

# key_id_of NAME KEYB64: SHA-256(name || 0x0A || type || key)[:4] in hex
key_id_of() { { printf '%s\n' "$1"; printf %s "$2" | base64 -d; } | sha256sum | cut -c1-8; }

HAVE_OPENSSL=""
command -v openssl >/dev/null 2>&1 && [ -z "${NO_HEXBIN:-}" ] && HAVE_OPENSSL=1

# ed25519_verify VK MSGFILE SIGB64 (base64 of keyid || 64-byte signature):
# independent Ed25519 check with openssl.
ed25519_verify() {
	vk_parts "$1"
	{ printf '302A300506032B6570032100' | hexbin; printf %s "$VK_KEY" | base64 -d | tail -c 32; } >"$T/ed.pub"
	printf %s "$3" | base64 -d | tail -c +5 >"$T/ed.sig"
	openssl pkeyutl -verify -pubin -inkey "$T/ed.pub" -keyform DER -rawin \
		-in "$2" -sigfile "$T/ed.sig" >/dev/null 2>&1
}
# ed25519_pub_of_seed SEEDB64 (base64 of 0x01 || seed): prints hex public key
ed25519_pub_of_seed() {
	{ printf '302E020100300506032B657004220420' | hexbin; printf %s "$1" | base64 -d | tail -c 32; } >"$T/ed.priv"
	openssl pkey -inform DER -in "$T/ed.priv" -pubout -outform DER 2>/dev/null | tail -c 32 | binhex
	rm -f "$T/ed.priv"
}

EMDASH=$(printf '\342\200\224')

# new_witness NAME PEMFILE: a new Ed25519 witness key made with openssl;
# sets WVK to its c2sp.org/tlog-cosignature verifier key (type 0x04).
new_witness() {
	openssl genpkey -algorithm ed25519 -out "$2" 2>/dev/null || return 1
	_wk=$({ printf '\004'; openssl pkey -in "$2" -pubout -outform DER | tail -c 32; } | base64 -w0)
	WVK="$1+$(key_id_of "$1" "$_wk")+$_wk"
}
# cosign NOTEFILE NAME PEMFILE TIME: appends a cosignature/v1 line to the
# signed checkpoint NOTEFILE, made with openssl over
# "cosignature/v1\ntime TIME\n" || the note's text (c2sp.org/tlog-cosignature).
cosign() {
	_wk=$({ printf '\004'; openssl pkey -in "$3" -pubout -outform DER | tail -c 32; } | base64 -w0)
	{ printf 'cosignature/v1\ntime %s\n' "$4"; sed '/^$/,$d' "$1"; } >"$T/cosig.msg"
	openssl pkeyutl -sign -inkey "$3" -rawin -in "$T/cosig.msg" -out "$T/cosig.sig" || return 1
	_sig=$({ printf %s "$(key_id_of "$2" "$_wk")" | hexbin; printf '%016x' "$4" | hexbin; cat "$T/cosig.sig"; } | base64 -w0)
	printf '%s %s %s\n' "$EMDASH" "$2" "$_sig" >>"$1"
}

# check_checkpoint MSG FILE ORIGIN SIZE VK: the checkpoint is exactly
# "origin\nsize\nroot\n\n— name base64(keyid||sig)\n" with a valid signature.
check_checkpoint() {
	_f=$2
	_why=""
	[ "$(wc -l <"$_f")" -eq 5 ] || _why="$_why; not 5 lines ($(wc -l <"$_f"))"
	[ "$(sed -n 1p "$_f")" = "$3" ] || _why="$_why; origin line '$(sed -n 1p "$_f")' != '$3'"
	[ "$(sed -n 2p "$_f")" = "$4" ] || _why="$_why; size line '$(sed -n 2p "$_f")' != '$4'"
	sed -n 3p "$_f" | grep -Eq '^[A-Za-z0-9+/]{43}=$' || _why="$_why; root line not base64 of 32 bytes"
	[ -z "$(sed -n 4p "$_f")" ] || _why="$_why; line 4 not empty"
	_sl=$(sed -n 5p "$_f")
	vk_parts "$5"
	case $_sl in
	"$EMDASH $3 "*) _sig=${_sl#"$EMDASH $3 "} ;;
	*) _sig=""; _why="$_why; signature line '$_sl' does not start with '— $3 '" ;;
	esac
	if [ -n "$_sig" ]; then
		[ "$(printf %s "$_sig" | base64 -d 2>/dev/null | wc -c)" -eq 68 ] || _why="$_why; signature not 4+64 bytes"
		[ "$(b64hex "$_sig" | cut -c1-8)" = "$VK_ID" ] || _why="$_why; signature key ID $(b64hex "$_sig" | cut -c1-8) != $VK_ID"
		if [ -n "$HAVE_OPENSSL" ]; then
			sed -n 1,3p "$_f" >"$T/cp.msg"
			ed25519_verify "$5" "$T/cp.msg" "$_sig" || _why="$_why; Ed25519 signature does not verify (openssl)"
		fi
	fi
	if [ -z "$_why" ]; then ok "$1"; else bad "$1" "${_why#; }" "checkpoint: $(head -c 300 "$_f" | tr '\n' '|')"; fi
}

# proof parts: hashes (base64, one per line) and the embedded checkpoint
proof_hashes() { sed -n '/^index /,/^$/p' "$1" | sed '1d;/^$/d'; }
proof_checkpoint() { sed '1,/^$/d' "$1"; }

# ---- servers (probity serve, probity witness) -----------------------------

# serve_fixture KEYNAME [TOOL...]: ends the script with a skip unless curl
# (and each TOOL) is installed; makes the signer key $T/key for KEYNAME
# (LVK, its verifier key) and the empty log L=$T/log; AT is an append
# token, A its Authorization header, and $T/tokens (mode 0600) grants it
# read,append.
serve_fixture() {
	_sk=$1; shift
	for _tool in curl "$@"; do
		if ! command -v "$_tool" >/dev/null 2>&1; then
			skip "$_tool is not installed (make deps installs it)"
			finish
		fi
	done
	L=$T/log
	new_key "$_sk" "$T/key" || finish
	LVK=$VK
	new_log "$L" "$T/key" || finish
	AT=append-token-0123456789abcdef
	printf 'read,append %s\n' "$AT" >"$T/tokens"
	chmod 600 "$T/tokens"
	A="Authorization: Bearer $AT"
}

# start_server NAME ARGS...: runs probity ARGS in the background (stdout
# $T/NAME.out, stderr $T/NAME.err) and waits, at most 20 s, for its
# "listening on URL" line. Sets URL and SPID; returns 1 if it never listens.
start_server() {
	_sn=$1; shift
	# emptied here, not only by the redirection below, which the
	# background job may do after the loop has read an earlier run's line
	: >"$T/$_sn.out"
	"$PROBITY" "$@" >"$T/$_sn.out" 2>"$T/$_sn.err" &
	SPID=$!
	BGPIDS="$BGPIDS $SPID"
	URL="" _si=0
	while [ "$_si" -lt 200 ]; do
		URL=$(sed -n 's/^listening on //p' "$T/$_sn.out" 2>/dev/null)
		[ -n "$URL" ] && return 0
		kill -0 "$SPID" 2>/dev/null || return 1
		sleep 0.1
		_si=$((_si + 1))
	done
	return 1
}
# stop_server PID [SIGNAL]: sends SIGNAL (TERM), waits at most 20 s for the
# process to end (then kills it); returns its exit status.
stop_server() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	_si=0
	while kill -0 "$1" 2>/dev/null && [ "$_si" -lt 200 ]; do
		sleep 0.1
		_si=$((_si + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1"
}
# hwm PID: the peak resident memory (VmHWM) of a running process, in kB.
hwm() { sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB$/\1/p' "/proc/$1/status"; }
# http CURLARGS...: one request with curl (at most 30 s); body to $T/body,
# headers to $T/hdr, status to CODE (000 when no answer came).
http() {
	CODE=$(curl -s -m 30 -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@")
	[ -n "$CODE" ] || CODE=000
}
# add_client W ROUND: POSTs 4 unique lines per request to $URL/add (with
# header $A) until an answer is not 200 (or 400 requests); the lines of
# each 200, each after the leaf index the answer gave it ("INDEX LINE"),
# go to $T/ack.W.ROUND.
add_client() {
	_i=0
	while [ "$_i" -lt 400 ]; do
		printf 'r%s-c%s-%s-%s\n' "$2" "$1" "$_i" a "$2" "$1" "$_i" b "$2" "$1" "$_i" c "$2" "$1" "$_i" d >"$T/req.$1"
		_c=$(curl -s -m 10 -o "$T/resp.$1" -w '%{http_code}' -H "$A" --data-binary "@$T/req.$1" "$URL/add")
		[ "$_c" = 200 ] || break
		paste -d' ' "$T/resp.$1" "$T/req.$1" >>"$T/ack.$1.$2"
		_i=$((_i + 1))
	done
}
# start_clients N ROUND: N add_clients in the background (pids in CP).
start_clients() {
	_w=0 CP=""
	while [ "$_w" -lt "$1" ]; do
		add_client "$_w" "$2" &
		CP="$CP $!"
		_w=$((_w + 1))
	done
}
# acks_missing ACKFILE DIR SIZE: the "INDEX LINE" pairs of ACKFILE that
# the log DIR of SIZE entries does not hold (entry LINE at INDEX).
acks_missing() {
	entries_range "$2" "$3" 0 "$3" | awk '{ print NR - 1 " " $0 }' | sort >"$T/have.s"
	sort "$1" | comm -23 - "$T/have.s"
}

# hdr NAME: the value of response header NAME of the last http call.
hdr() { grep -i "^$1:" "$T/hdr" | head -n 1 | cut -d: -f2- | sed 's/^ //' | tr -d '\r'; }

# cosig_check NOTEFILE NAME WVK: NOTEFILE (a signed checkpoint) carries a
# cosignature/v1 line by witness NAME whose key is WVK, valid over the
# note's text (checked with openssl). Prints what is wrong; status 1 then.
cosig_check() {
	vk_parts "$3"
	_l=$(grep "^$EMDASH $2 " "$1" | head -n 1)
	[ -n "$_l" ] || { echo "no line by $2"; return 1; }
	printf %s "${_l#"$EMDASH $2 "}" | base64 -d >"$T/cc.raw" 2>/dev/null
	[ "$(wc -c <"$T/cc.raw")" -eq 76 ] || { echo "not 4+8+64 bytes"; return 1; }
	[ "$(head -c 4 "$T/cc.raw" | binhex)" = "$VK_ID" ] || { echo "key ID is not $VK_ID"; return 1; }
	_ts=$((0x$(head -c 12 "$T/cc.raw" | tail -c 8 | binhex)))
	{ printf '302A300506032B6570032100' | hexbin; printf %s "$VK_KEY" | base64 -d | tail -c 32; } >"$T/cc.pub"
	tail -c 64 "$T/cc.raw" >"$T/cc.sig"
	{ printf 'cosignature/v1\ntime %s\n' "$_ts"; sed '/^$/,$d' "$1"; } >"$T/cc.msg"
	openssl pkeyutl -verify -pubin -inkey "$T/cc.pub" -keyform DER -rawin \
		-in "$T/cc.msg" -sigfile "$T/cc.sig" >/dev/null 2>&1 ||
		{ echo "Ed25519 over cosignature/v1 does not verify"; return 1; }
}
