// Package filesystems mounts the named file systems of b2c.filesystem
// (ext4 partitions, tmpfs, 9p shares, NFS exports) under one directory,
// where the cache, volumes and additional image stores find them by name.
package filesystems

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/mounts"
)

// Dir is where the file system NAME is mounted: Dir/NAME.
const Dir = "/mnt"

// Mount is one mount(2) call, written as the agent's other mounts are.
// Plan sets no Flags and no mount is Optional: each is asked for by name.
type Mount = mounts.Mount

// Network reports whether a file system type reaches a server: its mount
// needs the network, and may wait on a server that does not answer.
func Network(fstype string) bool {
	switch fstype {
	case "nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs":
		return true
	}
	return false
}

// Path returns where the file system name is mounted, under root.
func Path(root, name string) string { return filepath.Join(root, Dir, name) }

// Plan turns b2c.filesystem options into mounts under root.
func Plan(root string, fss []cmdline.Filesystem) []Mount {
	var out []Mount
	for _, fs := range fss {
		opts := append([]string(nil), fs.Opts...)
		if strings.HasPrefix(fs.Type, "nfs") {
			opts = nfsOpts(fs.Src, opts)
		}
		out = append(out, Mount{Source: fs.Src, Target: Path(root, fs.Name), Type: fs.Type, Data: strings.Join(opts, ",")})
	}
	return out
}

// Resolve adds addr= to an NFS mount whose server is a host name: the
// kernel's client takes an address only, and mount.nfs would have looked
// the name up. Plan cannot: the network is not up yet.
func Resolve(m Mount, lookup func(host string) ([]string, error)) (Mount, error) {
	if !strings.HasPrefix(m.Type, "nfs") {
		return m, nil
	}
	host, _, ok := strings.Cut(m.Source, ":")
	if !ok || net.ParseIP(host) != nil || hasOpt(strings.Split(m.Data, ","), "addr") {
		return m, nil
	}
	addrs, err := lookup(host)
	if err != nil {
		return m, fmt.Errorf("resolve the NFS server %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return m, fmt.Errorf("resolve the NFS server %s: no address", host)
	}
	if m.Data != "" {
		m.Data += ","
	}
	m.Data += "addr=" + addrs[0]
	return m, nil
}

func hasOpt(opts []string, k string) bool {
	for _, o := range opts {
		if o == k || strings.HasPrefix(o, k+"=") {
			return true
		}
	}
	return false
}

// nfsOpts adds what mount.nfs would: the kernel's NFS client takes the
// server's address as addr=, and there is no lock daemon in the image.
func nfsOpts(src string, opts []string) []string {
	has := func(k string) bool { return hasOpt(opts, k) }
	if host, _, ok := strings.Cut(src, ":"); ok && !has("addr") && net.ParseIP(host) != nil {
		opts = append(opts, "addr="+host)
	}
	if !has("nolock") && !has("lock") {
		opts = append(opts, "nolock")
	}
	return opts
}
