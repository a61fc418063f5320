// The files of this directory ship in the image's /etc/containers. These
// tests read them with the types and parsers podman uses: a misspelt key
// is silently ignored by podman, and found out only at boot.
package configs_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/containers/common/pkg/config"
	"github.com/containers/image/v5/pkg/sysregistriesv2"
	"github.com/containers/image/v5/types"
)

// decodeStrict decodes a TOML file into v and fails on keys v lacks.
func decodeStrict(t *testing.T, file string, v any) {
	t.Helper()
	md, err := toml.DecodeFile(file, v)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Errorf("%s: unknown keys %v", file, u)
	}
}

func TestContainersConf(t *testing.T) {
	var c config.Config
	// podman's default, which the file must turn off.
	c.Containers.HTTPProxy = true
	decodeStrict(t, "containers.conf", &c)
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		// crun: "pivot_root: Invalid argument" from the initramfs' rootfs.
		{"no_pivot_root", c.Engine.NoPivotRoot, true},
		{"cgroup_manager", c.Engine.CgroupManager, "cgroupfs"},
		{"events_logger", c.Engine.EventsLogger, "file"},
		// Pure Go, unlike SQLite: works with podman built without cgo.
		{"database_backend", c.Engine.DBBackend, "boltdb"},
		{"runtime", c.Engine.OCIRuntime, "crun"},
		// Large images are staged next to the layers, not in RAM.
		{"image_copy_tmp_dir", c.Engine.ImageCopyTmpDir, "storage"},
		{"conmon_path", c.Engine.ConmonPath.Get(), []string{"/usr/bin/conmon"}},
		{"runtimes.crun", c.Engine.OCIRuntimes["crun"], []string{"/usr/bin/crun"}},
		// podman is built without its seccomp tag: it cannot load a profile.
		{"seccomp_profile", c.Containers.SeccompProfile, "unconfined"},
		// The service's proxy variables stay out of containers.
		{"http_proxy", c.Containers.HTTPProxy, false},
		// The agent passes --network=host: no default network here.
		{"netns", c.Containers.NetNS, ""},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("containers.conf: %s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func TestStorageConf(t *testing.T) {
	// The fields of containers/storage's (unexported) tomlConfig that the
	// image sets.
	var c struct {
		Storage struct {
			Driver    string `toml:"driver"`
			GraphRoot string `toml:"graphroot"`
			RunRoot   string `toml:"runroot"`
		} `toml:"storage"`
	}
	decodeStrict(t, "storage.conf", &c)
	s := c.Storage
	if s.Driver != "overlay" || s.GraphRoot != "/var/lib/containers/storage" || s.RunRoot != "/run/containers/storage" {
		t.Errorf("storage.conf = %+v, want overlay in /var/lib/containers/storage, /run/containers/storage", s)
	}
}

func TestRegistriesConf(t *testing.T) {
	sys := &types.SystemContext{
		SystemRegistriesConfPath: "registries.conf",
		// Not the build machine's registries.conf.d.
		SystemRegistriesConfDirPath: t.TempDir(),
	}
	regs, err := sysregistriesv2.UnqualifiedSearchRegistries(sys)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(regs, []string{"docker.io"}) {
		t.Errorf("unqualified-search-registries = %q, want docker.io", regs)
	}
	mode, err := sysregistriesv2.GetShortNameMode(sys)
	if err != nil {
		t.Fatal(err)
	}
	// Enforcing would ask the console's (absent) user to pick a registry.
	if mode != types.ShortNameModePermissive {
		t.Errorf("short-name-mode = %v, want permissive", mode)
	}
}

func TestPolicyJSON(t *testing.T) {
	b, err := os.ReadFile("policy.json")
	if err != nil {
		t.Fatal(err)
	}
	// The shape of containers/image's signature.Policy; decoding it with
	// that package would need the gpgme or openpgp build tags.
	var p struct {
		Default []struct {
			Type string `json:"type"`
		} `json:"default"`
		Transports map[string]any `json:"transports"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		t.Fatalf("policy.json: %v", err)
	}
	if len(p.Default) != 1 || p.Default[0].Type != "insecureAcceptAnything" || len(p.Transports) != 0 {
		t.Errorf("policy.json = %+v, want to accept any image", p)
	}
}
