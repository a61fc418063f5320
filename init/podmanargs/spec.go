// Package podmanargs parses a container's `podman create` arguments (a
// b2c.run value) with podman's own flag definitions and spec code: it cuts
// them into flags, image and command, shows the defaults b2c adds, and
// turns them into the spec the engine (package podman) creates. It talks to
// no service, so the host CLI checks the values exactly as the agent will.
package podmanargs

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containers/common/pkg/config"
	"github.com/containers/image/v5/types"
	"github.com/containers/podman/v4/cmd/podman/common"
	"github.com/containers/podman/v4/cmd/podman/utils"
	"github.com/containers/podman/v4/pkg/domain/entities"
	"github.com/containers/podman/v4/pkg/specgen"
	"github.com/containers/podman/v4/pkg/specgenutil"
	"github.com/spf13/cobra"
)

// Request is one container to pull, create and run.
type Request struct {
	Image         string // as given, without the docker:// prefix
	Spec          *specgen.SpecGenerator
	PullPolicy    config.PullPolicy
	SkipTLSVerify types.OptionalBool
	Authfile      string
	Interactive   bool // -i: the console is its stdin
	TTY           bool // -t
}

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
	cmd, _, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	var final []string
	for _, d := range Defaults {
		if !cmd.Flags().Changed(d.Name) {
			final = append(final, "--"+d.Name+"="+d.Value)
		}
	}
	return append(final, args...), nil
}

func parseFlags(args []string) (*cobra.Command, *entities.ContainerCreateOptions, error) {
	var vals entities.ContainerCreateOptions
	cmd := &cobra.Command{Use: "create", SilenceErrors: true, SilenceUsage: true}
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	// The flags' defaults come from vals: without these, an unset
	// --memory-swappiness is 0, which crun refuses on cgroup v2.
	common.DefineCreateDefaults(&vals)
	common.DefineCreateFlags(cmd, &vals, entities.CreateMode)
	common.DefineNetFlags(cmd)
	flags.SetNormalizeFunc(utils.AliasFlags)
	if err := flags.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("podman create flags: %w", err)
	}
	if len(flags.Args()) == 0 {
		return nil, nil, errors.New("no image given")
	}
	return cmd, &vals, nil
}

// Split cuts `podman create` arguments into the flags, the image and the
// command, with podman's own flag definitions: which flags take a value
// decides where the image is.
func Split(args []string) (flags []string, image string, command []string, err error) {
	cmd, _, err := parseFlags(args)
	if err != nil {
		return nil, "", nil, err
	}
	pos := cmd.Flags().Args()
	flags = args[:len(args)-len(pos)]
	if n := len(flags); n > 0 && flags[n-1] == "--" {
		// "--" ends podman's flags; the image follows it.
		flags = flags[:n-1]
	}
	return flags, pos[0], pos[1:], nil
}

// Parse turns a container's `podman create` arguments (flags, IMAGE,
// CMD...), with the Defaults it does not override, into a
// request, with the flags and the spec code of `podman create` itself, so
// that every flag labs pass to podman means the same here.
func Parse(args []string) (*Request, error) {
	cmd, vals, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	flags := cmd.Flags()
	for _, d := range Defaults {
		if !flags.Changed(d.Name) {
			if err := flags.Set(d.Name, d.Value); err != nil {
				return nil, fmt.Errorf("default --%s=%s: %w", d.Name, d.Value, err)
			}
		}
	}
	pos := flags.Args()
	net, err := common.NetFlagsToNetOptions(nil, *flags, false)
	if err != nil {
		return nil, fmt.Errorf("podman network flags: %w", err)
	}
	vals.Net = net
	if err := createInit(cmd, vals); err != nil {
		return nil, err
	}

	image := strings.TrimPrefix(pos[0], "docker://")
	policy, err := config.ParsePullPolicy(vals.Pull)
	if err != nil {
		return nil, fmt.Errorf("--pull: %w", err)
	}
	r := &Request{
		Image:       image,
		PullPolicy:  policy,
		Authfile:    vals.Authfile,
		Interactive: vals.Interactive,
		TTY:         vals.TTY,
	}
	if vals.TLSVerify.Present() {
		r.SkipTLSVerify = types.NewOptionalBool(!vals.TLSVerify.Value())
	}
	r.Spec = specgen.NewSpecGenerator(image, false)
	if err := specgenutil.FillOutSpecGen(r.Spec, vals, append([]string{image}, pos[1:]...)); err != nil {
		return nil, fmt.Errorf("podman spec: %w", err)
	}
	return r, nil
}

// createInit is the part of podman's own CreateInit (cmd/podman/containers,
// which cannot be imported without podman's whole CLI and its global
// state) that copies flag values the spec code expects to find set.
func createInit(c *cobra.Command, vals *entities.ContainerCreateOptions) error {
	f := c.Flags()
	if len(vals.UIDMap) > 0 || len(vals.GIDMap) > 0 || vals.SubUIDName != "" || vals.SubGIDName != "" {
		if f.Changed("userns") {
			return errors.New("--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive")
		}
		vals.UserNS = "private"
	} else {
		vals.UserNS = c.Flag("userns").Value.String()
	}
	if f.Changed("cpu-period") && f.Changed("cpus") {
		return errors.New("--cpu-period and --cpus cannot be set together")
	}
	if f.Changed("cpu-quota") && f.Changed("cpus") {
		return errors.New("--cpu-quota and --cpus cannot be set together")
	}
	vals.IPC = c.Flag("ipc").Value.String()
	vals.PID = c.Flag("pid").Value.String()
	vals.CgroupNS = c.Flag("cgroupns").Value.String()
	if f.Changed("oom-score-adj") {
		v, err := f.GetInt("oom-score-adj")
		if err != nil {
			return err
		}
		vals.OOMScoreAdj = &v
	}
	if f.Changed("pids-limit") {
		v, err := f.GetInt64("pids-limit")
		if err != nil {
			return err
		}
		if v == -1 {
			v = 0
		}
		vals.PIDsLimit = &v
	}
	if f.Changed("env") {
		env, err := f.GetStringArray("env")
		if err != nil {
			return fmt.Errorf("--env: %w", err)
		}
		vals.Env = env
	}
	if f.Changed("shm-size") {
		vals.ShmSize = c.Flag("shm-size").Value.String()
	}
	if f.Changed("shm-size-systemd") {
		vals.ShmSizeSystemd = c.Flag("shm-size-systemd").Value.String()
	}
	if (f.Changed("dns") || f.Changed("dns-option") || f.Changed("dns-search")) && vals.Net != nil &&
		(vals.Net.Network.NSMode == specgen.NoNetwork || vals.Net.Network.IsContainer()) {
		return fmt.Errorf("conflicting options: dns and the network mode %s", vals.Net.Network.NSMode)
	}
	if f.Changed("entrypoint") {
		v := c.Flag("entrypoint").Value.String()
		vals.Entrypoint = &v
	}
	return nil
}
