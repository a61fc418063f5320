package cmdline

import (
	"net/url"
	"slices"
	"strings"
)

// Secrets returns every secret of the texts parsed: those of the
// configuration, and those read from the raw tokens (RawSecrets), which
// include the options whose values did not parse. The agent masks all of
// them on the console and in what containers see.
func (r *Result) Secrets() []string {
	out := r.Config.Secrets()
	for _, t := range r.texts {
		for _, s := range RawSecrets(t) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// RawSecrets returns the secrets of a command line read from its tokens
// alone, whether or not their values are valid: the keys of b2c.minio
// (its fourth field and all after it, in case the secret holds a comma),
// the encryption keys of b2c.volume, the password of podman's --creds in
// a container option, and in any URL of any b2c option its password and
// the values of query parameters that carry credentials (token=, sig=,
// X-Amz-Signature=...), each as written and %-decoded.
func RawSecrets(text string) []string {
	var out []string
	add := func(ss ...string) {
		for _, s := range ss {
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	for _, tok := range Tokens(text) {
		name, value, ok := strings.Cut(tok, "=")
		if !ok || !strings.HasPrefix(name, "b2c.") {
			continue
		}
		switch name {
		case "b2c.minio":
			if f := strings.Split(value, ","); len(f) >= 3 {
				add(f[2:]...)
				add(strings.Join(f[3:], ","))
			}
		case "b2c.volume":
			for _, p := range strings.Split(value, ",") {
				k, v, _ := strings.Cut(p, "=")
				switch k {
				case "encrypt_key":
					add(v)
					if _, key, ok := strings.Cut(v, "="); ok { // ALIAS/BUCKET=KEY
						add(key)
					}
				case "fscrypt_key":
					add(v)
				}
			}
		case "b2c.run", "b2c.container", "b2c.run_post", "b2c.post_container", "b2c.run_service", "b2c.service":
			words := strings.Fields(value)
			for i, w := range words {
				creds, ok := strings.CutPrefix(w, "--creds=")
				if !ok && w == "--creds" && i+1 < len(words) {
					creds, ok = words[i+1], true
				}
				if _, pass, found := strings.Cut(creds, ":"); ok && found {
					add(pass)
				}
			}
		}
		for _, w := range strings.FieldsFunc(value, func(r rune) bool { return strings.ContainsRune(", |'\"", r) }) {
			add(urlSecrets(w)...)
		}
	}
	return out
}

// urlSecrets returns the password and the credential query values of the
// URL that w holds, if any ("https=http://u:p@proxy:3128" holds one), as
// written and decoded.
func urlSecrets(w string) []string {
	i := strings.Index(w, "://")
	if i < 0 {
		return nil
	}
	start := i
	for start > 0 && isSchemeChar(w[start-1]) {
		start--
	}
	rest := w[i+3:]
	var out []string
	both := func(raw string) {
		if raw == "" {
			return
		}
		out = append(out, raw)
		if dec, err := url.QueryUnescape(raw); err == nil && dec != raw {
			out = append(out, dec)
		}
	}
	// The user information, read by hand: a URL that does not parse
	// still masks its password.
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		if _, pass, ok := strings.Cut(host[:at], ":"); ok {
			both(pass)
		}
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if credentialParam(k) {
				both(v)
			}
		}
	}
	return out
}

func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// credentialParam says whether a URL query parameter carries a credential.
func credentialParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"token", "key", "secret", "pass", "sig", "auth", "credential"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
