#!/bin/sh
# Every shipped policy (policies/*.sql) against events that must and must
# not trigger it. Each policy ID has a directory tests/policies/ID/ with
#
#   trigger/   export files (any format probity ingest reads) whose every
#              record must be cited by a finding of the policy, and no
#              finding citing anything else;
#   clean/     export files none of whose records may be cited;
#   params.json  (optional) a --params file used for both runs.
#
# A policy without both directories, or a directory without a policy,
# fails. Each trigger bundle is also checked with verify-evidence.
#
# Env: PROBITY (binary), VERBOSE=1.
set -u
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
POL=$(cd "$HERE/../../policies" && pwd)
CASES=$(cd "$HERE/../policies" && pwd)

new_key policy-test.example/log "$T/k" || finish
VKEY=$VK

# policy_id FILE: the id in its header.
policy_id() { sed -n 's/^-- id: *\([^ ]*\) *$/\1/p' "$1" | head -n 1; }

# cited_by FINDINGS ID: the leaves cited by ID's findings, sorted, unique,
# one per line. (findings.json is RFC 8785: members sorted, so a finding's
# "entries" precede its "policy".)
cited_by() {
	grep -o '"entries":\[[0-9,]*\],"policy":"'"$2"'"' "$1" |
		sed 's/.*\[\([0-9,]*\)\].*/\1/' | tr ',' '\n' | sort -n | uniq
}
# policies_cited FINDINGS: the distinct policy ids of its findings.
policies_cited() {
	grep -o '"entries":\[[0-9,]*\],"policy":"[^"]*"' "$1" |
		sed 's/.*"policy":"\([^"]*\)"/\1/' | sort -u
}

# run_case ID FILE KIND: ingests tests/policies/ID/KIND into a new log and
# audits it with FILE alone; the bundle is left in $T/$ID.$KIND.
run_case() {
	id=$1 file=$2 kind=$3 dir=$CASES/$1/$3
	L=$T/$id.$kind.log B=$T/$id.$kind.bundle
	new_log "$L" "$T/k" || return 1
	prb ingest "$L" --key "$T/k" "$dir"
	[ "$RC" -eq 0 ] || { bad "$id: ingest of $kind/" "exit $RC: $(head_of "$T/err")"; return 1; }
	n=$(cp_size "$L")
	[ "$n" -gt 0 ] || { bad "$id: $kind/ holds records" "size $n"; return 1; }
	set -- --policies "$file" --out "$B"
	[ -f "$CASES/$id/params.json" ] && set -- "$@" --params "$CASES/$id/params.json"
	prb audit "$L" "$@"
	[ "$RC" -eq 0 ] || { bad "$id: audit of $kind/" "exit $RC: $(head_of "$T/err")"; return 1; }
	return 0
}

section "each policy has cases, each case a policy"
ids=""
for f in "$POL"/*.sql; do
	id=$(policy_id "$f")
	if [ -z "$id" ]; then bad "$(basename "$f") has an id"; continue; fi
	ids="$ids $id"
	if [ -d "$CASES/$id/trigger" ] && [ -d "$CASES/$id/clean" ]; then
		ok "$id has trigger/ and clean/ cases"
	else
		bad "$id has trigger/ and clean/ cases" "missing under tests/policies/$id"
	fi
done
for d in "$CASES"/*/; do
	d=$(basename "$d")
	case " $ids " in
	*" $d "*) ok "tests/policies/$d is a policy's" ;;
	*) bad "tests/policies/$d is a policy's" "no policy has id $d" ;;
	esac
done

for f in "$POL"/*.sql; do
	id=$(policy_id "$f")
	[ -n "$id" ] && [ -d "$CASES/$id/trigger" ] && [ -d "$CASES/$id/clean" ] || continue
	section "$id"
	if run_case "$id" "$f" trigger; then
		n=$(cp_size "$L")
		want=$(seq 0 $((n - 1)))
		got=$(cited_by "$B/findings.json" "$id")
		if [ "$got" = "$want" ]; then
			ok "$id: all $n trigger records cited"
		else
			missed=$(printf '%s\n' "$want" | grep -vxF "$(printf '%s\n' "$got")" | tr '\n' ' ')
			bad "$id: all $n trigger records cited" "not cited (leaves): $missed" \
				"$(grep -h -o '"detail":"[^"]*"' "$B/findings.json" | head -n 5)"
		fi
		eq "$id: no other policy's findings" "$(policies_cited "$B/findings.json")" "$id"
		prb verify-evidence "$B" --vkey "$VKEY"
		eq "$id: trigger bundle verifies" "$RC" 0
	fi
	if run_case "$id" "$f" clean; then
		got=$(cited_by "$B/findings.json" "$id" | tr '\n' ' ')
		eq "$id: no clean record cited ($(cp_size "$L") records)" "$got" ""
	fi
done

section "the pack on real attack simulations (../shared: Stratus Red Team CloudTrail)"
STRATUS=$PRB_SHARED/data/cloudtrail/stratus
if [ ! -d "$STRATUS" ]; then
	skip "$STRATUS not found: the real-sample checks need ../shared"
else
	L=$T/stratus.log
	new_log "$L" "$T/k"
	prb ingest "$L" --key "$T/k" "$STRATUS"/*.json
	eq "the Stratus samples ingest" "$RC" 0
	prb audit "$L" --policies "$POL" --out "$T/stratus.bundle"
	eq "the whole pack runs on them" "$RC" 0
	# cited_op ID OP: how many of ID's cited entries are OP calls
	cited_op() {
		n=0
		for l in $(cited_by "$T/stratus.bundle/findings.json" "$1"); do
			[ "$(sqlite3 "$L/index.sqlite" "select operation from events where leaf = $l")" = "$2" ] && n=$((n + 1))
		done
		echo "$n"
	}
	for want in concealment.audit-trail-disabled:StopLogging \
		concealment.audit-trail-disabled:DeleteTrail \
		concealment.audit-trail-disabled:PutEventSelectors \
		concealment.audit-trail-disabled:DeleteFlowLogs \
		concealment.audit-trail-disabled:DeleteResolverQueryLogConfig \
		isolation.cross-account-delegation:ModifySnapshotAttribute \
		isolation.cross-account-delegation:ModifyImageAttribute \
		isolation.cross-account-delegation:ModifyDBSnapshotAttribute \
		privileged.admin-grant:AttachUserPolicy; do
		check "${want%%:*} finds the simulated ${want#*:}" [ "$(cited_op "${want%%:*}" "${want#*:}")" -ge 1 ]
	done
	prb verify-evidence "$T/stratus.bundle" --vkey "$VKEY"
	eq "and its bundle verifies" "$RC" 0
fi

finish
