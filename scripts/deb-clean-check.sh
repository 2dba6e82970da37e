#!/bin/sh
# Builds the Debian package from the committed tree (git archive HEAD),
# installs it with apt into a fresh Debian 12 (debootstrap --variant=minbase
# bookworm, in a temporary chroot), runs it there (version, keygen, init,
# ingest, audit with the packaged pack, verify-evidence, the man pages and
# units present, the user probity made), purges it, and removes the chroot.
# Needs root, debootstrap and the Debian mirror; about 45 s.
# tests/cli/test_deb_install.sh runs it in make check where it can (and
# tests/cli/test_install.sh builds and unpacks the package everywhere).
# usage: sh scripts/deb-clean-check.sh [MIRROR]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=${1:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "$0: debootstrap is missing (sh scripts/deps.sh)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/prbdeb.XXXXXX")
C=$W/root
cleanup() {
	mountpoint -q "$C/proc" 2>/dev/null && umount "$C/proc"
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/src/probity"
git -C "$ROOT" archive HEAD | tar -C "$W/src/probity" -xf -
(cd "$W/src/probity" && dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1 ||
	{ tail -n 20 "$W/build.log" >&2; exit 1; }
DEB=$(ls "$W"/src/probity_*.deb)
echo "built $(basename "$DEB")"
debootstrap --variant=minbase bookworm "$C" "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$W/debootstrap.log" >&2; exit 1; }
cp "$DEB" "$C/tmp/probity.deb"
cp /etc/resolv.conf "$C/etc/resolv.conf"
mount -t proc proc "$C/proc"
chroot "$C" sh -eu <<'END'
export DEBIAN_FRONTEND=noninteractive
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get update -qq
apt-get install -y -qq --no-install-recommends /tmp/probity.deb >/dev/null
getent passwd probity >/dev/null
test -f /lib/systemd/system/probity-serve@.service
test -f /lib/systemd/system/probity-witness@.service
test -f /usr/share/man/man1/probity-audit.1.gz
cd /tmp
probity --version
probity keygen clean.example/log -o k >vk
probity init log --key k
printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"c-1","stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings","verb":"create","user":{"username":"m"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"clusterrolebindings","name":"x","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"2024-03-01T12:00:00Z","stageTimestamp":"2024-03-01T12:00:01Z"}' >a.log
probity ingest log --key k a.log
probity audit log --out b
probity verify-evidence b --vkey "$(cat vk)"
apt-get purge -y -qq probity >/dev/null
! test -e /usr/bin/probity
END
echo "deb-clean-check: the package installed, ran and was purged on a fresh Debian 12"
