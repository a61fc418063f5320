package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/b2c-dev/b2c/ci/images"
	"github.com/b2c-dev/b2c/ci/vm"
)

// The arm64 scenarios: b2c's arm64 kernel and initramfs (make all
// ARCH=arm64) on QEMU's virt machine, under TCG, against the same
// registry, with the same command lines. They run in parallel with the
// other parallel scenarios, except the one that counts the registry's
// blob GETs.

var (
	kernelARM64    string // out/Image
	initramfsARM64 string // out/initramfs.linux_arm64.cpio.zst
	// multiArch is a multi-platform index (linux/amd64 and linux/arm64)
	// of busybox, each image with /etc/platform naming its platform, as
	// the guest names it; multiArchArchive is the same index as an OCI
	// archive, for b2c run.
	multiArch        string
	multiArchArchive string
)

// Debian's arm64 firmwares (ci/deps.sh installs their packages).
const (
	uboot       = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"          // u-boot-qemu
	aavmf       = "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd"        // qemu-efi-aarch64
	sdbootARM64 = "/usr/lib/systemd/boot/efi/systemd-bootaa64.efi" // systemd-boot-efi:arm64
)

// setupARM64 finds the arm64 image and pushes the multi-arch busybox. The
// arm64 busybox is Debian's busybox-static for arm64, from the sysroot
// the arm64 initramfs is built from.
func setupARM64(ctx context.Context, out string) error {
	kernelARM64 = filepath.Join(out, "Image")
	initramfsARM64 = filepath.Join(out, "initramfs.linux_arm64.cpio.zst")
	for _, f := range []string{kernelARM64, initramfsARM64} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%w (run make all ARCH=arm64 first)", err)
		}
	}
	bin, err := images.DebianBusybox(ctx, "arm64")
	if err != nil {
		return err
	}
	amd, err := images.Busybox()
	if err != nil {
		return err
	}
	arm, err := images.BusyboxFor("arm64", bin)
	if err != nil {
		return err
	}
	if amd, err = images.WithFiles(amd, images.File{Path: "etc/platform", Data: []byte("linux/amd64\n")}); err != nil {
		return err
	}
	if arm, err = images.WithFiles(arm, images.File{Path: "etc/platform", Data: []byte("linux/arm64\n")}); err != nil {
		return err
	}
	idx, err := images.Index(amd, arm)
	if err != nil {
		return err
	}
	if err := images.PushIndex(ctx, idx, reg.Addr()+"/b2c/busybox-multi:latest"); err != nil {
		return err
	}
	multiArch = reg.GuestAddr() + "/b2c/busybox-multi:latest"
	multiArchArchive = filepath.Join(binDir, "busybox-multi-oci.tar")
	return images.WriteOCIArchiveIndex(idx, multiArchArchive)
}

// bootARM64 is boot on arm64.
func bootARM64(t *testing.T, opts ...option) *vm.VM {
	t.Helper()
	return boot(t, append([]option{vm.Arch("arm64"), vm.Kernel(kernelARM64), vm.Initramfs(initramfsARM64)}, opts...)...)
}

// runMulti is run with the multi-arch image.
func runMulti(flags, cmd string) string { return runImage(multiArch, flags, cmd) }

// TestARM64Demo: the demo's command line on arm64, and the runtime
// information saying so.
func TestARM64Demo(t *testing.T) {
	t.Parallel()
	v := bootARM64(t, runMulti("", `echo hello from b2c`))
	expect(t, v, `^hello from b2c$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	if re := `(?m)^\[ *\d+\.\d\d\]: Architecture: arm64\r?$`; !regexp.MustCompile(re).MatchString(v.RawConsole()) {
		t.Errorf("console does not match %q", re)
	}
	lines := v.Lines()
	figure(t, "arm64: demo: first container line at %.2f s, last console line at %.2f s",
		firstLine(t, v, `^hello from b2c$`), lines[len(lines)-1].At.Seconds())
}

func TestARM64ExitCode(t *testing.T) {
	t.Parallel()
	v := bootARM64(t, runMulti("", `sh -c 'exit 3'`))
	if got := status(t, v); got != 3 {
		t.Errorf("pipeline status = %d, want 3", got)
	}
}

// TestARM64MultiArch: from a multi-arch index, podman in the guest pulls
// and runs the arm64 image.
func TestARM64MultiArch(t *testing.T) {
	t.Parallel()
	v := bootARM64(t, runMulti("", `sh -c 'cat /etc/platform; uname -m'`))
	expect(t, v, `^linux/arm64$`)
	expect(t, v, `^aarch64$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

// TestARM64CacheAuto: a blank disk gets a cache; the next boot pulls no
// layer again. The virt machine's UEFI flash (/dev/mtdblock0, as a
// board's SPI flash) is left alone: auto once tried to partition it.
func TestARM64CacheAuto(t *testing.T) {
	img := sparseDisk(t, 1<<30)
	disk := vm.Disk(img)
	v := bootARM64(t, disk, "b2c.cache_device=auto", runMulti("", `echo cached`))
	expect(t, v, `^cached$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("first boot: pipeline status = %d, want 0", got)
	}
	if !strings.Contains(v.Console(), "mtdblock0") {
		t.Errorf("the VM has no MTD flash: the scenario checks nothing about it")
	}
	if l, ok, _ := v.FirstLine(`WARNING: .*mtdblock`); ok {
		t.Errorf("auto touched the firmware's flash: %s", l.Text)
	}
	if p := partitions(t, img); len(p) != 1 || p[0].label != "B2C_CACHE" {
		t.Fatalf("after auto on a blank disk: partitions %+v, want one labelled B2C_CACHE", p)
	}
	reg.Reset()
	v = bootARM64(t, disk, "b2c.cache_device=auto", runMulti("", `echo cached`))
	expect(t, v, `^cached$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("second boot: pipeline status = %d, want 0", got)
	}
	if n := reg.BlobGETs(); n != 0 {
		t.Errorf("second boot on the cache: %d blob GETs, want 0; requests: %v", n, reg.Requests())
	}
}

// TestARM64UBootPXE: Debian's U-Boot for QEMU's virt machine netboots as
// ARM boards do: DHCP, then the pxelinux.cfg that `b2c boot-config
// syslinux` wrote, the kernel and the initramfs over QEMU's TFTP. Its
// default boot order has no PXE, so the test types the commands at its
// prompt, as lab software (LAVA's u-boot method) does.
func TestARM64UBootPXE(t *testing.T) {
	t.Parallel()
	bin := b2c(t)
	tftp := t.TempDir()
	serveDir(t, tftp, kernelARM64, initramfsARM64)
	runTool(t, bin, "boot-config", "syslinux", "-arch", "arm64", "-o", tftp, "-kernel", filepath.Base(kernelARM64), "-initrd", filepath.Base(initramfsARM64),
		armCmdline(runMulti(quotedEnv, "env")))
	v := firmwareBoot(t, vm.Arch("arm64"), vm.Firmware(uboot), vm.NetBoot(tftp, ""))
	expect(t, v, `Hit any key to stop autoboot`)
	// autoload no: dhcp alone would fetch a boot file it was not given.
	if err := v.Send("\rsetenv autoload no; dhcp; pxe get; pxe boot\r"); err != nil {
		t.Fatal(err)
	}
	expect(t, v, quotedLine)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	figure(t, "arm64: U-Boot PXE: kernel banner at %.2f s, container line at %.2f s", firstLine(t, v, `Linux version`), firstLine(t, v, quotedLine))
}

// TestARM64UEFIDisk: AAVMF boots the image of `b2c disk --arch arm64`
// through Debian's arm64 systemd-boot.
func TestARM64UEFIDisk(t *testing.T) {
	t.Parallel()
	bin := b2c(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	runTool(t, bin, "disk", "--arch", "arm64", "-kernel", kernelARM64, "-initrd", initramfsARM64, "-cache-size", "1G", img,
		armCmdline("b2c.cache_device=auto", runMulti(quotedEnv, "env")))
	v := firmwareBoot(t, vm.Arch("arm64"), vm.Firmware(aavmf), vm.DiskBoot(), vm.Disk(img))
	expect(t, v, `formatting new cache partition /dev/vda2`)
	expect(t, v, quotedLine)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	figure(t, "arm64: UEFI disk: container line at %.2f s", firstLine(t, v, quotedLine))
}

// TestARM64Run: `b2c run --arch arm64` on a multi-arch OCI archive picks
// the arm64 image, runs it in qemu-system-aarch64 and gives its output
// and exit code.
func TestARM64Run(t *testing.T) {
	t.Parallel()
	r := runB2C(t, "--arch", "arm64", "--kernel", kernelARM64, "--initramfs", initramfsARM64,
		multiArchArchive, "sh", "-c", "cat /etc/platform; uname -m; exit 5")
	if r.code != 5 {
		t.Errorf("exit code %d, want 5", r.code)
	}
	if want := "linux/arm64\naarch64\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	figure(t, "arm64: b2c run --arch arm64: %.1f s", r.took.Seconds())
}

// armCmdline is bootCmdline on arm64's console.
func armCmdline(extra ...string) string {
	return strings.Join(append([]string{"console=ttyAMA0", "panic=-1"}, extra...), " ")
}
