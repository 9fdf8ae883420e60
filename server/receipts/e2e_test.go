package receipts_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/internal/seed"
	"github.com/smscode/smscode/server/receipts"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms/webhook/webhooktest"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/redisstore"
)

// The whole path on the real server: a send through the webhook provider
// to a fake gateway that accepts it with an id of its own, the gateway's
// signed receipt posted to the receipt_url of the payload, then the
// delivered series and the latency histogram on /metrics; replays, late
// and unknown receipts counted and answered 204; wrong signatures,
// oversize and malformed bodies, unknown providers refused with the Error
// body; and a message with no receipt in receipts.wait counted unknown.
func TestEndToEnd(t *testing.T) {
	t.Run("memory", func(t *testing.T) { endToEnd(t) })
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		endToEnd(t, func(s *servertest.Setup) {
			s.WrapStore = func(store.Store) store.Store { return redisstore.New(rdb, redisstore.Config{}) }
		})
	})
}

func endToEnd(t *testing.T, opts ...servertest.Option) {
	gw := webhooktest.New(t)
	env := servertest.New(t, append(opts, servertest.WithWebhookGateway(gw, "gateway"))...)
	send := func(mobile string) webhooktest.Sent {
		t.Helper()
		status, b := call(t, http.MethodPost, env.URL+"/api/v2/sdk/sms/send", seed.Headers(), mustJSON(map[string]string{
			"mobile": mobile, "type": string(gen.ScenarioLogin), "captcha_token": servertest.CaptchaToken}))
		if status != http.StatusOK {
			t.Fatalf("send: %d %s", status, b)
		}
		sent, ok := gw.Last("+86" + mobile)
		if !ok {
			t.Fatal("the gateway got no message")
		}
		return sent
	}
	sent := send("13800000001")
	wantURL := env.URL + receipts.Path("gateway")
	if sent.Payload.ReceiptURL != wantURL {
		t.Fatalf("payload receipt_url %q, want %q", sent.Payload.ReceiptURL, wantURL)
	}

	env.Clock.Advance(3 * time.Second)
	deliver := func(id, status string, want int) {
		t.Helper()
		got, err := gw.Deliver(sent.Payload.ReceiptURL, id, status)
		if err != nil || got != want {
			t.Fatalf("receipt %s %s: %d, %v; want %d", id, status, got, err, want)
		}
	}
	deliver(sent.MessageID, "delivered", http.StatusNoContent)
	m := scrape(t, env.URL)
	for series, want := range map[string]string{
		`smscode_sms_deliveries_total{calling_code="86",provider="gateway",status="delivered"}`: "1",
		`smscode_sms_delivery_seconds_count{provider="gateway"}`:                                "1",
		`smscode_sms_delivery_seconds_sum{provider="gateway"}`:                                  "3",
		`smscode_sms_receipts_total{outcome="settled",provider="gateway"}`:                      "1",
	} {
		if m[series] != want {
			t.Errorf("%s = %q, want %s", series, m[series], want)
		}
	}

	deliver(sent.MessageID, "delivered", http.StatusNoContent) // a replay
	deliver(sent.MessageID, "failed", http.StatusNoContent)    // late
	deliver("gw-999", "delivered", http.StatusNoContent)       // never sent
	deliver(sent.MessageID, "sent", http.StatusNoContent)      // interim

	refusals := []struct {
		name      string
		req       func() *http.Request
		status    int
		code      gen.ErrorCode
		countedAs string
	}{
		{"wrong secret", func() *http.Request {
			other := "whsec_YW5vdGhlci1zZWNyZXQtb2YtMzItYnl0ZXMtbG9uZyE="
			req, _ := webhooktest.SignedReceipt(other, wantURL, mustJSON(map[string]string{"message_id": sent.MessageID, "status": "failed"}), time.Now())
			return req
		}, http.StatusUnauthorized, gen.ErrorCodeReceiptUnauthenticated, "bad_signature"},
		{"unsigned", func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, wantURL, bytes.NewReader(mustJSON(map[string]string{"message_id": sent.MessageID, "status": "failed"})))
			return req
		}, http.StatusUnauthorized, gen.ErrorCodeReceiptUnauthenticated, "bad_signature"},
		{"old timestamp", func() *http.Request {
			req, _ := gw.Receipt(wantURL, mustJSON(map[string]string{"message_id": sent.MessageID, "status": "failed"}), time.Now().Add(-10*time.Minute))
			return req
		}, http.StatusUnauthorized, gen.ErrorCodeReceiptUnauthenticated, "bad_signature"},
		{"signed, not a receipt", func() *http.Request {
			req, _ := gw.Receipt(wantURL, []byte(`{"message_id":"gw-1","status":"DELIVRD"}`), time.Now())
			return req
		}, http.StatusBadRequest, gen.ErrorCodeReceiptMalformed, "bad_body"},
		{"oversize", func() *http.Request {
			req, _ := gw.Receipt(wantURL, bytes.Repeat([]byte(" "), 65<<10), time.Now())
			return req
		}, http.StatusRequestEntityTooLarge, gen.ErrorCodeBodyTooLarge, ""},
		{"unknown provider", func() *http.Request {
			req, _ := gw.Receipt(env.URL+receipts.Path("nosuch"), mustJSON(map[string]string{"message_id": "x", "status": "failed"}), time.Now())
			return req
		}, http.StatusNotFound, gen.ErrorCodeNotFound, ""},
		{"provider without receipts", func() *http.Request {
			req, _ := gw.Receipt(env.URL+receipts.Path("primary"), mustJSON(map[string]string{"message_id": "x", "status": "failed"}), time.Now())
			return req
		}, http.StatusNotFound, gen.ErrorCodeNotFound, ""},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			status, body := do(t, r.req())
			var e gen.Error
			if status != r.status || json.Unmarshal(body, &e) != nil || e.ErrorCode != r.code {
				t.Errorf("%d %s, want %d with error_code %s", status, body, r.status, r.code)
			}
		})
	}

	// A message with no receipt within receipts.wait (30 min) is unknown.
	second := send("13800000002")
	env.Clock.Advance(31 * time.Minute)
	n, err := env.Runtime.Receipts.Sweep(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("Sweep: %d, %v; want 1 (the second message)", n, err)
	}
	deliver(second.MessageID, "delivered", http.StatusNoContent) // after it was counted unknown: late

	m = scrape(t, env.URL)
	for series, want := range map[string]string{
		`smscode_sms_deliveries_total{calling_code="86",provider="gateway",status="delivered"}`: "1",
		`smscode_sms_deliveries_total{calling_code="86",provider="gateway",status="unknown"}`:   "1",
		`smscode_sms_receipts_total{outcome="settled",provider="gateway"}`:                      "1",
		`smscode_sms_receipts_total{outcome="duplicate",provider="gateway"}`:                    "1",
		`smscode_sms_receipts_total{outcome="late",provider="gateway"}`:                         "2",
		`smscode_sms_receipts_total{outcome="unknown_id",provider="gateway"}`:                   "1",
		`smscode_sms_receipts_total{outcome="interim",provider="gateway"}`:                      "1",
		`smscode_sms_receipts_total{outcome="bad_signature",provider="gateway"}`:                "3",
		`smscode_sms_receipts_total{outcome="bad_body",provider="gateway"}`:                     "1",
	} {
		if m[series] != want {
			t.Errorf("%s = %q, want %s", series, m[series], want)
		}
	}
	for series := range m {
		if strings.Contains(series, "nosuch") || strings.Contains(series, `provider="primary"`) && strings.HasPrefix(series, "smscode_sms_receipts") {
			t.Errorf("%s: a series for a provider that takes no receipts", series)
		}
	}
	t.Logf("delivered 1 (latency 3 s), unknown 1; receipts: settled 1, duplicate 1, late 2, unknown_id 1, interim 1, bad_signature 3, bad_body 1")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func call(t *testing.T, method, url string, h http.Header, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// scrape returns /metrics as series -> value.
func scrape(t *testing.T, base string) map[string]string {
	t.Helper()
	_, b := call(t, http.MethodGet, base+"/metrics", nil, nil)
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			out[line[:i]] = line[i+1:]
		}
	}
	return out
}

// A flood of receipts for made-up ids and made-up providers adds no
// series: the counters it moves were there before, and nothing is stored.
func TestFloodAddsNoSeries(t *testing.T) {
	gw := webhooktest.New(t)
	env := servertest.New(t, servertest.WithWebhookGateway(gw, "gateway"))
	// One receipt of each kind first, so that every series exists.
	deliverTo := func(provider, id string) int {
		status, err := gw.Deliver(env.URL+receipts.Path(provider), id, "delivered")
		if err != nil {
			t.Fatal(err)
		}
		return status
	}
	deliverTo("gateway", "warm-up")
	deliverTo("nosuch", "warm-up")
	before := scrape(t, env.URL)
	const n = 1000
	for i := range n {
		if s := deliverTo("gateway", "made-up-"+strconv.Itoa(i)); s != http.StatusNoContent {
			t.Fatalf("receipt %d: %d", i, s)
		}
		if s := deliverTo("p"+strconv.Itoa(i), "x"); s != http.StatusNotFound {
			t.Fatalf("receipt for a made-up provider: %d", s)
		}
	}
	after := scrape(t, env.URL)
	var added []string
	for s := range after {
		if _, ok := before[s]; !ok && strings.HasPrefix(s, "smscode_sms_") {
			added = append(added, s)
		}
	}
	if len(added) > 0 {
		t.Errorf("%d receipts for made-up ids and providers added series %v", 2*n, added)
	}
	if got := after[`smscode_sms_receipts_total{outcome="unknown_id",provider="gateway"}`]; got != strconv.Itoa(n+1) {
		t.Errorf("unknown_id = %s, want %d", got, n+1)
	}
	t.Logf("%d receipts for made-up ids (counted unknown_id) and %d for made-up providers (404): no smscode_sms_ series added", n, n)
}

// A reload that changes receipts.public_url rebuilds the providers with
// the new callback URL, and a message sent before the reload still gets
// its receipt settled after it (the records are in the store).
func TestReloadPublicURL(t *testing.T) {
	gw := webhooktest.New(t)
	env := servertest.New(t, servertest.WithWebhookGateway(gw, "gateway"))
	send := func(mobile string) webhooktest.Sent {
		t.Helper()
		if status, b := call(t, http.MethodPost, env.URL+"/api/v2/sdk/sms/send", seed.Headers(), mustJSON(map[string]string{
			"mobile": mobile, "type": string(gen.ScenarioLogin), "captcha_token": servertest.CaptchaToken})); status != http.StatusOK {
			t.Fatalf("send: %d %s", status, b)
		}
		s, _ := gw.Last("+86" + mobile)
		return s
	}
	before := send("13800000001")
	cfg := env.Runtime.LiveConfig()
	cfg.Receipts.PublicURL = "https://sms.example.com/prefix/"
	if err := env.Runtime.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	after := send("13800000002")
	if want := "https://sms.example.com/prefix" + receipts.Path("gateway"); after.Payload.ReceiptURL != want {
		t.Errorf("after the reload, receipt_url %q, want %q", after.Payload.ReceiptURL, want)
	}
	if status, err := gw.Deliver(before.Payload.ReceiptURL, before.MessageID, "delivered"); err != nil || status != http.StatusNoContent {
		t.Fatalf("receipt of a message sent before the reload: %d %v", status, err)
	}
	if got := scrape(t, env.URL)[`smscode_sms_receipts_total{outcome="settled",provider="gateway"}`]; got != "1" {
		t.Errorf("settled = %q, want 1", got)
	}
}

// receipts.wait is made once: a reload that changes it is refused, naming it.
func TestReloadRefusesWait(t *testing.T) {
	env := servertest.New(t)
	cfg := env.Runtime.LiveConfig()
	cfg.Receipts.Wait = time.Hour
	if err := env.Runtime.Reload(cfg); err == nil || !strings.Contains(err.Error(), "receipts.wait") {
		t.Errorf("Reload with another receipts.wait: %v, want a refusal naming it", err)
	}
}
