#!/bin/sh
# make install / uninstall, the installed program run from elsewhere with
# its installed policy pack, the man pages (rendered, and every option of
# --help in them), the systemd units (systemd-analyze verify), sd_notify
# readiness, SIGHUP reloading tokens and TLS files, and the Debian
# package (built and unpacked, not installed on this system).
# Installs only into temporary directories; removes nothing outside them.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILT=$PROBITY
DEST=$T/dest
PREFIX=/usr/local
MK="make -s -C $ROOT BIN=$BUILT MANBUILD=$T/man DESTDIR=$DEST PREFIX=$PREFIX"

section "make install into a DESTDIR"
if ! $MK install >"$T/make.out" 2>&1; then
	bad "make install" "$(head -n 20 "$T/make.out")"
	finish
fi
ok "make install"
B=$DEST$PREFIX/bin/probity
check "the binary at \$PREFIX/bin/probity" test -x "$B"
npol=$(ls "$ROOT"/policies/*.sql | wc -l)
eq "the policy pack at \$PREFIX/share/probity/policies" \
	"$(ls "$DEST$PREFIX"/share/probity/policies/*.sql | wc -l)" "$npol"
for u in probity-serve@.service probity-witness@.service; do
	check "unit $u in \$PREFIX/lib/systemd/system" test -f "$DEST$PREFIX/lib/systemd/system/$u"
	grep -q "^ExecStart=$PREFIX/bin/probity " "$DEST$PREFIX/lib/systemd/system/$u" &&
		ok "$u runs \$PREFIX/bin/probity" || bad "$u runs \$PREFIX/bin/probity" "$(grep ExecStart "$DEST$PREFIX/lib/systemd/system/$u")"
done
check "README in the doc directory" test -f "$DEST$PREFIX/share/doc/probity/README.md"
# the commands, as the program lists them: a page each
"$BUILT" --help | sed -n '/^[Cc]ommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' >"$T/commands"
eq "probity --help lists the 16 commands" "$(wc -l <"$T/commands")" 16
MAN1=$DEST$PREFIX/share/man/man1
missing=""
for c in $(cat "$T/commands"); do
	[ -f "$MAN1/probity-$c.1" ] || missing="$missing $c"
done
eq "a man page for probity and every command" "$(ls "$MAN1" | wc -l) $missing" \
	"$(($(wc -l <"$T/commands") + 1)) "

section "the installed program, run from elsewhere"
# the installed tree moved to another prefix: the pack is found relative to
# the program wherever it is; trimmed to 2 policies, so a run of the source
# tree's pack (15) would show
cp -a "$DEST" "$T/moved"
MB=$T/moved$PREFIX/bin/probity
MPACK=$T/moved$PREFIX/share/probity/policies
(cd "$MPACK" && ls | sed 1,2d | xargs rm -f)
mkdir "$T/run"
cd "$T/run" || exit 1
PROBITY=$MB
if "$MB" --version >"$T/out" 2>&1; then
	grep -q '^probity [0-9]' "$T/out" && ok "probity --version" || bad "probity --version" "$(head_of "$T/out")"
else
	bad "probity --version" "$(head_of "$T/out")"
fi
prb keygen install.example/log -o "$T/run/k"
eq "keygen" "$RC" 0
VKEY=$(cat "$T/out")
expect_ok "init" init log --key k
printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"i-1","stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings","verb":"create","user":{"username":"mallory"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"clusterrolebindings","name":"x","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"2024-03-01T12:00:00Z","stageTimestamp":"2024-03-01T12:00:01Z"}\n' >audit.log
expect_ok "ingest" ingest log --key k audit.log
printf 'plain line\n' >plain
expect_ok "init, add" init plainlog --key k
expect_ok "add" add plainlog --key k plain
expect_ok "audit with the installed pack" audit log --out b1
grep -q "with 2 policies" "$T/out" && ok "audit ran the installed pack (2 policies)" ||
	bad "audit ran the installed pack (2 policies)" "$(head_of "$T/out")"
mkdir one && cp "$ROOT/policies/root-use.sql" one/
PROBITY_POLICY_DIR=$T/run/one prb audit log --out b2
grep -q "with 1 policies" "$T/out" && ok "PROBITY_POLICY_DIR overrides the default pack" ||
	bad "PROBITY_POLICY_DIR overrides the default pack" "$(head_of "$T/out") $(head_of "$T/err")"
expect_ok "verify-evidence of the installed audit" verify-evidence b1 --vkey "$VKEY"
cd "$ROOT" || exit 1
PROBITY=$BUILT

section "man pages: rendered, and every option of --help in them"
for p in "$MAN1"/*.1; do
	n=$(basename "$p" .1)
	if ! MANWIDTH=200 man --nh --nj -l "$p" 2>"$T/man.err" | col -b >"$T/$n.txt" || [ -s "$T/man.err" ] ||
		! grep -q '^NAME' "$T/$n.txt"; then
		bad "man -l $n.1 renders" "$(head_of "$T/man.err")"
		continue
	fi
	ok "man -l $n.1 renders"
	if [ "$n" = probity ]; then "$BUILT" --help >"$T/help"; else "$BUILT" "${n#probity-}" --help >"$T/help"; fi
	absent=""
	for o in $(grep -oE -- '--[a-z][a-z0-9-]*' "$T/help" | sort -u); do
		grep -qF -- "$o" "$T/$n.txt" || absent="$absent $o"
	done
	eq "every option of $n's --help in its page" "$absent" ""
done

section "systemd units"
if command -v systemd-analyze >/dev/null 2>&1; then
	for u in serve witness; do
		# an instance, its ExecStart the installed binary (verify checks it)
		sed "s|$PREFIX/bin/probity|$B|" "$DEST$PREFIX/lib/systemd/system/probity-$u@.service" \
			>"$T/probity-$u@test.service"
		systemd-analyze verify --man=no "$T/probity-$u@test.service" >"$T/verify.out" 2>&1
		rc=$?
		eq "systemd-analyze verify probity-$u@.service: no complaint" "$rc $(cat "$T/verify.out")" "0 "
	done
else
	skip "systemd-analyze is not installed (package systemd): units not verified"
fi

# notify_reader NAME: a datagram socket at $T/NAME.sock that writes each
# notification's lines to $T/NAME.log; on READY=1 it connects to the port of
# STATUS=listening on URL and logs whether it answered.
cat >"$T/notify.py" <<'EOF'
import re, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(100)
with open(out, "a", buffering=1) as f:
    f.write("bound\n")
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        lines = msg.split("\n")
        for l in lines:
            f.write(l + "\n")
        if "READY=1" in lines:
            m = re.search(r"STATUS=listening on https?://\[?([^\]]*?)\]?:(\d+)", msg)
            try:
                socket.create_connection((m.group(1), int(m.group(2))), 5).close()
                f.write("port answered\n")
            except Exception as e:
                f.write("port did not answer: %s\n" % e)
        if "STOPPING=1" in lines:
            break
EOF
notify_reader() {
	: >"$T/$1.log"
	python3 "$T/notify.py" "$T/$1.sock" "$T/$1.log" &
	BGPIDS="$BGPIDS $!"
	_i=0
	until grep -q bound "$T/$1.log" || [ "$_i" -ge 100 ]; do sleep 0.1; _i=$((_i + 1)); done
}
# wait_for FILE PATTERN: at most 10 s
wait_for() {
	_i=0
	until grep -q -- "$2" "$1" 2>/dev/null || [ "$_i" -ge 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	grep -q -- "$2" "$1" 2>/dev/null
}
# wait_for_n FILE PATTERN N: until N lines match, at most 10 s
wait_for_n() {
	_i=0
	until [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] || [ "$_i" -ge 100 ]; do sleep 0.1; _i=$((_i + 1)); done
}
# post TOKEN: the HTTP status of a POST /add with that bearer token
post() { printf 'x\n' | curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" --data-binary @- "$URL/add"; }

section "serve: sd_notify readiness, SIGHUP reloads the tokens"
if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 is missing: no notification socket to read"
else
	"$BUILT" keygen reload.example/log -o "$T/sk" >/dev/null
	"$BUILT" init "$T/sl" --key "$T/sk" >/dev/null
	A=token-aaaaaaaaaaaaaaaaaaaa B=token-bbbbbbbbbbbbbbbbbbbb C=token-cccccccccccccccccccc
	printf 'read,append %s\n' "$A" >"$T/tokens"
	chmod 600 "$T/tokens"
	notify_reader serve
	NOTIFY_SOCKET=$T/serve.sock start_server s serve "$T/sl" --key "$T/sk" --listen 127.0.0.1:0 --tokens "$T/tokens" ||
		bad "serve starts" "$(head_of "$T/s.err")"
	wait_for "$T/serve.log" "port answered"
	eq "READY=1 sent, then the port answered" "$(grep -E '^(READY=1|port)' "$T/serve.log" | head -n 2 | tr '\n' ' ')" \
		"READY=1 port answered "
	eq "token A appends" "$(post "$A")" 200
	eq "token B, not in the file, is refused" "$(post "$B")" 401
	printf 'read,append %s\nread,append %s\n' "$A" "$B" >"$T/tokens"
	kill -HUP "$SPID"
	wait_for "$T/s.err" "reloaded (SIGHUP)" && ok "SIGHUP: reloaded" || bad "SIGHUP: reloaded" "$(head_of "$T/s.err")"
	eq "token B appends after SIGHUP, without a restart" "$(post "$B")" 200
	eq "RELOADING=1 then READY=1 around the reload" \
		"$(grep -E '^(READY|RELOADING)=1' "$T/serve.log" | tr '\n' ' ')" "READY=1 RELOADING=1 READY=1 "
	printf 'read,append %s\nnot a token line\n' "$C" >"$T/tokens"
	kill -HUP "$SPID"
	wait_for "$T/s.err" "reload (SIGHUP) failed" && ok "a broken token file: the reload fails, saying why" ||
		bad "a broken token file: the reload fails, saying why" "$(head_of "$T/s.err" 5)"
	grep -q "reload (SIGHUP) failed.*$T/tokens" "$T/s.err" && ok "the failure names the file" ||
		bad "the failure names the file" "$(grep failed "$T/s.err")"
	eq "the old tokens stay: B still appends" "$(post "$B")" 200
	eq "nothing of the broken file is taken: C is refused" "$(post "$C")" 401
	kill -0 "$SPID" 2>/dev/null && ok "serve still runs" || bad "serve still runs"
	stop_server "$SPID"
	RC=$?
	eq "SIGTERM: exit 0" "$RC" 0
	sanity_after "probity serve" "$T/s.err"
	wait_for "$T/serve.log" "STOPPING=1" && ok "STOPPING=1 sent" || bad "STOPPING=1 sent" "$(cat "$T/serve.log")"

	section "witness: TLS certificate reloaded on the same socket"
	subject() { # the subject CN of the certificate served at URL
		openssl s_client -connect "${URL#https://}" </dev/null 2>/dev/null |
			openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
	}
	mkcert() {
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$T/$1.key" -out "$T/$1.crt" -days 2 -subj "/CN=$1" >/dev/null 2>&1
	}
	if ! mkcert one || ! mkcert two; then
		skip "openssl cannot make a certificate: TLS reload not tested"
	else
		cp "$T/one.crt" "$T/tls.crt" && cp "$T/one.key" "$T/tls.key"
		"$BUILT" keygen w.example/w -o "$T/wk" --witness >/dev/null
		notify_reader witness
		NOTIFY_SOCKET=$T/witness.sock start_server w witness --listen 127.0.0.1:0 --key "$T/wk" \
			--log "reload.example/log=$("$BUILT" keygen x.example/x -o "$T/xk")" \
			--state "$T/w.sqlite" --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" ||
			bad "witness starts" "$(head_of "$T/w.err")"
		wait_for "$T/witness.log" "port answered"
		eq "witness: READY=1 sent, then the port answered" \
			"$(grep -E '^(READY=1|port)' "$T/witness.log" | head -n 2 | tr '\n' ' ')" "READY=1 port answered "
		eq "the first certificate served" "$(subject)" one
		cp "$T/two.crt" "$T/tls.crt" && cp "$T/two.key" "$T/tls.key"
		kill -HUP "$SPID"
		wait_for "$T/w.err" "reloaded (SIGHUP)" && ok "witness: SIGHUP reloaded" || bad "witness: SIGHUP reloaded" "$(head_of "$T/w.err")"
		eq "the new certificate served on the same URL" "$(subject)" two
		# the daemons replaced by reloads are stopped once idle: five more
		# reloads leave as many descriptors open as one did
		nfd=$(ls "/proc/$SPID/fd" | wc -l)
		for i in 1 2 3 4 5; do
			kill -HUP "$SPID"
			wait_for_n "$T/w.err" "reloaded (SIGHUP)" $((i + 1))
		done
		eq "five more reloads: reloaded five more times" "$(grep -c 'reloaded (SIGHUP)' "$T/w.err")" 6
		eq "five more reloads: no more descriptors open" "$(ls "/proc/$SPID/fd" | wc -l)" "$nfd"
		eq "and the certificate still served" "$(subject)" two
		cp "$T/one.key" "$T/tls.key" # not the certificate's key
		nfd=$(ls "/proc/$SPID/fd" | wc -l)
		kill -HUP "$SPID"
		wait_for "$T/w.err" "reload (SIGHUP) failed" && ok "a key not of the certificate: the reload fails" ||
			bad "a key not of the certificate: the reload fails" "$(head_of "$T/w.err" 5)"
		eq "the previous certificate stays" "$(subject)" two
		eq "a failed reload leaves no descriptor open" "$(ls "/proc/$SPID/fd" | wc -l)" "$nfd"
		stop_server "$SPID"
		RC=$?
		eq "witness: SIGTERM: exit 0" "$RC" 0
		sanity_after "probity witness" "$T/w.err"
	fi
fi

section "serve over TLS: requests during reloads are all answered"
if [ -f "$T/two.crt" ] && [ -n "${A:-}" ]; then
	cp "$T/two.crt" "$T/tls.crt" && cp "$T/two.key" "$T/tls.key"
	printf 'read,append %s\n' "$A" >"$T/tokens"
	start_server s serve "$T/sl" --key "$T/sk" --listen 127.0.0.1:0 --tokens "$T/tokens" \
		--tls-cert "$T/tls.crt" --tls-key "$T/tls.key" || bad "serve over TLS starts" "$(head_of "$T/s.err")"
	(for i in $(seq 1 100); do
		printf 'during reload %s\n' "$i" | curl -sk -o /dev/null -w '%{http_code}\n' \
			-H "Authorization: Bearer $A" --data-binary @- "$URL/add"
	done >"$T/codes.add") &
	c1=$!
	(for i in $(seq 1 100); do curl -sk -o /dev/null -w '%{http_code}\n' "$URL/checkpoint"; done >"$T/codes.get") &
	c2=$!
	for i in $(seq 1 20); do kill -HUP "$SPID"; sleep 0.05; done
	wait "$c1" "$c2"
	eq "100 appends during 20 reloads: all 200" "$(sort "$T/codes.add" | uniq -c | tr -s ' ')" " 100 200"
	eq "100 reads during 20 reloads: all 200" "$(sort "$T/codes.get" | uniq -c | tr -s ' ')" " 100 200"
	wait_for_n "$T/s.err" "reloaded (SIGHUP)" 20
	eq "20 reloads" "$(grep -c 'reloaded (SIGHUP)' "$T/s.err")" 20
	stop_server "$SPID"
	RC=$?
	eq "serve over TLS: SIGTERM: exit 0" "$RC" 0
	sanity_after "probity serve --tls-cert" "$T/s.err"
else
	skip "no certificate or no notification run: TLS reloads under load not tested"
fi

section "make uninstall"
if $MK uninstall >"$T/make.out" 2>&1; then ok "make uninstall"; else bad "make uninstall" "$(head -n 5 "$T/make.out")"; fi
eq "no file of ours left in DESTDIR" "$(find "$DEST" -type f | head -n 5)" ""
eq "nor a directory of ours" "$(find "$DEST" -path '*probity*' | head -n 5)" ""

section "the Debian package: built from the tree, unpacked, run"
if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
	skip "dpkg-buildpackage or debhelper is missing: no package built"
elif [ "${PRB_BUILD##*/}" = san ]; then
	skip "the package is built and checked in the release run"
else
	# a copy of the tree: dpkg-buildpackage writes beside the tree it builds
	mkdir -p "$T/deb/probity"
	(cd "$ROOT" && tar --exclude=./build --exclude=./probity --exclude=./.git -cf - .) |
		tar -C "$T/deb/probity" -xf -
	if (cd "$T/deb/probity" && nice dpkg-buildpackage -us -uc -b) >"$T/deb.log" 2>&1; then
		ok "dpkg-buildpackage -us -uc -b"
	else
		bad "dpkg-buildpackage -us -uc -b" "$(tail -n 15 "$T/deb.log")"
	fi
	DEB=$(ls "$T"/deb/probity_*.deb 2>/dev/null | head -n 1)
	if command -v lintian >/dev/null 2>&1; then
		lintian --tag-display-limit 0 "$T"/deb/probity_*.changes 2>/dev/null | grep -E '^[EW]: ' >"$T/lintian"
		eq "lintian: no error or warning" "$(head -n 5 "$T/lintian")" ""
	else
		skip "lintian is not installed: the package not linted"
	fi
	if [ -n "$DEB" ] && dpkg -x "$DEB" "$T/x"; then
		ok "dpkg -x of the package"
		X=$T/x/usr/bin/probity
		dpkg-deb -I "$DEB" >"$T/info"
		grep -q "^ Depends:.*libmicrohttpd" "$T/info" && ok "the package depends on the libraries" ||
			bad "the package depends on the libraries" "$(grep Depends "$T/info")"
		for f in lib/systemd/system/probity-serve@.service lib/systemd/system/probity-witness@.service \
			usr/share/man/man1/probity.1.gz usr/share/man/man1/probity-serve.1.gz \
			usr/share/probity/policies/root-use.sql; do
			check "the package holds /$f" test -f "$T/x/$f"
		done
		check "the package makes /etc/probity" test -d "$T/x/etc/probity"
		grep -q '^ExecStart=/usr/bin/probity serve ' "$T/x/lib/systemd/system/probity-serve@.service" &&
			ok "its unit runs /usr/bin/probity" || bad "its unit runs /usr/bin/probity"
		mkdir "$T/xrun"
		cd "$T/xrun" || exit 1
		PROBITY=$X
		expect_ok "the packaged probity: --version" --version
		eq "the package's version is the program's (debian/changelog, VERSION)" \
			"probity $(dpkg-deb -f "$DEB" Version)" "$(head -n 1 "$T/out")"
		prb keygen deb.example/log -o k
		XV=$(cat "$T/out")
		expect_ok "the packaged probity: init" init log --key k
		cp "$T/run/audit.log" .
		expect_ok "the packaged probity: ingest" ingest log --key k audit.log
		expect_ok "the packaged probity: audit with the packaged pack" audit log --out b
		grep -q "with $npol policies" "$T/out" && ok "the packaged pack: $npol policies" ||
			bad "the packaged pack: $npol policies" "$(head_of "$T/out")"
		expect_ok "the packaged probity: verify-evidence" verify-evidence b --vkey "$XV"
		# no build-tree path compiled in: without its pack it finds none
		mv "$T/x/usr/share/probity/policies" "$T/x/usr/share/probity/moved"
		expect_fail "without the packaged pack, no other is used" audit log --out b2
		err_has "and it says so" "no policy pack"
		cd "$ROOT" || exit 1
		PROBITY=$BUILT
	else
		bad "dpkg -x of the package" "$(ls "$T/deb")"
	fi
fi

finish
