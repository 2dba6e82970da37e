#!/bin/sh
# The throw-away Ceph of tests/s3/ceph.sh, and what the S3 store relies on
# from it: RGW comes up on 127.0.0.1, write-once PUTs (If-None-Match: *)
# and compare-and-swap PUTs (If-Match: ETag) are honoured, RGW alone can be
# stopped and started again without losing objects, a public-read bucket
# serves objects to anonymous GETs (and refuses anonymous PUTs), and the
# teardown leaves no daemon and no directory behind. Skips without Ceph.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/ceph.sh"

ceph_fixture probity-ceph
B=/probity-ceph

section "write once: If-None-Match: *"
s3 PUT "$B/o1" -H 'If-None-Match: *' --data-binary one >/dev/null
eq "a new object is created" "$S3_CODE" 200
s3 PUT "$B/o1" -H 'If-None-Match: *' --data-binary two >/dev/null
eq "an existing object is not replaced (412)" "$S3_CODE" 412
eq "and keeps its bytes" "$(s3 GET "$B/o1")" one

section "compare and swap: If-Match"
s3 HEAD "$B/o1" -D "$T/h1" >/dev/null
E1=$(grep -i '^etag:' "$T/h1" | cut -d: -f2- | tr -d ' \r"')
check "HEAD gives an ETag" test -n "$E1"
s3 PUT "$B/o1" -H "If-Match: $E1" --data-binary three >/dev/null
eq "a PUT on the current ETag replaces" "$S3_CODE" 200
s3 PUT "$B/o1" -H "If-Match: $E1" --data-binary four >/dev/null
eq "a PUT on a stale ETag is refused (412)" "$S3_CODE" 412
eq "and the object is the winner's" "$(s3 GET "$B/o1")" three

section "public read"
check "bucket policy set" ceph_public_read probity-ceph
eq "anonymous GET" "$(curl -s -m 10 "$AWS_ENDPOINT_URL$B/o1")" three
C=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$AWS_ENDPOINT_URL$B/anon")
eq "anonymous PUT refused" "$C" 403

section "RGW stopped and started again"
ceph_rgw_stop
curl -s -m 5 -o /dev/null "$AWS_ENDPOINT_URL/"
check "no answer while RGW is stopped" test $? -eq 7
if ceph_rgw_start; then ok "RGW restarted"; else bad "RGW restart: $CEPH_WHY" "$(cat "$CEPH_DIR/why")"; fi
eq "the object survived the restart" "$(s3 GET "$B/o1")" three

section "counters"
R0=$(ceph_rgw_requests)
s3 GET "$B/o1" >/dev/null
s3 PUT "$B/o2" --data-binary 2 >/dev/null
s3 PUT "$B/o2" -H 'If-None-Match: *' --data-binary 2 >/dev/null
R1=$(ceph_rgw_requests)
eq "RGW's counters: 3 requests, 2 PUTs, 1 GET ($R0 -> $R1)" \
	"$(echo "$R0 $R1" | awk '{ print $4 - $1, $5 - $2, $6 - $3 }')" "3 2 1"
U=$(ceph_bucket_usage probity-ceph)
eq "bucket usage: objects and bytes" "$U" "2 6"

section "teardown"
D=$CEPH_DIR P=$CEPH_PIDS
ceph_down
left=""
for p in $P; do [ -r "/proc/$p/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" && left="$left $p"; done
eq "no daemon left" "$left" ""
check "directory removed" test ! -e "$D"
finish
