// Command loadbench is smscode's load benchmark (`make bench` runs it after
// the micro-benchmarks). It runs the real server in this process, each
// instance on its own loopback listener, drives it with the vegeta load
// generator (as a library), and prints throughput and p50/p99 latency per
// scenario, each as a ratio against a baseline measured in the same run:
//
//	baseline  a bare Echo handler that binds the same JSON body and answers 200
//	(a)       accepted sends: memory store, null provider, limits out of reach
//	(b)       sends refused by a limit: one number, cooldown (429 SMS.0001)
//	(c)       invalid requests: bad mobile (USER.0038), missing header (HEADER.0002)
//	(d)       accepted sends on the Redis store (skipped without redis-server)
//	(e)       verify: the right code, once per pending code (200)
//	(f)       (a)'s HTTP layer alone: the same server on a service that
//	          accepts every send at once (no store, code or provider), so
//	          that (a)'s gap to the baseline splits into the layer's share
//	          and the send pipeline's
//
// Each scenario is a closed loop of -workers concurrent requests for
// -duration. The scenarios run in rounds (-rounds), in the same order each
// round, and each round's ratios use that round's baseline, so that a
// machine whose speed drifts (other work on a shared runner) moves both
// sides of a ratio; the table shows the medians over the rounds.
//
// Besides throughput it measures the CPU time per request of this process
// (server and load generator; for (d), Redis's too), and gives the ratios
// computed from it as well: on a shared machine, throughput swings with the
// neighbours' load much more than CPU per request does.
//
// For (d) it also reads Redis's own counters (INFO stats and commandstats)
// before and after each measured run and prints, per accepted send, the
// round trips (Redis's socket reads: a pipelined batch is one), the script
// calls and their microseconds in Redis, and every command executed,
// those the scripts call included.
//
// Usage:
//
//	go run ./internal/loadbench [-rounds 3] [-duration 3s] [-workers 16]
//	                            [-redis redis-server] [-scenarios baseline,a,b,c,d,e,f]
//	                            [-out results.json] [-cpuprofile cpu.out -profile a]
//	go run ./internal/loadbench -mem [-mem-codes 1000000] [-out mem.json]
//	go run ./internal/loadbench -scale [-rounds 3] [-scale-duration 1s]
//	                            [-scale-pending 0,100000,1000000] [-scale-apps 1,1000,100000]
//	                            [-cpuprofile cpu.out] [-out scale.json]
//
// -mem measures memory instead: the heap bytes per pending code in the
// memory store and the server's resident set (VmRSS) with a million
// pending codes.
//
// -scale measures the handler in process, one request at a time (no
// sockets, no load generator): ns, CPU and allocations per accepted,
// refused and invalid request, and how an accepted send's cost grows with
// the pending codes in the store and the registered applications, as
// ratios to the smallest case in the same rounds (see scale.go). With
// -cpuprofile it profiles the accepted sends' first round: the server's
// own cost, without the load generator's.
//
// The load generator shares the CPUs with the server, so the ratios are
// those of whole-machine cost per request: a server that costs twice the
// baseline shows a ratio above 0.5. It exits 1 when a scenario got answers
// other than the expected ones; targets missed are reported, not fatal
// (a noisy machine misses them by chance).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	Duration   time.Duration `json:"duration_ns"`
	Warmup     time.Duration `json:"warmup_ns"`
	Workers    int           `json:"workers"`
	Rounds     int           `json:"rounds"`
	Redis      string        `json:"redis"`
	Log        string        `json:"log"`
	Scenarios  string        `json:"scenarios"`
	VerifyMax  int           `json:"verify_max"`
	out        string
	cpuprofile string
	profile    string
}

func main() {
	var o options
	var mem, scale bool
	var memCodes int
	var so scaleOptions
	var pending, appCounts string
	flag.DurationVar(&o.Duration, "duration", 3*time.Second, "how long each scenario is measured, per round")
	flag.IntVar(&o.Rounds, "rounds", 3, "rounds: each runs every scenario once; the table shows medians")
	flag.DurationVar(&o.Warmup, "warmup", time.Second, "how long each scenario runs, unmeasured, before")
	flag.IntVar(&o.Workers, "workers", 16, "concurrent requests (closed loop: each worker waits for its answer)")
	flag.StringVar(&o.Redis, "redis", "redis-server", "scenario (d): a redis-server binary to start, or host:port of a running Redis; empty skips (d)")
	flag.StringVar(&o.Log, "log", "info", "server logging: info (JSON, as cmd/smscode, written to io.Discard) or off")
	flag.StringVar(&o.Scenarios, "scenarios", "baseline,a,b,c,d,e,f", "comma-separated scenarios to run")
	flag.IntVar(&o.VerifyMax, "verify-max", 300_000, "most codes prepared for scenario (e)")
	flag.StringVar(&o.out, "out", "", "also write the results as JSON to this file")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of one scenario's first measured run (whole process: server and load generator); with -scale, of the accepted sends' first round (the handler alone)")
	flag.StringVar(&o.profile, "profile", "a", "the scenario -cpuprofile profiles")
	flag.BoolVar(&mem, "mem", false, "measure memory (bytes per pending code, RSS) instead of load")
	flag.IntVar(&memCodes, "mem-codes", 1_000_000, "pending codes -mem stores")
	flag.BoolVar(&scale, "scale", false, "measure the handler's cost per request (allocations included) and how it grows with pending codes and registered apps, instead of load")
	flag.StringVar(&pending, "scale-pending", "0,100000,1000000", "-scale: pending codes in the memory store, one case each (the first is the reference)")
	flag.StringVar(&appCounts, "scale-apps", "1,1000,100000", "-scale: registered applications, one case each (the first is the reference)")
	flag.DurationVar(&so.Duration, "scale-duration", time.Second, "-scale: how long each case is measured, per round")
	flag.DurationVar(&so.Warmup, "scale-warmup", 250*time.Millisecond, "-scale: how long each case runs, unmeasured, before its first round")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case mem:
		err = runMem(memCodes, o.out, os.Stdout)
	case scale:
		so.Rounds, so.Log, so.cpuprofile = o.Rounds, o.Log, o.cpuprofile
		if so.Pending, err = counts(pending, 0); err == nil {
			so.Apps, err = counts(appCounts, 1)
		}
		if err == nil {
			err = runScale(ctx, so, o.out, os.Stdout)
		}
	default:
		err = run(ctx, o, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		stop()
		os.Exit(1)
	}
}

// counts parses a comma-separated list of counts, each at least least.
func counts(s string, least int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < least {
			return nil, fmt.Errorf("%q: want counts of at least %d, comma-separated", s, least)
		}
		out = append(out, n)
	}
	return out, nil
}

// report is what -out writes.
type report struct {
	Machine machine     `json:"machine"`
	Options options     `json:"options"`
	Rows    []row       `json:"rows,omitempty"`
	Memory  *memFigures `json:"memory,omitempty"`
}

func runMem(n int, out string, w io.Writer) error {
	m := thisMachine()
	fmt.Fprintln(w, m)
	f, err := measureMemory(n, w)
	if err != nil {
		return err
	}
	return writeJSON(out, report{Machine: m, Memory: &f})
}

// run runs the load scenarios and prints the table. It fails when a server
// cannot start or a scenario got unexpected answers.
func run(ctx context.Context, o options, w io.Writer) error {
	if o.Workers < 1 || o.Rounds < 1 || o.Duration <= 0 || o.Warmup < 0 {
		return errors.New("-workers and -rounds must be at least 1, -duration positive")
	}
	m := thisMachine()
	fmt.Fprintln(w, m)
	fmt.Fprintf(w, "%d rounds; each scenario per round: %v measured (after %v of warm-up in the first), %d workers, closed loop; server log: %s\n\n",
		o.Rounds, o.Duration, o.Warmup, o.Workers, o.Log)

	b, err := newBench(o, w)
	if err != nil {
		return err
	}
	defer b.close()
	rows, err := b.runAll(ctx)
	if err != nil {
		return err
	}
	printTable(w, rows)
	if err := writeJSON(o.out, report{Machine: m, Options: o, Rows: rows}); err != nil {
		return err
	}
	var bad []string
	for _, r := range rows {
		if r.Mismatches > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d unexpected answers, first %s", r.ID, r.Mismatches, r.Sample))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// startProfile starts a CPU profile into path; the returned func stops it.
func startProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// prime sends one request and checks its status: scenario (b) needs one
// accepted send before the cooldown refuses the rest.
func prime(client *http.Client, url string, body []byte, want int) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = seedHeaders()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("priming send: got %d %s, want %d", resp.StatusCode, got, want)
	}
	return nil
}
