// Command mkinitramfs builds b2c's initramfs (see package image). Run it
// from the repository's root:
//
//	go run ./mkinitramfs -o out/initramfs.linux_amd64.cpio.zst -podman out/podman
//
// It builds podman with the agent in it at -podman, and ships it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/uio/llog"

	"github.com/b2c-dev/b2c/mkinitramfs/image"
	"github.com/b2c-dev/b2c/mkinitramfs/licenses"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		log.Fatalf("mkinitramfs: %v", err)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg := image.Defaults()
	fs := flag.NewFlagSet("mkinitramfs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Output, "o", "", "the zstd-compressed initramfs to write (default out/initramfs.linux_ARCH.cpio.zst)")
	fs.StringVar(&cfg.Arch, "arch", cfg.Arch, "the image's architecture: amd64 or arm64")
	fs.StringVar(&cfg.Sysroot, "sysroot", "", "Debian's files of -arch, when it is not this machine's: the output of mkinitramfs/sysroot.sh ARCH")
	tags := fs.String("tags", "", "more build tags of podman and the agent, comma-separated (the fault suite's test builds)")
	fs.StringVar(&cfg.Podman, "podman", "", "where to build podman, with the agent in it, that the image ships as /usr/bin/podman (default out/podman, out/podman.ARCH for another architecture)")
	fs.StringVar(&cfg.Configs, "configs", cfg.Configs, "the directory of the files shipped in /etc/containers")
	version := fs.String("version", "", "the contents of /etc/b2c.version (default: git describe --always --dirty, else \"dev\")")
	fs.StringVar(&cfg.Modules, "modules", "", "a distribution kernel's /lib/modules/VERSION to ship, for a kernel other than b2c's (which has every driver built in)")
	fs.StringVar(&cfg.Base, "base", "", "an uncompressed newc cpio archive to merge in (the image's own files win)")
	licenceDir := fs.String("licenses", "", "also write the licence texts of what the image contains, and where their sources are, into this directory (make release)")
	level := fs.Int("level", int(cfg.Level), "zstd level: 1 fastest, 2 default, 3 better, 4 best")
	verbose := fs.Bool("v", false, "print the builder's log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Output == "" {
		cfg.Output = "out/initramfs.linux_" + cfg.Arch + ".cpio.zst"
	}
	if cfg.Podman == "" {
		cfg.Podman = "out/podman"
		if cfg.Arch != runtime.GOARCH {
			cfg.Podman += "." + cfg.Arch
		}
	}
	cfg.Level = zstd.EncoderLevel(*level)
	if cfg.Level < zstd.SpeedFastest || cfg.Level > zstd.SpeedBestCompression {
		return fmt.Errorf("-level %d: want 1 to 4", *level)
	}
	if *tags != "" {
		cfg.Tags = append(cfg.Tags, strings.Split(*tags, ",")...)
	}
	cfg.Version = *version
	if cfg.Version == "" {
		cfg.Version = gitVersion()
	}
	lvl := slog.LevelWarn
	if *verbose {
		lvl = slog.LevelDebug
	}
	l := llog.New(lvl, func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) })
	start := time.Now()
	res, err := image.Build(l, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s): %d records, %.1f MB raw, %.1f MB zstd, in %.1fs\n",
		cfg.Output, cfg.Version, res.Records, float64(res.Raw)/1e6, float64(res.Compressed)/1e6, time.Since(start).Seconds())
	if *licenceDir == "" {
		return nil
	}
	if err := writeLicences(cfg.Output, *licenceDir, cfg.Sysroot); err != nil {
		return fmt.Errorf("licences: %w", err)
	}
	fmt.Fprintf(stdout, "%s: licence texts and SOURCES.md\n", *licenceDir)
	return nil
}

// writeLicences lists what the archive contains, with the licence texts
// from this machine's Go module cache and Debian's copyright files. With a
// sysroot, its own dpkg database (mkinitramfs/sysroot.sh) tells which of
// its packages a file comes from, and the host's tells for the rest (the
// architecture-independent data: keymaps, certificates).
func writeLicences(archive, dir, sysroot string) error {
	goenv, err := image.GoOutput("", "env", "GOMODCACHE", "GOROOT")
	if err != nil {
		return err
	}
	env := strings.Fields(goenv)
	if len(env) != 2 {
		return fmt.Errorf("go env GOMODCACHE GOROOT: %q", goenv)
	}
	cfg := licenses.Config{
		ModCache: env[0],
		GoRoot:   env[1],
		DocDir:   "/usr/share/doc",
		Own:      "LICENSE",
		// The kernel is built from it; its binary ships beside the archive.
		Extra:     []string{"linux-source-6.1"},
		Generated: map[string]string{"etc/ssl/certs/ca-certificates.crt": "ca-certificates"},
		Dpkg: func(ctx context.Context, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, "dpkg-query", args...).Output()
		},
	}
	if sysroot != "" {
		cfg.Dpkg = func(ctx context.Context, args ...string) ([]byte, error) {
			// Each database knows some of the paths or packages, and
			// dpkg-query exits 1 for the ones it does not: what both
			// print is the answer, the sysroot's first (it wins).
			own, _ := exec.CommandContext(ctx, "dpkg-query", append([]string{"--admindir=" + filepath.Join(sysroot, "var/lib/dpkg")}, args...)...).Output()
			host, _ := exec.CommandContext(ctx, "dpkg-query", args...).Output()
			// A package the sysroot's packages only name (kbd
			// recommends console-data) comes out of -W with no
			// version: the host's line is the one.
			var out []byte
			for _, line := range strings.SplitAfter(string(own), "\n") {
				if f := strings.Split(line, "\t"); len(f) > 1 && f[1] == "" {
					continue
				}
				out = append(out, line...)
			}
			return append(out, host...), nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	inv, err := licenses.Read(ctx, cfg, archive)
	if err != nil {
		return err
	}
	return licenses.Write(cfg, inv, dir)
}

// gitVersion describes the checkout mkinitramfs runs in, or returns "dev"
// outside of one (a source tarball).
func gitVersion() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return "dev"
}
