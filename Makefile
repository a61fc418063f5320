# b2c: `make demo` builds everything and boots a demo container in QEMU;
# `make test` runs every test. See README.md.

GO       ?= go
OUT      := out
# ARCH=arm64 builds the arm64 kernel (out/Image, its device trees in
# out/dtbs/), podman and initramfs, cross-compiled: `make all ARCH=arm64`.
ARCH     ?= amd64
ifeq ($(ARCH),amd64)
KERNEL   := $(OUT)/bzImage
KARCH    := x86_64
PODMAN   := $(OUT)/podman
SYSROOT  :=
else ifeq ($(ARCH),arm64)
KERNEL   := $(OUT)/Image
KARCH    := arm64
PODMAN   := $(OUT)/podman.arm64
# Debian's arm64 crun, conmon, e2fsprogs... and their libraries, unpacked.
SYSROOT   = -sysroot $$(mkinitramfs/sysroot.sh arm64)
else
$(error ARCH=$(ARCH): want amd64 or arm64)
endif
INITRD   := $(OUT)/initramfs.linux_$(ARCH).cpio.zst
# Without the storage drivers the image does not use, and without cgo's
# gpgme: podman's (and the agent's: mkinitramfs builds them as one binary).
TAGS     := exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp
export GOFLAGS := -mod=mod

.PHONY: all all-arches release-image deps kernel initramfs cli demo test unit e2e bench fuzz clean release

all: $(KERNEL) $(INITRD)

# Both architectures, one after the other: what e2e and bench boot.
all-arches:
	$(MAKE) all ARCH=amd64
	$(MAKE) all ARCH=arm64

deps:
	@ci/deps.sh

$(KERNEL): kernel/build.sh kernel/b2c.config $(wildcard kernel/$(KARCH).config) | deps
	kernel/build.sh $@ $(KARCH)

kernel: $(KERNEL)

# The initramfs is cheap to rebuild next to the kernel, and its inputs
# are many Go packages: always rebuild it. mkinitramfs builds podman with
# the agent in it ($(PODMAN), cross-compiled with cgo for arm64): one
# binary, /usr/bin/podman and /bin/init; Go's build cache keeps it quick.
initramfs $(INITRD): FORCE | deps
	$(GO) run ./mkinitramfs -arch $(ARCH) $(SYSROOT) -o $(INITRD) -podman $(PODMAN)

FORCE:

# The host CLI: lint, explain, boot-config, disk, run (which finds the
# kernel and the initramfs next to it).
B2C      := $(OUT)/b2c
$(B2C): FORCE
	@mkdir -p $(OUT)
	$(GO) build -trimpath -tags 'remote $(TAGS)' -o $@ ./cmd/b2c

cli: $(B2C)

# `make release` lays out out/ so that a TFTP or HTTP server can serve it
# as its root, both architectures side by side: the kernels (bzImage;
# arm64's Image and its device trees in dtbs/), the initramfs archives,
# the b2c CLI, a sample configuration per boot path (pxelinux.cfg/default,
# boot.ipxe, grub.cfg and loader/entries/b2c.conf, the systemd-boot entry
# of `b2c disk`; for arm64 boards booting U-Boot from a disk,
# extlinux/extlinux.conf), licenses/ (b2c's licence, the licence texts of
# everything the kernel and the initramfs contain and where their sources
# are: licenses/SOURCES.md, licenses/arm64/SOURCES.md) and SHA256SUMS of
# it all.
RELEASE_CMDLINE       ?= console=ttyS0 b2c.run="docker://docker.io/library/alpine:latest echo hello from b2c"
RELEASE_CMDLINE_ARM64 ?= console=ttyAMA0 b2c.run="docker://docker.io/library/alpine:latest echo hello from b2c"
RELEASE_FILES          = bzImage initramfs.linux_amd64.cpio.zst Image initramfs.linux_arm64.cpio.zst b2c \
	pxelinux.cfg/default boot.ipxe grub.cfg loader/entries/b2c.conf extlinux/extlinux.conf \
	licenses/SOURCES.md licenses/arm64/SOURCES.md

release: $(B2C) | deps
	rm -rf $(OUT)/licenses
	$(MAKE) release-image ARCH=amd64 LICENSES=$(OUT)/licenses
	$(MAKE) release-image ARCH=arm64 LICENSES=$(OUT)/licenses/arm64
	$(B2C) boot-config syslinux -o $(OUT) '$(RELEASE_CMDLINE)'
	$(B2C) boot-config ipxe -o $(OUT) '$(RELEASE_CMDLINE)'
	$(B2C) boot-config grub -o $(OUT) -kernel /bzImage -initrd /initramfs.linux_amd64.cpio.zst '$(RELEASE_CMDLINE)'
	$(B2C) boot-config systemd-boot -o $(OUT) -kernel /b2c/linux -initrd /b2c/initrd '$(RELEASE_CMDLINE)'
	$(B2C) boot-config extlinux -arch arm64 -o $(OUT) '$(RELEASE_CMDLINE_ARM64)'
	cd $(OUT) && sha256sum $(RELEASE_FILES) $$(find dtbs -type f | sort) > SHA256SUMS

# One architecture's kernel and initramfs, with the initramfs's licences
# in $(LICENSES).
release-image: $(KERNEL) | deps
	$(GO) run ./mkinitramfs -arch $(ARCH) $(SYSROOT) -o $(INITRD) -podman $(PODMAN) -licenses $(LICENSES)

demo: all
	cd ci && $(GO) run ./cmd/demo -arch $(ARCH) -kernel ../$(KERNEL) -initramfs ../$(INITRD)

# deps first: unit tests exercise host tools (mtools, crun for the image
# layout), which a fresh machine does not have.
# The CLI also builds with no tags and no cgo (`go build ./cmd/b2c`): it
# then checks containers' flags without linking podman.
unit: deps
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/b2c
	$(GO) vet -tags 'remote $(TAGS)' ./...
	$(GO) test -tags 'remote $(TAGS)' ./...

# -count=1: Go's test cache does not see the kernel and initramfs that the
# VMs boot, so a cached result could stand for an image it never booted.
e2e: all-arches
	cd ci && $(GO) vet ./...
	@# MinIO takes minutes to build: it builds in the background, at a low
	@# priority on the core the single-threaded TCG VMs leave, while the
	@# scenarios before the S3 ones run; those wait for it (ci/s3).
	cd ci && { nice -n 10 $(GO) run ./cmd/minio & m=$$!; $(GO) test -count=1 -timeout 50m ./...; st=$$?; wait $$m || st=1; exit $$st; }
	@cat out/e2e-figures.txt 2>/dev/null || true

test: unit e2e

bench: all-arches
	cd ci && $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./bench/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./init/cmdline

clean:
	rm -rf $(OUT)
