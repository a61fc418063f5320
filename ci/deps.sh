#!/usr/bin/env bash
# Installs, from Debian's packages, what building and testing b2c needs,
# when it is missing. As root it runs apt-get; otherwise it names what to
# install and fails.
set -euo pipefail
pkgs=(
	qemu-system-x86 qemu-utils         # the VMs
	linux-source-6.1 flex bison bc libelf-dev libssl-dev dwarves  # our kernel
	crun conmon e2fsprogs ca-certificates kbd console-data  # shipped in the initramfs
	busybox-static                     # test images are built from it
	zstd cpio
	squashfs-tools                     # podman's image in the initramfs (mksquashfs); its licences (unsquashfs)
	kmod                               # depmod, for the distribution kernel scenario
	gcc libc6-dev                      # the kernel; podman's cgo parts
	dnsmasq-base chrony tinyproxy iproute2  # ci/netlab: DHCP/DNS, NTP, an HTTP proxy
	pxelinux syslinux-common ipxe-qemu  # netboot scenarios: pxelinux.0, ldlinux.c32, QEMU's NIC ROMs
	ovmf systemd-boot-efi              # UEFI disk scenario; b2c disk's boot loader
	dosfstools mtools                  # b2c disk's tests read its FAT with other tools
	grub-common grub-efi-amd64-bin     # the GRUB scenario builds GRUB's EFI image
	nbd-server nfs-ganesha nfs-ganesha-vfs  # diskless scenarios: an NBD and an NFS server
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # the arm64 kernel and podman, cross-built
	qemu-system-arm qemu-efi-aarch64 u-boot-qemu  # arm64 VMs: QEMU's virt machine, AAVMF, U-Boot
	systemd-boot-efi:arm64             # b2c disk --arch arm64
)
# The arm64 image's crun, conmon... come from Debian's arm64 packages,
# downloaded and unpacked (mkinitramfs/sysroot.sh), not installed.
foreign=arm64
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
addarch=
dpkg --print-foreign-architectures | grep -qx "$foreign" || addarch=yes
[ ${#missing[@]} -eq 0 ] && [ -z "$addarch" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	[ -n "$addarch" ] && echo "deps: run: sudo dpkg --add-architecture $foreign && sudo apt-get update" >&2
	[ ${#missing[@]} -gt 0 ] && echo "deps: missing Debian packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ -n "$addarch" ]; then
	echo "deps: adding Debian's $foreign packages (dpkg --add-architecture)"
	dpkg --add-architecture "$foreign"
fi
apt-get update -q >/dev/null
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
