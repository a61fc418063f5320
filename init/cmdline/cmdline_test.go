package cmdline

import (
	"encoding/base64"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"quiet  console=ttyS0\n", []string{"quiet", "console=ttyS0"}},
		{`b2c.run="-ti docker://alpine echo hi" b2c.pipefail`, []string{"b2c.run=-ti docker://alpine echo hi", "b2c.pipefail"}},
		{`a="" b`, []string{"a=", "b"}},
		{`"b2c.hostname=x y"`, []string{"b2c.hostname=x y"}},
		{`b2c.run="sh -c 'a=b c'"`, []string{"b2c.run=sh -c 'a=b c'"}},
	} {
		if got := Tokens(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	for _, tt := range []struct {
		in    string
		check func(c Config) bool
	}{
		{`b2c.run="docker://alpine echo hi"`, func(c Config) bool {
			return len(c.Run) == 1 && reflect.DeepEqual(c.Run[0].Args, []string{"docker://alpine", "echo", "hi"})
		}},
		{`b2c.container=alpine b2c.run=busybox`, func(c Config) bool {
			return len(c.Run) == 2 && c.Run[0].Args[0] == "alpine" && c.Run[1].Args[0] == "busybox"
		}},
		{`b2c.run="alpine sh -c 'sleep 1 & exit 0'"`, func(c Config) bool {
			return reflect.DeepEqual(c.Run[0].Args, []string{"alpine", "sh", "-c", "sleep 1 & exit 0"})
		}},
		{`b2c.post_container=a b2c.run_post=b`, func(c Config) bool { return len(c.RunPost) == 2 }},
		{`b2c.service=a b2c.run_service=b`, func(c Config) bool { return len(c.RunService) == 2 }},
		{`b2c.pipefail`, func(c Config) bool { return c.Pipefail }},
		{`b2c.poweroff_delay=15`, func(c Config) bool { return c.PoweroffDelay == 15*time.Second }},
		{`b2c.timeout=90m`, func(c Config) bool { return c.Timeout == 90*time.Minute }},
		{`b2c.timeout=3600`, func(c Config) bool { return c.Timeout == time.Hour }},
		{`b2c.hostname=a b2c.hostname=dut-1.lab`, func(c Config) bool { return c.Hostname == "dut-1.lab" }},
		{``, func(c Config) bool {
			return c.Hostname == "boot2container" && c.NTPPeer == "none" && c.CacheDevice == "none"
		}},
		{`b2c.insmods=a,/lib/b.ko`, func(c Config) bool { return reflect.DeepEqual(c.Insmods, []string{"a", "/lib/b.ko"}) }},
		{`b2c.ntp_peer=auto`, func(c Config) bool { return c.NTPPeer == "auto" }},
		{`b2c.ntp_peer=10.0.2.2`, func(c Config) bool { return c.NTPPeer == "10.0.2.2" }},
		{`b2c.proxy=https=http://p:3128,no=a|b`, func(c Config) bool {
			return c.Proxy.HTTPS == "http://p:3128" && reflect.DeepEqual(c.Proxy.No, []string{"a", "b"})
		}},
		{`b2c.extra_args_url=http://10.0.2.2:8000/args`, func(c Config) bool { return c.ExtraArgsURL == "http://10.0.2.2:8000/args" }},
		{`b2c.shutdown_cmd="echo JOB_RESULT=$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE; poweroff -f"`, func(c Config) bool {
			return c.ShutdownCmd == "echo JOB_RESULT=$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE; poweroff -f"
		}},
		{`ip=dhcp console=ttyS0 console=tty0`, func(c Config) bool {
			return c.IP == "dhcp" && reflect.DeepEqual(c.Consoles, []string{"ttyS0", "tty0"})
		}},
		{`b2c.keymap=fr`, func(c Config) bool { return c.Keymap == "fr" }},
		{`b2c.cache_device=auto`, func(c Config) bool { return c.CacheDevice == "auto" }},
		{`b2c.swap=256M,swappiness=10`, func(c Config) bool { return c.Swap.Size == 256<<20 && c.Swap.Swappiness == 10 }},
		{`b2c.swap=/dev/sda2`, func(c Config) bool { return c.Swap.Device == "/dev/sda2" && c.Swap.Swappiness == -1 }},
		{`b2c.filesystem=nfs0,type=nfs,src=10.0.0.1:/srv,opts=ro|vers=4`, func(c Config) bool {
			return len(c.Filesystems) == 1 && c.Filesystems[0].Type == "nfs" && reflect.DeepEqual(c.Filesystems[0].Opts, []string{"ro", "vers=4"})
		}},
		{`b2c.storage=additionalimagestores=a|b`, func(c Config) bool { return reflect.DeepEqual(c.AdditionalImageStores, []string{"a", "b"}) }},
		{`b2c.nbd=/dev/nbd0,host=10.0.0.1,port=10809,connections=4`, func(c Config) bool {
			return len(c.NBDs) == 1 && c.NBDs[0].Port == 10809 && c.NBDs[0].Connections == 4
		}},
		{`b2c.minio=s3,http://10.0.0.1:9000,AK,SK`, func(c Config) bool {
			return len(c.Minios) == 1 && c.Minios[0].SecretKey == "SK" && reflect.DeepEqual(c.Secrets(), []string{"AK", "SK"})
		}},
		{`b2c.extra_args_url=https://lab:tok3n@10.0.0.1/args`, func(c Config) bool { return reflect.DeepEqual(c.Secrets(), []string{"tok3n"}) }},
		{`b2c.volume="job,mirror=s3/bucket/p,pull_on=pipeline_start,push_on=changes|pipeline_end,exclude=*.log,exclude=*.tmp,overwrite,remove,preserve,expiration=pipeline_end,fscrypt_key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==,encrypt_key=0123456789abcdef0123456789abcdef"`, func(c Config) bool {
			v := c.Volumes[0]
			return v.Name == "job" && v.PullFrom == "s3/bucket/p" && v.PushTo == v.PullFrom && len(v.Exclude) == 2 &&
				v.Overwrite && v.Remove && v.Preserve && v.Expiration == "pipeline_end" && reflect.DeepEqual(v.PushOn, []string{"changes", "pipeline_end"})
		}},
		{`b2c.iface=eth1,address=10.1.0.2/24,gateway=10.1.0.1,nameserver=10.1.0.1,route=192.168.0.0/16:10.1.0.254,forward`, func(c Config) bool {
			f := c.Ifaces[0]
			return f.Name == "eth1" && f.Address.String() == "10.1.0.2/24" && len(f.Routes) == 1 && f.Forward
		}},
		{`ip=10.0.2.15::10.0.2.2:255.255.255.0:dut:eth0:off:10.0.2.3`, func(c Config) bool { return c.IP != "" }},
	} {
		r := Parse(tt.in)
		if len(r.Diagnostics) != 0 {
			t.Errorf("Parse(%q) diagnostics = %v, want none", tt.in, r.Diagnostics)
		}
		if !tt.check(r.Config) {
			t.Errorf("Parse(%q) = %+v, check failed", tt.in, r.Config)
		}
	}
}

// TestOriginalForms: what the original boot2container accepted keeps
// working. An unknown sub-parameter of b2c.iface, b2c.volume or
// b2c.filesystem is one warning naming it, and the rest of the option
// applies; the original's spellings mean what they meant.
func TestOriginalForms(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef" // 32 bytes
	for _, tt := range []struct {
		in       string
		warnings []string // the unknown parameters, in order
		check    func(Config) bool
	}{
		{`b2c.iface=eth0,auto`, nil,
			func(c Config) bool { return len(c.Ifaces) == 1 && c.Ifaces[0].DHCP }},
		{`b2c.iface=eth0,dhcp,mtu=9000`, []string{"mtu"},
			func(c Config) bool { return len(c.Ifaces) == 1 && c.Ifaces[0].DHCP }},
		{`b2c.iface=eth0,address=10.0.0.2/24,color=red,gateway=10.0.0.1`, []string{"color"},
			func(c Config) bool {
				return len(c.Ifaces) == 1 && c.Ifaces[0].Address.String() == "10.0.0.2/24" && c.Ifaces[0].Gateway.String() == "10.0.0.1"
			}},
		{`b2c.filesystem=x,type=ext4,src=/dev/vdb,color=red`, []string{"color"},
			func(c Config) bool { return len(c.Filesystems) == 1 && c.Filesystems[0].Src == "/dev/vdb" }},
		{`b2c.volume=job,frob,mirror=lab/b,pull_on=pipeline_start,zap=1`, []string{"frob", "zap"},
			func(c Config) bool {
				return len(c.Volumes) == 1 && c.Volumes[0].PullFrom == "lab/b" && len(c.Volumes[0].PullOn) == 1
			}},
		{`b2c.volume=job,mirror=lab/b,encrypt_key=lab/b=` + key, nil,
			func(c Config) bool { return len(c.Volumes) == 1 && c.Volumes[0].EncryptKey == key }},
		{`b2c.volume=job,mirror=lab/b/p,encrypt_key=lab/b/p=` + base64.StdEncoding.EncodeToString([]byte(key)), nil,
			func(c Config) bool {
				return len(c.Volumes) == 1 && c.Volumes[0].EncryptKey == base64.StdEncoding.EncodeToString([]byte(key))
			}},
		{`b2c.volume=job,encrypt_key=` + key, nil,
			func(c Config) bool { return len(c.Volumes) == 1 && c.Volumes[0].EncryptKey == key }},
	} {
		r := Parse(tt.in)
		var got []string
		for _, d := range r.Diagnostics {
			if d.Error {
				t.Errorf("Parse(%q): error %v, want warnings only", tt.in, d)
				continue
			}
			got = append(got, d.Message)
		}
		var want []string
		for _, w := range tt.warnings {
			want = append(want, "the parameter "+w+" is unknown, ignored")
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) warnings = %q, want %q", tt.in, got, want)
		}
		if !tt.check(r.Config) {
			t.Errorf("Parse(%q) = %+v, check failed", tt.in, r.Config)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tt := range []struct {
		in, option string
	}{
		{`b2c.poweroff_delay=abc`, "b2c.poweroff_delay"},
		{`b2c.poweroff_delay=-1`, "b2c.poweroff_delay"},
		{`b2c.poweroff_delay`, "b2c.poweroff_delay"},
		{`b2c.timeout=soon`, "b2c.timeout"},
		{`b2c.timeout=-5s`, "b2c.timeout"},
		{`b2c.pipefail=1`, "b2c.pipefail"},
		{`b2c.run=`, "b2c.run"},
		{`b2c.run="alpine sh -c 'x"`, "b2c.run"},
		{`b2c.hostname=bad_name`, "b2c.hostname"},
		{`b2c.ntp_peer=not/a/host`, "b2c.ntp_peer"},
		{`b2c.proxy=https=ftp://x`, "b2c.proxy"},
		{`b2c.proxy=socks=x`, "b2c.proxy"},
		{`b2c.extra_args_url=file:///etc/passwd`, "b2c.extra_args_url"},
		{`b2c.insmods=a,,b`, "b2c.insmods"},
		{`b2c.keymap=`, "b2c.keymap"},
		{`b2c.cache_device=`, "b2c.cache_device"},
		{`b2c.swap=lots`, "b2c.swap"},
		{`b2c.swap=1G,swappiness=300`, "b2c.swap"},
		{`b2c.filesystem=x,type=ext4`, "b2c.filesystem"},
		{`b2c.storage=stores=a`, "b2c.storage"},
		{`b2c.nbd=/dev/sda,host=h,port=1`, "b2c.nbd"},
		{`b2c.nbd=/dev/nbd0,host=h,port=99999`, "b2c.nbd"},
		{`b2c.minio=s3,http://x,AK`, "b2c.minio"},
		{`b2c.minio=s3,ftp://x,AK,SK`, "b2c.minio"},
		{`b2c.volume=job,mirror=nobucket`, "b2c.volume"},
		{`b2c.volume=job,push_on=sometimes`, "b2c.volume"},
		{`b2c.volume=job,expiration=tomorrow`, "b2c.volume"},
		{`b2c.volume=job,fscrypt_key=!!!`, "b2c.volume"},
		{`b2c.volume=job,fscrypt_key=c2VjcmV0`, "b2c.volume"},
		{`b2c.volume=job,encrypt_key=short`, "b2c.volume"},
		{`b2c.volume=job,pull_on=changes`, "b2c.volume"},
		{`b2c.volume=job,remove=yes`, "b2c.volume"},
		{`b2c.volume=job,exclude=`, "b2c.volume"},
		{`b2c.volume=job,encrypt_key=lab/b=short`, "b2c.volume"},
		{`b2c.volume=job,encrypt_key=nobucket=0123456789abcdef0123456789abcdef`, "b2c.volume"},
		{`b2c.iface=eth0,address=10.0.0.1`, "b2c.iface"},
		{`b2c.iface=eth0,route=10.0.0.0/8`, "b2c.iface"},
		{`b2c.iface=eth0,gateway=x`, "b2c.iface"},
		{`ip=10.0.2.300:::::::`, "ip"},
		{`ip=10.0.2.15::::::maybe`, "ip"},
	} {
		r := Parse(tt.in)
		if len(r.Diagnostics) != 1 || !r.Diagnostics[0].Error || r.Diagnostics[0].Option != tt.option {
			t.Errorf("Parse(%q) diagnostics = %v, want one error on %s", tt.in, r.Diagnostics, tt.option)
			continue
		}
		if err := r.Err(); err == nil || !strings.Contains(err.Error(), tt.option) {
			t.Errorf("Parse(%q).Err() = %v, want an error naming %s", tt.in, err, tt.option)
		}
	}
}

// Keys never reach a diagnostic, which the console prints.
func TestSecretsNotInDiagnostics(t *testing.T) {
	for _, in := range []string{`b2c.minio=s3,ftp://x,AKIAxyzzy,hunter2pw`, `b2c.volume=job,encrypt_key=hunter2pw,frob`} {
		r := Parse(in)
		if len(r.Diagnostics) != 1 {
			t.Fatalf("Parse(%q) diagnostics = %v, want one", in, r.Diagnostics)
		}
		if s := r.Diagnostics[0].String(); strings.Contains(s, "xyzzy") || strings.Contains(s, "hunter2") {
			t.Errorf("diagnostic quotes a key: %s", s)
		}
	}
}

func TestParseIgnoresForeignTokens(t *testing.T) {
	r := Parse(`console=ttyS0 quiet loglevel=6 SALAD.machine_id=abc panic=-1 b2c.frobnicate=1`)
	if len(r.Diagnostics) != 1 || r.Diagnostics[0].Error || r.Diagnostics[0].Option != "b2c.frobnicate" {
		t.Fatalf("diagnostics = %v, want one warning on b2c.frobnicate", r.Diagnostics)
	}
}

func TestParseExtraOrder(t *testing.T) {
	r := Parse(`b2c.run=a b2c.hostname=k`, `b2c.run=b b2c.hostname=e`)
	if got := []string{r.Config.Run[0].Value, r.Config.Run[1].Value}; !reflect.DeepEqual(got, []string{"a", "b"}) || r.Config.Hostname != "e" {
		t.Errorf("Parse with extra = %v %q, want [a b] e", got, r.Config.Hostname)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`b2c.run="-ti docker://alpine echo hi"`, `b2c.proxy=https=http://x,no=a|b`, `"`, `b2c.timeout=1h b2c.pipefail`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Parse(s)
		for _, d := range r.Diagnostics {
			if d.Option == "" || d.Message == "" {
				t.Errorf("diagnostic without option or message: %+v", d)
			}
			if _, known := lookup(d.Option); d.Error && !known && d.Option != "ip" {
				t.Errorf("error on an unknown option: %+v", d)
			}
		}
		// A container's words are what ParseContainer gives for its value.
		for _, c := range append(append(r.Config.Run, r.Config.RunPost...), r.Config.RunService...) {
			again, err := ParseContainer(c.Value)
			if err != nil || !reflect.DeepEqual(again.Args, c.Args) || len(c.Args) == 0 {
				t.Errorf("container %q: args %q, reparsed %q, %v", c.Value, c.Args, again.Args, err)
			}
		}
		if again := Parse(s); !reflect.DeepEqual(again, r) {
			t.Errorf("Parse(%q) is not deterministic", s)
		}
	})
}

func TestValidHostname(t *testing.T) {
	// RFC 1123's grammar, as a regexp: the oracle, too slow to compile
	// for the agent's start.
	rfc1123 := regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	long := strings.Repeat("a", 63)
	for _, c := range []struct {
		name string
		want bool
	}{
		{"b2c", true},
		{"ntp.example.org", true},
		{"10.0.2.2", true},
		{"a", true},
		{"a-b", true},
		{"A1-b2.c3", true},
		{long, true},
		{long + "a", false},
		{long + "." + long, true},
		{"", false},
		{"-a", false},
		{"a-", false},
		{"a..b", false},
		{".a", false},
		{"a.", false},
		{"a_b", false},
		{"a b", false},
		{"é", false},
		{"a.-b", false},
		{"ntp.example.org:123", false},
	} {
		if got := validHostname(c.name); got != c.want {
			t.Errorf("validHostname(%q) = %v, want %v", c.name, got, c.want)
		}
		if oracle := rfc1123.MatchString(c.name); oracle != c.want {
			t.Errorf("table disagrees with RFC 1123's grammar on %q: %v", c.name, oracle)
		}
	}
}
