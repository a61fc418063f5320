package cache

import (
	"os"
	"path/filepath"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

func TestWriteTable(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		wantErr bool
	}{
		{"1 GiB", 1 << 30, false},
		{"64 MiB", 64 << 20, false},
		{"smaller than the alignment", 512 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "disk.img")
			if err := os.WriteFile(img, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(img, tt.size); err != nil {
				t.Fatal(err)
			}
			err := writeTable(img)
			if (err != nil) != tt.wantErr {
				t.Fatalf("writeTable: %v, want error: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			d, err := diskfs.Open(img, diskfs.WithOpenMode(diskfs.ReadOnly))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			pt, err := d.GetPartitionTable()
			if err != nil {
				t.Fatal(err)
			}
			table, ok := pt.(*gpt.Table)
			if !ok {
				t.Fatalf("table is %T, want GPT", pt)
			}
			var parts []*gpt.Partition
			for _, p := range table.Partitions {
				if p.Start != 0 {
					parts = append(parts, p)
				}
			}
			if len(parts) != 1 {
				t.Fatalf("%d partitions, want 1", len(parts))
			}
			p := parts[0]
			if p.Name != Label || p.Start != 2048 || p.Type != gpt.LinuxFilesystem {
				t.Errorf("partition %q type %v from sector %d, want %q Linux from 2048", p.Name, p.Type, p.Start, Label)
			}
			if last := uint64(tt.size/512) - 34; p.End != last {
				t.Errorf("partition ends at sector %d, want %d", p.End, last)
			}
		})
	}
}
