#!/bin/sh
# Option parsing of every subcommand (issue 17): every spelling the
# command line accepted before getopt_long still parses, --opt=value,
# "--", short aliases, unknown options, --help in help2man's form,
# --version, vkey.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$T" || finish # whatever a run leaves in its working directory goes

new_key test.example/opts "$T/log.key" || finish
LVK=$VK
new_key witness.example/w1 "$T/w.key"
prb keygen witness.example/w1 -o "$T/wit.key" --witness
WVK=$(head -n 1 "$T/out")
new_log "$T/log" "$T/log.key"
NK=$T/no-such.key        # a key file that is missing: each run below fails
NV=$T/no-such.vkey       # there (exit 1), after its options were parsed
: >"$T/pem"

# ---------------------------------------------------------------------------
# The spellings accepted before this change, taken from each subcommand's
# option table in src/cmd/cmd_*.c as they stood (and from the tests and
# README), and those other branches added meanwhile (init --store, serve
# --redirect, the connection limits of serve and witness). "@--opt V" is run as "--opt V" and as "--opt=V"; "!--flag" is a
# flag. Each line is a whole command line that parses; the run then fails
# at the missing key (exit 1) or succeeds (exit 0): never exit 2.
cat >"$T/spellings" <<EOF
keygen k1.example @-o $T/k1
keygen k2.example @--out $T/k2
keygen k3.example -o $T/k3 !--witness
init $T/i1 @--key $NK
add $T/log @--key $NK
add $T/log --key $NK @--sync files
add $T/log --key $NK @--lock-timeout 1
add $T/log --key $NK @--witness http://127.0.0.1:9/=$WVK
add $T/log --key $NK --witness http://127.0.0.1:9/=$WVK @--witnesses 1
add $T/log --key $NK @--witness-timeout 2
checkpoint $T/no-log
prove $T/no-log 0
consistency $T/no-log 0 1
verify $T/no-log @--vkey $NV
verify-proof $T/p $T/e @--vkey $NV
ingest $T/log @--key $NK $T/no-input
ingest $T/log --key $NK @--format cloudtrail $T/no-input
ingest $T/log --key $NK @--sync fs $T/no-input
ingest $T/log --key $NK @--lock-timeout 3 $T/no-input
ingest $T/log --key $NK @--cloudtrail-key $T/pem $T/no-input
ingest $T/log --key $NK @--cloudtrail-signature d.json.gz=00 $T/no-input
reindex $T/no-log @--lock-timeout 1
audit $T/no-log @--out $T/b1
audit $T/no-log @--check $T/b1
audit $T/no-log --out $T/b1 @--policies $SRC/policies
audit $T/no-log --out $T/b1 @--params $T/no-params.json
audit $T/no-log --out $T/b1 @--fail-on high
verify-evidence $T/b1 @--vkey $NV
verify-evidence $T/b1 --vkey $NV @--witness-vkey $WVK
verify-evidence $T/b1 --vkey $NV --witness-vkey $WVK @--witnesses 1
serve $T/log @--key $NK --listen 127.0.0.1:0
serve $T/log --key $NK @--listen 127.0.0.1:0
serve $T/log --key $NK --listen 127.0.0.1:0 @--tokens $T/no-tokens
serve $T/log --key $NK --listen 127.0.0.1:0 !--public
serve $T/log --key $NK --listen 127.0.0.1:0 @--tls-cert $T/pem --tls-key $T/pem
serve $T/log --key $NK --listen 127.0.0.1:0 --tls-cert $T/pem @--tls-key $T/pem
serve $T/log --key $NK --listen 127.0.0.1:0 @--max-body 1000
serve $T/log --key $NK --listen 127.0.0.1:0 @--queue 10
serve $T/log --key $NK --listen 127.0.0.1:0 @--batch 10
serve $T/log --key $NK --listen 127.0.0.1:0 @--connections 10
serve $T/log --key $NK --listen 127.0.0.1:0 @--idle-timeout 10
serve $T/log --key $NK --listen 127.0.0.1:0 @--witness http://127.0.0.1:9/=$WVK
serve $T/log --key $NK --listen 127.0.0.1:0 --witness http://127.0.0.1:9/=$WVK @--witnesses 1
serve $T/log --key $NK --listen 127.0.0.1:0 @--witness-timeout 2
serve $T/log --key $NK --listen 127.0.0.1:0 @--sync files
serve $T/log --key $NK --listen 127.0.0.1:0 @--lock-timeout 1
witness @--listen 127.0.0.1:0 --key $NK --log o.example=$LVK
witness --listen 127.0.0.1:0 @--key $NK --log o.example=$LVK
witness --listen 127.0.0.1:0 --key $NK @--log o.example=$LVK
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK @--state $T/w.sqlite
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK @--tls-cert $T/pem --tls-key $T/pem
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK --tls-cert $T/pem @--tls-key $T/pem
init $T/i1 --key $NK @--store s3://bucket/prefix
serve $T/log --key $NK --listen 127.0.0.1:0 @--redirect http://127.0.0.1:9/b
serve $T/log --key $NK --listen 127.0.0.1:0 @--per-client 4
serve $T/log --key $NK --listen 127.0.0.1:0 @--head-timeout 4
serve $T/log --key $NK --listen 127.0.0.1:0 @--body-timeout 4
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK @--connections 4
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK @--per-client 4
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK @--idle-timeout 4
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK @--head-timeout 4
witness --listen 127.0.0.1:0 --key $NK --log o.example=$LVK @--body-timeout 4
monitor http://127.0.0.1:9/ @--vkey $NV
monitor http://127.0.0.1:9/ --vkey $NV @--witness-vkey $WVK
monitor http://127.0.0.1:9/ --vkey $NV --witness-vkey $WVK @--witnesses 1
monitor http://127.0.0.1:9/ --vkey $NV @--state $T/ms
monitor http://127.0.0.1:9/ --vkey $NV @--token $T/tok
monitor http://127.0.0.1:9/ --vkey $NV !--once
monitor http://127.0.0.1:9/ --vkey $NV @--interval 5
monitor http://127.0.0.1:9/ --vkey $NV @--timeout 5
EOF

# spelled FORM LINE: the command line with "@--opt V" as "--opt V"
# (FORM sep) or "--opt=V" (FORM eq), "!--flag" as "--flag".
spelled() {
	_f=$1 _out="" _join=""
	shift
	for w in "$@"; do
		case $w in
		@*) w=${w#@}; [ "$_f" = eq ] && _join="$w=" || _out="$_out $w" ;;
		!*) _out="$_out ${w#!}" ;;
		*) if [ -n "$_join" ]; then _out="$_out $_join$w"; _join=""; else _out="$_out $w"; fi ;;
		esac
	done
	echo "$_out"
}

# parses MSG ARGS...: the command line is no usage error.
parses() {
	m=$1
	shift
	prb "$@"
	if [ "$RC" -ne 2 ] && ! grep -q 'usage:' "$T/err"; then
		ok "$m"
	else
		bad "$m" "exit $RC: $(head_of "$T/err" 2)"
	fi
}

section "every spelling accepted before getopt_long, as --opt V and --opt=V"
while IFS= read -r line; do
	# shellcheck disable=SC2086
	for form in sep eq; do
		args=$(spelled $form $line)
		case $args in *"$T/k"[0-9]*) rm -f "$T"/k[0-9]* ;; esac
		# shellcheck disable=SC2086
		parses "$form: probity$args" $args
	done
done <"$T/spellings"

section "--help: in help2man's form, naming every spelling above"
for sub in keygen vkey init add checkpoint prove consistency verify \
	verify-proof ingest reindex audit verify-evidence serve witness monitor; do
	prb "$sub" --help
	if [ "$RC" -eq 0 ] && head -n 1 "$T/out" | grep -q "^Usage: probity $sub " &&
		grep -q '^Options:$' "$T/out" && grep -q '^  -h, --help ' "$T/out" &&
		grep -q '^Exit status:$' "$T/out"; then
		ok "$sub --help"
	else
		bad "$sub --help: Usage:, Options:, -h, --help, Exit status:" "exit $RC: $(head_of "$T/out" 2)"
	fi
	cp "$T/out" "$T/help"
	eq "$sub --help: no line over 80 columns" "$(awk 'length($0) > 80' "$T/help")" ""
	prb "$sub" -h
	check "$sub -h is --help" cmp -s "$T/out" "$T/help"
	prb help "$sub"
	check "probity help $sub is $sub --help" cmp -s "$T/out" "$T/help"
	missing=""
	for o in $(grep "^$sub " "$T/spellings" | tr ' ' '\n' | sed -n 's/^[@!]\(-.*\)/\1/p' | sort -u); do
		case $o in
		--*) grep -q -- "^ .*$o[= ]" "$T/help" || grep -q -- "^ .*$o\$" "$T/help" || missing="$missing $o" ;;
		-?) grep -q -- "^  $o, " "$T/help" || missing="$missing $o" ;;
		esac
	done
	eq "$sub --help lists every option it parses" "$missing" ""
done

section "getopt_long conventions"
prb keygen conv.example -- -o "$T/dashdash.key"
eq "after --, -o is an operand: keygen takes one NAME (usage error)" "$RC" 2
printf 'a\nb\n' >"$T/-lines"
cd "$T" || finish
prb add log --key log.key -- -lines
eq "add DIR --key K -- -lines reads the file named -lines" "$RC" 0
eq "... two entries" "$(cp_size log)" 2
cd - >/dev/null || finish
prb checkpoint -- "$T/log"
eq "checkpoint -- DIR" "$RC" 0
prb add "$T/log" -k "$T/log.key" "$T/-lines"
eq "-k KEYFILE is --key" "$RC" 0
prb add "$T/log" "-k$T/log.key" "$T/-lines"
eq "-kKEYFILE is --key" "$RC" 0
eq "... six entries" "$(cp_size "$T/log")" 6
prb verify "$T/log" --vk="$LVK"
eq "a unique abbreviation (--vk) is the option" "$RC" 0
prb add "$T/log" --key "$T/log.key" --witn x
eq "an ambiguous abbreviation (--witn) is a usage error" "$RC" 2
prb keygen eq.example "-o=$T/eq.key"
eq "keygen -o=FILE (accepted before) still writes FILE" "$RC" 0
check "... FILE, not =FILE" test -s "$T/eq.key"
prb init "$T/i2" -k "$T/eq.key"
eq "init -k" "$RC" 0

section "unknown options and operands: exit 2 with the usage"
for sub in keygen vkey init add checkpoint prove consistency verify \
	verify-proof ingest reindex audit verify-evidence serve witness monitor; do
	prb "$sub" --no-such-option
	if [ "$RC" -eq 2 ] && grep -q "^probity $sub: unknown option --no-such-option (usage: probity $sub " "$T/err"; then
		ok "$sub: unknown option"
	else
		bad "$sub: unknown option: exit 2, one line with the usage" "exit $RC: $(head_of "$T/err" 2)"
	fi
	prb "$sub" -Z
	eq "$sub: unknown short option -Z: exit 2" "$RC" 2
done
prb serve "$T/log" --public=yes
eq "a flag given a value: exit 2" "$RC" 2
err_has "... saying so" "--public takes no value"
prb init "$T/x" --key
eq "a missing value: exit 2" "$RC" 2
err_has "... saying so" "--key needs a value"
prb checkpoint "$T/log" extra
eq "an extra operand: exit 2" "$RC" 2
prb frobnicate
eq "an unknown command: exit 2" "$RC" 2

section "canonical names; the old spellings do the same"
for o in --state-dir --state; do
	prb monitor http://127.0.0.1:9/ --vkey "$LVK" --once --timeout 2 "$o" "$T/ms$o"
	eq "monitor $o DIR: exit 1 (nothing listens)" "$RC" 1
	check "... DIR/lock made: $o is the state directory" test -e "$T/ms$o/lock"
done
for o in --token-file --token; do
	prb monitor http://127.0.0.1:9/ --vkey "$LVK" --once --state-dir "$T/ms" "$o" "$T/no-token$o"
	eq "monitor $o FILE: exit 1 (no such file)" "$RC" 1
	err_has "... naming FILE: $o is the token file" "no-token$o"
done
for o in --state-file --state; do
	if start_server wit witness --listen 127.0.0.1:0 -k "$T/wit.key" --log "o.example=$LVK" "$o" "$T/ws$o.sqlite"; then
		check "witness $o FILE: the state database is FILE" test -s "$T/ws$o.sqlite"
	else
		bad "witness $o FILE: never listened" "$(head_of "$T/wit.err")"
	fi
	stop_server "$SPID"
done
prb audit "$T/no-log" -o "$T/bundle-o"
check "audit -o BUNDLEDIR is --out (exit 1: no log there, not 2)" [ "$RC" -eq 1 ]
prb audit "$T/no-log"
eq "audit without -o or --check: exit 2" "$RC" 2

section "parameters type-checked against their defaults, the parameter named"
EV=$SRC/tests/cli/audit/events
new_log "$T/alog" "$T/log.key"
prb ingest "$T/alog" -k "$T/log.key" "$EV"
eq "ingest of the audit events" "$RC" 0
RES=$(grep -l '^-- param: allowed_regions = \[' "$SRC"/policies/*.sql | head -n 1)
RESLINE=$(grep -n '^-- param: allowed_regions = ' "$RES" | cut -d: -f1)
printf '{"allowed_regions": "westeurope"}\n' >"$T/params-bad.json"
prb audit "$T/alog" -o "$T/b-bad" --params "$T/params-bad.json"
eq "a string for an array parameter: exit 1" "$RC" 1
err_has "... naming the parameter, its kind and its default's line" \
	"params-bad.json: parameter \"allowed_regions\" is a string, but its default \\($RES:$RESLINE\\) is an array"
printf '{"allowed_regions": ["westeurope", 7]}\n' >"$T/params-el.json"
prb audit "$T/alog" -o "$T/b-el" --params "$T/params-el.json"
eq "an array element of another kind: exit 1" "$RC" 1
err_has "... naming the parameter and the element" "parameter \"allowed_regions\": element 1 is a number"
printf '{"allowed_regions": ["westeurope"]}\n' >"$T/params-ok.json"
prb audit "$T/alog" -o "$T/b-ok" --params "$T/params-ok.json"
eq "parameters of their defaults' kinds: exit 0" "$RC" 0

section "exit statuses: 0 done, 1 failed, 2 usage, 3 findings, 4 bad data, 5 partly rejected"
# status WANT MSG ARGS...: probity ARGS exits WANT
status() {
	_w=$1 _m=$2
	shift 2
	prb "$@"
	eq "$_m: exit $_w" "$RC" "$_w"
}
status 0 "keygen" keygen ex.example/k -o "$T/ex.key"
status 1 "keygen over an existing file" keygen ex.example/k -o "$T/ex.key"
status 0 "vkey" vkey "$T/ex.key"
status 1 "vkey of a missing file" vkey "$T/no-such.key"
status 0 "init" init "$T/exlog" -k "$T/ex.key"
status 1 "init over a log" init "$T/exlog" -k "$T/ex.key"
printf 'one\ntwo\nthree\n' >"$T/three"
status 0 "add" add "$T/exlog" -k "$T/ex.key" "$T/three"
status 1 "add of a missing file" add "$T/exlog" -k "$T/ex.key" "$T/no-such-input"
status 0 "checkpoint" checkpoint "$T/exlog"
status 1 "checkpoint of no log" checkpoint "$T/no-log"
status 0 "prove" prove "$T/exlog" 1
cp "$T/out" "$T/proof"
status 1 "prove out of range" prove "$T/exlog" 3
status 2 "prove of a non-number" prove "$T/exlog" x
status 0 "consistency" consistency "$T/exlog" 1
status 1 "consistency beyond the log" consistency "$T/exlog" 1 9
EXVK=$("$PROBITY" vkey "$T/ex.key")
status 0 "verify" verify "$T/exlog" --vkey "$EXVK"
status 1 "verify with another key" verify "$T/exlog" --vkey "$LVK"
printf 'two' >"$T/two"
status 0 "verify-proof" verify-proof "$T/proof" "$T/two" --vkey "$EXVK"
status 1 "verify-proof of another entry" verify-proof "$T/proof" "$T/three" --vkey "$EXVK"
status 0 "reindex" reindex "$T/exlog"
status 1 "reindex of no log" reindex "$T/no-log"
# ingest of a directory holding a README and other files that are no export
mkdir -p "$T/exports/sub"
cp -R "$EV"/. "$T/exports/sub/"
printf '# Exports\nCloudTrail and GCP, as delivered.\n' >"$T/exports/README"
printf 'd41d8cd98f00b204e9800998ecf8427e  x.json\n' >"$T/exports/sub/MD5SUMS"
printf '' >"$T/exports/empty.txt"
new_log "$T/inlog" "$T/log.key"
status 0 "ingest of a directory with a README, a checksum list and an empty file" ingest "$T/inlog" -k "$T/log.key" "$T/exports"
err_has "... listing the three it skipped" "3 of [0-9]+ files skipped: .*exports/README .*exports/empty.txt .*exports/sub/MD5SUMS"
check "... and saying so in the summary" grep -q '^note: 3 files found in directories hold no JSON' "$T/out"
eq "... every event committed" "$(cp_size "$T/inlog")" "$(cp_size "$T/alog")"
status 5 "the same with --strict: rejected, the rest done" ingest "$T/inlog" -k "$T/log.key" --strict "$T/exports"
err_has "... listing them as rejected" "3 of [0-9]+ files rejected .*README"
status 5 "a README named as PATH is read, and rejected" ingest "$T/inlog" -k "$T/log.key" "$T/exports/README"
printf '{"eventVersion":"1.08",' >"$T/exports/broken.json"
status 5 "a broken export in a directory: rejected, the rest done" ingest "$T/inlog" -k "$T/log.key" "$T/exports"
status 1 "ingest with a missing key" ingest "$T/inlog" -k "$T/no-such.key" "$T/exports"
status 2 "ingest with an unknown --format" ingest "$T/inlog" -k "$T/log.key" --format x "$T/exports"
status 0 "audit" audit "$T/alog" -o "$T/bx0"
status 3 "audit --fail-on info with findings" audit "$T/alog" -o "$T/bx3" --fail-on info
check "... the bundle written all the same" test -s "$T/bx3/findings.json"
status 1 "audit of no log" audit "$T/no-log" -o "$T/bx1"
status 0 "audit --check" audit "$T/alog" --check "$T/bx0"
status 0 "verify-evidence" verify-evidence "$T/bx0" --vkey "$LVK"
status 1 "verify-evidence with another key" verify-evidence "$T/bx0" --vkey "$EXVK"
if command -v curl >/dev/null 2>&1; then
	if start_server s0 serve "$T/exlog" -k "$T/ex.key" --listen 127.0.0.1:0 --public; then
		status 0 "monitor" monitor "$URL/" --vkey "$EXVK" --once --state-dir "$T/mst"
		stop_server "$SPID"
		eq "serve stopped by SIGTERM: exit 0" "$?" 0
	else
		bad "serve never listened" "$(head_of "$T/s0.err")"
	fi
	status 1 "serve of no log" serve "$T/no-log" -k "$T/ex.key" --listen 127.0.0.1:0
	# another log under the same key, other entries at the same size
	new_log "$T/exlog2" "$T/ex.key"
	printf 'uno\ndos\ntres\n' | "$PROBITY" add "$T/exlog2" -k "$T/ex.key" >/dev/null
	if start_server s1 serve "$T/exlog2" -k "$T/ex.key" --listen 127.0.0.1:0 --public; then
		status 3 "monitor of a split view" monitor "$URL/" --vkey "$EXVK" --once --state-dir "$T/mst"
		stop_server "$SPID"
	else
		bad "serve never listened" "$(head_of "$T/s1.err")"
	fi
	# a served entry bundle that does not hash to the signed root
	# (altered once serve, which checks the log as it opens it, runs)
	cp -R "$T/exlog2" "$T/exlog3"
	if start_server s2 serve "$T/exlog3" -k "$T/ex.key" --listen 127.0.0.1:0 --public; then
		printf 'X' | dd of="$T/exlog3/tile/entries/000.p/3" bs=1 seek=2 conv=notrunc 2>/dev/null
		status 4 "monitor of a log whose entries do not verify" monitor "$URL/" --vkey "$EXVK" --once --state-dir "$T/mst4"
		stop_server "$SPID"
	else
		bad "serve never listened" "$(head_of "$T/s2.err")"
	fi
	status 1 "monitor of nothing listening" monitor http://127.0.0.1:9/ --vkey "$EXVK" --once --state-dir "$T/mst1"
	if start_server w0 witness --listen 127.0.0.1:0 -k "$T/wit.key" --log "o.example=$LVK" --state-file "$T/wx.sqlite"; then
		stop_server "$SPID"
		eq "witness stopped by SIGTERM: exit 0" "$?" 0
	else
		bad "witness never listened" "$(head_of "$T/w0.err")"
	fi
	status 1 "witness with a signer key, not a witness key" witness --listen 127.0.0.1:0 -k "$T/ex.key" --log "o.example=$LVK"
else
	skip "exit statuses of serve, witness, monitor: curl is not installed"
fi

section "--version"
prb --version
eq "probity --version" "$(cat "$T/out")" "probity $(cat "$SRC/VERSION")"
eq "... exit 0" "$RC" 0
prb -V
eq "probity -V" "$(cat "$T/out")" "probity $(cat "$SRC/VERSION")"
prb --help
check "probity --help lists --version" grep -q -- '--version' "$T/out"
check "... and vkey" grep -q '^  vkey ' "$T/out"
check "... in help2man's form" grep -q '^Usage: probity ' "$T/out"
cp "$T/out" "$T/top-help"
for h in -h help; do
	prb $h
	check "probity $h is probity --help (accepted before)" cmp -s "$T/out" "$T/top-help"
done
prb
eq "probity without a command: exit 2" "$RC" 2

section "vkey"
prb vkey "$T/log.key"
eq "vkey of a signer key: what keygen printed" "$(cat "$T/out")" "$LVK"
eq "... exit 0" "$RC" 0
prb vkey "$T/wit.key"
eq "vkey of a witness key: what keygen --witness printed" "$(cat "$T/out")" "$WVK"
prb vkey "$T/no-such.key"
eq "vkey of a missing file: exit 1" "$RC" 1
err_has "... naming it" "no-such.key"
printf 'not a key\n' >"$T/junk.key"
chmod 600 "$T/junk.key"
prb vkey "$T/junk.key"
eq "vkey of a file holding no key: exit 1" "$RC" 1
prb vkey
eq "vkey without KEYFILE: exit 2" "$RC" 2

section "--listen forms (loopback only; :PORT is 0.0.0.0 and is checked by test_listen)"
if command -v curl >/dev/null 2>&1; then
	# listens FORM WANT: serve --listen FORM prints a URL starting WANT,
	# answers /healthz there, and stops on SIGTERM
	listens() {
		if start_server srv serve "$T/log" --key "$T/log.key" --listen "$1" --public; then
			case $URL in "$2"*) ok "--listen $1: $URL" ;; *) bad "--listen $1" "URL $URL, want $2..." ;; esac
			http "$URL/healthz"
			eq "--listen $1: GET /healthz" "$CODE $(cat "$T/body")" "200 ok"
		else
			bad "--listen $1: serve never listened" "$(head_of "$T/srv.err")"
		fi
		stop_server "$SPID"
	}
	listens 127.0.0.1:0 http://127.0.0.1:
	listens localhost:0 http://127.0.0.1:
	if [ -r /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
		listens "[::1]:0" "http://[::1]:"
	else
		skip "--listen [::1]:0: no IPv6 loopback here"
	fi
	prb serve "$T/log" --key "$T/log.key" --listen no-such-host.invalid:0
	eq "--listen of a host that does not resolve: exit 1" "$RC" 1
	err_has "... naming it" "no-such-host.invalid"
	prb witness --listen "127.0.0.1" --key "$T/wit.key" --log "o.example=$LVK" --state-file "$T/w-noport.sqlite"
	eq "--listen without a port: exit 1" "$RC" 1
	err_has "... saying what is taken" "HOST:PORT"
else
	skip "--listen forms: curl is not installed (make deps installs it)"
fi

finish
