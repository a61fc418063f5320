package modules

import (
	"bufio"
	"io"
	"path/filepath"
	"strings"
)

// Alias is one line of a kernel's modules.alias: the module that drives
// the devices whose modalias matches the pattern.
type Alias struct {
	Pattern, Module string
}

// ParseAliases reads modules.alias ("alias PATTERN MODULE" lines).
func ParseAliases(r io.Reader) ([]Alias, error) {
	var out []Alias
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "alias" {
			out = append(out, Alias{Pattern: f[1], Module: f[2]})
		}
	}
	return out, sc.Err()
}

// Match returns the modules whose aliases match modalias, in the order of
// modules.alias, each once. The patterns are shell globs, as modprobe
// reads them.
func Match(aliases []Alias, modalias string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range aliases {
		if seen[a.Module] {
			continue
		}
		if ok, err := filepath.Match(a.Pattern, modalias); err == nil && ok {
			seen[a.Module] = true
			out = append(out, a.Module)
		}
	}
	return out
}

// Coldplug loads the modules that the devices present ask for, as udev
// does at boot: it reads the modaliases that list returns, loads each
// matching module not loaded yet, and starts over while loading made new
// devices appear (a PCI bus driver brings its devices). It returns the
// modules it loaded and one error per module that failed.
func (l Loader) Coldplug(aliases []Alias, list func() []string) (loaded []string, errs []error) {
	tried := map[string]bool{}
	for pass := 0; pass < 5; pass++ {
		var wanted []string
		for _, ma := range list() {
			for _, m := range Match(aliases, ma) {
				if !tried[m] {
					tried[m] = true
					wanted = append(wanted, m)
				}
			}
		}
		if len(wanted) == 0 {
			break
		}
		for _, m := range wanted {
			if err := l.ByName(m); err != nil {
				errs = append(errs, err)
				continue
			}
			loaded = append(loaded, m)
		}
	}
	return loaded, errs
}
