//go:build !remote

package main

import "github.com/b2c-dev/b2c/init/podmanargs"

// checkContainer returns what podman's flag parser refuses in a
// container's `podman create` arguments: unknown flags, values of the
// wrong type, no image, flags that exclude each other, the --pull policy.
// This build (`go build` with no tags) does not link podman, so the values
// that only podman's spec code checks (a memory size, a mount) pass here;
// the agent, and the CLI of `make cli`, refuse them.
func checkContainer(args []string) error {
	return podmanargs.Check(args)
}
