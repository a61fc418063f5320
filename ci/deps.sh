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
	kmod                               # depmod, for the distribution kernel scenario
	gcc libc6-dev                      # the kernel; podman's cgo parts
	dnsmasq-base chrony tinyproxy iproute2  # ci/netlab: DHCP/DNS, NTP, an HTTP proxy
	pxelinux syslinux-common ipxe-qemu  # netboot scenarios: pxelinux.0, ldlinux.c32, QEMU's NIC ROMs
	ovmf systemd-boot-efi              # UEFI disk scenario; b2c disk's boot loader
	dosfstools mtools                  # b2c disk's tests read its FAT with other tools
	grub-common grub-efi-amd64-bin     # the GRUB scenario builds GRUB's EFI image
	nbd-server nfs-ganesha nfs-ganesha-vfs  # diskless scenarios: an NBD and an NFS server
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
