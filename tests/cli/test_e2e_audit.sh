#!/bin/sh
# End to end, from generated data to a verified bundle: gen-events writes
# background records and planted violations of every audit category in the
# four formats; they are ingested, audited with the whole shipped pack at
# its defaults, and the bundle is verified offline and re-checked against
# the log. Every planted event must be cited, no background event may be.
#
# Env: PROBITY (binary), PRB_BUILD (its build directory, for gen-events),
# PRB_POLICIES (another pack; default the tree's policies/), VERBOSE=1.
set -u
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
PACK=${PRB_POLICIES:-$(cd "$HERE/../../policies" && pwd)}
GEN=${PRB_BUILD:-$(dirname "$PROBITY")}/gen-events
if [ ! -x "$GEN" ]; then
	bad "gen-events is built" "$GEN not found (make rel-all builds it)"
	finish
fi

section "the generator"
"$GEN" --seed 42 --events 4000 --out "$T/d1" && "$GEN" --seed 42 --events 4000 --out "$T/d2"
eq "same seed, same bytes" "$(cd "$T/d1" && find . -type f | sort | xargs cat | sha256sum)" "$(cd "$T/d2" && find . -type f | sort | xargs cat | sha256sum)"
"$GEN" --seed 43 --events 4000 --out "$T/d3"
check "another seed, other bytes" sh -c "! cmp -s '$T/d1/aws/cloudtrail-0001.json' '$T/d3/aws/cloudtrail-0001.json'"
eq "four providers' files" "$(ls "$T/d1" | tr '\n' ' ')" "aws azure gcp k8s "

section "ingest"
new_key e2e.example/log "$T/k" || finish
VKEY=$VK
L=$T/log
new_log "$L" "$T/k" || finish
prb ingest "$L" --key "$T/k" "$T/d1"
eq "ingest" "$RC" 0
N=$(cp_size "$L")
P=$(sqlite3 "$L/index.sqlite" "select count(*) from events where event_id like 'planted-%'")
eq "every record committed and indexed" "$(sqlite3 "$L/index.sqlite" 'select count(*) from events')" "$N"
check "planted events present ($P)" [ "$P" -ge 30 ]
for cat in residency retention concealment isolation privileged bulk; do
	check "planted $cat events" [ "$(sqlite3 "$L/index.sqlite" "select count(*) from events where event_id like 'planted-$cat-%'")" -gt 0 ]
done
eq "all four formats" "$(sqlite3 "$L/index.sqlite" 'select group_concat(format) from (select distinct format from events order by format)')" "azure-activity,cloudtrail,gcp-audit,k8s-audit"

section "audit with the whole pack"
prb audit "$L" --policies "$PACK" --out "$T/b"
eq "audit" "$RC" 0
sqlite3 "$L/index.sqlite" "select leaf from events where event_id like 'planted-%' order by leaf" >"$T/planted"
grep -o '"entries":\[[0-9,]*\]' "$T/b/findings.json" | grep -o '[0-9][0-9]*' | sort -nu >"$T/cited"
sort -n "$T/planted" -o "$T/planted"
missed=$(comm -23 "$T/planted" "$T/cited")
extra=$(comm -13 "$T/planted" "$T/cited")
if [ -z "$missed" ]; then ok "every planted event cited ($P)"; else
	bad "every planted event cited" "not cited: $(for l in $missed; do sqlite3 "$L/index.sqlite" "select event_id || ' ' || operation from events where leaf = $l"; done | tr '\n' ';' | head -c 400)"
fi
if [ -z "$extra" ]; then ok "no background event cited"; else
	bad "no background event cited" "cited: $(for l in $extra; do sqlite3 "$L/index.sqlite" "select event_id || ' ' || operation from events where leaf = $l"; done | head -n 5 | tr '\n' ';')"
fi
for cat in residency retention concealment isolation privileged bulk; do
	check "a $cat policy has findings" grep -q "\"policy\":\"$cat\\." "$T/b/findings.json"
done

# Rows of one policy with the same detail are one finding: the planted
# burst of 120 transcription jobs is one finding citing all 120.
eq "one speech-to-text finding" "$(grep -o '"entries":\[[0-9,]*\],"policy":"bulk.speech-to-text-at-scale"' "$T/b/findings.json" | wc -l)" 1
eq "citing the 120 jobs" "$(grep -o '"entries":\[[0-9,]*\],"policy":"bulk.speech-to-text-at-scale"' "$T/b/findings.json" | grep -o '[0-9][0-9]*' | wc -l)" 120
eq "the summary counts findings, not rows" "$(grep -o '[0-9]* findings' "$T/out")" "$(grep -o '"policy":"' "$T/b/findings.json" | wc -l) findings"

section "the bundle"
prb verify-evidence "$T/b" --vkey "$VKEY"
eq "verify-evidence" "$RC" 0
check "says every entry proven" grep -q "every entry proven included" "$T/out"
prb audit "$L" --check "$T/b"
eq "audit --check reproduces it" "$RC" 0
prb audit "$L" --policies "$PACK" --out "$T/b2"
cmp -s "$T/b/findings.json" "$T/b2/findings.json" && ok "a second audit gives the same findings.json" || bad "a second audit gives the same findings.json"
(cd "$T/b" && find . -type f | sort | xargs sha256sum) >"$T/s1"
(cd "$T/b2" && find . -type f | sort | xargs sha256sum) >"$T/s2"
cmp -s "$T/s1" "$T/s2" && ok "and the same bundle, file for file" || bad "and the same bundle, file for file"
prb verify-evidence "$T/b" --vkey "$VKEY" >/dev/null
rm -rf "$T/bt" && cp -r "$T/b" "$T/bt"
f=$(ls "$T/bt/entries" | head -n 1)
flip_byte "$T/bt/entries/$f" 10
expect_fail "an altered entry is refused" verify-evidence "$T/bt" --vkey "$VKEY" && err_has "naming it" "bt/entries/$f"

finish
