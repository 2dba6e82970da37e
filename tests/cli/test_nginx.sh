#!/bin/sh
# Serving a log directory with nginx and the shipped configuration
# (contrib/nginx, docs/nginx.md): bytes, headers, gzip, what is not served,
# a private log's bearer tokens; then probity monitor against it: initial
# sync, an increment that fetches only new tiles, a tampered bundle.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx.sh"

if [ -z "$HAVE_NGINX" ]; then
	skip "nginx or curl not installed: nothing tested"
	finish
fi

new_key example.com/log "$T/k.key" || finish
LVK=$VK
new_log "$T/log" "$T/k.key" || finish
gen_lines "entry " 1 300 >"$T/in1"
add_ok "300 entries" "$T/log" "$T/k.key" 0 300 "$T/in1" || finish
echo "SECRET-INDEX" >"$T/log/index.sqlite"
echo "SECRET-TMP" >"$T/log/checkpoint.tmp"
echo "SECRET-TILE-TMP" >"$T/log/tile/0/000.tmp"

start_nginx "$T/log" public || { bad "nginx starts"; finish; }
ok "nginx starts on $NGX_URL"

section "every object byte-identical, with its headers"
# get PATH [CURLARGS]: body -> $T/body, headers -> $T/hdr, status -> CODE
get() {
	_p=$1; shift
	CODE=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$NGX_URL$_p")
}
hdr() { grep -i "^$1:" "$T/hdr" | head -n 1 | cut -d: -f2- | sed 's/^ //' | tr -d '\r'; }

{ echo checkpoint; tiles_for_size 300; } >"$T/objs"
nobj=0 mism=""
while read -r p; do
	nobj=$((nobj + 1))
	get "$p"
	if [ "$CODE" != 200 ] || ! cmp -s "$T/body" "$T/log/$p"; then mism="$mism $p($CODE)"; fi
done <"$T/objs"
eq "all $nobj objects served byte-identical" "$mism" ""

get checkpoint
eq "checkpoint Content-Type" "$(hdr Content-Type)" "text/plain; charset=utf-8"
eq "checkpoint Cache-Control" "$(hdr Cache-Control)" "no-cache"
get tile/0/000
eq "full tile Content-Type" "$(hdr Content-Type)" "application/octet-stream"
eq "full tile Cache-Control" "$(hdr Cache-Control)" "public, max-age=31536000, immutable"
get tile/0/001.p/44
eq "partial tile Content-Type" "$(hdr Content-Type)" "application/octet-stream"
eq "partial tile Cache-Control" "$(hdr Cache-Control)" "public, max-age=60"
get tile/1/000.p/1
eq "level 1 partial tile served" "$CODE $(wc -c <"$T/body")" "200 32"
get tile/entries/000
eq "full bundle Content-Type" "$(hdr Content-Type)" "application/octet-stream"
eq "full bundle Cache-Control" "$(hdr Cache-Control)" "public, max-age=31536000, immutable"
get tile/entries/001.p/44
eq "partial bundle Cache-Control" "$(hdr Cache-Control)" "public, max-age=60"

section "gzip for entry bundles"
get tile/entries/000 -H 'Accept-Encoding: gzip'
eq "full bundle gzip-encoded on request" "$(hdr Content-Encoding)" "gzip"
if gzip -dc <"$T/body" | cmp -s - "$T/log/tile/entries/000"; then ok "gunzipped bundle is the file"; else bad "gunzipped bundle is the file"; fi
[ "$(wc -c <"$T/body")" -lt "$(wc -c <"$T/log/tile/entries/000")" ] && ok "gzip shrinks the bundle" || bad "gzip shrinks the bundle" "$(wc -c <"$T/body") bytes"
eq "Vary: Accept-Encoding" "$(hdr Vary)" "Accept-Encoding"
get tile/entries/001.p/44 -H 'Accept-Encoding: gzip'
eq "partial bundle gzip-encoded on request" "$(hdr Content-Encoding)" "gzip"
get tile/entries/000 --compressed
if [ "$CODE" = 200 ] && cmp -s "$T/body" "$T/log/tile/entries/000"; then ok "curl --compressed gets the bundle"; else bad "curl --compressed gets the bundle" "$CODE"; fi
get tile/entries/000
eq "no gzip without Accept-Encoding" "$(hdr Content-Encoding)" ""
get tile/0/000 -H 'Accept-Encoding: gzip'
eq "hash tiles not gzipped (random bytes)" "$(hdr Content-Encoding)" ""

section "nothing else is served"
for p in index.sqlite checkpoint.tmp tile/0/000.tmp "" tile/ tile/0/ tile/entries/ \
	tile/0/0000 tile/00/000 tile/64/000 tile/0/001.p/0 tile/0/001.p/256 tile/0/001.p/044 \
	tile/entries/001.p tile/0/x000/000 "tile/0/../../index.sqlite" "%2e%2e/index.sqlite" k.key; do
	get "$p" --path-as-is
	if { [ "$CODE" = 404 ] || [ "$CODE" = 400 ]; } && ! grep -q SECRET "$T/body"; then ok "/$p: $CODE"; else bad "/$p not served" "status $CODE: $(head -c 100 "$T/body")"; fi
done
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x "${NGX_URL}checkpoint")
case $CODE in 403 | 405) ok "POST refused ($CODE)" ;; *) bad "POST refused" "status $CODE" ;; esac
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${NGX_URL}tile/0/000")
case $CODE in 403 | 405) ok "DELETE refused ($CODE)" ;; *) bad "DELETE refused" "status $CODE" ;; esac

section "monitor: initial sync, then only the new tiles"
expect_ok "monitor initial sync" monitor "$NGX_URL" --vkey "$LVK" --state "$T/st" --once
eq "monitor prints the verified checkpoint" "$(cat "$T/out")" \
	"verified size 300 root $(cp_root "$T/log") (+300 entries, 0 cosignatures)"
gen_lines "entry " 301 600 >"$T/in2"
add_ok "300 more entries" "$T/log" "$T/k.key" 300 600 "$T/in2" || finish
ngx_mark
expect_ok "monitor verifies the increment" monitor "$NGX_URL" --vkey "$LVK" --state "$T/st" --once
eq "increment line" "$(cat "$T/out")" \
	"verified size 600 root $(cp_root "$T/log") (+300 entries, 0 cosignatures)"
eq "old full bundle not fetched again" "$(fetched 'tile/entries/000')" 0
eq "old full tile not fetched again" "$(fetched 'tile/0/000')" 0
eq "new full bundle fetched once" "$(fetched 'tile/entries/001')" 1
eq "new partial bundle fetched once" "$(fetched 'tile/entries/002\.p/88')" 1
eq "new level 0 tiles checked" "$(fetched 'tile/0/001') $(fetched 'tile/0/002\.p/88')" "1 1"
eq "level 1 partial tile checked" "$(fetched 'tile/1/000\.p/2')" 1
eq "nothing else fetched" "$(ngx_since | wc -l)" 6
ngx_mark
expect_ok "monitor again: nothing new" monitor "$NGX_URL" --vkey "$LVK" --state "$T/st" --once
eq "no output when unchanged" "$(cat "$T/out")" ""
eq "only the checkpoint fetched" "$(ngx_since | cut -d'"' -f2)" "GET /checkpoint HTTP/1.1"

section "monitor: a tampered bundle"
gen_lines "entry " 601 700 >"$T/in3"
add_ok "100 more entries" "$T/log" "$T/k.key" 600 700 "$T/in3" || finish
cp "$T/st/state" "$T/state.before"
B=$T/log/tile/entries/002.p/188
off=$(grep -obUa "entry 650" "$B" | head -n 1 | cut -d: -f1)
flip_byte "$B" $((off + 2)) || bad "tamper"
prb monitor "$NGX_URL" --vkey "$LVK" --state "$T/st" --once
eq "tampered bundle: exit 4" "$RC" 4
err_has "names the bundle and the entry" "tile/entries/002\.p/188.*|entry 649.*entry 137 of tile/entries/002\.p/188"
err_has "names the URL" "$NGX_URL"
err_has "expected vs found" "expected [A-Za-z0-9+/=]+ .*found [A-Za-z0-9+/=]+"
if cmp -s "$T/st/state" "$T/state.before"; then ok "state not advanced"; else bad "state not advanced"; fi
flip_byte "$B" $((off + 2))
expect_ok "restored bundle verifies" monitor "$NGX_URL" --vkey "$LVK" --state "$T/st" --once

section "under a path prefix (docs/nginx.md's recipe)"
stop_nginx
mkdir -p "$T/www/logs"
ln -s "$T/log" "$T/www/logs/audit"
sed -e 's#"^/tile/#"^/logs/audit/tile/#' -e 's#location = /checkpoint#location = /logs/audit/checkpoint#' \
	"$NGX_SRC/probity-log.conf" >"$T/prefix-log.conf"
start_nginx "$T/www" public "$T/prefix-log.conf" || { bad "nginx with a prefix starts"; finish; }
get logs/audit/tile/entries/000
if [ "$CODE" = 200 ] && cmp -s "$T/body" "$T/log/tile/entries/000"; then ok "prefix: bundle served"; else bad "prefix: bundle served" "$CODE"; fi
eq "prefix: bundle headers" "$(hdr Cache-Control)" "public, max-age=31536000, immutable"
get logs/audit/checkpoint
eq "prefix: checkpoint Content-Type" "$CODE $(hdr Content-Type)" "200 text/plain; charset=utf-8"
get tile/entries/000
eq "prefix: nothing at the root" "$CODE" 404
get logs/audit/index.sqlite
eq "prefix: index.sqlite not served" "$CODE" 404
expect_ok "monitor follows a log under a prefix" monitor "${NGX_URL}logs/audit" --vkey "$LVK" --state "$T/stp" --once
eq "prefix monitor line" "$(cat "$T/out")" \
	"verified size 700 root $(cp_root "$T/log") (+700 entries, 0 cosignatures)"

section "private log: bearer tokens"
stop_nginx
TOK=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
printf '"Bearer %s" 0;\n' "$TOK" >"$T/ngx/probity-tokens.map"
printf '%s\n' "$TOK" >"$T/token"
printf 'wrong%s\n' "$TOK" >"$T/badtoken"
start_nginx "$T/log" private || { bad "private nginx starts"; finish; }
get checkpoint
eq "private: checkpoint public" "$CODE" 200
get tile/0/000
eq "private: tile without token 401" "$CODE" 401
case $(hdr WWW-Authenticate) in Bearer*) ok "401 names Bearer" ;; *) bad "401 names Bearer" "$(cat "$T/hdr")" ;; esac
eq "private: 401 not cached for a year" "$(hdr Cache-Control)" ""
get tile/entries/000
eq "private: bundle without token 401" "$CODE" 401
get tile/entries/000 -H "Authorization: Bearer wrong$TOK"
eq "private: wrong token 401" "$CODE" 401
get tile/entries/000 -H "Authorization: Bearer $TOK"
if [ "$CODE" = 200 ] && cmp -s "$T/body" "$T/log/tile/entries/000"; then ok "private: token gets the bundle"; else bad "private: token gets the bundle" "$CODE"; fi
get tile/0/002.p/188 -H "Authorization: Bearer $TOK"
eq "private: token gets a partial tile" "$CODE" 200
get index.sqlite -H "Authorization: Bearer $TOK"
eq "private: index.sqlite not served even with a token" "$CODE" 404
prb monitor "$NGX_URL" --vkey "$LVK" --state "$T/st2" --once
eq "monitor without token fails" "$RC" 1
err_has "says 401" "401"
prb monitor "$NGX_URL" --vkey "$LVK" --state "$T/st2" --once --token "$T/badtoken"
eq "monitor with a wrong token fails" "$RC" 1
expect_ok "monitor with the token verifies" monitor "$NGX_URL" --vkey "$LVK" --state "$T/st2" --once --token "$T/token"
eq "private monitor line" "$(cat "$T/out")" \
	"verified size 700 root $(cp_root "$T/log") (+700 entries, 0 cosignatures)"
stop_nginx
finish
