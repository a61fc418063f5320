package cmdline

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const (
		minio = `b2c.minio=s3,http://10.42.0.1:9000,ACCESSKEY,SECRETKEY `
		fs    = `b2c.filesystem=shared,type=nfs,src=10.42.0.1:/srv `
		key64 = `1AnYmXTvjZVtb5WOJj3HxjjuRTSzLXonH28/MvznzWjqIC1aOylktGQ1G6mF8U5LZwCRydpG13YVEckWRuL0lg==`
	)
	for _, tt := range []struct {
		name string
		in   string
		want []string // each diagnostic, as String gives it, in order
	}{
		// Lines that are right give nothing.
		{"plain", `console=ttyS0 quiet b2c.run="-ti docker://alpine echo hi" b2c.cache_device=auto b2c.ntp_peer=auto`, nil},
		{"read-only mirror", minio + `b2c.volume=ref,mirror=s3/traces,pull_on=pipeline_start,overwrite,preserve,remove`, nil},
		{"names defined", fs + `b2c.cache_device=shared b2c.storage=additionalimagestores=shared b2c.volume=v,filesystem=shared`, nil},
		{"cache device path", `b2c.cache_device=/dev/sda b2c.swap=/dev/sdb2`, nil},
		{"ntp host", `b2c.ntp_peer=ntp.lab b2c.ntp_peer=10.0.0.1`, nil},
		{"quoted value then kernel flags", `b2c.run="docker://x echo hi" quiet splash`, nil},
		{"fscrypt with a cache", `b2c.cache_device=auto b2c.volume=s,fscrypt_key=` + key64, nil},

		// a. A name that no option defines.
		{"undefined alias", minio + `b2c.volume=job,mirror=s4/jobs,pull_on=pipeline_start`,
			[]string{"ERROR: b2c.volume=job,mirror=s4/jobs,pull_on=pipeline_start: no b2c.minio defines the alias s4: the volume step fails, no container runs (did you mean s3?)"}},
		{"undefined alias of push_to", minio + `b2c.volume=job,pull_from=s3/a,pull_on=pipeline_start,push_to=lab/b,push_on=pipeline_end`,
			[]string{"ERROR: b2c.volume=job,pull_from=s3/a,pull_on=pipeline_start,push_to=lab/b,push_on=pipeline_end: no b2c.minio defines the alias lab: the volume step fails, no container runs"}},
		{"alias from the extra options", `b2c.extra_args_url=https://ci.lab/args b2c.volume=job,mirror=s3/jobs,pull_on=pipeline_start`,
			[]string{"WARNING: b2c.volume=job,mirror=s3/jobs,pull_on=pipeline_start: no b2c.minio defines the alias s3: the volume step fails, no container runs (unless the extra options of b2c.extra_args_url fix it)"}},
		{"undefined volume filesystem", fs + `b2c.volume=job,filesystem=shraed`,
			[]string{"WARNING: b2c.volume=job,filesystem=shraed: no b2c.filesystem defines shraed: the volume's files go to /mnt/shraed/job, in RAM (did you mean shared?)"}},
		{"undefined image store", fs + `b2c.storage=additionalimagestores=shared|images`,
			[]string{"ERROR: b2c.storage=additionalimagestores=shared|images: no b2c.filesystem defines images: the storage step fails, no container runs"}},
		{"cache device word", `b2c.cache_device=atuo`,
			[]string{"WARNING: b2c.cache_device=atuo: neither a keyword (none, auto, reset) nor a /dev path nor a b2c.filesystem name: the cache is in RAM (did you mean auto?)"}},
		{"cache device filesystem typo", fs + `b2c.cache_device=sharde`,
			[]string{"WARNING: b2c.cache_device=sharde: neither a keyword (none, auto, reset) nor a /dev path nor a b2c.filesystem name: the cache is in RAM (did you mean shared?)"}},
		{"cache device without /dev", `b2c.cache_device=nvme0n1p2`,
			[]string{"WARNING: b2c.cache_device=nvme0n1p2: neither a keyword (none, auto, reset) nor a /dev path nor a b2c.filesystem name: the cache is in RAM (did you mean /dev/nvme0n1p2?)"}},
		{"cache on undefined nbd", `b2c.cache_device=/dev/nbd0`,
			[]string{"WARNING: b2c.cache_device=/dev/nbd0: no b2c.nbd defines /dev/nbd0: the device will not appear, the cache is in RAM"}},
		{"swap on undefined nbd", `b2c.nbd=/dev/nbd1,host=gw,port=10809 b2c.swap=/dev/nbd0,swappiness=10`,
			[]string{"WARNING: b2c.swap=/dev/nbd0,swappiness=10: no b2c.nbd defines /dev/nbd0: the device will not appear, no swap"}},
		{"swap on defined nbd", `b2c.nbd=/dev/nbd0,host=gw,port=10809 b2c.swap=/dev/nbd0`, nil},
		{"swap file on an nbd cache", `b2c.swap=4G b2c.cache_device=/dev/nbd0 b2c.nbd=/dev/nbd0,host=gw,port=1`, nil},
		{"fscrypt without a cache", `b2c.volume=s,fscrypt_key=` + key64,
			[]string{"ERROR: b2c.volume=s,fscrypt_key=*****: fscrypt_key needs the cache, and b2c.cache_device=none gives none: the volume step fails, no container runs"}},
		{"swap file without a cache", `b2c.swap=4G`,
			[]string{"WARNING: b2c.swap=4G: a swap file needs the cache, and b2c.cache_device=none gives none: no swap"}},
		{"swap file on a cache that will not be", `b2c.swap=4G b2c.cache_device=/dev/nbd0 b2c.nbd=/dev/nbd1,host=gw,port=1`,
			[]string{"WARNING: b2c.cache_device=/dev/nbd0: no b2c.nbd defines /dev/nbd0: the device will not appear, the cache is in RAM",
				"WARNING: b2c.swap=4G: a swap file needs the cache, and b2c.cache_device=/dev/nbd0 gives none: no swap"}},
		{"last cache_device wins", `b2c.cache_device=nnoe b2c.cache_device=none`, nil},

		// b. A keyword's typo read as a host.
		{"ntp typo", `b2c.ntp_peer=atuo`, []string{`WARNING: b2c.ntp_peer=atuo: read as the NTP host "atuo" (did you mean auto?)`}},
		{"ntp typo none", `b2c.ntp_peer=nnoe`, []string{`WARNING: b2c.ntp_peer=nnoe: read as the NTP host "nnoe" (did you mean none?)`}},

		// c. Quoting.
		{"unclosed quote", `b2c.run="-ti docker://alpine echo hi b2c.pipefail`,
			[]string{"ERROR: b2c.run=-ti docker://alpine echo hi b2c.pipefail: a double quote in this token is never closed: the kernel gives it the rest of the line; close it"}},
		{"unclosed quote hides keys", `b2c.run="docker://alpine b2c.minio=s3,http://a:9000,AK,SK`,
			[]string{"ERROR: b2c.run=docker://alpine ...: a double quote in this token is never closed: the kernel gives it the rest of the line; close it"}},
		{"unclosed quote in a foreign token", `SALAD.x="a b2c.pipefail`,
			[]string{"ERROR: SALAD.x=a b2c.pipefail: a double quote in this token is never closed: the kernel gives it the rest of the line; close it"}},
		{"value split by a quote", `b2c.run=-ti "docker://alpine echo hi" quiet`,
			[]string{`WARNING: docker://alpine echo hi: looks like part of the value of the b2c.run before it, which the kernel split off: quote the whole value in double quotes: b2c.run="-ti docker://alpine echo hi"`}},
		{"unquoted value", `b2c.run_post=-ti docker://alpine echo hi`,
			[]string{`WARNING: docker://alpine: looks like part of the value of the b2c.run_post before it, which the kernel split off: quote the whole value in double quotes: b2c.run_post="-ti docker://alpine ..."`}},
		{"single quotes", `b2c.container='-ti docker://alpine echo'`,
			[]string{`WARNING: docker://alpine: looks like part of the value of the b2c.run before it, which the kernel split off: quote the whole value in double quotes (the kernel does not know single quotes): b2c.container="-ti docker://alpine ..."`}},
		{"stray image after another token", `b2c.run=-v job:/job docker://alpine`,
			[]string{"WARNING: docker://alpine: looks like part of a b2c option's value that the kernel split off: quote the whole value in double quotes"}},

		// d. Mirrors that never transfer.
		{"mirror without moments", minio + `b2c.volume=job,mirror=s3/jobs,overwrite`,
			[]string{"WARNING: b2c.volume=job,mirror=s3/jobs,overwrite: a mirror with neither pull_on nor push_on never transfers anything (no moment, no transfer)"}},
		{"pull_from without pull_on", minio + `b2c.volume=job,pull_from=s3/a,push_to=s3/b,push_on=pipeline_end`,
			[]string{"WARNING: b2c.volume=job,pull_from=s3/a,push_to=s3/b,push_on=pipeline_end: pull_from without pull_on: it never pulls (no moment, no transfer)"}},
		{"push_on without a place", minio + `b2c.volume=job,pull_from=s3/a,pull_on=pipeline_start,push_on=pipeline_end`,
			[]string{"WARNING: b2c.volume=job,pull_from=s3/a,pull_on=pipeline_start,push_on=pipeline_end: push_on without mirror= or push_to=: there is nothing to push to"}},
		{"mirror with a key", minio + `b2c.volume=job,mirror=s3/jobs,encrypt_key=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=`,
			[]string{"WARNING: b2c.volume=job,mirror=s3/jobs,encrypt_key=*****: a mirror with neither pull_on nor push_on never transfers anything (no moment, no transfer)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range Parse(tt.in).Check() {
				got = append(got, d.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Parse(%q).Check() =\n%s\nwant\n%s", tt.in, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// The extra options count: a name they define is defined.
func TestCheckExtra(t *testing.T) {
	r := Parse(`b2c.extra_args_url=https://ci.lab/args b2c.volume=job,mirror=s3/jobs,pull_on=pipeline_start b2c.cache_device=atuo`)
	r.Add(`b2c.minio=s3,https://s3.lab,AK,SK b2c.cache_device=auto`)
	if d := r.Check(); len(d) != 0 {
		t.Errorf("Check() with the extra options = %v, want none", d)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"auto", "auto", 0}, {"atuo", "auto", 1}, {"nnoe", "none", 1}, {"aut", "auto", 1},
		{"autoo", "auto", 1}, {"ntp.lab", "none", 6}, {"", "abc", 3},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// Keyword typos inside an option name the keyword meant.
func TestParseDidYouMean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`b2c.iface=eth0,dhpc`, "WARNING: b2c.iface=eth0,dhpc: the parameter dhpc is unknown, ignored (did you mean dhcp?)"},
		{`b2c.iface=eth0,dhcp,mtu=9000`, "WARNING: b2c.iface=eth0,dhcp,mtu=9000: the parameter mtu is unknown, ignored"},
		{`b2c.volume=v,overwite`, "WARNING: b2c.volume=*****: the parameter overwite is unknown, ignored (did you mean overwrite?)"},
		{`b2c.filesystem=f,type=nfs,src=a:/b,opt=ro`, "WARNING: b2c.filesystem=f,type=nfs,src=a:/b,opt=ro: the parameter opt is unknown, ignored (did you mean opts?)"},
		{`b2c.volume=v,expiration=pipline_end`, `ERROR: b2c.volume=*****: invalid value (hidden: it holds keys) for b2c.volume: expiration "pipline_end" is not never or pipeline_end (did you mean pipeline_end?); accepted: NAME[,OPTION]...`},
		{`b2c.volume=v,mirror=s3/b,push_on=pipeline_ned`, `ERROR: b2c.volume=*****: invalid value (hidden: it holds keys) for b2c.volume: unknown moment "pipeline_ned" (did you mean pipeline_end?); accepted: NAME[,OPTION]...`},
		{`ip=dchp`, `ERROR: ip=dchp: invalid value "dchp" for ip=: "dchp" is neither a keyword (off, none, dhcp, on, any, both, bootp, rarp) nor an address (did you mean dhcp?)`},
	} {
		r := Parse(tt.in)
		if len(r.Diagnostics) != 1 || r.Diagnostics[0].String() != tt.want {
			t.Errorf("Parse(%q).Diagnostics = %v, want [%s]", tt.in, r.Diagnostics, tt.want)
		}
	}
}
