#!/bin/sh
# Installs the Debian packages probity needs to build and test, if missing.
# Idempotent; runs apt-get only when something is missing.
set -eu
PKGS="gcc make libc6-dev libssl-dev libjansson-dev libsqlite3-dev zlib1g-dev sqlite3 openssl clang \
libclang-rt-14-dev golang-go golang-golang-x-mod-dev time \
chromium tesseract-ocr tesseract-ocr-eng fonts-dejavu-core"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
