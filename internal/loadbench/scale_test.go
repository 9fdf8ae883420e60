package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestScale runs -scale with small cases, briefly, and checks that every
// case ran and answered as expected (runScale fails on any other status):
// the harness must work, whatever the figures.
func TestScale(t *testing.T) {
	o := scaleOptions{Pending: []int{0, 2000}, Apps: []int{1, 50}, Rounds: 2,
		Duration: 20 * time.Millisecond, Warmup: 5 * time.Millisecond, Log: "info"}
	var out bytes.Buffer
	if err := runScale(context.Background(), o, "", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"round 2/2  requests      accepted send", "round 2/2  requests      refused (cooldown)",
		"round 2/2  pending codes 2000", "round 2/2  apps          50",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no line %q:\n%s", want, out.String())
		}
	}
}

// TestNoPerRequestCopy sends the same accepted sends on servers with 1 and
// 2,000 registered applications and compares the bytes allocated per
// send: a request that copied the registry, the applications' channels or
// their templates (Registry.Apps, Templates.With) would allocate kilobytes
// more with 2,000. Time is left to the benchmarks: too noisy for a test.
func TestNoPerRequestCopy(t *testing.T) {
	log := mustLoggerT(t)
	perSend := map[int]float64{}
	for _, n := range []int{1, 2000} {
		srv, err := buildScaleServer(0, n, log)
		if err != nil {
			t.Fatal(err)
		}
		c := &scaleCase{series: "apps", label: count(n), h: srv.h, tr: spreadOverApps("", "14", n), want: http.StatusOK}
		// One send per application first: the first makes its metric series.
		if _, err := runScaleCase(c, 0, n); err != nil {
			t.Fatal(err)
		}
		res, err := runScaleCase(c, 0, 2000)
		if err != nil {
			t.Fatal(err)
		}
		perSend[n] = res.Bytes
		if err := srv.close(); err != nil {
			t.Fatal(err)
		}
	}
	if perSend[2000] > perSend[1]+1024 {
		t.Errorf("an accepted send allocates %.0f B with 2,000 applications, %.0f B with one: something is copied per request", perSend[2000], perSend[1])
	}
	t.Logf("bytes per accepted send: %.0f with 1 application, %.0f with 2,000", perSend[1], perSend[2000])
}

func mustLoggerT(t *testing.T) *slog.Logger {
	l, err := newLogger("info")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSpreadOverApps checks that the apps cases' requests reach every
// application, not a few of them.
func TestSpreadOverApps(t *testing.T) {
	const n = 1000
	tr := spreadOverApps("", "14", n)
	seen := map[string]bool{}
	var tg vegeta.Target
	for i := range uint64(n) {
		if err := tr(i, &tg); err != nil {
			t.Fatal(err)
		}
		seen[tg.Header.Get("X-client-id")] = true
	}
	if len(seen) != n || !seen[seedClientID] || !seen[appClientID(n-1)] {
		t.Errorf("%d requests reached %d applications, want all %d", n, len(seen), n)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 1: "1", 1000: "1000", 100_000: "100k", 1_000_000: "1M", 123_456: "123456"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

// BenchmarkSendPendingCodes is an accepted send through the handler on a
// memory store that already holds 0, 100k or 1M pending codes, one store
// at a time (so that each sub-benchmark's GC sees only its own store).
// Flat is the goal.
func BenchmarkSendPendingCodes(b *testing.B) {
	for _, n := range []int{0, 100_000, 1_000_000} {
		benchScaleCase(b, count(n), func() (*scaleServer, error) {
			return buildScaleServer(n, 1, mustLogger(b, "info"))
		}, func() target { return sendsTo("", "14", 0) }, 0)
	}
}

// BenchmarkSendApps is an accepted send through the handler on a server
// with 1, 1,000 or 100,000 registered applications, the sends spread over
// all of them. Flat is the goal: no request scans the registry.
func BenchmarkSendApps(b *testing.B) {
	for _, n := range []int{1, 1000, 100_000} {
		benchScaleCase(b, count(n), func() (*scaleServer, error) {
			return buildScaleServer(0, n, mustLogger(b, "info"))
		}, func() target { return spreadOverApps("", "14", n) }, n)
	}
}

// benchScaleCase builds a case's server once (b.Run calls its function
// once per b.N it tries), runs the sub-benchmark, and closes the server
// before the next case is built. A -bench pattern that skips the case
// skips the build. warm requests are sent, unmeasured, after the build:
// one per application for the apps cases, whose first send makes the
// application's metric series (once per process, not per request).
func benchScaleCase(b *testing.B, name string, build func() (*scaleServer, error), tr func() target, warm int) {
	var srv *scaleServer
	var next uint64 // numbers go on across b.Run's calls: no cooldown refuses
	b.Run(name, func(b *testing.B) {
		if srv == nil {
			var err error
			if srv, err = build(); err != nil {
				b.Fatal(err)
			}
		}
		t := tr()
		w := &discardWriter{h: http.Header{}}
		var tg vegeta.Target
		for ; next < uint64(warm); next++ {
			if err := t(next, &tg); err != nil {
				b.Fatal(err)
			}
			if got := serveTarget(srv.h, w, &tg); got != http.StatusOK {
				b.Fatalf("warm-up request %d: status %d, want 200", next, got)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := t(next, &tg); err != nil {
				b.Fatal(err)
			}
			next++
			if got := serveTarget(srv.h, w, &tg); got != http.StatusOK {
				b.Fatalf("request %d: status %d, want 200", next-1, got)
			}
		}
	})
	if srv != nil {
		if err := srv.close(); err != nil {
			b.Error(err)
		}
	}
}
