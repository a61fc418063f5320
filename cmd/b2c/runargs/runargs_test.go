package runargs

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/podmanargs"
)

func TestParse(t *testing.T) {
	def := func(o Options) Options {
		if o.MemoryMB == 0 {
			o.MemoryMB = 1024
		}
		if o.CPUs == 0 {
			o.CPUs = 2
		}
		if o.Podman == nil {
			o.Podman = []string{}
		}
		if o.Command == nil {
			o.Command = []string{}
		}
		return o
	}
	for _, tt := range []struct {
		name string
		args []string
		want Options
	}{
		{"image only", []string{"alpine"}, def(Options{Image: "alpine"})},
		{"command", []string{"img.tar", "sh", "-c", "echo hi; exit 7"},
			def(Options{Image: "img.tar", Command: []string{"sh", "-c", "echo hi; exit 7"}})},
		{"b2c then podman flags", []string{"-v", "--mem", "2048", "--cpus=4", "--timeout", "90s", "-e", "A=1", "--rm", "alpine", "env"},
			def(Options{Verbose: true, MemoryMB: 2048, CPUs: 4, Timeout: 90 * time.Second, Podman: []string{"-e", "A=1", "--rm"}, Image: "alpine", Command: []string{"env"}})},
		{"podman's -v and --cpus after --", []string{"--console-log", "c.log", "--", "-v", "/a:/b", "--cpus", "1", "alpine"},
			def(Options{ConsoleLog: "c.log", Podman: []string{"-v", "/a:/b", "--cpus", "1"}, Image: "alpine"})},
		{"cache share append", []string{"--cache", "/c.img:2G", "--share", "/tmp/o:/out", "--append", "b2c.pipefail", "--append=b2c.hostname=x", "--kernel", "/k", "--initramfs", "/i", "alpine"},
			def(Options{Cache: "/c.img", CacheSize: 2 << 30, Shares: []Share{{"/tmp/o", "/out"}}, Append: []string{"b2c.pipefail", "b2c.hostname=x"}, Kernel: "/k", Initramfs: "/i", Image: "alpine"})},
		{"cache default size", []string{"--cache=c.img", "alpine"}, def(Options{Cache: "c.img", CacheSize: DefaultCacheSize, Image: "alpine"})},
		{"image after podman's --", []string{"--rm", "--", "alpine", "-v"}, def(Options{Podman: []string{"--rm"}, Image: "alpine", Command: []string{"-v"}})},
		{"arch", []string{"--arch", "arm64", "alpine"}, def(Options{Arch: "arm64", Image: "alpine"})},
		{"arch amd64", []string{"--arch=amd64", "alpine"}, def(Options{Arch: "amd64", Image: "alpine"})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args, podmanargs.Check)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) =\n %+v, %v\nwant\n %+v", tt.args, got, err, tt.want)
			}
		})
	}
}

func TestParseUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"-v"},
		{"--mem"},
		{"--mem", "lots", "alpine"},
		{"--mem", "64", "alpine"},
		{"--cpus", "0", "alpine"},
		{"--timeout", "soon", "alpine"},
		{"--cache", "c.img:huge", "alpine"},
		{"--share", "nocolon", "alpine"},
		{"--no-such-flag", "alpine"},
		{"--", "--pull=sometimes", "alpine"},
		{"--arch", "riscv64", "alpine"},
	} {
		_, err := Parse(args, podmanargs.Check)
		var ue UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) error %v, want a UsageError", args, err)
		}
	}
	if _, err := Parse([]string{"-h"}, podmanargs.Check); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("Parse(-h) error %v, want flag.ErrHelp", err)
	}
}

// TestParseCheck: the podman arguments go to the check the CLI's build
// gives (podman's spec code in `make cli`), and its error is a UsageError.
func TestParseCheck(t *testing.T) {
	refuse := errors.New("--memory: refused")
	var got []string
	check := func(podman []string) error { got = podman; return refuse }
	_, err := Parse([]string{"--mem", "512", "--", "--memory=abc", "alpine", "true"}, check)
	if want := []string{"--memory=abc", "alpine", "true"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Parse checked %q, want %q", got, want)
	}
	var ue UsageError
	if !errors.As(err, &ue) || !errors.Is(err, refuse) {
		t.Errorf("Parse with a refusing check = %v, want a UsageError wrapping %v", err, refuse)
	}
}

func TestKernelArgs(t *testing.T) {
	o := Options{
		Shares:  []Share{{"/tmp/out", "/out"}},
		Cache:   "/c.img",
		Timeout: 90 * time.Minute,
		Podman:  []string{"-e", "A=b c"},
		Command: []string{"sh", "-c", "echo hi > /out/f"},
		Append:  []string{"b2c.pipefail"},
	}
	got, err := o.KernelArgs("10.0.2.2:5000/b2c/local:latest", true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"b2c.filesystem=b2cshare0,type=9p,src=b2cshare0,opts=trans=virtio|version=9p2000.L|msize=512000",
		"b2c.cache_device=/dev/vda",
		"b2c.timeout=1h30m0s",
		`b2c.run="--tls-verify=false -v /mnt/b2cshare0:/out -e 'A=b c' 10.0.2.2:5000/b2c/local:latest sh -c 'echo hi > /out/f'"`,
		"b2c.pipefail",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("KernelArgs =\n %q\nwant\n %q", got, want)
	}
	// What the agent reads back.
	amd64, err := qemu.LookupArch("amd64")
	if err != nil {
		t.Fatal(err)
	}
	r := cmdline.Parse(qemu.KernelAppend(amd64, got))
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	c := r.Config
	wantRun := []string{"--tls-verify=false", "-v", "/mnt/b2cshare0:/out", "-e", "A=b c", "10.0.2.2:5000/b2c/local:latest", "sh", "-c", "echo hi > /out/f"}
	if len(c.Run) != 1 || !reflect.DeepEqual(c.Run[0].Args, wantRun) || !c.Pipefail || c.Timeout != 90*time.Minute ||
		c.CacheDevice != "/dev/vda" || len(c.Filesystems) != 1 || c.Filesystems[0].Type != "9p" {
		t.Errorf("the agent reads %+v", c)
	}
	if s := o.QEMUShares(); !reflect.DeepEqual(s, []qemu.Share{{Tag: "b2cshare0", Dir: "/tmp/out"}}) {
		t.Errorf("QEMUShares = %+v", s)
	}
}

func TestKernelArgsErrors(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Command: []string{"echo", `"hi"`}}, "double quote"},
		{Options{Command: []string{"echo", strings.Repeat("x", MaxCmdline)}}, "bytes"},
		{Options{Arch: "riscv64"}, "riscv64"},
	} {
		if _, err := tt.o.KernelArgs("alpine", false); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("KernelArgs(%+v) error %v, want one about %q", tt.o, err, tt.want)
		}
	}
}

// TestKernelArgsLength: the length check counts what QEMU is given, the
// console of the VM's architecture included: ttyAMA0 is two bytes longer
// than ttyS0.
func TestKernelArgsLength(t *testing.T) {
	o := Options{}
	base, err := o.KernelArgs("a", false)
	if err != nil {
		t.Fatal(err)
	}
	amd64, _ := qemu.LookupArch("amd64")
	// The longest command line that fits on amd64.
	o.Append = []string{strings.Repeat("x", MaxCmdline-1-len(qemu.KernelAppend(amd64, base))-1)}
	if _, err := o.KernelArgs("a", false); err != nil {
		t.Fatalf("amd64: %v", err)
	}
	o.Arch = "arm64"
	if _, err := o.KernelArgs("a", false); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("arm64: error %v, want one about the length", err)
	}
}

func TestBootFiles(t *testing.T) {
	exeDir, cwd := t.TempDir(), t.TempDir()
	t.Chdir(cwd)
	touch := func(p string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, _, err := (Options{}).BootFiles(exeDir); err == nil {
		t.Errorf("BootFiles with no files: no error")
	}
	outK := touch(filepath.Join(cwd, "out", "bzImage"))
	outI := touch(filepath.Join(cwd, "out", "initramfs.linux_amd64.cpio.zst"))
	if k, i, err := (Options{}).BootFiles(exeDir); err != nil || k != outK || i != outI {
		t.Errorf("BootFiles from out/ = %s, %s, %v", k, i, err)
	}
	exeK := touch(filepath.Join(exeDir, "bzImage"))
	if k, i, err := (Options{}).BootFiles(exeDir); err != nil || k != exeK || i != outI {
		t.Errorf("BootFiles next to b2c = %s, %s, %v; want %s, %s", k, i, err, exeK, outI)
	}
	given := touch(filepath.Join(cwd, "k"))
	if k, _, err := (Options{Kernel: "k"}).BootFiles(exeDir); err != nil || k != given {
		t.Errorf("BootFiles --kernel k = %s, %v; want %s", k, err, given)
	}
	if _, _, err := (Options{Initramfs: "nope"}).BootFiles(exeDir); err == nil {
		t.Errorf("BootFiles --initramfs nope: no error")
	}

	// arm64's files are others, and so is how to build them.
	arm := Options{Arch: "arm64"}
	if _, _, err := arm.BootFiles(exeDir); err == nil || !strings.Contains(err.Error(), "no Image in") || !strings.Contains(err.Error(), "make all ARCH=arm64") {
		t.Errorf("BootFiles --arch arm64 with amd64's files only: %v", err)
	}
	armK := touch(filepath.Join(cwd, "out", "Image"))
	armI := touch(filepath.Join(exeDir, "initramfs.linux_arm64.cpio.zst"))
	if k, i, err := arm.BootFiles(exeDir); err != nil || k != armK || i != armI {
		t.Errorf("BootFiles --arch arm64 = %s, %s, %v; want %s, %s", k, i, err, armK, armI)
	}
}

func TestTree(t *testing.T) {
	for _, tt := range []struct {
		arch, kernel, archArg string
	}{
		{"amd64", "arch/x86/boot/bzImage", "ARCH=x86"},
		{"arm64", "arch/arm64/boot/Image", "ARCH=arm64"},
	} {
		a, err := qemu.LookupArch(tt.arch)
		if err != nil {
			t.Fatal(err)
		}
		if got := TreeKernel(a); got != tt.kernel {
			t.Errorf("TreeKernel(%s) = %s, want %s", tt.arch, got, tt.kernel)
		}
		// The host's own architecture is stripped by the host's strip;
		// another is named to make, and left as it is.
		want := []string{"-C", "/k", "-s", "modules_install", "INSTALL_MOD_PATH=/m", "INSTALL_MOD_STRIP=1"}
		if !a.Native() {
			want[len(want)-1] = tt.archArg
		}
		if got := TreeModulesInstall(a, "/k", "/m"); !reflect.DeepEqual(got, want) {
			t.Errorf("TreeModulesInstall(%s) = %q, want %q", tt.arch, got, want)
		}
	}
}
