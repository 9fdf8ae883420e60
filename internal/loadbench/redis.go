package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/smscode/smscode/internal/testutil"
)

// redisServer is a redis-server process this program started: on a free
// loopback port, in a temporary directory, persisting as README's "Redis
// that fails over and restarts" tells a deployment to (appendonly yes,
// appendfsync everysec), so that (d) pays for the AOF a user's Redis
// writes. RDB snapshots are off (--save ""): with the AOF they add nothing
// to durability, and a snapshot's fork in the middle of a measured run
// would be noise. Otherwise Redis's defaults (io-threads 1, no maxmemory).
// internal/redistest does the same for tests, but it needs a testing.TB.
type redisServer struct {
	Addr   string
	cmd    *exec.Cmd
	dir    string
	exited chan error
}

// redisTarget says where scenario (d) finds Redis. spec is the -redis flag:
// empty to skip, a host:port of a running server (used as it is: its keys
// expire on their own), or a redis-server binary (a path, or a name looked
// up in PATH) to start. start is nil when nothing is to be started; note
// says why (d) is skipped when addr is empty.
func redisTarget(spec string) (addr string, start func() (*redisServer, error), note string) {
	if spec == "" {
		return "", nil, "-redis is empty"
	}
	if _, _, err := net.SplitHostPort(spec); err == nil && !strings.Contains(spec, "/") {
		return spec, nil, ""
	}
	bin, err := exec.LookPath(spec)
	if err != nil {
		return "", nil, fmt.Sprintf("no redis-server (%v); pass -redis with a binary or host:port", err)
	}
	return "", func() (*redisServer, error) { return startRedis(bin) }, ""
}

// startRedis runs bin on a free 127.0.0.1 port and returns once it answers
// PING. A port found free can be taken before redis-server binds it, so a
// few are tried.
func startRedis(bin string) (*redisServer, error) {
	var err error
	for range 5 {
		var s *redisServer
		if s, err = tryRedis(bin); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func tryRedis(bin string) (*redisServer, error) {
	port, err := testutil.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadbench-redis-")
	if err != nil {
		return nil, err
	}
	s := &redisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, exited: make(chan error, 1)}
	var out strings.Builder
	s.cmd = exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", dir)
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	// The server dies with this process even if it is killed before stop.
	setParentDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-s.exited:
			_ = os.RemoveAll(dir)
			// out is complete: Wait has returned.
			return nil, fmt.Errorf("redis-server exited (%v): %s", err, out.String())
		default:
		}
		if testutil.PingRedis(s.Addr) == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("redis-server did not answer PING within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server, waits for it and removes its directory.
func (s *redisServer) stop() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	_ = os.RemoveAll(filepath.Clean(s.dir))
}

// cpu is the CPU time the server has used, from /proc/<pid>/stat (Linux;
// 0 elsewhere), so that scenario (d)'s CPU per request includes Redis's.
func (s *redisServer) cpu() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count from the
	// last ')'. Fields after it start at the third (state); utime and
	// stime are the 14th and 15th, in clock ticks of 1/100 s (USER_HZ,
	// 100 on every Linux platform Go supports).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}
