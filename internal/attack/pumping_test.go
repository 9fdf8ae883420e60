package attack

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store/redisstore"
	"github.com/smscode/smscode/server/wire"
)

// pumpingRun is what one run of the pumping pattern measured.
type pumpingRun struct {
	pumpAccepted, pumpRefused     int64 // sends to +86170 answered 200 / 429 SMS.0006
	honestAccepted, honestRefused int64 // sends to the honest prefixes answered 200 / anything else
	honestVerified                int64
	other                         []string // answers that fit neither
	blockLines                    int      // warn lines "prefix blocked for low conversion"
	logs                          string
	took                          time.Duration
	tg                            *target
}

const (
	pumpSends        = 300 // to +86170, never verified
	honestPerPrefix  = 60  // to each honest prefix, each verified
	pumpWorkers      = 4
	honestWorkers    = 4
	defaultMinSends  = 50 // sender.DefaultAutoBlock.MinSends
	pumpingTimeLimit = 20 * time.Second
)

var honestPrefixes = []string{"139", "150", "186", "135"}

// runPumping starts the real server (loopback, the real http.Server) with
// the learning pumping defence on at its defaults (edit changes the
// configuration further) and sends, at the same time: pumpSends codes to
// numbers of +86170 that nobody verifies, from pumpWorkers workers, and
// honestPerPrefix codes to each honest prefix whose codes are read from the
// recording provider and verified, from honestWorkers workers. Every send
// uses a number and a device of its own, and the per-IP limit is raised, so
// that only the prefix rules can refuse (all the traffic is from 127.0.0.1).
func runPumping(t *testing.T, edit func(*config.Config)) pumpingRun {
	t.Helper()
	var logs syncLog
	tg := start(t, servertest.WithConfig(func(c *config.Config) {
		on := true
		c.Pumping.AutoBlock.Enabled = &on
		c.Limits.IPPerHour = 1_000_000
		if edit != nil {
			edit(c)
		}
	}), func(s *servertest.Setup) {
		s.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})

	var run pumpingRun
	var mu sync.Mutex
	note := func(what string, r reply, err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(run.other) < 5 {
			run.other = append(run.other, fmt.Sprintf("%s: %v %v", what, r, err))
		}
	}
	began := time.Now()
	var wg sync.WaitGroup
	var nextPump atomic.Int64
	for range pumpWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := nextPump.Add(1)
				if i > pumpSends {
					return
				}
				r, err := trySend(tg, fmt.Sprintf("170%08d", i), fmt.Sprintf("pump-%d", i))
				switch {
				case err == nil && r.Status == http.StatusOK:
					atomic.AddInt64(&run.pumpAccepted, 1)
				case err == nil && r.Status == http.StatusTooManyRequests && r.Code == gen.ErrorCodePrefixBlocked:
					atomic.AddInt64(&run.pumpRefused, 1)
				default:
					note("pump", r, err)
				}
			}
		}()
	}
	var nextHonest atomic.Int64
	total := int64(honestPerPrefix * len(honestPrefixes))
	for range honestWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := nextHonest.Add(1)
				if i > total {
					return
				}
				mobile := fmt.Sprintf("%s%08d", honestPrefixes[i%int64(len(honestPrefixes))], i)
				dev := fmt.Sprintf("honest-%d", i)
				r, err := trySend(tg, mobile, dev)
				if err != nil || r.Status != http.StatusOK {
					atomic.AddInt64(&run.honestRefused, 1)
					note("honest send", r, err)
					continue
				}
				atomic.AddInt64(&run.honestAccepted, 1)
				msg, ok := tg.Outbox.Last("+86" + mobile)
				if !ok {
					note("honest outbox", r, fmt.Errorf("no SMS to +86%s", mobile))
					continue
				}
				raw, _ := json.Marshal(verifyBody(mobile, login, msg.Code))
				r, err = tg.try(verifyPath, headers(map[string]string{"X-device-fingerprint": dev}), raw)
				if err != nil || r.Status != http.StatusOK {
					note("honest verify", r, err)
					continue
				}
				atomic.AddInt64(&run.honestVerified, 1)
			}
		}()
	}
	wg.Wait()
	run.took = time.Since(began)
	run.logs = logs.String()
	run.blockLines = strings.Count(run.logs, "prefix blocked for low conversion")
	run.tg = tg
	return run
}

func trySend(tg *target, mobile, dev string) (reply, error) {
	raw, _ := json.Marshal(sendBody(mobile, login))
	return tg.try(sendPath, headers(map[string]string{"X-device-fingerprint": dev}), raw)
}

// syncLog is a log sink for the server's handlers, read once they are done.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SMS pumping beside honest traffic, through the HTTP API: 300 sends to
// numbers of +86170 that nobody verifies and 240 sends to four other
// prefixes whose codes are verified, at the same time. The learning rule
// (pumping.auto_block at its defaults: 50 sends, a fifth of the norm)
// lets exactly 50 codes go to +86170, then blocks it (429 SMS.0006, one
// warn line, one count) while every honest send goes out; the block ends
// after block_for (1 h), and the prefix gets a fresh 50.
func TestPumpingPrefixBlockedHonestKeepsSending(t *testing.T) {
	run := runPumping(t, nil)
	t.Logf("pumping +86170: %d of %d sends accepted before the block, %d refused 429 SMS.0006; honest (+86139, +86150, +86186, +86135): %d accepted, %d refused, %d verified; %d block logged; %v",
		run.pumpAccepted, pumpSends, run.pumpRefused, run.honestAccepted, run.honestRefused, run.honestVerified, run.blockLines, run.took.Round(time.Millisecond))
	if len(run.other) > 0 {
		t.Errorf("unexpected answers: %v", run.other)
	}
	if run.pumpAccepted != defaultMinSends || run.pumpRefused != pumpSends-defaultMinSends {
		t.Errorf("pumping: %d accepted, %d refused; want %d, %d", run.pumpAccepted, run.pumpRefused, defaultMinSends, pumpSends-defaultMinSends)
	}
	if total := int64(honestPerPrefix * len(honestPrefixes)); run.honestAccepted != total || run.honestVerified != total {
		t.Errorf("honest: %d accepted, %d verified; want all %d", run.honestAccepted, run.honestVerified, total)
	}
	if run.blockLines != 1 {
		t.Errorf("%d block lines logged, want 1:\n%s", run.blockLines, run.logs)
	}
	for _, leak := range []string{"170000", "+86170"} {
		if strings.Contains(run.logs, leak) {
			t.Errorf("the logs show %q:\n%s", leak, run.logs)
		}
	}
	if run.took > pumpingTimeLimit {
		t.Errorf("the run took %v, more than %v", run.took, pumpingTimeLimit)
	}

	// Still blocked just before the hour; sent again after it, for 50 more.
	tg := run.tg
	tg.Clock.Advance(time.Hour - time.Minute)
	r, err := trySend(tg, "17099999999", "pump-late")
	if err != nil || r.Status != http.StatusTooManyRequests || r.Code != gen.ErrorCodePrefixBlocked {
		t.Fatalf("59 min into the block: %v %v, want 429 SMS.0006", r, err)
	}
	if ra := r.Header.Get("Retry-After"); ra != "60" {
		t.Errorf("Retry-After = %q, want 60", ra)
	}
	tg.Clock.Advance(time.Minute + time.Second)
	for i := range defaultMinSends + 1 {
		r, err := trySend(tg, fmt.Sprintf("170%08d", 1000+i), fmt.Sprintf("pump2-%d", i))
		switch {
		case err != nil:
			t.Fatal(err)
		case i < defaultMinSends && r.Status != http.StatusOK:
			t.Fatalf("send %d after the block: %v, want 200", i, r)
		case i == defaultMinSends && (r.Status != http.StatusTooManyRequests || r.Code != gen.ErrorCodePrefixBlocked):
			t.Fatalf("send %d after the block: %v, want 429 SMS.0006 (blocked again)", i, r)
		}
	}
}

// The allow list wins: the same traffic with +86170 on pumping.allow sends
// every code (neither prefix rule applies to it).
func TestPumpingAllowListWins(t *testing.T) {
	run := runPumping(t, func(c *config.Config) { c.Pumping.Allow = []string{"+86170"} })
	t.Logf("+86170 allow-listed: %d of %d pumping sends accepted, %d refused; honest %d accepted, %d refused",
		run.pumpAccepted, pumpSends, run.pumpRefused, run.honestAccepted, run.honestRefused)
	if len(run.other) > 0 {
		t.Errorf("unexpected answers: %v", run.other)
	}
	if run.pumpAccepted != pumpSends || run.blockLines != 0 {
		t.Errorf("%d pumping sends accepted, %d blocks logged; want %d, 0", run.pumpAccepted, run.blockLines, pumpSends)
	}
	if total := int64(honestPerPrefix * len(honestPrefixes)); run.honestAccepted != total {
		t.Errorf("honest: %d accepted, want %d", run.honestAccepted, total)
	}
}

// The counters are in the store, so every instance applies one rule: two
// servers on one real Redis, sends to +86170 alternating between them,
// none verified. Exactly min_sends codes go out across both, then both
// refuse the prefix; honest codes sent by one and verified on the other
// keep going out from both.
func TestPumpingBlockSharedAcrossInstances(t *testing.T) {
	const minSends = 10
	srv := redistest.Start(t)
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecretFile = filepath.Join(t.TempDir(), "secret") // one secret: the same keyed ids on both
	cfg.Providers = []config.ProviderConfig{{Name: "primary", Kind: "null"}}
	on := true
	cfg.Pumping.AutoBlock = apps.AutoBlock{Enabled: &on, MinSends: minSends}
	cfg.Limits.IPPerHour = 1_000_000
	var logs syncLog
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A key prefix of the run's own, so that an earlier run's keys on a
	// shared Redis do not count.
	prefix := fmt.Sprintf("pumping%d:", time.Now().UnixNano())
	var nodes [2]*target
	for i := range nodes {
		rdb, err := redisstore.NewClient(redisstore.Options{URL: "redis://" + srv.Addr()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rdb.Close() })
		outbox := sms.NewNamedMemory("primary")
		rt, err := wire.Build(cfg, log, wire.Overrides{
			Store:     redisstore.New(rdb, redisstore.Config{Prefix: prefix}),
			Providers: map[string]sms.Provider{"primary": outbox},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Close() })
		tg := &target{RT: rt, Outbox: outbox}
		tg.URL, tg.HTTP = serve(t, rt)
		nodes[i] = tg
	}

	var accepted [2]int
	for i := range 4 * minSends {
		node := nodes[i%2]
		r, err := trySend(node, fmt.Sprintf("170%08d", i), fmt.Sprintf("pump-%d", i))
		switch {
		case err != nil:
			t.Fatal(err)
		case r.Status == http.StatusOK:
			accepted[i%2]++
		case r.Status != http.StatusTooManyRequests || r.Code != gen.ErrorCodePrefixBlocked:
			t.Fatalf("pumping send %d: %v", i, r)
		}
		// Honest: sent by one instance, verified on the other.
		mobile := fmt.Sprintf("139%08d", i)
		if r, err := trySend(node, mobile, fmt.Sprintf("honest-%d", i)); err != nil || r.Status != http.StatusOK {
			t.Fatalf("honest send %d: %v %v", i, r, err)
		}
		msg, _ := node.Outbox.Last("+86" + mobile)
		raw, _ := json.Marshal(verifyBody(mobile, login, msg.Code))
		if r, err := nodes[(i+1)%2].try(verifyPath, headers(map[string]string{"X-device-fingerprint": fmt.Sprintf("honest-%d", i)}), raw); err != nil || r.Status != http.StatusOK {
			t.Fatalf("honest verify %d on the other instance: %v %v", i, r, err)
		}
	}
	t.Logf("two instances on one Redis: %d + %d pumping sends accepted of %d, then refused by both; %d honest sends and verifies across them",
		accepted[0], accepted[1], 4*minSends, 4*minSends)
	if accepted[0]+accepted[1] != minSends || accepted[0] == 0 || accepted[1] == 0 {
		t.Errorf("accepted %v, want %d in all, from both", accepted, minSends)
	}
	if n := strings.Count(logs.String(), "prefix blocked for low conversion"); n != 1 {
		t.Errorf("%d block lines across both instances, want 1", n)
	}
}
