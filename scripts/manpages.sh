#!/bin/sh
# Writes the man pages of probity into OUTDIR with help2man, from the
# program's own --help and --version: probity.1 from `probity --help`,
# and probity-CMD.1 from `probity CMD --help` for every command that
# `probity --help` lists, so a page cannot say other than the program.
# The hand-written sections --help has no place for (ENVIRONMENT, FILES,
# SEE ALSO, ...; --help has the EXIT STATUS) come from man/*.h2m (help2man include files): man/probity.h2m
# for probity.1, man/CMD.h2m for probity-CMD.1 when present.
# usage: sh scripts/manpages.sh BIN OUTDIR
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BIN OUTDIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
OUT=$2
command -v help2man >/dev/null || { echo "$0: help2man is missing (sh scripts/deps.sh)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/prbman.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
# The commands and their one-line summaries: the "commands:" list of
# probity --help ("  NAME  SUMMARY").
"$BIN" --help | sed -n '/^[Cc]ommands:/,/^$/s/^  \([a-z][a-z-]*\)  *\(.*\)/\1 \2/p' >"$W/commands"
[ -s "$W/commands" ] || { echo "$0: $BIN --help lists no commands" >&2; exit 1; }
# help2man runs PROGRAM --version for the version; every page says the
# program's, asked once.
VERSION=$("$BIN" --version | sed -n '1s/^[^0-9]*//p')
[ -n "$VERSION" ] || { echo "$0: $BIN --version gives no version" >&2; exit 1; }

# SEE ALSO of probity.1: every command's page; of probity-CMD.1: probity(1).
{
	echo "[SEE ALSO]"
	sed 's/ .*//; s/^/.BR probity\\-/; s/$/ (1),/' "$W/commands" | sed '$s/,$//'
} >"$W/see-all.h2m"
printf '[SEE ALSO]\n.BR probity (1)\n' >"$W/see-top.h2m"

page() { # NAME SUMMARY PROGRAM INCLUDES...
	name=$1 summary=$2 prog=$3
	shift 3
	incs=""
	for i in "$@"; do incs="$incs --include=$i"; done
	# shellcheck disable=SC2086
	help2man --no-info --section=1 --source=probity \
		--version-string="$VERSION" --name="$summary" $incs \
		--output="$W/$name.1" "$prog"
	# --help's "Exit status:" is the page's EXIT STATUS section (help2man
	# makes it a subsection of the one before)
	sed 's/^\.SS "Exit status:"$/.SH "EXIT STATUS"/' "$W/$name.1" >"$OUT/$name.1"
}

page probity "commit cloud control-plane records to a verifiable log, audit them with evidence" \
	"$BIN" "$ROOT/man/probity.h2m" "$W/see-all.h2m"
while read -r cmd summary; do
	# help2man names the page after the program it runs: a probity-CMD
	# that runs `probity CMD`.
	printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$BIN" "$cmd" >"$W/probity-$cmd"
	chmod 755 "$W/probity-$cmd"
	set -- "$W/see-top.h2m"
	[ -f "$ROOT/man/$cmd.h2m" ] && set -- "$ROOT/man/$cmd.h2m" "$@"
	page "probity-$cmd" "$summary" "$W/probity-$cmd" "$@"
done <"$W/commands"
