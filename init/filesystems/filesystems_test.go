package filesystems

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/b2c-dev/b2c/init/cmdline"
)

func TestPlan(t *testing.T) {
	for _, tt := range []struct {
		fs   cmdline.Filesystem
		want Mount
		// str is how errors name the mount.
		str string
	}{
		{cmdline.Filesystem{Name: "scratch", Type: "tmpfs", Src: "none", Opts: []string{"size=10M"}},
			Mount{Source: "none", Target: "/r/mnt/scratch", Type: "tmpfs", Data: "size=10M"},
			"mount -t tmpfs none /r/mnt/scratch -o size=10M"},
		{cmdline.Filesystem{Name: "data", Type: "ext4", Src: "/dev/vdb"},
			Mount{Source: "/dev/vdb", Target: "/r/mnt/data", Type: "ext4"},
			"mount -t ext4 /dev/vdb /r/mnt/data"},
		{cmdline.Filesystem{Name: "share", Type: "9p", Src: "share0", Opts: []string{"trans=virtio", "version=9p2000.L"}},
			Mount{Source: "share0", Target: "/r/mnt/share", Type: "9p", Data: "trans=virtio,version=9p2000.L"},
			"mount -t 9p share0 /r/mnt/share -o trans=virtio,version=9p2000.L"},
		{cmdline.Filesystem{Name: "nfs", Type: "nfs", Src: "10.0.2.2:/export", Opts: []string{"vers=3"}},
			Mount{Source: "10.0.2.2:/export", Target: "/r/mnt/nfs", Type: "nfs", Data: "vers=3,addr=10.0.2.2,nolock"},
			"mount -t nfs 10.0.2.2:/export /r/mnt/nfs -o vers=3,addr=10.0.2.2,nolock"},
		{cmdline.Filesystem{Name: "nfs", Type: "nfs", Src: "server:/export", Opts: []string{"addr=10.0.0.1", "lock"}},
			Mount{Source: "server:/export", Target: "/r/mnt/nfs", Type: "nfs", Data: "addr=10.0.0.1,lock"},
			"mount -t nfs server:/export /r/mnt/nfs -o addr=10.0.0.1,lock"},
	} {
		got := Plan("/r", []cmdline.Filesystem{tt.fs})
		if !reflect.DeepEqual(got, []Mount{tt.want}) {
			t.Errorf("Plan(%+v) = %+v, want %+v", tt.fs, got, tt.want)
		}
		if got := tt.want.String(); got != tt.str {
			t.Errorf("%+v.String() = %q, want %q", tt.want, got, tt.str)
		}
	}
}

func TestResolve(t *testing.T) {
	lookup := func(host string) ([]string, error) {
		if host == "ci-gateway" {
			return []string{"10.42.0.1", "fd00::1"}, nil
		}
		return nil, fmt.Errorf("no such host")
	}
	for _, tt := range []struct {
		in      Mount
		want    string // Data
		wantErr string
	}{
		{Mount{Source: "ci-gateway:/srv", Type: "nfs", Data: "ro,nolock"}, "ro,nolock,addr=10.42.0.1", ""},
		{Mount{Source: "ci-gateway:/srv", Type: "nfs4"}, "addr=10.42.0.1", ""},
		{Mount{Source: "ci-gateway:/srv", Type: "nfs", Data: "addr=10.0.0.9"}, "addr=10.0.0.9", ""},
		{Mount{Source: "10.0.2.2:/srv", Type: "nfs", Data: "addr=10.0.2.2,nolock"}, "addr=10.0.2.2,nolock", ""},
		{Mount{Source: "/dev/vda", Type: "ext4", Data: "noatime"}, "noatime", ""},
		{Mount{Source: "nowhere:/srv", Type: "nfs"}, "", "resolve the NFS server nowhere: no such host"},
	} {
		got, err := Resolve(tt.in, lookup)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Resolve(%v) = %v, want error %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Data != tt.want {
			t.Errorf("Resolve(%v) = %q, %v; want %q", tt.in, got.Data, err, tt.want)
		}
	}
}
