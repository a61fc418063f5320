// Package image builds b2c's initramfs with u-root's builder (mkuimage):
// the supervisor (/init), podman built with the agent in it (/bin/init
// links to it), Debian's crun, conmon,
// mke2fs and static busybox (/bin/sh and the console's tools) with their
// shared libraries, CA certificates, the files of configs/ in /etc/containers and
// /etc/b2c.version. The archive is compressed with zstd as it is written:
// the kernel unpacks zstd several times faster than xz, for a few percent
// more bytes.
package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/cpio"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"

	"github.com/b2c-dev/b2c/init/mounts"
)

// Config says what goes in the image and where it goes.
type Config struct {
	Output string // the .cpio.zst to write
	Arch   string // GOARCH of the image: amd64 or arm64
	// Sysroot holds Debian's files of Arch when it is not the build
	// machine's (mkinitramfs/sysroot.sh lays it out): the host files
	// are taken from there when it has them, and their libraries
	// always are.
	Sysroot string
	// Agent is the Go package whose Register makes podman's binary the
	// agent, /bin/init: Build builds podman with it at Podman. "": Podman
	// is shipped as it is (a stand-in, in tests).
	Agent string
	// Supervisor is the Go package of /init, PID 1, which starts the
	// agent (init/pid1).
	Supervisor string
	Tags       []string // build tags of podman and the agent
	Tools      []string // u-root command packages, built as one gobusybox
	Applets    []string // paths in the image linked to /bin/busybox
	Podman     string   // podman's binary, shipped as /usr/bin/podman
	HostFiles  []string // "src" or "src:dst" files of the build machine
	Configs    string   // a directory whose files go in /etc/containers
	Version    string   // the contents of /etc/b2c.version
	Modules    string   // optional: a distribution kernel's /lib/modules/VERSION
	Base       string   // optional: an uncompressed newc cpio to merge in
	Level      zstd.EncoderLevel
	Window     int // zstd window in bytes: the kernel allocates it to unpack
}

// Defaults returns the configuration of `make initramfs`, relative to the
// repository's root.
func Defaults() Config {
	return Config{
		Output:     "out/initramfs.linux_amd64.cpio.zst",
		Arch:       "amd64",
		Agent:      "github.com/b2c-dev/b2c/init/agent",
		Supervisor: "github.com/b2c-dev/b2c/init/pid1",
		// Without the storage drivers the image lacks and without
		// cgo's gpgme.
		Tags: []string{"exclude_graphdriver_btrfs", "btrfs_noversion", "exclude_graphdriver_devicemapper", "containers_image_openpgp"},
		// One toolbox: Debian's static busybox (below), as the
		// original's: its ash is the /bin/sh that runs
		// b2c.shutdown_cmd, and its applets are the tools of the
		// console. u-root's (5.5 MB) can be added here for debugging.
		Tools:   nil,
		Applets: []string{"bin/sh", "bin/ls", "bin/cat", "bin/dmesg", "bin/ip", "bin/ps", "bin/mount", "sbin/poweroff", "sbin/reboot", "sbin/halt"},
		Podman:  "out/podman",
		HostFiles: []string{
			"/usr/bin/crun",
			"/usr/bin/conmon",
			"/sbin/mke2fs", // formats the cache partition (b2c.cache_device)
			"/sbin/e2fsck", // repairs it when it does not mount, before any reformat
			"/sbin/blkid",  // finds it, and tells labelled partitions to leave alone
			"/etc/ssl/certs/ca-certificates.crt",
			// b2c.keymap: Debian's loadkeys (kbd) and PC keymaps (console-data).
			"/usr/bin/loadkeys",
			"/usr/share/keymaps/i386",
			"/usr/share/keymaps/include",
			// The commands labs call in b2c.shutdown_cmd and
			// b2c.reboot_cmd ("poweroff -f"): Debian's static busybox.
			"/bin/busybox",
		},
		Configs: "configs",
		Version: "dev",
		// Measured on the 87 MB archive: the "better" level with an 8 MB
		// window is 4.5% smaller than the default level (32.0 MB vs
		// 33.5) for 1 s more; the best level saves 6% more for 5 s more.
		// An 8 MB window is what zstd -19 uses, which kernels unpack.
		Level:  zstd.SpeedBetterCompression,
		Window: 8 << 20,
	}
}

// Result is what Build wrote.
type Result struct {
	Raw, Compressed int64 // bytes of the cpio archive, of the .zst file
	Records         int   // files, directories, links and devices
}

// Build writes the image of cfg to cfg.Output, replacing it only once the
// whole image is written and checked.
func Build(l *llog.Logger, cfg Config) (Result, error) {
	arch, err := LookupArch(cfg.Arch)
	if err != nil {
		return Result{}, err
	}
	if cfg.Agent != "" {
		if err := buildPodman(cfg, arch); err != nil {
			return Result{}, err
		}
	}
	tmp, err := os.MkdirTemp("", "b2c-mkinitramfs-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	podman, err := squash(cfg.Podman, tmp)
	if err != nil {
		return Result{}, err
	}
	files, err := Files(cfg, podman)
	if err != nil {
		return Result{}, err
	}
	base := &baseArchive{records: Skeleton(cfg.Version), path: cfg.Base}
	defer base.close()
	out := &zstdOutput{path: cfg.Output, level: cfg.Level, window: cfg.Window}
	defer out.abort()

	mods := append(Modifiers(cfg),
		uimage.WithTempDir(tmp),
		uimage.WithFiles(files...),
		uimage.WithBase(base),
		uimage.WithOutput(out),
	)
	if cfg.Sysroot != "" {
		// Files has the libraries, from the sysroot; the host's ldd
		// cannot run a foreign architecture's ld.so.
		mods = append(mods, uimage.WithSkipLDD())
	}
	if err := uimage.Create(l, mods...); err != nil {
		return Result{}, fmt.Errorf("build initramfs: %w", err)
	}
	records := len(out.w.index)
	// podman's binary is checked as it is once its image is mounted.
	if err := out.w.index.AddFile(strings.TrimPrefix(mounts.PodmanBinary, "/"), cfg.Podman); err != nil {
		return Result{}, err
	}
	if err := out.w.index.Check(arch, Required(cfg, files)); err != nil {
		return Result{}, err
	}
	raw, compressed, err := out.commit()
	if err != nil {
		return Result{}, err
	}
	return Result{Raw: raw, Compressed: compressed, Records: records}, nil
}

// noForceRebuild undoes the -a that gobusybox passes to every go build:
// with it, each image recompiles the standard library and every
// dependency (minutes with podman's bindings) instead of using the build
// cache, which is keyed by content and so safe. A later flag wins.
const noForceRebuild = "-a=false"

// Modifiers returns mkuimage's build options for the Go programs of cfg:
// the supervisor alone in binary mode (/bin/<name>, /init links to it),
// small and static; /bin/init, a link to podman, which is the agent too;
// busybox's applets; and u-root tools, if any, as one gobusybox
// (/bbin/bb), each linked from /bin so that they are on the agent's PATH,
// gosh as /bin/sh (then not an applet).
func Modifiers(cfg Config) []uimage.Modifier {
	mods := []uimage.Modifier{
		// The supervisor runs on linux/cfg.Arch whatever builds it,
		// without libc.
		uimage.WithReplaceEnv(golang.Default(golang.DisableCGO(), golang.WithGOOS("linux"), golang.WithGOARCH(cfg.Arch))),
		uimage.WithBinaryCommandsOpts(&golang.BuildOpts{
			// Inlining, which mkuimage turns off by default for
			// size, as for the agent it watches.
			EnableInlining: true,
			ExtraArgs:      []string{noForceRebuild},
		}, cfg.Supervisor),
		uimage.WithInit(path.Base(cfg.Supervisor)),
		uimage.WithSymlink("usr/bin/podman", mounts.PodmanBinary),
		uimage.WithSymlink("bin/init", "/usr/bin/podman"),
	}
	for _, l := range cfg.Applets {
		mods = append(mods, uimage.WithSymlink(l, "/bin/busybox"))
	}
	if len(cfg.Tools) == 0 {
		return mods
	}
	mods = append(mods,
		uimage.WithBusyboxBuildOpts(&golang.BuildOpts{ExtraArgs: []string{noForceRebuild}}),
		uimage.WithBusyboxCommands(cfg.Tools...),
	)
	for _, t := range cfg.Tools {
		name := path.Base(t)
		if name == "gosh" {
			mods = append(mods, uimage.WithShell(name))
			continue
		}
		mods = append(mods, uimage.WithSymlink("bin/"+name, name))
	}
	return mods
}

// Required returns the paths Build checks for in the image: /init, the
// agent and podman, and the destinations of files, which are Files'
// output.
func Required(cfg Config, files []string) []string {
	req := []string{"init", "bin/init", "usr/bin/podman"}
	for _, f := range files {
		src, dst, _ := strings.Cut(f, ":")
		// Directories (kernel modules, keymaps) are shipped whole; the
		// check is of files.
		if st, err := os.Stat(src); err == nil && st.IsDir() {
			continue
		}
		req = append(req, dst)
	}
	return req
}

// baseArchive is an initramfs.ReadOpener of the skeleton's records, then
// those of an optional cpio file. mkuimage keeps the first record of a
// path and lets its own files win over the base's: the skeleton, and so
// /etc/b2c.version, wins over the extra cpio.
type baseArchive struct {
	records []cpio.Record
	path    string
	f       *os.File
}

// OpenReader implements initramfs.ReadOpener.
func (b *baseArchive) OpenReader() (cpio.RecordReader, error) {
	rs := []cpio.RecordReader{cpio.EOFReader{RecordReader: newRecordsReader(b.records)}}
	if b.path != "" {
		f, err := os.Open(b.path)
		if err != nil {
			return nil, fmt.Errorf("base archive: %w", err)
		}
		b.f = f
		rs = append(rs, cpio.EOFReader{RecordReader: cpio.Newc.Reader(f)})
	}
	return &chainReader{rs: rs, name: b.path}, nil
}

func (b *baseArchive) close() {
	if b.f != nil {
		b.f.Close()
	}
}

func newRecordsReader(rs []cpio.Record) cpio.RecordReader {
	a, _ := cpio.ArchiveFromRecords(rs) // never fails: an in-memory writer
	return a.Reader()
}

// chainReader reads its readers one after the other.
type chainReader struct {
	rs   []cpio.RecordReader
	name string
}

func (c *chainReader) ReadRecord() (cpio.Record, error) {
	for len(c.rs) > 0 {
		r, err := c.rs[0].ReadRecord()
		if errors.Is(err, io.EOF) {
			c.rs = c.rs[1:]
			continue
		}
		if err != nil {
			return cpio.Record{}, fmt.Errorf("base archive %s: %w", c.name, err)
		}
		return r, nil
	}
	return cpio.Record{}, io.EOF
}
