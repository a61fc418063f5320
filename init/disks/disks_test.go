package disks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// fakeSys builds a sysfs tree: class/block entries are links into
// devices/, where partitions sit inside their disk, as in the kernel's.
func fakeSys(t *testing.T, entries map[string]map[string]string) string {
	t.Helper()
	root := t.TempDir()
	class := filepath.Join(root, "class/block")
	if err := os.MkdirAll(class, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, files := range entries {
		dir := filepath.Join(root, "devices", path)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, v := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, f), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(dir, filepath.Join(class, filepath.Base(path))); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestList(t *testing.T) {
	sys := fakeSys(t, map[string]map[string]string{
		"vdb":               {"size": "2048", "ro": "0"},
		"vda":               {"size": "4096", "ro": "0"},
		"vda/vda1":          {"size": "2048", "partition": "1"},
		"sr0":               {"size": "100", "ro": "1", "device/type": "5", "dev": "11:0"},
		"loop0":             {"size": "100"},
		"sdc":               {"size": "0"},
		"nvme0n1":           {"size": "8"},
		"nvme0n1/nvme0n1p1": {"size": "4", "partition": "1"},
		"nbd0":              {"size": "64"}, // connected
		"nbd0/nbd0p1":       {"size": "32", "partition": "1"},
		"nbd1":              {"size": "0"}, // not connected
		// The firmware's flash and an eMMC's hardware partitions are
		// never disks: auto must not partition a board's boot loader.
		"mtdblock0":         {"size": "131072"},
		"ubiblock0_0":       {"size": "2048"},
		"mmcblk1":           {"size": "8192"},
		"mmcblk1/mmcblk1p1": {"size": "4096", "partition": "1"},
		"mmcblk1boot0":      {"size": "8192", "ro": "1"},
		"mmcblk1boot1":      {"size": "8192", "ro": "1"},
		"mmcblk1rpmb":       {"size": "8192"},
	})
	probed := map[string]map[string]string{
		"/dev/vda1": {"TYPE": "ext4", "LABEL": "B2C_CACHE", "PART_ENTRY_NAME": "B2C_CACHE"},
	}
	probe := func(_ context.Context, path string) (map[string]string, error) { return probed[path], nil }
	got, err := List(context.Background(), sys, "/dev", probe)
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{
		{Name: "mmcblk1", Path: "/dev/mmcblk1", Disk: "mmcblk1", Size: 8192 * 512},
		{Name: "mmcblk1p1", Path: "/dev/mmcblk1p1", Disk: "mmcblk1", Partition: 1, Size: 4096 * 512},
		{Name: "nbd0", Path: "/dev/nbd0", Disk: "nbd0", Size: 64 * 512, Network: true},
		{Name: "nbd0p1", Path: "/dev/nbd0p1", Disk: "nbd0", Partition: 1, Size: 32 * 512, Network: true},
		{Name: "nvme0n1", Path: "/dev/nvme0n1", Disk: "nvme0n1", Size: 8 * 512},
		{Name: "nvme0n1p1", Path: "/dev/nvme0n1p1", Disk: "nvme0n1", Partition: 1, Size: 4 * 512},
		{Name: "sr0", Path: "/dev/sr0", Disk: "sr0", Size: 100 * 512, ReadOnly: true, CDROM: true},
		{Name: "vda", Path: "/dev/vda", Disk: "vda", Size: 4096 * 512},
		{Name: "vda1", Path: "/dev/vda1", Disk: "vda", Partition: 1, Size: 2048 * 512, FSType: "ext4", Label: "B2C_CACHE", PartName: "B2C_CACHE"},
		{Name: "vdb", Path: "/dev/vdb", Disk: "vdb", Size: 2048 * 512},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List =\n%+v\nwant\n%+v", got, want)
	}
}

// TestBlank: a partition the probe finds nothing on is Blank only when its
// start reads as zeros.
func TestBlank(t *testing.T) {
	sys := fakeSys(t, map[string]map[string]string{
		"vda":      {"size": "4096"},
		"vda/vda1": {"size": "1024", "partition": "1"},
		"vda/vda2": {"size": "1024", "partition": "2"},
		"vda/vda3": {"size": "1024", "partition": "3"},
	})
	dev := t.TempDir()
	zeros := make([]byte, 512<<10)
	corrupt := append([]byte(nil), zeros...)
	corrupt[4096] = 1 // an ext4 whose superblock alone was wiped
	for name, b := range map[string][]byte{"vda": zeros, "vda1": zeros, "vda2": corrupt, "vda3": zeros} {
		if err := os.WriteFile(filepath.Join(dev, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	probe := func(_ context.Context, path string) (map[string]string, error) {
		if filepath.Base(path) == "vda3" {
			return map[string]string{"TYPE": "swap"}, nil // blkid knows better
		}
		return nil, nil
	}
	got, err := List(context.Background(), sys, dev, probe)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"vda": false, "vda1": true, "vda2": false, "vda3": false}
	for _, d := range got {
		if d.Blank != want[d.Name] {
			t.Errorf("%s: Blank = %v, want %v", d.Name, d.Blank, want[d.Name])
		}
	}
}

// TestProbeError: a probe that fails once is tried again; one that keeps
// failing leaves the device unknown, never Blank, even if it reads zeros.
func TestProbeError(t *testing.T) {
	sys := fakeSys(t, map[string]map[string]string{
		"vda":      {"size": "4096"},
		"vda/vda1": {"size": "1024", "partition": "1"},
		"vda/vda2": {"size": "1024", "partition": "2"},
	})
	dev := t.TempDir()
	for _, name := range []string{"vda", "vda1", "vda2"} {
		if err := os.WriteFile(filepath.Join(dev, name), make([]byte, 128<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls := map[string]int{}
	probe := func(_ context.Context, path string) (map[string]string, error) {
		name := filepath.Base(path)
		calls[name]++
		switch {
		case name == "vda1" && calls[name] == 1:
			return nil, errors.New("hiccup")
		case name == "vda1":
			return map[string]string{"TYPE": "ext4", "LABEL": "B2C_CACHE"}, nil
		case name == "vda2":
			return nil, errors.New("blkid /dev/vda2: exit status 4")
		}
		return nil, nil
	}
	got, err := List(context.Background(), sys, dev, probe)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		switch d.Name {
		case "vda1":
			if d.ProbeErr != nil || d.Label != "B2C_CACHE" {
				t.Errorf("vda1 after one failed probe: label %q, err %v; want B2C_CACHE, nil", d.Label, d.ProbeErr)
			}
		case "vda2":
			if d.ProbeErr == nil || d.Blank {
				t.Errorf("vda2 unreadable: ProbeErr %v, Blank %v; want an error and not blank", d.ProbeErr, d.Blank)
			}
		}
	}
}

func TestParseExport(t *testing.T) {
	got := ParseExport("DEVNAME=/dev/vdb1\nLABEL=my\\ disk\nTYPE=ext4\nPART_ENTRY_NAME=B2C_CACHE\n")
	want := map[string]string{"DEVNAME": "/dev/vdb1", "LABEL": "my disk", "TYPE": "ext4", "PART_ENTRY_NAME": "B2C_CACHE"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseExport = %q, want %q", got, want)
	}
}

func TestWaitNode(t *testing.T) {
	dir := t.TempDir()
	if err := WaitNode(context.Background(), dir, 0); err != nil {
		t.Errorf("WaitNode(existing) = %v", err)
	}
	if err := WaitNode(context.Background(), filepath.Join(dir, "none"), 0); err == nil {
		t.Errorf("WaitNode(missing) = nil, want an error")
	}
}

// TestBlkid: the probe runs blkid through the runner it is given (the
// reaper's, in PID 1) and reads its output once it has exited.
func TestBlkid(t *testing.T) {
	for _, tt := range []struct {
		name    string
		out     string
		code    int
		runErr  error
		want    map[string]string
		wantErr string
	}{
		{"found", "TYPE=ext4\nLABEL=B2C_CACHE\nPTTYPE=gpt\n", 0, nil, map[string]string{"TYPE": "ext4", "LABEL": "B2C_CACHE", "PTTYPE": "gpt"}, ""},
		{"nothing", "", 2, nil, map[string]string{}, ""},
		{"failed", "", 4, nil, nil, "blkid /dev/vdb: exit status 4"},
		{"not run", "", -1, errors.New("start /sbin/blkid: no such file"), nil, "blkid /dev/vdb: start /sbin/blkid: no such file"},
	} {
		var args []string
		run := func(ctx context.Context, cmd *exec.Cmd) (int, error) {
			args = cmd.Args
			if tt.runErr != nil {
				return -1, tt.runErr
			}
			io.WriteString(cmd.Stdout, tt.out)
			return tt.code, nil
		}
		got, err := Blkid(run)(context.Background(), "/dev/vdb")
		if fmt.Sprint(err) != fmt.Sprint(errorOrNil(tt.wantErr)) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Blkid = %v, %v; want %v, %q", tt.name, got, err, tt.want, tt.wantErr)
		}
		if want := []string{"/sbin/blkid", "-p", "-o", "export", "/dev/vdb"}; !reflect.DeepEqual(args, want) {
			t.Errorf("%s: ran %q, want %q", tt.name, args, want)
		}
	}
}

func errorOrNil(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}
