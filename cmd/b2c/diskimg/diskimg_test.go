package diskimg

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// randomFile writes size random bytes to dir/name.
func randomFile(t *testing.T, dir, name string, size int) string {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// part is a GPT partition of an image, in bytes.
type part struct {
	name         string
	typ          gpt.Type
	offset, size int64
}

func parts(t *testing.T, img string) []part {
	t.Helper()
	d, err := diskfs.Open(img, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tb, err := d.GetPartitionTable()
	if err != nil {
		t.Fatal(err)
	}
	var out []part
	for _, p := range tb.(*gpt.Table).Partitions {
		if p.Start == 0 && p.End == 0 {
			continue
		}
		out = append(out, part{p.Name, p.Type, int64(p.Start) * 512, int64(p.End-p.Start+1) * 512})
	}
	return out
}

// mtype reads a file of the ESP with mtools, an implementation of FAT
// independent of go-diskfs.
func mtype(t *testing.T, img string, esp part, path string) []byte {
	t.Helper()
	out, err := exec.Command("mtype", "-i", img+"@@"+strconv.FormatInt(esp.offset, 10), "::"+path).Output()
	if err != nil {
		t.Fatalf("mtype %s: %v", path, err)
	}
	return out
}

// benignFsck are what fsck.fat -n reports on every FAT go-diskfs v1.9.4
// writes: '..' entries of top-level directories that name the root's
// cluster rather than 0, and an FSInfo free count left "unknown", which
// the FAT specification allows. Firmware and Linux read both.
var benignFsck = []string{"Invalid '..' entry in the second slot", "Free cluster summary uninitialized"}

// fsck checks the ESP's FAT with dosfstools, read-only: any problem but
// benignFsck fails the test.
func fsck(t *testing.T, img string, esp part) {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "esp.img")
	if err := os.WriteFile(p, b[esp.offset:esp.offset+esp.size], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("fsck.fat", "-n", p).CombinedOutput()
	if err == nil {
		return
	}
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "fsck.fat ") || strings.HasPrefix(l, "/") || l == "Leaving filesystem unchanged.":
			continue
		case strings.HasPrefix(l, benignFsck[0]) || strings.HasPrefix(l, benignFsck[1]):
			continue
		}
		t.Fatalf("fsck.fat -n: %v: %q\n%s", err, l, out)
	}
}

func sameFile(t *testing.T, img string, esp part, path, host string) {
	t.Helper()
	want, err := os.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	if got := mtype(t, img, esp, path); !bytes.Equal(got, want) {
		t.Errorf("%s on the ESP: %d bytes differ from %s (%d bytes)", path, len(got), host, len(want))
	}
}

func TestCreateAndUpdate(t *testing.T) {
	for _, tool := range []string{"mtype", "fsck.fat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%v (ci/deps.sh installs mtools and dosfstools)", err)
		}
	}
	dir := t.TempDir()
	kernel := randomFile(t, dir, "bzImage", 3<<20)
	initrd := randomFile(t, dir, "initramfs", 9<<20+123)
	loader := randomFile(t, dir, "systemd-bootx64.efi", 100<<10)
	img := filepath.Join(dir, "disk.img")
	cmd := `console=ttyS0 b2c.cache_device=auto b2c.run="-e 'A=b c' docker://x env"`
	if err := Create(img, Options{Kernel: kernel, Initrd: initrd, Loader: loader, Cmdline: cmd, CacheSize: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	p := parts(t, img)
	if len(p) != 2 || p[0].typ != gpt.EFISystemPartition || p[1].name != "B2C_CACHE" || p[1].typ != gpt.LinuxFilesystem || p[1].size != 16<<20 {
		t.Fatalf("partitions %+v, want an ESP and a 16 MiB B2C_CACHE", p)
	}
	if p[0].offset%(1<<20) != 0 || p[1].offset%(1<<20) != 0 {
		t.Errorf("partitions %+v are not MiB-aligned", p)
	}
	esp := p[0]
	fsck(t, img, esp)
	sameFile(t, img, esp, "/EFI/BOOT/BOOTX64.EFI", loader)
	sameFile(t, img, esp, KernelPath, kernel)
	sameFile(t, img, esp, InitrdPath, initrd)
	if got := string(mtype(t, img, esp, LoaderConf)); !strings.Contains(got, "default b2c.conf") || !strings.Contains(got, "timeout 0") {
		t.Errorf("loader.conf:\n%s", got)
	}
	entry := string(mtype(t, img, esp, EntryPath))
	for _, want := range []string{"linux " + KernelPath + "\n", "initrd " + InitrdPath + "\n", "options " + cmd + "\n"} {
		if !strings.Contains(entry, want) {
			t.Errorf("loader entry lacks %q:\n%s", want, entry)
		}
	}
	if got, err := Cmdline(img); err != nil || got != cmd {
		t.Errorf("Cmdline = %q, %v; want %q", got, err, cmd)
	}

	// The agent's cache: data that Update must keep.
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	marker := bytes.Repeat([]byte("cached layer "), 1000)
	if _, err := f.WriteAt(marker, p[1].offset+4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}

	newCmd := `console=ttyS0 b2c.run="docker://x echo second"`
	bigger := randomFile(t, dir, "initramfs2", 14<<20)
	if err := Update(img, Changes{Initrd: bigger, Cmdline: &newCmd}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("Update changed the image size: %d, was %d", len(after), len(before))
	}
	if !bytes.Equal(after[esp.offset+esp.size:], before[esp.offset+esp.size:]) {
		t.Errorf("Update wrote past the ESP")
	}
	if !bytes.Equal(after[:esp.offset], before[:esp.offset]) {
		t.Errorf("Update rewrote the partition table")
	}
	fsck(t, img, esp)
	sameFile(t, img, esp, InitrdPath, bigger)
	sameFile(t, img, esp, KernelPath, kernel)
	if got, err := Cmdline(img); err != nil || got != newCmd {
		t.Errorf("after Update, Cmdline = %q, %v; want %q", got, err, newCmd)
	}

	// Back to a smaller initramfs: the freed clusters must not corrupt
	// the FAT.
	if err := Update(img, Changes{Initrd: initrd}); err != nil {
		t.Fatal(err)
	}
	fsck(t, img, esp)
	sameFile(t, img, esp, InitrdPath, initrd)
}

// TestCreateARM64: arm64's loader goes where AAVMF looks for it.
func TestCreateARM64(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	loader := randomFile(t, dir, "systemd-bootaa64.efi", 1000)
	err := Create(img, Options{Arch: "arm64", Kernel: randomFile(t, dir, "Image", 1000), Initrd: randomFile(t, dir, "i", 1000), Loader: loader})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, img, parts(t, img)[0], "/EFI/BOOT/BOOTAA64.EFI", loader)
}

func TestLoaderNames(t *testing.T) {
	for _, tt := range []struct{ arch, loader, path string }{
		{"", "/usr/lib/systemd/boot/efi/systemd-bootx64.efi", "/EFI/BOOT/BOOTX64.EFI"},
		{"amd64", "/usr/lib/systemd/boot/efi/systemd-bootx64.efi", "/EFI/BOOT/BOOTX64.EFI"},
		{"arm64", "/usr/lib/systemd/boot/efi/systemd-bootaa64.efi", "/EFI/BOOT/BOOTAA64.EFI"},
	} {
		l, err1 := DefaultLoader(tt.arch)
		p, err2 := LoaderPath(tt.arch)
		if l != tt.loader || p != tt.path || err1 != nil || err2 != nil {
			t.Errorf("%q: DefaultLoader %s, %v, LoaderPath %s, %v; want %s, %s", tt.arch, l, err1, p, err2, tt.loader, tt.path)
		}
	}
	if _, err := LoaderPath("riscv64"); err == nil {
		t.Error("LoaderPath(riscv64): no error")
	}
}

func TestCreateWithoutCache(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	err := Create(img, Options{Kernel: randomFile(t, dir, "k", 1000), Initrd: randomFile(t, dir, "i", 1000), Loader: randomFile(t, dir, "l", 1000)})
	if err != nil {
		t.Fatal(err)
	}
	if p := parts(t, img); len(p) != 1 || p[0].size != minESP {
		t.Errorf("partitions %+v, want one ESP of %d bytes", p, minESP)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	k, i := randomFile(t, dir, "k", 1000), randomFile(t, dir, "i", 1000)
	bad := "b2c.run=\"x"
	plain := filepath.Join(dir, "plain.img")
	if err := os.WriteFile(plain, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"no kernel", Create(filepath.Join(dir, "a.img"), Options{Initrd: i}), "required"},
		{"missing loader", Create(filepath.Join(dir, "b.img"), Options{Kernel: k, Initrd: i, Loader: filepath.Join(dir, "none.efi")}), "no such file"},
		{"unknown architecture", Create(filepath.Join(dir, "d.img"), Options{Arch: "riscv64", Kernel: k, Initrd: i, Loader: k}), "riscv64"},
		{"bad command line", Create(filepath.Join(dir, "c.img"), Options{Kernel: k, Initrd: i, Loader: k, Cmdline: bad}), "unbalanced"},
		{"update nothing", Update(plain, Changes{}), "nothing to change"},
		{"update a disk without GPT", Update(plain, Changes{Kernel: k}), "partition table"},
	} {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, tt.err, tt.want)
		}
	}
}
