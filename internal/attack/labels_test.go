package attack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smscode/smscode/gen"
)

// TestUnknownClientIDsDoNotGrowMemory sends 50,000 requests, each with a
// different, unregistered X-client-id, and checks that neither the heap nor
// the metrics grow with them: every client_id label value comes from the
// registered applications, any other id is one "unknown" series.
//
// Memory is measured as runtime.MemStats.HeapInuse after a forced GC (the
// server runs in this process; VmRSS is printed beside it but not checked,
// since the Go runtime does not give freed pages back at once). Series are
// the sample lines of a /metrics scrape.
func TestUnknownClientIDsDoNotGrowMemory(t *testing.T) {
	const (
		requests  = 50_000
		workers   = 8
		maxGrowth = 20 << 20 // bytes of heap in use
		maxSeries = 100
	)
	tg := start(t)
	body, err := json.Marshal(sendBody("13900000000", login))
	if err != nil {
		t.Fatal(err)
	}
	// Warm up: the first answers allocate what every answer shares.
	for i := range 200 {
		if _, err := tg.try(sendPath, headers(map[string]string{"X-client-id": fmt.Sprintf("warm%d", i)}), body); err != nil {
			t.Fatal(err)
		}
	}
	series0, size0 := scrapeSeries(t, tg.URL)
	heap0, rss0 := heapInUse(), vmRSS()

	var next, bad atomic.Int64
	var once sync.Once
	var firstBad string
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := headers(nil)
			for {
				i := next.Add(1)
				if i > requests {
					return
				}
				// A fresh id per request, valid for the header's pattern.
				h.Set("X-client-id", fmt.Sprintf("bot-%08x-%d", i*2654435761, i))
				r, err := tg.try(sendPath, h, body)
				if err != nil || r.Status != http.StatusBadRequest || r.Code != gen.ErrorCodeAppNotFound {
					bad.Add(1)
					once.Do(func() { firstBad = fmt.Sprint(r, err) })
				}
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d answers were not 400 APP.0001, the first: %s", n, firstBad)
	}

	series1, size1 := scrapeSeries(t, tg.URL)
	heap1, rss1 := heapInUse(), vmRSS()
	growth := int64(heap1) - int64(heap0)
	t.Logf("%d requests with unknown client ids: heap in use %.1f → %.1f MB (%+.1f MB), VmRSS %.1f → %.1f MB, /metrics %d → %d series, %d → %d bytes",
		requests, mb(heap0), mb(heap1), float64(growth)/(1<<20), mb(rss0), mb(rss1), series0, series1, size0, size1)
	if growth > maxGrowth {
		t.Errorf("heap in use grew by %.1f MB, want under %d MB", float64(growth)/(1<<20), maxGrowth>>20)
	}
	if d := series1 - series0; d >= maxSeries {
		t.Errorf("/metrics grew by %d series, want under %d", d, maxSeries)
	}
}

// scrapeSeries returns the number of sample lines (series) of /metrics
// and its size in bytes.
func scrapeSeries(t *testing.T, base string) (series, size int) {
	t.Helper()
	res, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", res.StatusCode, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			series++
		}
	}
	return series, len(b)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// vmRSS is the process's resident set in bytes (0 where /proc is absent).
func vmRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb uint64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
