package audit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/smscode/smscode/internal/audittest"
	"github.com/smscode/smscode/internal/metricstest"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/sms/webhook"
)

// memSink keeps what it was given.
type memSink struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memSink) Write(_ context.Context, b []audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, b...)
	return nil
}
func (m *memSink) Close() error { return nil }
func (m *memSink) len() int     { m.mu.Lock(); defer m.mu.Unlock(); return len(m.events) }

// stalledSink never finishes a write until released: a SIEM that accepts
// the connection and never answers.
type stalledSink struct{ release chan struct{} }

func (s stalledSink) Write(ctx context.Context, _ []audit.Event) error {
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s stalledSink) Close() error { return nil }

func event(i int) audit.Event {
	return audit.Event{
		Time: time.Date(2026, 12, 2, 1, 0, 0, i, time.UTC), Type: audit.TypeSend,
		RequestID: "req", ClientID: "app", Scenario: "LOGIN_SMS", Outcome: "sent",
		CountryCode: "86", NumberMasked: "+86 138****5678", NumberHash: strings.Repeat("ab", 16),
		Provider: "log", MessageID: "m1",
	}
}

func TestTrailFansOutAndFlushesOnClose(t *testing.T) {
	a, b := &memSink{}, &memSink{}
	tr, err := audit.New(audit.Config{MaxBatch: 7}, []audit.Named{{Name: "a", Sink: a}, {Name: "b", Sink: b}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		tr.Record(event(i))
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if a.len() != 1000 || b.len() != 1000 {
		t.Fatalf("sinks got %d and %d events, want 1000 each", a.len(), b.len())
	}
	for i, e := range a.events {
		if e.Time.Nanosecond() != i {
			t.Fatalf("event %d out of order: %v", i, e.Time)
		}
	}
	tr.Record(event(0)) // after Close: ignored, no panic
	var nilTrail *audit.Trail
	nilTrail.Record(event(0))
}

// TestStalledSinkDoesNotBlock is the attack on the trail: a sink that never
// answers. Record must return at once for every event (a blocked Record
// would hang a send), the healthy sink must get every event, and the
// stalled one's overflow is dropped and counted.
func TestStalledSinkDoesNotBlock(t *testing.T) {
	const queue, sent = 1000, 5000
	reg := prometheus.NewRegistry()
	healthy, stalled := &memSink{}, stalledSink{release: make(chan struct{})}
	tr, err := audit.New(audit.Config{QueueSize: queue, MaxBatch: 10, WriteTimeout: time.Minute},
		[]audit.Named{{Name: "file", Sink: healthy}, {Name: "webhook", Sink: stalled}}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		for i := range sent {
			tr.Record(event(i))
			if i%100 == 0 {
				time.Sleep(time.Millisecond) // let the healthy sink keep up
			}
		}
		done <- time.Since(start)
	}()
	select {
	case d := <-done:
		t.Logf("%d events recorded with a stalled sink in %v (%.1f µs each, sleeps included)", sent, d, float64(d.Microseconds())/sent)
	case <-time.After(30 * time.Second):
		t.Fatal("Record blocked behind a stalled sink")
	}
	dropped := counterValue(t, reg, "webhook", "dropped")
	// The stalled sink holds one batch in Write and queue more; the rest drop.
	if min := float64(sent - queue - 10); dropped < min {
		t.Fatalf("stalled sink dropped %v events, want at least %v", dropped, min)
	}
	close(stalled.release)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if healthy.len() != sent {
		t.Fatalf("healthy sink got %d of %d events", healthy.len(), sent)
	}
	if w := counterValue(t, reg, "file", "written"); w != sent {
		t.Fatalf("file written = %v, want %d", w, sent)
	}
	t.Logf("stalled sink: %v of %d dropped and counted; healthy sink: all %d written", dropped, sent, sent)
}

// counterValue reads smscode_audit_events_total{sink,result} from reg.
func counterValue(t *testing.T, reg *prometheus.Registry, sink, result string) float64 {
	t.Helper()
	return metricstest.Value(t, reg, "smscode_audit_events_total", map[string]string{"sink": sink, "result": result})
}

func TestFileSinkWritesJSONLinesAndRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	f, err := audit.NewFile(audit.FileConfig{Path: path, MaxSizeMB: 1, MaxBackups: 2})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := audit.New(audit.Config{}, []audit.Named{{Name: "file", Sink: f}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// About 350 bytes an event: 4,000 events pass 1 MB, so lumberjack rotates.
	const n = 4000
	for i := range n {
		tr.Record(event(i))
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit*.jsonl"))
	if len(files) < 2 {
		t.Fatalf("want the file rotated at 1 MB, found %v", files)
	}
	lines := 0
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			lines++
			if err := audittest.Validate([]byte(line)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if lines != n {
		t.Fatalf("%d lines in %d files, want %d (no line lost or split by rotation)", lines, len(files), n)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("audit file mode %v: readable by others", perm)
	}
}

func TestWebhookSinkSignsAsStandardWebhooks(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var mu sync.Mutex
	var got []audit.Event
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		if _, err := r.Body.Read(body); err != nil && err.Error() != "EOF" {
			t.Error(err)
		}
		if err := webhook.Verify(secret, r.Header, body, 0, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var b struct {
			Type   string        `json:"type"`
			Events []audit.Event `json:"events"`
		}
		if err := json.Unmarshal(body, &b); err != nil || b.Type != audit.WebhookType {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, b.Events...)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	wh, err := audit.NewWebhook(audit.WebhookConfig{URL: srv.URL, Secret: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Write(context.Background(), []audit.Event{event(1), event(2)}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Time.Nanosecond() != 2 {
		t.Fatalf("receiver got %+v", got)
	}
	// A receiver with another secret refuses: the sink reports the failure.
	other, err := audit.NewWebhook(audit.WebhookConfig{URL: srv.URL, Secret: "whsec_" + strings.Repeat("A", 32)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Write(context.Background(), []audit.Event{event(3)}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrongly signed batch: err = %v, want status 401", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, fn := range map[string]func() error{
		"file without path": func() error { _, err := audit.NewFile(audit.FileConfig{}); return err },
		"webhook bad url": func() error {
			_, err := audit.NewWebhook(audit.WebhookConfig{URL: "ftp://x", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, nil)
			return err
		},
		"webhook bad secret": func() error {
			_, err := audit.NewWebhook(audit.WebhookConfig{URL: "https://x", Secret: "s3cr3t"}, nil)
			return err
		},
		"duplicate sinks": func() error {
			_, err := audit.New(audit.Config{}, []audit.Named{{Name: "a", Sink: &memSink{}}, {Name: "a", Sink: &memSink{}}}, nil, nil)
			return err
		},
	} {
		if fn() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A sink that never answers cannot hold Close beyond FlushTimeout: what is
// left is dropped and counted.
func TestCloseIsBoundedByFlushTimeout(t *testing.T) {
	reg := prometheus.NewRegistry()
	stalled := stalledSink{release: make(chan struct{})}
	defer close(stalled.release)
	tr, err := audit.New(audit.Config{QueueSize: 1000, MaxBatch: 10, WriteTimeout: time.Hour, FlushTimeout: 200 * time.Millisecond},
		[]audit.Named{{Name: "webhook", Sink: stalled}}, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		tr.Record(event(i))
	}
	began := time.Now()
	_ = tr.Close()
	took := time.Since(began)
	dropped, failed := counterValue(t, reg, "webhook", "dropped"), counterValue(t, reg, "webhook", "failed")
	t.Logf("Close took %v with a stalled sink; %v events dropped, %v failed", took, dropped, failed)
	if took > 10*time.Second {
		t.Fatalf("Close took %v, want about the 200ms flush timeout", took)
	}
	if dropped+failed < 480 {
		t.Fatalf("dropped %v + failed %v of 500, want nearly all counted", dropped, failed)
	}
}
