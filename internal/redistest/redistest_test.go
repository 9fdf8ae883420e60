package redistest_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/redistest"
)

func roundTrip(t *testing.T, addr, cmd string) (string, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}

func TestStartStopRestart(t *testing.T) {
	s := redistest.Start(t)
	if got, err := roundTrip(t, s.Addr(), "SET k v"); err != nil || got != "+OK\r\n" {
		t.Fatalf("SET: %q, %v", got, err)
	}
	s.Stop()
	if _, err := roundTrip(t, s.Addr(), "PING"); err == nil {
		t.Fatal("stopped server still answers")
	}
	s.Stop() // a second Stop is harmless
	s.Restart()
	// Same address, and empty: nothing was persisted.
	if got, err := roundTrip(t, s.Addr(), "GET k"); err != nil || got != "$-1\r\n" {
		t.Fatalf("GET after restart: %q, %v", got, err)
	}
}

// Options given to Start override the defaults: with the AOF on, a
// restarted server has its data back.
func TestRestartWithAppendOnlyKeepsData(t *testing.T) {
	s := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	if got, err := roundTrip(t, s.Addr(), "SET k v"); err != nil || got != "+OK\r\n" {
		t.Fatalf("SET: %q, %v", got, err)
	}
	s.Restart()
	if got, err := roundTrip(t, s.Addr(), "GET k"); err != nil || got != "$1\r\n" {
		t.Fatalf("GET after restart: %q, %v (want the value back)", got, err)
	}
}

func TestTwoServersGetDifferentPorts(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
}

// StartCluster's masters each own a third of the slots, and a node answers
// a key of another's slot with a MOVED redirect to that master.
func TestStartClusterSplitsSlots(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	if len(c.Addrs()) != 3 {
		t.Fatalf("%d masters, want 3", len(c.Addrs()))
	}
	// "{a}" hashes to slot 15495, owned by the third master.
	for i, addr := range c.Addrs() {
		got, err := roundTrip(t, addr, "SET {a}:k v")
		want := "-MOVED 15495 " + c.Addrs()[2] + "\r\n"
		if i == 2 {
			want = "+OK\r\n"
		}
		if err != nil || got != want {
			t.Errorf("SET on master %d: %q, %v; want %q", i, got, err, want)
		}
	}
}
