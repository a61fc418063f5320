#!/usr/bin/env bash
# Lays out the Debian files of a foreign architecture's initramfs (crun,
# conmon, e2fsprogs, blkid, loadkeys, busybox and their shared libraries)
# in a directory, extracted from Debian's packages for that architecture
# (`dpkg --add-architecture`, which ci/deps.sh does), and prints the
# directory. mkinitramfs -sysroot takes its binaries and libraries from
# there. Nothing is installed on the host: the packages are downloaded and
# unpacked. The result is cached, keyed by the packages' versions.
#
#	mkinitramfs/sysroot.sh arm64
set -euo pipefail
arch=${1:?usage: sysroot.sh ARCH}
# The packages of the files the image ships and the libraries they load.
# mkinitramfs fails, naming the library, when one is missing here.
pkgs=(
	crun conmon e2fsprogs util-linux kbd busybox-static
	libc6 libgcc-s1 libcap2 libseccomp2 libsystemd0 libyajl2 libgcrypt20
	libgpg-error0 liblz4-1 liblzma5 libzstd1 libglib2.0-0 libffi8
	libmount1 libblkid1 libselinux1 libpcre2-8-0 zlib1g libuuid1
	libext2fs2 libcom-err2 libss2 libsmartcols1 libudev1
)
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	echo "sysroot: Debian's $arch packages are not enabled: dpkg --add-architecture $arch && apt-get update (ci/deps.sh does it)" >&2
	exit 1
fi
names=("${pkgs[@]/%/:$arch}")
# One line per package: name and candidate version.
versions=$(apt-cache policy "${names[@]}" | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}')
if [ "$(wc -l <<<"$versions")" != "${#pkgs[@]}" ] || grep -q '(none)' <<<"$versions"; then
	echo "sysroot: not every package has a $arch candidate (apt-get update?):" >&2
	echo "$versions" >&2
	exit 1
fi
key=$( (echo "$arch"; echo "$versions"; cat "$0") | sha256sum | cut -c1-16)
dir=${B2C_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/b2c}/sysroot/$arch-$key
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/b2c-sysroot.XXXXXX")
# apt downloads as its own user, _apt, when it can write there (else it
# warns and downloads as root).
chmod 777 "$work"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "${names[@]}" >&2)
# Unpacked, and recorded in a dpkg database of the sysroot's own
# (var/lib/dpkg), which dpkg-query --admindir reads: mkinitramfs
# -licenses finds there which package each file of the image comes from.
db=$work/root/var/lib/dpkg
mkdir -p "$db/info"
echo 1 >"$db/info/format" # the multiarch layout: pkg:arch.list
for deb in "$work"/*.deb; do
	dpkg-deb -x "$deb" "$work/root"
	pkg=$(dpkg-deb -f "$deb" Package)
	[ "$(dpkg-deb -f "$deb" Multi-Arch)" = same ] && pkg=$pkg:$arch
	{ dpkg-deb -f "$deb"; echo "Status: install ok installed"; echo; } >>"$db/status"
	dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' -e 's|^$|/.|' >"$db/info/$pkg.list"
done
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
mv "$work/root" "$dir"
touch "$dir/.done"
echo "$dir"
