package volumes

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/b2c-dev/b2c/init/cmdline"
)

func TestPlanMounts(t *testing.T) {
	fss := []cmdline.Filesystem{{Name: "data", Type: "ext4", Src: "/dev/sdb1"}, {Name: "images", Type: "nfs", Src: "10.0.0.1:/srv"}}
	tests := []struct {
		name          string
		cacheDevice   string
		stores        []string
		wantFS        string
		wantMode      string
		wantWait      string
		wantStores    []string
		wantStoresErr string
	}{
		{name: "no cache option", wantMode: ""},
		{name: "auto", cacheDevice: "auto", wantMode: "auto"},
		{name: "a device is waited for", cacheDevice: "/dev/sda", wantMode: "/dev/sda", wantWait: "/dev/sda"},
		{name: "a file system is bound", cacheDevice: "data", wantFS: "data"},
		{name: "a name that is no file system is a mode", cacheDevice: "none", wantMode: "none"},
		{name: "image stores on file systems", cacheDevice: "auto", stores: []string{"images", "data"}, wantMode: "auto",
			wantStores: []string{"/mnt/images", "/mnt/data"}},
		{name: "image store on no file system", stores: []string{"images", "nope"}, wantStores: []string{"/mnt/images"},
			wantStoresErr: "b2c.storage: additionalimagestores=nope names no b2c.filesystem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &cmdline.Config{Filesystems: fss, CacheDevice: tt.cacheDevice, AdditionalImageStores: tt.stores}
			p := planMounts(cfg)
			if p.cacheFS != tt.wantFS || p.cacheMode != tt.wantMode || p.waitFor != tt.wantWait {
				t.Errorf("planMounts: cache fs %q, mode %q, wait %q; want %q, %q, %q",
					p.cacheFS, p.cacheMode, p.waitFor, tt.wantFS, tt.wantMode, tt.wantWait)
			}
			if !reflect.DeepEqual(p.stores, tt.wantStores) {
				t.Errorf("planMounts: stores %q, want %q", p.stores, tt.wantStores)
			}
			if got := errString(p.storesErr); got != tt.wantStoresErr {
				t.Errorf("planMounts: stores error %q, want %q", got, tt.wantStoresErr)
			}
			if len(p.filesystems) != 2 || p.filesystems[0].Target != "/mnt/data" {
				t.Errorf("planMounts: file systems %v, want data and images under /mnt", p.filesystems)
			}
		})
	}
}

func TestNeedsNetwork(t *testing.T) {
	for _, tt := range []struct {
		cmdline string
		want    bool
	}{
		{"b2c.cache_device=auto b2c.swap=/dev/sda2", false},
		{"b2c.filesystem=data,type=ext4,src=/dev/sdb1 b2c.filesystem=share,type=9p,src=share0", false},
		{"b2c.nbd=/dev/nbd0,host=gw,port=10809", true},
		{"b2c.filesystem=images,type=nfs,src=10.0.0.1:/srv", true},
		{"b2c.filesystem=images,type=nfs4,src=10.0.0.1:/srv", true},
		{"b2c.filesystem=share,type=cifs,src=//srv/share", true},
	} {
		r := cmdline.Parse(tt.cmdline)
		if got := NeedsNetwork(&r.Config); got != tt.want {
			t.Errorf("NeedsNetwork(%s) = %v, want %v", tt.cmdline, got, tt.want)
		}
	}
}

func TestGraphRoot(t *testing.T) {
	for _, tt := range []struct {
		cached bool
		want   string
	}{
		{false, "/var/lib/containers/storage"},
		{true, "/storage/containers/storage"},
	} {
		if got := graphRoot(tt.cached); got != tt.want {
			t.Errorf("graphRoot(%v) = %q, want %q", tt.cached, got, tt.want)
		}
	}
}

func TestPlanSwap(t *testing.T) {
	tests := []struct {
		name    string
		sw      cmdline.Swap
		cached  bool
		want    swapPlan
		wantErr string
	}{
		{name: "none", sw: cmdline.Swap{Swappiness: -1}, want: swapPlan{swappiness: -1}},
		{name: "device", sw: cmdline.Swap{Device: "/dev/sda2", Swappiness: -1},
			want: swapPlan{kind: swapDevice, path: "/dev/sda2", swappiness: -1}},
		{name: "device without cache", sw: cmdline.Swap{Device: "/dev/sda2", Swappiness: 10},
			want: swapPlan{kind: swapDevice, path: "/dev/sda2", swappiness: 10}},
		{name: "file on the cache", sw: cmdline.Swap{Size: 256 << 20, Swappiness: 60}, cached: true,
			want: swapPlan{kind: swapOnFile, path: "/storage/swapfile", size: 256 << 20, swappiness: 60}},
		{name: "file without cache", sw: cmdline.Swap{Size: 256 << 20, Swappiness: -1},
			want:    swapPlan{swappiness: -1},
			wantErr: "b2c.swap: a swap file needs a cache partition (b2c.cache_device)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planSwap(tt.sw, tt.cached)
			if got != tt.want || errString(err) != tt.wantErr {
				t.Errorf("planSwap(%+v, %v) = %+v, %q; want %+v, %q", tt.sw, tt.cached, got, errString(err), tt.want, tt.wantErr)
			}
		})
	}
}

func TestPlanVolume(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 64)
	b64 := base64.StdEncoding.EncodeToString(key)
	const encDir = "/storage/b2c-fscrypt/locked"
	encrypted := func(dir string) bool { return dir == encDir }
	tests := []struct {
		name    string
		v       cmdline.Volume
		cached  bool
		want    volumePlan
		wantErr string
	}{
		{name: "podman's own", v: cmdline.Volume{Name: "job"}, cached: true,
			want: volumePlan{name: "job", place: inPodman, expiration: "never"}},
		{name: "podman's own in RAM", v: cmdline.Volume{Name: "job", Expiration: "pipeline_end"},
			want: volumePlan{name: "job", place: inPodman, expiration: "pipeline_end"}},
		{name: "on a file system", v: cmdline.Volume{Name: "job", Filesystem: "data"},
			want: volumePlan{name: "job", place: onFilesystem, dir: "/mnt/data/job", filesystem: "data", expiration: "never"}},
		{name: "on a file system, its key is not used", v: cmdline.Volume{Name: "locked", Filesystem: "data", FscryptKey: b64},
			want: volumePlan{name: "locked", place: onFilesystem, dir: "/mnt/data/locked", filesystem: "data", expiration: "never"}},
		{name: "encrypted", v: cmdline.Volume{Name: "job", FscryptKey: b64}, cached: true,
			want: volumePlan{name: "job", place: onFscrypt, dir: "/storage/b2c-fscrypt/job", fscrypt: fscryptSetup, key: key, expiration: "never"}},
		{name: "encrypted anew", v: cmdline.Volume{Name: "locked", FscryptKey: b64, FscryptReset: true}, cached: true,
			want: volumePlan{name: "locked", place: onFscrypt, dir: encDir, fscrypt: fscryptReset, key: key, expiration: "never"}},
		{name: "encrypted without a cache", v: cmdline.Volume{Name: "job", FscryptKey: b64},
			want:    volumePlan{name: "job", expiration: "never"},
			wantErr: "volume job: fscrypt_key needs a cache partition (b2c.cache_device)"},
		{name: "encrypted directory without its key", v: cmdline.Volume{Name: "locked"}, cached: true,
			want:    volumePlan{name: "locked", expiration: "never"},
			wantErr: "volume locked is encrypted with fscrypt on the cache: it needs its fscrypt_key (its files are left as they are)"},
		{name: "key of the wrong size", v: cmdline.Volume{Name: "job", FscryptKey: "c2VjcmV0"}, cached: true,
			want:    volumePlan{name: "job", expiration: "never"},
			wantErr: "volume job: fscrypt_key is not the base64 of 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planVolume(tt.v, tt.cached, encrypted)
			if !reflect.DeepEqual(got, tt.want) || errString(err) != tt.wantErr {
				t.Errorf("planVolume(%s) = %+v, %q; want %+v, %q", tt.v.Name, got, errString(err), tt.want, tt.wantErr)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// lines returns a console's lines without their timestamps.
func lines(out string) []string {
	var l []string
	for _, s := range strings.Split(strings.TrimSpace(out), "\n") {
		if _, msg, ok := strings.Cut(s, "]: "); ok {
			s = msg
		}
		l = append(l, s)
	}
	return l
}
