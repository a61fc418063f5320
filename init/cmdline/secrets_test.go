package cmdline

import (
	"slices"
	"testing"
)

func TestRawSecrets(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       []string
	}{
		{"valid minio", `b2c.minio="lab,http://10.0.2.2:9000,AKEY,SKEY"`, []string{"AKEY", "SKEY"}},
		{"invalid minio", `b2c.minio="lab,notaurl,AKEY,SKEY,extra"`, []string{"AKEY", "SKEY", "extra", "SKEY,extra"}},
		{"minio URL password", `b2c.minio="lab,https://u:p%40ss@s3:9000,AKEY,SKEY"`, []string{"AKEY", "SKEY", "p%40ss", "p@ss"}},
		{"proxy", `b2c.proxy=https=http://user:s3cr%2Ft@proxy:3128,no=a|b`, []string{"s3cr%2Ft", "s3cr/t"}},
		{"extra args token", `b2c.extra_args_url=https://ci/args?job=1&token=abc%2Bdef&sig=xyz`, []string{"abc%2Bdef", "abc+def", "xyz"}},
		{"query without credentials", `b2c.extra_args_url=https://ci/args?job=1&page=2`, nil},
		{"volume keys", `b2c.volume="v,mirror=lab/b,encrypt_key=lab/b=KEY32,fscrypt_key=FSK"`, []string{"lab/b=KEY32", "KEY32", "FSK"}},
		{"run creds", `b2c.run="--creds=me:pw docker://r/i" b2c.run_post="--creds me:pw2 r/i"`, []string{"pw", "pw2"}},
		{"image URL in run", `b2c.run="docker://u:rpw@reg/i cmd"`, []string{"rpw"}},
		{"not b2c", `root=https://u:pw@x/ b2c.hostname=h`, nil},
		{"unparsable URL", `b2c.extra_args_url=https://u:pw@x/%zz`, []string{"pw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RawSecrets(tc.line)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("RawSecrets(%s) = %q, missing %q", tc.line, got, w)
				}
			}
			if len(tc.want) == 0 && len(got) != 0 {
				t.Errorf("RawSecrets(%s) = %q, want none", tc.line, got)
			}
		})
	}
}

func TestResultSecrets(t *testing.T) {
	r := Parse(`b2c.minio="lab,nope,AKEY,SKEY"`, `b2c.proxy=https=http://u:ppw@proxy:3128`)
	got := r.Secrets()
	for _, w := range []string{"AKEY", "SKEY", "ppw"} {
		if !slices.Contains(got, w) {
			t.Errorf("Secrets() = %q, missing %q", got, w)
		}
	}
}
