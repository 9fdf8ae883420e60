package receipts_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/receipts"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store"
	"github.com/smscode/smscode/server/store/memstore"
)

// reader is a provider whose receipts are "<id> <status>" lines.
type reader struct{ takes bool }

func (r reader) TakesReceipts() bool        { return r.takes }
func (reader) ReceiptAck() (string, []byte) { return "", nil }
func (reader) ReadReceipt(req sms.ReceiptRequest) ([]sms.StatusReport, error) {
	var out []sms.StatusReport
	for _, line := range strings.Split(strings.TrimSpace(string(req.Body)), "\n") {
		id, st, _ := strings.Cut(line, " ")
		out = append(out, sms.StatusReport{MessageID: id, Status: sms.Status(st)})
	}
	return out, nil
}

// failing is a store whose deliveries are unreachable.
type failing struct{ store.Deliveries }

func (failing) SettleDelivery(context.Context, string, string, store.DeliveryStatus, time.Time) (store.Delivery, store.SettleOutcome, error) {
	return store.Delivery{}, 0, store.ErrUnavailable
}

func newService(t *testing.T, st store.Deliveries, hook receipts.Settled) *receipts.Service {
	t.Helper()
	svc, err := receipts.New(receipts.Config{}, receipts.Deps{
		Store: st, OnSettled: hook,
		Provider: func(name string) (receipts.Reader, bool) {
			if name == "gw" {
				return reader{takes: true}, true
			}
			return nil, false
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func post(svc *receipts.Service, provider, body string) error {
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/api/v2/sdk/sms/receipts/"+provider, strings.NewReader(body))
	c := e.NewContext(req, httptest.NewRecorder())
	c.SetParamNames("provider")
	c.SetParamValues(provider)
	return svc.Handler(c)
}

// The hook sees each message once, when it is settled (by a receipt or
// the sweep), with what was recorded at send time; Track records only
// for providers that take receipts; a batch's second report settles after
// the first.
func TestSettledHook(t *testing.T) {
	mem := memstore.New(memstore.Config{SweepInterval: -1})
	defer mem.Close()
	var got []store.Delivery
	svc := newService(t, mem, func(_ context.Context, d store.Delivery) { got = append(got, d) })
	ctx := context.Background()
	svc.Track(ctx, store.Delivery{Provider: "gw", MessageID: "a", ClientID: "app", Scenario: "LOGIN", CallingCode: "86"})
	svc.Track(ctx, store.Delivery{Provider: "gw", MessageID: "b", ClientID: "app", Scenario: "LOGIN", CallingCode: "44"})
	svc.Track(ctx, store.Delivery{Provider: "other", MessageID: "c"})
	if err := post(svc, "gw", "a delivered\na delivered\nb failed\nc delivered"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].MessageID != "a" || got[0].Status != store.DeliveryDelivered || got[0].CallingCode != "86" ||
		got[1].MessageID != "b" || got[1].Status != store.DeliveryFailed {
		t.Errorf("hook saw %+v, want a delivered (86), then b failed", got)
	}
}

// A store that cannot be reached is 503 SYS.0002, which gateways retry;
// an unknown provider 404.
func TestStoreDown(t *testing.T) {
	mem := memstore.New(memstore.Config{SweepInterval: -1})
	defer mem.Close()
	svc := newService(t, failing{mem}, nil)
	for _, tt := range []struct {
		provider string
		code     gen.ErrorCode
	}{{"gw", gen.ErrorCodeStoreUnavailable}, {"nosuch", gen.ErrorCodeNotFound}} {
		err := post(svc, tt.provider, "a delivered")
		var e *apierr.Error
		if !errors.As(err, &e) || e.Code != tt.code {
			t.Errorf("%s: %v, want %s", tt.provider, err, tt.code)
		}
	}
}
