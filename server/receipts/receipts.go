// Package receipts takes the SMS gateways' delivery receipts: it records
// each message a provider accepted (Track, called by the sender), settles
// its status when the gateway's receipt comes (the endpoint POST
// /api/v2/sdk/sms/receipts/{provider}, Handler), and counts the messages
// that got no receipt in time as unknown (Run, a sweeper).
//
// What a receipt sender controls is bounded before it reaches anything:
// the provider must be a configured one that takes receipts (else 404),
// the body is read up to the server's receipt body limit, each provider's
// parser checks the signature or token first and maps the gateway's
// status strings to a fixed set, and message ids longer than
// sms.MaxMessageID are refused. Metric labels come from the configuration
// and from the record written at send time, never from the receipt.
package receipts

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/metrics"
	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/store"
)

// Path returns the endpoint's path for a provider name.
func Path(provider string) string { return "/api/v2/sdk/sms/receipts/" + provider }

// Defaults of Config.
const (
	DefaultTTL           = 24 * time.Hour
	DefaultWait          = 30 * time.Minute
	DefaultSweepInterval = time.Minute
	// SweepBatch is how many overdue messages one ExpireDeliveries call
	// settles; a sweep makes at most maxBatches calls, so that one sweep
	// is bounded even after an outage of receipts.
	SweepBatch = 500
	maxBatches = 20
)

// Config configures a Service. Zero fields take the defaults.
type Config struct {
	// TTL is how long a sent message is remembered for its receipt.
	TTL time.Duration
	// Wait is how long a receipt is waited for before the message is
	// counted unknown; at most TTL.
	Wait time.Duration
	// SweepInterval is how often Run looks for messages past their wait.
	SweepInterval time.Duration
}

// Settled is called with every message whose status a receipt or the
// sweeper has just settled (once per message): the hook for the audit
// trail. It must not block.
type Settled func(ctx context.Context, d store.Delivery)

// Deps are a Service's collaborators.
type Deps struct {
	Store   store.Deliveries
	Metrics *metrics.Metrics // may be nil
	Log     *slog.Logger     // may be nil
	// Provider finds the live configuration's provider of a name, and
	// reports whether it takes receipts (an sms.ReceiptReader whose
	// TakesReceipts is true); a reload changes what it finds.
	Provider func(name string) (Reader, bool)
	// OnSettled, when set, is called for each settled message.
	OnSettled Settled
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// Reader is a provider that takes receipts.
type Reader = sms.ReceiptReader

// Service tracks messages and takes their receipts. It is safe for
// concurrent use.
type Service struct {
	cfg Config
	d   Deps
}

// WithDefaults returns c with each zero field set to its default.
func (c Config) WithDefaults() Config {
	c.TTL = cmp.Or(c.TTL, DefaultTTL)
	c.Wait = cmp.Or(c.Wait, DefaultWait)
	c.SweepInterval = cmp.Or(c.SweepInterval, DefaultSweepInterval)
	return c
}

// Valid reports whether c, with its defaults, is one New takes:
// 1s <= Wait <= TTL and SweepInterval >= 0 (configuration checks it too,
// before anything is built).
func (c Config) Valid() bool {
	c = c.WithDefaults()
	return c.TTL >= time.Second && c.Wait >= time.Second && c.Wait <= c.TTL && c.SweepInterval >= 0
}

// New returns a Service.
func New(cfg Config, d Deps) (*Service, error) {
	cfg = cfg.WithDefaults()
	switch {
	case d.Store == nil || d.Provider == nil:
		return nil, errors.New("receipts: a Store and a Provider lookup are required")
	case !cfg.Valid():
		return nil, errors.New("receipts: want 1s <= wait <= ttl and a sweep interval >= 0")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{cfg: cfg, d: d}, nil
}

// Track records a message its provider just accepted, when that provider
// takes receipts; d.SentAt and d.Status are set here. A failure is logged,
// not returned: the message is sent, and only its receipt will be counted
// as for an unknown id.
func (s *Service) Track(ctx context.Context, d store.Delivery) {
	if _, ok := s.d.Provider(d.Provider); !ok || !sms.ValidMessageID(d.MessageID) {
		return
	}
	d.SentAt, d.Status = s.d.Now(), store.DeliveryAccepted
	if err := s.d.Store.TrackDelivery(ctx, d, s.cfg.TTL, s.cfg.Wait); err != nil {
		s.d.Log.WarnContext(ctx, "receipts: recording a sent message failed; its receipt will count as unknown_id",
			slog.String("provider", d.Provider), slog.String("error", err.Error()))
	}
}

// Handler is the receipt endpoint for Echo (server.Server.MountReceipts): it answers what the
// gateway expects, or an *apierr.Error for the server's error handler.
func (s *Service) Handler(c echo.Context) error {
	name := c.Param("provider")
	p, ok := s.d.Provider(name)
	if !ok {
		return apierr.New(gen.ErrorCodeNotFound)
	}
	req := c.Request()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return apierr.Wrap(gen.ErrorCodeBodyTooLarge, err)
		}
		s.d.Metrics.Receipt(name, metrics.ReceiptBadBody)
		return apierr.Wrap(gen.ErrorCodeReceiptMalformed, err)
	}
	reports, err := p.ReadReceipt(sms.ReceiptRequest{Header: req.Header, Query: req.URL.Query(), Body: body})
	switch {
	case errors.Is(err, sms.ErrReceiptAuth):
		s.d.Metrics.Receipt(name, metrics.ReceiptBadSignature)
		return apierr.Wrap(gen.ErrorCodeReceiptUnauthenticated, err)
	case err != nil:
		s.d.Metrics.Receipt(name, metrics.ReceiptBadBody)
		return apierr.Wrap(gen.ErrorCodeReceiptMalformed, err)
	}
	ctx := req.Context()
	for _, r := range reports {
		if err := s.settle(ctx, name, r); err != nil {
			// The gateway retries on a 503; what was settled before stays,
			// and its retry is then a duplicate.
			return apierr.Wrap(gen.ErrorCodeStoreUnavailable, err)
		}
	}
	ct, ack := p.ReceiptAck()
	if len(ack) == 0 {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Blob(http.StatusOK, ct, ack)
}

func (s *Service) settle(ctx context.Context, provider string, r sms.StatusReport) error {
	if r.Status == sms.StatusInterim {
		s.d.Metrics.Receipt(provider, metrics.ReceiptInterim)
		return nil
	}
	d, outcome, err := s.d.Store.SettleDelivery(ctx, provider, r.MessageID, store.DeliveryStatus(r.Status), s.d.Now())
	if err != nil {
		return err
	}
	switch outcome {
	case store.Settled:
		s.d.Metrics.Receipt(provider, metrics.ReceiptSettled)
		s.settled(ctx, d)
	case store.SettleDuplicate:
		s.d.Metrics.Receipt(provider, metrics.ReceiptDuplicate)
	case store.SettleLate:
		s.d.Metrics.Receipt(provider, metrics.ReceiptLate)
	default:
		s.d.Metrics.Receipt(provider, metrics.ReceiptUnknownID)
	}
	s.d.Log.DebugContext(ctx, "receipt", slog.String("provider", provider),
		slog.String("provider_message_id", r.MessageID), slog.String("status", string(r.Status)), slog.Int("outcome", int(outcome)))
	return nil
}

// settled counts a message's final status and calls the hook.
func (s *Service) settled(ctx context.Context, d store.Delivery) {
	s.d.Metrics.Delivery(d.Provider, d.CallingCode, string(d.Status), d.SettledAt.Sub(d.SentAt))
	if s.d.OnSettled != nil {
		s.d.OnSettled(ctx, d)
	}
}

// Sweep settles as unknown the messages whose wait ended without a
// receipt, at most SweepBatch × 20 per call, and returns how many.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n := 0
	for range maxBatches {
		due, err := s.d.Store.ExpireDeliveries(ctx, s.d.Now(), SweepBatch)
		if err != nil {
			return n, err
		}
		for _, d := range due {
			s.settled(ctx, d)
		}
		n += len(due)
		if len(due) < SweepBatch {
			break
		}
	}
	return n, nil
}

// Run sweeps every SweepInterval until ctx is done. With several instances
// on one Redis each sweeps; the store settles each message once.
func (s *Service) Run(ctx context.Context) {
	if s.cfg.SweepInterval <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.d.Log.Warn("receipts: sweeping messages without receipts failed", slog.String("error", err.Error()))
			}
		}
	}
}
