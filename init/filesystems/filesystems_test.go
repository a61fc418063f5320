package filesystems

import (
	"reflect"
	"testing"

	"github.com/b2c-dev/b2c/init/cmdline"
)

func TestPlan(t *testing.T) {
	for _, tt := range []struct {
		fs   cmdline.Filesystem
		want Mount
	}{
		{cmdline.Filesystem{Name: "scratch", Type: "tmpfs", Src: "none", Opts: []string{"size=10M"}},
			Mount{"none", "/r/mnt/scratch", "tmpfs", "size=10M"}},
		{cmdline.Filesystem{Name: "data", Type: "ext4", Src: "/dev/vdb"},
			Mount{"/dev/vdb", "/r/mnt/data", "ext4", ""}},
		{cmdline.Filesystem{Name: "share", Type: "9p", Src: "share0", Opts: []string{"trans=virtio", "version=9p2000.L"}},
			Mount{"share0", "/r/mnt/share", "9p", "trans=virtio,version=9p2000.L"}},
		{cmdline.Filesystem{Name: "nfs", Type: "nfs", Src: "10.0.2.2:/export", Opts: []string{"vers=3"}},
			Mount{"10.0.2.2:/export", "/r/mnt/nfs", "nfs", "vers=3,addr=10.0.2.2,nolock"}},
		{cmdline.Filesystem{Name: "nfs", Type: "nfs", Src: "server:/export", Opts: []string{"addr=10.0.0.1", "lock"}},
			Mount{"server:/export", "/r/mnt/nfs", "nfs", "addr=10.0.0.1,lock"}},
	} {
		got := Plan("/r", []cmdline.Filesystem{tt.fs})
		if !reflect.DeepEqual(got, []Mount{tt.want}) {
			t.Errorf("Plan(%+v) = %+v, want %+v", tt.fs, got, tt.want)
		}
	}
}
