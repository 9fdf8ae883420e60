package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestScenarios runs every scenario briefly, Redis included when
// redis-server is installed, and checks that each got only the answers it
// expects: the load figures mean nothing if, say, the accepted sends were
// refused by a limit.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for a few seconds")
	}
	redis := "redis-server"
	if _, err := exec.LookPath(redis); err != nil {
		redis = ""
	}
	o := options{
		Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond, Workers: 4, Rounds: 2,
		Redis: redis, Log: "info", Scenarios: "baseline,a,b,c,d,e,f", VerifyMax: 20_000,
	}
	var out bytes.Buffer
	if err := run(context.Background(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, id := range []string{"baseline", "a", "b", "c", "e", "f"} {
		if !strings.Contains(out.String(), "round 2/2  "+id+" ") {
			t.Errorf("no line for scenario %s:\n%s", id, out.String())
		}
	}
	t.Log(out.String())
}

// TestLayerAnswersAsAccepted checks that scenario (f)'s no-op service
// answers as (a)'s pipeline does, so that the two rows differ only by the
// pipeline's work: the same status and the same headers but the request id
// (the answer's body is the same constant for every accepted send).
func TestLayerAnswersAsAccepted(t *testing.T) {
	accepted, err := startReal(serverOptions{Log: mustLoggerT(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = accepted.close() })
	layer, err := newLayer(mustLoggerT(t))
	if err != nil {
		t.Fatal(err)
	}
	answer := func(h http.Handler) (int, http.Header) {
		var tg vegeta.Target
		if err := sendsTo("", "19", 0)(0, &tg); err != nil {
			t.Fatal(err)
		}
		w := &discardWriter{h: http.Header{}}
		status := serveTarget(h, w, &tg)
		w.h.Del("X-Request-Id")
		return status, w.h
	}
	wantStatus, want := answer(accepted.rt.Server.Handler())
	gotStatus, got := answer(layer.Handler())
	if wantStatus != http.StatusOK || gotStatus != wantStatus {
		t.Fatalf("status: (a) %d, (f) %d; want both 200", wantStatus, gotStatus)
	}
	for _, name := range []string{"X-Resend-After", "X-Code-Expires-In"} {
		if want.Get(name) == "" {
			t.Errorf("(a)'s answer has no %s: %v", name, want)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("(f)'s headers differ from (a)'s:\n(f) %v\n(a) %v", got, want)
	}
}

// TestMemory stores a few pending codes and checks that the figures are
// plausible: positive, and far below a kilobyte per code. 50,000 codes add
// some 8 MB, which the heap left by other tests of a shuffled, loaded run
// (a few hundred KB freed between the two readings) cannot turn negative;
// 20,000 could.
func TestMemory(t *testing.T) {
	// The live-heap difference is measured in a test binary whose other
	// tests' servers may still be winding down (their goroutines freeing
	// memory between the two readings), which can make one reading
	// implausible, even negative. Three tries; one plausible set passes.
	var f memFigures
	for try := range 3 {
		var err error
		if f, err = measureMemory(50_000, io.Discard); err != nil {
			t.Fatal(err)
		}
		if f.CodesHeapPerCode > 0 && f.CodesHeapPerCode <= 1024 && f.SendsHeapPerSend >= f.CodesHeapPerCode {
			return
		}
		t.Logf("try %d: implausible figures (another test's memory freed meanwhile?): %+v", try+1, f)
	}
	t.Errorf("implausible figures three times: %+v", f)
}

func TestMobile(t *testing.T) {
	for _, c := range []struct {
		rng  string
		i    uint64
		want string
	}{{"13", 0, "13000000000"}, {"17", 42, "17000000042"}, {"15", 1_000_000_001, "15000000001"}} {
		if got := mobile(c.rng, c.i); got != c.want {
			t.Errorf("mobile(%q, %d) = %q, want %q", c.rng, c.i, got, c.want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	if got := errorCode([]byte(`{"error_code":"SMS.0001","error_msg":"x"}`)); got != "SMS.0001" {
		t.Errorf("errorCode = %q", got)
	}
	if got := errorCode([]byte(`{}`)); got != "" {
		t.Errorf("errorCode of {} = %q", got)
	}
}

// The handler benchmarks serve each scenario's request straight to the
// handler, without sockets or a load generator: the server's own cost per
// request, steadier than the load run on a shared machine, and in a form
// benchstat reads. Each also reports the process CPU time per request
// (cpu-ns/op), which time stolen by other processes does not inflate.

func BenchmarkHandler(b *testing.B) {
	base := newBaseline()
	srv, err := startReal(serverOptions{Log: mustLogger(b, "info")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.close() })
	h := srv.rt.Server.Handler()

	b.Run("baseline", func(b *testing.B) {
		serve(b, base, sendsTo("", "13", 0), http.StatusOK)
	})
	b.Run("accepted", func(b *testing.B) {
		// A range of its own per run: b.Run calls this several times.
		serve(b, h, sendsTo("", "14", uint64(time.Now().UnixNano())%500_000_000), http.StatusOK)
	})
	b.Run("layer", func(b *testing.B) {
		// Scenario (f): the accepted send's request through the same layer,
		// on a service that accepts at once.
		layer, err := newLayer(mustLogger(b, "info"))
		if err != nil {
			b.Fatal(err)
		}
		serve(b, layer.Handler(), sendsTo("", "17", 0), http.StatusOK)
	})
	b.Run("refused", func(b *testing.B) {
		number := mobile("18", 1)
		serveOne(b, h, sameNumber("", number), 0) // the send that starts the cooldown
		serve(b, h, sameNumber("", number), http.StatusTooManyRequests)
	})
	b.Run("invalid", func(b *testing.B) {
		serve(b, h, invalid(""), http.StatusBadRequest)
	})
	b.Run("verify", func(b *testing.B) {
		book := newCodeBook()
		vs, err := startReal(serverOptions{Provider: book, Log: mustLogger(b, "info")})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = vs.close() }()
		codes, err := prepare(context.Background(), vs, book, 0, b.N)
		if err != nil {
			b.Fatal(err)
		}
		serve(b, vs.rt.Server.Handler(), verifies("", codes), http.StatusOK)
	})
}

// serve runs b.N requests of tr through h and checks each status.
func serve(b *testing.B, h http.Handler, tr target, want int) {
	b.Helper()
	w := &discardWriter{h: http.Header{}}
	var t vegeta.Target
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := range b.N {
		if err := tr(uint64(i), &t); err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(t.Method, t.URL, bytes.NewReader(t.Body))
		req.Header = t.Header.Clone()
		req.RemoteAddr = "127.0.0.1:40000"
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != want {
			b.Fatalf("request %d: status %d, want %d", i, w.status, want)
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	}
}

// serveOne sends the first request of tr, outside the measurement.
func serveOne(b *testing.B, h http.Handler, tr target, want int) {
	b.Helper()
	var t vegeta.Target
	if err := tr(0, &t); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(t.Method, t.URL, bytes.NewReader(t.Body))
	req.Header = t.Header.Clone()
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if want != 0 && w.status != want {
		b.Fatalf("status %d, want %d", w.status, want)
	}
}

func mustLogger(b *testing.B, mode string) *slog.Logger {
	l, err := newLogger(mode)
	if err != nil {
		b.Fatal(err)
	}
	return l
}
