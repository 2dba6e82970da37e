#!/bin/sh
# Black-box tests of the probity command line against its contract:
# keygen, init, add, checkpoint, prove, consistency, verify, verify-proof;
# the tlog-tiles layout on disk; bad input; two concurrent writers.
# Hashes, roots, proofs and signatures are re-checked independently here
# (sha256sum, openssl) and against known answers from golang.org/x/mod/sumdb.
#
# Env: PROBITY (binary), PRB_SHARED (optional vectors), PRB_BIG=0 skips the
# 256,001-entry log, VERBOSE=1 lists passes.
set -u
. "$(dirname "$0")/lib.sh"

EMPTY_ROOT=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
# Roots of the log of entries "entry-0".."entry-<size-1>" (log1000 vectors,
# golang.org/x/mod/sumdb/tlog).
root_of() {
	case $1 in
	1) echo QHZrIDNCkCb1PVRQJnmoOXBrR0H43K86i7pfQbX/4HU= ;;
	2) echo LyelCCwdQq+kiKw1Cp/EOQwIT1T3Hs3/hZ6Y24QptHk= ;;
	3) echo pkvybgkSj2/i/m+LLYyAHhZrV8BHp82bK4Ceepai8cs= ;;
	255) echo RdqfN0dI4Xo3L3HABCKxLiv5aELx9hxXQP5JTkvs/w8= ;;
	256) echo +F9OrTQIBxC00egIMBVDqquBqgTeuIWZNQ3Cak8vWN4= ;;
	257) echo kYsc7GTzF8duPPVcBTaEHAOe/wZ3LruIKM58F2Aotaw= ;;
	511) echo qP9zdX7UYstfHdgB6SwVpcuoUDCmMzal+kSctzCnrxc= ;;
	512) echo yVSZmstk87dU2dEo15xto2DYeDU57KpKz6f0tLIOqv0= ;;
	513) echo CGaIgyFVdheXwAR/QMj52EMC2amvbSYw2JD/uEjdUz8= ;;
	999) echo H5NNb7qOrou449ordEREeeimM7WWSrg/rLdNhcwql04= ;;
	1000) echo 0D1jt3KvmQGYF+4+AYKG02omFhvbW/6CKOksAqvpEV0= ;;
	esac
}
KNOWN_SIZES="1 2 3 255 256 257 511 512 513 999 1000"
# The log1000 vector key (test-only; seed = SHA-256("log1000 test log key"),
# shared/vectors/note.json) and its Ed25519 signature of the size-1000
# checkpoint (deterministic).
V_SKEY='PRIVATE+KEY+example.com/log1000+1421a28f+ASk80HwVCn7AdUdc75dD/pLGqR/JdQEkOVkkA9AwiWzX'
V_VKEY='example.com/log1000+1421a28f+ARteS+cPHncoRMO3XRdmEdbOhKXJLvdAigE0ES6StKKE'
V_SIG1000='FCGij9qPYyDbFxFK1KJdSTw/HeqyJJt129aGdjU+asclvAczTOGWasMb4Yek6zwy2X7KYMNIrytWpCdDIJpybl9cYgs='
# Consistency proofs 256->1000 and 999->1000 (tlog.ProveTree).
CONS_256_1000='MUv1ErFfDGcUlQkVAv4BKFNFh6BHpM8ERmyt+nSDzB0=
0pUD4PYEmhlTwaL9L5UWJJha89FXWrJMM0Mcaywfuik='
CONS_999_1000='LzXUTods+gDyeOXgC6VcuN5hImbhyg3xuzUkOmYwUGI=
vxU4adKQtyx1aayErs8wAaux2X+1jN7AbOoGM7/PSHk=
NBUtVqwDFtXVyfW5MdTCN2VvA0W1VlMzJC4L27GOTF8=
FzKYE8swvAm3Fcrgoozd/9ZVDMFVXngWXVLKygiCiW8=
kinoqUEfZTozL65QFjhA3UPgKxb9Uj7qU7LKvrzudSM=
7Ij6SC+iKgx7Yagkr1GDkFAR9ff1y8O1g6lzL4jaysE=
PetlIH6NMUvDpKAmwQK7MMFyxHRP6o0aW6FKsodE5G0=
6rzn4pEUwLVlYUXku3/JJxjFw1sMNEDQ4GnDovjcnHM=
yVSZmstk87dU2dEo15xto2DYeDU57KpKz6f0tLIOqv0='

SUBS="keygen init add checkpoint prove consistency verify verify-proof"

# ---------------------------------------------------------------------------
section "--help and usage errors"
for sub in $SUBS; do
	prb "$sub" --help
	if [ "$RC" -eq 0 ] && [ -s "$T/out" ] && grep -q -- "$sub" "$T/out"; then
		ok "$sub --help"
	else
		bad "$sub --help: exit 0 with usage (naming '$sub') on stdout" "exit $RC; stdout: $(head_of "$T/out" 2); stderr: $(head_of "$T/err" 2)"
	fi
done
expect_fail "unknown subcommand is an error" frobnicate
prb
check "no arguments: non-zero exit" [ "$RC" -ne 0 ]
expect_fail "prove without INDEX is an error" prove "$T"

# ---------------------------------------------------------------------------
section keygen
KA=$T/a.key NA=test.example/log-a
prb keygen "$NA" -o "$KA"
if [ "$RC" -eq 0 ]; then ok "keygen"; else bad "keygen $NA" "exit $RC: $(head_of "$T/err")"; finish; fi
VKA=$(head -n 1 "$T/out")
eq "keygen prints exactly one line (the verifier key)" "$(wc -l <"$T/out")" 1
if printf %s "$VKA" | grep -Eq '^test\.example/log-a\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$'; then
	ok "verifier key format"
else bad "verifier key format name+hexid+base64" "got: $VKA"; fi
vk_parts "$VKA"
eq "verifier key: 33 bytes, type 0x01" "$(b64hex "$VK_KEY" | cut -c1-2)/$(printf %s "$VK_KEY" | base64 -d | wc -c)" "01/33"
eq "verifier key ID = SHA-256(name\\n0x01 pub)[:4]" "$VK_ID" "$(key_id_of "$VK_NAME" "$VK_KEY")"
eq "signer key file mode 0600" "$(stat -c %a "$KA")" 600
SKA=$(head -n 1 "$KA")
check "signer key file holds one line" [ "$(wc -l <"$KA")" -le 1 ]
if printf %s "$SKA" | grep -Eq '^PRIVATE\+KEY\+test\.example/log-a\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$'; then
	ok "signer key format"
else bad "signer key format PRIVATE+KEY+name+hexid+base64" "got: $(printf %s "$SKA" | cut -c1-30)..."; fi
_sk=${SKA#PRIVATE+KEY+}; _sk=${_sk#*+}
eq "signer and verifier key IDs agree" "${_sk%%+*}" "$VK_ID"
_seed=${_sk#*+}
eq "signer key: 0x01 || 32-byte seed" "$(b64hex "$_seed" | cut -c1-2)/$(printf %s "$_seed" | base64 -d | wc -c)" "01/33"
if [ -n "$HAVE_OPENSSL" ]; then
	eq "public key derives from the seed (openssl)" "$(ed25519_pub_of_seed "$_seed")" "$(b64hex "$VK_KEY" | cut -c3-)"
else skip "openssl/basenc missing: seed->public key not checked"; fi

sum=$(fsha "$KA")
expect_fail "keygen refuses to overwrite a key file" keygen "$NA" -o "$KA"
eq "refused keygen left the key file alone" "$(fsha "$KA")" "$sum"
: >"$T/existing"
expect_fail "keygen refuses to overwrite any existing file" keygen other.example -o "$T/existing"
check "existing file still empty" [ ! -s "$T/existing" ]
old_umask=$(umask)
umask 000
prb keygen umask.example -o "$T/umask.key"
umask "$old_umask"
eq "keygen under umask 000 still writes mode 0600" "$(stat -c %a "$T/umask.key" 2>/dev/null)" 600
new_key "$NA" "$T/a2.key"; VKA2=$VK
check "two keygens of one name give different keys" [ "$VKA2" != "$VKA" ]
expect_fail "keygen into a missing directory fails" keygen x.example -o "$T/no/such/dir/k"
# Decision: key names follow c2sp.org/signed-note (non-empty, no '+', no space).
expect_fail "keygen rejects a name containing '+'" keygen "bad+name" -o "$T/plus.key"
check "no key file for a rejected name" [ ! -e "$T/plus.key" ]
expect_fail "keygen rejects an empty name" keygen "" -o "$T/empty.key"
expect_fail "keygen rejects a name with a space" keygen "bad name" -o "$T/space.key"

# ---------------------------------------------------------------------------
section "init and checkpoint"
DA=$T/logA
mkdir "$DA"
expect_ok "init" init "$DA" --key "$KA"
check "init wrote DIR/checkpoint" [ -f "$DA/checkpoint" ]
check_checkpoint "size-0 checkpoint shape and signature" "$DA/checkpoint" "$NA" 0 "$VKA"
eq "size-0 root is SHA-256 of the empty string" "$(cp_root "$DA")" "$EMPTY_ROOT"
expect_ok "checkpoint command" checkpoint "$DA"
check "checkpoint command prints DIR/checkpoint verbatim" cmp -s "$T/out" "$DA/checkpoint"
verify_ok "verify the empty log" "$DA" "$VKA"
printf '%s\n' "$VKA" >"$T/a.vkey"
verify_ok "verify with --vkey naming a file" "$DA" "$T/a.vkey"
sum=$(fsha "$DA/checkpoint")
expect_fail "init refuses a directory that holds a log" init "$DA" --key "$KA"
expect_fail "init refuses a log even with another key" init "$DA" --key "$T/a2.key"
eq "refused init left the checkpoint alone" "$(fsha "$DA/checkpoint")" "$sum"
# An earlier log's files without its checkpoint: a new log there would
# overwrite its tiles and contradict its checkpoints under the same key.
mkdir "$T/stale"
prb init "$T/stale" --key "$KA"
printf 's1\ns2\ns3\n' | prb add "$T/stale" --key "$KA"
rm "$T/stale/checkpoint"
tiles_before=$(cd "$T/stale" && find tile -type f | sort | xargs sha256sum | sha256sum)
expect_fail "init refuses a directory holding an earlier log's tiles" init "$T/stale" --key "$KA"
err_has "the refusal says the directory is not empty" 'not empty'
check "refused init wrote no checkpoint over stale tiles" [ ! -e "$T/stale/checkpoint" ]
eq "refused init left the stale tiles alone" \
	"$(cd "$T/stale" && find tile -type f | sort | xargs sha256sum | sha256sum)" "$tiles_before"
mkdir "$T/other"
echo notes >"$T/other/README"
expect_fail "init refuses a non-empty directory (help: new or empty)" init "$T/other" --key "$KA"
err_has "the refusal names what the directory holds" 'README'
mkdir "$T/i1" "$T/i2" "$T/i3"
expect_fail "init with a missing key file" init "$T/i1" --key "$T/no-such.key"
check "no checkpoint after a failed init" [ ! -e "$T/i1/checkpoint" ]
echo "not a key" >"$T/garbage.key"
expect_fail "init with a malformed key file" init "$T/i2" --key "$T/garbage.key"
check "no checkpoint after a failed init (malformed key)" [ ! -e "$T/i2/checkpoint" ]
prb init "$T/new-dir" --key "$KA"
if [ "$RC" -eq 0 ]; then
	verify_ok "init of a not-yet-existing directory creates a verifying log" "$T/new-dir" "$VKA"
elif one_line "$T/err"; then ok "init of a missing directory: clean error"
else bad "init of a missing directory: neither success nor one-line error" "exit $RC: $(head_of "$T/err")"; fi
expect_fail "checkpoint on a directory without a log" checkpoint "$T/i3"
expect_fail "verify on a directory without a log" verify "$T/i3" --vkey "$VKA"
expect_fail "add to a directory without a log" add "$T/i3" --key "$KA" "$T/a.vkey"
check "failed add created no checkpoint" [ ! -e "$T/i3/checkpoint" ]

# ---------------------------------------------------------------------------
section "add: files, stdin, '-'"
printf 'a1\na2\na3\n' >"$T/f1"
add_ok "add from a file" "$DA" "$KA" 0 3 "$T/f1"
printf 'b1\nb2\n' >"$T/in"
add_ok "add from stdin (no FILE)" "$DA" "$KA" 3 5 <"$T/in"
printf 'c1\n' >"$T/in"
add_ok "add from '-'" "$DA" "$KA" 5 6 - <"$T/in"
printf 'd1\nd2\n' >"$T/f2"
printf 'd3\n' >"$T/f3"
add_ok "add from two files" "$DA" "$KA" 6 9 "$T/f2" "$T/f3"
printf 'e1\n' >"$T/f4"
printf 'e3\n' >"$T/f5"
printf 'e2\n' >"$T/in"
add_ok "add from file, '-', file" "$DA" "$KA" 9 12 "$T/f4" - "$T/f5" <"$T/in"
add_ok "add from an empty stdin adds nothing" "$DA" "$KA" 12 12 </dev/null
: >"$T/empty"
add_ok "add from an empty file adds nothing" "$DA" "$KA" 12 12 "$T/empty"
eq "entries in input order" "$(entries_range "$DA" 12 0 12 | tr '\n' ' ')" "a1 a2 a3 b1 b2 c1 d1 d2 d3 e1 e2 e3 "
check_checkpoint "checkpoint shape after adds" "$DA/checkpoint" "$NA" 12 "$VKA"
verify_ok "verify after adds" "$DA" "$VKA"
check_tiles "log A" "$DA" 12
: >"$T/leaves"
: >"$T/bundle"
for e in a1 a2 a3 b1 b2 c1 d1 d2 d3 e1 e2 e3; do
	printf %s "$e" >"$T/e"
	leaf_hex "$T/e" >>"$T/leaves"
	{ be16 2; printf %s "$e"; } >>"$T/bundle"
done
check "entry bundle bytes (uint16 length + entry)" cmp -s "$T/bundle" "$DA/tile/entries/000.p/12"
tr -d '\n' <"$T/leaves" | hexbin >"$T/tile"
check "hash tile bytes (leaf hashes)" cmp -s "$T/tile" "$DA/tile/0/000.p/12"
eq "root = RFC 6962 tree hash of the entries" "$(b64hex "$(cp_root "$DA")")" "$(mth_hex "$T/leaves")"
# "size N" is printed and flushed as soon as a batch is durable, while the
# input is still open.
rm -f "$T/fifo"; mkfifo "$T/fifo"
( printf 'f1\n'; sleep 3; printf 'f2\n' ) >"$T/fifo" &
pG=$!
$TO "$PROBITY" add "$DA" --key "$KA" <"$T/fifo" >"$T/flush.out" 2>"$T/flush.err" &
pA=$!
BGPIDS="$pG $pA"
n=0
while [ $n -lt 50 ] && ! grep -qx 'size 13' "$T/flush.out" 2>/dev/null; do sleep 0.05; n=$((n + 1)); done
if grep -qx 'size 13' "$T/flush.out" 2>/dev/null; then ok "'size 13' on stdout while the input is still open"
else bad "'size N' is flushed when a batch is durable" "no 'size 13' within 2.5 s of writing one line; stdout so far: $(head_of "$T/flush.out")"; fi
wait $pG; wait $pA; RC=$?
BGPIDS=""
sanity_after "add from a slow pipe" "$T/flush.err"
eq "add from a slow pipe: exit 0, sizes 13 then 14" "$RC/$(tr '\n' ' ' <"$T/flush.out")" "0/size 13 size 14 "
expect_fail "add with a missing input file" add "$DA" --key "$KA" "$T/no-such-input"
err_has "the error names the missing input file" 'no-such-input'
verify_ok "log verifies after the failed add" "$DA" "$VKA"

# ---------------------------------------------------------------------------
section "lines: empty, CR, NUL, no final newline"
KB=$T/b.key NB=test.example/log-b
new_key "$NB" "$KB"; VKB=$VK
DB=$T/logB
new_log "$DB" "$KB"
printf 'first' >"$T/le0"
: >"$T/le1"
printf 'cr\r' >"$T/le2"
printf 'nul\000byte' >"$T/le3"
printf '  spaced  ' >"$T/le4"
printf '\ttab' >"$T/le5"
printf 'last-no-newline' >"$T/le6"
i=0
: >"$T/lines"
: >"$T/bundle"
: >"$T/leaves"
while [ $i -le 6 ]; do
	cat "$T/le$i" >>"$T/lines"
	[ $i -lt 6 ] && printf '\n' >>"$T/lines"
	{ be16 "$(wc -c <"$T/le$i")"; cat "$T/le$i"; } >>"$T/bundle"
	leaf_hex "$T/le$i" >>"$T/leaves"
	i=$((i + 1))
done
add_ok "add 7 lines (empty, CR, NUL, no final newline)" "$DB" "$KB" 0 7 "$T/lines"
check "entry bundle holds exactly the 7 lines' bytes" cmp -s "$T/bundle" "$DB/tile/entries/000.p/7"
tr -d '\n' <"$T/leaves" | hexbin >"$T/tile"
check "hash tile of the 7 entries" cmp -s "$T/tile" "$DB/tile/0/000.p/7"
ROOTB=$(b64hex "$(cp_root "$DB")")
eq "root of the 7 entries" "$ROOTB" "$(mth_hex "$T/leaves")"
i=0
while [ $i -le 6 ]; do
	prb prove "$DB" $i
	cp "$T/out" "$T/pb$i"
	if [ "$RC" -ne 0 ]; then bad "prove log B $i" "exit $RC: $(head_of "$T/err")"; i=$((i + 1)); continue; fi
	expect_ok "verify-proof of line entry $i" verify-proof "$T/pb$i" "$T/le$i" --vkey "$VKB"
	proof_hashes "$T/pb$i" >"$T/ph"
	b64lines_to_hex "$T/ph" "$T/phx"
	check "inclusion proof $i checks independently" verify_inclusion $i 7 "$(leaf_hex "$T/le$i")" "$ROOTB" "$T/phx"
	i=$((i + 1))
done
expect_fail "verify-proof: the empty entry's proof against a newline" verify-proof "$T/pb1" "$T/f3" --vkey "$VKB"
printf 'x' >"$T/nx"
printf 'y\n' >"$T/ny"
add_ok "a file without final newline then another file" "$DB" "$KB" 7 9 "$T/nx" "$T/ny"
eq "last line of a file is not joined with the next file" "$(entries_range "$DB" 9 7 9 | tr '\n' ' ')" "x y "
printf '\n\n' >"$T/in"
add_ok "two newlines are two empty entries" "$DB" "$KB" 9 11 <"$T/in"
printf '' >"$T/e"
prb prove "$DB" 10
cp "$T/out" "$T/pb10"
expect_ok "verify-proof of an empty entry" verify-proof "$T/pb10" "$T/e" --vkey "$VKB"
verify_ok "verify log B" "$DB" "$VKB"

# ---------------------------------------------------------------------------
section "tile boundaries: the log1000 known-answer log, built incrementally"
KV=$T/log1000.key
printf '%s\n' "$V_SKEY" >"$KV"
chmod 600 "$KV"
NV=example.com/log1000
gen_lines entry- 0 999 >"$T/all1000"
D1=$T/log1000
new_log "$D1" "$KV"
check_checkpoint "size-0 checkpoint of the vector key" "$D1/checkpoint" "$NV" 0 "$V_VKEY"
prev=0
for s in $KNOWN_SIZES; do
	sed -n "$((prev + 1)),${s}p" "$T/all1000" >"$T/chunk"
	add_ok "add entries $prev..$((s - 1))" "$D1" "$KV" $prev "$s" "$T/chunk"
	eq "root at size $s (x/mod/sumdb/tlog)" "$(cp_root "$D1")" "$(root_of "$s")"
	cp "$D1/checkpoint" "$T/cp1000.$s"
	check_tiles "incremental log1000" "$D1" "$s"
	prev=$s
done
verify_ok "verify the log1000 log" "$D1" "$V_VKEY"
printf '%s\n%s\n%s\n\n%s %s %s\n' "$NV" 1000 "$(root_of 1000)" "$EMDASH" "$NV" "$V_SIG1000" >"$T/cp1000.want"
check "size-1000 checkpoint equals the vector byte for byte" cmp -s "$T/cp1000.want" "$D1/checkpoint"
check_checkpoint "size-1000 checkpoint" "$D1/checkpoint" "$NV" 1000 "$V_VKEY"
check "no secret key material inside the log directory" [ -z "$(grep -rl 'PRIVATE' "$D1" "$DA" "$DB")" ]
eq "partial tiles of 255/511 are gone once the full tiles exist" \
	"$(find "$D1/tile/0/000.p" "$D1/tile/0/001.p" "$D1/tile/entries/000.p" "$D1/tile/entries/001.p" -type f 2>/dev/null | wc -l)" 0

section "the log1000 log in one add, against the vector tiles"
D2=$T/log1000b
new_log "$D2" "$KV"
add_ok "add 1000 entries in one command" "$D2" "$KV" 0 1000 "$T/all1000"
eq "one-shot log1000 root" "$(cp_root "$D2")" "$(root_of 1000)"
check "one-shot checkpoint equals the vector byte for byte" cmp -s "$T/cp1000.want" "$D2/checkpoint"
check_tiles "one-shot log1000" "$D2" 1000
verify_ok "verify one-shot log1000" "$D2" "$V_VKEY"
VT=$PRB_SHARED/vectors/tiles/log1000/tile
if [ -d "$VT" ]; then
	(cd "$VT/.." && find tile -type f | sort) >"$T/vfiles"
	nv=0
	while read -r f; do
		nv=$((nv + 1))
		check "$f equals the vector (one-shot)" cmp -s "$VT/../$f" "$D2/$f"
		check "$f equals the vector (incremental)" cmp -s "$VT/../$f" "$D1/$f"
	done <"$T/vfiles"
	eq "9 vector tile files compared" $nv 9
else
	skip "$VT absent: tile bytes not compared with the x/mod vectors (roots were)"
fi

# ---------------------------------------------------------------------------
section "prove and verify-proof"
ROOT1000=$(b64hex "$(root_of 1000)")
for i in 0 1 2 5 254 255 256 257 511 512 513 767 768 998 999; do
	prb prove "$D1" $i
	cp "$T/out" "$T/p$i"
	printf 'entry-%d' $i >"$T/en$i"
	if [ "$RC" -ne 0 ]; then bad "prove $i" "exit $RC: $(head_of "$T/err")"; continue; fi
	_w=""
	[ "$(head -n 1 "$T/p$i")" = "c2sp.org/tlog-proof@v1" ] || _w="$_w; first line not c2sp.org/tlog-proof@v1"
	grep -qx "index $i" "$T/p$i" || _w="$_w; no 'index $i' line"
	proof_checkpoint "$T/p$i" >"$T/pc"
	cmp -s "$T/pc" "$D1/checkpoint" || _w="$_w; embedded checkpoint differs from the latest checkpoint"
	proof_hashes "$T/p$i" >"$T/ph"
	grep -Evq '^[A-Za-z0-9+/]{43}=$' "$T/ph" && _w="$_w; a proof line is not a base64 hash"
	b64lines_to_hex "$T/ph" "$T/phx"
	printf 'entry-%d' $i >"$T/e"
	verify_inclusion $i 1000 "$(leaf_hex "$T/e")" "$ROOT1000" "$T/phx" || _w="$_w; path does not verify (RFC 9162 check here)"
	if [ -z "$_w" ]; then ok "prove $i: tlog-proof shape and path"; else bad "prove $i" "${_w#; }" "$(head_of "$T/p$i" 3)"; fi
	expect_ok "verify-proof $i" verify-proof "$T/p$i" "$T/en$i" --vkey "$V_VKEY"
done
VP=$PRB_SHARED/vectors/tlog-proof.json
if [ -f "$VP" ] && command -v python3 >/dev/null 2>&1; then
	python3 - "$VP" "$T/vp" <<'EOF'
import json, sys, os
d = json.load(open(sys.argv[1]))
os.makedirs(sys.argv[2], exist_ok=True)
with open(os.path.join(sys.argv[2], "list"), "w") as lst:
    for v in d["vectors"]:
        open(os.path.join(sys.argv[2], v["id"] + ".proof"), "wb").write(v["proof_text"].encode())
        open(os.path.join(sys.argv[2], v["id"] + ".entry"), "wb").write(v["entry"].encode())
        lst.write("%s %d\n" % (v["id"], 1 if v["want_valid"] else 0))
EOF
	while read -r id valid; do
		if [ "$valid" -eq 1 ]; then
			expect_ok "verify-proof of vector $id (cosigned, extra line)" verify-proof "$T/vp/$id.proof" "$T/vp/$id.entry" --vkey "$V_VKEY"
		else
			expect_fail "verify-proof rejects vector $id" verify-proof "$T/vp/$id.proof" "$T/vp/$id.entry" --vkey "$V_VKEY"
		fi
	done <"$T/vp/list"
	for i in 0 255 256 999; do
		grep -v "^$EMDASH witness\\." "$T/vp/index-$i.proof" >"$T/vpw"
		check "prove $i equals the tlog-proof vector (minus the cosignature)" cmp -s "$T/vpw" "$T/p$i"
	done
else
	skip "tlog-proof.json or python3 absent: vector proofs not checked"
fi
D1S=$T/log1
new_log "$D1S" "$KA"
printf 'only\n' >"$T/in"
add_ok "a one-entry log" "$D1S" "$KA" 0 1 <"$T/in"
prb prove "$D1S" 0
cp "$T/out" "$T/p1only"
eq "proof in a one-entry tree has no hashes" "$(proof_hashes "$T/p1only" | wc -l)" 0
printf only >"$T/e"
expect_ok "verify-proof in a one-entry tree" verify-proof "$T/p1only" "$T/e" --vkey "$VKA"

section "verify-proof: bad proofs, entries and keys"
P=$T/p5 E5=$T/en5
blank=$(grep -n '^$' "$P" | head -n 1 | cut -d: -f1)
mkp() { sed "$@" "$P" >"$T/bp"; }
mkp '1s/@v1/@v2/'; expect_fail "proof with a wrong header" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp 's/^index 5$/index 4/'; expect_fail "proof labelled with another index" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp 's/^index 5$/index 05/'; expect_fail "proof index with a leading zero" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp 's/^index 5$/index 1000/'; expect_fail "proof index = tree size" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp 's/^index 5$/index 18446744073709551621/'; expect_fail "proof index overflowing uint64" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp 's/^index 5$/index x/'; expect_fail "proof index not a number" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp '3s/.*/!!!!not-base64!!!!/'; expect_fail "proof hash not base64" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp '3s/.*/AAAA/'; expect_fail "proof hash of 3 bytes" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp -e '3{h;d}' -e '4G'; expect_fail "proof with two hashes swapped" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp "$((blank - 1))d"; expect_fail "proof with its last hash removed" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp '3p'; expect_fail "proof with a hash duplicated" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp "${blank}d"; expect_fail "proof without the blank line" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp '$d'; expect_fail "proof whose checkpoint has no signature" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp "$((blank + 2))s/.*/999/"; expect_fail "proof whose checkpoint size was changed" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp "$((blank + 3))s#.*#$(root_of 999)#"; expect_fail "proof whose checkpoint root was changed" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
mkp "$((blank + 1)),\$d"; expect_fail "proof without a checkpoint" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
: >"$T/bp"; expect_fail "empty proof file" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
head -n 1 "$P" >"$T/bp"; expect_fail "proof file with only the header" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
head -c 700 /dev/urandom >"$T/bp"; expect_fail "random bytes as proof" verify-proof "$T/bp" "$E5" --vkey "$V_VKEY"
expect_fail "missing proof file" verify-proof "$T/no-such-proof" "$E5" --vkey "$V_VKEY"
expect_fail "missing entry file" verify-proof "$P" "$T/no-such-entry" --vkey "$V_VKEY"
expect_fail "proof checked against another entry" verify-proof "$P" "$T/en6" --vkey "$V_VKEY"
printf 'entry-5\n' >"$T/e"
expect_fail "proof checked against the entry plus a newline" verify-proof "$P" "$T/e" --vkey "$V_VKEY"
: >"$T/e"
expect_fail "proof checked against an empty entry" verify-proof "$P" "$T/e" --vkey "$V_VKEY"
new_key "$NV" "$T/v2.key"
expect_fail "verify-proof with another key of the same name" verify-proof "$P" "$E5" --vkey "$VK"
expect_fail "verify-proof with a key of another name" verify-proof "$P" "$E5" --vkey "$VKA"
expect_fail "verify-proof with a malformed vkey" verify-proof "$P" "$E5" --vkey "example.com/log1000+1421a28f+garbage"
expect_ok "the untouched proof still verifies" verify-proof "$P" "$E5" --vkey "$V_VKEY"
printf '%s\n' "$V_VKEY" >"$T/v.vkey"
expect_ok "verify-proof with --vkey naming a file" verify-proof "$P" "$E5" --vkey "$T/v.vkey"

# ---------------------------------------------------------------------------
section "consistency"
# Every pair of known sizes, checked here with RFC 9162 against known roots.
npairs=0 nbad=0
for n in $KNOWN_SIZES; do
	for m in $KNOWN_SIZES; do
		[ "$m" -le "$n" ] || continue
		prb consistency "$D1" "$m" "$n"
		npairs=$((npairs + 1))
		if [ "$RC" -ne 0 ]; then
			nbad=$((nbad + 1)); bad "consistency $m $n" "exit $RC: $(head_of "$T/err")"; continue
		fi
		if grep -Evq '^[A-Za-z0-9+/]{43}=$' "$T/out"; then
			nbad=$((nbad + 1)); bad "consistency $m $n: output is not one base64 hash per line" "$(head_of "$T/out")"; continue
		fi
		b64lines_to_hex "$T/out" "$T/cxp"
		if ! verify_consistency "$m" "$n" "$(b64hex "$(root_of "$m")")" "$(b64hex "$(root_of "$n")")" "$T/cxp"; then
			nbad=$((nbad + 1)); bad "consistency proof $m -> $n does not verify" "$(wc -l <"$T/out") lines: $(head_of "$T/out" 2 | tr '\n' ' ')"
		fi
	done
done
[ $nbad -eq 0 ] && ok "$npairs consistency proofs between known sizes verify"
prb consistency "$D1" 256
eq "consistency 256 (NEW = latest) equals tlog.ProveTree(1000, 256)" "$(cat "$T/out")" "$CONS_256_1000"
prb consistency "$D1" 999 1000
eq "consistency 999 1000 equals tlog.ProveTree(1000, 999)" "$(cat "$T/out")" "$CONS_999_1000"
for m in 1 255 1000; do
	prb consistency "$D1" $m $m
	eq "consistency $m $m: exit 0 and no lines" "$RC/$(wc -l <"$T/out")" "0/0"
done
prb consistency "$D1" 1000
eq "consistency 1000 (= latest): exit 0 and no lines" "$RC/$(wc -l <"$T/out")" "0/0"
prb consistency "$D1" 1
eq "consistency 1 (to 1000): 10 lines" "$RC/$(wc -l <"$T/out")" "0/10"
expect_fail "consistency OLD > NEW" consistency "$D1" 500 400
expect_fail "consistency NEW > size" consistency "$D1" 10 1001
expect_fail "consistency OLD > size" consistency "$D1" 1001
expect_fail "consistency with a non-numeric size" consistency "$D1" abc
expect_fail "consistency with a negative size" consistency "$D1" -1 10
expect_fail "prove index = size" prove "$D1" 1000
expect_fail "prove index far out of range" prove "$D1" 18446744073709551615
expect_fail "prove a negative index" prove "$D1" -1
expect_fail "prove a non-numeric index" prove "$D1" x
expect_fail "prove on a directory without a log" prove "$T/i3" 0
DE=$T/logEmpty
new_log "$DE" "$KA"
expect_fail "prove 0 in a size-0 log" prove "$DE" 0
prb consistency "$DE" 0
if [ "$RC" -eq 0 ]; then eq "consistency 0 in a size-0 log prints nothing" "$(wc -l <"$T/out")" 0
elif one_line "$T/err"; then ok "consistency 0 in a size-0 log: clean error"
else bad "consistency 0 in a size-0 log" "exit $RC: $(head_of "$T/err")"; fi

# ---------------------------------------------------------------------------
section "bad keys on add"
DK=$T/logK
cp -R "$D1" "$DK"
sum=$(fsha "$DK/checkpoint")
printf 'k1\n' >"$T/k1in"
bad_key_add() {
	expect_fail "$1" add "$DK" --key "$2" "$T/k1in"
	eq "$1: checkpoint unchanged" "$(fsha "$DK/checkpoint")" "$sum"
}
bad_key_add "add with a missing key file" "$T/no-such.key"
bad_key_add "add with a garbage key file" "$T/garbage.key"
: >"$T/bk"; bad_key_add "add with an empty key file" "$T/bk"
printf '%s\n' "$V_VKEY" >"$T/bk"; bad_key_add "add with a verifier key as key file" "$T/bk"
printf '%s\n' "${V_SKEY%+*}+ASk80HwVCn7AdUdc75dD" >"$T/bk"; bad_key_add "add with a truncated seed" "$T/bk"
printf '%s\n' "${V_SKEY%+*}+!!!!" >"$T/bk"; bad_key_add "add with a key of bad base64" "$T/bk"
printf '%s\n' "$V_SKEY" | sed 's/+1421a28f+/+1421a28e+/' >"$T/bk"; bad_key_add "add with a key whose key ID does not match" "$T/bk"
printf '%s\n' "$V_SKEY" | sed 's/+ASk8/+Ask8/' >"$T/bk"; bad_key_add "add with a key of another algorithm byte" "$T/bk"
printf '%s\n' "$V_SKEY" | sed 's/^PRIVATE+KEY+//' >"$T/bk"; bad_key_add "add with a key lacking PRIVATE+KEY" "$T/bk"
bad_key_add "add with a key of another name" "$KA"
err_has "name mismatch names the origin or the key name" 'example\.com/log1000|test\.example/log-a'
bad_key_add "add with the right name but another secret" "$T/v2.key"
expect_fail "add without --key" add "$DK" "$T/k1in"
eq "add without --key: checkpoint unchanged" "$(fsha "$DK/checkpoint")" "$sum"
verify_ok "log verifies after the refused adds" "$DK" "$V_VKEY"
add_ok "the right key still adds" "$DK" "$KV" 1000 1001 "$T/k1in"

# ---------------------------------------------------------------------------
section "oversize entries"
DO=$T/logO
cp -R "$DA" "$DO"
s0=$(cp_size "$DO")
head -c 65535 /dev/zero | tr '\000' a >"$T/max"
head -c 65536 /dev/zero | tr '\000' b >"$T/over"
{ printf 'ok-1\nok-2\n'; cat "$T/over"; printf '\nok-4\n'; } >"$T/big-input.txt"
prb add "$DO" --key "$KA" "$T/big-input.txt"
rc_over=$RC
cp "$T/out" "$T/over.out"
cp "$T/err" "$T/over.err"
s1=$(cp_size "$DO")
if [ "$rc_over" -ne 0 ] && [ "$rc_over" -lt 125 ] && one_line "$T/err"; then ok "an entry of 65,536 bytes is refused"
else bad "an entry of 65,536 bytes is refused with a one-line error" "exit $rc_over; stderr: $(head_of "$T/err" 3)"; fi
err_has "the error names the input file" 'big-input\.txt'
err_has "the error names line 3" '(line 3|:3)([^0-9]|$)'
case $s1 in
"$s0" | "$((s0 + 2))") ok "only entries before the bad line may be committed ($s0 -> $s1)" ;;
*) bad "log size after an oversize line" "size $s0 -> $s1 (allowed: $s0 or $((s0 + 2)))" ;;
esac
if grep -Eq "(^|[^0-9])$s1([^0-9]|$)" "$T/over.err" || [ "$(last_size "$T/over.out" -)" = "$s1" ]; then
	ok "the failed add states what was committed (log size $s1)"
else
	bad "the failed add states what was committed (log size $s1)" "stderr: $(head_of "$T/over.err")" "stdout: $(head_of "$T/over.out")"
fi
if [ "$s1" -gt "$s0" ]; then
	eq "committed entries are the lines before the bad one" "$(entries_range "$DO" "$s1" "$s0" "$s1" | tr '\n' ' ')" "ok-1 ok-2 "
fi
verify_ok "log verifies after the oversize entry" "$DO" "$VKA"
s0=$s1
{ cat "$T/over"; printf '\n'; } >"$T/in"
prb add "$DO" --key "$KA" <"$T/in"
if [ "$RC" -ne 0 ] && one_line "$T/err"; then ok "oversize entry on stdin refused"; else bad "oversize entry on stdin refused" "exit $RC: $(head_of "$T/err")"; fi
err_has "stdin error names line 1" '(line 1|:1)([^0-9]|$)'
eq "nothing committed from the refused stdin" "$(cp_size "$DO")" "$s0"
printf 'fine\n' >"$T/fine"
{ printf 'x\n'; cat "$T/over"; } >"$T/over-last.txt"
prb add "$DO" --key "$KA" "$T/fine" "$T/over-last.txt"
if [ "$RC" -ne 0 ] && one_line "$T/err"; then ok "oversize final line (no newline) in a second file refused"; else bad "oversize last line of second file refused" "exit $RC: $(head_of "$T/err")"; fi
err_has "error names the second file" 'over-last\.txt'
err_has "error names its line 2" '(line 2|:2)([^0-9]|$)'
s1=$(cp_size "$DO")
check "at most the lines before the bad one were committed" [ "$s1" -le $((s0 + 2)) ]
verify_ok "log verifies after the second oversize refusal" "$DO" "$VKA"
s0=$s1
add_ok "an entry of exactly 65,535 bytes is accepted" "$DO" "$KA" "$s0" $((s0 + 1)) "$T/max"
prb prove "$DO" "$s0"
cp "$T/out" "$T/pmax"
expect_ok "verify-proof of the 65,535-byte entry" verify-proof "$T/pmax" "$T/max" --vkey "$VKA"
verify_ok "log verifies with a 65,535-byte entry" "$DO" "$VKA"
nfmt $((s0 / 256))
_bh=$(od -An -v -tx1 "$DO/tile/entries/$NF.p/$((s0 % 256 + 1))" 2>/dev/null | tr -d ' \n' | grep -c 'ffff6161616161')
eq "bundle holds the 65,535-byte entry with length ff ff" "$_bh" 1

# ---------------------------------------------------------------------------
section "corrupted logs: verify names the file"
corrupt() { rm -rf "$T/cx"; cp -R "$D1" "$T/cx"; }
# vcase MSG PATTERN: verify must fail with a one-line error matching PATTERN;
# checkpoint/prove/consistency must not crash on the damaged log.
vcase() {
	if expect_fail "verify: $1" verify "$T/cx" --vkey "$V_VKEY"; then
		[ -n "$2" ] && err_has "verify: $1: error names $2" "$2"
	fi
	cp "$T/err" "$T/verr"
	prb checkpoint "$T/cx"
	prb prove "$T/cx" 5
	prb prove "$T/cx" 999
	prb consistency "$T/cx" 10
	cp "$T/verr" "$T/err"
}
corrupt
verify_ok "an intact copy verifies" "$T/cx" "$V_VKEY"
corrupt; flip_byte "$T/cx/tile/0/000" 100
vcase "one byte flipped in tile/0/000" 'tile/0/000'
err_has "verify: the error says what was expected" '[Ee]xpect'
corrupt; flip_byte "$T/cx/tile/0/001" 8191
vcase "last byte flipped in tile/0/001" 'tile/0/001'
corrupt; flip_byte "$T/cx/tile/0/003.p/232" 0
vcase "byte flipped in partial tile/0/003.p/232" 'tile/0/003\.p/232'
corrupt; flip_byte "$T/cx/tile/1/000.p/3" 40
vcase "byte flipped in level-1 tile/1/000.p/3" 'tile/1/000\.p/3'
corrupt; truncate_to "$T/cx/tile/entries/000" $(($(wc -c <"$D1/tile/entries/000") - 1))
vcase "entry bundle tile/entries/000 truncated by one byte" 'tile/entries/000'
corrupt; truncate_to "$T/cx/tile/entries/003.p/232" 100
vcase "partial bundle tile/entries/003.p/232 truncated" 'tile/entries/003\.p/232'
corrupt; flip_byte "$T/cx/tile/entries/001" 20
vcase "entry byte changed in tile/entries/001" 'tile/(entries|0)/001'
corrupt; flip_byte "$T/cx/tile/entries/002" 0
vcase "length prefix changed in tile/entries/002" 'tile/entries/002'
corrupt; printf 'z' >>"$T/cx/tile/entries/001"
vcase "trailing byte after the last entry of tile/entries/001" 'tile/entries/001'
corrupt; printf 'z' >>"$T/cx/tile/0/000"
vcase "tile/0/000 one byte too long" 'tile/0/000'
corrupt; rm "$T/cx/tile/0/002"
vcase "tile/0/002 missing" 'tile/0/002'
corrupt; rm "$T/cx/tile/entries/003.p/232"
vcase "tile/entries/003.p/232 missing" 'tile/entries/003\.p/232'
corrupt; sed "3s#.*#$(root_of 999)#" "$D1/checkpoint" >"$T/cx/checkpoint"
vcase "checkpoint root replaced" ''
expect_fail "add refuses a log whose checkpoint signature fails" add "$T/cx" --key "$KV" "$T/k1in"
corrupt; sed '2s/.*/999/' "$D1/checkpoint" >"$T/cx/checkpoint"
vcase "checkpoint size changed" ''
corrupt; head -n 3 "$D1/checkpoint" >"$T/cx/checkpoint"
vcase "checkpoint without signature" ''
expect_fail "add refuses an unsigned checkpoint" add "$T/cx" --key "$KV" "$T/k1in"
corrupt; head -c 20 "$D1/checkpoint" >"$T/cx/checkpoint"
vcase "checkpoint truncated to 20 bytes" ''
expect_fail "add refuses a truncated checkpoint" add "$T/cx" --key "$KV" "$T/k1in"
corrupt; : >"$T/cx/checkpoint"
vcase "empty checkpoint" ''
corrupt; rm "$T/cx/checkpoint"
vcase "checkpoint missing" ''
corrupt; sed "5s#$V_SIG1000#$(printf %s "$V_SIG1000" | sed 's/^FCG/FCH/')#" "$D1/checkpoint" >"$T/cx/checkpoint"
vcase "checkpoint signature altered" ''
expect_fail "add refuses a checkpoint with a bad signature" add "$T/cx" --key "$KV" "$T/k1in"
corrupt; { cat "$D1/checkpoint"; head -c 64 /dev/urandom; } >"$T/cx/checkpoint"
vcase "checkpoint followed by garbage" ''

section "verify: wrong verifier keys"
expect_fail "verify with another key of the same name" verify "$D1" --vkey "$VK"
expect_fail "verify with a key of another name" verify "$D1" --vkey "$VKA"
expect_fail "verify with a malformed vkey" verify "$D1" --vkey "garbage"
expect_fail "verify with a vkey of bad key ID" verify "$D1" --vkey "$(printf %s "$V_VKEY" | sed 's/+1421a28f+/+1421a28e+/')"
expect_fail "verify with an empty vkey" verify "$D1" --vkey ""
expect_fail "verify with a missing vkey file" verify "$D1" --vkey "$T/no/such.vkey"
expect_fail "verify without --vkey" verify "$D1"

# ---------------------------------------------------------------------------
section "two concurrent writers"
DC=$T/logC
new_log "$DC" "$KA"
# writers_check ROUND RCA RCB: each ends well or with a lock error, the log
# holds all entries of the successful ones, in their order.
writers_check() {
	r=$1 sz=$(cp_size "$DC") want=$SZC
	for w in A B; do
		eval "rc=\$rc$w"
		RC=$rc
		sanity_after "concurrent add $w round $r" "$T/err$w"
		if [ "$rc" -eq 0 ]; then
			ok "round $r: writer $w succeeded"
			want=$((want + $(wc -l <"$T/in$w")))
		elif one_line "$T/err$w" && grep -qi lock "$T/err$w"; then
			ok "round $r: writer $w stopped with a lock error"
		else
			bad "round $r: writer $w neither succeeded nor gave a one-line lock error" "exit $rc: $(head_of "$T/err$w")"
		fi
	done
	if [ "$rcA" -eq 0 ] || [ "$rcB" -eq 0 ]; then ok "round $r: a writer succeeded"; else bad "round $r: neither writer succeeded"; fi
	eq "round $r: log size = entries of the successful writers" "$sz" "$want"
	entries_range "$DC" "$sz" "$SZC" "$sz" >"$T/got"
	for w in A B; do
		eval "rc=\$rc$w"
		grep "^w$w$r-" "$T/got" >"$T/got$w"
		if [ "$rc" -eq 0 ]; then
			check "round $r: writer $w's entries all present, in order" cmp -s "$T/got$w" "$T/in$w"
		else
			check "round $r: failed writer $w committed nothing" [ ! -s "$T/got$w" ]
		fi
	done
	eq "round $r: no foreign entries" "$(wc -l <"$T/got")" "$((sz - SZC))"
	verify_ok "round $r: log verifies" "$DC" "$VKA"
	SZC=$sz
}
SZC=0
r=1
while [ $r -le 3 ]; do
	gen_lines "wA$r-" 1 $((1500 * r)) >"$T/inA"
	gen_lines "wB$r-" 1 $((1700 * r)) >"$T/inB"
	$TO "$PROBITY" add "$DC" --key "$KA" "$T/inA" >"$T/outA" 2>"$T/errA" &
	pA=$!
	$TO "$PROBITY" add "$DC" --key "$KA" "$T/inB" >"$T/outB" 2>"$T/errB" &
	pB=$!
	BGPIDS="$pA $pB"
	wait $pA; rcA=$?
	wait $pB; rcB=$?
	BGPIDS=""
	writers_check $r
	r=$((r + 1))
done
# Round 4: writer A trickles its input (holds the log ~1.5 s), B starts later.
r=4
rm -f "$T/fifo"; mkfifo "$T/fifo"
gen_lines "wA4-" 1 200 >"$T/inA"
gen_lines "wB4-" 1 500 >"$T/inB"
(
	i=0
	while [ $i -lt 10 ]; do
		sed -n "$((i * 20 + 1)),$((i * 20 + 20))p" "$T/inA"
		sleep 0.15
		i=$((i + 1))
	done
) >"$T/fifo" &
pG=$!
$TO "$PROBITY" add "$DC" --key "$KA" <"$T/fifo" >"$T/outA" 2>"$T/errA" &
pA=$!
sleep 0.4
$TO "$PROBITY" add "$DC" --key "$KA" "$T/inB" >"$T/outB" 2>"$T/errB" &
pB=$!
BGPIDS="$pG $pA $pB"
wait $pG
wait $pA; rcA=$?
wait $pB; rcB=$?
BGPIDS=""
check "round 4: the trickling writer printed several batches" [ "$(grep -c '^size ' "$T/outA")" -ge 2 ]
writers_check 4

# Readers during a write: every verify started while add commits batches
# sees a consistent log (decision: the contract is silent; the tiles format
# promises it, and the directory is meant to be served while it grows).
(
	i=0
	while [ $i -lt 150 ]; do gen_lines "rv$i-" 1 37; sleep 0.01; i=$((i + 1)); done
) >"$T/fifo" &
pG=$!
$TO "$PROBITY" add "$DC" --key "$KA" <"$T/fifo" >"$T/outA" 2>"$T/errA" &
pA=$!
BGPIDS="$pG $pA"
n=0 vf=0
while [ $n -lt 15 ]; do
	prb verify "$DC" --vkey "$VKA"
	[ "$RC" -ne 0 ] && { vf=$((vf + 1)); cp "$T/err" "$T/verr"; }
	n=$((n + 1))
done
wait $pG; wait $pA; RC=$?
BGPIDS=""
sanity_after "add during verifies" "$T/errA"
eq "add while verify runs: exit 0" "$RC" 0
if [ $vf -eq 0 ]; then ok "15 verifies during an add all pass"
else bad "verify during an add" "$vf of 15 failed; last: $(head_of "$T/verr")"; fi
verify_ok "log verifies after the add" "$DC" "$VKA"

# The same, deterministically: a reader that read the checkpoint of size 250
# before an add reached 260 finds the full tiles in place of the pruned
# partials 000.p/250; tlog-tiles readers fall back to the full tile.
section "a reader holding an older checkpoint"
DR=$T/logR
new_log "$DR" "$KA"
gen_lines r 1 260 >"$T/in260"
head -n 250 "$T/in260" >"$T/in250"
add_ok "add 250" "$DR" "$KA" 0 250 "$T/in250"
cp "$DR/checkpoint" "$T/cp250"
tail -n 10 "$T/in260" >"$T/in10"
add_ok "add 10 more (tile 000 full, partials pruned)" "$DR" "$KA" 250 260 "$T/in10"
cp "$T/cp250" "$DR/checkpoint"
verify_ok "verify with the size-250 checkpoint after the partials were pruned" "$DR" "$VKA"
prb prove "$DR" 249
cp "$T/out" "$T/pr"
printf r250 >"$T/e"
expect_ok "prove+verify-proof with the size-250 checkpoint" verify-proof "$T/pr" "$T/e" --vkey "$VKA"

# ---------------------------------------------------------------------------
section "many small adds"
DS=$T/logS
new_log "$DS" "$KB"
: >"$T/sexp"
i=1 sz=0
while [ $i -le 90 ]; do
	k=$((i % 7 + 1))
	gen_lines "s$i-" 1 $k >"$T/sin"
	cat "$T/sin" >>"$T/sexp"
	if [ $((i % 2)) -eq 0 ]; then
		add_ok "small add $i ($k entries, stdin)" "$DS" "$KB" $sz $((sz + k)) <"$T/sin" || break
	else
		add_ok "small add $i ($k entries, file)" "$DS" "$KB" $sz $((sz + k)) "$T/sin" || break
	fi
	sz=$((sz + k))
	if [ $((i % 30)) -eq 0 ]; then
		verify_ok "verify after $i small adds (size $sz)" "$DS" "$VKB"
		check_tiles "after $i small adds" "$DS" $sz
	fi
	i=$((i + 1))
done
entries_range "$DS" "$sz" 0 "$sz" >"$T/sgot"
check "all $sz entries of the small adds read back in order" cmp -s "$T/sgot" "$T/sexp"

# ---------------------------------------------------------------------------
section "stdout that cannot be written (/dev/full)"
# to_full MSG ARGS...: probity ARGS with stdout on /dev/full must fail
# (not by a signal) with a one-line error that names stdout.
to_full() {
	m=$1; shift
	LASTCMD="probity $* >/dev/full"
	# shellcheck disable=SC2086
	$TO "$PROBITY" "$@" >/dev/full 2>"$T/err" </dev/null
	RC=$?
	sanity_after "$LASTCMD" "$T/err"
	if [ "$RC" -eq 0 ] || [ "$RC" -gt 128 ] || [ "$RC" -eq 124 ]; then
		bad "$m" "command: $LASTCMD" "exit $RC, expected 1"
	elif ! one_line "$T/err" || ! grep -q 'stdout' "$T/err"; then
		bad "$m" "command: $LASTCMD" "stderr: $(head_of "$T/err" 3)"
	else
		ok "$m"
	fi
}
if [ -w /dev/full ]; then
	DF=$T/logF
	new_log "$DF" "$KA"
	printf 'f1\nf2\nf3\n' >"$T/fin"
	to_full "add: \"size N\" unprintable is an error" add "$DF" --key "$KA" "$T/fin"
	err_has "add: the error says how many entries are committed" '3 entries from this run are committed \(log size 3\)'
	verify_ok "the log verifies after add's stdout failed" "$DF" "$VKA"
	entries_range "$DF" 3 0 3 >"$T/fgot"
	check "the entries add reported committed are there" cmp -s "$T/fgot" "$T/fin"
	to_full "checkpoint: unwritable stdout is an error" checkpoint "$DF"
	to_full "prove: unwritable stdout is an error" prove "$DF" 1
	to_full "consistency: unwritable stdout is an error" consistency "$DF" 1 3
	to_full "verify: unwritable stdout is an error" verify "$DF" --vkey "$VKA"
	to_full "keygen: unwritable stdout is an error" keygen full.example/k -o "$T/full.key"
	check "keygen left no key whose verifier key nobody saw" [ ! -e "$T/full.key" ]
else
	skip "/dev/full is not writable here: stdout-failure tests"
fi
# A reader that went away: add must not die silently of SIGPIPE, but say
# what it committed. python3 gives a pipe whose read end is already closed.
if command -v python3 >/dev/null 2>&1; then
	new_log "$T/logP" "$KA"
	printf 'p1\np2\n' >"$T/pin"
	python3 - "$PROBITY" "$T/logP" "$KA" "$T/pin" "$T/err" <<'EOF_PY'
import os, subprocess, sys
exe, log, key, inp, err = sys.argv[1:6]
r, w = os.pipe()
os.close(r)
with open(err, "wb") as e:
    p = subprocess.run([exe, "add", log, "--key", key, inp], stdout=w,
                       stderr=e, stdin=subprocess.DEVNULL)
os.close(w)
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)
EOF_PY
	RC=$?
	LASTCMD="probity add (stdout: a pipe with no reader)"
	if [ "$RC" -eq 1 ] && one_line "$T/err"; then
		ok "add to a pipe with no reader: exit 1, one line (not SIGPIPE)"
	else
		bad "add to a pipe with no reader: exit 1, one line" "exit $RC: $(head_of "$T/err")"
	fi
	err_has "add to a closed pipe says what is committed" 'stdout: Broken pipe.*2 entries from this run are committed'
else
	skip "python3 absent: add to a pipe with no reader not tested"
fi

# ---------------------------------------------------------------------------
section "a writer's open removes what an interrupted batch left"
# docs/nginx.md tells operators to open the log with a writer after a crash
# before serving the directory statically: that open must remove full
# tiles and bundles past the checkpoint (no checkpoint names them).
DCR=$T/logCrash
new_log "$DCR" "$KA"
printf 'o1\no2\no3\n' | prb add "$DCR" --key "$KA"
head -c 8192 /dev/urandom >"$DCR/tile/0/000"
head -c 700 /dev/urandom >"$DCR/tile/entries/000"
expect_ok "add with no input opens the log as a writer" add "$DCR" --key "$KA" </dev/null
check "the full hash tile past the checkpoint is gone" [ ! -e "$DCR/tile/0/000" ]
check "the full bundle past the checkpoint is gone" [ ! -e "$DCR/tile/entries/000" ]
check "the committed partial tiles stay" [ -e "$DCR/tile/0/000.p/3" ] && [ -e "$DCR/tile/entries/000.p/3" ]
verify_ok "the log verifies after the cleanup" "$DCR" "$VKA"

# ---------------------------------------------------------------------------
section "large logs: 65,536 and 70,000 entries"
DL=$T/logL
new_log "$DL" "$KB"
gen_lines big- 0 69999 >"$T/in70k"
head -n 65536 "$T/in70k" >"$T/in64k"
add_ok "add 65,536 entries" "$DL" "$KB" 0 65536 "$T/in64k"
R64=$(b64hex "$(cp_root "$DL")")
check_tiles "65,536 entries" "$DL" 65536
check "level-2 tile of 65,536 entries" [ -f "$DL/tile/2/000.p/1" ]
tail -n 4464 "$T/in70k" >"$T/in4464"
add_ok "add 4,464 more (70,000)" "$DL" "$KB" 65536 70000 "$T/in4464"
R70=$(b64hex "$(cp_root "$DL")")
check_tiles "70,000 entries" "$DL" 70000
verify_ok "verify 70,000 entries" "$DL" "$VKB"
prb consistency "$DL" 65536
b64lines_to_hex "$T/out" "$T/cxp"
check "consistency 65536 -> 70000 verifies" verify_consistency 65536 70000 "$R64" "$R70" "$T/cxp"
for i in 0 65535 65536 69887 69888 69999; do
	prb prove "$DL" $i
	cp "$T/out" "$T/pl"
	printf 'big-%d' $i >"$T/e"
	expect_ok "prove+verify-proof $i of 70,000" verify-proof "$T/pl" "$T/e" --vkey "$VKB"
done
eq "entries 65530..65541 read back" "$(entries_range "$DL" 70000 65530 65542 | tr '\n' ' ')" \
	"$(sed -n 65531,65542p "$T/in70k" | tr '\n' ' ')"

if [ "${PRB_BIG:-1}" != 0 ]; then
	section "256,001 entries: tile paths with x-prefixed groups"
	gen_lines big- 70000 256000 >"$T/inrest"
	add_ok "add up to 256,001 entries" "$DL" "$KB" 70000 256001 "$T/inrest"
	check "tile/0/x001/000.p/1 exists" [ -f "$DL/tile/0/x001/000.p/1" ]
	check "tile/entries/x001/000.p/1 exists" [ -f "$DL/tile/entries/x001/000.p/1" ]
	check "tile/0/999 is full" [ "$(wc -c <"$DL/tile/0/999" 2>/dev/null)" = 8192 ]
	check_tiles "256,001 entries" "$DL" 256001
	verify_ok "verify 256,001 entries" "$DL" "$VKB"
	printf 'big-256000' >"$T/e"
	prb prove "$DL" 256000
	cp "$T/out" "$T/pl"
	expect_ok "prove+verify-proof of entry 256,000" verify-proof "$T/pl" "$T/e" --vkey "$VKB"
else
	skip "PRB_BIG=0: 256,001-entry log not built"
fi

finish
