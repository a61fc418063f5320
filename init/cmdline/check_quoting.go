package cmdline

import (
	"strings"
)

// quoting reports what the kernel splits otherwise than the writer meant:
// a double quote never closed, which takes the rest of the line, and the
// tail of a b2c option's value that the kernel made a token of its own
// (b2c.run=-ti "docker://alpine echo hi" gives b2c.run=-ti, then
// "docker://alpine echo hi").
func (c *checker) quoting() {
	for _, text := range c.r.texts {
		toks := scan(text)
		for i, t := range toks {
			if t.unclosed {
				c.add(swallowed(t.text), optionOf(t.text), true,
					"a double quote in this token is never closed: the kernel gives it the rest of the line; close it")
			}
			if i > 0 && strayTail(t.text) {
				c.stray(toks[:i], t.text)
			}
		}
	}
}

// swallowed shows a token that ran to the end of the line up to the next
// option that holds keys, whose values must not be quoted.
func swallowed(tok string) string {
	for _, o := range options {
		if i := strings.Index(tok, " "+o.name+"="); o.secret && i >= 0 {
			return tok[:i] + " ..."
		}
	}
	return tok
}

// optionOf is a token's b2c option, or "".
func optionOf(tok string) string {
	name, _, _ := strings.Cut(tok, "=")
	if o, ok := lookup(name); ok {
		return o.name
	}
	return ""
}

// strayTail tells whether a token that is no b2c option can only be part
// of one's value: an image (docker://...), or words with a space, which
// only quotes make, before any "=" (no kernel parameter's name has one).
func strayTail(tok string) bool {
	if strings.HasPrefix(tok, "b2c.") {
		return false
	}
	name, _, _ := strings.Cut(tok, "=")
	return strings.HasPrefix(tok, "docker://") || strings.ContainsAny(name, " \t")
}

// stray reports tok, which follows before, as the tail of the last b2c
// option's value.
func (c *checker) stray(before []rawToken, tok string) {
	prev := before[len(before)-1].text
	name, value, _ := strings.Cut(prev, "=")
	o, ok := lookup(name)
	if !ok || o.flag {
		c.add(tok, "", false, "looks like part of a b2c option's value that the kernel split off: quote the whole value in double quotes")
		return
	}
	rest := tok
	if !strings.ContainsAny(tok, " \t") {
		rest += " ..." // unquoted: the words after it may be part of it too
	}
	single := ""
	if strings.HasPrefix(value, "'") {
		single = " (the kernel does not know single quotes)"
	}
	c.add(tok, o.name, false, "looks like part of the value of the %s before it, which the kernel split off: quote the whole value in double quotes%s: %s=\"%s %s\"",
		o.name, single, name, strings.Trim(value, "'"), strings.Trim(rest, "'"))
}
