// Package readme runs the commands of README.md's "Try it" section, as a
// newcomer pastes them, against the real server on its embedded defaults: a
// README example that stops working fails the build.
package readme

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/testutil"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/wire"
)

// readmeAddr is the address README's commands use: `make run`'s default.
const readmeAddr = "http://127.0.0.1:8080"

// shellBlocks returns the ```sh blocks of README's section titled title.
func shellBlocks(t *testing.T, title string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)\n```sh\n(.*?)\n```\n").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// blockWith is the one block that contains s.
func blockWith(t *testing.T, blocks []string, s string) string {
	t.Helper()
	var found []string
	for _, b := range blocks {
		if strings.Contains(b, s) {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one README command with %q, found %d", s, len(found))
	}
	return found[0]
}

func TestTryIt(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testutil.SkipGroup(t, "curl (README commands)", "SMSCODE_REQUIRE_CURL", "apt-get install curl", "no curl in PATH")
	}
	blocks := shellBlocks(t, "Try it")
	send := blockWith(t, blocks, "/api/v2/sdk/sms/send")
	verify := blockWith(t, blocks, "/api/v2/sdk/sms/verify")

	// The server as `make run` assembles it, its log captured to read the
	// code the log provider "sent".
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecretFile = filepath.Join(t.TempDir(), "secret")
	var logs testutil.SyncBuffer
	rt, err := wire.Build(cfg, slog.New(slog.NewJSONHandler(&logs, nil)), wire.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	srv := httptest.NewServer(rt.Server.Handler())
	t.Cleanup(srv.Close)

	run := func(name, script string) string {
		t.Helper()
		if !strings.Contains(script, readmeAddr) {
			t.Fatalf("the %s command does not use %s", name, readmeAddr)
		}
		script = strings.ReplaceAll(script, readmeAddr, srv.URL)
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README's %s command: %v\n%s", name, err, out)
		}
		return string(out)
	}

	if out := run("send", send); !strings.Contains(out, "HTTP/1.1 200 OK") || !strings.Contains(out, `"OK"`) {
		t.Fatalf("README's send command did not get 200 \"OK\":\n%s", out)
	}
	m := regexp.MustCompile(`验证码为(\d{6})`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no code in the log provider's line:\n%s", logs.String())
	}
	// README sets CODE to the code of its own log line; a reader sets the
	// one their log shows, as the test does.
	setCode := regexp.MustCompile(`(?m)^CODE=\d+$`)
	if !setCode.MatchString(verify) {
		t.Fatal("README's verify command does not start by setting CODE=<the code>")
	}
	verify = setCode.ReplaceAllString(verify, "CODE="+m[1])
	if out := run("verify", verify); !strings.Contains(out, "HTTP/1.1 200 OK") || !strings.Contains(out, `{"verified":true}`) {
		t.Fatalf("README's verify command did not verify:\n%s", out)
	}
}
