// Command init is b2c's boot agent (init/agent) built alone. The image
// does not ship it: there, podman's binary is the agent too (see
// agent.Register), which saves a second copy of the Go runtime and of the
// containers libraries. This command builds the agent as it was, for
// debugging it apart from podman.
package main

import "github.com/b2c-dev/b2c/init/agent"

func main() { agent.Main() }
