// Package podman runs b2c's containers through the REST API of
// `podman system service`: it pulls, creates, attaches to and waits for
// containers with pkg/bindings, from the spec package podmanspec makes of
// their `podman create`-style arguments, and keeps b2c's volumes. The
// podman binary in the image is built from the same module version, so
// client and service always match.
package podman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/containers/common/pkg/config"
	"github.com/containers/image/v5/types"
	"github.com/containers/podman/v4/libpod/define"
	"github.com/containers/podman/v4/pkg/auth"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/images"
	spec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/podmanspec"
)

// Engine runs containers on a podman service. It implements
// pipeline.Engine.
type Engine struct {
	conn    context.Context // carries the bindings connection
	uri     string          // the service's, for the connections of attaches
	con     *console.Console
	stdin   *os.File // the console, for -i containers
	out     io.Writer
	tries   int           // create attempts, as the original: 5
	backoff time.Duration // first pull retry delay, doubled each time

	// Storage is podman's graph root, named with its free space when a
	// pull runs out of it.
	Storage string
	// Retrying, if set, is called when a pull try failed and another
	// follows: the watchdog's sign that the pull is alive.
	Retrying func()
	// Cmdline is a file that containers see as /proc/cmdline: the
	// kernel's command line with its secrets masked. "": the real one.
	Cmdline string

	mu      sync.Mutex
	created map[string]*podmanspec.Request // by ID, from Create to Run or Start
	size    [2]int                         // the terminal's rows and columns, from `b2c run`; 0: unknown
	tty     string                         // the -t container running attached, if any
}

// SetSize sets the size of the terminal that -t containers get (b2c run
// passes the host terminal's), now for the one running and at the start
// of the next ones.
func (e *Engine) SetSize(rows, cols int) {
	e.mu.Lock()
	e.size = [2]int{rows, cols}
	id := e.tty
	e.mu.Unlock()
	if id != "" {
		e.resize(id)
	}
}

func (e *Engine) resize(id string) {
	e.mu.Lock()
	rows, cols := e.size[0], e.size[1]
	e.mu.Unlock()
	if rows == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(e.conn, 10*time.Second)
	defer cancel()
	containers.ResizeContainerTTY(ctx, id, new(containers.ResizeTTYOptions).WithHeight(rows).WithWidth(cols))
}

// Connect waits until the podman service answers on uri (unix:///...) or
// ctx ends, and returns an engine using it. Containers' output goes to out;
// -i containers read stdin.
func Connect(ctx context.Context, uri string, con *console.Console, stdin *os.File, out io.Writer) (*Engine, error) {
	for {
		// The connection lives in the context it is made with: it must
		// outlive ctx, which only bounds the wait.
		conn, err := bindings.NewConnection(context.WithoutCancel(ctx), uri)
		if err == nil {
			return &Engine{conn: conn, uri: uri, con: con, stdin: stdin, out: out, tries: 5, backoff: time.Second,
				created: map[string]*podmanspec.Request{}}, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to podman at %s: %w", uri, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ctx returns a context that carries the connection and ends with parent.
func (e *Engine) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(e.conn)
	stop := context.AfterFunc(parent, cancel)
	return ctx, func() { stop(); cancel() }
}

// permanentPullError tells errors that a retry cannot fix: the image or tag
// does not exist, or access is denied.
func permanentPullError(err error) bool {
	s := strings.ToLower(err.Error())
	for _, p := range []string{"manifest unknown", "not found", "name unknown", "unauthorized", "denied", "invalid reference"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// clockHint explains a certificate that is not valid yet or any more when
// the clock is plainly wrong: a machine without a battery-backed clock
// boots in 1970 or in its firmware's year, and only NTP fixes it.
func clockHint(err error, now time.Time) string {
	if !strings.Contains(err.Error(), "certificate has expired or is not yet valid") || now.Year() >= 2024 {
		return ""
	}
	return fmt.Sprintf(" (this machine's clock says %s: b2c.ntp_peer sets it)", now.UTC().Format("2006-01-02 15:04:05 MST"))
}

// effectivePolicy is the policy a pull uses. "always" on an image already
// in the storage (the cache) becomes "newer": the registry's manifest
// digest is still compared, but containers/image would fetch the config
// blob again under "always", and a registry that cannot be reached leaves
// the cached image to run rather than failing a lab's job.
func effectivePolicy(p config.PullPolicy, cached bool) config.PullPolicy {
	if p == config.PullPolicyAlways && cached {
		return config.PullPolicyNewer
	}
	return p
}

func (e *Engine) pull(ctx context.Context, r *podmanspec.Request) error {
	cached, err := images.Exists(ctx, r.Image, nil)
	policy := effectivePolicy(r.PullPolicy, err == nil && cached)
	delay := e.backoff
	for try := 1; ; try++ {
		start := time.Now()
		err := e.pullOnce(ctx, r, policy)
		if err == nil {
			e.con.Logf("Pulled %s (policy %s) in %.2fs", r.Image, policy, time.Since(start).Seconds())
			return nil
		}
		if strings.Contains(err.Error(), "no space left on device") {
			// Retrying cannot make room: say where the space ran out.
			return fmt.Errorf("pull %s: not enough space for the image in the container storage %s: %w", r.Image, e.space(), err)
		}
		if permanentPullError(err) || try >= 5 || ctx.Err() != nil {
			return fmt.Errorf("pull %s: %w%s", r.Image, err, clockHint(err, time.Now()))
		}
		e.con.Warnf("pull %s failed (try %d), retrying in %s: %v", r.Image, try, delay, err)
		if e.Retrying != nil {
			e.Retrying()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pull %s: %w", r.Image, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// pullOnce pulls r's image as podman's native pull does (policy, TLS
// verification, auth file), in podman's compatible mode, whose events
// tell each layer's progress: labs that pull images of gigabytes watch
// them on the console.
func (e *Engine) pullOnce(ctx context.Context, r *podmanspec.Request, policy config.PullPolicy) error {
	client, err := bindings.GetClient(ctx)
	if err != nil {
		return err
	}
	params := url.Values{}
	params.Set("reference", r.Image)
	params.Set("policy", policy.String())
	params.Set("compatMode", "true")
	if r.SkipTLSVerify != 0 {
		params.Set("tlsVerify", strconv.FormatBool(r.SkipTLSVerify != 1))
	}
	header, err := auth.MakeXRegistryAuthHeader(&types.SystemContext{AuthFilePath: r.Authfile}, "", "")
	if err != nil {
		return err
	}
	resp, err := client.DoRequest(ctx, nil, http.MethodPost, "/images/pull", params, header)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	p := &pullProgress{logf: e.con.Logf, now: time.Now, every: 10 * time.Second, layers: map[string]*layerProgress{}}
	err = p.read(resp.Body)
	if err == nil && !resp.IsSuccess() {
		err = fmt.Errorf("podman answered %s", resp.Status)
	}
	return err
}

// space describes the container storage's file system: where it is and
// how much room it has.
func (e *Engine) space() string {
	var st unix.Statfs_t
	if e.Storage == "" || unix.Statfs(e.Storage, &st) != nil {
		return e.Storage
	}
	mb := func(blocks uint64) uint64 { return blocks * uint64(st.Bsize) >> 20 }
	return fmt.Sprintf("%s (%d MiB free of %d MiB)", e.Storage, mb(st.Bavail), mb(st.Blocks))
}

// Create implements pipeline.Engine.
func (e *Engine) Create(parent context.Context, c cmdline.Container, env []string) (string, error) {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	r, err := podmanspec.Parse(c.Args)
	if err != nil {
		return "", err
	}
	if r.Spec.Env == nil {
		r.Spec.Env = map[string]string{}
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		r.Spec.Env[k] = v
	}
	if e.Cmdline != "" && !mounts(r.Spec.Mounts, "/proc/cmdline") {
		r.Spec.Mounts = append(r.Spec.Mounts, spec.Mount{Destination: "/proc/cmdline", Type: "bind", Source: e.Cmdline, Options: []string{"bind", "ro"}})
	}
	if err := e.pull(ctx, r); err != nil {
		return "", err
	}
	for try := 1; ; try++ {
		resp, err := containers.CreateWithSpec(ctx, r.Spec, nil)
		if err == nil {
			e.mu.Lock()
			e.created[resp.ID] = r
			e.mu.Unlock()
			return resp.ID, nil
		}
		if try >= e.tries || ctx.Err() != nil {
			return "", fmt.Errorf("create %s: %w", r.Image, err)
		}
		e.con.Warnf("create %s failed (try %d): %v", r.Image, try, err)
		time.Sleep(time.Duration(try) * 200 * time.Millisecond)
	}
}

// mounts says whether ms mount something at dest.
func mounts(ms []spec.Mount, dest string) bool {
	for _, m := range ms {
		if m.Destination == dest {
			return true
		}
	}
	return false
}

// request returns what Create made the container from, once.
func (e *Engine) request(id string) *podmanspec.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.created[id]
	delete(e.created, id)
	if r == nil {
		// Not created here: run it as podman would, by its ID.
		r = &podmanspec.Request{Image: id}
	}
	return r
}

// Run implements pipeline.Engine.
func (e *Engine) Run(parent context.Context, id string) (int, error) {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	r := e.request(id)
	var stdin io.Reader
	if r.Interactive {
		stdin = e.stdin
	}
	// The attach gets a connection of its own: the bindings find the
	// hijacked socket by swapping the client's transport and keeping its
	// first dial, which a concurrent request on a shared client (the
	// watchdog's ping) could make instead. The attach then read that
	// request's response, failed, and the container's output was lost.
	actx, err := bindings.NewConnection(ctx, e.uri)
	if err != nil {
		return 0, fmt.Errorf("attach %s: %w", r.Image, err)
	}
	attached := make(chan error, 1)
	ready := make(chan bool)
	go func() {
		// No detach keys (containers.conf's detach_keys is empty): a -i
		// container's input is any bytes, and ctrl-p ctrl-q in them must
		// reach it. The bindings refuse an empty WithDetachKeys.
		attached <- containers.Attach(actx, id, stdin, e.out, e.out, ready, new(containers.AttachOptions).WithStream(true))
	}()
	select {
	case <-ready:
	case err := <-attached:
		return 0, fmt.Errorf("attach %s: %w", r.Image, err)
	}
	ooms := oomKills()
	if err := containers.Start(ctx, id, nil); err != nil {
		return 0, fmt.Errorf("start %s: %w", r.Image, err)
	}
	if r.Spec.Terminal {
		e.mu.Lock()
		e.tty = id
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.tty = ""
			e.mu.Unlock()
		}()
		e.resize(id)
	}
	// The attach ends when the container's output does; the exit code
	// comes from a wait, which also covers containers that close their
	// output early. A hijacked attach stream does not end with ctx: on a
	// timeout or an abort, stopping the container ends it.
	select {
	case err := <-attached:
		if err != nil {
			// The container runs on; only its output is cut.
			e.con.Errorf("The output of %s was cut: attach: %v", r.Image, err)
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		containers.Stop(sctx, id, new(containers.StopOptions).WithTimeout(5).WithIgnore(true))
		select {
		case <-attached:
		case <-sctx.Done():
		}
		return 0, fmt.Errorf("run %s: %w", r.Image, ctx.Err())
	}
	code, err := e.exitCode(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("wait for %s: %w", r.Image, err)
	}
	if code == 128+int32(unix.SIGKILL) && oomKills() > ooms {
		// The exit code alone does not say who killed it, and podman's
		// OOMKilled is not set with cgroupfs: the kernel's own count of
		// OOM kills is.
		e.con.Errorf("The container %s ran out of memory: the kernel's OOM killer ended it", r.Image)
	}
	return int(code), nil
}

// exitCode returns the exit code of the container id, whose output has
// ended. podman's wait answers only once conmon has exited, and conmon
// waits for its exit command, `podman container cleanup`: one more podman
// process, most of a second on a slow machine. The exit code is known
// before that: an inspect reads conmon's exit file, written when the
// container's process ends. A container that closed its output and runs
// on is waited for.
func (e *Engine) exitCode(ctx context.Context, id string) (int32, error) {
	for delay := 10 * time.Millisecond; delay <= 160*time.Millisecond; delay *= 2 {
		data, err := containers.Inspect(ctx, id, new(containers.InspectOptions).WithSize(false))
		if err != nil {
			// Removed already (--rm), or the service failing: the
			// wait says which.
			break
		}
		if code, ok := exited(data.State); ok {
			return code, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(delay):
		}
	}
	return containers.Wait(ctx, id, new(containers.WaitOptions).WithCondition([]define.ContainerStatus{define.ContainerStateExited, define.ContainerStateStopped}))
}

// exited returns the exit code in an inspect's state, once the container
// has stopped (conmon's exit file read) or exited (cleaned up).
func exited(s *define.InspectContainerState) (int32, bool) {
	if s == nil || s.Running {
		return 0, false
	}
	switch s.Status {
	case define.ContainerStateStopped.String(), define.ContainerStateExited.String():
		return s.ExitCode, true
	}
	return 0, false
}

// oomKills returns how many processes the kernel's OOM killer has killed
// since boot.
func oomKills() int {
	raw, _ := os.ReadFile("/proc/vmstat")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// Start implements pipeline.Engine.
func (e *Engine) Start(parent context.Context, id string) error {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	r := e.request(id)
	if err := containers.Start(ctx, id, nil); err != nil {
		return fmt.Errorf("start %s: %w", r.Image, err)
	}
	return nil
}

// Stop implements pipeline.Engine: it stops a container, waiting up to 10
// seconds before killing it, then removes it.
func (e *Engine) Stop(parent context.Context, id string) error {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	if err := containers.Stop(ctx, id, new(containers.StopOptions).WithTimeout(10).WithIgnore(true)); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	if _, err := containers.Remove(ctx, id, new(containers.RemoveOptions).WithForce(true).WithIgnore(true)); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	return nil
}

// StopAll implements pipeline.Engine.
func (e *Engine) StopAll(parent context.Context) error {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	list, err := containers.List(ctx, nil)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range list {
		if err := containers.Stop(ctx, c.ID, new(containers.StopOptions).WithTimeout(5).WithIgnore(true)); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Ping says whether the service answers within d: a service that hangs
// without dying (stopped, deadlocked) leaves every other call waiting.
func (e *Engine) Ping(d time.Duration) error {
	ctx, cancel := context.WithTimeout(e.conn, d)
	defer cancel()
	client, err := bindings.GetClient(ctx)
	if err != nil {
		return err
	}
	resp, err := client.DoRequest(ctx, nil, http.MethodGet, "/_ping", nil, nil)
	if err != nil {
		return fmt.Errorf("ping podman: %w", err)
	}
	defer resp.Body.Close()
	if !resp.IsSuccess() {
		return fmt.Errorf("ping podman: %s", resp.Status)
	}
	return nil
}
