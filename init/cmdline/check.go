package cmdline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Check returns the problems that no single option shows, each naming the
// token it concerns: a name that one option uses and no option defines (an
// S3 alias, a b2c.filesystem, an NBD device), a word that is neither a
// keyword nor a path or a name, a mirror that never transfers, and quoting
// that the kernel splits otherwise than the writer meant. An ERROR is what
// fails at boot (no container runs); a WARNING, what the agent works
// around (a cache in RAM, no swap) or what does nothing.
//
// Parse does not run it, and the agent does not call it yet: the agent
// parses the kernel's line before it fetches the extra options of
// b2c.extra_args_url, which may define the names the kernel's options use
// (labs keep b2c.minio there, with its keys). Check must run on the
// result that holds every text; a command line with b2c.extra_args_url
// turns the errors of undefined names into warnings, as lint cannot see
// the extra options.
func (r *Result) Check() []Diagnostic {
	c := checker{r: r, cfg: &r.Config, secrets: r.Secrets()}
	c.toks = c.tokens()
	c.quoting()
	c.cache()
	c.swap()
	c.storage()
	c.volumes()
	c.ntpPeer()
	return c.out
}

type checker struct {
	r       *Result
	cfg     *Config
	secrets []string
	toks    []optToken
	out     []Diagnostic
}

// optToken is a b2c option's token.
type optToken struct {
	text, option, value string
}

func (c *checker) tokens() []optToken {
	var out []optToken
	for _, text := range c.r.texts {
		for _, t := range scan(text) {
			name, value, _ := strings.Cut(t.text, "=")
			if o, ok := lookup(name); ok {
				out = append(out, optToken{t.text, o.name, value})
			}
		}
	}
	return out
}

// last returns the token of an option's last occurrence, the one that
// applies.
func (c *checker) last(option string) string {
	tok := option
	for _, t := range c.toks {
		if t.option == option {
			tok = t.text
		}
	}
	return tok
}

// first returns the first token of a repeatable option whose value starts
// with name (NAME, or NAME,...).
func (c *checker) first(option, name string) string {
	for _, t := range c.toks {
		if t.option == option && (t.value == name || strings.HasPrefix(t.value, name+",")) {
			return t.text
		}
	}
	return option + "=" + name
}

// mask hides the keys and passwords in a token, as the console does.
func (c *checker) mask(tok string) string {
	for _, s := range c.secrets {
		tok = strings.ReplaceAll(tok, s, "*****")
	}
	return tok
}

func (c *checker) add(tok, option string, isErr bool, format string, args ...any) {
	c.out = append(c.out, Diagnostic{Token: c.mask(tok), Option: option, Error: isErr, Message: c.mask(fmt.Sprintf(format, args...))})
}

// undefined reports a name that no option defines. fails tells what the
// agent does then: fail the boot (an error), or work around it.
func (c *checker) undefined(tok, option string, fails bool, definer, what, name, then string, defined []string) {
	c.problem(tok, option, fails, "no %s defines %s%s: %s%s", definer, what, name, then, didYouMean(name, defined))
}

// problem adds a diagnostic; one that fails the boot is an error, unless
// the extra options, which lint cannot see, may set what it lacks.
func (c *checker) problem(tok, option string, fails bool, format string, args ...any) {
	if fails && c.cfg.ExtraArgsURL != "" {
		format += " (unless the extra options of b2c.extra_args_url fix it)"
		fails = false
	}
	c.add(tok, option, fails, format, args...)
}

func (c *checker) filesystemNames() []string {
	var names []string
	for _, fs := range c.cfg.Filesystems {
		names = append(names, fs.Name)
	}
	return names
}

var cacheKeywords = []string{"none", "auto", "reset"}

// NoCache reports whether b2c.cache_device certainly gives no cache, so
// that images, volumes and a swap file would live in RAM: none, a word
// that is neither a keyword nor a b2c.filesystem name, or a network block
// device that no b2c.nbd connects. Whether auto or a device finds a cache
// is known only at boot.
func (c *Config) NoCache() bool {
	v := c.CacheDevice
	named := slices.ContainsFunc(c.Filesystems, func(f Filesystem) bool { return f.Name == v })
	connected := slices.ContainsFunc(c.NBDs, func(n NBD) bool { return n.Device == v })
	return v == "none" || nbdRE.MatchString(v) && !connected ||
		!named && !slices.Contains(cacheKeywords, v) && !strings.HasPrefix(v, "/dev/")
}

// deviceNameRE matches a device's name without its /dev/.
var deviceNameRE = regexp.MustCompile(`^(sd[a-z]+|vd[a-z]+|hd[a-z]+|xvd[a-z]+|nvme[0-9]+n[0-9]+|mmcblk[0-9]+|nbd[0-9]+)(p?[0-9]+)?$`)

func (c *checker) cache() {
	v := c.cfg.CacheDevice
	tok := c.last("b2c.cache_device")
	switch {
	case slices.Contains(cacheKeywords, v) || slices.Contains(c.filesystemNames(), v):
	case strings.HasPrefix(v, "/dev/"):
		c.nbd(tok, "b2c.cache_device", v, "the cache is in RAM")
	default:
		hint := didYouMean(v, slices.Concat(cacheKeywords, c.filesystemNames()))
		if hint == "" && deviceNameRE.MatchString(v) {
			hint = " (did you mean /dev/" + v + "?)"
		}
		c.add(tok, "b2c.cache_device", false,
			"neither a keyword (none, auto, reset) nor a /dev path nor a b2c.filesystem name: the cache is in RAM%s", hint)
	}
}

var nbdRE = regexp.MustCompile(`^/dev/nbd[0-9]+$`)

// nbd reports a network block device that will not appear: no b2c.nbd
// defines it.
func (c *checker) nbd(tok, option, dev, then string) {
	if !nbdRE.MatchString(dev) {
		return
	}
	var defined []string
	for _, n := range c.cfg.NBDs {
		defined = append(defined, n.Device)
	}
	if !slices.Contains(defined, dev) {
		c.undefined(tok, option, false, "b2c.nbd", "", dev, "the device will not appear, "+then, nil)
	}
}

func (c *checker) swap() {
	sw := c.cfg.Swap
	tok := c.last("b2c.swap")
	switch {
	case sw.Device != "":
		c.nbd(tok, "b2c.swap", sw.Device, "no swap")
	case sw.Size > 0 && c.cfg.NoCache():
		c.add(tok, "b2c.swap", false, "a swap file needs the cache, and b2c.cache_device=%s gives none: no swap", c.cfg.CacheDevice)
	}
}

func (c *checker) storage() {
	tok := c.last("b2c.storage")
	for _, name := range c.cfg.AdditionalImageStores {
		if !slices.Contains(c.filesystemNames(), name) {
			c.undefined(tok, "b2c.storage", true, "b2c.filesystem", "", name,
				"the storage step fails, no container runs", c.filesystemNames())
		}
	}
}

// ntpKeywords are b2c.ntp_peer's words; any other is a host.
var ntpKeywords = []string{"none", "auto"}

func (c *checker) ntpPeer() {
	v := c.cfg.NTPPeer
	if k := nearest(v, ntpKeywords); k != "" {
		c.add(c.last("b2c.ntp_peer"), "b2c.ntp_peer", false, "read as the NTP host %q (did you mean %s?)", v, k)
	}
}

func (c *checker) volumes() {
	var aliases []string
	for _, m := range c.cfg.Minios {
		aliases = append(aliases, m.Alias)
	}
	for _, v := range c.cfg.Volumes {
		tok := c.first("b2c.volume", v.Name)
		var used []string // the aliases of its places, once each
		for _, place := range []string{v.PullFrom, v.PushTo} {
			if alias, _, _ := strings.Cut(place, "/"); place != "" && !slices.Contains(used, alias) {
				used = append(used, alias)
			}
		}
		for _, alias := range used {
			if !slices.Contains(aliases, alias) {
				c.undefined(tok, "b2c.volume", true, "b2c.minio", "the alias ", alias,
					"the volume step fails, no container runs", aliases)
			}
		}
		if v.Filesystem != "" && !slices.Contains(c.filesystemNames(), v.Filesystem) {
			c.undefined(tok, "b2c.volume", false, "b2c.filesystem", "", v.Filesystem,
				fmt.Sprintf("the volume's files go to /mnt/%s/%s, in RAM", v.Filesystem, v.Name), c.filesystemNames())
		}
		if v.FscryptKey != "" && c.cfg.NoCache() {
			c.problem(tok, "b2c.volume", true, "fscrypt_key needs the cache, and b2c.cache_device=%s gives none: the volume step fails, no container runs", c.cfg.CacheDevice)
		}
		c.moments(tok, v)
	}
}

// moments reports the transfers that never happen: the original's rule,
// which the agent follows, is no moment, no transfer.
func (c *checker) moments(tok string, v Volume) {
	mirror := v.PullFrom != "" && v.PullFrom == v.PushTo
	switch {
	case mirror && len(v.PullOn) == 0 && len(v.PushOn) == 0:
		c.add(tok, "b2c.volume", false, "a mirror with neither pull_on nor push_on never transfers anything (no moment, no transfer)")
		return
	case mirror:
	case v.PullFrom != "" && len(v.PullOn) == 0:
		c.add(tok, "b2c.volume", false, "pull_from without pull_on: it never pulls (no moment, no transfer)")
	case v.PullFrom == "" && len(v.PullOn) > 0:
		c.add(tok, "b2c.volume", false, "pull_on without mirror= or pull_from=: there is nothing to pull from")
	}
	switch {
	case mirror:
	case v.PushTo != "" && len(v.PushOn) == 0:
		c.add(tok, "b2c.volume", false, "push_to without push_on: it never pushes (no moment, no transfer)")
	case v.PushTo == "" && len(v.PushOn) > 0:
		c.add(tok, "b2c.volume", false, "push_on without mirror= or push_to=: there is nothing to push to")
	}
}
