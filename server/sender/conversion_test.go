package sender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smscode/smscode/internal/metricstest"
	"github.com/smscode/smscode/server/apps"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store"
)

// syncBuffer is a log sink the server writes to from its handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func on(v bool) *bool { return &v }

// learning turns the learning pumping defence on server-wide: from 5 sends
// in an hour, a prefix converting below 0.2 × max(the app's, 0.5) is
// blocked for an hour.
func learning(c *config.Config) {
	c.Pumping.AutoBlock = apps.AutoBlock{Enabled: on(true), MinSends: 5, MaxRatioOfNorm: 0.2, Window: time.Hour, BlockFor: time.Hour}
}

// The learning pumping defence through the HTTP API: honest sends to
// +86139 whose codes are verified, and sends to +86170 that never are.
// With the rule on, +86170 gets exactly MinSends (5) codes and is then
// refused 429 SMS.0006 for an hour while +86139 keeps sending; the allow
// list, the rule's default (off) and an application's own override let
// every send through.
func TestLearningPumpingDefence(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Config)
		// accepted is how many of the 8 sends to +86170 answer 200.
		accepted int
	}{
		{"off by default", func(*config.Config) {}, 8},
		{"on", learning, 5},
		{"allow list wins", func(c *config.Config) { learning(c); c.Pumping.Allow = []string{"+86170"} }, 8},
		{"pumping defence disabled", func(c *config.Config) { learning(c); c.Pumping.Disabled = true }, 8},
		{"app turns it off", func(c *config.Config) {
			learning(c)
			c.Apps[0].AutoBlock.Enabled = on(false)
		}, 8},
		{"app turns it on with its own volume", func(c *config.Config) {
			c.Apps[0].AutoBlock = apps.AutoBlock{Enabled: on(true), MinSends: 3}
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			env := servertest.New(t, servertest.WithConfig(tt.edit), func(s *servertest.Setup) {
				s.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			})
			dev := func(i int) map[string]string { return map[string]string{"X-device-fingerprint": fmt.Sprintf("d%d", i)} }
			honest := 0
			for i := range 8 {
				mobile := fmt.Sprintf("1390000%04d", i)
				wantOK(t, send(t, env, mobile, login, dev(100+i)))
				msg, _ := env.Outbox.Last("+86" + mobile)
				wantOK(t, verify(t, env, mobile, login, msg.Code, dev(100+i)))
				honest++
				r := send(t, env, fmt.Sprintf("1700000%04d", i), login, dev(i))
				if i < tt.accepted {
					wantOK(t, r)
					continue
				}
				wantError(t, r, http.StatusTooManyRequests, "SMS.0006")
				if r.RetryAfter < 3599 || r.RetryAfter > 3600 {
					t.Errorf("Retry-After = %d, want the hour's block", r.RetryAfter)
				}
			}
			// Honest traffic went on sending after the block.
			wantOK(t, send(t, env, "13900009999", login, dev(99)))
			id := servertest.ClientID
			blocks := 0.0
			if tt.accepted < 8 {
				blocks = 1
			}
			for _, c := range []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"smscode_prefix_auto_blocks_total", map[string]string{"client_id": id}, blocks},
				{"smscode_limit_refusals_total", map[string]string{"limit": "prefix_conversion"}, float64(8 - tt.accepted)},
				{"smscode_codes_sent_total", map[string]string{"client_id": id, "scenario": login, "country_code": "86"}, float64(honest + 1 + tt.accepted)},
				{"smscode_codes_verified_total", map[string]string{"client_id": id, "scenario": login, "country_code": "86"}, float64(honest)},
			} {
				if got := metricstest.Value(t, env.Runtime.Metrics.Registry(), c.name, c.labels); got != c.want {
					t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
				}
			}
			out := logs.String()
			if n := strings.Count(out, "prefix blocked for low conversion"); n != int(blocks) {
				t.Errorf("%d block lines logged, want %d:\n%s", n, int(blocks), out)
			}
			for _, line := range strings.Split(out, "\n") {
				if !strings.Contains(line, "prefix blocked for low conversion") {
					continue
				}
				for _, want := range []string{`"level":"WARN"`, `"prefix_id":"`, `"country_code":"+86"`, `"prefix_sent":5`, `"prefix_verified":0`} {
					if tt.name == "on" && !strings.Contains(line, want) {
						t.Errorf("block line lacks %s: %s", want, line)
					}
				}
				// The prefix's digits must not be in the line; the keyed id,
				// the time and the request id are left out of the search, as
				// their own digits can hold "170" by chance.
				var fields map[string]any
				if err := json.Unmarshal([]byte(line), &fields); err != nil {
					t.Fatalf("block line is not JSON: %v: %s", err, line)
				}
				delete(fields, "prefix_id")
				delete(fields, "time")
				delete(fields, "request_id")
				if rest, _ := json.Marshal(fields); strings.Contains(string(rest), "170") {
					t.Errorf("block line shows the prefix's digits: %s", line)
				}
			}
		})
	}
}

// A block lasts BlockFor; then the prefix starts a clean window: MinSends
// more codes before the rule looks at it again. A send whose SMS no
// provider accepted is not counted against the prefix.
func TestLearningBlockExpires(t *testing.T) {
	env := servertest.New(t, servertest.WithConfig(learning))
	n := 0
	sendTo := func() reply {
		n++
		return send(t, env, fmt.Sprintf("1700000%04d", n), login, map[string]string{"X-device-fingerprint": fmt.Sprintf("d%d", n)})
	}
	env.Outbox.SetFailure(func(sms.Message) error { return errors.New("gateway down") })
	// 4: one fewer than the breaker's threshold, and more than the 5 - 2
	// sends that would block the prefix if they were counted.
	for range 4 {
		wantError(t, sendTo(), http.StatusServiceUnavailable, "SMS.0007")
	}
	env.Outbox.SetFailure(nil)
	for round := range 2 {
		for range 5 {
			wantOK(t, sendTo())
		}
		wantError(t, sendTo(), http.StatusTooManyRequests, "SMS.0006")
		env.Clock.Advance(30 * time.Minute)
		wantError(t, sendTo(), http.StatusTooManyRequests, "SMS.0006")
		if round == 0 {
			env.Clock.Advance(30*time.Minute + time.Second)
		}
	}
	if got := metricstest.Value(t, env.Runtime.Metrics.Registry(), "smscode_prefix_auto_blocks_total", nil); got != 2 {
		t.Errorf("smscode_prefix_auto_blocks_total = %v, want 2", got)
	}
}

// The recorder of TestStoreSeesNoNumber and TestStoreKeysShareTheAppTag
// sees the learning rule's keys too.
func (r *recorder) ConversionSend(ctx context.Context, req store.ConversionSendRequest) (store.ConversionSendResult, error) {
	r.conversionKeys(req.Keys)
	return r.Store.ConversionSend(ctx, req)
}

func (r *recorder) ConversionUnsend(ctx context.Context, k store.ConversionKeys) error {
	r.conversionKeys(k)
	return r.Store.ConversionUnsend(ctx, k)
}

func (r *recorder) ConversionVerified(ctx context.Context, k store.ConversionKeys) error {
	r.conversionKeys(k)
	return r.Store.ConversionVerified(ctx, k)
}

func (r *recorder) conversionKeys(k store.ConversionKeys) {
	for _, key := range []string{k.Prefix, k.App, k.Block} {
		r.note(key)
		r.key(key)
	}
}

// The flow those tests record reaches the learning rule's store steps on
// the send and on the right verification, so their keys are checked.
func TestRecordedFlowCountsConversion(t *testing.T) {
	rec := recordFlow(t)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var n int
	for _, k := range rec.keys {
		if strings.Contains(k, ":p:") && strings.HasSuffix(k, "}:cv") { // the prefix's counts
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d conversion steps with a prefix key recorded, want 2 (the send, the right code)", n)
	}
}
