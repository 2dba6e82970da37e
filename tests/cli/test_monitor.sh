#!/bin/sh
# probity monitor against logs served by nginx (contrib/nginx): split view,
# rollback, a checkpoint that does not extend the last, witness
# cosignatures, state across runs, follow mode, a server that is down or
# answers garbage.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx.sh"

section "usage"
prb monitor --help
eq "--help exits 0" "$RC" 0
grep -q "^Usage: probity monitor URL --vkey" "$T/out" && ok "--help prints the usage" || bad "--help prints the usage" "$(head_of "$T/out")"
prb monitor http://127.0.0.1:1/
eq "no --vkey: usage error" "$RC" 2
prb monitor http://127.0.0.1:1/ --vkey x --once --interval 5
eq "--once with --interval: usage error" "$RC" 2

if [ -z "$HAVE_NGINX" ]; then
	skip "nginx or curl not installed: the monitor is not tested against a server"
	finish
fi

new_key example.com/log "$T/k.key" || finish
LVK=$VK
prb monitor http://127.0.0.1:1/ --vkey "$LVK" --witnesses 1
eq "--witnesses above the keys given: usage error" "$RC" 2

# two logs with the same key and different entries, and a copy of A at 10
new_log "$T/A" "$T/k.key" && new_log "$T/B" "$T/k.key" || finish
gen_lines a 1 10 >"$T/a1"
gen_lines b 1 10 >"$T/b1"
add_ok "A: 10 entries" "$T/A" "$T/k.key" 0 10 "$T/a1" || finish
add_ok "B: 10 other entries" "$T/B" "$T/k.key" 0 10 "$T/b1" || finish
cp -a "$T/A" "$T/A10"
serve() { ln -sfn "$1" "$T/srv"; }
serve "$T/A"
start_nginx "$T/srv" public || { bad "nginx starts"; finish; }
U=$NGX_URL
mon() { prb monitor "$U" --vkey "$LVK" --once "$@"; }

section "first sync and state across runs"
mon --state "$T/st"
eq "first sync exit 0" "$RC" 0
eq "first sync line" "$(cat "$T/out")" "verified size 10 root $(cp_root "$T/A") (+10 entries, 0 cosignatures)"
[ -f "$T/st/state" ] && ok "state written" || bad "state written"
tail -c "$(wc -c <"$T/A/checkpoint")" "$T/st/state" | cmp -s - "$T/A/checkpoint" && ok "state holds the checkpoint verbatim" || bad "state holds the checkpoint verbatim"
S0=$(fsha "$T/st/state")
ngx_mark
mon --state "$T/st"
eq "second run exit 0" "$RC" 0
eq "second run prints nothing" "$(cat "$T/out")" ""
eq "second run fetches only the checkpoint" "$(ngx_since | cut -d'"' -f2 | tr '\n' ' ')" "GET /checkpoint HTTP/1.1 "
eq "state unchanged by a round with nothing new" "$(fsha "$T/st/state")" "$S0"
mkdir -p "$T/cwd"
(cd "$T/cwd" && $TO "$PROBITY" monitor "$U" --vkey "$LVK" --once >/dev/null 2>&1)
[ -f "$T/cwd/monitor-state/example.com_log/state" ] && ok "default state dir monitor-state/<origin>" || bad "default state dir" "$(find "$T/cwd" | head)"

section "split view"
serve "$T/B"
mon --state "$T/st"
eq "split view: exit 3" "$RC" 3
eq "report starts with SPLIT VIEW" "$(head -n 1 "$T/err")" "probity monitor: SPLIT VIEW"
err_has "report has both roots" "$(cp_root "$T/A" | sed 's/[+/]/./g').*|$(cp_root "$T/B" | sed 's/[+/]/./g')"
EO=$(sed -n 's/^  evidence: \(.*\) (the stored signed checkpoint)$/\1/p' "$T/err")
EN=$(sed -n 's/^            \(.*\) (the new signed checkpoint)$/\1/p' "$T/err")
case $EO in "$T/st/evidence/"*-split-view/stored.checkpoint) ok "evidence file named" ;; *) bad "evidence file named" "$(cat "$T/err")" ;; esac
cmp -s "$EO" "$T/A/checkpoint" && ok "evidence: stored checkpoint verbatim" || bad "evidence: stored checkpoint verbatim"
cmp -s "$EN" "$T/B/checkpoint" && ok "evidence: new checkpoint verbatim" || bad "evidence: new checkpoint verbatim"
eq "state not advanced after split view" "$(fsha "$T/st/state")" "$S0"
mon --state "$T/st"
eq "split view reported again" "$RC" 3

section "increment, rollback, not an extension"
serve "$T/A"
gen_lines a 11 20 >"$T/a2"
add_ok "A: 10 more" "$T/A" "$T/k.key" 10 20 "$T/a2" || finish
mon --state "$T/st"
eq "increment verified" "$(cat "$T/out")" "verified size 20 root $(cp_root "$T/A") (+10 entries, 0 cosignatures)"
S1=$(fsha "$T/st/state")
serve "$T/A10"
mon --state "$T/st"
eq "rollback: exit 3" "$RC" 3
eq "rollback: INCONSISTENT CHECKPOINT" "$(head -n 1 "$T/err")" "probity monitor: INCONSISTENT CHECKPOINT"
err_has "rollback named" "kind: +rollback"
EO=$(sed -n 's/^  evidence: \(.*\) (the stored signed checkpoint)$/\1/p' "$T/err")
EN=$(sed -n 's/^            \(.*\) (the new signed checkpoint)$/\1/p' "$T/err")
cmp -s "$EO" "$T/A/checkpoint" && cmp -s "$EN" "$T/A10/checkpoint" && ok "rollback evidence verbatim" || bad "rollback evidence verbatim" "$EO $EN"
eq "state not advanced after rollback" "$(fsha "$T/st/state")" "$S1"
gen_lines b 11 30 >"$T/b2"
add_ok "B: 20 more" "$T/B" "$T/k.key" 10 30 "$T/b2" || finish
serve "$T/B"
mon --state "$T/st"
eq "larger tree of other entries: exit 3" "$RC" 3
eq "not extension: INCONSISTENT CHECKPOINT" "$(head -n 1 "$T/err")" "probity monitor: INCONSISTENT CHECKPOINT"
err_has "says why" "does not contain the verified tree"
EN=$(sed -n 's/^            \(.*\) (the new signed checkpoint)$/\1/p' "$T/err")
cmp -s "$EN" "$T/B/checkpoint" && ok "not-extension evidence verbatim" || bad "not-extension evidence verbatim"
eq "state not advanced" "$(fsha "$T/st/state")" "$S1"
eq "three evidence directories" "$(ls "$T/st/evidence" | wc -l)" 4

section "witness cosignatures"
if [ -z "$HAVE_OPENSSL" ]; then
	skip "openssl missing: cosignatures not tested"
else
	new_witness w1.example "$T/w1.pem" && W1=$WVK
	new_witness w2.example "$T/w2.pem" && W2=$WVK
	new_witness w3.example "$T/w3.pem" && W3=$WVK
	cp -a "$T/A" "$T/AW"
	cosign "$T/AW/checkpoint" w1.example "$T/w1.pem" 1700000000
	cosign "$T/AW/checkpoint" w3.example "$T/w3.pem" 1700000001
	serve "$T/AW"
	mon --state "$T/sw" --witness-vkey "$W1" --witness-vkey "$W2"
	eq "1 of 2 cosignatures: refused" "$RC" 1
	err_has "says how many" "1 valid cosignatures of the 2 required"
	[ -f "$T/sw/state" ] && bad "no state after a refusal" || ok "no state after a refusal"
	mon --state "$T/sw" --witness-vkey "$W1" --witness-vkey "$W2" --witnesses 1
	eq "--witnesses 1 accepts" "$(cat "$T/out")" "verified size 20 root $(cp_root "$T/A") (+20 entries, 1 cosignatures)"
	mon --state "$T/sw3" --witness-vkey "$W1" --witness-vkey "$W3"
	eq "both configured witnesses counted" "$(cat "$T/out")" "verified size 20 root $(cp_root "$T/A") (+20 entries, 2 cosignatures)"
	prb monitor "$U" --vkey "$LVK" --once --state "$T/sw4" --witness-vkey "$W1" --witnesses 0
	eq "--witnesses 0: witnesses optional" "$RC" 0
	# a cosignature line of w2 (its name and key ID) that does not verify
	cp -a "$T/A" "$T/AX"
	cosign "$T/AX/checkpoint" w2.example "$T/w2.pem" 1700000002
	c=$(tail -n 1 "$T/AX/checkpoint" | LC_ALL=C cut -c71)
	r=A; [ "$c" = A ] && r=B
	LC_ALL=C sed -i "\$s/^\(.\{70\}\)./\1$r/" "$T/AX/checkpoint"
	serve "$T/AX"
	mon --state "$T/sw5" --witness-vkey "$W2" --witnesses 0
	eq "a forged cosignature of a configured witness: refused" "$RC" 1
	serve "$T/A"
fi

section "follow mode"
serve "$T/A"
$TO "$PROBITY" monitor "$U" --vkey "$LVK" --state "$T/st" --interval 1 >"$T/follow.out" 2>"$T/follow.err" &
FP=$!
BGPIDS="$BGPIDS $FP"
sleep 0.5
mon --state "$T/st"
eq "a second monitor on the same state refused" "$RC" 1
err_has "says why" "another monitor"
gen_lines a 21 40 >"$T/a3"
add_ok "A: 20 more while following" "$T/A" "$T/k.key" 20 40 "$T/a3"
i=0
while [ "$i" -lt 100 ] && ! grep -q "^verified size 40 " "$T/follow.out"; do sleep 0.1; i=$((i + 1)); done
grep -q "^verified size 40 root $(cp_root "$T/A") (+20 entries" "$T/follow.out" && ok "follow mode verifies the new checkpoint" || bad "follow mode verifies" "$(cat "$T/follow.out" "$T/follow.err")"
kill -TERM "$FP"
wait "$FP"
eq "SIGTERM: exit 0" "$?" 0

section "killed mid-round"
gen_lines a 41 20040 >"$T/a4"
add_ok "A: 20,000 more" "$T/A" "$T/k.key" 40 20040 "$T/a4"
for d in 0.05 0.2; do
	"$PROBITY" monitor "$U" --vkey "$LVK" --state "$T/st" --once --timeout 20 >/dev/null 2>&1 &
	KP=$!
	BGPIDS="$BGPIDS $KP"
	sleep "$d"
	kill -9 "$KP" 2>/dev/null
	wait "$KP" 2>/dev/null
	# the state is the old one or the new one, whole
	mon --state "$T/st"
	case $RC:$(cat "$T/out") in
	"0:verified size 20040 root $(cp_root "$T/A") (+20000 entries, 0 cosignatures)" | 0:) ok "killed after ${d}s: state usable" ;;
	*) bad "killed after ${d}s: state usable" "exit $RC: $(head_of "$T/out") $(head_of "$T/err")" ;;
	esac
done
grep -q "^20040$" "$T/st/state" && ok "state at 20040" || bad "state at 20040"
S2=$(fsha "$T/st/state")

section "pruned partial tiles are fetched full"
# the log at 20,040 entries has deleted its partials of size 10; a
# checkpoint of size 10 served beside those tiles must still verify
mkdir "$T/AP"
cp -a "$T/A/tile" "$T/AP/tile"
cp "$T/A10/checkpoint" "$T/AP/checkpoint"
[ ! -e "$T/AP/tile/entries/000.p/10" ] && ok "partial bundle pruned" || bad "partial bundle pruned"
serve "$T/AP"
ngx_mark
mon --state "$T/sp"
eq "size 10 verified from full tiles" "$(cat "$T/out")" "verified size 10 root $(cp_root "$T/A10") (+10 entries, 0 cosignatures)"
ngx_since | grep -q '"GET /tile/entries/000.p/10 HTTP/1.1" 404' && ok "the partial was asked for (404)" || bad "the partial was asked for" "$(ngx_since)"
eq "then the full bundle and tile" "$(fetched 'tile/entries/000') $(fetched 'tile/0/000')" "1 1"
serve "$T/A"

section "server down, garbage"
mkdir -p "$T/G1" "$T/G2/tile/entries/000.p" "$T/G2/tile/0/000.p"
printf '<html>not a log</html>\n' >"$T/G1/checkpoint"
serve "$T/G1"
mon --state "$T/st"
eq "garbage checkpoint: exit 1" "$RC" 1
one_line "$T/err" && ok "one-line error" || bad "one-line error" "$(cat "$T/err")"
err_has "names the URL" "${U}checkpoint"
cp "$T/A10/checkpoint" "$T/G2/checkpoint"
head -c 500 /dev/urandom >"$T/G2/tile/entries/000.p/10"
head -c 320 /dev/urandom >"$T/G2/tile/0/000.p/10"
serve "$T/G2"
mon --state "$T/sg"
eq "garbage bundle: exit 4" "$RC" 4
err_has "names the object" "${U}tile/entries/000\.p/10"
[ -f "$T/sg/state" ] && bad "no state from garbage" || ok "no state from garbage"
eq "state untouched by garbage" "$(fsha "$T/st/state")" "$S2"
serve "$T/A"
stop_nginx
mon --state "$T/st"
eq "server down: exit 1" "$RC" 1
one_line "$T/err" && ok "one-line error" || bad "one-line error" "$(cat "$T/err")"
err_has "names the URL" "${U}checkpoint"
eq "state untouched when the server is down" "$(fsha "$T/st/state")" "$S2"

section "damaged state"
cp "$T/st/state" "$T/state.good"
printf 'junk' >"$T/st/state.tmp"
sed 's/^edge ..../edge /' "$T/state.good" >"$T/st/state"
mon --state "$T/st"
eq "damaged state refused" "$RC" 1
err_has "names the state file" "$T/st/state"
finish
