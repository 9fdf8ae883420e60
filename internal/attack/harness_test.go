package attack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/store/memstore"
	"github.com/smscode/smscode/server/wire"
)

const (
	sendPath   = "/api/v2/sdk/sms/send"
	verifyPath = "/api/v2/sdk/sms/verify"
	bind       = "BIND_MOBILE_SMS"
	login      = "LOGIN_SMS"
)

// target is a server under attack: the real http.Server on a loopback
// port, its runtime and its store's clock.
type target struct {
	URL   string
	RT    *wire.Runtime
	Clock *servertest.Clock
	// HTTP is the running http.Server, for the shutdown test.
	HTTP *http.Server
	// Outbox records what the provider accepted, when the target was
	// started by start (one recording provider).
	Outbox *sms.Memory
}

// start runs the default test server (servertest: the OneAccess example
// application, one recording provider) with opts applied, on the real
// http.Server rather than servertest's httptest one, so that the
// configured timeouts and header limit are those of production.
func start(t *testing.T, opts ...servertest.Option) *target {
	t.Helper()
	env := servertest.New(t, opts...)
	tg := &target{RT: env.Runtime, Clock: env.Clock, Outbox: env.Outbox}
	tg.URL, tg.HTTP = serve(t, env.Runtime)
	return tg
}

// startChain runs a server whose application sends through the failover
// chain primary → secondary, with the providers given for those names. Its
// failover times each attempt out after 200 ms and opens a provider's
// breaker after 3 consecutive failures, for an hour (so it does not close
// again during a test). edit, when not nil, changes the configuration last.
func startChain(t *testing.T, primary, secondary sms.Provider, edit func(*config.Config)) *target {
	t.Helper()
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecretFile = filepath.Join(t.TempDir(), "secret")
	// The kinds are placeholders: both providers are replaced by name.
	cfg.Providers = []config.ProviderConfig{{Name: "primary", Kind: "null"}, {Name: "secondary", Kind: "null"}}
	cfg.Failover = failover.Config{Timeout: 200 * time.Millisecond, FailureThreshold: 3, OpenFor: time.Hour}
	if edit != nil {
		edit(&cfg)
	}
	clock := servertest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	st := memstore.New(memstore.Config{Now: clock.Now})
	t.Cleanup(st.Close)
	rt, err := wire.Build(cfg, slog.New(slog.DiscardHandler), wire.Overrides{
		Store:     st,
		Providers: map[string]sms.Provider{"primary": primary, "secondary": secondary},
		Now:       clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	tg := &target{RT: rt, Clock: clock}
	tg.URL, tg.HTTP = serve(t, rt)
	return tg
}

// serve runs rt's http.Server (HTTPServer: the configured timeouts and
// header limit) on a loopback port until the test ends.
func serve(t *testing.T, rt *wire.Runtime) (string, *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := rt.Server.HTTPServer(ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), srv
}

// client is the HTTP client of the tests: no proxy from the environment,
// no keep-alive surprises across tests, and a bound on every call.
var client = &http.Client{
	Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
	Timeout:   15 * time.Second,
}

// headers are the OneAccess example request's headers; a test changes
// some with an edit map (a "" value deletes the header).
func headers(edit map[string]string) http.Header {
	h := http.Header{}
	for k, v := range map[string]string{
		"Content-Type":            "application/json;charset=utf8",
		"X-operating-sys-version": "Android 10",
		"X-device-fingerprint":    "156aysdna213sac",
		"X-device-ip":             "10.10.10.1",
		"X-agent":                 "Mozilla/5.0 (Linux; Android 10)",
		"X-L":                     "en",
		"X-client-id":             servertest.ClientID,
		"X-tenant-id":             servertest.TenantID,
	} {
		h.Set(k, v)
	}
	for k, v := range edit {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
	return h
}

// reply is an answer, with its Error body decoded when it is not 2xx.
type reply struct {
	Status int
	Code   gen.ErrorCode
	Header http.Header
	Body   []byte
}

func (r reply) String() string {
	return strconv.Itoa(r.Status) + " " + string(r.Body)
}

// post sends body as JSON to path with headers h and checks that an error
// answer is the documented Error body (its code in the catalog, with that
// status, and the catalog's English message).
func (tg *target) post(t *testing.T, path string, h http.Header, body any) reply {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tg.try(path, h, raw)
	if err != nil {
		t.Fatal(err)
	}
	checkErrorBody(t, r)
	return r
}

// try is post without the checks, for concurrent use (it does not call
// t.Fatal) and for raw bodies.
func (tg *target) try(path string, h http.Header, raw []byte) (reply, error) {
	req, err := http.NewRequest(http.MethodPost, tg.URL+path, bytes.NewReader(raw))
	if err != nil {
		return reply{}, err
	}
	req.Header = h.Clone()
	res, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{Status: res.StatusCode, Header: res.Header, Body: b}
	if res.StatusCode >= 300 {
		var e gen.Error
		if err := json.Unmarshal(b, &e); err == nil {
			r.Code = e.ErrorCode
		}
	}
	return r, nil
}

// rawHead starts a raw POST to sendPath on addr with the example's
// headers, less the one named except (none when ""), for tests that write
// bytes net/http's client would refuse to; the caller adds its own header
// lines and the body.
func rawHead(addr, except string) *bytes.Buffer {
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\n", sendPath, addr)
	for k, vs := range headers(nil) {
		if except == "" || http.CanonicalHeaderKey(k) != http.CanonicalHeaderKey(except) {
			fmt.Fprintf(&req, "%s: %s\r\n", k, vs[0])
		}
	}
	return &req
}

// rawExchange writes req on a new connection to addr and reads one answer,
// reporting whether the server closed the connection after it. The write
// runs beside the read: the server may answer and close before it has
// read all of an oversized request, and the answer is still there to read.
func rawExchange(t *testing.T, addr string, req []byte) (r reply, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	writeErr := make(chan error, 1)
	go func() { _, err := conn.Write(req); writeErr <- err }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v (write: %v)", err, <-writeErr)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return reply{Status: res.StatusCode, Header: res.Header, Body: got}, res.Close
}

// checkErrorBody fails the test unless r, when not 2xx, has the Error body
// of a catalogued code with r's status and the English message.
func checkErrorBody(t *testing.T, r reply) {
	t.Helper()
	if r.Status < 300 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	var e gen.Error
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%d: body %q is not an Error: %v", r.Status, r.Body, err)
	}
	entry, ok := apierr.Lookup(e.ErrorCode)
	if !ok || entry.Status != r.Status || e.ErrorMsg != entry.English {
		t.Fatalf("%d %s %q: not the catalog's entry %+v", r.Status, e.ErrorCode, e.ErrorMsg, entry)
	}
}

func sendBody(mobile, scenario string) map[string]string {
	return map[string]string{"mobile": mobile, "type": scenario, "captcha_token": servertest.CaptchaToken}
}

func verifyBody(mobile, scenario, code string) map[string]string {
	return map[string]string{"mobile": mobile, "type": scenario, "verify_code": code}
}

// send asks for a code for mobile with the example's headers, edited.
func (tg *target) send(t *testing.T, mobile, scenario string, edit map[string]string) reply {
	t.Helper()
	return tg.post(t, sendPath, headers(edit), sendBody(mobile, scenario))
}

// verify checks code for mobile with the example's headers, edited.
func (tg *target) verify(t *testing.T, mobile, scenario, code string, edit map[string]string) reply {
	t.Helper()
	return tg.post(t, verifyPath, headers(edit), verifyBody(mobile, scenario, code))
}

// want fails the test unless r is status with code ("" for a 2xx).
func want(t *testing.T, r reply, status int, code gen.ErrorCode) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Fatalf("got %s, want %d %s", r, status, code)
	}
}

// wrong is a code that is not code.
func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// recorder wraps a provider and records every message it is asked to
// send, delivered or not, so that a test can try the code of a message
// that no provider accepted.
type recorder struct {
	sms.Provider
	asked chan sms.Message
}

func newRecorder(p sms.Provider) *recorder {
	return &recorder{Provider: p, asked: make(chan sms.Message, 1000)}
}

// Send implements sms.Provider.
func (r *recorder) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	r.asked <- msg
	return r.Provider.Send(ctx, msg)
}

// slow is a provider that takes delay before passing the message on, or
// gives up with the context's error when the context ends first (as a
// real HTTP client would).
type slow struct {
	sms.Provider
	delay time.Duration
}

// Send implements sms.Provider.
func (s slow) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	select {
	case <-time.After(s.delay):
		return s.Provider.Send(ctx, msg)
	case <-ctx.Done():
		return sms.Receipt{}, ctx.Err()
	}
}
