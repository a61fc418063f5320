// Package image builds b2c's initramfs with u-root's builder (mkuimage):
// the agent as /init, a few u-root tools for debugging, podman, Debian's
// crun, conmon and mke2fs with their shared libraries, CA certificates,
// the files of configs/ and /etc/b2c.version; then compresses it with
// zstd, which the kernel unpacks about 4x faster than xz.
package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"
)

// AgentTags are the build tags of the agent: podman's bindings in remote
// mode, without the storage drivers and the cgo OpenPGP the image lacks.
var AgentTags = []string{"remote", "exclude_graphdriver_btrfs", "btrfs_noversion", "exclude_graphdriver_devicemapper", "containers_image_openpgp"}

// Tools are the u-root commands shipped for debugging on the console.
var Tools = []string{
	"github.com/u-root/u-root/cmds/core/gosh",
	"github.com/u-root/u-root/cmds/core/ls",
	"github.com/u-root/u-root/cmds/core/cat",
	"github.com/u-root/u-root/cmds/core/dmesg",
	"github.com/u-root/u-root/cmds/core/ip",
	"github.com/u-root/u-root/cmds/core/ps",
	"github.com/u-root/u-root/cmds/core/mount",
}

// HostFiles are files of the build machine shipped at the same path; their
// shared libraries come along (mkuimage resolves them with ldd).
var HostFiles = []string{
	"/usr/bin/crun",
	"/usr/bin/conmon",
	"/sbin/mke2fs",
	"/etc/ssl/certs/ca-certificates.crt",
}

// Config says what goes in the image.
type Config struct {
	Output    string // the .cpio.zst to write
	Init      string // the agent's Go package
	Podman    string // a podman binary built from the module's version
	Configs   string // the configs/ directory, shipped in /etc/containers
	Version   string // written to /etc/b2c.version
	Modules   string // optional: /lib/modules/VERSION of a distribution kernel
	ExtraFile []string
	Level     zstd.EncoderLevel
}

// Result is what Build made.
type Result struct {
	Raw, Compressed int64
}

// Files returns the host:archive file list of cfg, for mkuimage.
func Files(cfg Config, versionFile string) ([]string, error) {
	files := []string{cfg.Podman + ":usr/bin/podman", versionFile + ":etc/b2c.version"}
	for _, f := range HostFiles {
		files = append(files, f)
	}
	entries, err := os.ReadDir(cfg.Configs)
	if err != nil {
		return nil, fmt.Errorf("read configs %s: %w", cfg.Configs, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, filepath.Join(cfg.Configs, n)+":etc/containers/"+n)
	}
	if cfg.Modules != "" {
		rel, err := filepath.Rel("/", cfg.Modules)
		if err != nil {
			return nil, err
		}
		files = append(files, cfg.Modules+":"+rel)
	}
	return append(files, cfg.ExtraFile...), nil
}

// Build writes the initramfs of cfg.
func Build(l *llog.Logger, cfg Config) (Result, error) {
	tmp, err := os.MkdirTemp("", "b2c-initramfs-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	versionFile := filepath.Join(tmp, "b2c.version")
	if err := os.WriteFile(versionFile, []byte(cfg.Version+"\n"), 0o644); err != nil {
		return Result{}, err
	}
	files, err := Files(cfg, versionFile)
	if err != nil {
		return Result{}, err
	}
	for _, f := range []string{cfg.Podman} {
		if _, err := os.Stat(f); err != nil {
			return Result{}, fmt.Errorf("podman binary: %w", err)
		}
	}
	raw := filepath.Join(tmp, "initramfs.cpio")
	env := golang.Default(golang.DisableCGO(), golang.WithGOARCH("amd64"), golang.WithGOOS("linux"))
	buildDir := filepath.Join(tmp, "build")
	if err := os.Mkdir(buildDir, 0o755); err != nil {
		return Result{}, err
	}
	err = uimage.Create(l,
		uimage.WithReplaceEnv(env),
		uimage.WithTempDir(buildDir),
		// The agent is its own binary: it needs build tags the tools do
		// not, and inlining, since it is the boot path.
		uimage.WithBinaryCommandsOpts(&golang.BuildOpts{EnableInlining: true, ExtraArgs: []string{"-tags", joinTags(AgentTags)}}, cfg.Init),
		uimage.WithBusyboxCommands(Tools...),
		uimage.WithInit(filepath.Base(cfg.Init)),
		uimage.WithShell("gosh"),
		uimage.WithFiles(files...),
		uimage.WithCPIOOutput(raw),
	)
	if err != nil {
		return Result{}, fmt.Errorf("build initramfs: %w", err)
	}
	return compress(raw, cfg.Output, cfg.Level)
}

func joinTags(t []string) string {
	s := ""
	for i, x := range t {
		if i > 0 {
			s += ","
		}
		s += x
	}
	return s
}

func compress(raw, out string, level zstd.EncoderLevel) (Result, error) {
	in, err := os.Open(raw)
	if err != nil {
		return Result{}, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return Result{}, err
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(tmp)
	// The kernel's zstd decoder wants a bounded window.
	w, err := zstd.NewWriter(f, zstd.WithEncoderLevel(level), zstd.WithWindowSize(1<<20))
	if err != nil {
		f.Close()
		return Result{}, err
	}
	n, err := io.Copy(w, in)
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{}, fmt.Errorf("compress %s: %w", out, err)
	}
	st, err := os.Stat(tmp)
	if err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return Result{}, err
	}
	return Result{Raw: n, Compressed: st.Size()}, nil
}
