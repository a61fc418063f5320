// Package cmdline turns a kernel command line into a validated b2c
// configuration. It has no side effects, so the agent (PID 1) and the host
// CLI (`b2c lint`, `b2c explain`) share it; the rules it implements are
// in docs/cmdline.md, "Parsing".
package cmdline

import (
	"errors"
	"fmt"
	"strings"
)

// Diagnostic is a problem found in one token of the command line.
type Diagnostic struct {
	Token   string // the token as it appeared, quotes removed
	Option  string // the b2c option's canonical name, or the unknown name
	Message string
	Error   bool // false: a warning, the run goes on
}

func (d Diagnostic) String() string {
	kind := "WARNING"
	if d.Error {
		kind = "ERROR"
	}
	return fmt.Sprintf("%s: %s: %s", kind, d.Token, d.Message)
}

// Result is a parsed command line: the configuration and what was wrong.
type Result struct {
	Config      Config
	Diagnostics []Diagnostic
	// texts are the texts parsed, the kernel's first, for Check.
	texts []string
}

// Err returns the first error diagnostic as an error, or nil.
func (r *Result) Err() error {
	for _, d := range r.Diagnostics {
		if d.Error {
			return fmt.Errorf("invalid option %s", d.String())
		}
	}
	return nil
}

// Warnings returns the diagnostics that are not errors.
func (r *Result) Warnings() []Diagnostic {
	var w []Diagnostic
	for _, d := range r.Diagnostics {
		if !d.Error {
			w = append(w, d)
		}
	}
	return w
}

// Tokens splits a command line the way the kernel does: on white space,
// except inside double quotes, which are removed.
func Tokens(text string) []string {
	var toks []string
	for _, t := range scan(text) {
		toks = append(toks, t.text)
	}
	return toks
}

// rawToken is a token of Tokens, with what Check needs to say how the
// kernel split it.
type rawToken struct {
	text     string // quotes removed
	unclosed bool   // a double quote opened in it is never closed: it ran to the end of the line
}

func scan(text string) []rawToken {
	var (
		toks    []rawToken
		cur     strings.Builder
		quoted  bool
		pending bool // cur holds a token, possibly empty ("")
	)
	for _, r := range text {
		switch {
		case r == '"':
			quoted = !quoted
			pending = true
		case !quoted && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			if pending {
				toks = append(toks, rawToken{text: cur.String()})
				cur.Reset()
				pending = false
			}
		default:
			cur.WriteRune(r)
			pending = true
		}
	}
	if pending {
		toks = append(toks, rawToken{text: cur.String(), unclosed: quoted})
	}
	return toks
}

// Parse parses a kernel command line into a configuration on top of
// Defaults. Extra texts (from b2c.extra_args_url) are parsed after it, so
// their repeatable options come after the kernel's and their other options
// win.
func Parse(text string, extra ...string) *Result {
	r := &Result{Config: Defaults()}
	r.add(text)
	for _, e := range extra {
		r.add(e)
	}
	return r
}

// Add parses more text into an existing result, as for the extra arguments
// fetched after the network is up.
func (r *Result) Add(text string) { r.add(text) }

func (r *Result) add(text string) {
	r.texts = append(r.texts, text)
	for _, tok := range Tokens(text) {
		name, value, hasValue := strings.Cut(tok, "=")
		switch {
		case name == "ip" && hasValue:
			k, err := ParseKernelIP(value)
			if err != nil {
				r.Diagnostics = append(r.Diagnostics, Diagnostic{Token: tok, Option: "ip", Error: true,
					Message: fmt.Sprintf("invalid value %q for ip=: %v", value, err)})
				continue
			}
			r.Config.IP, r.Config.KernelIP = value, k
			continue
		case name == "console" && hasValue:
			r.Config.Consoles = append(r.Config.Consoles, value)
			continue
		case !strings.HasPrefix(name, "b2c."):
			continue
		}
		opt, ok := lookup(name)
		if !ok {
			r.Diagnostics = append(r.Diagnostics, Diagnostic{Token: tok, Option: name,
				Message: "unknown option, ignored"})
			continue
		}
		if opt.flag {
			if hasValue {
				r.Diagnostics = append(r.Diagnostics, Diagnostic{Token: tok, Option: opt.name, Error: true,
					Message: fmt.Sprintf("%s is a flag and takes no value (got %q)", opt.name, value)})
				continue
			}
		} else if !hasValue {
			r.Diagnostics = append(r.Diagnostics, Diagnostic{Token: tok, Option: opt.name, Error: true,
				Message: fmt.Sprintf("%s needs a value: %s", opt.name, opt.accepts)})
			continue
		}
		if err := opt.set(&r.Config, value); err != nil {
			quoted := fmt.Sprintf("%q", value)
			if opt.secret {
				// Its errors never quote key values either.
				tok, quoted = name+"=*****", "(hidden: it holds keys)"
			}
			var unknown unknownParams
			if errors.As(err, &unknown) {
				for _, k := range unknown {
					r.Diagnostics = append(r.Diagnostics, Diagnostic{Token: tok, Option: opt.name,
						Message: fmt.Sprintf("the parameter %s is unknown, ignored%s", k, didYouMean(k, opt.params))})
				}
				continue
			}
			r.Diagnostics = append(r.Diagnostics, Diagnostic{Token: tok, Option: opt.name, Error: true,
				Message: fmt.Sprintf("invalid value %s for %s: %v; accepted: %s", quoted, opt.name, err, opt.accepts)})
		}
	}
}
