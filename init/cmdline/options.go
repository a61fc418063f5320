package cmdline

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"encoding/base64"

	"github.com/hugelgupf/go-shlex"
)

// Config is everything the b2c options say. Options that a later step
// interprets in full (network, storage, volumes) are kept as their raw
// values; the step that applies them validates them too.
type Config struct {
	Run        []Container // b2c.run, b2c.container: the pipeline stages, in order
	RunPost    []Container // b2c.run_post, b2c.post_container
	RunService []Container // b2c.run_service, b2c.service
	Pipefail   bool

	PoweroffDelay time.Duration
	ShutdownCmd   string // a shell command; empty: power off
	RebootCmd     string // a shell command; empty: reboot
	Timeout       time.Duration

	Hostname     string
	HostnameSet  bool // b2c.hostname was given: a DHCP lease's name does not replace it
	Keymap       string
	Insmods      []string
	NTPPeer      string // "none", "auto" or a host
	Proxy        Proxy
	ExtraArgsURL string

	IP       string   // ip=, the kernel's syntax, as given
	KernelIP KernelIP // ip=, parsed
	Ifaces   []Iface  // b2c.iface
	Consoles []string // console=

	CacheDevice           string
	Swap                  Swap
	Filesystems           []Filesystem
	AdditionalImageStores []string // b2c.storage
	NBDs                  []NBD
	Minios                []Minio
	Volumes               []Volume
}

// Secrets returns the values that must never reach the console: S3 keys,
// encryption keys.
func (c *Config) Secrets() []string {
	var out []string
	add := func(s ...string) {
		for _, x := range s {
			if x != "" {
				out = append(out, x)
			}
		}
	}
	for _, m := range c.Minios {
		add(m.AccessKey, m.SecretKey, urlPassword(m.URL))
	}
	for _, v := range c.Volumes {
		add(v.EncryptKey, v.FscryptKey)
	}
	// Lines echo these URLs: their passwords must not come along.
	add(urlPassword(c.ExtraArgsURL), urlPassword(c.Proxy.HTTP), urlPassword(c.Proxy.HTTPS))
	return out
}

// urlPassword returns the password of a URL's user information, if any.
func urlPassword(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// Defaults returns the configuration of an empty command line.
func Defaults() Config {
	return Config{
		Hostname:    "boot2container",
		NTPPeer:     "none",
		CacheDevice: "none",
	}
}

// Container is one container of the pipeline, as its option gave it.
type Container struct {
	Value string   // the option's value
	Args  []string // Value split into words, quotes removed, nothing expanded
}

// Proxy is the b2c.proxy option.
type Proxy struct {
	HTTPS, HTTP string
	No          []string
}

// Env returns the proxy as the environment variables Go's and podman's
// HTTP clients read.
func (p Proxy) Env() []string {
	var env []string
	if p.HTTPS != "" {
		env = append(env, "https_proxy="+p.HTTPS, "HTTPS_PROXY="+p.HTTPS)
	}
	if p.HTTP != "" {
		env = append(env, "http_proxy="+p.HTTP, "HTTP_PROXY="+p.HTTP)
	}
	if len(p.No) > 0 {
		no := strings.Join(p.No, ",")
		env = append(env, "no_proxy="+no, "NO_PROXY="+no)
	}
	return env
}

type option struct {
	name    string
	aliases []string
	flag    bool   // takes no value
	secret  bool   // its value holds keys: never quote it
	accepts string // what a valid value is, for error messages
	// params are the sub-parameters of an option whose unknown ones warn,
	// to name the one a typo meant.
	params []string
	set    func(c *Config, value string) error
}

func lookup(name string) (option, bool) {
	for _, o := range options {
		if o.name == name {
			return o, true
		}
		for _, a := range o.aliases {
			if a == name {
				return o, true
			}
		}
	}
	return option{}, false
}

// ParseContainer splits a container option's value into words.
func ParseContainer(v string) (Container, error) {
	if strings.Count(v, "'")%2 != 0 {
		return Container{}, errors.New("unbalanced single quote")
	}
	args := shlex.Split(v)
	if len(args) == 0 {
		return Container{}, errors.New("no image")
	}
	return Container{Value: v, Args: args}, nil
}

// appendTo sets a repeatable option: each occurrence adds one entry.
func appendTo[T any](parse func(string) (T, error), dst func(*Config) *[]T) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := parse(v)
		if err != nil && !errors.As(err, new(unknownParams)) {
			return err
		}
		p := dst(c)
		*p = append(*p, x)
		return err
	}
}

func str(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

// validHostname says whether s is a host name as RFC 1123 has them:
// labels of 1 to 63 letters, digits and inner hyphens, between dots. Not
// a regexp: its bounded repeats unroll into a program that takes tens of
// milliseconds to compile on a slow machine, at every start of the agent
// and of podman's processes (the same binary), for a check most runs never
// make.
func validHostname(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ParseDuration reads a duration as b2c.timeout takes it: a Go duration
// (90m, 1h30m, 3600s) or a bare number of seconds.
func ParseDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("not a duration")
	}
	if d <= 0 {
		return 0, errors.New("not positive")
	}
	return d, nil
}

func parseURL(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", errors.New("not an http or https URL")
	}
	return v, nil
}

func parseProxy(v string) (Proxy, error) {
	var p Proxy
	for _, part := range strings.Split(v, ",") {
		k, val, err := keyValue(part)
		if err != nil {
			return p, err
		}
		switch k {
		case "https":
			if _, err := parseURL(val); err != nil {
				return p, fmt.Errorf("https: %w", err)
			}
			p.HTTPS = val
		case "http":
			if _, err := parseURL(val); err != nil {
				return p, fmt.Errorf("http: %w", err)
			}
			p.HTTP = val
		case "no":
			p.No = append(p.No, strings.Split(val, "|")...)
		default:
			return p, fmt.Errorf("unknown key %q", k)
		}
	}
	return p, nil
}

var options = []option{
	{name: "b2c.run", aliases: []string{"b2c.container"}, accepts: "[podman create flags] [docker://]IMAGE [CMD [ARG...]]",
		set: appendTo(ParseContainer, func(c *Config) *[]Container { return &c.Run })},
	{name: "b2c.run_post", aliases: []string{"b2c.post_container"}, accepts: "[podman create flags] [docker://]IMAGE [CMD [ARG...]]",
		set: appendTo(ParseContainer, func(c *Config) *[]Container { return &c.RunPost })},
	{name: "b2c.run_service", aliases: []string{"b2c.service"}, accepts: "[podman create flags] [docker://]IMAGE [CMD [ARG...]]",
		set: appendTo(ParseContainer, func(c *Config) *[]Container { return &c.RunService })},
	{name: "b2c.pipefail", flag: true, accepts: "no value",
		set: func(c *Config, _ string) error { c.Pipefail = true; return nil }},
	{name: "b2c.poweroff_delay", accepts: "a whole number of seconds",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return errors.New("not a whole number")
			}
			c.PoweroffDelay = time.Duration(n) * time.Second
			return nil
		}},
	{name: "b2c.shutdown_cmd", accepts: "a shell command", set: str(func(c *Config) *string { return &c.ShutdownCmd })},
	{name: "b2c.reboot_cmd", accepts: "a shell command", set: str(func(c *Config) *string { return &c.RebootCmd })},
	{name: "b2c.timeout", accepts: "a duration such as 90m, 3600s or 3600",
		set: func(c *Config, v string) (err error) { c.Timeout, err = ParseDuration(v); return err }},
	{name: "b2c.hostname", accepts: "a host name (letters, digits, hyphens, dots)",
		set: func(c *Config, v string) error {
			if len(v) > 253 || !validHostname(v) {
				return errors.New("not a valid host name")
			}
			c.Hostname, c.HostnameSet = v, true
			return nil
		}},
	{name: "b2c.keymap", accepts: "a keymap name", set: func(c *Config, v string) error {
		if v == "" || strings.ContainsAny(v, "/ ") {
			return errors.New("not a keymap name")
		}
		c.Keymap = v
		return nil
	}},
	{name: "b2c.insmods", accepts: "a comma-separated list of module names or paths",
		set: func(c *Config, v string) error {
			for _, m := range strings.Split(v, ",") {
				if m == "" {
					return errors.New("empty module name")
				}
				c.Insmods = append(c.Insmods, m)
			}
			return nil
		}},
	{name: "b2c.ntp_peer", accepts: "none, auto or a host name or address",
		set: func(c *Config, v string) error {
			if v != "none" && v != "auto" && !validHostname(strings.TrimSuffix(v, ":123")) {
				return errors.New("not none, auto or a host")
			}
			c.NTPPeer = v
			return nil
		}},
	{name: "b2c.proxy", accepts: "https=URL[,http=URL][,no=HOST|HOST]",
		set: func(c *Config, v string) (err error) { c.Proxy, err = parseProxy(v); return err }},
	{name: "b2c.extra_args_url", accepts: "an http or https URL",
		set: func(c *Config, v string) (err error) { c.ExtraArgsURL, err = parseURL(v); return err }},
	{name: "b2c.iface", accepts: "IFACE[,address=CIDR][,gateway=IP][,nameserver=IP]...[,route=NET:GW]...[,forward][,dhcp]",
		params: []string{"address", "gateway", "nameserver", "route", "forward", "dhcp", "auto"},
		set:    appendTo(parseIface, func(c *Config) *[]Iface { return &c.Ifaces })},
	{name: "b2c.cache_device", accepts: "none, auto, reset, /dev/... or a b2c.filesystem name",
		set: func(c *Config, v string) error {
			if v == "" {
				return errors.New("empty")
			}
			c.CacheDevice = v
			return nil
		}},
	{name: "b2c.swap", accepts: "SIZE[,swappiness=N] or /dev/...",
		set: func(c *Config, v string) (err error) { c.Swap, err = parseSwap(v); return err }},
	{name: "b2c.filesystem", accepts: "NAME,type=T,src=S[,opts=O1|O2]", params: []string{"type", "src", "opts"},
		set: appendTo(parseFilesystem, func(c *Config) *[]Filesystem { return &c.Filesystems })},
	{name: "b2c.storage", accepts: "additionalimagestores=NAME[|NAME]",
		set: func(c *Config, v string) (err error) { c.AdditionalImageStores, err = parseStorage(v); return err }},
	{name: "b2c.nbd", accepts: "/dev/nbdN,host=H,port=P[,connections=N]",
		set: appendTo(parseNBD, func(c *Config) *[]NBD { return &c.NBDs })},
	{name: "b2c.minio", secret: true, accepts: "ALIAS,URL,ACCESS_KEY,SECRET_KEY",
		set: appendTo(parseMinio, func(c *Config) *[]Minio { return &c.Minios })},
	{name: "b2c.volume", secret: true, accepts: "NAME[,OPTION]...", params: volumeParams,
		set: appendTo(parseVolume, func(c *Config) *[]Volume { return &c.Volumes })},
}

// DecodeKey reads a base64 key value (fscrypt_key).
func DecodeKey(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
