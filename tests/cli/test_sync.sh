#!/bin/sh
# How writers make a batch durable (DESIGN.md invariant 6), seen from the
# system calls (strace): by default an fsync of every file and directory a
# batch wrote and no syncfs(2), tiles written in place (the only rename is
# the checkpoint's), every tile fsynced before the checkpoint is renamed
# into place, and the checkpoint's directory fsynced after; --sync fs
# only where the filesystem is known to honour syncfs(2), refused with a
# message naming it elsewhere (on a FUSE mount, when one is given as
# PRB_FUSE_DIR, e.g. a LazyFS mount).
. "$(dirname "$0")/lib.sh"

VK=$("$PROBITY" keygen test.example/sync -o "$T/key")
L=$T/log
"$PROBITY" init "$L" --key "$T/key"

section "an unknown mode"
seq 1 3 | $TO "$PROBITY" add "$L" --key "$T/key" --sync fsync >"$T/out" 2>"$T/err"
eq "is refused (exit 2)" "$?" 2
check "naming both modes" grep -q 'must be "files" or "fs"' "$T/err"

if ! command -v strace >/dev/null 2>&1 || ! strace -f -o /dev/null true 2>/dev/null; then
	skip "strace is not available (or may not trace here)"
else
	# traced OUT CMD...: runs CMD under strace -f -y (descriptors shown
	# with their paths), the calls that make data durable or name it
	CALLS=fsync,fdatasync,syncfs,sync,sync_file_range,rename,renameat,renameat2
	# LeakSanitizer cannot run under ptrace (the sanitizer build)
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	traced() {
		_o=$1
		shift
		strace -f -y -qq -o "$_o" -e trace=$CALLS "$@"
	}
	section "add with the default flags"
	# 600 entries: tiles at level 0 and 1, bundles, partial tiles
	seq 1 600 | sed 's/^/entry-/' >"$T/in"
	traced "$T/tr" "$PROBITY" add "$L" --key "$T/key" "$T/in" >"$T/out" 2>"$T/err"
	eq "add succeeds" "$?" 0
	eq "one batch" "$(cat "$T/out")" "size 600"
	eq "no syncfs(2) or sync(2)" "$(grep -Ec '^[0-9]+ +(syncfs|sync)\(' "$T/tr")" 0
	# a call may be split: "fsync(FD<PATH> <unfinished ...>", later
	# "<... fsync resumed>) = 0"
	nt=$(grep -c '^[0-9]* *fsync([0-9]*</.*/tile/' "$T/tr")
	# 2 full bundles, 2 full level-0 tiles, 3 partials, and their directories
	if [ "$nt" -ge 5 ]; then ok "every tile and bundle is fsynced ($nt fsyncs under tile/)"
	else bad "every tile and bundle is fsynced" "$nt fsyncs under tile/" "$(head -n 20 "$T/tr")"; fi
	eq "the only rename is the checkpoint's (tiles are written in place)" \
		"$(grep -E 'rename' "$T/tr" | grep -v '"checkpoint.tmp".*"checkpoint"' | head -n 3)" ""
	eq "one rename onto checkpoint" "$(grep -c '"checkpoint.tmp".*"checkpoint"' "$T/tr")" 1
	# line numbers, in the order the calls returned
	ren=$(grep -n '"checkpoint.tmp".*"checkpoint"' "$T/tr" | cut -d: -f1)
	ren=${ren:-1}
	head -n "$ren" "$T/tr" >"$T/before"
	late=$(sed -n "$ren,\$p" "$T/tr" | grep -c 'fsync([0-9]*</.*/tile/')
	started=$(grep -c 'fsync(.*<unfinished \.\.\.>' "$T/before")
	resumed=$(grep -c '<\.\.\. fsync resumed>' "$T/before")
	if [ "$late" -eq 0 ] && [ "$started" -eq "$resumed" ]; then
		ok "every tile fsync returned before the checkpoint's rename"
	else bad "every tile fsync returned before the checkpoint's rename" \
		"$late tile fsyncs after it; of those split before it $started started, $resumed returned"; fi
	cp_sync=$(grep -n 'fsync([0-9]*</.*/checkpoint.tmp>' "$T/before" | tail -n 1 | cut -d: -f1)
	if [ -n "$cp_sync" ]; then ok "checkpoint.tmp is fsynced before its rename"
	else bad "checkpoint.tmp is fsynced before its rename" "$(tail -n 5 "$T/before")"; fi
	logdir=$(cd "$L" && pwd -P)
	after=$(sed -n "$((ren + 1)),\$p" "$T/tr" | grep -c "fsync([0-9]*<$logdir>)")
	if [ "$after" -ge 1 ]; then ok "the log directory is fsynced after the rename"
	else bad "the log directory is fsynced after the rename" "$(sed -n "$ren,\$p" "$T/tr" | head -n 5)"; fi
	"$PROBITY" verify "$L" --vkey "$VK" >/dev/null 2>&1
	eq "the log verifies" "$?" 0

	section "ingest and serve default to files too"
	printf '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"s-1","stage":"ResponseComplete","verb":"get","user":{"username":"s"},"requestReceivedTimestamp":"2024-03-06T00:00:00Z","stageTimestamp":"2024-03-06T00:00:00Z","requestURI":"/api"}\n' >"$T/ev.jsonl"
	traced "$T/tri" "$PROBITY" ingest "$L" --key "$T/key" "$T/ev.jsonl" >"$T/out" 2>"$T/err"
	eq "ingest succeeds" "$?" 0
	eq "ingest: no syncfs(2)" "$(grep -c 'syncfs(' "$T/tri")" 0
	check "ingest: tiles fsynced" grep -q 'fsync([0-9]*</.*/tile/' "$T/tri"
	printf 'append tok-sync-0123456789\n' >"$T/tokens"
	chmod 600 "$T/tokens"
	# serve under strace through start_server: a stand-in for the binary
	# that runs it traced; the server writes its own pid (sh execs it), so
	# that SIGTERM reaches it, not strace
	cat >"$T/traced-probity" <<EOF
#!/bin/sh
exec strace -f -y -qq -o "$T/trs" -e trace=$CALLS \\
	sh -c 'echo \$\$ >"$T/s.pid"; exec "\$0" "\$@"' "$PROBITY" "\$@"
EOF
	chmod +x "$T/traced-probity"
	REAL=$PROBITY PROBITY=$T/traced-probity
	if ! start_server s serve "$L" --key "$T/key" --listen 127.0.0.1:0 --tokens "$T/tokens"; then
		bad "serve starts under strace" "$(head_of "$T/s.err")"
	elif ! command -v curl >/dev/null 2>&1; then
		skip "curl is not installed"
	else
		code=$(curl -s -m 20 -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer tok-sync-0123456789" \
			--data-binary "served-1" "$URL/add")
		eq "serve: POST /add is answered 200" "$code" 200
	fi
	PROBITY=$REAL
	[ -s "$T/s.pid" ] && stop_server "$(cat "$T/s.pid")"
	wait "$SPID" 2>/dev/null # strace, done once the server is
	eq "serve: no syncfs(2)" "$(grep -c 'syncfs(' "$T/trs")" 0
	check "serve: tiles fsynced" grep -q 'fsync([0-9]*</.*/tile/' "$T/trs"
	"$PROBITY" verify "$L" --vkey "$VK" >/dev/null 2>&1
	eq "the log verifies" "$?" 0

	section "--sync fs where the filesystem honours syncfs(2)"
	seq 601 700 >"$T/in2"
	traced "$T/trf" "$PROBITY" add "$L" --key "$T/key" --sync fs "$T/in2" >"$T/out" 2>"$T/err"
	if [ $? -eq 0 ]; then
		eq "one syncfs(2) for the batch" "$(grep -c 'syncfs(' "$T/trf")" 1
		eq "and no tile fsync" "$(grep -c '^[0-9]* *fsync([0-9]*</.*/tile/' "$T/trf")" 0
	elif grep -q "sync mode fs refused" "$T/err"; then
		skip "--sync fs is refused on the filesystem of $T: $(cat "$T/err")"
	else
		bad "add --sync fs" "$(cat "$T/err")"
	fi
fi

section "--sync fs on FUSE"
if [ -n "${PRB_FUSE_DIR:-}" ] && [ -d "$PRB_FUSE_DIR" ]; then
	F=$(mktemp -d "$PRB_FUSE_DIR/prbsync.XXXXXX")
	"$PROBITY" init "$F/log" --key "$T/key"
	seq 1 3 | $TO "$PROBITY" add "$F/log" --key "$T/key" --sync fs >"$T/out" 2>"$T/err"
	eq "add --sync fs fails" "$?" 1
	check "naming FUSE and the default" grep -q "sync mode fs refused.*(FUSE, statfs type 0x65735546).*default sync mode, files" "$T/err"
	eq "nothing is acknowledged" "$(cat "$T/out")" ""
	seq 1 3 | $TO "$PROBITY" add "$F/log" --key "$T/key" >"$T/out" 2>"$T/err"
	eq "the default works there" "$(cat "$T/out")" "size 3"
	rm -rf "$F"
else
	skip "no FUSE mount given (PRB_FUSE_DIR): the refusal itself is unit-tested (test_store)"
fi
finish
