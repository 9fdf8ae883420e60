package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/buildinfo"
	"github.com/smscode/smscode/internal/seed"
)

const testSecret = "abababababababababababababababababababababababababababababababab"

// opsConfig is a dev-mode configuration file for these tests: limits no
// test reaches, extra YAML, and the apps (YAML flow items).
func opsConfig(extra, apps string) string {
	return `
dev_mode: true
secret: ` + testSecret + `
log: {level: error}
limits: {number_daily: 1000000, device_per_hour: 1000000, ip_per_hour: 1000000, app_daily: 1000000}
pumping: {disabled: true}
` + extra + `
apps: [` + apps + `]
`
}

// writeAtomic replaces path's content at once (as a ConfigMap update
// does), so a reload never reads half a file.
func writeAtomic(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestCommandLine runs the command lines an operator or a CI pipeline
// types that do not serve: help, version, usage errors and check-config on
// a good file and on each kind of bad one.
func TestCommandLine(t *testing.T) {
	example, err := filepath.Abs(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.yaml", opsConfig("providers: [{name: l, kind: log}]", `{client_id: a1}`))
	bi := buildinfo.Get()
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		wantErr    error  // nil, errUsage, or errAny
		wantStdout string // substring
		wantStderr string // substring of the error (or of stderr for usage errors)
	}{
		{"help", []string{"-h"}, nil, nil, "check-config -config FILE", ""},
		{"help of check-config", []string{"check-config", "-h"}, nil, nil, "without opening", ""},
		{"version", []string{"-version"}, nil, nil, fmt.Sprintf("smscode %s (revision %s, %s)", bi.Version, bi.Revision, bi.GoVersion), ""},
		{"unknown flag", []string{"-nope"}, nil, errUsage, "", "flag provided but not defined: -nope"},
		{"check-config without -config", []string{"check-config"}, nil, errUsage, "", "-config FILE is required"},
		{"check-config with an argument", []string{"check-config", "-config", good, "extra"}, nil, errUsage, "", "-config FILE is required"},
		{"good file", []string{"check-config", "-config", good}, nil, nil, good + ": ok", ""},
		{"the example file", []string{"check-config", "-config", example}, map[string]string{
			"SMSCODE_SECRET": testSecret, "HUAWEI_SMS_APP_KEY": "k", "HUAWEI_SMS_APP_SECRET": "s",
			"ALIYUN_ACCESS_KEY_ID": "i", "ALIYUN_ACCESS_KEY_SECRET": "s",
			"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": "t",
			"SMS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "TURNSTILE_SECRET": "t",
			"AUDIT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		}, nil, ": ok", ""},
		{"missing file", []string{"check-config", "-config", filepath.Join(dir, "none.yaml")}, nil, errAny, "", "no such file"},
		{"tracing exporter start-up refuses", []string{"check-config", "-config", good}, map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, errAny, "", "OTEL_TRACES_EXPORTER"},
		{"OTLP protocol start-up refuses", []string{"check-config", "-config", good}, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, errAny, "", "OTLP protocol"},
		{"bad YAML", []string{"check-config", "-config", file("bad.yaml", "apps: [\n")}, nil, errAny, "", "yaml:"},
		{"unknown key", []string{"check-config", "-config", file("key.yaml", opsConfig("providers: [{name: l, kind: log}]\nshutdown: {drain: 1s}", `{client_id: a1}`))}, nil, errAny, "", "field drain not found"},
		{"invalid value", []string{"check-config", "-config", file("val.yaml", opsConfig("providers: [{name: l, kind: log}]\nshutdown: {drain_delay: -1s}", `{client_id: a1}`))}, nil, errAny, "", "shutdown: drain_delay and timeout must not be negative"},
		{"a template without {code}", []string{"check-config", "-config", file("tpl.yaml", opsConfig("providers: [{name: l, kind: log}]",
			`{client_id: a1, templates: {en: {BIND_MOBILE_SMS: "no code here"}}}`))}, nil, errAny, "", "has no {code}"},
		{"a value only building refuses", []string{"check-config", "-config", file("hook.yaml", opsConfig(
			"providers: [{name: h, kind: webhook, webhook: {url: 'http://127.0.0.1:1/', secret: nope}}]", `{client_id: a1}`))}, nil, errAny, "", "providers: h"},
		{"redis options, not connected", []string{"check-config", "-config", file("redis.yaml", opsConfig("providers: [{name: l, kind: log}]\nstore: {kind: redis, redis: {url: 'redis://127.0.0.1:1/0'}}", `{client_id: a1}`))}, nil, nil, ": ok", ""},
		{"bad redis options", []string{"check-config", "-config", file("redis2.yaml", opsConfig("providers: [{name: l, kind: log}]\nstore: {kind: redis, redis: {url: 'redis://127.0.0.1:1/0', cluster_addrs: [a:1]}}", `{client_id: a1}`))}, nil, errAny, "", "alternatives"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, env{stdout: &stdout, stderr: &stderr})
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("err = %v, want nil (stderr %q)", err, stderr.String())
			case tc.wantErr == errUsage && !errors.Is(err, errUsage):
				t.Fatalf("err = %v, want a usage error", err)
			case tc.wantErr == errAny && (err == nil || errors.Is(err, errUsage)):
				t.Fatalf("err = %v, want a configuration error", err)
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", stdout.String(), tc.wantStdout)
			}
			got := stderr.String()
			if err != nil && !errors.Is(err, errUsage) {
				got = err.Error()
			}
			if !strings.Contains(got, tc.wantStderr) {
				t.Errorf("error %q, want it to contain %q", got, tc.wantStderr)
			}
			if _, statErr := os.Stat(".smscode"); statErr == nil {
				t.Errorf("%v wrote .smscode: check-config must write nothing", tc.args)
			}
		})
	}
}

// errAny stands for any error but a usage error in TestCommandLine.
var errAny = errors.New("any configuration error")

// started is a run in progress on loopback.
type started struct {
	api  string // http://host:port
	addr string // host:port
	done chan error
	stop context.CancelFunc
}

func start(t *testing.T, args []string, e env) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{done: make(chan error, 1), stop: cancel}
	ready := make(chan net.Addr, 1)
	e.listening = func(api, _ net.Addr) { ready <- api }
	go func() { s.done <- run(ctx, args, e) }()
	select {
	case a := <-ready:
		s.addr, s.api = a.String(), "http://"+a.String()
	case err := <-s.done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start listening")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Error("run did not return")
		}
	})
	return s
}

// sendReq is a send request as app (client id) to number n.
func sendReq(t testing.TB, base, clientID string, n int64) *http.Request {
	t.Helper()
	body := fmt.Sprintf(`{"mobile":"138%08d","type":"BIND_MOBILE_SMS","captcha_token":"x"}`, n)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v2/sdk/sms/send", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = seed.Headers()
	req.Header.Set("X-client-id", clientID)
	req.Header.Del("X-tenant-id")
	return req
}

type answer struct {
	status int
	code   string // error_code
	msg    string // error_msg
}

func do(hc *http.Client, req *http.Request) (answer, error) {
	res, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: res.StatusCode}
	if res.StatusCode >= 300 {
		var e struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			return a, fmt.Errorf("error body %q: %w", b, err)
		}
		a.code, a.msg = e.Code, e.Msg
	}
	return a, nil
}

func get(t *testing.T, hc *http.Client, url string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := do(hc, req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return a
}

// TestShutdownDrains cancels run's context (SIGTERM) with a slow send in
// flight: /readyz answers 503 SYS.0002 at once, while /healthz and the API
// are still served for shutdown.drain_delay; then the listener closes, the
// slow send still finishes with 200, and run returns nil.
func TestShutdownDrains(t *testing.T) {
	t.Chdir(t.TempDir())
	const drainDelay = 2 * time.Second
	// The webhook provider's endpoint holds the slow send until released.
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"id":"m1"}`)
	})}
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hook.Serve(hln) }()
	t.Cleanup(func() { _ = hook.Close() })
	var once sync.Once
	releaseSlow := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseSlow)

	path := filepath.Join(t.TempDir(), "c.yaml")
	writeAtomic(t, path, opsConfig(fmt.Sprintf(`
shutdown: {drain_delay: %s, timeout: 5s}
providers:
  - {name: slow, kind: webhook, webhook: {url: "http://%s/", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}}
  - {name: l, kind: log}
`, drainDelay, hln.Addr()), `{client_id: slowapp, captcha: {kind: none}, providers: [slow]}, {client_id: fast, captcha: {kind: none}, providers: [l]}`))
	s := start(t, []string{"-config", path, "-addr", "127.0.0.1:0"}, env{})
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	if a := get(t, hc, s.api+"/readyz"); a.status != 200 {
		t.Fatalf("/readyz before the signal: %+v", a)
	}

	slow := make(chan answer, 1)
	go func() {
		a, err := do(hc, sendReq(t, s.api, "slowapp", 1))
		if err != nil {
			a.code = err.Error()
		}
		slow <- a
	}()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow send did not reach its provider")
	}

	signaled := time.Now()
	s.stop()
	// /readyz turns 503 as soon as run has seen the signal (a goroutine
	// handoff or two away, longer on a loaded machine): poll for it.
	var ready answer
	for deadline := time.Now().Add(drainDelay / 2); ; time.Sleep(5 * time.Millisecond) {
		if ready = get(t, hc, s.api+"/readyz"); ready.status != http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	// Within the drain: not ready, but everything else served.
	if ready.status != http.StatusServiceUnavailable || ready.code != "SYS.0002" || ready.msg == "" {
		t.Errorf("/readyz during the drain: %+v, want 503 SYS.0002", ready)
	}
	if a := get(t, hc, s.api+"/healthz"); a.status != 200 {
		t.Errorf("/healthz during the drain: %+v", a)
	}
	if a, err := do(hc, sendReq(t, s.api, "fast", 2)); err != nil || a.status != 200 {
		t.Errorf("a send during the drain: %+v %v, want 200", a, err)
	}
	if took := time.Since(signaled); took >= drainDelay {
		// A machine this loaded proves nothing either way: not a failure.
		t.Skipf("the checks took %v, longer than the %v drain; the test proves nothing on a machine this slow", took, drainDelay)
	}
	// Then the listener closes, not before the drain delay.
	var closedAfter time.Duration
	for deadline := time.Now().Add(drainDelay + 5*time.Second); ; {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err != nil {
			closedAfter = time.Since(signaled)
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections long after the drain")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if closedAfter < drainDelay-50*time.Millisecond {
		t.Errorf("the listener closed %v after the signal, before the %v drain", closedAfter, drainDelay)
	}
	select {
	case err := <-s.done:
		t.Fatalf("run returned (%v) with a send in flight", err)
	default:
	}
	releaseSlow()
	if a := <-slow; a.status != 200 {
		t.Errorf("the in-flight send: %+v, want 200", a)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the in-flight send finished")
	}
	t.Logf("listener closed %v after the signal (drain_delay %v)", closedAfter.Round(time.Millisecond), drainDelay)
}

// TestReloadUnderLoad sends continuously from several goroutines through a
// real listener while the -config file is rewritten and reloaded many
// times (apps added and removed, failover chains changed, and every fourth
// file invalid): every send answers 200, none fails or is refused, every
// valid reload applies and every invalid one is refused.
func TestReloadUnderLoad(t *testing.T) {
	t.Chdir(t.TempDir())
	const (
		workers  = 8
		duration = 2 * time.Second
		every    = 100 * time.Millisecond
	)
	path := filepath.Join(t.TempDir(), "c.yaml")
	providers := "shutdown: {drain_delay: 0s}\nproviders: [{name: p, kind: \"null\"}, {name: q, kind: log}]"
	stable := `{client_id: a1, captcha: {kind: none}}, {client_id: a2, captcha: {kind: none}, providers: [q, p]}`
	configs := []string{
		opsConfig(providers, stable),
		opsConfig(providers+"\nfailover: {timeout: 3s}", stable+`, {client_id: extra, tenant_id: t1, captcha: {kind: none}}`),
		opsConfig(providers+"\ndefault_providers: [q]", stable+`, {client_id: extra2, captcha: {kind: none}, templates: {en: {BIND_MOBILE_SMS: "code {code}"}}}`),
		opsConfig(providers, stable+", {client_id: a1}"), // invalid: a1 twice
	}
	writeAtomic(t, path, configs[0])
	hup := make(chan os.Signal)
	results := make(chan error)
	s := start(t, []string{"-config", path, "-addr", "127.0.0.1:0"}, env{reload: hup, reloaded: func(err error) { results <- err }})

	var sent, failed, n atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			app := []string{"a1", "a2"}[w%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				a, err := do(hc, sendReq(t, s.api, app, n.Add(1)))
				sent.Add(1)
				if err != nil || a.status != 200 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%s: %+v %v", app, a, err))
				}
			}
		}()
	}
	var reloads, applied, refused int
	for deadline := time.Now().Add(duration); time.Now().Before(deadline); reloads++ {
		time.Sleep(every)
		i := 1 + reloads%len(configs[1:]) // 1, 2, 3, 1, ...; 0 never again
		writeAtomic(t, path, configs[i])
		hup <- os.Signal(nil)
		err := <-results
		switch {
		case i == 3 && err == nil:
			t.Errorf("reload %d: the invalid file was accepted", reloads)
		case i == 3:
			refused++
		case err != nil:
			t.Errorf("reload %d: %v", reloads, err)
		default:
			applied++
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d sends from %d goroutines during %d reloads (%d applied, %d refused): %d failed",
		sent.Load(), workers, reloads, applied, refused, failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d of %d sends failed; first: %v", failed.Load(), sent.Load(), firstFailure.Load())
	}
	if sent.Load() < int64(workers) || applied == 0 || refused == 0 {
		t.Fatalf("too little happened: %d sends, %d applied, %d refused", sent.Load(), applied, refused)
	}
	// The last file is live: the app only it has answers.
	last := 1 + (reloads-1)%len(configs[1:])
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	a, err := do(hc, sendReq(t, s.api, "extra2", n.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int]int{1: 400, 2: 200, 3: 200}[last]; a.status != want {
		// After the invalid file (3), the one before it (2) still serves.
		t.Errorf("after reload of config %d, a send as extra2: %+v, want %d", last, a, want)
	}
}
