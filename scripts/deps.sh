#!/bin/sh
# Installs the Debian packages probity needs to build and test, if missing.
# Idempotent; runs apt-get only when something is missing. fuse3 to
# libspdlog-dev build LazyFS for the power-loss tests (tests/powerloss);
# ceph-mon, ceph-osd and radosgw run the throw-away Ceph of tests/s3.
# libsystemd-dev: sd_notify for serve and witness under systemd; help2man
# makes the man pages from --help; man-db renders them, systemd checks the
# units (systemd-analyze) and debhelper builds the Debian package
# (tests/cli/test_install.sh); debootstrap makes the fresh Debian 12 that
# scripts/deb-clean-check.sh installs the package into; python3 reads the
# sd_notify datagrams and bsdextrautils (col) flattens man -l in
# tests/cli/test_install.sh, where lintian checks the package.
set -eu
PKGS="gcc make libc6-dev libssl-dev libjansson-dev libsqlite3-dev zlib1g-dev sqlite3 openssl clang \
libmicrohttpd-dev libcurl4-openssl-dev curl nginx wrk \
libclang-rt-14-dev golang-go golang-golang-x-mod-dev time \
chromium tesseract-ocr tesseract-ocr-eng fonts-dejavu-core strace \
fuse3 libfuse3-dev cmake g++ libtoml11-dev libspdlog-dev \
libsystemd-dev pkg-config help2man man-db groff-base systemd debhelper dpkg-dev fakeroot \
debootstrap python3 bsdextrautils lintian libarchive-dev ceph-mon ceph-osd radosgw"
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
# nginx and ceph are installed for the tests, which run their own instances
# on 127.0.0.1; keep their packages from starting system-wide servers.
norc=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	norc=1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -z "$norc" ] || $SUDO rm -f /usr/sbin/policy-rc.d
