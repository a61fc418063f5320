package e2e

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b2c-dev/b2c/ci/distkernel"
	"github.com/b2c-dev/b2c/ci/vm"
)

// The three ways labs boot b2c (README, "Booting b2c"), each from the
// files `b2c boot-config` and `b2c disk` write, through Debian's boot
// loaders: pxelinux over QEMU's TFTP, iPXE over HTTP, systemd-boot from a
// UEFI disk.

// Debian's boot files (ci/deps.sh installs their packages).
const (
	pxelinux = "/usr/lib/PXELINUX/pxelinux.0"                  // pxelinux
	ldlinux  = "/usr/lib/syslinux/modules/bios/ldlinux.c32"    // syslinux-common
	ovmf     = "/usr/share/ovmf/OVMF.fd"                       // ovmf
	sdboot   = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi" // systemd-boot-efi
)

// quotedEnv is a b2c.run value with spaces, a double space and = inside
// quotes: the container prints the variable between delimiters, so any
// boot loader that splits, joins or unquotes it differently makes the
// line differ (or the container not run at all).
const (
	quotedEnv  = `-e 'A=<b  c=d>'`
	quotedLine = `^A=<b  c=d>$`
)

// bootCmdline is the command line every boot path gets: the harness's
// console and panic settings, and extra.
func bootCmdline(extra ...string) string {
	return strings.Join(append([]string{"console=ttyS0", "panic=-1", "no_timer_check"}, extra...), " ")
}

// b2cTool builds cmd/b2c for the test, as labs run it.
func b2cTool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "b2c")
	cmd := exec.Command("go", "build", "-tags", "remote exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp", "-o", bin, "./cmd/b2c")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/b2c: %v\n%s", err, out)
	}
	return bin
}

// runTool runs the b2c tool and returns its stdout.
func runTool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("b2c %q: %v\n%s", args, err, stderr.String())
	}
	t.Logf("b2c %s: %s", strings.Join(args[:min(2, len(args))], " "), strings.TrimSpace(string(out)))
	return string(out)
}

// serveDir links (or copies) files into dir under their base names.
func serveDir(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		// QEMU's TFTP server and http.FileServer both follow symlinks.
		if err := os.Symlink(abs, filepath.Join(dir, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
}

// firmwareBoot starts a VM that the firmware boots from opts (the kernel
// only serves the KVM probe).
func firmwareBoot(t *testing.T, opts ...vm.Option) *vm.VM {
	t.Helper()
	v, err := vm.Start(t.Context(), append([]vm.Option{vm.Kernel(kernel), vm.Timeout(vmTimeout), vm.Log(vm.TestLog(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Kill)
	return v
}

// TestBootPXE: QEMU's iPXE ROM loads Debian's pxelinux over QEMU's TFTP,
// which reads the generated pxelinux.cfg/default and loads our kernel and
// initramfs over TFTP too.
func TestBootPXE(t *testing.T) {
	bin := b2cTool(t)
	tftp := t.TempDir()
	serveDir(t, tftp, pxelinux, ldlinux, kernel, initramfs)
	runTool(t, bin, "boot-config", "syslinux", "-o", tftp, "-kernel", filepath.Base(kernel), "-initrd", filepath.Base(initramfs),
		bootCmdline(run(quotedEnv, "env")))
	v := firmwareBoot(t, vm.NetBoot(tftp, "pxelinux.0"))
	expect(t, v, quotedLine)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	t.Logf("PXE: kernel banner at %.2f s, container line at %.2f s", firstLine(t, v, `Linux version`), firstLine(t, v, quotedLine))
}

// TestBootIPXE: the iPXE ROM gets the URL of the generated script from
// DHCP and loads it, the kernel and the initramfs from the harness's HTTP
// server.
func TestBootIPXE(t *testing.T) {
	bin := b2cTool(t)
	dir := t.TempDir()
	serveDir(t, dir, kernel, initramfs)
	runTool(t, bin, "boot-config", "ipxe", "-o", dir, "-kernel", filepath.Base(kernel), "-initrd", filepath.Base(initramfs),
		bootCmdline(run(quotedEnv, "env")))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	// The guest reaches the host's loopback at 10.0.2.2.
	url := "http://10.0.2.2:" + itoa(int64(l.Addr().(*net.TCPAddr).Port)) + "/boot.ipxe"

	v := firmwareBoot(t, vm.NetBoot("", url))
	expect(t, v, quotedLine)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	t.Logf("iPXE over HTTP: kernel banner at %.2f s, container line at %.2f s", firstLine(t, v, `Linux version`), firstLine(t, v, quotedLine))
}

// TestBootGRUB: OVMF boots a disk image whose boot loader is Debian's GRUB
// with the generated grub.cfg. GRUB cannot carry a ' (it escapes it), so
// the variable holds = but no space; the b2c.run value still holds
// spaces and must stay one token.
func TestBootGRUB(t *testing.T) {
	bin := b2cTool(t)
	dir := t.TempDir()
	const grubEnv, grubLine = `-e A=<b=c>`, `^A=<b=c>$`
	cmd := bootCmdline(run(grubEnv, "env"))
	entry := runTool(t, bin, "boot-config", "grub", "-kernel", "/b2c/linux", "-initrd", "/b2c/initrd", cmd)
	// GRUB starts on its own memdisk: find the ESP that holds the kernel.
	cfg := filepath.Join(dir, "grub.cfg")
	if err := os.WriteFile(cfg, []byte("search --no-floppy --file --set=root /b2c/linux\n"+entry), 0o644); err != nil {
		t.Fatal(err)
	}
	// GRUB's EFI image, from the modules of grub-efi-amd64-bin.
	efi := filepath.Join(dir, "grubx64.efi")
	mk := exec.Command("grub-mkstandalone", "-O", "x86_64-efi", "-o", efi,
		"--install-modules=part_gpt fat linux search search_fs_file normal configfile echo test",
		"--modules=part_gpt fat", "--locales=", "--fonts=", "--themes=", "boot/grub/grub.cfg="+cfg)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("grub-mkstandalone (grub-common, grub-efi-amd64-bin): %v\n%s", err, out)
	}
	img := filepath.Join(dir, "disk.img")
	runTool(t, bin, "disk", "-kernel", kernel, "-initrd", initramfs, "-loader", efi, img, cmd)

	v := firmwareBoot(t, vm.Firmware(ovmf), vm.DiskBoot(), vm.Disk(img))
	expect(t, v, grubLine)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	t.Logf("GRUB: container line at %.2f s", firstLine(t, v, grubLine))
}

// TestBootUEFIDisk is the flash-and-reboot cycle: OVMF boots the image of
// `b2c disk` through systemd-boot, the agent formats the empty cache
// partition and pulls the image; `b2c disk --update` changes the command
// line, and the next boot runs the new pipeline from the cached layers.
func TestBootUEFIDisk(t *testing.T) {
	bin := b2cTool(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	runTool(t, bin, "disk", "-kernel", kernel, "-initrd", initramfs, "-loader", sdboot, "-cache-size", "1G", img,
		bootCmdline("b2c.cache_device=auto", run(quotedEnv, "env")))

	reg.Reset()
	v := firmwareBoot(t, vm.Firmware(ovmf), vm.DiskBoot(), vm.Disk(img))
	expect(t, v, `formatting new cache partition /dev/vda2`)
	expect(t, v, quotedLine)
	if got := status(t, v); got != 0 {
		t.Fatalf("first boot: pipeline status = %d, want 0", got)
	}
	first := firstLine(t, v, quotedLine)
	if n := reg.BlobGETs(); n == 0 {
		t.Errorf("first boot: no blob GET, yet the cache was empty")
	}
	parts := partitions(t, img)
	if len(parts) != 2 || parts[0].fsType != "vfat" || parts[1].name != "B2C_CACHE" || parts[1].fsType != "ext4" {
		t.Fatalf("after the first boot: partitions %+v, want the ESP and an ext4 B2C_CACHE", parts)
	}

	runTool(t, bin, "disk", "--update", img,
		bootCmdline("b2c.cache_device=auto", run(quotedEnv, `sh -c 'echo second pipeline; env'`)))
	reg.Reset()
	v = firmwareBoot(t, vm.Firmware(ovmf), vm.DiskBoot(), vm.Disk(img))
	expect(t, v, `^second pipeline$`)
	expect(t, v, quotedLine)
	if got := status(t, v); got != 0 {
		t.Fatalf("boot after the update: pipeline status = %d, want 0", got)
	}
	if n := reg.BlobGETs(); n != 0 {
		t.Errorf("boot after the update: %d blob GETs, want 0 (layers cached); requests: %v", n, reg.Requests())
	}
	if p := partitions(t, img); len(p) != 2 || p[1].uuid != parts[1].uuid {
		t.Errorf("after the update: partitions %+v, want the cache's UUID %s kept", p, parts[1].uuid)
	}
	t.Logf("UEFI disk: container line at %.2f s on an empty cache, %.2f s after the update", first, firstLine(t, v, quotedLine))
}

// TestDistributionKernel: Debian's own kernel (modular), our initramfs,
// and an archive of that kernel's modules appended, as labs boot b2c:
// the agent loads what the VM's devices ask for (virtio's PCI, network
// and block drivers) and what it needs itself (overlay, ext4), with no
// b2c.insmods. The first container line is compared with our kernel's.
func TestDistributionKernel(t *testing.T) {
	k := debianKernel(t)
	mods, err := k.ModulesArchive(vmModules...)
	if err != nil {
		t.Fatal(err)
	}
	img := appended(t, mods)
	first := map[string]float64{}
	for _, tc := range []struct {
		name string
		opts []option
	}{
		{"debian", []option{vm.Kernel(k.Image), vm.Initramfs(img), vm.Disk(sparseDisk(t, 64<<20))}},
		{"b2c", []option{vm.Disk(sparseDisk(t, 64<<20))}},
	} {
		v := boot(t, append(tc.opts, run(`sh -c 'echo kernel=$(uname -r) disk=$(cat /sys/block/vda/size)'`))...)
		if tc.name == "debian" {
			expect(t, v, `: Loaded \d+ modules for this machine's devices in [0-9.]+s: .*virtio_net`)
		}
		m := expect(t, v, `^kernel=(\S+) disk=(\d+)$`)
		if tc.name == "debian" && m[1] != k.Release {
			t.Errorf("the container runs on %s, want %s", m[1], k.Release)
		}
		if m[2] != "131072" {
			t.Errorf("%s: /dev/vda has %s sectors, want 131072 (virtio_blk)", tc.name, m[2])
		}
		if got := status(t, v); got != 0 {
			t.Errorf("%s: pipeline status = %d, want 0", tc.name, got)
		}
		l, _, _ := v.FirstLine(`^kernel=`)
		first[tc.name] = l.At.Seconds()
	}
	figure(t, "boot: the first container line at %.2f s with Debian's kernel %s and its modules appended, %.2f s with b2c's", first["debian"], k.Release, first["b2c"])
}

// vmModules are the modules of a modular kernel that the test VMs need:
// virtio's PCI, network and block drivers, overlay and ext4 for podman
// and the cache, loop and squashfs for the image's podman.
var vmModules = []string{"virtio_pci", "virtio_net", "virtio_blk", "overlay", "ext4", "loop", "squashfs"}

// debianKernel returns Debian's own kernel package, fetched once into the
// user's cache (ci/distkernel).
func debianKernel(t *testing.T) *distkernel.Kernel {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	k, err := distkernel.Fetch(t.Context(), filepath.Join(cache, "b2c-ci", "debian-kernel"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
