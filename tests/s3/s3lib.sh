# Helpers of the S3 log tests (tests/s3/test_s3_*.sh), sourced after
# tests/cli/lib.sh; sources ceph.sh. A log here is `probity init DIR
# --store s3://BUCKET/PREFIX` on the throw-away Ceph; what the tests check
# of it they read back as any reader would: anonymously, over plain HTTP
# from RGW (the bucket is made public-read), into a local mirror on which
# lib.sh's tile and entry helpers work.
. "$(dirname "$0")/ceph.sh"

# s3_log_fixture KEYNAME BUCKET PREFIX: Ceph up with a public-read bucket,
# the signer key $T/key (LVK its verifier key) and the log L=$T/log on
# s3://BUCKET/PREFIX. Sets S3_URL and HURL (the log's plain HTTP URL,
# ending in '/'). Ends the script unless all of it works.
s3_log_fixture() {
	ceph_fixture "$2"
	if ! ceph_public_read "$2"; then bad "public-read policy: $CEPH_WHY"; finish; fi
	S3_URL="s3://$2/$3"
	HURL="$AWS_ENDPOINT_URL/$2/$3/"
	new_key "$1" "$T/key" || finish
	LVK=$VK
	L=$T/log
	mkdir -p "$L"
	prb init "$L" --key "$T/key" --store "$S3_URL"
	if [ "$RC" -ne 0 ]; then
		bad "probity init DIR --key K --store $S3_URL" "exit $RC: $(head_of "$T/err")"
		finish
	fi
	ok "init --store $S3_URL"
}

# s3_rounds REL SAN SECONDS: sets ROUNDS (PRB_S3_ROUNDS, else REL, or SAN
# under a sanitizer build, said so) and BUDGET (PRB_S3_SECONDS, else
# SECONDS, halved under a sanitizer build: no new round after it).
s3_rounds() {
	case ${PRB_BUILD:-} in
	*/san | */san/)
		ROUNDS=${PRB_S3_ROUNDS:-$2}
		BUDGET=${PRB_S3_SECONDS:-$(($3 / 2))}
		echo "note: sanitizer build: $ROUNDS rounds, ${BUDGET}s (a release build runs $1, ${3}s)"
		;;
	*) ROUNDS=${PRB_S3_ROUNDS:-$1} BUDGET=${PRB_S3_SECONDS:-$3} ;;
	esac
}
# hget PATH OUT: an anonymous GET of HURL/PATH into OUT; status 0 on 200.
hget() { [ "$(curl -s -m 30 -o "$2" -w '%{http_code}' "$HURL$1")" = 200 ]; }

# s3_size: the size in the bucket's checkpoint (plain HTTP), "" if none.
s3_size() { hget checkpoint "$T/hcp" && sed -n 2p "$T/hcp"; }

# s3_mirror DIR: the bucket's checkpoint and every tile and entry bundle it
# names, fetched anonymously over plain HTTP into DIR (emptied first). On
# failure returns 1 with MIRROR_WHY.
s3_mirror() {
	rm -rf "$1"
	mkdir -p "$1"
	MIRROR_WHY=""
	hget checkpoint "$1/checkpoint" || { MIRROR_WHY="GET ${HURL}checkpoint failed"; return 1; }
	_ms=$(sed -n 2p "$1/checkpoint")
	tiles_for_size "$_ms" >"$1.paths"
	[ -s "$1.paths" ] || return 0
	sed "s|.*|url = \"$HURL&\"\noutput = \"$1/&\"|" "$1.paths" >"$1.curl"
	curl -s -f -m 300 --create-dirs -K "$1.curl" 2>/dev/null
	while read -r _p; do
		[ -f "$1/$_p" ] || { MIRROR_WHY="$MIRROR_WHY $_p"; }
	done <"$1.paths"
	[ -z "$MIRROR_WHY" ] && return 0
	MIRROR_WHY="size $_ms: not fetched over HTTP:$(echo "$MIRROR_WHY" | cut -c1-300)"
	return 1
}

# mirror_ok MSG DIR: s3_mirror DIR as an assertion; sets MS (its size).
mirror_ok() {
	if s3_mirror "$2"; then
		MS=$(cp_size "$2")
		ok "$1: checkpoint and tiles of size $MS fetched over plain HTTP"
	else
		MS=""
		bad "$1: fetching the log over plain HTTP" "$MIRROR_WHY"
		return 1
	fi
}

# gocheck_build: builds tests/interop/gocheck.go (x/mod's tlog) into
# $PRB_BUILD/interop/gocheck as test_interop.sh does; sets GOCHECK, or
# GOCHECK="" with GOCHECK_WHY when Go or x/mod is missing.
gocheck_build() {
	GOCHECK="" GOCHECK_WHY=""
	_x=/usr/share/gocode/src/golang.org/x/mod/sumdb
	if ! command -v go >/dev/null 2>&1 || [ ! -f "$_x/tlog/tlog.go" ]; then
		GOCHECK_WHY="go or golang.org/x/mod missing (sh scripts/deps.sh)"
		return 1
	fi
	_b=${PRB_BUILD:-$T}/interop
	mkdir -p "$_b"
	if env GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOENV=off \
		GOPROXY=off CGO_ENABLED=0 GOCACHE="$_b/gocache" \
		go build -o "$_b/gocheck" "$(dirname "$0")/../interop/gocheck.go" >"$T/gobuild" 2>&1; then
		GOCHECK=$_b/gocheck
		return 0
	fi
	GOCHECK_WHY="go build gocheck.go: $(head -n 3 "$T/gobuild")"
	return 1
}

# cp_watch FILEPREFIX: in the background (pid CWP), fetches the bucket's
# checkpoint over HTTP every 50 ms until killed, saving each distinct one
# as FILEPREFIX.N (the writers' intermediate checkpoints, as a reader sees
# them).
cp_watch() {
	(
		_n=0 _last=""
		while :; do
			if curl -s -m 5 -f -o "$1.tmp" "${HURL}checkpoint" 2>/dev/null; then
				_h=$(sha256sum <"$1.tmp")
				if [ "$_h" != "$_last" ]; then
					_n=$((_n + 1))
					mv "$1.tmp" "$1.$_n"
					_last=$_h
				fi
			fi
			sleep 0.05
		done
	) >/dev/null 2>&1 &
	CWP=$!
	BGPIDS="$BGPIDS $CWP"
}

# consistent_all DIR VK CPFILE...: every pair of the signed checkpoints
# given must be consistent: one root per size (else a fork), and for each
# pair of sizes 0 < m < n (a sample beyond PRB_S3_PAIRS pairs, see
# below), `probity consistency DIR m n` yields a proof that
# x/mod's tlog.CheckTree (gocheck) accepts against the two checkpoints
# (lib.sh's verify_consistency without Go). Records one assertion each for
# the forks and the proofs; prints how many pairs were checked.
consistent_all() {
	_d=$1 _vk=$2; shift 2
	mkdir -p "$T/cps"
	: >"$T/cps.list"
	for _f in "$@"; do
		[ -s "$_f" ] || continue
		echo "$(sed -n 2,3p "$_f" | tr '\n' ' ')$_f" >>"$T/cps.list"
	done
	# one root per size
	_forks=$(awk '{ print $1, $2 }' "$T/cps.list" | sort -u | awk '{ n[$1]++ } END { for (s in n) if (n[s] > 1) print s }')
	eq "no two checkpoints of one size with different roots (no fork) among $(wc -l <"$T/cps.list") observed" "$_forks" ""
	sort -u -k1,1n "$T/cps.list" | awk '$1 > 0' >"$T/cps.u"
	# the pairs: all of them up to PRB_S3_PAIRS (default 300); beyond,
	# every consecutive pair, every size to the last, and a random sample
	# of the others up to that many (consistency is transitive: the
	# consecutive pairs alone imply the rest)
	awk -v max="${PRB_S3_PAIRS:-300}" -v seed="$(rand 100000)" '
		{ m[NR] = $0 }
		END { srand(seed); t = NR * (NR - 1) / 2
			for (i = 1; i < NR; i++) for (j = i + 1; j <= NR; j++)
				if (t <= max || j == i + 1 || j == NR || rand() < max / t) print m[i], m[j] }' "$T/cps.u" >"$T/cps.pairs"
	_np=0 _bad=""
	while read -r _m _mr _mf _n _nr _nf; do
		if ! $TO "$PROBITY" consistency "$_d" "$_m" "$_n" >"$T/cproof.b64" 2>"$T/cproof.err"; then
			_bad="$_bad; consistency $_m $_n: $(head -n 1 "$T/cproof.err")"
			continue
		fi
		if [ -n "${GOCHECK:-}" ]; then
			"$GOCHECK" check-consistency "$_mf" "$_nf" "$T/cproof.b64" "$_vk" >"$T/cproof.go" 2>&1 ||
				_bad="$_bad; $_m -> $_n: $(tail -n 1 "$T/cproof.go")"
		else
			b64lines_to_hex "$T/cproof.b64" "$T/cproof.hex"
			verify_consistency "$_m" "$_n" "$(b64hex "$_mr")" "$(b64hex "$_nr")" "$T/cproof.hex" ||
				_bad="$_bad; $_m -> $_n: proof does not verify"
		fi
		_np=$((_np + 1))
	done <"$T/cps.pairs"
	_nc=$(wc -l <"$T/cps.u")
	eq "consistency proofs between pairs of the $_nc checkpoint sizes observed ($_np of $((_nc * (_nc - 1) / 2)) pairs${GOCHECK:+, x/mod tlog.CheckTree})" "$(echo "${_bad#; }" | cut -c1-400)" ""
}
