// Package redistest runs a real redis-server for tests: on a free loopback
// port, without persistence unless the test asks for it, stopped when the
// test ends. StartSentinel runs a primary, its replicas and three Sentinels.
//
// Tests that need Redis skip when the redis-server binary is not installed,
// so that a plain `go test ./...` works anywhere; CI sets
// SMSCODE_REQUIRE_REDIS=1 so that a missing binary fails the build instead of
// silently skipping the Redis half of the suite.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/testutil"
)

// RequireEnv is the environment variable that turns a missing redis-server
// binary from a skip into a failure.
const RequireEnv = "SMSCODE_REQUIRE_REDIS"

// startTimeout bounds how long Start waits for the server to answer PING.
const startTimeout = 10 * time.Second

// Server is a redis-server process owned by one test.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	// args follow the defaults on the command line, so that a later
	// --appendonly yes wins over the default --appendonly no.
	args []string
	// sentinelConf, when set, is the initial config file of a Sentinel
	// (its monitor lines): the process runs in sentinel mode, from a copy
	// in dir that it rewrites as it learns the topology.
	sentinelConf string

	mu     sync.Mutex
	proc   *os.Process
	exited chan error // receives the process's Wait result
}

// Start runs redis-server on a free 127.0.0.1 port and returns once it
// answers PING. The server is stopped when the test and its subtests end.
// Without the binary, Start skips the test (fails it when SMSCODE_REQUIRE_REDIS=1).
//
// args are further redis-server options ("--appendonly", "yes"); they come
// after the defaults (no RDB snapshots, no AOF), so they override them.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	return start(t, &Server{t: t, bin: binary(t), dir: t.TempDir(), args: args})
}

// binary is redis-server's path; without it the test skips (or fails).
func binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testutil.SkipGroup(t, "real Redis", RequireEnv, "apt-get install redis-server", "redis-server is not in PATH")
	}
	return bin
}

func start(t testing.TB, s *Server) *Server {
	t.Helper()
	var err error
	// A port picked by listening on :0 can be taken by another process
	// between our Close and redis-server's bind, so try a few ports.
	for range 5 {
		if s.port, err = testutil.FreePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if err = s.start(); err == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redistest: %v", err)
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Stop kills the server and waits for it to exit; clients then get
// connection errors. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	// SIGKILL, not SIGTERM: this is a crash (no chance to flush or close
	// connections politely), which is what fault-injection tests want.
	_ = s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart stops the server and starts it again on the same port and data
// directory, as after a crash and restart: with the default options it
// comes back empty (nothing was persisted); started with --appendonly yes
// it loads its AOF first (Start's PING waits for the load to finish).
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &testutil.SyncBuffer{}
	var argv []string
	if s.sentinelConf != "" {
		// Written afresh for each try: a Sentinel that started rewrote
		// it, one that lost its port to another process did not matter.
		conf := filepath.Join(s.dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(s.sentinelConf), 0o600); err != nil {
			return err
		}
		argv = append(argv, conf, "--sentinel")
	}
	argv = append(argv,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
	)
	if s.sentinelConf == "" {
		// A replica's first sync would otherwise wait 5 s for more
		// replicas to share the transfer.
		argv = append(argv, "--repl-diskless-sync-delay", "0")
	}
	argv = append(argv, s.args...)
	cmd := exec.Command(s.bin, argv...)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			// Most likely the port was taken; Start tries another.
			return fmt.Errorf("redis-server exited (%v): %s", err, out.String())
		default:
		}
		if testutil.PingRedis(s.Addr()) == nil {
			s.proc, s.exited = cmd.Process, exited
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server did not answer PING within %v: %s", startTimeout, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
