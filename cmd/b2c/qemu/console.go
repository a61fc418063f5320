package qemu

import (
	"regexp"
	"strings"
)

// ansiEscape matches terminal escape sequences, which SeaBIOS prints
// before the kernel's first line: CSI sequences and two-byte ones (ESC c).
var ansiEscape = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_a-z])`)

// CleanLine turns a serial console line into what a terminal shows: it
// drops the line's \r and escape sequences and keeps only what follows a
// carriage return within the line.
func CleanLine(s string) string {
	s = strings.TrimRight(s, "\r")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	return ansiEscape.ReplaceAllString(s, "")
}
