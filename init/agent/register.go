package agent

import (
	"fmt"
	"os"

	"github.com/containers/podman/v4/cmd/podman/registry"
	"github.com/containers/storage/pkg/reexec"
	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/mounts"
)

// Path is where the image has the agent, the command PID 1 starts.
const Path = "/bin/init"

// PodmanURI is the socket of podman's service that the agent starts. It is
// also the agent's CONTAINER_HOST (see Register).
const PodmanURI = mounts.PodmanURI

// Register makes podman's binary the agent too, when it runs as Path (a
// link to it): the image ships one Go binary instead of two, which would
// each hold the Go runtime and the containers libraries. mkinitramfs adds
// a call to Register to podman's main package (go build -overlay); the
// first thing podman's main does is run what reexec has for its argv[0].
func Register() {
	reexec.Register(Path, func() {
		// The agent reads podman's arguments with podman's own flags,
		// as a client of a service does (podman-remote): the client
		// leaves the defaults of containers.conf to the service. A
		// podman binary decides whether it is a client at its
		// packages' init, from CONTAINER_HOST: PID 1 sets it, and an
		// agent started otherwise starts again with it.
		if !registry.IsRemote() {
			os.Setenv("CONTAINER_HOST", PodmanURI)
			err := unix.Exec("/proc/self/exe", os.Args, os.Environ())
			fmt.Fprintf(os.Stderr, "b2c init: start again as podman's client: %v\n", err)
		}
		Main()
	})
}
