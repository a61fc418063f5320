package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/b2c-dev/b2c/init/mounts"
)

// podmanModule is the module whose podman the image ships: the version
// the agent's bindings link, from the build list of b2c's go.mod.
const podmanModule = "github.com/containers/podman/v4"

// buildPodman builds podman's command for arch, with cfg.Agent in it, at
// cfg.Podman. Run as /bin/init, the binary is the agent (see
// agent.Register): one Go binary instead of two, which would each hold
// the Go runtime and the containers libraries.
//
// Go builds a module's package only as it is, and refuses an -overlay of
// the module cache: podman's main package is built from a copy of its
// files in a directory of b2c's module, out/_podman-*, beside one more
// file that calls Register. The "_" keeps the directory out of ./...
// patterns. Its name depends only on what the build depends on, so that
// the binary does not change from one build to the next (Go records the
// package's path in it), and builds with other tags can run beside it.
func buildPodman(cfg Config, arch Arch) error {
	root, err := GoOutput("", "env", "GOMOD")
	if err != nil {
		return err
	}
	root = filepath.Dir(root)
	var mod struct{ Dir, Version, Error string }
	raw, err := GoOutput(root, "mod", "download", "-json", podmanModule)
	if err == nil {
		err = json.Unmarshal([]byte(raw), &mod)
	}
	if err != nil || mod.Error != "" {
		return fmt.Errorf("find %s: %v %s", podmanModule, err, mod.Error)
	}
	key := sha256.Sum256([]byte(strings.Join(append([]string{mod.Version, cfg.Agent}, cfg.Tags...), "\n")))
	pkg := fmt.Sprintf("out/_podman-%s-%x", arch.GOARCH, key[:4])
	files, err := mainPackage(filepath.Join(mod.Dir, "cmd", "podman"))
	if err != nil {
		return err
	}
	files["zz_b2c_agent.go"] = []byte(registerAgent(cfg.Agent))
	if err := syncDir(filepath.Join(root, pkg), files); err != nil {
		return err
	}
	out, err := filepath.Abs(cfg.Podman)
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", strings.Join(cfg.Tags, ","), "-o", out, "./"+pkg)
	cmd.Dir = root
	// podman needs cgo: its overlay storage driver is not built
	// without it ("driver not supported").
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH="+arch.GOARCH)
	if arch.GOARCH != runtime.GOARCH && os.Getenv("CC") == "" {
		cmd.Env = append(cmd.Env, "CC="+arch.Triplet+"-gcc")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build podman %s with the agent: %v\n%s", mod.Version, err, b)
	}
	return nil
}

// registerAgent is the file added to podman's main package.
func registerAgent(pkg string) string {
	return fmt.Sprintf("// Added by b2c's mkinitramfs: podman's binary is b2c's agent too.\n\npackage main\n\nimport b2cagent %q\n\nfunc init() { b2cagent.Register() }\n", pkg)
}

// mainPackage reads the Go files of the package in dir, without its
// tests, by name.
func mainPackage(dir string) (map[string][]byte, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range es {
		name := e.Name()
		if !e.Type().IsRegular() || path.Ext(name) != ".go" || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if files[name], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// syncDir makes dir hold files and no other Go file. Each file is
// replaced whole (a rename), so that a build reading dir beside this one
// never reads half a file.
func syncDir(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		if _, ok := files[e.Name()]; !ok && path.Ext(e.Name()) == ".go" {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for name, b := range files {
		if old, err := os.ReadFile(filepath.Join(dir, name)); err == nil && bytes.Equal(old, b) {
			continue
		}
		tmp, err := os.CreateTemp(dir, ".tmp-")
		if err != nil {
			return err
		}
		_, err = tmp.Write(b)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), filepath.Join(dir, name))
		}
		if err != nil {
			os.Remove(tmp.Name())
			return err
		}
	}
	return nil
}

// GoOutput runs the go command in dir ("": the current one) and returns
// its trimmed output.
func GoOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

// squash writes podman's squashfs image, which holds the binary under
// the name of mounts.PodmanBinary, in dir and returns its path. zstd, as the initramfs: the
// kernel uncompresses a block when a page of it is first read.
func squash(podman, dir string) (string, error) {
	src := filepath.Join(dir, "podman-root")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	b, err := os.ReadFile(podman)
	if err != nil {
		return "", fmt.Errorf("podman binary: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, path.Base(mounts.PodmanBinary)), b, 0o755); err != nil {
		return "", err
	}
	img := filepath.Join(dir, "podman.sqfs")
	// Reproducible: no times, owners or extended attributes of the
	// build machine.
	cmd := exec.Command("mksquashfs", src, img, "-noappend", "-quiet", "-no-progress",
		"-comp", "zstd", "-Xcompression-level", "15", "-all-root", "-no-xattrs", "-mkfs-time", "0", "-all-time", "0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mksquashfs (apt-get install squashfs-tools): %v\n%s", err, out)
	}
	return img, nil
}
