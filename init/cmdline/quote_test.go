package cmdline

import (
	"reflect"
	"strings"
	"testing"
)

func TestQuoteContainer(t *testing.T) {
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"docker://alpine", "echo", "hi"}, "docker://alpine echo hi"},
		{[]string{"-v", "/mnt/s0:/out", "alpine", "sh", "-c", "echo hi; exit 7"}, "-v /mnt/s0:/out alpine sh -c 'echo hi; exit 7'"},
		{[]string{"alpine", "sh", "-c", "echo 'a b' 'c'"}, `alpine sh -c 'echo '\''a b'\'' '\'c\'`},
		{[]string{"alpine", "#not-a-comment", "a#b"}, "alpine '#not-a-comment' a#b"},
		{[]string{"alpine", `a\b`, "$HOME", "*"}, `alpine 'a\b' '$HOME' '*'`},
		{[]string{"alpine", "it's", "o'clock"}, `alpine it\'s o\'clock`},
	} {
		got, err := QuoteContainer(tt.words)
		if err != nil || got != tt.want {
			t.Errorf("QuoteContainer(%q) = %s, %v; want %s", tt.words, got, err, tt.want)
		}
	}
}

func TestQuoteContainerErrors(t *testing.T) {
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"alpine", ""}, "empty"},
		{[]string{"alpine", `say "hi"`}, "double quote"},
		{[]string{"alpine", "a\nb"}, "control"},
		{[]string{"alpine", "0\x80"}, "UTF-8"},
		{[]string{"alpine", "it's"}, "odd number"},
	} {
		if _, err := QuoteContainer(tt.words); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("QuoteContainer(%q) error %v, want one about %q", tt.words, err, tt.want)
		}
	}
}

// FuzzQuoteContainer checks that a quoted value survives the kernel
// command line: Parse of b2c.run="VALUE" gives back the words.
func FuzzQuoteContainer(f *testing.F) {
	for _, s := range []string{"alpine\x00sh\x00-c\x00echo 'a b'", "a\x00#b\x00'\x00'", `x\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := strings.Split(s, "\x00")
		v, err := QuoteContainer(words)
		if err != nil {
			return
		}
		r := Parse(`b2c.run="` + v + `"`)
		if len(r.Config.Run) != 1 || !reflect.DeepEqual(r.Config.Run[0].Args, words) {
			t.Errorf("QuoteContainer(%q) = %s, parsed back as %+v", words, v, r.Config.Run)
		}
	})
}
