// Package podmanargs reads a container's `podman create` arguments (a
// b2c.run value) as podman does, without podman: it cuts them into flags,
// image and command, shows the defaults b2c adds, and refuses what
// podman's flag parser refuses. Its table of podman create's flags is
// generated from podman's own definitions (package podmanspec checks that
// it still matches them), so the host CLI builds with no tags and no cgo.
// The values of the flags (a memory size, a mount) are checked by
// podmanspec, which needs podman's spec code.
package podmanargs

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

//go:generate go run -tags "remote exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp" ../podmanspec/internal/genflags -o createflags.go

// Defaults are the flags every b2c container gets unless its own arguments
// set them (docs/cmdline.md, b2c.run). The OCI runtime, crun without
// pivot_root, comes from the image's containers.conf.
var Defaults = []struct{ Name, Value string }{
	{"privileged", "true"},
	{"network", "host"},
	{"pull", "always"},
}

// FinalArgs returns args with the defaults they do not override in front,
// as `b2c explain` shows them.
func FinalArgs(args []string) ([]string, error) {
	fs, err := parse(args)
	if err != nil {
		return nil, err
	}
	var final []string
	for _, d := range Defaults {
		if !fs.Changed(d.Name) {
			final = append(final, "--"+d.Name+"="+d.Value)
		}
	}
	return append(final, args...), nil
}

// Split cuts `podman create` arguments into the flags, the image and the
// command: which flags take a value decides where the image is.
func Split(args []string) (flags []string, image string, command []string, err error) {
	fs, err := parse(args)
	if err != nil {
		return nil, "", nil, err
	}
	pos := fs.Args()
	flags = args[:len(args)-len(pos)]
	if n := len(flags); n > 0 && flags[n-1] == "--" {
		// "--" ends podman's flags; the image follows it.
		flags = flags[:n-1]
	}
	return flags, pos[0], pos[1:], nil
}

// Check returns what the agent would refuse in args before it reads the
// flags' values: an unknown flag, a value of the wrong type, no image,
// flags that exclude each other, an unknown --pull policy. Its errors read
// as podmanspec.Parse's.
func Check(args []string) error {
	fs, err := parse(args)
	if err != nil {
		return err
	}
	network := "host" // Defaults
	if fs.Changed("network") {
		nets, err := fs.GetStringArray("network")
		if err != nil {
			return err
		}
		network = nets[0]
	}
	if err := Conflicts(fs, netMode(network)); err != nil {
		return err
	}
	if fs.Changed("pull") {
		pull, err := fs.GetString("pull")
		if err != nil {
			return err
		}
		return checkPull(pull)
	}
	return nil
}

// ParseInto parses args with fs, a set of podman create's flags (this
// package's table, or podman's own definitions in podmanspec), as podman
// does: the flags stop at the image. It fails when no image follows them.
func ParseInto(fs *pflag.FlagSet, args []string) error {
	fs.SetInterspersed(false)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("podman create flags: %w", err)
	}
	if fs.NArg() == 0 {
		return errors.New("no image given")
	}
	return nil
}

// Conflicts returns the error of podman's CreateInit for flags of fs that
// exclude each other. netMode is the mode of the network namespace:
// "none", "container" or another.
func Conflicts(fs *pflag.FlagSet, netMode string) error {
	// The types of these flags are the table's, which podmanspec checks
	// against podman's: the Get calls cannot fail.
	uidmap, _ := fs.GetStringSlice("uidmap")
	gidmap, _ := fs.GetStringSlice("gidmap")
	subuid, _ := fs.GetString("subuidname")
	subgid, _ := fs.GetString("subgidname")
	if (len(uidmap) > 0 || len(gidmap) > 0 || subuid != "" || subgid != "") && fs.Changed("userns") {
		return errors.New("--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive")
	}
	if fs.Changed("cpu-period") && fs.Changed("cpus") {
		return errors.New("--cpu-period and --cpus cannot be set together")
	}
	if fs.Changed("cpu-quota") && fs.Changed("cpus") {
		return errors.New("--cpu-quota and --cpus cannot be set together")
	}
	if (fs.Changed("dns") || fs.Changed("dns-option") || fs.Changed("dns-search")) &&
		(netMode == "none" || netMode == "container") {
		return fmt.Errorf("conflicting options: dns and the network mode %s", netMode)
	}
	return nil
}

// netMode is the mode podman's specgen.ParseNetworkFlag gives the first
// --network value, as far as Conflicts tells them apart.
func netMode(network string) string {
	switch {
	case network == "none":
		return "none"
	case strings.HasPrefix(network, "container:"):
		return "container"
	}
	return network
}

// checkPull accepts the policies of containers/common's
// config.ParsePullPolicy, with its error.
func checkPull(s string) error {
	switch s {
	case "always", "Always",
		"missing", "Missing", "ifnotpresent", "IfNotPresent", "",
		"newer", "Newer", "ifnewer", "IfNewer",
		"never", "Never":
		return nil
	}
	return fmt.Errorf("--pull: unsupported pull policy %q", s)
}

// parse parses args with the table of podman create's flags.
func parse(args []string) (*pflag.FlagSet, error) {
	fs, err := flagSet(CreateFlags())
	if err != nil {
		return nil, err
	}
	return fs, ParseInto(fs, args)
}

// flagSet defines flags on a new set, with podman's aliases.
func flagSet(flags []Flag) (*pflag.FlagSet, error) {
	fs := pflag.NewFlagSet("create", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	aliases := Aliases()
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if n, ok := aliases[name]; ok {
			name = n
		}
		return pflag.NormalizedName(name)
	})
	for _, f := range flags {
		switch f.Type {
		case "bool":
			fs.BoolP(f.Name, f.Shorthand, false, "")
		case "string":
			fs.StringP(f.Name, f.Shorthand, "", "")
		case "stringArray":
			fs.StringArrayP(f.Name, f.Shorthand, nil, "")
		case "stringSlice":
			fs.StringSliceP(f.Name, f.Shorthand, nil, "")
		case "int":
			fs.IntP(f.Name, f.Shorthand, 0, "")
		case "int64":
			fs.Int64P(f.Name, f.Shorthand, 0, "")
		case "uint":
			fs.UintP(f.Name, f.Shorthand, 0, "")
		case "uint64":
			fs.Uint64P(f.Name, f.Shorthand, 0, "")
		case "float64":
			fs.Float64P(f.Name, f.Shorthand, 0, "")
		default:
			return nil, fmt.Errorf("podman create flag --%s: type %s unknown to podmanargs", f.Name, f.Type)
		}
		fs.Lookup(f.Name).NoOptDefVal = f.NoOptDefVal
	}
	return fs, nil
}

// Bool returns the value of a boolean flag of podman create in args
// (flags, image, command): "interactive", "tty".
func Bool(args []string, name string) (bool, error) {
	fs, err := parse(args)
	if err != nil {
		return false, err
	}
	return fs.GetBool(name)
}
