package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the smscode binary once for the tests that run it.
func buildBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "smscode")
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinary runs the built binary as an operator does: the exit status of
// each command line, then SIGHUP (a reload that applies, then one that is
// refused) and SIGTERM (the drain, then exit status 0).
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeAtomic(t, good, opsConfig("providers: [{name: l, kind: log}]", `{client_id: a1}`))
	bad := filepath.Join(dir, "bad.yaml")
	writeAtomic(t, bad, "adr: x\n")

	t.Run("exit status", func(t *testing.T) {
		for _, tc := range []struct {
			args           []string
			status         int
			stdout, stderr string
		}{
			{[]string{"-h"}, 0, "Usage:", ""},
			{[]string{"-version"}, 0, "smscode ", ""},
			{[]string{"-nope"}, 2, "", "flag provided but not defined"},
			{[]string{"check-config"}, 2, "", "-config FILE is required"},
			{[]string{"check-config", "-config", good}, 0, ": ok", ""},
			{[]string{"check-config", "-config", bad}, 1, "", "field adr not found"},
		} {
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = dir
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("smscode %v: status %d, stdout %q, stderr %q; want %d, %q, %q",
					tc.args, status, stdout.String(), stderr.String(), tc.status, tc.stdout, tc.stderr)
			}
		}
	})

	t.Run("signals", func(t *testing.T) {
		path := filepath.Join(dir, "serve.yaml")
		const drain = 500 * time.Millisecond
		serve := func(apps string) string {
			return strings.Replace(opsConfig("shutdown: {drain_delay: 500ms}\nproviders: [{name: l, kind: log}]", apps),
				"log: {level: error}", "log: {level: info}", 1)
		}
		writeAtomic(t, path, serve(`{client_id: a1, captcha: {kind: none}}`))
		cmd := exec.Command(bin, "-config", path, "-addr", "127.0.0.1:0")
		cmd.Dir = dir
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
		})
		// Log lines, by their msg.
		lines := make(chan map[string]any, 100)
		var all bytes.Buffer
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				all.Write(sc.Bytes())
				all.WriteByte('\n')
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) == nil {
					lines <- m
				}
			}
			close(lines)
			exited <- cmd.Wait()
		}()
		waitLog := func(msg string) map[string]any {
			t.Helper()
			timeout := time.After(10 * time.Second)
			for {
				select {
				case m, ok := <-lines:
					if !ok {
						t.Fatalf("the process ended before logging %q", msg)
					}
					if m["msg"] == msg {
						return m
					}
				case <-timeout:
					t.Fatalf("no %q log line", msg)
				}
			}
		}
		addr, _ := waitLog("smscode listening")["addr"].(string)
		api := "http://" + addr
		hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
		send := func(app string, n int64) answer {
			t.Helper()
			a, err := do(hc, sendReq(t, api, app, n))
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		if a := send("a2", 1); a.code != "APP.0001" {
			t.Fatalf("a2 before the reload: %+v, want APP.0001", a)
		}

		writeAtomic(t, path, serve(`{client_id: a1, captcha: {kind: none}}, {client_id: a2, captcha: {kind: none}}`))
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLog("config reloaded")
		if a := send("a2", 2); a.status != 200 {
			t.Fatalf("a2 after the reload: %+v, want 200", a)
		}

		writeAtomic(t, path, serve(`{client_id: a2, captcha: {kind: none}, providers: [nope]}`))
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		m := waitLog("config reload refused: still serving the previous configuration")
		if m["level"] != "ERROR" || !strings.Contains(m["error"].(string), `no provider named "nope"`) {
			t.Errorf("refused reload's log line: %v", m)
		}
		if a := send("a1", 3); a.status != 200 {
			t.Fatalf("a1 after the refused reload: %+v, want 200", a)
		}

		signaled := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitLog("draining: /readyz answers 503; the listeners close after the drain delay")
		if a := get(t, hc, api+"/readyz"); a.status != 503 || a.code != "SYS.0002" {
			t.Errorf("/readyz after SIGTERM: %+v, want 503 SYS.0002", a)
		}
		if a := get(t, hc, api+"/healthz"); a.status != 200 {
			t.Errorf("/healthz during the drain: %+v", a)
		}
		waitLog("stopped")
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the process did not exit after SIGTERM")
		}
		if d := time.Since(signaled); d < drain {
			t.Errorf("exited %v after SIGTERM, before the %v drain", d, drain)
		}
		if strings.Contains(all.String(), testSecret) {
			t.Error("the log shows the secret")
		}
	})
}
