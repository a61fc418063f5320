package image

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseHostFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "crun")
	if err := os.WriteFile(file, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("crun", link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in      string
		want    hostFile
		wantErr string
	}{
		{in: file, want: hostFile{file, strings.TrimPrefix(file, "/")}},
		{in: file + ":usr/bin/crun", want: hostFile{file, "usr/bin/crun"}},
		{in: file + ":/usr/bin/crun", want: hostFile{file, "usr/bin/crun"}},
		// A link ships as the file it points to, under the link's name.
		{in: link + ":usr/bin/crun", want: hostFile{file, "usr/bin/crun"}},
		{in: "", wantErr: "want src"},
		{in: file + ":", wantErr: "want src"},
		{in: ":usr/bin/crun", wantErr: "want src"},
		{in: "relative", wantErr: "absolute path"},
		{in: filepath.Join(dir, "missing"), wantErr: "no such file"},
	} {
		got, err := parseHostFile(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseHostFile(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseHostFile(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestConfigFiles(t *testing.T) {
	for _, tt := range []struct {
		name    string
		files   []string // created empty in the directory; a trailing / makes a directory
		want    []string // destinations
		wantErr string
	}{
		{
			name:  "sorted",
			files: []string{"storage.conf", "policy.json", "containers.conf"},
			want:  []string{"etc/containers/containers.conf", "etc/containers/policy.json", "etc/containers/storage.conf"},
		},
		{
			name:  "skips tests, hidden files and directories",
			files: []string{"policy.json", "configs_test.go", ".policy.json.swp", "registries.d/"},
			want:  []string{"etc/containers/policy.json"},
		},
		{name: "empty", files: []string{"configs_test.go"}, wantErr: "no file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				var err error
				if strings.HasSuffix(f, "/") {
					err = os.Mkdir(p, 0o755)
				} else {
					err = os.WriteFile(p, nil, 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			fs, err := configFiles(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("configFiles = %v, %v; want error containing %q", fs, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				if filepath.Dir(f.src) != dir {
					t.Errorf("%v: source outside %s", f, dir)
				}
				got = append(got, f.dst)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("configFiles = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	podman := write("podman")
	crun := write("crun")
	write("configs/policy.json")
	write("modules/6.1.0-28-amd64/modules.dep")
	base := Config{Podman: podman, HostFiles: []string{crun + ":usr/bin/crun"}, Configs: filepath.Join(dir, "configs")}
	withModules := base
	withModules.Modules = filepath.Join(dir, "modules/6.1.0-28-amd64") + "/"
	noPodman := base
	noPodman.Podman = filepath.Join(dir, "missing")
	notDir := base
	notDir.Modules = crun

	for _, tt := range []struct {
		name    string
		cfg     Config
		want    []string
		wantErr string
	}{
		{
			name: "default kernel",
			cfg:  base,
			want: []string{podman + ":usr/lib/b2c/podman.sqfs", crun + ":usr/bin/crun", filepath.Join(dir, "configs/policy.json") + ":etc/containers/policy.json"},
		},
		{
			name: "distribution kernel",
			cfg:  withModules,
			want: []string{
				podman + ":usr/lib/b2c/podman.sqfs", crun + ":usr/bin/crun", filepath.Join(dir, "configs/policy.json") + ":etc/containers/policy.json",
				withModules.Modules + ":lib/modules/6.1.0-28-amd64",
			},
		},
		{name: "no podman", cfg: noPodman, wantErr: "podman's image"},
		{name: "modules not a directory", cfg: notDir, wantErr: "not a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Files(tt.cfg, tt.cfg.Podman)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Files = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Files = %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	// Directories on the host (modules, keymaps) are shipped whole and
	// not checked as files.
	dir := t.TempDir()
	files := []string{"/p:usr/lib/b2c/podman.sqfs", "/c:usr/bin/crun", dir + ":lib/modules/6.1.0", dir + ":usr/share/keymaps/i386"}
	want := []string{"init", "bin/init", "usr/bin/podman", "usr/lib/b2c/podman.sqfs", "usr/bin/crun"}
	if got := Required(Config{}, files); !reflect.DeepEqual(got, want) {
		t.Errorf("Required = %q, want %q", got, want)
	}
}
