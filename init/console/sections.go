package console

import "regexp"

// marker is a section marker anywhere in a console's raw text: a lab's
// log, a serial capture, with or without carriage returns.
var marker = regexp.MustCompile(`\x1b\[0Ksection_(start|end):\d+:([A-Za-z0-9_]+)`)

// Sections returns the section markers of a raw console, in order, as
// "+name" for a start and "-name" for an end: the sequence that
// docs/cmdline.md ("Sections") gives, for tests to compare with it.
func Sections(raw string) []string {
	var seq []string
	for _, m := range marker.FindAllStringSubmatch(raw, -1) {
		sign := "+"
		if m[1] == "end" {
			sign = "-"
		}
		seq = append(seq, sign+m[2])
	}
	return seq
}
