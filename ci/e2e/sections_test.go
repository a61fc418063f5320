package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/b2c-dev/b2c/ci/vm"
	"github.com/b2c-dev/b2c/init/console"
)

// The console's sections, as docs/cmdline.md ("Sections") gives them:
// flat, the original's names and order, "+" a start and "-" an end.
const (
	specSetup = "-b2c_kernel_boot +b2c_setup -b2c_setup +runtime_info -runtime_info " +
		"+load_modules -load_modules +mount_cache_partition -mount_cache_partition " +
		"+connect -connect +ntp_set -ntp_set +parse_extra_cmdline -parse_extra_cmdline " +
		"+set_hostname -set_hostname +set_keymap -set_keymap " +
		"+start_pipeline -start_pipeline "
	specHooks = "+execute_hooks -execute_hooks "
	// A container, stage or post: from its container_start hooks to its
	// container_end hooks.
	specContainer = specHooks + "+create_container -create_container +container_run -container_run " +
		"+b2c_post_container -b2c_post_container " + specHooks
	specEnd = specHooks + "+cleanup -cleanup +unmount_cache_partition -unmount_cache_partition"
)

// specRun is the sequence of a run whose pipeline runs n containers.
func specRun(n int) string {
	return specSetup + specHooks + strings.Repeat(specContainer, n) + specEnd
}

// sections returns the console's sequence of sections. The spec allows one
// difference from the original: mount_cache_partition may come after
// parse_extra_cmdline, where it is moved back to compare.
func sections(v *vm.VM) string {
	seq := console.Sections(v.RawConsole())
	cache := []string{"+mount_cache_partition", "-mount_cache_partition"}
	if i := slices.Index(seq, "-parse_extra_cmdline"); i >= 0 && i+2 < len(seq) && slices.Equal(seq[i+1:i+3], cache) {
		seq = slices.Delete(seq, i+1, i+3)
		j := slices.Index(seq, "-load_modules")
		seq = slices.Insert(seq, j+1, cache...)
	}
	return strings.Join(seq, " ")
}

func checkSections(t *testing.T, v *vm.VM, want string) {
	t.Helper()
	if got, want := sections(v), strings.TrimSpace(want); got != want {
		t.Errorf("sections:\n%s\nwant (docs/cmdline.md, \"Sections\"):\n%s", got, want)
	}
}

var kernelLine = regexp.MustCompile(`^\[ *\d+\.\d{6}\] `)

// TestSectionsOneStage: b2c's first line (PID 1's) closes the lab's
// b2c_kernel_boot section, and a one-stage run has exactly the documented sections.
func TestSectionsOneStage(t *testing.T) {
	v := boot(t, run(`echo one-stage`))
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	checkSections(t, v, specRun(1))
	// What comes before the kernel (the firmware's lines) is not the
	// agent's; after it, the first line that is not the kernel's is.
	kernel := false
	for _, l := range v.Lines() {
		raw := strings.TrimRight(l.Raw, "\r")
		if kernelLine.MatchString(raw) {
			kernel = true
			continue
		}
		if !kernel || raw == "" {
			continue
		}
		if !regexp.MustCompile(`^\x1b\[0Ksection_end:\d+:b2c_kernel_boot\r\x1b\[0K$`).MatchString(raw) {
			t.Errorf("b2c's first line is %q, want \\e[0Ksection_end:EPOCH:b2c_kernel_boot\\r\\e[0K", raw)
		}
		break
	}
	if !kernel {
		t.Errorf("no kernel line on the console")
	}
}

// TestSectionsPipefail: three stages with b2c.pipefail, the middle one
// failing: the third has no sections at all.
func TestSectionsPipefail(t *testing.T) {
	v := boot(t, run(`echo stage-one`), run(`sh -c 'exit 2'`), run(`echo stage-three`), "b2c.pipefail")
	if got := status(t, v); got != 2 {
		t.Errorf("pipeline status = %d, want 2", got)
	}
	checkSections(t, v, specRun(2))
}

// TestSectionsPostContainer: a post container repeats a stage's part, with
// b2c_post_container after each as the results' step.
func TestSectionsPostContainer(t *testing.T) {
	v := boot(t, run(`echo stage`), `b2c.run_post="--tls-verify=false docker://`+busybox+` echo post"`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	checkSections(t, v, specRun(2))
}

// TestSectionsMirror: a mirrored volume's pull and push happen inside the
// pipeline_start and pipeline_end execute_hooks sections.
func TestSectionsMirror(t *testing.T) {
	srv, mc := startMinio(t)
	if err := mc.MakeBucket(t.Context(), "data", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	putObject(t, mc, "data", "in.txt", "input\n", nil)
	v := boot(t, run("-v data:/data", `sh -c 'cat /data/in.txt; echo output > /data/out.txt'`), minioAlias(srv, s3Secret),
		`b2c.volume="data,mirror=lab/data,pull_on=pipeline_start,push_on=pipeline_end"`)
	expect(t, v, `^input$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	checkSections(t, v, specRun(1))
	if got := bucketContents(t, mc, "data")["out.txt"]; got != "output\n" {
		t.Errorf("out.txt in the bucket: %q, want the container's", got)
	}
	// Which execute_hooks section, counted from 1, holds each transfer.
	for _, tt := range []struct {
		line string
		want int
	}{
		{"Volume data: Pulled ", 1}, // pipeline_start
		{"Volume data: Pushed ", 4}, // pipeline_end, after the container's two
	} {
		if got := hooksSectionOf(v.RawConsole(), tt.line); got != tt.want {
			t.Errorf("%q is in execute_hooks section %d, want %d", tt.line, got, tt.want)
		}
	}
	noSecrets(t, v)
}

// hooksSectionOf returns the execute_hooks section, counted from 1, that
// holds the first line containing s; 0 if no execute_hooks section does.
func hooksSectionOf(raw, s string) int {
	n, open := 0, false
	for _, l := range strings.Split(raw, "\n") {
		if seq := console.Sections(l); len(seq) == 1 && seq[0][1:] == "execute_hooks" {
			if open = seq[0][0] == '+'; open {
				n++
			}
			continue
		}
		if strings.Contains(l, s) {
			if open {
				return n
			}
			return 0
		}
	}
	return 0
}

// TestSectionsNoNetwork: when the network fails, connect is followed by
// unmount_cache_partition, as in the original.
func TestSectionsNoNetwork(t *testing.T) {
	v := boot(t, noNIC, run(`echo never`))
	if got := status(t, v); got != 1 {
		t.Errorf("pipeline status = %d, want 1", got)
	}
	checkSections(t, v, strings.Split(specSetup, "+ntp_set")[0]+"+unmount_cache_partition -unmount_cache_partition")
}
