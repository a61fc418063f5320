package podmanargs

import "strings"

// Flag is how podman's parser reads one flag of podman create: what
// Split, FinalArgs and Check need of it.
type Flag struct {
	Name      string
	Shorthand string // one letter, or ""
	// Type is the pflag type of its value ("bool", "string",
	// "stringArray"...): whether it takes a value, and which.
	Type string
	// NoOptDefVal is the value a bare --Name means ("true" for a bool);
	// with it, a value must be joined with "=".
	NoOptDefVal string
}

// CreateFlags lists podman create's flags, as podman defines them, from
// the table generated from podman's definitions.
func CreateFlags() []Flag {
	var flags []Flag
	for _, line := range strings.Split(strings.TrimSpace(createFlags), "\n") {
		f := append(strings.Fields(line), "-", "-", "-", "-")
		for i := range f {
			if f[i] == "-" {
				f[i] = ""
			}
		}
		flags = append(flags, Flag{Name: f[0], Shorthand: f[1], Type: f[2], NoOptDefVal: f[3]})
	}
	return flags
}

// Aliases maps the old names that podman's utils.AliasFlags renames to
// the names of the flags (package podmanspec checks that podman renames
// them so).
func Aliases() map[string]string {
	return map[string]string{
		"dns-opt":                  "dns-option",
		"healthcheck-command":      "health-cmd",
		"healthcheck-interval":     "health-interval",
		"healthcheck-retries":      "health-retries",
		"healthcheck-start-period": "health-start-period",
		"healthcheck-timeout":      "health-timeout",
		"net":                      "network",
		"namespace":                "ns",
		"storage":                  "external",
		"notruncate":               "no-trunc",
		"override-arch":            "arch",
		"override-os":              "os",
		"override-variant":         "variant",
	}
}
