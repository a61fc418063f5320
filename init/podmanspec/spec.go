// Package podmanspec turns a container's `podman create` arguments (a
// b2c.run value) into the spec the engine (package podman) creates, with
// podman's own flag definitions and spec code: every flag labs pass to
// podman means the same here, and its value is checked as podman checks
// it. It talks to no service. It needs the build tags of the Makefile
// (podman's storage and signature code), so the host CLI uses it only in
// its tagged build; package podmanargs reads the same arguments without
// podman.
package podmanspec

import (
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
	"github.com/spf13/pflag"

	"github.com/b2c-dev/b2c/init/podmanargs"
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

func parseFlags(args []string) (*cobra.Command, *entities.ContainerCreateOptions, error) {
	var vals entities.ContainerCreateOptions
	cmd := &cobra.Command{Use: "create", SilenceErrors: true, SilenceUsage: true}
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	flags := cmd.Flags()
	// The flags' defaults come from vals: without these, an unset
	// --memory-swappiness is 0, which crun refuses on cgroup v2.
	common.DefineCreateDefaults(&vals)
	common.DefineCreateFlags(cmd, &vals, entities.CreateMode)
	common.DefineNetFlags(cmd)
	flags.SetNormalizeFunc(utils.AliasFlags)
	if err := podmanargs.ParseInto(flags, args); err != nil {
		return nil, nil, err
	}
	return cmd, &vals, nil
}

// Parse turns a container's `podman create` arguments (flags, IMAGE,
// CMD...), with the podmanargs.Defaults it does not override, into a
// request, with the flags and the spec code of `podman create` itself, so
// that every flag labs pass to podman means the same here.
func Parse(args []string) (*Request, error) {
	cmd, vals, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	flags := cmd.Flags()
	for _, d := range podmanargs.Defaults {
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
	var netMode specgen.NamespaceMode
	if vals.Net != nil {
		netMode = vals.Net.Network.NSMode
	}
	if err := podmanargs.Conflicts(f, string(netMode)); err != nil {
		return err
	}
	if len(vals.UIDMap) > 0 || len(vals.GIDMap) > 0 || vals.SubUIDName != "" || vals.SubGIDName != "" {
		vals.UserNS = "private"
	} else {
		vals.UserNS = c.Flag("userns").Value.String()
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
	if f.Changed("entrypoint") {
		v := c.Flag("entrypoint").Value.String()
		vals.Entrypoint = &v
	}
	return nil
}

// Flags lists podman create's flags as podman defines them, in the form
// of podmanargs' generated table (see internal/genflags).
func Flags() []podmanargs.Flag {
	var vals entities.ContainerCreateOptions
	cmd := &cobra.Command{Use: "create"}
	common.DefineCreateFlags(cmd, &vals, entities.CreateMode)
	common.DefineNetFlags(cmd)
	var flags []podmanargs.Flag
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		flags = append(flags, podmanargs.Flag{Name: f.Name, Shorthand: f.Shorthand, Type: f.Value.Type(), NoOptDefVal: f.NoOptDefVal})
	})
	return flags
}
