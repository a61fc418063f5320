// Command demo boots b2c's demo container in QEMU and exits with its
// pipeline status (`make demo`).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/b2c-dev/b2c/ci/demo"
	"github.com/b2c-dev/b2c/ci/vm"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(125)
	}
	os.Exit(code)
}

func run(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	arch := fs.String("arch", "amd64", "the VM's architecture: amd64 or arm64")
	kernel := fs.String("kernel", "out/bzImage", "the kernel")
	initramfs := fs.String("initramfs", "out/initramfs.linux_amd64.cpio.zst", "the initramfs")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env, err := demo.Setup(ctx)
	if err != nil {
		return 0, err
	}
	defer env.Close()
	v, status, err := env.Boot(ctx, *kernel, *initramfs, stdout, vm.Arch(*arch))
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "QEMU: %s\n", v.Accel())
	return status, nil
}
