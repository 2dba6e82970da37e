#!/bin/sh
# Interoperability: what probity writes (keys, signed checkpoints, hash
# tiles, entry bundles, tlog-proofs, consistency proofs) must be accepted by
# an implementation nobody on this project wrote: Go's
# golang.org/x/mod/sumdb/{note,tlog} (Debian golang-golang-x-mod-dev, used
# offline in GOPATH mode), driven by tests/interop/gocheck.go. And the other
# way round: keys, logs and proofs made with x/mod must work with probity.
#
# Run by tests/run.sh with PROBITY (the binary), PRB_BUILD (gocheck is built
# into $PRB_BUILD/interop/) and PRB_SHARED (optional), from the repo root.
# Last line: "test_interop.sh: N passed, N failed, N skipped".
set -u
NAME=test_interop.sh
pass=0 fail=0 skip=0
ROOT=$(pwd)
PROBITY=${PROBITY:-$ROOT/probity}
PRB_BUILD=${PRB_BUILD:-$ROOT/build/rel}
PRB_SHARED=${PRB_SHARED:-$ROOT/../shared}
XMOD=/usr/share/gocode/src/golang.org/x/mod/sumdb

finish() {
	echo "$NAME: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ] && exit 0
	exit 1
}
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
skipped() { skip=$((skip + 1)); echo "SKIP - $*"; }
show() { sed -e 's/^/    /' -e 's/FAIL/F*IL/g' "$1" | head -n "${2:-15}"; }

# ------------------------------------------------------------ prerequisites
if ! command -v go >/dev/null 2>&1; then
	skipped "interop: 'go' not found (install golang-go: sh scripts/deps.sh)"
	finish
fi
if [ ! -f "$XMOD/tlog/tlog.go" ] || [ ! -f "$XMOD/note/note.go" ]; then
	skipped "interop: golang.org/x/mod not under /usr/share/gocode (install golang-golang-x-mod-dev: sh scripts/deps.sh)"
	finish
fi
if [ ! -x "$PROBITY" ]; then
	bad "probity binary not found at $PROBITY"
	finish
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/prb-interop.XXXXXX") || { bad "mktemp -d"; finish; }
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$PRB_BUILD/interop"
G="$PRB_BUILD/interop/gocheck"
if env GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOENV=off \
	GOPROXY=off CGO_ENABLED=0 GOCACHE="$PRB_BUILD/interop/gocache" \
	go build -o "$G" tests/interop/gocheck.go >"$T/build" 2>&1; then
	ok "gocheck built with x/mod ($(go version | cut -d' ' -f3))"
else
	bad "go build tests/interop/gocheck.go"
	show "$T/build" 30
	finish
fi

# expect_ok DESC CMD...: CMD must succeed; its last output line is quoted.
expect_ok() {
	_d=$1; shift
	if "$@" >"$T/out" 2>&1; then
		ok "$_d$(tail -n 1 "$T/out" | sed -n 's/^ok: /: /p')"
		return 0
	else
		bad "$_d (exit $?): $*"
		show "$T/out"
		return 1
	fi
}
# expect_reject DESC PATTERN CMD...: CMD must fail with status 1 and say
# something matching the extended regex PATTERN (so it failed for the
# intended reason, not because of a broken test).
expect_reject() {
	_d=$1 _p=$2; shift 2
	"$@" >"$T/out" 2>&1
	_rc=$?
	if [ "$_rc" -eq 0 ]; then
		bad "$_d: accepted, must be rejected: $*"
		show "$T/out"
	elif [ "$_rc" -ne 1 ] || ! grep -Eq "$_p" "$T/out"; then
		bad "$_d: rejected for the wrong reason (exit $_rc, want /$_p/): $*"
		show "$T/out"
	else
		ok "$_d (go: $(sed -n 's/^gocheck: rejected: [a-z-]*: //p' "$T/out" | head -n 1 | cut -c1-110))"
	fi
}
# probity_ok DESC CMD...: a probity step that must succeed (output kept in $T/out).
probity_ok() {
	_d=$1; shift
	if "$@" >"$T/out" 2>"$T/err"; then
		ok "$_d"
		return 0
	else
		bad "$_d (exit $?): $*"
		show "$T/err"
		show "$T/out" 5
		return 1
	fi
}
size_of() { sed -n 2p "$1"; }
# entry FILE N OUT: the N'th (0-based) line of FILE, without its newline.
entry() { sed -n "$(($2 + 1))p" "$1" | tr -d '\n' >"$3"; }

# ------------------------------------------------- gocheck self-test
if [ -d "$PRB_SHARED/vectors" ]; then
	expect_ok "gocheck self-test against shared vectors (paths, tile sets, log1000 roots+tiles, sunlight tiles, tlog-proofs)" \
		"$G" selftest "$PRB_SHARED"
else
	skipped "gocheck self-test: $PRB_SHARED/vectors not found"
fi

# ------------------------------------------------------------------ keys
# A key made by x/mod (note.GenerateKey) must work with probity ...
GNAME=interop.example/go-log
"$G" genkey "$GNAME" >"$T/gokeys" || { bad "gocheck genkey"; finish; }
sed -n 1p "$T/gokeys" >"$T/go.key"
chmod 600 "$T/go.key" # probity refuses a key others can read, as ssh does
GVK=$(sed -n 2p "$T/gokeys")
"$G" genkey "$GNAME" >"$T/otherkeys" || { bad "gocheck genkey"; finish; }
OTHERVK=$(sed -n 2p "$T/otherkeys")       # same name, different key
"$G" genkey witness.example/w1 | sed -n 1p >"$T/witness.key"
chmod 600 "$T/witness.key"

# ... and a key made by probity must work with x/mod.
PNAME=interop.example/probity-log
PVK=
if probity_ok "probity keygen $PNAME" "$PROBITY" keygen "$PNAME" -o "$T/prb.key"; then
	PVK=$(tr -d ' \r\n' <"$T/out")
	expect_ok "x/mod note.NewSigner/NewVerifier accept probity's keys" "$G" check-key "$T/prb.key" "$PVK"
fi

# --------------------------------------------- the main log, x/mod's key
# Entries: entry-0..entry-999 (the shared log1000 reference), then JSON
# lines with UTF-8, some 3000 bytes long.
awk 'BEGIN {
	pad = ""; for (j = 0; j < 300; j++) pad = pad "0123456789"
	for (i = 0; i < 70000; i++) {
		if (i < 1000) printf "entry-%d\n", i
		else if (i % 5000 == 0) printf "{\"i\":%d,\"pad\":\"%s\"}\n", i, pad
		else printf "{\"i\":%d,\"who\":\"Zo\303\253 \342\234\223\",\"k\":\"v %d\"}\n", i, i * 7
	}
}' >"$T/ents"
D=$T/log
main_log() {
	probity_ok "probity init with an x/mod-generated key" "$PROBITY" init "$D" --key "$T/go.key" || return 1
	expect_ok "x/mod verifies the empty log" "$G" verify-log -entries "$T/ents" "$D" "$GVK"
	expect_ok "x/mod note.Sign re-signs probity's size-0 checkpoint byte for byte" "$G" resign "$D/checkpoint" "$T/go.key" "$GVK"
	cp "$D/checkpoint" "$T/cp.0"
	sizes=0
	prev=0
	for n in 1 255 256 257 1000 65536 65537 69999 70000; do
		sed -n "$((prev + 1)),${n}p" "$T/ents" >"$T/batch"
		case $n in
		255) how="stdin"; set -- "$PROBITY" add "$D" --key "$T/go.key" ;;
		1000)
			how="two files"
			half=$(((prev + n) / 2))
			sed -n "1,$((half - prev))p" "$T/batch" >"$T/batch.a"
			sed -n "$((half - prev + 1)),\$p" "$T/batch" >"$T/batch.b"
			set -- "$PROBITY" add "$D" --key "$T/go.key" "$T/batch.a" "$T/batch.b" ;;
		*) how="file"; set -- "$PROBITY" add "$D" --key "$T/go.key" "$T/batch" ;;
		esac
		if [ "$how" = stdin ]; then
			"$@" <"$T/batch" >"$T/out" 2>"$T/err"
		else
			"$@" >"$T/out" 2>"$T/err"
		fi
		rc=$?
		got=$(size_of "$D/checkpoint")
		if [ "$rc" -ne 0 ] || [ "$got" != "$n" ]; then
			bad "probity add entries $prev..$((n - 1)) ($how): exit $rc, checkpoint size '$got', want $n"
			show "$T/err"
			return 1
		fi
		ok "probity add entries $prev..$((n - 1)) ($how) -> size $n"
		expect_ok "x/mod verifies the size-$n log end to end" "$G" verify-log -entries "$T/ents" "$D" "$GVK"
		cp "$D/checkpoint" "$T/cp.$n"
		sizes="$sizes $n"
		# Inclusion proofs at intermediate sizes.
		case $n in
		1) idxs="0" ;;
		256) idxs="0 128 255" ;;
		257) idxs="255 256" ;;
		65537) idxs="65535 65536" ;;
		*) idxs="" ;;
		esac
		for i in $idxs; do
			check_proof "$i" "$n"
		done
		prev=$n
	done
	expect_ok "x/mod note.Sign re-signs probity's size-70000 checkpoint byte for byte" "$G" resign "$D/checkpoint" "$T/go.key" "$GVK"

	# Inclusion proofs at the final size.
	for i in 0 1 254 255 256 257 511 512 999 1000 5000 65535 65536 65537 69998 69999; do
		check_proof "$i" 70000
	done

	# Every earlier checkpoint must still verify against today's tiles
	# (append-only; missing partial tiles come from the full ones).
	for s in $sizes; do
		[ "$s" = 70000 ] && continue
		expect_ok "x/mod verifies the size-$s checkpoint against the size-70000 directory" \
			"$G" verify-log -checkpoint "$T/cp.$s" -entries "$T/ents" "$D" "$GVK"
	done

	# Consistency proofs.
	for pair in 1:70000 255:256 256:70000 69999:70000 1:1 257:1000 1000:65537 \
		65536:65537 255:65536 1:257 70000:70000; do
		check_consistency "${pair%:*}" "${pair#*:}"
	done
	if "$PROBITY" consistency "$D" 0 >"$T/c0" 2>"$T/err"; then
		expect_ok "probity consistency 0 -> 70000 is empty (x/mod cannot check size 0)" \
			"$G" check-consistency "$T/cp.0" "$T/cp.70000" "$T/c0" "$GVK"
	else
		skipped "probity consistency DIR 0 refused ($(head -n 1 "$T/err")); x/mod has no size-0 consistency either"
	fi
}

# check_proof INDEX SIZE: probity's tlog-proof is accepted by x/mod
# (tlog.CheckRecord) and equals tlog.ProveRecord over the tiles.
check_proof() {
	"$PROBITY" prove "$D" "$1" >"$T/proof" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "probity prove DIR $1 at size $2 (exit $rc)"
		show "$T/err"
		return 1
	fi
	entry "$T/ents" "$1" "$T/entry"
	expect_ok "x/mod checks probity's inclusion proof of index $1 at size $2" \
		"$G" check-proof -dir "$D" "$T/proof" "$T/entry" "$GVK"
	cp "$T/proof" "$T/proof.$1.$2"
}

# check_consistency OLD NEW: probity's consistency proof is accepted by
# x/mod (tlog.CheckTree) and equals tlog.ProveTree over the tiles.
check_consistency() {
	if [ "$2" = 70000 ]; then set -- "$1" "$2" "$PROBITY" consistency "$D" "$1"
	else set -- "$1" "$2" "$PROBITY" consistency "$D" "$1" "$2"; fi
	_o=$1 _n=$2; shift 2
	"$@" >"$T/cons.$_o.$_n" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		bad "$* (exit $rc)"
		show "$T/err"
		return 1
	fi
	expect_ok "x/mod checks probity's consistency proof $_o -> $_n" \
		"$G" check-consistency -dir "$D" "$T/cp.$_o" "$T/cp.$_n" "$T/cons.$_o.$_n" "$GVK"
}

main_log
MAIN_OK=$?

# -------------------------------------------- tampering: x/mod must object
negatives() {
	p=$T/proof.65536.70000
	[ -f "$p" ] || { bad "negative tests: no proof of index 65536 to tamper with"; return 1; }
	entry "$T/ents" 65536 "$T/e65536"
	entry "$T/ents" 65535 "$T/e65535"
	Z=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
	awk -v z="$Z" 'NR == 4 { print z; next } { print }' "$p" >"$T/bad.hash"
	expect_reject "x/mod rejects an inclusion proof with one hash zeroed" "CheckRecord" \
		"$G" check-proof "$T/bad.hash" "$T/e65536" "$GVK"
	awk 'NR == 4 { next } { print }' "$p" >"$T/bad.short"
	expect_reject "x/mod rejects an inclusion proof with one hash removed" "CheckRecord" \
		"$G" check-proof "$T/bad.short" "$T/e65536" "$GVK"
	expect_reject "x/mod rejects an inclusion proof for the wrong entry" "CheckRecord" \
		"$G" check-proof "$p" "$T/e65535" "$GVK"
	sed 's/^index 65536$/index 65535/' "$p" >"$T/bad.index"
	expect_reject "x/mod rejects an inclusion proof relabelled with another index" "CheckRecord" \
		"$G" check-proof "$T/bad.index" "$T/e65535" "$GVK"
	awk 'seen && $0 == "70000" { print "69999"; next } /^$/ { seen = 1 } { print }' "$p" >"$T/bad.size"
	expect_reject "x/mod rejects a proof whose checkpoint size was edited" "note.Open" \
		"$G" check-proof "$T/bad.size" "$T/e65536" "$GVK"
	expect_reject "x/mod rejects the checkpoint under another key with the same name" "note.Open" \
		"$G" check-proof "$p" "$T/e65536" "$OTHERVK"

	c=$T/cons.256.70000
	if [ -s "$c" ]; then
		awk -v z="$Z" 'NR == 1 { print z; next } { print }' "$c" >"$T/bad.cons"
		expect_reject "x/mod rejects a consistency proof with one hash zeroed" "CheckTree" \
			"$G" check-consistency "$T/cp.256" "$T/cp.70000" "$T/bad.cons" "$GVK"
		expect_reject "x/mod rejects a consistency proof used for other sizes" "CheckTree" \
			"$G" check-consistency "$T/cp.255" "$T/cp.70000" "$c" "$GVK"
	fi

	# Damaged copies of the directory.
	# flip FILE OFFSET: xor one byte of FILE with 0x01.
	flip() {
		_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
		_x=$(printf '%03o' $((_b ^ 1)))
		# shellcheck disable=SC2059 # an octal escape built on purpose
		printf "\\$_x" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
	}
	damaged() { rm -rf "$T/dmg"; cp -R "$D" "$T/dmg"; }
	damaged; flip "$T/dmg/tile/0/000" 1000
	expect_reject "x/mod rejects the log with one bit flipped in tile/0/000" "inconsistent tile|differs" \
		"$G" verify-log "$T/dmg" "$GVK"
	if probity_ok "(probity verify accepts the undamaged log)" "$PROBITY" verify "$D" --vkey "$GVK"; then
		if "$PROBITY" verify "$T/dmg" --vkey "$GVK" >"$T/out" 2>&1; then
			bad "probity verify accepts the log with a bit flipped in tile/0/000"
		else
			ok "probity verify rejects the log with a bit flipped in tile/0/000 too"
		fi
	fi
	damaged; flip "$T/dmg/tile/1/000" 40
	expect_reject "x/mod rejects the log with one bit flipped in tile/1/000" "inconsistent tile|differs" \
		"$G" verify-log "$T/dmg" "$GVK"
	damaged; flip "$T/dmg/tile/entries/100" 300
	expect_reject "x/mod rejects the log with one bit flipped in tile/entries/100" "x/mod computes|entr" \
		"$G" verify-log "$T/dmg" "$GVK"
	damaged; rm -f "$T/dmg/tile/0/273.p/112"
	expect_reject "x/mod rejects the log without its partial tile tile/0/273.p/112" "273.p/112" \
		"$G" verify-log "$T/dmg" "$GVK"
	damaged; sed 's/^70000$/69999/' "$D/checkpoint" >"$T/dmg/checkpoint"
	expect_reject "x/mod rejects the log with its checkpoint size edited" "invalid signature" \
		"$G" verify-log "$T/dmg" "$GVK"
	rm -rf "$T/dmg"
}
if [ "$MAIN_OK" -eq 0 ]; then negatives; else bad "negative tests not run: the main log failed"; fi

# --------------------- x/mod-made proofs and cosigned checkpoints for probity
foreign_proofs() {
	entry "$T/ents" 65536 "$T/e65536"
	if ! "$G" prove -extra b3BhcXVlIGV4dHJh -cosign "$T/witness.key" \
		"$D" 65536 "$GVK" >"$T/goproof" 2>"$T/err"; then
		bad "gocheck prove"; show "$T/err"; return 1
	fi
	probity_ok "probity verify-proof accepts an x/mod-made tlog-proof (extra line, extra witness signature)" \
		"$PROBITY" verify-proof "$T/goproof" "$T/e65536" --vkey "$GVK"
	awk -v z="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" 'NR == 5 { print z; next } { print }' \
		"$T/goproof" >"$T/goproof.bad"
	if "$PROBITY" verify-proof "$T/goproof.bad" "$T/e65536" --vkey "$GVK" >"$T/out" 2>&1; then
		bad "probity verify-proof accepts a tampered x/mod-made proof"
	else
		ok "probity verify-proof rejects a tampered x/mod-made proof"
	fi
}
[ "$MAIN_OK" -eq 0 ] && foreign_proofs

# --------------------------------------------- a log under probity's key
prb_log() {
	[ -n "$PVK" ] || { bad "probity-key log: no probity key"; return 1; }
	D2=$T/plog
	probity_ok "probity init with its own key" "$PROBITY" init "$D2" --key "$T/prb.key" || return 1
	expect_ok "x/mod verifies the empty probity-key log" "$G" verify-log "$D2" "$PVK"
	cp "$D2/checkpoint" "$T/p.cp.0"
	# Edge-case entries: 1 byte, the 65535-byte maximum, tabs, spaces, UTF-8.
	awk 'BEGIN {
		s = "b"; while (length(s) < 65535) s = s s
		print "a"; print substr(s, 1, 65535); print "tab\there  and  spaces "
		print "\316\261\316\262\316\263 \360\237\224\222"
		for (i = 0; i < 296; i++) printf "line %d\n", i
	}' >"$T/pents"
	"$PROBITY" add "$D2" --key "$T/prb.key" <"$T/pents" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ "$(size_of "$D2/checkpoint")" != 300 ]; then
		bad "probity add 300 edge-case entries (incl. one of 65535 bytes) from stdin: exit $rc, size $(size_of "$D2/checkpoint")"
		show "$T/err"
		return 1
	fi
	ok "probity add 300 edge-case entries (incl. one of 65535 bytes) from stdin"
	expect_ok "x/mod verifies the probity-key log" "$G" verify-log -entries "$T/pents" "$D2" "$PVK"
	expect_ok "x/mod note.Sign with probity's key re-signs its checkpoint byte for byte" \
		"$G" resign "$D2/checkpoint" "$T/prb.key" "$PVK"
	for i in 0 1 2 3 256 299; do
		"$PROBITY" prove "$D2" "$i" >"$T/pproof" 2>"$T/err"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			entry "$T/pents" "$i" "$T/pentry"
			expect_ok "x/mod checks the inclusion proof of index $i (probity key)" \
				"$G" check-proof -dir "$D2" "$T/pproof" "$T/pentry" "$PVK"
		else
			bad "probity prove DIR $i (probity key): exit $rc"; show "$T/err"
		fi
	done
}
prb_log

# ---------------------------- a non-ASCII key name (origin) from x/mod
unicode_log() {
	U=$T/ulog
	UNAME=$(printf 'interop.example/\303\274n\303\257c\303\270de-\316\273')
	"$G" genkey "$UNAME" >"$T/ukeys" || { bad "gocheck genkey (UTF-8 name)"; return 1; }
	sed -n 1p "$T/ukeys" >"$T/u.key"
	chmod 600 "$T/u.key"
	UVK=$(sed -n 2p "$T/ukeys")
	probity_ok "probity init with an x/mod key whose name is UTF-8 ($UNAME)" \
		"$PROBITY" init "$U" --key "$T/u.key" || return 1
	printf 'one\ntwo\nthree\n' >"$T/uents"
	probity_ok "probity add 3 entries (UTF-8 key name)" "$PROBITY" add "$U" --key "$T/u.key" "$T/uents" || return 1
	expect_ok "x/mod verifies the log with a UTF-8 origin" "$G" verify-log -entries "$T/uents" "$U" "$UVK"
	expect_ok "x/mod re-signs its checkpoint byte for byte" "$G" resign "$U/checkpoint" "$T/u.key" "$UVK"
	if "$PROBITY" checkpoint "$U" >"$T/ucp" 2>"$T/err" && cmp -s "$T/ucp" "$U/checkpoint"; then
		ok "probity checkpoint prints DIR/checkpoint verbatim"
	else
		bad "probity checkpoint output differs from DIR/checkpoint (or failed)"
		show "$T/err"
	fi
}
unicode_log

# ------------------------------ a log whose tiles x/mod wrote, for probity
# probity init makes whatever probity needs; x/mod then writes the tiles,
# bundles and checkpoint of 1000 entries. probity must read, prove and
# extend it, and x/mod must accept the result.
foreign_log() {
	F=$T/flog
	probity_ok "probity init (for a log x/mod will fill)" "$PROBITY" init "$F" --key "$T/go.key" || return 1
	sed -n 1,1000p "$T/ents" >"$T/f1000"
	expect_ok "x/mod writes 1000 entries' tiles, bundles and checkpoint" "$G" mklog "$F" "$T/go.key" "$T/f1000" || return 1
	cp "$F/checkpoint" "$T/f.cp.1000"
	probity_ok "probity verify accepts the log x/mod wrote" "$PROBITY" verify "$F" --vkey "$GVK"
	for i in 0 999; do
		"$PROBITY" prove "$F" "$i" >"$T/fproof" 2>"$T/err"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			entry "$T/ents" "$i" "$T/fentry"
			expect_ok "x/mod checks probity's proof of index $i over x/mod's tiles" \
				"$G" check-proof -dir "$F" "$T/fproof" "$T/fentry" "$GVK"
		else
			bad "probity prove on the log x/mod wrote, index $i: exit $rc"; show "$T/err"
		fi
	done
	sed -n 1001,1300p "$T/ents" >"$T/fmore"
	"$PROBITY" add "$F" --key "$T/go.key" "$T/fmore" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ "$(size_of "$F/checkpoint")" != 1300 ]; then
		bad "probity add 300 entries to the log x/mod wrote: exit $rc, size $(size_of "$F/checkpoint")"
		show "$T/err"
		return 1
	fi
	ok "probity add 300 entries to the log x/mod wrote"
	expect_ok "x/mod verifies the extended log" "$G" verify-log -entries "$T/ents" "$F" "$GVK"
	"$PROBITY" consistency "$F" 1000 >"$T/fcons" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		expect_ok "x/mod checks probity's consistency proof 1000 -> 1300 across the hand-over" \
			"$G" check-consistency -dir "$F" "$T/f.cp.1000" "$F/checkpoint" "$T/fcons" "$GVK"
	else
		bad "probity consistency DIR 1000 on the extended log: exit $rc"; show "$T/err"
	fi
}
foreign_log

finish
