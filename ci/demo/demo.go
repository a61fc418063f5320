// Package demo boots b2c's demo: a registry on the host with a busybox
// image, and a VM whose one pipeline stage echoes a line. `make demo` and
// the boot benchmark both run it.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/b2c-dev/b2c/ci/images"
	"github.com/b2c-dev/b2c/ci/registry"
	"github.com/b2c-dev/b2c/ci/vm"
)

// Payload is what the demo container prints.
const Payload = "hello from b2c"

// Env is a registry holding the demo image.
type Env struct {
	Registry *registry.Registry
	Image    string // as the guest names it
	dir      string
}

// Setup starts a registry and pushes the demo image to it, for amd64 and
// arm64.
func Setup(ctx context.Context) (*Env, error) {
	dir, err := os.MkdirTemp("", "b2c-demo-registry-")
	if err != nil {
		return nil, err
	}
	r, err := registry.Start(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e := &Env{Registry: r, dir: dir}
	// One name for both architectures, as labs' images have.
	idx, err := images.MultiArchBusybox(ctx)
	if err == nil {
		err = images.PushIndex(ctx, idx, r.Addr()+"/b2c/demo:latest")
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Image = r.GuestAddr() + "/b2c/demo:latest"
	return e, nil
}

// Close stops the registry and removes its data.
func (e *Env) Close() {
	e.Registry.Close()
	os.RemoveAll(e.dir)
}

// Cmdline is the demo's b2c command line.
func (e *Env) Cmdline() string {
	return `b2c.run="--tls-verify=false docker://` + e.Image + ` echo ` + Payload + `"`
}

// Boot runs the demo VM to its end, with its console on log, and returns
// the VM (for timings) and the pipeline status. vm.Arch among opts boots
// another architecture's kernel and initramfs.
func (e *Env) Boot(ctx context.Context, kernel, initramfs string, log io.Writer, opts ...vm.Option) (*vm.VM, int, error) {
	all := append([]vm.Option{vm.Kernel(kernel), vm.Initramfs(initramfs), vm.Append(e.Cmdline()),
		vm.Timeout(5 * time.Minute), vm.Log(log)}, opts...)
	v, err := vm.Start(ctx, all...)
	if err != nil {
		return nil, 0, err
	}
	defer v.Kill()
	m, err := v.Expect(`\]: Execution is over, pipeline status: (\d+)$`)
	if err != nil {
		return v, 0, err
	}
	if err := v.Wait(); err != nil {
		return v, 0, fmt.Errorf("qemu: %w", err)
	}
	status, _ := strconv.Atoi(m[1])
	return v, status, nil
}
