package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/server/sender"
)

// goal is a scenario's target: its throughput at least Min times that of
// the scenario Of ("baseline" or "a").
type goal struct {
	Of  string  `json:"of"`
	Min float64 `json:"min"`
}

// goals are the targets. Verify has none; it is reported.
var goals = map[string]goal{
	"a": {"baseline", 0.8}, // issue 14
	"b": {"a", 1},
	"c": {"a", 1},
	"d": {"a", 0.6}, // issue 14
}

// row is one line of the table: a scenario's rounds and their medians.
type row struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Expect string `json:"expect"`
	// Rounds are the measured runs, one per round.
	Rounds []outcome `json:"rounds,omitempty"`
	// Requests, Mismatches and Answers add up the rounds; the rest are
	// medians of the rounds' values.
	Requests   uint64         `json:"requests"`
	Mismatches uint64         `json:"mismatches"`
	Answers    map[string]int `json:"answers,omitempty"`
	Sample     string         `json:"sample,omitempty"`
	RPS        float64        `json:"rps"`
	P50        time.Duration  `json:"p50_ns"`
	P99        time.Duration  `json:"p99_ns"`
	// CPUPerReq is the CPU time per request of the whole process (server
	// and load generator) and, for (d), Redis.
	CPUPerReq time.Duration `json:"cpu_per_request_ns"`
	// VsBaseline and VsA are throughput ratios, each round's throughput
	// over the same round's reference's, then the median of the rounds.
	VsBaseline float64 `json:"vs_baseline,omitempty"`
	VsA        float64 `json:"vs_a,omitempty"`
	// CostVsBaseline and CostVsA are the same ratios computed from CPU per
	// request (the reference's over this one's): what the throughput ratio
	// would be if the load were CPU-bound and nothing else ran. Other
	// processes on a shared machine skew throughput much more than this.
	CostVsBaseline float64 `json:"cost_vs_baseline,omitempty"`
	CostVsA        float64 `json:"cost_vs_a,omitempty"`
	Goal           *goal   `json:"goal,omitempty"`
	// Met is whether the throughput ratio met the goal; MetCost whether
	// the CPU ratio did.
	Met     *bool `json:"met,omitempty"`
	MetCost *bool `json:"met_cost,omitempty"`
	// Skipped says why the scenario did not run.
	Skipped string `json:"skipped,omitempty"`
	// Note is anything else worth knowing about the run.
	Note string `json:"note,omitempty"`
	// Redis is the Redis figures per accepted send of the round with the
	// median round trips per send (scenario (d)).
	Redis *redisUse `json:"redis,omitempty"`
}

// scenario is one kind of load, set up once and run once per round.
type scenario struct {
	id, name string
	client   *http.Client
	want     expect
	// tr is the requests, numbered across rounds so that no round reuses
	// a number another round started a cooldown for.
	tr vegeta.Targeter
	// refill, when set, makes the next round's requests instead (verify:
	// codes are used up). ceiling is the most requests per second the
	// scenario can take this round (the baseline's), 0 if not known.
	refill func(ctx context.Context, ceiling float64, warmup bool) (vegeta.Targeter, error)
	// ext reads the CPU time of another process the scenario loads.
	ext func() time.Duration
	// redis, when set, reads the counters of the Redis the scenario
	// loads, so that its figures per accepted send are reported.
	redis   func(context.Context) (redisCounters, error)
	skipped string
	note    string
}

// bench holds the servers and scenarios of one run.
type bench struct {
	o       options
	w       io.Writer
	log     *slog.Logger
	mem     *realServer // (a), (b) and (c)'s server
	list    []*scenario
	closers []func() error
}

func newBench(o options, w io.Writer) (b *bench, err error) {
	log, err := newLogger(o.Log)
	if err != nil {
		return nil, err
	}
	b = &bench{o: o, w: w, log: log}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	want := map[string]bool{}
	for _, id := range strings.Split(o.Scenarios, ",") {
		switch id = strings.TrimSpace(id); id {
		case "baseline", "a", "b", "c", "d", "e", "f":
			want[id] = true
		case "":
		default:
			return nil, fmt.Errorf("-scenarios: unknown scenario %q (want baseline, a, b, c, d, e or f)", id)
		}
	}
	setups := []struct {
		id    string
		setup func(*scenario) error
	}{
		{"baseline", b.setupBaseline}, {"a", b.setupAccepted}, {"b", b.setupRefused},
		{"c", b.setupInvalid}, {"d", b.setupRedis}, {"e", b.setupVerify},
		{"f", b.setupLayer},
	}
	for _, st := range setups {
		if !want[st.id] {
			continue
		}
		if b.mem == nil && (st.id == "a" || st.id == "b" || st.id == "c") {
			// (a), (b) and (c) share one server, as they would in
			// production: one instance serves every kind of request.
			if b.mem, err = startReal(serverOptions{Log: log}); err != nil {
				return nil, fmt.Errorf("start the server: %w", err)
			}
			b.closers = append(b.closers, b.mem.close)
		}
		s := &scenario{id: st.id, client: newClient(o.Workers)}
		if err := st.setup(s); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", st.id, err)
		}
		b.list = append(b.list, s)
	}
	return b, nil
}

// close stops every server, the last started first.
func (b *bench) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		if err := b.closers[i](); err != nil {
			fmt.Fprintln(b.w, "loadbench: close:", err)
		}
	}
	b.closers = nil
}

func (b *bench) setupBaseline(s *scenario) error {
	base, err := listen(&http.Server{Handler: newBaseline(), ReadHeaderTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	b.closers = append(b.closers, base.close)
	s.name, s.want = "baseline: bare Echo, bind JSON, 200", expect{Status: http.StatusOK}
	s.tr = targeter(sendsTo(base.URL, "13", 0))
	return nil
}

func (b *bench) setupAccepted(s *scenario) error {
	s.name, s.want = "(a) accepted sends, memory store", expect{Status: http.StatusOK}
	s.tr = targeter(sendsTo(b.mem.URL, "13", 0))
	return nil
}

// setupRefused sends once to a number, so that every later send to it is
// refused by the per-number cooldown.
func (b *bench) setupRefused(s *scenario) error {
	s.name = "(b) sends refused by a limit"
	s.want = expect{Status: http.StatusTooManyRequests, Codes: []string{string(gen.ErrorCodeTooFrequent)}}
	number := mobile("18", 0)
	if err := prime(s.client, b.mem.URL+sendPath, sendBody(number), http.StatusOK); err != nil {
		return err
	}
	s.tr = targeter(sameNumber(b.mem.URL, number))
	return nil
}

func (b *bench) setupInvalid(s *scenario) error {
	s.name = "(c) invalid requests"
	s.want = expect{Status: http.StatusBadRequest,
		Codes: []string{string(gen.ErrorCodeMobileInvalid), string(gen.ErrorCodeFingerprintInvalid)}}
	s.tr = targeter(invalid(b.mem.URL))
	return nil
}

func (b *bench) setupRedis(s *scenario) error {
	s.name, s.want = "(d) accepted sends, Redis store", expect{Status: http.StatusOK}
	addr, start, note := redisTarget(b.o.Redis)
	if start != nil {
		rs, err := start()
		if err != nil {
			return err
		}
		b.closers = append(b.closers, func() error { rs.stop(); return nil })
		addr, s.ext = rs.Addr, rs.cpu
		s.note = "redis-server on " + addr + ", its CPU counted"
	}
	if addr == "" {
		s.skipped = note
		return nil
	}
	srv, err := startReal(serverOptions{Log: b.log, RedisURL: "redis://" + addr})
	if err != nil {
		return err
	}
	b.closers = append(b.closers, srv.close)
	// A client of its own for INFO: the server's pool is not to be shared
	// with the measurement.
	stats := redis.NewClient(&redis.Options{Addr: addr})
	b.closers = append(b.closers, stats.Close)
	s.redis = func(ctx context.Context) (redisCounters, error) { return readRedisCounters(ctx, stats) }
	// A Redis that outlives the run keeps its cooldowns for a minute: a
	// number range of its own per run keeps a rerun from being refused.
	offset := uint64(time.Now().UnixNano()) % 500_000_000
	s.tr = targeter(sendsTo(srv.URL, "15", offset))
	return nil
}

// setupVerify starts the server verify requests go to. Its provider records
// each code; before each round, refill sends the codes the round will
// verify (see verify).
func (b *bench) setupVerify(s *scenario) error {
	s.name, s.want = "(e) verify, right code", expect{Status: http.StatusOK}
	book := newCodeBook()
	srv, err := startReal(serverOptions{Log: b.log, Provider: book})
	if err != nil {
		return err
	}
	b.closers = append(b.closers, srv.close)
	var sent int // numbers used so far, over all rounds
	s.refill = func(ctx context.Context, ceiling float64, warmup bool) (vegeta.Targeter, error) {
		n := b.o.VerifyMax
		if ceiling > 0 {
			// No scenario outruns the bare baseline; the margin is for a
			// machine that gets faster between the two.
			secs := b.o.Duration.Seconds()
			if warmup {
				secs += b.o.Warmup.Seconds()
			}
			n = min(n, int(math.Ceil(1.5*ceiling*secs))+1000)
		}
		codes, err := prepare(ctx, srv, book, sent, n)
		sent += n
		if err != nil {
			return nil, err
		}
		return targeter(verifies(srv.URL, codes)), nil
	}
	return nil
}

// setupLayer starts (a)'s HTTP layer (the same configuration, middleware,
// validation, access log, metrics and response) on a service that accepts
// every send at once, without a store, a code or a provider: what the layer
// costs by itself. (a) cannot come closer to the baseline than this row;
// the gap between the two is the send pipeline's.
func (b *bench) setupLayer(s *scenario) error {
	s.name, s.want = "(f) the HTTP layer alone, no-op service", expect{Status: http.StatusOK}
	srv, err := startLayer(b.log)
	if err != nil {
		return err
	}
	b.closers = append(b.closers, srv.close)
	s.tr = targeter(sendsTo(srv.URL, "17", 0))
	return nil
}

// runAll runs every scenario once per round, in the same order each round,
// and sums the rounds up. Each round's ratios use that round's references,
// so that a machine that slows down between rounds moves both sides.
func (b *bench) runAll(ctx context.Context) ([]row, error) {
	byID := map[string][]outcome{}
	for round := range b.o.Rounds {
		for _, s := range b.list {
			if s.skipped != "" {
				continue
			}
			out, err := b.runOnce(ctx, s, round, byID)
			if err != nil {
				return nil, fmt.Errorf("scenario %s, round %d: %w", s.id, round+1, err)
			}
			byID[s.id] = append(byID[s.id], out)
			fmt.Fprintf(b.w, "round %d/%d  %-9s %s\n", round+1, b.o.Rounds, s.id, out.summary())
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	rows := make([]row, 0, len(b.list))
	for _, s := range b.list {
		rows = append(rows, summarize(s, byID))
	}
	return rows, nil
}

// runOnce warms up (first round only), then measures s, profiling when
// asked to (first round only: a profile is one file).
func (b *bench) runOnce(ctx context.Context, s *scenario, round int, byID map[string][]outcome) (outcome, error) {
	first := round == 0
	tr := s.tr
	if s.refill != nil {
		var ceiling float64
		if base := byID["baseline"]; len(base) > round {
			ceiling = base[round].RPS
		}
		var err error
		if tr, err = s.refill(ctx, ceiling, first && b.o.Warmup > 0); err != nil {
			return outcome{}, err
		}
	}
	if first && b.o.Warmup > 0 {
		// The same targeter: its numbers go on, so that the measured sends
		// do not run into the cooldowns the warm-up started.
		attack(ctx, s.client, b.o.Workers, b.o.Warmup, tr, s.want, s.ext)
	}
	if first && b.o.cpuprofile != "" && s.id == b.o.profile {
		stop, err := startProfile(b.o.cpuprofile)
		if err != nil {
			return outcome{}, err
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintln(b.w, "loadbench: cpu profile:", err)
			}
		}()
	}
	// Garbage left by setting up or by the last scenario is not this run's.
	runtime.GC()
	var before redisCounters
	if s.redis != nil {
		var err error
		if before, err = s.redis(ctx); err != nil {
			return outcome{}, err
		}
	}
	out := attack(ctx, s.client, b.o.Workers, b.o.Duration, tr, s.want, s.ext)
	if out.Requests == 0 {
		return out, errors.New("no request was answered")
	}
	if s.redis != nil {
		after, err := s.redis(ctx)
		if err != nil {
			return outcome{}, err
		}
		out.Redis = after.use(before, uint64(out.Answers[strconv.Itoa(s.want.Status)]))
	}
	return out, nil
}

// summarize makes a scenario's row from its rounds and those of the
// references.
func summarize(s *scenario, byID map[string][]outcome) row {
	r := row{ID: s.id, Name: s.name, Expect: s.want.String(), Skipped: s.skipped, Note: s.note}
	rounds := byID[s.id]
	if len(rounds) == 0 {
		return r
	}
	r.Rounds = rounds
	r.Answers = map[string]int{}
	var rps, p50, p99, cpu, vsBase, vsA, costBase, costA []float64
	for i, o := range rounds {
		r.Requests += o.Requests
		r.Mismatches += o.Mismatches
		if r.Sample == "" {
			r.Sample = o.Sample
		}
		for k, v := range o.Answers {
			r.Answers[k] += v
		}
		if o.RanOut {
			r.Note = join(r.Note, "round "+strconv.Itoa(i+1)+" ran out of codes (raise -verify-max)")
		}
		rps = append(rps, o.RPS)
		p50 = append(p50, float64(o.P50))
		p99 = append(p99, float64(o.P99))
		cpu = append(cpu, o.cpuPerReq())
		if ref := byID["baseline"]; len(ref) > i {
			vsBase = append(vsBase, o.RPS/ref[i].RPS)
			costBase = append(costBase, ref[i].cpuPerReq()/o.cpuPerReq())
		}
		if ref := byID["a"]; len(ref) > i {
			vsA = append(vsA, o.RPS/ref[i].RPS)
			costA = append(costA, ref[i].cpuPerReq()/o.cpuPerReq())
		}
	}
	r.Redis = medianRedis(rounds)
	r.RPS = median(rps)
	r.P50, r.P99 = time.Duration(median(p50)), time.Duration(median(p99))
	r.CPUPerReq = time.Duration(median(cpu))
	r.VsBaseline, r.VsA = median(vsBase), median(vsA)
	r.CostVsBaseline, r.CostVsA = median(costBase), median(costA)
	if g, ok := goals[s.id]; ok {
		r.Goal = &g
		tput, cost := r.VsBaseline, r.CostVsBaseline
		if g.Of == "a" {
			tput, cost = r.VsA, r.CostVsA
		}
		r.Met, r.MetCost = meets(tput, g.Min), meets(cost, g.Min)
	}
	return r
}

// cpuPerReq is the CPU time per answered request, in nanoseconds; NaN
// when CPU time is not measured here.
func (o outcome) cpuPerReq() float64 {
	if o.CPU <= 0 || o.Requests == 0 {
		return math.NaN()
	}
	return float64(o.CPU) / float64(o.Requests)
}

func (o outcome) summary() string {
	s := fmt.Sprintf("%8d requests, %7.0f req/s, p50 %v, p99 %v", o.Requests, o.RPS, round(o.P50), round(o.P99))
	if c := o.cpuPerReq(); !math.IsNaN(c) {
		s += fmt.Sprintf(", CPU %v/req", round(time.Duration(c)))
		if o.ExtCPU > 0 {
			s += fmt.Sprintf(" (Redis %v)", round(o.ExtCPU/time.Duration(o.Requests)))
		}
	}
	if o.Mismatches > 0 {
		s += fmt.Sprintf(", %d unexpected answers", o.Mismatches)
	}
	if o.Redis != nil {
		s += "\n           per accepted send: " + o.Redis.String()
	}
	if o.RanOut {
		s += ", ran out of requests"
	}
	return s
}

// medianRedis is the Redis figures of the round with the median round
// trips per send; nil when no round has any.
func medianRedis(rounds []outcome) *redisUse {
	var uses []*redisUse
	for _, o := range rounds {
		if o.Redis != nil {
			uses = append(uses, o.Redis)
		}
	}
	if len(uses) == 0 {
		return nil
	}
	slices.SortFunc(uses, func(a, b *redisUse) int { return cmp.Compare(a.RoundTrips, b.RoundTrips) })
	return uses[len(uses)/2]
}

func meets(ratio, min float64) *bool {
	if ratio == 0 || math.IsNaN(ratio) {
		return nil
	}
	ok := ratio >= min
	return &ok
}

// median of xs, ignoring NaNs; 0 for none.
func median(xs []float64) float64 {
	xs = slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// prepare sends n codes to numbers of range "17", from the from-th on,
// through the service (in process, not HTTP: faster, and the same codes),
// from as many goroutines as there are CPUs, and returns them as the
// recording provider saw them.
func prepare(ctx context.Context, srv *realServer, book *codeBook, from, n int) ([]pending, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for g := range errs {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				i += int64(from)
				_, err := srv.rt.Service.Send(ctx, sender.SendRequest{
					Caller: sender.Caller{
						ClientID: seedClientID, TenantID: seedTenantID, Lang: "zh",
						OSVersion: "Android 10", Fingerprint: "156aysdna213sac", Agent: seed.Agent,
						ReportedIP: "10.10.10.1", RemoteIP: "127.0.0.1",
					},
					Mobile: mobile("17", uint64(i)), Scenario: gen.Scenario(seedScenario), CaptchaToken: seedToken,
				})
				if err != nil {
					errs[g] = fmt.Errorf("prepare send %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, err
	}
	codes := make([]pending, n)
	for i := range codes {
		m := mobile("17", uint64(from+i))
		c, ok := book.code("+86" + m)
		if !ok {
			return nil, fmt.Errorf("prepare: no code was sent to %s", m)
		}
		codes[i] = pending{mobile: m, code: c}
	}
	return codes, nil
}

// printTable prints the rows. Ratios are medians of per-round ratios.
func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests\treq/s\tp50\tp99\tCPU/req\tstatus check\tvs baseline\tvs (a)\tCPU vs baseline\tCPU vs (a)\ttarget\tmet\tmet (CPU)\t")
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\tskipped\t-\t-\t-\t-\t%s\t-\t-\t\n", r.ID, goalText(r.ID))
			continue
		}
		check := "ok " + r.Expect
		if r.Mismatches > 0 {
			check = fmt.Sprintf("%d wrong (want %s)", r.Mismatches, r.Expect)
		}
		cpu := "-"
		if r.CPUPerReq > 0 {
			cpu = round(r.CPUPerReq).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%v\t%v\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.ID, r.Requests, r.RPS,
			round(r.P50), round(r.P99), cpu, check, ratio(r.VsBaseline), ratio(r.VsA),
			ratio(r.CostVsBaseline), ratio(r.CostVsA), goalText(r.ID), yesNo(r.Met), yesNo(r.MetCost))
	}
	_ = tw.Flush()
	for _, r := range rows {
		switch {
		case r.Skipped != "":
			fmt.Fprintf(w, "%s skipped: %s\n", r.ID, r.Skipped)
		case r.Note != "":
			fmt.Fprintf(w, "%s: %s\n", r.ID, r.Note)
		}
		if r.Redis != nil {
			fmt.Fprintf(w, "%s per accepted send (median round): %s\n", r.ID, r.Redis)
		}
	}
	// Every answer of a scenario that got unexpected ones, with counts.
	for _, r := range rows {
		if r.Mismatches == 0 {
			continue
		}
		keys := slices.Sorted(maps.Keys(r.Answers))
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s x%d", k, r.Answers[k]))
		}
		fmt.Fprintf(w, "%s answers: %s; first unexpected: %s\n", r.ID, strings.Join(parts, ", "), r.Sample)
	}
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "yes"
	default:
		return "NO"
	}
}

func goalText(id string) string {
	g, ok := goals[id]
	if !ok {
		return "-"
	}
	return fmt.Sprintf(">= %.2f x %s", g.Min, g.Of)
}

func ratio(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}

// round keeps latencies readable: microseconds.
func round(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
