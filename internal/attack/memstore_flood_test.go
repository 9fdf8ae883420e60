package attack

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/memstore"
)

// A flood from rotating addresses cannot grow the memory store past its
// cap. Every verify from a new address and device starts a per-IP and a
// per-device counter (and a per-caller daily one) for an hour, no captcha
// needed, so without a cap 10,000 such requests leave ~30,000 entries and
// a botnet leaves as many as it has addresses. With a cap of 2,000 entries
// the store stops at the cap and the requests that would need new entries
// get the documented 503 SYS.0002 (fail closed: a full store refuses new
// work rather than evict live limit counters, which would reset limits).
// The clients are 127.x.y.z, reported by a trusted proxy on 127.0.0.1.
func TestMemstoreFloodStopsAtCap(t *testing.T) {
	const (
		maxEntries = 2_000
		maxGrowth  = 8 << 20 // bytes of heap in use
		// Calls in flight on other shards may each add their few entries
		// past the cap (memstore's doc); one application's keys share one
		// shard, so in practice the cap is exact.
		slack = floodWorkers * 8
	)
	// The same flood on the default cap (1,000,000), for the figure
	// without a cap in reach, and as proof that this flood would pass
	// the small one.
	free := flood(t, 0)
	if free.entries <= maxEntries+slack {
		t.Fatalf("the flood left %d entries on the default cap: too small to test a cap of %d", free.entries, maxEntries)
	}
	f := flood(t, maxEntries)
	if f.firstBad != "" {
		t.Fatalf("an answer other than the documented ones: %s", f.firstBad)
	}
	if f.answers[fmt.Sprintf("%d %s", http.StatusServiceUnavailable, gen.ErrorCodeStoreUnavailable)] == 0 {
		t.Errorf("no 503 %s: the flood never met the cap", gen.ErrorCodeStoreUnavailable)
	}
	if f.entries > maxEntries+slack {
		t.Errorf("%d entries after the flood, cap %d", f.entries, maxEntries)
	}
	if f.growth > maxGrowth {
		t.Errorf("heap in use grew by %.1f MB, want under %d MB", float64(f.growth)/(1<<20), maxGrowth>>20)
	}

	// The full store fails closed: a send that needs new counters is
	// refused with 503 SYS.0002 and sends nothing; it is not sent with
	// its limits unchecked.
	before := f.tg.Outbox.Count()
	r := f.tg.send(t, "13800000001", login, map[string]string{"X-Forwarded-For": "127.254.0.1", "X-device-fingerprint": "honest"})
	want(t, r, http.StatusServiceUnavailable, gen.ErrorCodeStoreUnavailable)
	if n := f.tg.Outbox.Count() - before; n != 0 {
		t.Errorf("%d SMS sent by a full store, want 0", n)
	}
	// So does a puzzle from a new address: its per-IP counter is refused
	// before any puzzle is drawn or stored.
	req, err := http.NewRequest(http.MethodGet, f.tg.URL+captchaPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = headers(map[string]string{"X-Forwarded-For": "127.254.0.2", "Content-Type": ""})
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r = reply{Status: res.StatusCode, Body: b, Code: codeOf(b)}
	checkErrorBody(t, r)
	want(t, r, http.StatusServiceUnavailable, gen.ErrorCodeStoreUnavailable)
}

const (
	floodRequests = 10_000
	floodWorkers  = 8
	floodBudget   = 30 * time.Second // a bound on a flood's time, far above its ~1 s
)

// floodResult is what a flood left.
type floodResult struct {
	tg       *target
	entries  int
	growth   int64
	answers  map[string]int
	firstBad string
}

// flood sends floodRequests verifies, each from a new client address,
// device and number, to a server on a memory store of maxEntries (0: the
// default), and prints what it left.
func flood(t *testing.T, maxEntries int) floodResult {
	t.Helper()
	const (
		requests = floodRequests
		workers  = floodWorkers
		budget   = floodBudget
	)
	mem := memstore.New(memstore.Config{MaxEntries: maxEntries})
	t.Cleanup(mem.Close)
	tg := start(t,
		servertest.WithConfig(func(c *config.Config) { c.HTTP.TrustedProxies = []string{"127.0.0.1/32"} }),
		func(s *servertest.Setup) { s.WrapStore = func(store.Store) store.Store { return mem } },
	)
	// Warm up on one address: the first answers allocate what every
	// answer shares.
	for i := range 50 {
		tg.verify(t, fmt.Sprintf("1390000%04d", i), login, "123456", map[string]string{"X-Forwarded-For": "127.255.255.1"})
	}
	entries0, heap0 := mem.Len(), heapInUse()

	var next atomic.Int64
	var mu sync.Mutex
	answers := map[string]int{}
	var firstBad string
	deadline := time.Now().Add(budget)
	began := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			h := headers(nil)
			for time.Now().Before(deadline) {
				i := next.Add(1)
				if i > requests {
					return
				}
				// A new client address, device and number per request.
				h.Set("X-Forwarded-For", fmt.Sprintf("127.%d.%d.%d", i>>16&255, i>>8&255, i&255))
				h.Set("X-device-fingerprint", fmt.Sprintf("bot-device-%d", i))
				body := mustJSON(verifyBody(loadNumber(int(i)), login, "123456"))
				r, err := tg.try(verifyPath, h, body)
				key := fmt.Sprintf("%d %s", r.Status, r.Code)
				if err != nil {
					key = "error"
				}
				mu.Lock()
				answers[key]++
				if firstBad == "" && (err != nil || r.Status >= 500 && r.Code != gen.ErrorCodeStoreUnavailable) {
					firstBad = fmt.Sprint(r, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	entries1, heap1 := mem.Len(), heapInUse()
	growth := int64(heap1) - int64(heap0)

	var keys []string
	sent := 0
	for k, n := range answers {
		keys = append(keys, fmt.Sprintf("%s: %d", k, n))
		sent += n
	}
	sort.Strings(keys)
	t.Logf("%d verify requests from %d rotating addresses and devices in %v, store cap %d (0: default): entries %d → %d, heap in use %.1f → %.1f MB (%+.1f MB); answers %v",
		sent, sent, took.Round(time.Millisecond), maxEntries, entries0, entries1, mb(heap0), mb(heap1), float64(growth)/(1<<20), keys)

	if sent < requests {
		t.Fatalf("only %d of %d requests within %v", sent, requests, budget)
	}
	return floodResult{tg: tg, entries: entries1, growth: growth, answers: answers, firstBad: firstBad}
}
