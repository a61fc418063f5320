package cmdline

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// QuoteContainer is the inverse of ParseContainer: it renders a
// container's words (podman flags, image, command and arguments) as a
// value that can stand in double quotes on a kernel command line,
// b2c.run="VALUE", and that ParseContainer splits back into the same words.
//
// Some words cannot travel that way: a double quote ends the kernel's
// quoting, an empty word vanishes when split, control characters and invalid
// UTF-8 do not survive boot loaders, and ParseContainer rejects a value with an odd
// number of single quotes, whichever way they are escaped.
func QuoteContainer(words []string) (string, error) {
	quotes := 0
	q := make([]string, len(words))
	for i, w := range words {
		switch {
		case w == "":
			return "", fmt.Errorf("word %d is empty: the kernel command line cannot carry it", i+1)
		case strings.ContainsRune(w, '"'):
			return "", fmt.Errorf("%q: a double quote cannot be passed in a kernel command line option", w)
		case !utf8.ValidString(w):
			return "", fmt.Errorf("%q is not valid UTF-8", w)
		case strings.ContainsFunc(w, isControl):
			return "", fmt.Errorf("%q: control characters cannot be passed in a kernel command line option", w)
		}
		quotes += strings.Count(w, "'")
		q[i] = quoteWord(w)
	}
	if quotes%2 != 0 {
		return "", errors.New("the words hold an odd number of single quotes, which b2c.run rejects")
	}
	return strings.Join(q, " "), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// quoteWord single-quotes the runs of a word between its single quotes,
// which go as \'. A leading # is quoted too: unquoted, it starts a comment.
func quoteWord(w string) string {
	if isPlain(w) && !strings.HasPrefix(w, "#") {
		return w
	}
	parts := strings.Split(w, "'")
	for i, p := range parts {
		if p != "" && (!isPlain(p) || i == 0 && strings.HasPrefix(p, "#")) {
			parts[i] = "'" + p + "'"
		}
	}
	return strings.Join(parts, `\'`)
}

// isPlain tells whether a word reads the same unquoted: only characters
// that the splitter never treats specially, and none a reader could
// mistake for shell syntax.
func isPlain(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:+@%#", r)) {
			return false
		}
	}
	return true
}
