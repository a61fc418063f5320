package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/b2c-dev/b2c/ci/s3"
	"github.com/b2c-dev/b2c/ci/vm"
)

// The scenarios of S3-mirrored and fscrypt-encrypted volumes
// (docs/cmdline.md, "Volumes and S3"), against a real MinIO on the host.
//
// The keys travel on the kernel command line (TestS3Mirror: our kernel
// keeps its own echo of it off the console, the agent's echo masks them) or
// in b2c.extra_args_url (the other scenarios).

const (
	s3Access = "b2cE2EAccess7Q3XJ"
	s3Secret = "b2cE2ESecret-K9vPz2wq"
	// vaultKey is the base64 of 64 bytes, an fscrypt master key.
	vaultKey = "dmF1bHQta2V5LWZvci1iMmMtZTJlLXRlc3RzLXNpeHR5LWZvdXItYnl0ZXMtbG9uZy1leGFjdGx5LTY0ISEhIQ=="
)

// otherKey is another fscrypt key, for the reset.
const otherKey = "b3RoZXIta2V5LWZvci1iMmMtZTJlLXRlc3RzLXNpeHR5LWZvdXItYnl0ZXMtbG9uZy1leGFjdGx5LTY0ISEhIQ=="

// secrets are the values no console line may hold.
var secrets = []string{s3Access, s3Secret, vaultKey, otherKey, "wrongSecret-Zq81", proxyPass, "pr0xy@Pass-77"}

// proxyPass is a proxy password as a URL carries it, %-encoded.
const proxyPass = "pr0xy%40Pass-77"

// startMinio runs a MinIO for one test and returns it with a client.
func startMinio(t *testing.T) (*s3.Server, *minio.Client) {
	t.Helper()
	srv, err := s3.Start(t.Context(), t.TempDir(), s3Access, s3Secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	mc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	return srv, mc
}

// extraArgs serves lines as b2c.extra_args_url and returns that option.
func extraArgs(t *testing.T, lines ...string) string {
	t.Helper()
	body := strings.Join(lines, "\n") + "\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return "b2c.extra_args_url=http://10.0.2.2:" + port(srv.URL) + "/args"
}

func port(url string) string { return url[strings.LastIndexByte(url, ':')+1:] }

func minioAlias(srv *s3.Server, secret string) string {
	return fmt.Sprintf(`b2c.minio="lab,%s,%s,%s"`, srv.GuestURL(), s3Access, secret)
}

// noSecrets fails the test if the console shows one of the secrets.
func noSecrets(t *testing.T, v *vm.VM) {
	t.Helper()
	raw := v.RawConsole()
	for _, s := range secrets {
		if strings.Contains(raw, s) {
			t.Errorf("the console shows the secret %q", s)
		}
	}
}

func putObject(t *testing.T, mc *minio.Client, bucket, key, body string, meta map[string]string) {
	t.Helper()
	_, err := mc.PutObject(t.Context(), bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{UserMetadata: meta})
	if err != nil {
		t.Fatal(err)
	}
}

// bucketContents maps each key of a bucket to its bytes.
func bucketContents(t *testing.T, mc *minio.Client, bucket string) map[string]string {
	t.Helper()
	out, err := s3.Contents(t.Context(), mc, bucket)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestS3Mirror: a bucket's files are pulled at the pipeline's start, the
// container reads them and writes results, which are in the bucket after
// the run; exclude keeps the logs out, remove deletes what the container
// deleted, preserve carries the mode and mtime both ways.
func TestS3Mirror(t *testing.T) {
	srv, mc := startMinio(t)
	if err := mc.MakeBucket(t.Context(), "jobs", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	putObject(t, mc, "jobs", "job1/in/a.txt", "input-a\n", nil)
	putObject(t, mc, "jobs", "job1/stale.txt", "stale\n", nil)
	putObject(t, mc, "jobs", "job1/tool.sh", "#!/bin/sh\n", map[string]string{"B2c-Mode": "750", "B2c-Mtime": "1500000000000000000"})
	putObject(t, mc, "jobs", "elsewhere.txt", "not the volume's\n", nil)

	script := `sh -c 'cat /job/in/a.txt; stat -c tool=%a:%Y /job/tool.sh; mkdir -p /job/out; echo result > /job/out/result.txt; chmod 640 /job/out/result.txt; touch -d @1600000000 /job/out/result.txt; echo noise > /job/out/run.log; rm /job/stale.txt; echo job-done'`
	v := boot(t, run("-v job:/job", script), minioAlias(srv, s3Secret),
		`b2c.volume="job,mirror=lab/jobs/job1,pull_on=pipeline_start,push_on=pipeline_end,remove,preserve,exclude=*.log"`)
	expect(t, v, `: Kernel command line: .*b2c\.minio="lab,http://[0-9.:]+,\*\*\*\*\*,\*\*\*\*\*"`)
	expect(t, v, `^input-a$`)
	if m := expect(t, v, `^tool=(\d+):(\d+)$`); m[1] != "750" || m[2] != "1500000000" {
		t.Errorf("pulled tool.sh: %s, want tool=750:1500000000 (preserve)", m[0])
	}
	expect(t, v, `^job-done$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)

	got := bucketContents(t, mc, "jobs")
	want := map[string]string{
		"job1/in/a.txt": "input-a\n", "job1/tool.sh": "#!/bin/sh\n", "job1/out/result.txt": "result\n",
		"elsewhere.txt": "not the volume's\n",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bucket after the run:\n%v\nwant (no run.log, no stale.txt):\n%v", got, want)
	}
	info, err := mc.StatObject(t.Context(), "jobs", "job1/out/result.txt", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.UserMetadata["B2c-Mode"] != "640" || info.UserMetadata["B2c-Mtime"] != "1600000000000000000" {
		t.Errorf("result.txt metadata %v, want mode 640 and mtime 1600000000 s", info.UserMetadata)
	}
}

// TestS3SharedReadOnly: a lab's shared, read-only bucket mirrored with
// pull_on alone (and overwrite, preserve, remove) is pulled and never
// pushed: the container deletes one file and changes another, and the
// bucket is the same after the run, byte for byte; the status is 0.
func TestS3SharedReadOnly(t *testing.T) {
	srv, mc := startMinio(t)
	if err := mc.MakeBucket(t.Context(), "traces", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	putObject(t, mc, "traces", "ref/a.trace", "trace-a\n", nil)
	putObject(t, mc, "traces", "ref/b.trace", "trace-b\n", nil)
	putObject(t, mc, "traces", "other.txt", "other\n", nil)
	before := bucketContents(t, mc, "traces")
	v := boot(t, run("-v traces:/traces", `sh -c 'cat /traces/a.trace; rm /traces/a.trace; echo changed > /traces/b.trace; echo done'`),
		minioAlias(srv, s3Secret),
		`b2c.volume="traces,mirror=lab/traces/ref,pull_on=pipeline_start,overwrite,preserve,remove"`)
	expect(t, v, `^trace-a$`)
	expect(t, v, `^done$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	if strings.Contains(v.Console(), "push to lab/traces") || strings.Contains(v.Console(), "Volume traces: Pushed") {
		t.Errorf("the read-only mirror was pushed")
	}
	noSecrets(t, v)
	if after := bucketContents(t, mc, "traces"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("bucket after the run:\n%v\nwant it unchanged:\n%v", after, before)
	}
}

// TestS3PushOnChanges: with push_on=changes, a file written by a running
// container is in the bucket while the container still runs; the final
// sync at the pipeline's end brings the rest.
func TestS3PushOnChanges(t *testing.T) {
	srv, mc := startMinio(t)
	var open atomic.Bool
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open.Load() {
			http.NotFound(w, r)
		}
	}))
	defer gate.Close()
	script := `sh -c 'echo step1 > /live/progress.txt; echo wrote-progress; until wget -q -O /dev/null http://10.0.2.2:` + port(gate.URL) +
		`/go; do sleep 1; done; echo final > /live/final.txt; echo live-done'`
	v := boot(t, run("-v live:/live", script), extraArgs(t,
		minioAlias(srv, s3Secret),
		`b2c.volume="live,push_to=lab/live,push_on=changes"`))
	expect(t, v, `^wrote-progress$`)
	wrote := time.Now()
	// The container waits on the gate: whatever reaches the bucket now
	// was pushed while it runs.
	for {
		if ok, _ := mc.BucketExists(t.Context(), "live"); ok {
			if _, err := mc.StatObject(t.Context(), "live", "progress.txt", minio.StatObjectOptions{}); err == nil {
				break
			}
		}
		select {
		case <-v.Done():
			t.Fatalf("the VM ended before progress.txt reached the bucket")
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Logf("progress.txt in the bucket %.1f s after the container wrote it", time.Since(wrote).Seconds())
	if _, done, _ := v.FirstLine(`^live-done$`); done {
		t.Fatalf("the container finished before the gate opened")
	}
	open.Store(true)
	expect(t, v, `^live-done$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)
	if got := bucketContents(t, mc, "live"); got["progress.txt"] != "step1\n" || got["final.txt"] != "final\n" {
		t.Errorf("bucket after the run: %v, want progress.txt and final.txt", got)
	}
}

// TestS3ContainerMoments: pull_on=container_start and push_on=container_end
// act around each container: nothing moves while a container runs, its
// files are pushed when it ends, and the next container starts with what
// the bucket holds then.
func TestS3ContainerMoments(t *testing.T) {
	srv, mc := startMinio(t)
	if err := mc.MakeBucket(t.Context(), "steps", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	var open atomic.Bool
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open.Load() {
			http.NotFound(w, r)
		}
	}))
	defer gate.Close()
	v := boot(t,
		run("-v step:/s", `sh -c 'echo one > /s/one.txt; echo stage1-wrote; until wget -q -O /dev/null http://10.0.2.2:`+port(gate.URL)+`/go; do sleep 1; done'`),
		run("-v step:/s", `cat /s/two.txt`),
		extraArgs(t, minioAlias(srv, s3Secret), `b2c.volume="step,mirror=lab/steps,pull_on=container_start,push_on=container_end"`))
	expect(t, v, `^stage1-wrote$`)
	if _, err := mc.StatObject(t.Context(), "steps", "one.txt", minio.StatObjectOptions{}); err == nil {
		t.Errorf("one.txt was pushed while its container ran")
	}
	putObject(t, mc, "steps", "two.txt", "from-host\n", nil)
	open.Store(true)
	expect(t, v, `Volume step: Pushed 1 files .* to lab/steps`)
	expect(t, v, `^from-host$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)
	if got := bucketContents(t, mc, "steps"); got["one.txt"] != "one\n" || got["two.txt"] != "from-host\n" || len(got) != 2 {
		t.Errorf("bucket after the run: %v, want one.txt and two.txt", got)
	}
}

// TestS3WrongSecret: a wrong secret key is an ERROR naming the alias, the
// normal end of the run, and no key on the console; nothing in the bucket
// is deleted, remove or not.
func TestS3WrongSecret(t *testing.T) {
	srv, mc := startMinio(t)
	if err := mc.MakeBucket(t.Context(), "jobs", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	putObject(t, mc, "jobs", "keep.txt", "keep\n", nil)
	v := boot(t, run("-v job:/job", `echo ran`), extraArgs(t,
		minioAlias(srv, "wrongSecret-Zq81"),
		`b2c.volume="job,mirror=lab/jobs,pull_on=pipeline_start,push_on=pipeline_end,remove"`))
	expect(t, v, `ERROR: volume job: pull from lab/jobs: .*signature`)
	if got := status(t, v); got == 0 {
		t.Errorf("pipeline status = 0, want a failure")
	}
	if strings.Contains(v.Console(), "\nran\n") {
		t.Errorf("the container ran without its volume's inputs")
	}
	noSecrets(t, v)
	if got := bucketContents(t, mc, "jobs"); got["keep.txt"] != "keep\n" {
		t.Errorf("bucket after the failed run: %v, want keep.txt kept", got)
	}

	// The inputs come, the results cannot go: a successful pipeline ends
	// with status 1 and an ERROR naming the volume and the bucket.
	v = boot(t, run("-v job:/job", `sh -c 'cat /job/keep.txt; echo out > /job/out.txt'`), extraArgs(t,
		minioAlias(srv, s3Secret),
		strings.Replace(minioAlias(srv, "wrongSecret-Zq81"), "lab,", "results,", 1),
		`b2c.volume="job,pull_from=lab/jobs,push_to=results/out,pull_on=pipeline_start,push_on=pipeline_end"`))
	expect(t, v, `^keep$`)
	expect(t, v, `ERROR: volume job: push to results/out: `)
	if got := status(t, v); got != 1 {
		t.Errorf("failed final push: pipeline status = %d, want 1", got)
	}
	noSecrets(t, v)
}

// TestS3Fscrypt: an fscrypt volume's files are unreadable on the cache
// without the key (checked from inside the VM), using the volume without
// its key is an ERROR, and the files are still there for the key.
func TestS3Fscrypt(t *testing.T) {
	img := sparseDisk(t, 512<<20)
	disk := vm.Disk(img)
	withKey := extraArgs(t, `b2c.volume="vault,fscrypt_key=`+vaultKey+`"`)

	v := boot(t, disk, "b2c.cache_device=auto", withKey, run("-v vault:/v", `sh -c 'echo top$((6*7))secret > /v/secret.txt; echo vault-written'`))
	expect(t, v, `Volume vault: encrypted on the cache`)
	expect(t, v, `^vault-written$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("first boot: pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)
	if b, err := os.ReadFile(img); err != nil {
		t.Fatal(err)
	} else if bytes.Contains(b, []byte("top42secret")) {
		t.Errorf("the disk image holds the volume's bytes in clear")
	}

	// Without the key, from a container that sees the whole cache.
	v = boot(t, disk, "b2c.cache_device=auto", run("-v /storage:/s",
		`sh -c 'echo entries=$(ls /s/b2c-fscrypt/vault | wc -l); ls /s/b2c-fscrypt/vault | grep -qx secret.txt && echo name=clear || echo name=encrypted; cat /s/b2c-fscrypt/vault/* && echo content=clear || echo content=unreadable'`))
	if m := expect(t, v, `^entries=(\d+)$`); m[1] != "1" {
		t.Fatalf("without the key the volume's directory holds %s entries, want 1", m[1])
	}
	if m := expect(t, v, `^name=(\w+)$`); m[1] != "encrypted" {
		t.Errorf("without the key the file name is %s", m[1])
	}
	if m := expect(t, v, `^content=(\w+)$`); m[1] != "unreadable" {
		t.Errorf("without the key the file content is %s", m[1])
	}
	if got := status(t, v); got != 0 {
		t.Fatalf("boot without the volume: pipeline status = %d, want 0", got)
	}

	v = boot(t, disk, "b2c.cache_device=auto", "b2c.volume=vault", run("-v vault:/v", `cat /v/secret.txt`))
	expect(t, v, `ERROR: volume vault is encrypted with fscrypt on the cache: it needs its fscrypt_key`)
	if got := status(t, v); got == 0 {
		t.Errorf("volume used without its key: pipeline status = 0, want a failure")
	}

	v = boot(t, disk, "b2c.cache_device=auto", withKey, run("-v vault:/v", `cat /v/secret.txt`))
	expect(t, v, `Volume vault: unlocked on the cache`)
	expect(t, v, `^top42secret$`)
	if got := status(t, v); got != 0 {
		t.Errorf("boot with the key again: pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)

	// Another key is an ERROR, unless fscrypt_reset_key wipes the volume.
	v = boot(t, disk, "b2c.cache_device=auto", extraArgs(t, `b2c.volume="vault,fscrypt_key=`+otherKey+`"`), run("-v vault:/v", `ls /v`))
	expect(t, v, `ERROR: volume vault: its directory on the cache is encrypted with another key`)
	if got := status(t, v); got == 0 {
		t.Errorf("volume with another key: pipeline status = 0, want a failure")
	}
	v = boot(t, disk, "b2c.cache_device=auto", extraArgs(t, `b2c.volume="vault,fscrypt_key=`+otherKey+`,fscrypt_reset_key"`),
		run("-v vault:/v", `sh -c 'echo entries=$(ls /v | wc -l)'`))
	expect(t, v, `Volume vault: wiped and encrypted anew`)
	expect(t, v, `^entries=0$`)
	if got := status(t, v); got != 0 {
		t.Errorf("fscrypt_reset_key: pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)
}

// TestS3Throughput: b2c pulls and pushes 200 files totalling 100 MB; the
// figure is their throughput against a raw transfer of the same bytes in
// the same guest: one 100 MB object fetched with a plain HTTP GET
// (busybox wget) and sent back with a plain PUT (busybox nc), through
// presigned URLs. A transfer on the host says nothing of what TCG and
// QEMU's user network let a guest reach; 8 minio-go workers on the host
// are given for scale.
func TestS3Throughput(t *testing.T) {
	srv, mc := startMinio(t)
	for _, b := range []string{"raw", "back", "plain", "tools"} {
		if err := mc.MakeBucket(t.Context(), b, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	files := s3.FileSet(200, 500_000)
	const total = 200 * 500_000
	put, get, err := s3.RawTransfer(context.Background(), mc, "raw", files, 8)
	if err != nil {
		t.Fatal(err)
	}
	var big bytes.Buffer
	for _, f := range files {
		big.Write(f.Data)
	}
	if _, err := mc.PutObject(t.Context(), "plain", "big", &big, total, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	getURL, putURL, err := srv.GuestPresigned(t.Context(), "plain", "big", "big-back", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(putURL)
	if err != nil {
		t.Fatal(err)
	}
	// The scripts reach the container in a volume of their own: the URLs
	// are too long for the command line, and hold the access key. nc
	// runs put.sh on the connection: nc alone would half-close it at the
	// end of the body, which a Go server takes for a client gone away.
	putScript := fmt.Sprintf(`#!/bin/sh
printf 'PUT %%s HTTP/1.1\r\nHost: %%s\r\nContent-Length: %%s\r\nConnection: close\r\n\r\n' '%s' '%s' %d
cat /tmp/big
head -n 1 | sed 's/^/raw-put-status: /' >&2
`, u.RequestURI(), u.Host, total)
	script := fmt.Sprintf(`set -e
echo raw-get-start
wget -q -O /tmp/big '%s'
echo raw-get-done
cp /t/put.sh /tmp/put.sh
chmod +x /tmp/put.sh
echo raw-put-start
nc %s %s -e /tmp/put.sh
echo raw-put-done
echo files=$(ls /b | wc -l)
`, getURL, u.Hostname(), u.Port())
	putObject(t, mc, "tools", "put.sh", putScript, nil)
	putObject(t, mc, "tools", "fair.sh", script, nil)
	v := boot(t, vm.Memory(1024), run("-v bench:/b -v tools:/t", `sh /t/fair.sh`), extraArgs(t,
		minioAlias(srv, s3Secret),
		`b2c.volume="tools,pull_from=lab/tools,pull_on=pipeline_start"`,
		`b2c.volume="bench,pull_from=lab/raw,push_to=lab/back,pull_on=pipeline_start,push_on=pipeline_end"`))
	pulled := expect(t, v, `Volume bench: Pulled (\d+) files \(.*\) from lab/raw in ([0-9.]+) s`)
	expect(t, v, `^raw-put-status: HTTP/1.1 200 OK`)
	expect(t, v, `^files=200$`)
	pushed := expect(t, v, `Volume bench: Pushed (\d+) files \(.*\) to lab/back in ([0-9.]+) s`)
	if got := status(t, v); got != 0 {
		t.Fatalf("pipeline status = %d, want 0", got)
	}
	if pulled[1] != "200" || pushed[1] != "200" {
		t.Errorf("pulled %s and pushed %s files, want 200", pulled[1], pushed[1])
	}
	if n := len(bucketContents(t, mc, "back")); n != 200 {
		t.Errorf("%d objects pushed back, want 200", n)
	}
	if st, err := mc.StatObject(t.Context(), "plain", "big-back", minio.StatObjectOptions{}); err != nil || st.Size != total {
		t.Errorf("the raw PUT left %d bytes (%v), want %d", st.Size, err, total)
	}
	between := func(from, to string) float64 {
		return firstLine(t, v, `^`+to+`$`) - firstLine(t, v, `^`+from+`$`)
	}
	rawGet, rawPut := between("raw-get-start", "raw-get-done"), between("raw-put-start", "raw-put-done")
	mbps := func(d float64) float64 { return total / 1e6 / d }
	tp, _ := strconv.ParseFloat(pulled[2], 64)
	tq, _ := strconv.ParseFloat(pushed[2], 64)
	figure(t, "S3, 200 files of 100 MB in all, in the %s guest: b2c pulls %.1f MB/s, %.2fx a raw GET of the same bytes there (%.1f MB/s); pushes %.1f MB/s, %.2fx a raw PUT (%.1f MB/s); on the host, 8 minio-go workers: get %.1f MB/s, put %.1f MB/s",
		v.Accel(), mbps(tp), rawGet/tp, mbps(rawGet), mbps(tq), rawPut/tq, mbps(rawPut), mbps(get.Seconds()), mbps(put.Seconds()))
}

// TestSecretsContainerOutput: a job that prints the kernel's command line
// and its environment shows neither S3 key on the console (the agent
// masks container output as it masks its own lines), and the run ends as
// usual.
func TestSecretsContainerOutput(t *testing.T) {
	v := boot(t, `b2c.minio="lab,http://10.0.2.2:9,`+s3Access+`,`+s3Secret+`"`,
		run(`sh -c 'cat /proc/cmdline; env; echo printed-all'`))
	// The container's own copy of the command line, masked.
	expect(t, v, `^console=.*b2c\.minio="lab,http://10\.0\.2\.2:9,\*\*\*\*\*,\*\*\*\*\*"`)
	expect(t, v, `^printed-all$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)
}

// Containers never see the keys: their /proc/cmdline is the kernel's with
// the keys masked (the output masker would hide a plain cat, so the
// container counts them instead, with patterns that do not match
// themselves: the command is on the command line too). A %-encoded proxy password is masked
// as written and decoded.
func TestSecretsNotInContainers(t *testing.T) {
	v := boot(t, `b2c.minio="lab,http://10.0.2.2:9,`+s3Access+`,`+s3Secret+`"`,
		`b2c.proxy=https=http://user:`+proxyPass+`@10.0.2.2:9,http=http://user:`+proxyPass+`@10.0.2.2:9,no=10.0.2.2`,
		run(`sh -c 'echo seen=$(grep -c -e b2cE2E[S]ecret -e b2cE2E[A]ccess -e pr0x[y] /proc/cmdline) intact=$(grep -c -F lab,http://10.0.2.2:9, /proc/cmdline)'`))
	expect(t, v, `^seen=0 intact=1$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	noSecrets(t, v)
}

// An invalid b2c.minio still has its keys masked in the ERROR that
// quotes it.
func TestSecretsInvalidOption(t *testing.T) {
	v := boot(t, noNIC, `b2c.minio="lab,http://10.0.2.2:9,`+s3Access+`,`+s3Secret+`,extra"`, run("true"))
	expect(t, v, `ERROR: .*b2c\.minio`)
	if got := status(t, v); got != 1 {
		t.Errorf("pipeline status = %d, want 1", got)
	}
	noSecrets(t, v)
}
