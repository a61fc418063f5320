// Command mkinitramfs builds b2c's initramfs (see package image).
//
//	go run ./mkinitramfs -o out/initramfs.linux_amd64.cpio.zst -podman out/podman
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/uio/llog"

	"github.com/b2c-dev/b2c/mkinitramfs/image"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		log.Fatalf("mkinitramfs: %v", err)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkinitramfs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := image.Config{}
	fs.StringVar(&cfg.Output, "o", "out/initramfs.linux_amd64.cpio.zst", "the initramfs to write")
	fs.StringVar(&cfg.Init, "init", "github.com/b2c-dev/b2c/init", "the agent's Go package, /init")
	fs.StringVar(&cfg.Podman, "podman", "out/podman", "the podman binary to ship")
	fs.StringVar(&cfg.Configs, "configs", "configs", "the directory shipped in /etc/containers")
	fs.StringVar(&cfg.Version, "version", "", "the version in /etc/b2c.version (default: git describe)")
	fs.StringVar(&cfg.Modules, "modules", "", "a distribution kernel's /lib/modules/VERSION to ship, for a kernel other than b2c's")
	level := fs.Int("level", 3, "zstd level: 1 fastest, 4 best")
	verbose := fs.Bool("v", false, "print the builder's log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Level = zstd.EncoderLevel(*level)
	if cfg.Version == "" {
		cfg.Version = gitVersion()
	}
	lvl := slog.LevelWarn
	if *verbose {
		lvl = slog.LevelInfo
	}
	l := llog.New(lvl, func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) })
	res, err := image.Build(l, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %.1f MB raw, %.1f MB zstd\n", cfg.Output, float64(res.Raw)/1e6, float64(res.Compressed)/1e6)
	return nil
}

func gitVersion() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(out))
}
