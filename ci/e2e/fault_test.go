package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/ci/vm"
)

// The fault suite: each scenario breaks one thing the run depends on and
// checks that the run still ends with one clear ERROR, the end lines and
// a power off (docs/cmdline.md, "Bounds"). The test writes the time from
// the fault to the power off to out/e2e-figures.txt, which make e2e
// prints; the VM's timeout is the only limit.

// stallingServer accepts TCP connections and never answers them: a
// registry or an S3 server that hangs. It returns the guest's address of
// it.
func stallingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "10.0.2.2:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// ended checks the end of a faulty run: the ERROR that names the fault,
// then the end lines with want, then QEMU's exit; and prints the time
// from the line that marks the fault to the power off.
func ended(t *testing.T, v *vm.VM, faultRE, errorRE string, want int) {
	t.Helper()
	expect(t, v, faultRE)
	fault, ok, err := v.FirstLine(faultRE)
	if err != nil || !ok {
		t.Fatalf("no line %q: %v\n%s", faultRE, err, v.Console())
	}
	expect(t, v, errorRE)
	if got := status(t, v); got != want {
		t.Errorf("pipeline status = %d, want %d\n%s", got, want, v.Console())
	}
	last := v.Lines()[len(v.Lines())-1]
	figure(t, "fault: %s: %.1f s from the fault to the power off", t.Name(), (last.At - fault.At).Seconds())
}

// A registry that accepts and never answers, without b2c.timeout: the pull
// moves no bytes, and the watchdog ends the run.
func TestFaultStalledRegistry(t *testing.T) {
	t.Parallel()
	addr := stallingServer(t)
	v := boot(t, `b2c.run="--tls-verify=false docker://`+addr+`/b2c/stalled echo never"`, vm.Timeout(5*time.Minute))
	ended(t, v, `Pulling and creating the container`,
		`ERROR: b2c's watchdog: the step "create_container" made no progress for 2m0s, ending the run$`, 1)
}

// The same registry with b2c.timeout: the pipeline's own deadline stops
// the pull first, and the run ends the normal way with 124.
func TestFaultStalledRegistryTimeout(t *testing.T) {
	t.Parallel()
	addr := stallingServer(t)
	v := boot(t, `b2c.run="--tls-verify=false docker://`+addr+`/b2c/stalled echo never"`, "b2c.timeout=20s")
	ended(t, v, `Pulling and creating the container`, `ERROR: The pipeline timed out after 20s`, 124)
}

// An S3 server that accepts and never answers, when the volume is pulled
// at the pipeline's start: the response-header timeout ends the transfer
// (the watchdog's 2 minutes are the bound behind it).
func TestFaultStalledS3(t *testing.T) {
	t.Parallel()
	addr := stallingServer(t)
	v := boot(t, run("-v job:/job", "ls /job"), `b2c.minio="lab,http://`+addr+`,key,secretkey"`,
		`b2c.volume="job,mirror=lab/jobs,pull_on=pipeline_start"`, vm.Timeout(6*time.Minute))
	// The agent's transport gives up waiting for the answer after a
	// minute, before the watchdog's bound: its own clear ERROR.
	ended(t, v, `Transferring the volumes at pipeline_start`,
		`ERROR: volume job: pull from lab/jobs: .*timeout awaiting response headers`, 1)
}

// podman's service stopped (SIGSTOP) while a container runs: it still
// exists, and answers nothing. The agent's pings go unanswered, and the
// watchdog ends the run; SIGKILL reaches stopped processes.
func TestFaultPodmanStopped(t *testing.T) {
	t.Parallel()
	v := boot(t, run("--pid=host", `sh -c 'echo stopping-podman; sleep 1; kill -STOP $(pidof podman); sleep 600'`), vm.Timeout(5*time.Minute))
	ended(t, v, `^stopping-podman$`,
		`ERROR: b2c's watchdog: the step "container_run" made no progress for 2m0s, ending the run$`, 1)
}

// The agent dies (SIGQUIT: the Go runtime's own crash, as a panic in any
// goroutine would): PID 1 ends the run in its place.
func TestFaultAgentDies(t *testing.T) {
	v := boot(t, run("--pid=host", `sh -c 'echo killing-the-agent; sleep 1; for p in $(pidof init); do [ $p = 1 ] || kill -QUIT $p; done; sleep 600'`))
	ended(t, v, `^killing-the-agent$`,
		`ERROR: b2c's agent died \(exit status 2\) during the step "container_run", ending the run$`, 1)
}

// A panic in one of the agent's goroutines, in a test-only build of the
// agent (init/agent/fault_panic.go): the Go runtime ends the agent, and PID 1
// ends the run in its place.
func TestFaultPanic(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "initramfs-panic.cpio.zst")
	// podman with the agent in it, built again with the tag: not over
	// out/podman, which other tests run.
	cmd := exec.Command("go", "run", "./mkinitramfs", "-o", img, "-podman", filepath.Join(dir, "podman"), "-tags", "b2c_fault_panic", "-level", "1")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkinitramfs -tags b2c_fault_panic: %v\n%s", err, out)
	}
	v := boot(t, vm.Initramfs(img), run("sleep 600"))
	ended(t, v, `^panic: b2c_fault_panic: a panic injected for a test`,
		`ERROR: b2c's agent died \(exit status 2\) during the step "[a-z_ ]+", ending the run$`, 1)
}

// A container that runs out of its memory: the kernel kills it, its
// status is 137 and a line says why.
func TestFaultOOM(t *testing.T) {
	t.Parallel()
	v := boot(t, run("--memory=32m", `sh -c 'echo filling-memory; x=aaaaaaaa; while true; do x=$x$x; done'`))
	ended(t, v, `^filling-memory$`, `ERROR: The container .* ran out of memory: the kernel's OOM killer ended it$`, 137)
}

// A container that floods the console for a minute: the run ends the
// normal way, and podman's log of its output (which nobody reads) stays
// within containers.conf's log_size_max.
func TestFaultFlood(t *testing.T) {
	t.Parallel()
	v := boot(t, run(`sh -c 'echo flooding; timeout 60 yes flood-flood-flood-flood-flood-flood-flood; echo flood-over'`),
		`b2c.run_post="--tls-verify=false -v /var/lib/containers:/c docker://`+busybox+` sh -c 'echo logs=$(find /c -name ctr.log | wc -l) big=$(find /c -name ctr.log -size +1100k | wc -l)'"`,
		vm.Timeout(6*time.Minute))
	expect(t, v, `^flooding$`)
	expect(t, v, `flood-over$`) // after a cut line of the flood
	expect(t, v, `^logs=[1-9]\d* big=0$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

// A fork bomb in a container, with b2c.timeout: the machine stays usable
// enough for the timeout to stop it, and the run ends with 124.
func TestFaultForkBomb(t *testing.T) {
	t.Parallel()
	v := boot(t, run(`sh -c 'echo bombing; b() { b | b & }; b; sleep 600'`), "b2c.timeout=30s", vm.Timeout(6*time.Minute))
	ended(t, v, `^bombing$`, `ERROR: The pipeline timed out after 30s`, 124)
}

// An S3 server that stalls when the volume is pushed at the pipeline's
// end, after a container that succeeded.
func TestFaultStalledS3AtEnd(t *testing.T) {
	t.Parallel()
	addr := stallingServer(t)
	v := boot(t, run("-v job:/job", "sh -c 'echo result > /job/r; echo job-done'"), `b2c.minio="lab,http://`+addr+`,key,secretkey"`,
		`b2c.volume="job,mirror=lab/jobs,push_on=pipeline_end"`, vm.Timeout(6*time.Minute))
	expect(t, v, `^job-done$`)
	ended(t, v, `Transferring the volumes at pipeline_end`,
		`ERROR: volume job: push to lab/jobs: .*timeout awaiting response headers`, 1)
}

// podman's service killed while a container runs: the agent loses the
// container, says so, and ends the run the normal way.
func TestFaultPodmanKilled(t *testing.T) {
	t.Parallel()
	v := boot(t, run("--pid=host", `sh -c 'echo killing-podman; sleep 1; kill -KILL $(pidof podman); sleep 600'`), vm.Timeout(5*time.Minute))
	ended(t, v, `^killing-podman$`, `ERROR: The container .* could not run: `, 125)
}
