package client_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/client"
	"github.com/smscode/smscode/server/servertest"
)

// The OneAccess example request.
const (
	seedMobile = "12345678901"
	seedE164   = "+8612345678901"
)

func seedDevice() client.Device {
	return client.Device{
		OSVersion:   "Android 10",
		Fingerprint: "156aysdna213sac",
		IP:          "10.10.10.1",
		UserAgent:   "Mozilla/5.0 (Linux; Android 10; Redmi K30 Build/QKQ1.190825.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/80.0.3987.99 Mobile Safari/537.36",
	}
}

// recorder is an http.RoundTripper that counts requests and keeps the
// headers of the last one, to prove how many POSTs a call made.
type recorder struct {
	mu   sync.Mutex
	n    int
	last http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.n++
	r.last = req.Header.Clone()
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *recorder) header(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last.Get(name)
}

// newClient returns a client for url with the seed's headers, extra
// options after them, and a recorder on its transport.
func newClient(t *testing.T, url string, extra ...client.Option) (*client.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts := append([]client.Option{
		client.WithClientID(servertest.ClientID),
		client.WithTenantID(servertest.TenantID),
		client.WithDevice(seedDevice()),
		client.WithHTTPClient(&http.Client{Transport: rec, Timeout: 5 * time.Second}),
	}, extra...)
	c, err := client.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// send sends the seed example (BIND_MOBILE_SMS with the seed's token).
func send(t *testing.T, c *client.Client) (*client.SendResult, error) {
	t.Helper()
	return c.SendSMS(context.Background(), seedMobile, client.ScenarioBindMobile, servertest.CaptchaToken)
}

// wantAPIError fails the test unless err is an *Error with status and code,
// and returns it.
func wantAPIError(t *testing.T, err error, status int, code client.ErrorCode) *client.Error {
	t.Helper()
	ce, ok := errors.AsType[*client.Error](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *client.Error %d %s", err, err, status, code)
	}
	if ce.StatusCode != status || ce.Code != code {
		t.Fatalf("got %d %q (%v), want %d %q", ce.StatusCode, ce.Code, ce, status, code)
	}
	return ce
}

// fakeSleep records the waits of a retrying client and moves env's clock
// by each, so that the retry meets the server one Retry-After later.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
	env   *servertest.Env // nil: do not move a clock
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	if f.env != nil {
		f.env.Clock.Advance(d)
	}
	return ctx.Err()
}

func (f *fakeSleep) recorded() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}
