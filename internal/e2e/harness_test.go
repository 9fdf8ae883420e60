package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/internal/testutil"
)

// Application ids of the test configuration. Neither has a tenant, so
// requests carry no X-tenant-id.
const (
	// captchaApp checks captcha tokens with the fake Turnstile siteverify,
	// once per token (the CAPTCHA tests).
	captchaApp = "e2eapp"
	// loadApp accepts any captcha token (kind none), so that load and code
	// tests can send as often as the limits allow.
	loadApp = "e2eload"
)

// secretHex is the HMAC secret every instance is given: instances that
// share a store must hash codes with the same key, or a code sent by one
// would never verify on another.
const secretHex = "6532652d6d756c74692d696e7374616e63652d7365637265742d303132333435"

// logDirEnv names a directory where, when set, every instance's whole log
// is kept as <Test>-<instance>.log (a failing test prints only its end).
const logDirEnv = "E2E_LOG_DIR"

// Bounds on starting and stopping a server process.
const (
	startTimeout = 20 * time.Second
	exitTimeout  = 15 * time.Second
)

var (
	// binDir holds the server binary; TestMain makes and removes it.
	binDir string

	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "smscode-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// serverBinary builds cmd/smscode once per test binary, lazily, so that a
// run that skips (no redis-server) builds nothing.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		out := filepath.Join(binDir, "smscode")
		args := []string{"build", "-o", out}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/smscode")
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
			return
		}
		binPath = out
		fmt.Fprintf(os.Stderr, "e2e: built %s (race %v) in %v\n", out, raceEnabled, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatalf("e2e: build the server: %v", buildErr)
	}
	return binPath
}

// moduleRoot walks up from the working directory (the package directory
// under go test) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("e2e: no go.mod above the working directory")
		}
		dir = parent
	}
}

// cluster is a set of server instances sharing one Redis, one fake SMS
// gateway and one fake siteverify.
type cluster struct {
	redis *redistest.Server
	gw    *gateway
	sv    *siteverify
	nodes []*instance
}

// startCluster starts Redis, the fakes and n instances. webhookDelay holds
// back every gateway answer. Everything is stopped when the test ends.
func startCluster(t *testing.T, n int, webhookDelay time.Duration) *cluster {
	t.Helper()
	return startClusterOn(t, n, webhookDelay, redistest.Start(t)) // skips without redis-server
}

// startClusterOn is startCluster on a Redis the test started.
func startClusterOn(t *testing.T, n int, webhookDelay time.Duration, srv *redistest.Server) *cluster {
	t.Helper()
	c := &cluster{redis: srv}
	c.startNodes(t, n, webhookDelay, func() string { return c.config() })
	return c
}

// startNodes starts the fakes, then n instances reading the configuration
// config returns (once the fakes' addresses are known).
func (c *cluster) startNodes(t *testing.T, n int, webhookDelay time.Duration, config func() string) {
	t.Helper()
	start := time.Now()
	bin := serverBinary(t)
	c.gw = newGateway(t, webhookDelay)
	c.sv = newSiteverify(t)
	cfg := filepath.Join(t.TempDir(), "smscode.yaml")
	if err := os.WriteFile(cfg, []byte(config()), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c.nodes = append(c.nodes, startInstance(t, bin, cfg, string(rune('A'+i))))
	}
	t.Cleanup(func() {
		// A signature or payload the gateway refused is a bug in the
		// provider or in this fake; either way the test must say so.
		if r := c.gw.rejected.Load(); r != 0 {
			t.Errorf("the gateway rejected %d webhook calls", r)
		}
	})
	t.Logf("cluster of %d instances up in %v", n, time.Since(start).Round(time.Millisecond))
}

// config is the YAML every instance of the cluster reads.
//
// The per-device, per-IP and per-app limits and the pumping defence are
// raised or off: every request comes from 127.0.0.1, and the tests are
// about the shared cooldown, codes and tokens, which keep their defaults
// (60 s cooldown, 5 attempts). Short Redis timeouts make an outage fail
// fast; the failover timeout stays well above the gateway's delay.
func (c *cluster) config() string {
	return c.configFor("url: redis://" + c.redis.Addr() + "/0")
}

// configFor is config with another way to reach Redis: redis holds the
// store.redis lines that say it, unindented, one per line.
func (c *cluster) configFor(redis string) string {
	redis = strings.ReplaceAll(strings.TrimSpace(redis), "\n", "\n    ")
	return fmt.Sprintf(`dev_mode: true
secret: %s
log:
  level: info
store:
  kind: redis
  redis:
    %s
    dial_timeout: 300ms
    read_timeout: 500ms
    write_timeout: 500ms
limits:
  device_per_hour: 100000
  ip_per_hour: 100000
  app_daily: 1000000
pumping:
  disabled: true
failover:
  timeout: 3s
providers:
  - name: gateway
    kind: webhook
    webhook:
      url: %s/send
      secret: %s
apps:
  - client_id: %s
    name: e2e captcha app
    captcha:
      kind: turnstile
      secret: %s
      verify_url: %s/siteverify
  - client_id: %s
    name: e2e load app
    captcha:
      kind: none
`, secretHex, redis, c.gw.srv.URL, webhookSecret,
		captchaApp, turnstileSecret, c.sv.srv.URL, loadApp)
}

// instance is one running server process.
type instance struct {
	name string
	addr string // host:port
	url  string
	cmd  *exec.Cmd
	out  *testutil.SyncBuffer

	exited  chan struct{} // closed when the process has exited
	waitErr error         // the process's Wait result, set before exited closes
}

// startInstance runs the binary on a free loopback port and returns once
// GET /healthz answers 200. A port picked by listening on :0 can be taken
// again before the server binds it, so a start whose process exits early is
// tried on another port.
func startInstance(t *testing.T, bin, cfg, name string) *instance {
	t.Helper()
	var err error
	for range 3 {
		var in *instance
		if in, err = launch(t, bin, cfg, name); err == nil {
			return in
		}
	}
	t.Fatalf("instance %s: %v", name, err)
	return nil
}

func launch(t *testing.T, bin, cfg, name string) (*instance, error) {
	port, err := testutil.FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	in := &instance{name: name, addr: addr, url: "http://" + addr, out: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	in.cmd = exec.Command(bin, "-config", cfg, "-addr", addr)
	in.cmd.Dir = t.TempDir() // nothing should be written, but never into the source tree
	in.cmd.Env = cleanEnv()
	in.cmd.Stdout, in.cmd.Stderr = in.out, in.out
	if err := in.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		in.waitErr = in.cmd.Wait()
		close(in.exited)
	}()
	t.Cleanup(func() { in.cleanup(t) })

	deadline := time.Now().Add(startTimeout)
	probe := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-in.exited:
			return nil, fmt.Errorf("exited before answering /healthz (%v):\n%s", in.waitErr, tail(in.out, 4096))
		default:
		}
		if resp, err := probe.Get(in.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no /healthz within %v:\n%s", startTimeout, tail(in.out, 4096))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cleanup kills the process if it still runs, and reports a data race the
// -race binary printed (its exit status is lost to the kill) and, when the
// test failed, the end of the server's log.
func (in *instance) cleanup(t *testing.T) {
	select {
	case <-in.exited:
	default:
		_ = in.cmd.Process.Kill()
		<-in.exited
	}
	if dir := os.Getenv(logDirEnv); dir != "" {
		name := strings.ReplaceAll(t.Name(), "/", "_") + "-" + in.name + ".log"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(in.out.String()), 0o644); err != nil {
			t.Errorf("keep instance %s log: %v", in.name, err)
		}
	}
	if strings.Contains(in.out.String(), "WARNING: DATA RACE") {
		t.Errorf("instance %s: the race detector found a data race:\n%s", in.name, tail(in.out, 16384))
	} else if t.Failed() {
		t.Logf("instance %s log (end):\n%s", in.name, tail(in.out, 4096))
	}
}

// running reports whether the process has not exited.
func (in *instance) running() bool {
	select {
	case <-in.exited:
		return false
	default:
		return true
	}
}

// terminate sends SIGTERM, as an orchestrator stopping the instance would.
func (in *instance) terminate(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("instance %s: SIGTERM: %v", in.name, err)
	}
}

// wait waits, bounded, for the process to exit and returns its exit code.
func (in *instance) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-in.exited:
	case <-time.After(exitTimeout):
		t.Fatalf("instance %s did not exit within %v", in.name, exitTimeout)
	}
	return in.cmd.ProcessState.ExitCode()
}

// cleanEnv is the test's environment without SMSCODE_* variables, which
// would override the configuration file (SMSCODE_REDIS_URL above all).
// For a -race binary it turns off the race runtime's one-second sleep at
// exit, which would otherwise be counted in the shutdown time.
func cleanEnv() []string {
	var env []string
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "SMSCODE_"):
		case strings.HasPrefix(kv, "GORACE="):
			gorace = strings.TrimPrefix(kv, "GORACE=") + " " + gorace
		default:
			env = append(env, kv)
		}
	}
	if raceEnabled {
		env = append(env, "GORACE="+gorace)
	}
	return env
}

// tail is the last n bytes of a process's output.
func tail(b *testutil.SyncBuffer, n int) string {
	s := b.String()
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
