package cache

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/b2c-dev/b2c/init/disks"
)

func disk(name string, parts ...disks.Device) []disks.Device {
	out := []disks.Device{{Name: name, Path: "/dev/" + name, Disk: name, Size: 1 << 30}}
	for i, p := range parts {
		p.Name = PartitionPath(name, i+1)
		p.Path = "/dev/" + p.Name
		p.Disk, p.Partition, p.Size = name, i+1, 1<<29
		out = append(out, p)
	}
	return out
}

// network marks devs as those of a b2c.nbd device.
func network(devs []disks.Device) []disks.Device {
	for i := range devs {
		devs[i].Network = true
	}
	return devs
}

// withDisk sets what the whole disk holds (its first entry).
func withDisk(devs []disks.Device, what disks.Device) []disks.Device {
	devs[0].FSType, devs[0].Label, devs[0].PTType = what.FSType, what.Label, what.PTType
	return devs
}

func cat(ls ...[]disks.Device) []disks.Device {
	var out []disks.Device
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}

func TestChoose(t *testing.T) {
	ours := disks.Device{FSType: "ext4", Label: Label, PartName: Label}
	corrupt := disks.Device{PartName: Label}
	fresh := disks.Device{PartName: Label, Blank: true}
	keep := disks.Device{FSType: "ext4", Label: "KEEPME"}
	blank := disks.Device{}
	unreadable := disks.Device{ProbeErr: errors.New("blkid /dev/vda1: exit status 4")}
	plain := disks.Device{FSType: "ext4"}
	lvm := disks.Device{FSType: "LVM2_member"}
	luks := disks.Device{FSType: "crypto_LUKS"}
	raid := disks.Device{FSType: "linux_raid_member"}
	gpt := disks.Device{PTType: "gpt"}
	cdrom := []disks.Device{{Name: "sr0", Path: "/dev/sr0", Disk: "sr0", Size: 1 << 20, CDROM: true}}
	for _, tt := range []struct {
		name, mode string
		devs       []disks.Device
		action     Action
		device     string
		ours       bool
		warning    string
		note       string
	}{
		{"none", "none", disk("vda"), InRAM, "", false, "", ""},
		{"auto blank disk", "auto", disk("vda"), Repartition, "/dev/vda", true, "", ""},
		{"auto skips nbd", "auto", cat(network(disk("nbd0")), disk("vda")), Repartition, "/dev/vda", true, "", ""},
		{"auto skips nbd cache", "auto", cat(network(disk("nbd0", ours)), disk("vda")), Repartition, "/dev/vda", true, "", ""},
		{"auto nbd only", "auto", network(disk("nbd0")), InRAM, "", false, "no disk", ""},
		{"named nbd blank", "/dev/nbd0", network(disk("nbd0")), Repartition, "/dev/nbd0", true, "", ""},
		{"named nbd reused", "/dev/nbd0", network(disk("nbd0", ours)), Use, "/dev/nbd0p1", true, "", ""},
		{"named nbd holding data", "/dev/nbd0", network(disk("nbd0", keep)), Repartition, "/dev/nbd0", true, "", ""},
		{"auto skips cdrom", "auto", cat(cdrom, disk("vda")), Repartition, "/dev/vda", true, "", ""},
		{"auto only cdrom", "auto", cdrom, InRAM, "", false, "no disk", ""},
		{"auto no disk", "auto", nil, InRAM, "", false, "no disk", ""},
		{"auto finds label", "auto", cat(disk("vda", blank), disk("vdb", keep, ours)), Use, "/dev/vdb2", true, "", ""},
		{"auto corrupt", "auto", disk("vda", corrupt), Format, "/dev/vda1", true, "reformatting", ""},
		{"auto new partition", "auto", disk("vda", fresh), Format, "/dev/vda1", true, "", "formatting new cache partition /dev/vda1"},
		{"auto skips labelled disk", "auto", cat(disk("vda", keep), disk("vdb")), Repartition, "/dev/vdb", true, "KEEPME", ""},
		{"auto keeps unlabelled ext4", "auto", disk("vda", plain), InRAM, "", false, "it holds ext4 on /dev/vda1; b2c.cache_device=/dev/vda claims it", ""},
		{"auto keeps whole-disk ext4", "auto", cat(withDisk(disk("vda"), plain), disk("vdb")), Repartition, "/dev/vdb", true, "ext4 on /dev/vda;", ""},
		{"auto keeps LVM", "auto", withDisk(disk("vda"), lvm), InRAM, "", false, "LVM2_member", ""},
		{"auto keeps LUKS", "auto", disk("vda", luks), InRAM, "", false, "crypto_LUKS on /dev/vda1", ""},
		{"auto keeps RAID", "auto", disk("vda", raid), InRAM, "", false, "linux_raid_member", ""},
		{"auto keeps partition table", "auto", withDisk(disk("vda"), gpt), InRAM, "", false, "a gpt partition table", ""},
		{"auto keeps empty partitions", "auto", disk("vda", blank), InRAM, "", false, "partitions (/dev/vda1)", ""},
		{"disk with unreadable partition", "/dev/vda", disk("vda", unreadable), InRAM, "", false, "not repartitioning it", ""},
		{"auto all labelled", "auto", disk("vda", keep), InRAM, "", false, "KEEPME", ""},
		{"auto unreadable partition", "auto", cat(disk("vda", unreadable), disk("vdb")), Repartition, "/dev/vdb", true, "cannot tell what /dev/vda1 holds (blkid /dev/vda1: exit status 4)", ""},
		{"auto only unreadable", "auto", disk("vda", unreadable), InRAM, "", false, "cannot tell", ""},
		{"partition unreadable", "/dev/vda1", disk("vda", unreadable), InRAM, "", false, "not formatting it", ""},
		{"auto nvme", "auto", disk("nvme0n1"), Repartition, "/dev/nvme0n1", true, "", ""},
		{"reset reformats", "reset", disk("vda", ours), Format, "/dev/vda1", true, "", ""},
		{"reset blank", "reset", disk("vda"), Repartition, "/dev/vda", true, "", ""},
		{"disk with cache", "/dev/vdb", cat(disk("vda", ours), disk("vdb", keep, ours)), Use, "/dev/vdb2", true, "", ""},
		{"disk without cache", "/dev/vdb", cat(disk("vda", ours), disk("vdb", keep)), Repartition, "/dev/vdb", true, "", ""},
		{"partition unlabelled", "/dev/vdb1", disk("vdb", blank), Format, "/dev/vdb1", true, "", ""},
		{"partition labelled", "/dev/vdb1", disk("vdb", keep), Use, "/dev/vdb1", false, "", ""},
		{"partition ours", "/dev/vdb1", disk("vdb", ours), Use, "/dev/vdb1", true, "", ""},
		{"missing", "/dev/sdz", disk("vda"), InRAM, "", false, "not found", ""},
		{"cdrom", "/dev/sr0", cdrom, InRAM, "", false, "CD-ROM", ""},
		{"not a device", "cache", disk("vda"), InRAM, "", false, "neither", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := Choose(tt.mode, tt.devs)
			if p.Action != tt.action || p.Device != tt.device || p.Ours != tt.ours {
				t.Errorf("Choose(%q) = %v %q ours=%v, want %v %q ours=%v", tt.mode, p.Action, p.Device, p.Ours, tt.action, tt.device, tt.ours)
			}
			got := strings.Join(p.Warnings, "\n")
			if (tt.warning == "") != (got == "") || !strings.Contains(got, tt.warning) {
				t.Errorf("Choose(%q) warnings = %q, want %q", tt.mode, got, tt.warning)
			}
			if got := strings.Join(p.Notes, "\n"); got != tt.note {
				t.Errorf("Choose(%q) notes = %q, want %q", tt.mode, got, tt.note)
			}
		})
	}
}

func TestPartitionPath(t *testing.T) {
	for disk, want := range map[string]string{"/dev/vda": "/dev/vda1", "/dev/nvme0n1": "/dev/nvme0n1p1", "/dev/mmcblk0": "/dev/mmcblk0p1", "/dev/sdb": "/dev/sdb1"} {
		if got := PartitionPath(disk, 1); got != want {
			t.Errorf("PartitionPath(%q, 1) = %q, want %q", disk, got, want)
		}
	}
}

func TestStorageConf(t *testing.T) {
	for _, tt := range []struct {
		graphroot string
		stores    []string
	}{
		{"/var/lib/containers/storage", nil},
		{"/storage/containers/storage", []string{"/mnt/images", "/mnt/with \"quote\""}},
	} {
		var c struct {
			Storage struct {
				Driver, GraphRoot, RunRoot string
				Options                    struct {
					AdditionalImageStores []string `toml:"additionalimagestores"`
				} `toml:"options"`
			} `toml:"storage"`
		}
		text := StorageConf(tt.graphroot, tt.stores)
		md, err := toml.Decode(text, &c)
		if err != nil {
			t.Fatalf("StorageConf(%q): %v\n%s", tt.graphroot, err, text)
		}
		if u := md.Undecoded(); len(u) > 0 {
			t.Errorf("StorageConf: keys %v not decoded", u)
		}
		s := c.Storage
		if s.Driver != "overlay" || s.GraphRoot != tt.graphroot || s.RunRoot != "/run/containers/storage" || !reflect.DeepEqual(s.Options.AdditionalImageStores, tt.stores) {
			t.Errorf("StorageConf(%q, %q) = %+v", tt.graphroot, tt.stores, s)
		}
	}
}

func TestMountsUnder(t *testing.T) {
	info := `22 1 0:20 / / rw - rootfs rootfs rw
30 22 254:1 / /storage rw,noatime - ext4 /dev/vda1 rw
31 30 0:40 / /storage/containers/storage/overlay/abc/merged rw - overlay overlay rw
32 22 0:41 / /storage2 rw - tmpfs tmp rw
33 30 0:42 / /storage/with\040space rw - tmpfs tmp rw
`
	f := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(f, []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := mountsUnder(f, "/storage")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/storage/containers/storage/overlay/abc/merged", "/storage/with space", "/storage"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mountsUnder = %q, want %q", got, want)
	}
}
