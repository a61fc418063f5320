#!/usr/bin/env bash
# Builds the b2c kernel from Debian's linux-source-6.1 and copies it to $1.
# $2 is the architecture: x86_64 (the default; $1 defaults to out/bzImage)
# or arm64 (cross-built with Debian's aarch64-linux-gnu toolchain; $1 is
# the Image, and the device-tree blobs go to dtbs/ next to it, for boards).
# The build takes 9 to 25 minutes on 2 cores, so the result is cached
# outside the clone, keyed by a hash of every input: the source tarball's
# package version, the architecture, this script and the config fragments.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=${2:-x86_64}
case "$arch" in
x86_64)
	image=arch/x86/boot/bzImage
	fragments=("$here/b2c.config")
	make=(make)
	;;
arm64)
	image=arch/arm64/boot/Image
	fragments=("$here/b2c.config" "$here/arm64.config")
	make=(make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	command -v aarch64-linux-gnu-gcc >/dev/null || {
		echo "kernel: aarch64-linux-gnu-gcc missing: apt-get install gcc-aarch64-linux-gnu" >&2
		exit 1
	}
	;;
*)
	echo "kernel: unknown architecture $arch (x86_64 or arm64)" >&2
	exit 1
	;;
esac
# Absolute: the build changes into the kernel's source tree before it
# copies the result, and a relative destination would then point there.
dest=$(realpath -m "${1:-$here/../out/$(basename "$image")}")
src=/usr/src/linux-source-6.1.tar.xz
if [ ! -f "$src" ]; then
	echo "kernel: $src missing: apt-get install linux-source-6.1 flex bison libelf-dev bc libssl-dev" >&2
	exit 1
fi
version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (echo "$version $arch"; cat "$here/build.sh" "${fragments[@]}") | sha256sum | cut -c1-16)
cache=${B2C_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/b2c}/kernel/$key
mkdir -p "$(dirname "$dest")"
# The device-tree blobs, for boards (arm64 only).
copy_dtbs() {
	[ -f "$cache/dtbs.tar" ] || return 0
	rm -rf "$(dirname "$dest")/dtbs"
	mkdir -p "$(dirname "$dest")/dtbs"
	tar -xf "$cache/dtbs.tar" -C "$(dirname "$dest")/dtbs"
}
if [ -f "$cache/image" ]; then
	cp "$cache/image" "$dest"
	copy_dtbs
	echo "kernel: cached $arch $cache/image"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/b2c-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "kernel: building linux-source-6.1 $version for $arch in $work (9 to 25 minutes on 2 cores)"
tar -xJf "$src" -C "$work"
cd "$work"/linux-source-6.1
# The kernel echoes its command line on the console at info and notice
# level: it would print b2c.minio's keys and fscrypt keys there. At debug
# level the console does not show it (unless the lab boots with
# loglevel=8); the agent prints the command line itself, secrets masked.
# (arm64's setup.c does not echo it; init/main.c does on both.)
sed -i 's/printk(KERN_INFO "Command line: %s\\n", boot_command_line)/printk(KERN_DEBUG "Command line: %s\\n", boot_command_line)/' arch/x86/kernel/setup.c
sed -i 's/pr_notice("Kernel command line: %s\\n", saved_command_line)/pr_debug("Kernel command line: %s\\n", saved_command_line)/' init/main.c
grep -q 'KERN_DEBUG "Command line' arch/x86/kernel/setup.c && grep -q 'pr_debug("Kernel command line' init/main.c || {
	echo "kernel: the command-line echo was not silenced (source changed?)" >&2
	exit 1
}
if grep -rq 'Command line: %s' arch/arm64/kernel/; then
	echo "kernel: arm64 echoes the command line (source changed?)" >&2
	exit 1
fi
if [ "$arch" = x86_64 ]; then
	"${make[@]}" -s x86_64_defconfig
	scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config "${fragments[@]}" >/dev/null
else
	"${make[@]}" -s defconfig
	ARCH=arm64 scripts/kconfig/merge_config.sh -m .config "${fragments[@]}" >/dev/null
fi
"${make[@]}" -s olddefconfig
# Fail loudly when a requested option did not survive olddefconfig (a
# missing dependency), rather than boot a kernel without it.
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=y) grep -qx "$line" .config || { echo "kernel: $line not set" >&2; missing=1; } ;; esac
done < <(cat "${fragments[@]}")
[ "$missing" = 0 ] || exit 1
# Only the kernel image (and arm64's device trees): what the defconfig
# leaves as modules is not built, as the initramfs carries no modules.
targets=("$(basename "$image")")
[ "$arch" = arm64 ] && targets+=(dtbs)
"${make[@]}" -s -j"$(nproc)" "${targets[@]}" KBUILD_BUILD_USER=b2c KBUILD_BUILD_HOST=b2c
mkdir -p "$cache"
if [ "$arch" = arm64 ]; then
	# Laid out as in Debian's /usr/lib/linux-image-*: vendor/board.dtb.
	(cd arch/arm64/boot/dts && find . -name '*.dtb' | sort | tar -cf "$cache/dtbs.tar.tmp" -T -) && mv "$cache/dtbs.tar.tmp" "$cache/dtbs.tar"
fi
cp "$image" "$cache/image.tmp" && mv "$cache/image.tmp" "$cache/image"
cp .config "$cache/config"
cp "$cache/image" "$dest"
copy_dtbs
echo "kernel: built $arch $cache/image"
