package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/b2c-dev/b2c/cmd/b2c/diskimg"
)

func TestRun(t *testing.T) {
	// b2c run looks for QEMU before the image: a QEMU on PATH lets the
	// run cases reach the image on any host.
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "qemu-system-x86_64"), []byte(fakeQEMU), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	for _, tt := range []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  []string
		// wantErr is in stderr: why the command failed, so that it
		// fails for that reason.
		wantErr []string
	}{
		{"lint ok with kernel args", []string{"lint", `console=ttyS0 quiet loglevel=6 SALAD.machine_id=42 b2c.run="-ti docker://alpine echo hi"`}, "", 0, []string{"OK"}, nil},
		{"lint stdin", []string{"lint"}, `b2c.poweroff_delay=abc`, 1, []string{`ERROR: b2c.poweroff_delay=abc: invalid value "abc"`}, nil},
		{"lint bad podman flag", []string{"lint", `b2c.run="--no-such-flag alpine"`}, "", 1, []string{"ERROR: b2c.run=--no-such-flag alpine", "unknown flag"}, nil},
		{"lint unknown option warns", []string{"lint", `b2c.frob=1`}, "", 0, []string{"WARNING: b2c.frob=1: unknown option", "OK"}, nil},
		{"explain", []string{"explain", `b2c.run="-v x:/x docker://alpine echo hi" b2c.pipefail b2c.shutdown_cmd="poweroff -f"`}, "", 0,
			[]string{"Stage 1: podman create --privileged=true --network=host --pull=always -v x:/x docker://alpine echo hi", "Network: DHCP", "Cache: none", "Shutdown: run `poweroff -f`", "Pipefail"}, nil},
		{"explain errors", []string{"explain", `b2c.timeout=x`}, "", 0, []string{"No container will run"}, nil},
		{"boot-config syslinux", []string{"boot-config", "syslinux", "-kernel", "k", "-initrd", "i", `console=ttyS0 b2c.run="-e 'A=b c' docker://x env"`}, "", 0,
			[]string{"\tKERNEL k\n", "\tINITRD i\n", "\tAPPEND console=ttyS0 b2c.run=\"-e 'A=b c' docker://x env\"\n"}, nil},
		{"boot-config grub from stdin", []string{"boot-config", "grub", "-"}, `b2c.run="docker://x echo hi"`, 0, []string{"linux bzImage 'b2c.run=docker://x echo hi'"}, nil},
		{"boot-config refuses what lint refuses", []string{"boot-config", "ipxe", "b2c.poweroff_delay=abc"}, "", 1, nil, nil},
		{"boot-config refuses what grub cannot carry", []string{"boot-config", "grub", `b2c.run="docker://x sh -c 'echo hi'"`}, "", 1, nil, nil},
		{"boot-config without format", []string{"boot-config"}, "", 2, nil, nil},
		{"boot-config unknown format", []string{"boot-config", "lilo", "b2c.x=1"}, "", 2, nil, nil},
		{"boot-config -mac is for syslinux", []string{"boot-config", "ipxe", "-mac", "52:54:00:12:34:56", "b2c.x=1"}, "", 2, nil, nil},
		{"boot-config syslinux for U-Boot", []string{"boot-config", "syslinux", "-arch", "arm64", `console=ttyAMA0 b2c.run="-e 'A=b c' docker://x env"`}, "", 0,
			[]string{"\tKERNEL Image\n", "\tINITRD initramfs.linux_arm64.cpio.zst\n", "\tAPPEND console=ttyAMA0 b2c.run=\"-e \\'A=b c\\' docker://x env\"\n"}, nil},
		{"boot-config extlinux", []string{"boot-config", "extlinux", "-arch", "arm64", "-fdtdir", "/dtbs", "b2c.run=docker://x"}, "", 0,
			[]string{"\tKERNEL /Image\n", "\tINITRD /initramfs.linux_arm64.cpio.zst\n", "\tFDTDIR /dtbs\n", "\tAPPEND b2c.run=docker://x\n"}, nil},
		{"boot-config extlinux on amd64", []string{"boot-config", "extlinux", "b2c.run=docker://x"}, "", 0,
			[]string{"\tKERNEL /bzImage\n", "\tINITRD /initramfs.linux_amd64.cpio.zst\n"}, nil},
		{"boot-config unknown arch", []string{"boot-config", "syslinux", "-arch", "riscv64", "b2c.x=1"}, "", 2, nil, []string{`architecture "riscv64"`}},
		{"boot-config -fdtdir is U-Boot's", []string{"boot-config", "syslinux", "-fdtdir", "dtbs", "b2c.x=1"}, "", 2, nil, []string{"-fdtdir"}},
		{"boot-config -fdtdir is for syslinux and extlinux", []string{"boot-config", "grub", "-arch", "arm64", "-fdtdir", "dtbs", "b2c.x=1"}, "", 2, nil, []string{"-fdtdir"}},
		{"disk without image", []string{"disk"}, "", 2, nil, nil},
		{"disk bad size", []string{"disk", "-cache-size", "lots", "x.img", "b2c.x=1"}, "", 2, nil, nil},
		{"disk unknown arch", []string{"disk", "-arch", "riscv64", "x.img", "b2c.x=1"}, "", 2, nil, []string{`architecture "riscv64"`}},
		{"disk arm64's default kernel", []string{"disk", "--arch", "arm64", "-loader", "main.go", filepath.Join(t.TempDir(), "x.img"), "b2c.x=1"}, "", 1, nil, []string{"stat Image: no such file"}},
		{"no command", nil, "", 2, nil, nil},
		{"run help", []string{"run", "-h"}, "", 0, []string{"usage: b2c run", "Exit status"}, nil},
		{"run bad b2c flag value", []string{"run", "--mem", "lots", "alpine"}, "", 2, nil, nil},
		{"run bad podman flag", []string{"run", "--no-such-flag", "alpine"}, "", 2, nil, nil},
		{"run no image", []string{"run", "-v"}, "", 2, nil, nil},
		{"run unknown arch", []string{"run", "--arch", "riscv64", "alpine"}, "", 2, nil, []string{`architecture "riscv64"`, "usage: b2c run"}},
		{"run missing image file", []string{"run", "--kernel", "main.go", "--initramfs", "main.go", "./no-such-image.tar"}, "", 255, nil,
			[]string{"b2c: run: image ./no-such-image.tar: no such file or directory\n"}},
		{"bad command", []string{"frob"}, "", 2, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code := exitCode(err, &errb); code != tt.wantCode {
				t.Errorf("run(%q) exit %d, want %d; out:\n%s%s", tt.args, code, tt.wantCode, out.String(), errb.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("run(%q) output lacks %q:\n%s", tt.args, w, out.String())
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("run(%q) stderr lacks %q:\n%s", tt.args, w, errb.String())
				}
			}
		})
	}
}

// TestFiles runs the commands that write files: boot-config -o and disk.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	fake := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte(name), 1000), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k, i, l := fake("bzImage"), fake("initramfs"), fake("loader.efi")
	img := filepath.Join(dir, "disk.img")
	armImg := filepath.Join(dir, "arm64.img")
	for _, tt := range []struct {
		args []string
		file string // written under dir
		want string
	}{
		{[]string{"boot-config", "syslinux", "-o", dir, "-mac", "52:54:00:AB:CD:EF", "b2c.run=docker://x"}, "pxelinux.cfg/01-52-54-00-ab-cd-ef", "APPEND b2c.run=docker://x"},
		{[]string{"boot-config", "syslinux", "-o", dir, "b2c.run=docker://x"}, "pxelinux.cfg/default", "APPEND b2c.run=docker://x"},
		{[]string{"boot-config", "ipxe", "-o", dir, "b2c.run=docker://x"}, "boot.ipxe", "#!ipxe"},
		{[]string{"boot-config", "grub", "-o", dir, "b2c.run=docker://x"}, "grub.cfg", "menuentry"},
		{[]string{"boot-config", "systemd-boot", "-o", dir, "b2c.run=docker://x"}, "loader/entries/b2c.conf", "options b2c.run=docker://x"},
		{[]string{"boot-config", "extlinux", "-arch", "arm64", "-o", dir, "b2c.run=docker://x"}, "extlinux/extlinux.conf", "KERNEL /Image"},
		{[]string{"disk", "--arch", "arm64", "-kernel", k, "-initrd", i, "-loader", l, armImg, "b2c.run=docker://x"}, "", "wrote " + armImg},
		{[]string{"disk", "-kernel", k, "-initrd", i, "-loader", l, "-cache-size", "8M", img, `b2c.run="docker://x echo one"`}, "", "wrote " + img},
		{[]string{"disk", "--update", img, `b2c.run="docker://x echo two"`}, "", "updated " + img},
	} {
		var out, errb bytes.Buffer
		if code := exitCode(run(context.Background(), tt.args, strings.NewReader(""), &out, &errb), &errb); code != 0 {
			t.Fatalf("b2c %q: exit %d\n%s%s", tt.args, code, out.String(), errb.String())
		}
		got := out.String()
		if tt.file != "" {
			b, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatalf("b2c %q: %v", tt.args, err)
			}
			got = string(b)
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("b2c %q wrote %q, want %q in it", tt.args, got, tt.want)
		}
	}
	if got, err := diskimg.Cmdline(img); err != nil || got != `b2c.run="docker://x echo two"` {
		t.Errorf("after disk --update, the image's command line is %q, %v", got, err)
	}
	// The arm64 image's loader is where AAVMF looks: mtools read the ESP,
	// which starts at 1 MiB.
	for img, loader := range map[string]string{img: "/EFI/BOOT/BOOTX64.EFI", armImg: "/EFI/BOOT/BOOTAA64.EFI"} {
		if out, err := exec.Command("mtype", "-i", img+"@@1048576", "::"+loader).CombinedOutput(); err != nil || !bytes.Equal(out, bytes.Repeat([]byte("loader.efi"), 1000)) {
			t.Errorf("%s: mtype %s: %v\n%.200s", img, loader, err, out)
		}
	}
}

// The README's examples are what labs copy: every `b2c lint '...'` line of
// it must pass.
func TestREADMEExamplesLint(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "b2c lint '") || !strings.HasSuffix(line, "'") {
			continue
		}
		n++
		arg := strings.TrimSuffix(strings.TrimPrefix(line, "b2c lint '"), "'")
		var out, errb bytes.Buffer
		if code := exitCode(run(context.Background(), []string{"lint", arg}, strings.NewReader(""), &out, &errb), &errb); code != 0 {
			t.Errorf("b2c lint %q: exit %d\n%s%s", arg, code, out.String(), errb.String())
		}
	}
	if n < 5 {
		t.Errorf("found %d lint examples in README.md, want at least 5", n)
	}
}
