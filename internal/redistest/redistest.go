// Package redistest runs a real redis-server for tests: on a free loopback
// port, without persistence, stopped when the test ends.
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

	mu     sync.Mutex
	proc   *os.Process
	exited chan error // receives the process's Wait result
}

// Start runs redis-server on a free 127.0.0.1 port and returns once it
// answers PING. The server is stopped when the test and its subtests end.
// Without the binary, Start skips the test (fails it when SMSCODE_REQUIRE_REDIS=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testutil.SkipGroup(t, "real Redis", RequireEnv, "apt-get install redis-server", "redis-server is not in PATH")
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
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

// Restart stops the server and starts a fresh, empty one (nothing is
// persisted) on the same port, as after a crash and restart.
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
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
	)
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
