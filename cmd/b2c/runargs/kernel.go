package runargs

import (
	"fmt"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/filesystems"
)

// MaxCmdline is the longest kernel command line Linux takes on x86 and
// arm64 (COMMAND_LINE_SIZE, the trailing NUL included); a longer one is
// cut.
const MaxCmdline = 2048

// CacheDevice is the cache disk in the guest: it is the VM's only disk.
const CacheDevice = "/dev/vda"

// shareTag names the 9p export of the i-th share, in QEMU and in the
// guest's b2c.filesystem.
func shareTag(i int) string { return fmt.Sprintf("b2cshare%d", i) }

// QEMUShares returns the host directories to export to the guest.
func (o Options) QEMUShares() []qemu.Share {
	var s []qemu.Share
	for i, sh := range o.Shares {
		s = append(s, qemu.Share{Tag: shareTag(i), Dir: sh.HostDir})
	}
	return s
}

// KernelArgs returns the kernel command line of the run, without
// console=, panic= and no_timer_check (qemu.KernelAppend adds them, for
// o.Arch, which must be one of qemu.Arches). image is the image
// as the guest names it; insecure makes the guest pull it over plain HTTP,
// for the registry inside b2c. --append comes last, so its options win
// over the ones b2c sets, and its b2c.run stages follow this one.
func (o Options) KernelArgs(image string, insecure bool) ([]string, error) {
	arch, err := qemu.LookupArch(o.Arch)
	if err != nil {
		return nil, err
	}
	var args []string
	var words []string
	if insecure {
		words = append(words, "--tls-verify=false")
	}
	for i, sh := range o.Shares {
		name := shareTag(i)
		// 9p2000.L keeps modes; msize 512000, the most Linux's virtio
		// transport takes, makes large files cross in big messages
		// instead of the default 8 KiB ones.
		args = append(args, fmt.Sprintf("b2c.filesystem=%s,type=9p,src=%s,opts=trans=virtio|version=9p2000.L|msize=512000", name, name))
		words = append(words, "-v", filesystems.Path("/", name)+":"+sh.ContainerPath)
	}
	if o.Cache != "" {
		args = append(args, "b2c.cache_device="+CacheDevice)
	}
	if o.Timeout > 0 {
		args = append(args, "b2c.timeout="+o.Timeout.String())
	}
	words = append(words, o.Podman...)
	words = append(words, image)
	words = append(words, o.Command...)
	run, err := cmdline.QuoteContainer(words)
	if err != nil {
		return nil, fmt.Errorf("the container's arguments: %w", err)
	}
	args = append(args, `b2c.run="`+run+`"`)
	args = append(args, o.Append...)
	if n := len(qemu.KernelAppend(arch, args)); n >= MaxCmdline {
		return nil, fmt.Errorf("the kernel command line is %d bytes, Linux takes %d at most", n, MaxCmdline-1)
	}
	return args, nil
}
