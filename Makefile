# b2c: `make demo` builds everything and boots a demo container in QEMU;
# `make test` runs every test. See README.md.

GO       ?= go
OUT      := out
KERNEL   := $(OUT)/bzImage
INITRD   := $(OUT)/initramfs.linux_amd64.cpio.zst
PODMAN   := $(OUT)/podman
# podman needs cgo for its overlay storage driver (without it: "driver not
# supported"); the agent (which links podman's bindings) builds without.
# and without the storage drivers the image does not use.
TAGS     := exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp
export GOFLAGS := -mod=mod

.PHONY: all deps kernel initramfs cli demo test unit e2e bench fuzz clean

all: $(KERNEL) $(INITRD)

deps:
	@ci/deps.sh

$(KERNEL): kernel/build.sh kernel/b2c.config | deps
	kernel/build.sh $@

kernel: $(KERNEL)

$(PODMAN): go.mod go.sum | deps
	@mkdir -p $(OUT)
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags='-s -w' -tags '$(TAGS)' -o $@ github.com/containers/podman/v4/cmd/podman

# The initramfs is cheap to rebuild next to the kernel and podman, and its
# inputs are many Go packages: always rebuild it.
initramfs $(INITRD): $(PODMAN) FORCE | deps
	$(GO) run ./mkinitramfs -o $(INITRD) -podman $(PODMAN)

FORCE:

# The host CLI (b2c lint, explain, run); b2c run finds the kernel and the
# initramfs next to it.
cli:
	@mkdir -p $(OUT)
	$(GO) build -tags 'remote $(TAGS)' -o $(OUT)/b2c ./cmd/b2c

demo: all
	cd ci && $(GO) run ./cmd/demo -kernel ../$(KERNEL) -initramfs ../$(INITRD)

unit:
	$(GO) vet -tags 'remote $(TAGS)' ./...
	$(GO) test -tags 'remote $(TAGS)' ./...

e2e: all
	cd ci && $(GO) vet ./... && $(GO) test -timeout 40m ./...

test: unit e2e

bench: all
	cd ci && $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./bench/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./init/cmdline

clean:
	rm -rf $(OUT)
