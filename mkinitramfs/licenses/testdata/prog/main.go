// Command prog is a Go program with module dependencies, for the test of
// the licences of Go programs (test binaries carry no module list).
package main

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/mod/module"
)

func main() { fmt.Println(zstd.SpeedDefault, module.CheckPath("example.com/x")) }
