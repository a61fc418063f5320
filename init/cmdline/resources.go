package cmdline

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The network, storage and volume options (docs/cmdline.md) are parsed
// here into types, so that an invalid value is an error before the machine
// does anything; the steps that apply them (network, cache, volumes) take
// these types.

// Swap is b2c.swap: a file of Size bytes on the cache, or a device.
type Swap struct {
	Size       int64  // bytes; 0 with Device set
	Device     string // /dev/...
	Swappiness int    // -1: unchanged
}

// Filesystem is one b2c.filesystem.
type Filesystem struct {
	Name, Type, Src string
	Opts            []string
}

// NBD is one b2c.nbd.
type NBD struct {
	Device, Host string
	Port         int
	Connections  int
}

// Minio is one b2c.minio S3 endpoint. Its keys are secrets: Secrets lists
// them for the console to mask.
type Minio struct {
	Alias, URL, AccessKey, SecretKey string
}

// Volume is one b2c.volume.
type Volume struct {
	Name              string
	Filesystem        string
	PullFrom, PushTo  string // ALIAS/BUCKET[/PATH]
	PullOn, PushOn    []string
	Expiration        string // never (default) or pipeline_end
	Overwrite, Remove bool
	Preserve          bool
	Exclude           []string
	EncryptKey        string
	FscryptKey        string
	FscryptReset      bool
}

// keyValue splits one KEY=VALUE field of an option's value.
func keyValue(field string) (key, value string, err error) {
	key, value, ok := strings.Cut(field, "=")
	if !ok || value == "" {
		return "", "", fmt.Errorf("%q is not KEY=VALUE", field)
	}
	return key, value, nil
}

var sizeRE = regexp.MustCompile(`^([0-9]+)([KMGT]?)i?B?$`)

// ParseSize reads a size such as 512M, 4G or 1073741824 (bytes).
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.ToUpper(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (such as 512M or 4G)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, err
	}
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m[2]]
	if n <= 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return n << shift, nil
}

func parseSwap(v string) (Swap, error) {
	parts := strings.Split(v, ",")
	sw := Swap{Swappiness: -1}
	if strings.HasPrefix(parts[0], "/dev/") {
		sw.Device = parts[0]
	} else {
		n, err := ParseSize(parts[0])
		if err != nil {
			return sw, err
		}
		sw.Size = n
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(p, "=")
		if k != "swappiness" {
			return sw, fmt.Errorf("unknown key %q", k)
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > 200 {
			return sw, fmt.Errorf("swappiness %q is not 0 to 200", val)
		}
		sw.Swappiness = n
	}
	return sw, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func parseFilesystem(v string) (Filesystem, error) {
	parts := strings.Split(v, ",")
	fs := Filesystem{Name: parts[0]}
	if !nameRE.MatchString(fs.Name) {
		return fs, fmt.Errorf("name %q is not letters, digits, _ . -", fs.Name)
	}
	var unknown unknownParams
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(p, "=")
		switch k {
		case "type":
			fs.Type = val
		case "src":
			fs.Src = val
		case "opts":
			fs.Opts = strings.Split(val, "|")
		default:
			unknown = append(unknown, k)
		}
	}
	if fs.Type == "" || fs.Src == "" {
		return fs, errors.New("type= and src= are required")
	}
	return fs, unknown.err()
}

// unknownParams are the sub-parameters of an option that b2c does not
// know. As an error of a parse function it means: the value applies
// without them, each is a warning (the original said "B2C_WARNING: The
// parameter X is unknown" and went on).
type unknownParams []string

func (u unknownParams) Error() string {
	return fmt.Sprintf("unknown parameters %s", strings.Join(u, ", "))
}

// err is nil without unknown parameters, so that callers test err != nil.
func (u unknownParams) err() error {
	if len(u) == 0 {
		return nil
	}
	return u
}

func parseStorage(v string) ([]string, error) {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k != "additionalimagestores" || val == "" {
		return nil, errors.New("not additionalimagestores=NAME[|NAME]")
	}
	return strings.Split(val, "|"), nil
}

func parseNBD(v string) (NBD, error) {
	parts := strings.Split(v, ",")
	n := NBD{Device: parts[0], Connections: 1}
	if !regexp.MustCompile(`^/dev/nbd[0-9]+$`).MatchString(n.Device) {
		return n, fmt.Errorf("%q is not /dev/nbdN", n.Device)
	}
	for _, p := range parts[1:] {
		k, val, err := keyValue(p)
		if err != nil {
			return n, err
		}
		switch k {
		case "host":
			n.Host = val
		case "port", "connections":
			i, err := strconv.Atoi(val)
			if err != nil || i <= 0 || k == "port" && i > 65535 {
				return n, fmt.Errorf("%s %q is not a valid number", k, val)
			}
			if k == "port" {
				n.Port = i
			} else {
				n.Connections = i
			}
		default:
			return n, fmt.Errorf("unknown key %q", k)
		}
	}
	if n.Host == "" || n.Port == 0 {
		return n, errors.New("host= and port= are required")
	}
	return n, nil
}

// parseMinio never quotes the value in its errors: it holds the keys.
func parseMinio(v string) (Minio, error) {
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return Minio{}, fmt.Errorf("%d comma-separated fields, want 4", len(parts))
	}
	m := Minio{Alias: parts[0], URL: parts[1], AccessKey: parts[2], SecretKey: parts[3]}
	if !nameRE.MatchString(m.Alias) {
		return m, errors.New("the alias is not letters, digits, _ . -")
	}
	if _, err := parseURL(m.URL); err != nil {
		return m, fmt.Errorf("the URL: %w", err)
	}
	if m.AccessKey == "" || m.SecretKey == "" {
		return m, errors.New("empty key")
	}
	return m, nil
}

var moments = []string{"pipeline_start", "container_start", "container_end", "pipeline_end"}

// volumeParams are b2c.volume's parameters.
var volumeParams = []string{"filesystem", "mirror", "pull_from", "push_to", "pull_on", "push_on", "expiration",
	"overwrite", "remove", "preserve", "fscrypt_reset_key", "exclude", "encrypt_key", "fscrypt_key"}

func parseMoments(v string, changes bool) ([]string, error) {
	known := moments
	if changes {
		known = append(known[:len(known):len(known)], "changes")
	}
	list := strings.Split(v, "|")
	for _, m := range list {
		if !slices.Contains(known, m) {
			return nil, fmt.Errorf("unknown moment %q%s", m, didYouMean(m, known))
		}
	}
	return list, nil
}

func parseMirrorPlace(v string) (string, error) {
	alias, rest, ok := strings.Cut(v, "/")
	bucket, _, _ := strings.Cut(rest, "/")
	if !ok || !nameRE.MatchString(alias) || bucket == "" {
		return "", fmt.Errorf("%q is not ALIAS/BUCKET[/PATH]", v)
	}
	return v, nil
}

// parseVolume never quotes key values in its errors.
func parseVolume(v string) (Volume, error) {
	parts := strings.Split(v, ",")
	vol := Volume{Name: parts[0], Expiration: "never"}
	if !nameRE.MatchString(vol.Name) {
		return vol, fmt.Errorf("name %q is not letters, digits, _ . -", vol.Name)
	}
	var (
		err     error
		unknown unknownParams
	)
	for _, p := range parts[1:] {
		k, val, hasVal := strings.Cut(p, "=")
		flag := func(dst *bool) error {
			if hasVal {
				return fmt.Errorf("%s takes no value", k)
			}
			*dst = true
			return nil
		}
		need := func() error {
			if val == "" {
				return fmt.Errorf("%s needs a value", k)
			}
			return nil
		}
		switch k {
		case "filesystem":
			err = need()
			vol.Filesystem = val
		case "mirror":
			vol.PullFrom, err = parseMirrorPlace(val)
			vol.PushTo = vol.PullFrom
		case "pull_from":
			vol.PullFrom, err = parseMirrorPlace(val)
		case "push_to":
			vol.PushTo, err = parseMirrorPlace(val)
		case "pull_on":
			vol.PullOn, err = parseMoments(val, false)
		case "push_on":
			vol.PushOn, err = parseMoments(val, true)
		case "expiration":
			if val != "never" && val != "pipeline_end" {
				err = fmt.Errorf("expiration %q is not never or pipeline_end%s", val, didYouMean(val, []string{"never", "pipeline_end"}))
			}
			vol.Expiration = val
		case "overwrite":
			err = flag(&vol.Overwrite)
		case "remove":
			err = flag(&vol.Remove)
		case "preserve":
			err = flag(&vol.Preserve)
		case "fscrypt_reset_key":
			err = flag(&vol.FscryptReset)
		case "exclude":
			err = need()
			vol.Exclude = append(vol.Exclude, val)
		case "encrypt_key":
			vol.EncryptKey, err = parseEncryptKey(val)
		case "fscrypt_key":
			vol.FscryptKey = val
			_, err = FscryptKey(val)
		default:
			unknown = append(unknown, k)
		}
		if err != nil {
			return vol, err
		}
	}
	return vol, unknown.err()
}

// parseEncryptKey returns the SSE-C key of encrypt_key: a 256-bit key, 32
// bytes as they are or in base64, alone or in the form the original
// handed to MinIO's client, ALIAS/BUCKET[/PREFIX]=KEY. The key applies to
// the volume's own transfers, whatever place that form names.
func parseEncryptKey(v string) (string, error) {
	if isSSECKey(v) {
		return v, nil
	}
	if place, key, ok := strings.Cut(v, "="); ok && isSSECKey(key) {
		if _, err := parseMirrorPlace(place); err == nil {
			return key, nil
		}
	}
	return "", errors.New("encrypt_key is not 32 bytes (as they are or in base64), alone or as ALIAS/BUCKET[/PREFIX]=KEY")
}

func isSSECKey(v string) bool {
	b, err := DecodeKey(v)
	return len(v) == 32 || err == nil && len(b) == 32
}

// fscryptKeySize is the size of an fscrypt master key: fscrypt's
// AES-256-XTS needs 64 bytes.
const fscryptKeySize = 64

// FscryptKey decodes a volume's fscrypt_key. It is the one place that
// checks the key's length: the parser, and the volume that uses the key.
func FscryptKey(b64 string) ([]byte, error) {
	key, err := DecodeKey(b64)
	if err != nil || len(key) != fscryptKeySize {
		return nil, fmt.Errorf("fscrypt_key is not the base64 of %d bytes", fscryptKeySize)
	}
	return key, nil
}

// Iface is one b2c.iface.
type Iface struct {
	Name        string
	Address     *net.IPNet
	Gateway     net.IP
	Nameservers []net.IP
	Routes      []Route
	Forward     bool
	DHCP        bool
}

// Route is a static route of b2c.iface.
type Route struct {
	Net *net.IPNet
	Via net.IP
}

func parseIP(what, s string) (net.IP, error) {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("%s %q is not an IP address", what, s)
	}
	return ip, nil
}

func parseIface(v string) (Iface, error) {
	parts := strings.Split(v, ",")
	f := Iface{Name: parts[0]}
	if !nameRE.MatchString(f.Name) || len(f.Name) > 15 {
		return f, fmt.Errorf("interface name %q is invalid", f.Name)
	}
	var unknown unknownParams
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(p, "=")
		var err error
		switch k {
		case "address":
			var ip net.IP
			ip, f.Address, err = net.ParseCIDR(val)
			if err == nil {
				f.Address.IP = ip
			} else {
				err = fmt.Errorf("address %q is not an address/prefix", val)
			}
		case "gateway":
			f.Gateway, err = parseIP("gateway", val)
		case "nameserver":
			var ip net.IP
			ip, err = parseIP("nameserver", val)
			f.Nameservers = append(f.Nameservers, ip)
		case "route":
			dst, gw, ok := strings.Cut(val, ":")
			var r Route
			if _, r.Net, err = net.ParseCIDR(dst); err != nil || !ok {
				err = fmt.Errorf("route %q is not NET/PREFIX:GATEWAY", val)
			} else if r.Via, err = parseIP("route gateway", gw); err == nil {
				f.Routes = append(f.Routes, r)
			}
		case "forward":
			f.Forward = true
		case "dhcp", "auto": // auto: the original's name for it
			f.DHCP = true
		default:
			unknown = append(unknown, k)
		}
		if err != nil {
			return f, err
		}
	}
	return f, unknown.err()
}

// KernelIP is ip= in the kernel's syntax:
// client:server:gateway:netmask:hostname:device:autoconf:dns0:dns1:ntp0,
// or one of off, none, dhcp, on, any, both, bootp, rarp.
type KernelIP struct {
	Off      bool // off, none: no network configuration at all
	DHCP     bool // ask DHCP (on Device, or on every wired interface)
	Client   net.IP
	Gateway  net.IP
	Netmask  net.IPMask // the class's mask when not given, as the kernel does
	Hostname string
	Device   string // "": the first wired interface
	DNS      []net.IP
	NTP      []net.IP
}

// ipKeywords are the values of ip= that are not addresses.
var ipKeywords = []string{"off", "none", "dhcp", "on", "any", "both", "bootp", "rarp"}

// ParseKernelIP parses ip=. An invalid field is an error naming it.
func ParseKernelIP(v string) (KernelIP, error) {
	var k KernelIP
	switch v {
	case "off", "none":
		k.Off = true
		return k, nil
	case "dhcp", "on", "any", "both", "bootp", "rarp":
		k.DHCP = true
		return k, nil
	}
	if !strings.Contains(v, ":") {
		if near := nearest(v, ipKeywords); near != "" {
			return k, fmt.Errorf("%q is neither a keyword (%s) nor an address (did you mean %s?)", v, strings.Join(ipKeywords, ", "), near)
		}
	}
	f := strings.Split(v, ":")
	if len(f) > 10 {
		return k, fmt.Errorf("%d fields, at most 10", len(f))
	}
	names := []string{"client", "server", "gateway", "netmask", "hostname", "device", "autoconf", "dns0", "dns1", "ntp0"}
	autoconf := ""
	for i, s := range f {
		if s == "" {
			continue
		}
		var ip net.IP
		switch names[i] {
		case "client", "server", "gateway", "netmask", "dns0", "dns1", "ntp0":
			if ip = net.ParseIP(s).To4(); ip == nil {
				return k, fmt.Errorf("field %s %q is not an IPv4 address", names[i], s)
			}
		}
		switch names[i] {
		case "client":
			k.Client = ip
		case "gateway":
			k.Gateway = ip
		case "netmask":
			k.Netmask = net.IPMask(ip)
			if ones, bits := k.Netmask.Size(); ones == 0 && bits == 0 {
				return k, fmt.Errorf("field netmask %q is not a netmask", s)
			}
		case "dns0", "dns1":
			k.DNS = append(k.DNS, ip)
		case "ntp0":
			k.NTP = append(k.NTP, ip)
		case "device":
			if !nameRE.MatchString(s) || len(s) > 15 {
				return k, fmt.Errorf("field device %q is not an interface name", s)
			}
			k.Device = s
		case "autoconf":
			switch s {
			case "off", "none", "on", "any", "dhcp", "bootp", "rarp", "both":
				autoconf = s
			default:
				return k, fmt.Errorf("field autoconf %q is not off, none, on, any, dhcp, bootp, rarp or both", s)
			}
		case "hostname":
			if !validHostname(s) {
				return k, fmt.Errorf("field hostname %q is not a host name", s)
			}
			k.Hostname = s
		}
	}
	switch {
	case autoconf != "" && autoconf != "off" && autoconf != "none":
		k.DHCP = true
	case k.Client == nil && autoconf == "":
		// The kernel's default autoconf is "any" when no address is given.
		k.DHCP = true
	case k.Client == nil:
		k.Off = true
	case k.Netmask == nil:
		k.Netmask = k.Client.DefaultMask()
	}
	return k, nil
}
