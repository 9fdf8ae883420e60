package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/otp"
	"github.com/smscode/smscode/server/store/memstore"
	"github.com/smscode/smscode/server/wire"
)

// -scale measures, in this process and without sockets or a load
// generator, what one request costs the server's handler, and how that
// cost grows with the work the server holds:
//
//	requests       the bare Echo baseline, an accepted send, a send refused
//	               by the cooldown, an invalid request: ns, CPU and
//	               allocations per request
//	pending codes  an accepted send on a memory store already holding 0,
//	               100k or 1M pending codes (stored through the store's API)
//	apps           an accepted send on a server with 1, 1,000 or 100,000
//	               registered applications, the requests spread over all
//	               of them
//
// Every case has its own server, all built first; then each round runs
// every case once for -scale-duration, in the same order, and a case's
// ratio is its ns per request over that of its series' first (smallest)
// case in the same round, the median of the rounds: a machine that slows
// down between rounds moves both sides. Flat is 1.00.
//
// The cases share one process, and so one garbage collector, whose pacing
// follows the whole live heap (the 1M codes included): what a big store
// does to GC is -mem's "a GC cycle" figure and BenchmarkSendPendingCodes's,
// which builds one case at a time.

// scaleOptions are -scale's flags.
type scaleOptions struct {
	Pending  []int         `json:"pending"`
	Apps     []int         `json:"apps"`
	Rounds   int           `json:"rounds"`
	Duration time.Duration `json:"duration_ns"`
	Warmup   time.Duration `json:"warmup_ns"`
	Log      string        `json:"log"`
	// cpuprofile, when set, receives a CPU profile of the accepted sends'
	// first measured run: the handler alone, no load generator.
	cpuprofile string
}

// scaleCase is one server and the request it is measured with.
type scaleCase struct {
	series string // "requests", "pending codes", "apps"
	label  string
	n      int // pending codes or apps; 0 for the requests series
	h      http.Handler
	tr     target
	want   int
	next   uint64 // requests made so far, over rounds: each gets a new number
	// setup is how long building the case took, perItem the live heap it
	// added per pending code or per application (0 when not measured).
	setup   time.Duration
	perItem float64
	// entries is the store's entry count (codes and limit counters), nil
	// for the baseline.
	entries func() int
	close   func() error
}

// scaleRound is what one run of a case measured.
type scaleRound struct {
	Requests uint64  `json:"requests"`
	NsPerOp  float64 `json:"ns_per_op"`
	CPUPerOp float64 `json:"cpu_ns_per_op"`
	Allocs   float64 `json:"allocs_per_op"`
	Bytes    float64 `json:"bytes_per_op"`
}

// scaleRow is a case's rounds and their medians.
type scaleRow struct {
	Series  string  `json:"series"`
	Label   string  `json:"label"`
	N       int     `json:"n"`
	Expect  int     `json:"expect_status"`
	SetupNs int64   `json:"setup_ns"`
	PerItem float64 `json:"heap_bytes_per_item,omitempty"`
	// Entries is the store's entry count after the last round: every
	// accepted send measured adds a pending code and limit counters, so
	// the "0 pending codes" case does not stay empty.
	Entries  int          `json:"store_entries_at_end,omitempty"`
	Rounds   []scaleRound `json:"rounds"`
	NsPerOp  float64      `json:"ns_per_op"`
	CPUPerOp float64      `json:"cpu_ns_per_op"`
	Allocs   float64      `json:"allocs_per_op"`
	Bytes    float64      `json:"bytes_per_op"`
	// Ratio is ns per request over the series' first case's, per round,
	// then the median; CPURatio the same from CPU per request.
	Ratio    float64 `json:"ratio"`
	CPURatio float64 `json:"cpu_ratio"`
}

// runScale builds every case, runs the rounds and prints the tables.
func runScale(ctx context.Context, o scaleOptions, out string, w io.Writer) error {
	if o.Rounds < 1 || o.Duration <= 0 || o.Warmup < 0 {
		return errors.New("-rounds must be at least 1, -scale-duration positive")
	}
	m := thisMachine()
	fmt.Fprintln(w, m)
	fmt.Fprintf(w, "scale: %d rounds, each case %v per round (after %v of warm-up in the first), one request at a time through the handler (no sockets); server log: %s\n",
		o.Rounds, o.Duration, o.Warmup, o.Log)
	log, err := newLogger(o.Log)
	if err != nil {
		return err
	}
	cases, err := buildScaleCases(o, log, w)
	defer func() {
		for _, c := range cases {
			if err := c.close(); err != nil {
				fmt.Fprintln(w, "loadbench: close:", err)
			}
		}
	}()
	if err != nil {
		return err
	}
	rows, err := measureScale(ctx, o, cases, w)
	if err != nil {
		return err
	}
	floor, err := harnessFloor()
	if err != nil {
		return err
	}
	printScale(w, rows, floor)
	return writeJSON(out, struct {
		Machine machine      `json:"machine"`
		Options scaleOptions `json:"options"`
		Rows    []scaleRow   `json:"rows"`
		Harness scaleRound   `json:"harness"`
	}{m, o, rows, floor})
}

// buildScaleCases makes every case's server. On error, the cases made so
// far are returned for closing.
func buildScaleCases(o scaleOptions, log *slog.Logger, w io.Writer) ([]*scaleCase, error) {
	var cases []*scaleCase
	// The requests series: one server for the three kinds of request, as
	// the load run's (a), (b) and (c).
	base := &scaleCase{series: "requests", label: "baseline (bare Echo)", h: newBaseline(),
		tr: sendsTo("", "13", 0), want: http.StatusOK, close: func() error { return nil }}
	cases = append(cases, base)
	srv, err := buildScaleServer(0, 1, log)
	if err != nil {
		return cases, err
	}
	cases = append(cases, &scaleCase{series: "requests", label: "accepted send", h: srv.h,
		tr: sendsTo("", "14", 0), want: http.StatusOK, entries: srv.entries, close: srv.close})
	refused := mobile("18", 0)
	if got := serveStatus(srv.h, sameNumber("", refused), 0); got != http.StatusOK {
		return cases, fmt.Errorf("priming the cooldown: status %d", got)
	}
	cases = append(cases,
		&scaleCase{series: "requests", label: "refused (cooldown)", h: srv.h,
			tr: sameNumber("", refused), want: http.StatusTooManyRequests, close: func() error { return nil }},
		&scaleCase{series: "requests", label: "invalid (bad mobile, no header)", h: srv.h,
			tr: invalid(""), want: http.StatusBadRequest, close: func() error { return nil }})

	for _, n := range o.Pending {
		s, err := buildScaleServer(n, 1, log)
		if err != nil {
			return cases, fmt.Errorf("%d pending codes: %w", n, err)
		}
		cases = append(cases, &scaleCase{series: "pending codes", label: count(n), n: n, h: s.h,
			tr: sendsTo("", "14", 0), want: http.StatusOK, setup: s.setup, perItem: s.perItem, entries: s.entries, close: s.close})
		fmt.Fprintf(w, "  built: %d pending codes in %.1fs (%.0f B of heap each)\n", n, s.setup.Seconds(), s.perItem)
	}
	for _, n := range o.Apps {
		s, err := buildScaleServer(0, n, log)
		if err != nil {
			return cases, fmt.Errorf("%d apps: %w", n, err)
		}
		cases = append(cases, &scaleCase{series: "apps", label: count(n), n: n, h: s.h,
			tr: spreadOverApps("", "14", n), want: http.StatusOK, setup: s.setup, perItem: s.perItem, entries: s.entries, close: s.close})
		fmt.Fprintf(w, "  built: %d apps in %.1fs (%.0f B of heap each)\n", n, s.setup.Seconds(), s.perItem)
	}
	return cases, nil
}

// scaleServer is a real server for one case, without a listener.
type scaleServer struct {
	h       http.Handler
	setup   time.Duration
	perItem float64
	entries func() int
	close   func() error
}

// buildScaleServer builds the real server (wire.Build, the bench
// configuration) on a memory store holding pending codes, with apps
// registered applications: the embedded one and apps-1 copies of it
// under client ids of their own (appClientID). perItem is the live heap
// added per pending code (the filled store against the built server), or
// per application when pending is 0 (the built server, its configuration
// included, against nothing).
func buildScaleServer(pending, apps int, log *slog.Logger) (*scaleServer, error) {
	heap0, _ := settle()
	start := time.Now()
	cfg, err := benchConfig(serverOptions{})
	if err != nil {
		return nil, err
	}
	cfg.Apps = manyApps(cfg, apps)
	st := memstore.New(memstore.Config{MaxEntries: cfg.Store.Memory.MaxEntries})
	rt, err := wire.Build(cfg, log, wire.Overrides{Store: st})
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &scaleServer{h: rt.Server.Handler(), entries: st.Len, close: func() error {
		err := rt.Close()
		st.Close()
		return err
	}}
	if pending > 0 {
		heap0, _ = settle()
		h, err := otp.NewHasher(mustHex(benchSecret))
		if err == nil {
			err = fill(st, h, pending, false)
		}
		if err != nil {
			_ = s.close()
			return nil, err
		}
	}
	s.setup = time.Since(start)
	heap1, _ := settle()
	switch {
	case pending > 0:
		s.perItem = float64(int64(heap1)-int64(heap0)) / float64(pending)
	case apps > 1:
		s.perItem = float64(int64(heap1)-int64(heap0)) / float64(apps)
	}
	runtime.KeepAlive(rt)
	return s, nil
}

// manyApps is n applications: the configuration's first, then n-1 copies
// of it that differ only in their client id.
func manyApps(cfg config.Config, n int) []apps.App {
	out := make([]apps.App, 0, n)
	out = append(out, cfg.Apps[0])
	for i := 1; i < n; i++ {
		a := cfg.Apps[0]
		a.ClientID = appClientID(i)
		a.Name = a.ClientID
		out = append(out, a)
	}
	return out
}

// appClientID is the client id of the i-th application of manyApps; the
// 0th is the seed's.
func appClientID(i int) string {
	if i == 0 {
		return seedClientID
	}
	return "bench-app-" + strconv.Itoa(i)
}

// spreadOverApps is accepted sends, a new number each, from the n
// applications of manyApps in turn, in an order that jumps around the
// registry (a stride prime to n) rather than walking it.
func spreadOverApps(base, rng string, n int) target {
	hdr := seedHeaders()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = appClientID(i)
	}
	stride := uint64(7919) // prime; n is never a multiple of it here
	if n%7919 == 0 {
		stride = 1
	}
	return func(i uint64, t *vegeta.Target) error {
		// serve clones the header before the request sees it, so one map
		// can be reused: the set costs every case the same.
		hdr.Set("X-client-id", ids[(i*stride)%uint64(n)])
		t.Method, t.URL, t.Header = http.MethodPost, base+sendPath, hdr
		t.Body = sendBody(mobile(rng, i))
		return nil
	}
}

// count is n as the tables show it: 0, 1, 1000, 100k, 1M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 100_000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	default:
		return strconv.Itoa(n)
	}
}

// measureScale runs the rounds. A request that gets another status than
// its case's fails the run: a refused send measured as an accepted one
// would make the figures lie.
func measureScale(ctx context.Context, o scaleOptions, cases []*scaleCase, w io.Writer) ([]scaleRow, error) {
	rounds := make([][]scaleRound, len(cases))
	for r := range o.Rounds {
		for i, c := range cases {
			if r == 0 && (o.Warmup > 0 || c.series == "apps") {
				// The apps cases warm up with at least one send per
				// application: an application's first send makes its
				// metric series, once per process, not once per request.
				minimum := 0
				if c.series == "apps" {
					minimum = c.n
				}
				if _, err := runScaleCase(c, o.Warmup, minimum); err != nil {
					return nil, err
				}
			}
			var stop func() error
			if r == 0 && o.cpuprofile != "" && c.series == "requests" && c.label == "accepted send" {
				var err error
				if stop, err = startProfile(o.cpuprofile); err != nil {
					return nil, err
				}
			}
			runtime.GC() // the last case's garbage is not this one's
			res, err := runScaleCase(c, o.Duration, 0)
			if stop != nil {
				if serr := stop(); serr != nil {
					fmt.Fprintln(w, "loadbench: cpu profile:", serr)
				}
			}
			if err != nil {
				return nil, err
			}
			rounds[i] = append(rounds[i], res)
			fmt.Fprintf(w, "round %d/%d  %-13s %-32s %8.0f ns/op, CPU %8.0f ns/op, %6.1f allocs/op\n",
				r+1, o.Rounds, c.series, c.label, res.NsPerOp, res.CPUPerOp, res.Allocs)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	rows := make([]scaleRow, len(cases))
	first := map[string]int{} // series -> index of its first case
	for i, c := range cases {
		if _, ok := first[c.series]; !ok {
			first[c.series] = i
		}
		ref := rounds[first[c.series]]
		var ns, cpu, allocs, bytes, ratio, cpuRatio []float64
		for r, x := range rounds[i] {
			ns, cpu = append(ns, x.NsPerOp), append(cpu, x.CPUPerOp)
			allocs, bytes = append(allocs, x.Allocs), append(bytes, x.Bytes)
			ratio = append(ratio, x.NsPerOp/ref[r].NsPerOp)
			cpuRatio = append(cpuRatio, x.CPUPerOp/ref[r].CPUPerOp)
		}
		if c.entries != nil {
			rows[i].Entries = c.entries()
		}
		rows[i] = scaleRow{Series: c.series, Label: c.label, N: c.n, Expect: c.want, Entries: rows[i].Entries,
			SetupNs: int64(c.setup), PerItem: c.perItem, Rounds: rounds[i],
			NsPerOp: median(ns), CPUPerOp: median(cpu), Allocs: median(allocs), Bytes: median(bytes),
			Ratio: median(ratio), CPURatio: median(cpuRatio)}
	}
	return rows, nil
}

// allocMetrics are the runtime/metrics the runs read: cumulative heap
// allocations in bytes and objects, and the tiny objects (under 16 B, no
// pointers) that the second leaves out, so that the count is the one
// -benchmem reports (runtime.MemStats.Mallocs), without stopping the world.
var allocMetrics = []string{"/gc/heap/allocs:bytes", "/gc/heap/allocs:objects", "/gc/heap/tiny/allocs:objects"}

func readAllocs(s []metrics.Sample) (objects, bytes uint64) {
	metrics.Read(s)
	return s[1].Value.Uint64() + s[2].Value.Uint64(), s[0].Value.Uint64()
}

// runScaleCase sends c's requests one after another for d, and at least
// minimum of them, as a Go benchmark's loop does, and measures them.
func runScaleCase(c *scaleCase, d time.Duration, minimum int) (scaleRound, error) {
	s := make([]metrics.Sample, len(allocMetrics))
	for i, name := range allocMetrics {
		s[i].Name = name
	}
	rw := &discardWriter{h: http.Header{}}
	var t vegeta.Target
	var n uint64
	obj0, bytes0 := readAllocs(s)
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for ; n < uint64(minimum) || n%64 != 0 || time.Now().Before(deadline); n++ {
		if err := c.tr(c.next, &t); err != nil {
			return scaleRound{}, err
		}
		c.next++
		if got := serveTarget(c.h, rw, &t); got != c.want {
			return scaleRound{}, fmt.Errorf("%s %s: request %d: status %d, want %d", c.series, c.label, c.next-1, got, c.want)
		}
	}
	took := time.Since(start)
	cpu := processCPU() - cpu0
	obj1, bytes1 := readAllocs(s)
	f := float64(n)
	return scaleRound{Requests: n, NsPerOp: float64(took) / f, CPUPerOp: float64(cpu) / f,
		Allocs: float64(obj1-obj0) / f, Bytes: float64(bytes1-bytes0) / f}, nil
}

// harnessFloor measures what building and serving a request costs with a
// handler that does nothing: the part of every row's allocations that is
// the harness's, not the server's.
func harnessFloor() (scaleRound, error) {
	c := &scaleCase{series: "harness", label: "no-op handler", want: http.StatusOK,
		h:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
		tr: sendsTo("", "13", 0)}
	return runScaleCase(c, 0, 10_000)
}

// serveTarget serves one request built as the handler benchmarks build it
// (serve), and returns its status.
func serveTarget(h http.Handler, w *discardWriter, t *vegeta.Target) int {
	req := httptest.NewRequest(t.Method, t.URL, bytes.NewReader(t.Body))
	req.Header = t.Header.Clone()
	req.RemoteAddr = "127.0.0.1:40000"
	clear(w.h)
	w.status = 0
	h.ServeHTTP(w, req)
	return w.status
}

// serveStatus serves tr's i-th request and returns its status.
func serveStatus(h http.Handler, tr target, i uint64) int {
	var t vegeta.Target
	if err := tr(i, &t); err != nil {
		return 0
	}
	return serveTarget(h, &discardWriter{h: http.Header{}}, &t)
}

func printScale(w io.Writer, rows []scaleRow, floor scaleRound) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "series\tcase\tstatus\tns/op\tCPU ns/op\tallocs/op\tB/op\tratio\tCPU ratio\tsetup\theap/item\tstore entries (end)\t")
	for _, r := range rows {
		per := "-"
		if r.PerItem != 0 {
			per = fmt.Sprintf("%.0f B", r.PerItem)
		}
		setup := "-"
		if r.SetupNs > 0 {
			setup = time.Duration(r.SetupNs).Round(10 * time.Millisecond).String()
		}
		entries := "-"
		if r.Entries > 0 {
			entries = strconv.Itoa(r.Entries)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.0f\t%.1f\t%.0f\t%.2f\t%.2f\t%s\t%s\t%s\t\n", r.Series, r.Label, r.Expect,
			r.NsPerOp, r.CPUPerOp, r.Allocs, r.Bytes, r.Ratio, r.CPURatio, setup, per, entries)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "ratio: ns per request over the first case of its series, per round, median (1.00 = flat).")
	fmt.Fprintln(w, "store entries: codes and limit counters at the end; each accepted send measured adds a code and its counters, so no case stays at its starting count.")
	fmt.Fprintf(w, "allocs/op and B/op count the harness's request building too: %.1f allocs and %.0f B per request with a no-op handler; subtract them for the server's own.\n",
		floor.Allocs, floor.Bytes)
	fmt.Fprintln(w, "CPU profile of the accepted send (handler only): go run ./internal/loadbench -scale -scale-pending= -scale-apps= -cpuprofile cpu.out && go tool pprof -top cpu.out")
}

// discardWriter keeps only the status, so that the benchmarks measure the
// server rather than a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
