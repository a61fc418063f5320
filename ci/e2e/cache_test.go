package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/b2c-dev/b2c/ci/images"
	"github.com/b2c-dev/b2c/ci/vm"
)

// The scenarios of the cache partition, swap, file systems and local
// volumes (docs/cmdline.md, "Storage", and "Volumes" without S3).

// sparseDisk makes an empty raw disk image of size bytes.
func sparseDisk(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostPartition is one GPT partition of a disk image, as the host reads it.
type hostPartition struct {
	name          string
	offset, size  int64
	fsType, label string
	uuid          string
}

// partitions reads a disk image's GPT with go-diskfs, and each partition's
// file system with the host's blkid.
func partitions(t *testing.T, img string) []hostPartition {
	t.Helper()
	d, err := diskfs.Open(img, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	table, err := d.GetPartitionTable()
	if err != nil {
		t.Fatalf("%s: no partition table: %v", img, err)
	}
	g, ok := table.(*gpt.Table)
	if !ok {
		t.Fatalf("%s: partition table is %s, want gpt", img, table.Type())
	}
	var out []hostPartition
	for _, p := range g.Partitions {
		if p.Start == 0 && p.End == 0 {
			continue
		}
		hp := hostPartition{name: p.Name, offset: int64(p.Start) * 512, size: int64(p.End-p.Start+1) * 512}
		kv := blkid(t, img, hp.offset, hp.size)
		hp.fsType, hp.label, hp.uuid = kv["TYPE"], kv["LABEL"], kv["UUID"]
		out = append(out, hp)
	}
	return out
}

func blkid(t *testing.T, img string, offset, size int64) map[string]string {
	t.Helper()
	out, err := exec.Command("blkid", "-p", "-o", "export", "-O", itoa(offset), "-S", itoa(size), img).Output()
	kv := map[string]string{}
	if err != nil {
		return kv // exit 2: nothing found
	}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			kv[k] = v
		}
	}
	return kv
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// firstLine returns when the line matching re appeared, in seconds since
// QEMU started.
func firstLine(t *testing.T, v *vm.VM, re string) float64 {
	t.Helper()
	l, ok, err := v.FirstLine(re)
	if err != nil || !ok {
		t.Fatalf("no line %q: %v", re, err)
	}
	return l.At.Seconds()
}

// TestCacheAuto follows one disk through the life of a lab machine: a blank
// disk gets a cache, the next boot pulls no layer again, reset wipes it,
// and a corrupt superblock is repaired by a reformat.
func TestCacheAuto(t *testing.T) {
	img := sparseDisk(t, 1<<30)
	disk := vm.Disk(img)
	const cached = `sh -c 'test -f /s/marker && echo marker=kept || echo marker=gone; date > /s/marker; echo cache-ok'`

	v := boot(t, disk, "b2c.cache_device=auto", run("-v /storage:/s", cached))
	expect(t, v, `^marker=gone$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("first boot: pipeline status = %d, want 0", got)
	}
	first := firstLine(t, v, `^marker=`)
	parts := partitions(t, img)
	if len(parts) != 1 || parts[0].name != "B2C_CACHE" || parts[0].fsType != "ext4" || parts[0].label != "B2C_CACHE" {
		t.Fatalf("after auto on a blank disk: partitions %+v, want one ext4 labelled B2C_CACHE", parts)
	}
	uuid := parts[0].uuid

	reg.Reset()
	v = boot(t, disk, "b2c.cache_device=auto", run("-v /storage:/s", cached))
	expect(t, v, `^marker=kept$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("second boot: pipeline status = %d, want 0", got)
	}
	if n := reg.BlobGETs(); n != 0 {
		t.Errorf("second boot on the cache: %d blob GETs, want 0; requests: %v", n, reg.Requests())
	}
	second := firstLine(t, v, `^marker=`)
	t.Logf("first container line: %.2f s on a blank disk, %.2f s on the cache", first, second)
	if p := partitions(t, img); len(p) != 1 || p[0].uuid != uuid {
		t.Errorf("second boot changed the cache: %+v, want UUID %s kept", p, uuid)
	}

	v = boot(t, disk, "b2c.cache_device=reset", run("-v /storage:/s", cached))
	expect(t, v, `^marker=gone$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("reset boot: pipeline status = %d, want 0", got)
	}

	// Overwrite the primary superblock: the label is unreadable, only
	// the GPT name tells the partition is b2c's.
	f, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 1024), parts[0].offset+1024); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if kv := blkid(t, img, parts[0].offset, parts[0].size); kv["TYPE"] != "" {
		t.Fatalf("the corrupted partition still reads as %q", kv["TYPE"])
	}
	v = boot(t, disk, "b2c.cache_device=auto", run("-v /storage:/s", cached))
	expect(t, v, `WARNING: .*/dev/vda1.*reformatting`)
	expect(t, v, `^cache-ok$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("boot on a corrupt cache: pipeline status = %d, want 0", got)
	}
	if p := partitions(t, img); len(p) != 1 || p[0].label != "B2C_CACHE" {
		t.Errorf("after the repair: partitions %+v, want one labelled B2C_CACHE", p)
	}
}

// TestCacheRepair: a cache that no longer mounts (a group descriptor's
// checksum broken on the host) is repaired by e2fsck, not reformatted:
// what it held is still there, and the run says so with a WARNING.
func TestCacheRepair(t *testing.T) {
	img := sparseDisk(t, 512<<20)
	disk := vm.Disk(img)
	const keep = `sh -c 'test -f /s/marker && echo marker=kept || echo marker=gone; date > /s/marker; echo cache-ok'`
	v := boot(t, disk, "b2c.cache_device=auto", run("-v /storage:/s", keep))
	expect(t, v, `^marker=gone$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("first boot: pipeline status = %d, want 0", got)
	}
	p := partitions(t, img)[0]
	loop, err := exec.Command("losetup", "-f", "--show", "-o", itoa(p.offset), "--sizelimit", itoa(p.size), img).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	dev := strings.TrimSpace(string(loop))
	out, err := exec.Command("debugfs", "-w", "-R", "set_bg 0 checksum 0x1234", dev).CombinedOutput()
	exec.Command("losetup", "-d", dev).Run()
	if err != nil {
		t.Fatalf("debugfs: %v: %s", err, out)
	}
	v = boot(t, disk, "b2c.cache_device=auto", run("-v /storage:/s", keep))
	expect(t, v, `WARNING: the cache partition /dev/vda1 did not mount \(.*\): e2fsck repaired it`)
	expect(t, v, `^marker=kept$`)
	if got := status(t, v); got != 0 {
		t.Errorf("boot on the damaged cache: pipeline status = %d, want 0", got)
	}
	if q := partitions(t, img); len(q) != 1 || q[0].uuid != p.uuid {
		t.Errorf("after the repair: partitions %+v, want the same file system (UUID %s)", q, p.uuid)
	}
}

// TestCacheFromExtraArgs: b2c.cache_device and b2c.swap given only in
// the extra options count as if on the kernel's line: the cache is made
// and mounted after them (the second boot pulls no layer again) and the
// swap shows in the container.
func TestCacheFromExtraArgs(t *testing.T) {
	img := sparseDisk(t, 1<<30)
	disk := vm.Disk(img)
	extra := extraArgs(t, "b2c.cache_device=auto", "b2c.swap=64M")
	const check = `sh -c 'grep -q /storage/swapfile /proc/swaps && echo swap=on || echo swap=off; test -f /s/marker && echo marker=kept || echo marker=gone; date > /s/marker'`
	v := boot(t, disk, extra, run("-v /storage:/s", check))
	expect(t, v, `^swap=on$`)
	expect(t, v, `^marker=gone$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("first boot: pipeline status = %d, want 0", got)
	}
	if p := partitions(t, img); len(p) != 1 || p[0].label != "B2C_CACHE" {
		t.Fatalf("after the first boot: partitions %+v, want one labelled B2C_CACHE", p)
	}
	reg.Reset()
	v = boot(t, disk, extra, run("-v /storage:/s", check))
	expect(t, v, `^swap=on$`)
	expect(t, v, `^marker=kept$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("second boot: pipeline status = %d, want 0", got)
	}
	if n := reg.BlobGETs(); n != 0 {
		t.Errorf("second boot on the cache: %d blob GETs, want 0; requests: %v", n, reg.Requests())
	}
}

// TestCacheAutoKeepsData: a disk that holds an unlabelled ext4 with a
// file is not a blank disk: auto leaves it alone with a WARNING that says
// what it holds and how to claim it, the run goes on in RAM, and the file
// is still there afterwards.
func TestCacheAutoKeepsData(t *testing.T) {
	img := sparseDisk(t, 256<<20)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "keep.txt"), []byte("lab data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-d", data, img).CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v: %s", err, out)
	}
	v := boot(t, vm.Disk(img), "b2c.cache_device=auto", run(`echo ran-in-ram`))
	expect(t, v, `WARNING: not using /dev/vda for the cache: it holds ext4 on /dev/vda; b2c.cache_device=/dev/vda claims it`)
	expect(t, v, `No cache partition: images and volumes live in RAM`)
	expect(t, v, `^ran-in-ram$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	out, err := exec.Command("debugfs", "-R", "cat /keep.txt", img).Output()
	if err != nil || string(out) != "lab data\n" {
		t.Errorf("keep.txt after the boot: %q, %v; want \"lab data\"", out, err)
	}
}

// TestCacheNamedPartition: an unlabelled partition is formatted; one with
// another label is used as it is.
func TestCacheNamedPartition(t *testing.T) {
	img := sparseDisk(t, 512<<20)
	d, err := diskfs.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Partition(&gpt.Table{ProtectiveMBR: true, LogicalSectorSize: 512, Partitions: []*gpt.Partition{
		{Index: 1, Start: 2048, End: 2048 + 256*2048 - 1, Type: gpt.LinuxFilesystem, Name: "blank"},
		{Index: 2, Start: 2048 + 256*2048, End: 2048 + 500*2048 - 1, Type: gpt.LinuxFilesystem, Name: "data"},
	}})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	parts := partitions(t, img)
	mkfs := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-L", "KEEPME", "-E", "offset="+itoa(parts[1].offset), img, itoa(parts[1].size>>10)+"k")
	if out, err := mkfs.CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v: %s", err, out)
	}
	keep := partitions(t, img)[1]
	if keep.label != "KEEPME" {
		t.Fatalf("host setup: partition 2 is %+v", keep)
	}

	v := boot(t, vm.Disk(img), "b2c.cache_device=/dev/vda1", run("-v /storage:/s", `sh -c 'echo one > /s/file && echo cache-one'`))
	expect(t, v, `^cache-one$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("cache on /dev/vda1: pipeline status = %d, want 0", got)
	}
	if p := partitions(t, img); p[0].label != "B2C_CACHE" || p[0].fsType != "ext4" {
		t.Errorf("/dev/vda1 after the boot: %+v, want ext4 labelled B2C_CACHE", p[0])
	}

	for i := 0; i < 2; i++ {
		v = boot(t, vm.Disk(img), "b2c.cache_device=/dev/vda2", run("-v /storage:/s", `sh -c 'ls /s; echo two >> /s/file; echo lines=$(wc -l < /s/file)'`))
		expect(t, v, `^lines=`+itoa(int64(i+1))+`$`)
		if got := status(t, v); got != 0 {
			t.Fatalf("cache on KEEPME: pipeline status = %d, want 0", got)
		}
	}
	if p := partitions(t, img)[1]; p.label != "KEEPME" || p.uuid != keep.uuid {
		t.Errorf("KEEPME after two boots: %+v, want label KEEPME and UUID %s", p, keep.uuid)
	}
}

// bigImage is an image with a layer of random bytes larger than a small
// cache, pushed once for the tests that need it.
var bigImage = sync.OnceValues(func() (string, error) {
	base, err := images.Busybox()
	if err != nil {
		return "", err
	}
	img, err := images.WithBlob(base, "/big.bin", 96<<20, 4)
	if err != nil {
		return "", err
	}
	if err := images.Push(context.Background(), img, reg.Addr()+"/b2c/big:latest"); err != nil {
		return "", err
	}
	return reg.GuestAddr() + "/b2c/big:latest", nil
})

func runBig(t *testing.T, cmd string) string {
	t.Helper()
	ref, err := bigImage()
	if err != nil {
		t.Fatal(err)
	}
	return `b2c.run="--tls-verify=false docker://` + ref + ` ` + cmd + `"`
}

// TestCacheTooSmall: an image larger than the cache is a clear ERROR about
// space, then the normal end of the run.
func TestCacheTooSmall(t *testing.T) {
	v := boot(t, vm.Disk(sparseDisk(t, 64<<20)), "b2c.cache_device=auto", runBig(t, "echo pulled"))
	expect(t, v, `ERROR: .*not enough space for the image in the container storage /storage/\S+ \(\d+ MiB free of \d+ MiB\)`)
	if got := status(t, v); got == 0 {
		t.Errorf("pipeline status = 0, want a failure")
	}
	if strings.Contains(v.Console(), "\npulled\n") {
		t.Errorf("the container ran without its image")
	}
}

// TestCacheKilledPull: a power cut in the middle of a pull leaves a cache
// that the next boot uses.
func TestCacheKilledPull(t *testing.T) {
	img := sparseDisk(t, 1<<30)
	run := runBig(t, `sh -c 'test -s /big.bin && echo big-ok'`)
	reg.Reset()
	v := boot(t, vm.Disk(img), "b2c.cache_device=auto", run)
	expect(t, v, `Pulling and creating the container`)
	// Cut the power once the big layer is on its way.
	for reg.BlobGETs() == 0 {
		select {
		case <-v.Done():
			t.Fatalf("the VM ended before the pull began")
		case <-time.After(50 * time.Millisecond):
		}
	}
	v.Kill()
	t.Logf("killed the VM after %d blob GETs", reg.BlobGETs())

	v = boot(t, vm.Disk(img), "b2c.cache_device=auto", run)
	expect(t, v, `^big-ok$`)
	if got := status(t, v); got != 0 {
		t.Errorf("boot after a killed pull: pipeline status = %d, want 0", got)
	}
}

// TestSwapAndVolumes: a swap file on the cache, and volumes that do or do
// not outlive the pipeline.
func TestSwapAndVolumes(t *testing.T) {
	img := sparseDisk(t, 1<<30)
	opts := []option{vm.Disk(img), "b2c.cache_device=auto", "b2c.volume=keep,expiration=never", "b2c.volume=scratch,expiration=pipeline_end"}
	v := boot(t, append(opts, "b2c.swap=256M,swappiness=10",
		run("-v keep:/keep -v scratch:/scratch", `sh -c 'cat /proc/swaps; echo swappiness=$(cat /proc/sys/vm/swappiness); echo k > /keep/f; echo s > /scratch/f; echo wrote'`))...)
	expect(t, v, `^/storage/swapfile\s+file\s+262140\s`)
	expect(t, v, `^swappiness=10$`)
	expect(t, v, `^wrote$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("first boot: pipeline status = %d, want 0", got)
	}

	v = boot(t, append(opts, run("-v keep:/keep -v scratch:/scratch", `sh -c 'echo keep=$(cat /keep/f 2>/dev/null || echo none) scratch=$(cat /scratch/f 2>/dev/null || echo none)'`))...)
	if m := expect(t, v, `^keep=(\S+) scratch=(\S+)$`); m[1] != "k" || m[2] != "none" {
		t.Errorf("second boot: %q, want keep=k scratch=none", m[0])
	}
	if got := status(t, v); got != 0 {
		t.Errorf("second boot: pipeline status = %d, want 0", got)
	}
}

// TestFilesystems: b2c.filesystem mounts an ext4 disk, a tmpfs and a 9p
// share from the host, and a volume lives on one of them.
func TestFilesystems(t *testing.T) {
	data := sparseDisk(t, 64<<20)
	if out, err := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-L", "DATA", data).CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v: %s", err, out)
	}
	share := t.TempDir()
	if err := os.WriteFile(filepath.Join(share, "in.txt"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v := boot(t, vm.Disk(data),
		vm.QEMUArgs("-virtfs", "local,path="+share+",mount_tag=share0,security_model=none,id=share0"),
		"b2c.filesystem=data,type=ext4,src=/dev/vda",
		"b2c.filesystem=scratch,type=tmpfs,src=none,opts=size=8m|mode=0755",
		`b2c.filesystem=share,type=9p,src=share0,opts=trans=virtio|version=9p2000.L`,
		"b2c.volume=results,filesystem=share",
		run("-v /mnt/data:/data -v /mnt/scratch:/scratch -v /mnt/share:/share -v results:/results",
			`sh -c 'cat /share/in.txt; while read d m t r; do case $m in /data|/scratch) echo $m $t;; esac; done < /proc/mounts; echo r > /results/out.txt; echo done'`))
	expect(t, v, `^from-host$`)
	expect(t, v, `^done$`)
	// The file systems mount concurrently: /proc/mounts has them in any order.
	for _, re := range []string{`^/data ext4$`, `^/scratch tmpfs$`} {
		if _, ok, err := v.FirstLine(re); err != nil || !ok {
			t.Errorf("no line %q in the container's output (%v)", re, err)
		}
	}
	if got := status(t, v); got != 0 {
		t.Fatalf("pipeline status = %d, want 0", got)
	}
	if b, err := os.ReadFile(filepath.Join(share, "results", "out.txt")); err != nil || string(b) != "r\n" {
		t.Errorf("volume on the 9p share: host reads %q, %v; want \"r\\n\"", b, err)
	}
}

// TestFilesystemMissing: a b2c.filesystem that cannot mount is one ERROR
// naming it, and the end of the run.
func TestFilesystemMissing(t *testing.T) {
	v := boot(t, noNIC, "b2c.filesystem=data,type=ext4,src=/dev/vdz", run(`echo ran`))
	expect(t, v, `ERROR: b2c.filesystem: mount -t ext4 /dev/vdz /mnt/data: .*did not appear`)
	if got := status(t, v); got == 0 {
		t.Errorf("pipeline status = 0, want a failure")
	}
}

// TestCacheAutoKeepsLUKS: a disk that holds a LUKS volume is not blank
// either; auto leaves it alone, byte for byte.
func TestCacheAutoKeepsLUKS(t *testing.T) {
	img := sparseDisk(t, 64<<20)
	// A LUKS1 header as blkid reads it: the magic, version 1, and the
	// UUID at byte 168; the rest of a real header does not matter here.
	hdr := make([]byte, 4096)
	copy(hdr, "LUKS\xba\xbe\x00\x01aes")
	copy(hdr[168:], "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901")
	f, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(hdr, 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	v := boot(t, vm.Disk(img), "b2c.cache_device=auto", run(`echo ran-in-ram`))
	expect(t, v, `WARNING: not using /dev/vda for the cache: it holds crypto_LUKS`)
	expect(t, v, `^ran-in-ram$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	after := make([]byte, len(hdr))
	f, err = os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(after, 0); err != nil || !bytes.Equal(after, hdr) {
		t.Errorf("the LUKS header changed: %v", err)
	}
}
