package volumes

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
)

// fakePodman records the volumes it is asked to make.
type fakePodman struct {
	expired    []string
	expiredErr error
	ensureErr  error
	made       []string
}

func (f *fakePodman) RemoveExpired(context.Context) ([]string, error) {
	return f.expired, f.expiredErr
}

func (f *fakePodman) EnsureVolume(_ context.Context, name, dir, expiration string) error {
	f.made = append(f.made, fmt.Sprintf("%s dir=%q %s", name, dir, expiration))
	return f.ensureErr
}

func (f *fakePodman) VolumeDir(_ context.Context, name string) (string, error) {
	return "", errors.New("no mirror in these tests")
}

// TestSetupVolumes: the expired volumes go first, then each volume is
// made in order, and the first that cannot be stops the others. Only
// volumes that need no root here: podman's own, or an fscrypt key
// without a cache.
func TestSetupVolumes(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 64))
	tests := []struct {
		name      string
		vols      []cmdline.Volume
		podman    fakePodman
		wantMade  []string
		wantLines []string
		wantErr   string
	}{
		{name: "nothing to do", wantLines: nil},
		{name: "expired volumes of an earlier run", podman: fakePodman{expired: []string{"a", "b"}},
			vols:      []cmdline.Volume{{Name: "job", Expiration: "pipeline_end"}},
			wantMade:  []string{`job dir="" pipeline_end`},
			wantLines: []string{"Removed the expired volumes of an earlier run: a, b"}},
		{name: "expired volumes unlisted", podman: fakePodman{expiredErr: errors.New("list expired volumes: no")},
			vols:      []cmdline.Volume{{Name: "job"}},
			wantMade:  []string{`job dir="" never`},
			wantLines: []string{"WARNING: list expired volumes: no"}},
		{name: "a volume that cannot be made stops the others",
			vols:     []cmdline.Volume{{Name: "a"}, {Name: "b", FscryptKey: key}, {Name: "c"}},
			wantMade: []string{`a dir="" never`},
			wantErr:  "volume b: fscrypt_key needs a cache partition (b2c.cache_device)"},
		{name: "podman's error", podman: fakePodman{ensureErr: errors.New("create volume a: no")},
			vols:     []cmdline.Volume{{Name: "a"}, {Name: "b"}},
			wantMade: []string{`a dir="" never`},
			wantErr:  "create volume a: no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			con := console.New(&out, func() time.Duration { return 0 }, time.Now)
			s := New(con, &cmdline.Config{Volumes: tt.vols}, nil)
			p := tt.podman
			err := s.setupVolumes(t.Context(), &p)
			if errString(err) != tt.wantErr {
				t.Errorf("setupVolumes: %v, want %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(p.made, tt.wantMade) {
				t.Errorf("setupVolumes made %q, want %q", p.made, tt.wantMade)
			}
			var got []string
			if out.Len() > 0 {
				got = lines(out.String())
			}
			if !reflect.DeepEqual(got, tt.wantLines) {
				t.Errorf("setupVolumes printed %q, want %q", got, tt.wantLines)
			}
		})
	}
}
