package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/filesystems"
)

// storage shows the file systems and what uses them, the network block
// devices, the cache, the swap and the image stores, as the storage step
// sets them up (docs/cmdline.md, "Storage").
func (e explainer) storage() {
	c := e.c
	for i, m := range filesystems.Plan("/", c.Filesystems) {
		fs := c.Filesystems[i]
		opts := ""
		if m.Data != "" {
			opts = ", options " + m.Data
		}
		network := ""
		if filesystems.Network(fs.Type) {
			network = "; mounted once the network is up (1 min at most); a server that stops answering: a WARNING after 30 s, the end of the run after 2 min"
		}
		e.line("Filesystem %s: %s %s on %s%s; used by %s; a mount failure is an ERROR (no container runs)%s",
			fs.Name, fs.Type, fs.Src, m.Target, opts, e.users(fs.Name), network)
	}
	for _, n := range c.NBDs {
		conns := "1 connection"
		if n.Connections > 1 {
			conns = fmt.Sprintf("%d connections", n.Connections)
		}
		e.line("NBD %s: %s:%d, %s, connected once the network is up (the storage then waits for it); used by %s; a server that does not answer within 30 s is an ERROR (no container runs)",
			n.Device, n.Host, n.Port, conns, e.nbdUsers(n.Device))
	}
	e.line("Cache: %s", cacheLine(c))
	e.swap()
	for _, name := range c.AdditionalImageStores {
		where := "no b2c.filesystem defines it: the storage step fails, no container runs"
		if e.isFilesystem(name) {
			where = filesystems.Path("/", name) + ", read-only; podman looks in it before pulling"
		}
		e.line("Image store %s: %s", name, where)
	}
	for _, m := range c.Minios {
		e.line("S3 alias %s: %s (keys hidden)", m.Alias, m.URL)
	}
}

func (e explainer) isFilesystem(name string) bool {
	return slices.ContainsFunc(e.c.Filesystems, func(f cmdline.Filesystem) bool { return f.Name == name })
}

// users lists what uses a b2c.filesystem.
func (e explainer) users(name string) string {
	var u []string
	if e.c.CacheDevice == name {
		u = append(u, "the cache")
	}
	if slices.Contains(e.c.AdditionalImageStores, name) {
		u = append(u, "an image store")
	}
	for _, v := range e.c.Volumes {
		if v.Filesystem == name {
			u = append(u, "volume "+v.Name)
		}
	}
	if len(u) == 0 {
		return "nothing, mounted all the same"
	}
	return strings.Join(u, ", ")
}

// nbdUsers lists what uses a b2c.nbd device or one of its partitions.
func (e explainer) nbdUsers(dev string) string {
	on := func(v string) bool { return v == dev || strings.HasPrefix(v, dev+"p") }
	var u []string
	if on(e.c.CacheDevice) {
		u = append(u, "the cache")
	}
	if on(e.c.Swap.Device) {
		u = append(u, "the swap")
	}
	for _, fs := range e.c.Filesystems {
		if on(fs.Src) {
			u = append(u, "the b2c.filesystem "+fs.Name)
		}
	}
	if len(u) == 0 {
		return "nothing, connected all the same"
	}
	return strings.Join(u, ", ")
}

func cacheLine(c *cmdline.Config) string {
	v := c.CacheDevice
	switch {
	case v == "none":
		return "none: images and volumes live in RAM"
	case v == "auto":
		return "auto: the partition labelled B2C_CACHE, else a GPT partition named B2C_CACHE (formatted), else the first blank disk (partitioned and formatted); else RAM (a WARNING)"
	case v == "reset":
		return "reset: the B2C_CACHE partition, formatted anew; without one, as auto"
	case slices.ContainsFunc(c.Filesystems, func(f cmdline.Filesystem) bool { return f.Name == v }):
		return fmt.Sprintf("the b2c.filesystem %s (%s), bound on /storage", v, filesystems.Path("/", v))
	case strings.HasPrefix(v, "/dev/"):
		return v + ", waited for up to 10 s: a disk's B2C_CACHE partition, else the disk repartitioned and formatted; a partition without a label is formatted, one with a label mounted as it is; else RAM (a WARNING)"
	}
	return v + ": neither a keyword nor a device nor a b2c.filesystem name: RAM (a WARNING)"
}

func (e explainer) swap() {
	sw := e.c.Swap
	swappiness := "the kernel's swappiness"
	if sw.Swappiness >= 0 {
		swappiness = fmt.Sprintf("swappiness %d", sw.Swappiness)
	}
	switch {
	case sw.Device != "":
		e.line("Swap: %s, waited for up to 10 s; formatted as swap when blank, refused (a WARNING) when it holds a file system or a partition table; %s", sw.Device, swappiness)
	case sw.Size > 0 && e.c.NoCache():
		e.line("Swap: none: a %d MiB swap file needs the cache (a WARNING)", sw.Size>>20)
	case sw.Size > 0:
		e.line("Swap: a %d MiB file on the cache (/storage/swapfile; without a cache, none and a WARNING); %s", sw.Size>>20, swappiness)
	}
}

// volumes shows where each volume's files live, and when and how it
// pulls and pushes: only at the moments named (no moment, no transfer).
func (e explainer) volumes() {
	for _, v := range e.c.Volumes {
		exp := "never: kept for the next run"
		if v.Expiration == "pipeline_end" {
			exp = "pipeline_end: removed at the end of the run"
		}
		e.line("Volume: %s (expiration %s)", v.Name, exp)
		e.line("  files: %s", e.volumeFiles(v))
		if v.PullFrom == "" && v.PushTo == "" {
			continue
		}
		e.transfer(pull(v))
		e.transfer(push(v))
		if len(v.Exclude) > 0 {
			e.line("  exclude: %s (neither moved nor deleted)", strings.Join(v.Exclude, ", "))
		}
		if v.Preserve {
			e.line("  preserve: the files' modes travel with them")
		}
		if v.EncryptKey != "" {
			e.line("  encrypt_key: the objects are encrypted with an SSE-C key (hidden)")
		}
	}
}

func (e explainer) volumeFiles(v cmdline.Volume) string {
	switch {
	case v.Filesystem != "" && e.isFilesystem(v.Filesystem):
		return fmt.Sprintf("on the b2c.filesystem %s, in %s/%s", v.Filesystem, filesystems.Path("/", v.Filesystem), v.Name)
	case v.Filesystem != "":
		return fmt.Sprintf("in %s/%s, in RAM: no b2c.filesystem defines %s", filesystems.Path("/", v.Filesystem), v.Name, v.Filesystem)
	case v.FscryptKey != "" && e.c.NoCache():
		return "none: fscrypt_key needs the cache (an ERROR at the volume step: no container runs)"
	case v.FscryptKey != "" && v.FscryptReset:
		return fmt.Sprintf("encrypted with fscrypt on the cache, in /storage/b2c-fscrypt/%s, wiped and encrypted anew (fscrypt_reset_key)", v.Name)
	case v.FscryptKey != "":
		return fmt.Sprintf("encrypted with fscrypt on the cache, in /storage/b2c-fscrypt/%s (a directory encrypted with another key is an ERROR)", v.Name)
	case e.c.NoCache():
		return "in podman's storage, in RAM"
	}
	return "in podman's storage, on the cache"
}

// moments describes when a volume transfers.
func moments(list []string) string {
	var out []string
	for _, m := range list {
		switch m {
		case "pipeline_start":
			out = append(out, "at pipeline_start (before any container; a failure: no container runs)")
		case "container_start":
			out = append(out, "at container_start (before every stage and post container; a failure fails that container)")
		case "container_end":
			out = append(out, "at container_end (after every stage and post container; a failure turns its 0 into 1)")
		case "pipeline_end":
			out = append(out, "at pipeline_end (after the post containers; a failure makes the status 1)")
		case "changes":
			s := "as it changes while the pipeline runs (push_on=changes: once quiet for 1 s, at most 10 s after a change began; a failure is a WARNING)"
			if !slices.Contains(list, "pipeline_end") {
				s += ", and once more at pipeline_end (a failure makes the status 1)"
			}
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// transfer describes a volume's pulls or pushes: never, or where, when
// and what overwrite and remove do.
type transfer struct {
	verb, dir, param, place, moment string // "pull", "from", "pull_from", ...
	on                              []string
	effects                         []string
}

func (e explainer) transfer(t transfer) {
	switch {
	case t.place == "":
		e.line("  %s: never (no mirror= or %s=)", t.verb, t.param)
	case len(t.on) == 0:
		e.line("  %s: never (no %s): %s", t.verb, t.moment, map[string]string{
			"pull": "the volume keeps what it has", "push": t.place + " is never written to"}[t.verb])
	default:
		e.line("  %s %s %s: %s", t.verb, t.dir, t.place, moments(t.on))
		e.line("    %s", strings.Join(t.effects, "; "))
	}
}

// The effects of overwrite and remove, on each side: with overwrite,
// without it, with remove, without it.
var (
	pullEffects = [4]string{
		"overwrite: files that differ in the volume are replaced by the bucket's",
		"files that differ in the volume are left alone (a WARNING lists them)",
		"remove: files the bucket does not have are deleted from the volume",
		"nothing is deleted from the volume",
	}
	pushEffects = [4]string{
		"overwrite: objects that differ in the bucket are replaced by the volume's",
		"objects that differ in the bucket are left alone (a WARNING lists them), except those b2c pushed during the run",
		"remove: objects the volume does not have are deleted from the bucket",
		"nothing is deleted from the bucket",
	}
)

func effects(v cmdline.Volume, e [4]string) []string {
	out := []string{e[1], e[3]}
	if v.Overwrite {
		out[0] = e[0]
	}
	if v.Remove {
		out[1] = e[2]
	}
	return out
}

func pull(v cmdline.Volume) transfer {
	return transfer{verb: "pull", dir: "from", param: "pull_from", moment: "pull_on", place: v.PullFrom, on: v.PullOn, effects: effects(v, pullEffects)}
}

func push(v cmdline.Volume) transfer {
	return transfer{verb: "push", dir: "to", param: "push_to", moment: "push_on", place: v.PushTo, on: v.PushOn, effects: effects(v, pushEffects)}
}
