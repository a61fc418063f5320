//go:build remote

package main

import "github.com/b2c-dev/b2c/init/podmanspec"

// checkContainer returns what the agent refuses in a container's
// `podman create` arguments, the flags' values included (a memory size, a
// mount, a DNS server): this build (make cli, with the Makefile's tags)
// links podman's spec code, as the agent does.
func checkContainer(args []string) error {
	_, err := podmanspec.Parse(args)
	return err
}
