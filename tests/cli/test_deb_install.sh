#!/bin/sh
# The Debian package installed and run on a clean Debian 12: runs
# scripts/deb-clean-check.sh (builds the package from the committed tree,
# installs it with apt into a fresh debootstrap'd bookworm chroot, runs
# version, keygen, init, ingest, audit with the packaged pack and
# verify-evidence there, purges it). Release build only (the package
# builds its own binary); skipped with a message without root,
# debootstrap, dpkg-buildpackage or the Debian mirror (PRB_DEB_MIRROR,
# default http://deb.debian.org/debian).
set -u
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIRROR=${PRB_DEB_MIRROR:-http://deb.debian.org/debian}
if case $PROBITY in */san/*) true ;; *) false ;; esac; then
	skip "the package builds its own release binary: checked with the release build only"
elif [ "$(id -u)" -ne 0 ]; then
	skip "not root: debootstrap and chroot need root (run sh scripts/deb-clean-check.sh as root)"
elif ! command -v debootstrap >/dev/null 2>&1 || ! command -v dpkg-buildpackage >/dev/null 2>&1; then
	skip "debootstrap or dpkg-buildpackage is missing (sh scripts/deps.sh installs them)"
elif ! git -C "$ROOT" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	skip "not a git checkout: the check builds the committed tree"
elif ! curl -s -m 15 -o /dev/null -f "$MIRROR/dists/bookworm/Release"; then
	skip "the Debian mirror $MIRROR cannot be reached"
else
	if sh "$ROOT/scripts/deb-clean-check.sh" "$MIRROR" >"$T/out" 2>"$T/err"; then
		ok "scripts/deb-clean-check.sh"
	else
		bad "scripts/deb-clean-check.sh" "$(tail -n 15 "$T/err")"
	fi
	check "the package installed, ran and was purged on a fresh Debian 12" \
		grep -q "the package installed, ran and was purged on a fresh Debian 12" "$T/out"
fi
finish
