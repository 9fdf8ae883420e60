// Package audit is the audit trail: one Event per send and verify decision
// (and, later, per delivery receipt), written to sinks — a JSON Lines file
// with rotation, a signed webhook for a SIEM — without ever blocking the
// request that made it.
//
// An event names who asked (application, tenant, request id, client IP, a
// keyed hash of the device fingerprint), for which number (its country
// calling code, the number masked, and a keyed hash that lets one number's
// history be followed without storing it), and what was decided (outcome,
// error code, provider and its message id). It never holds the code, a full
// number or a secret: the fields are chosen so that none can.
//
// Each sink has a bounded queue and its own goroutine, so a stalled sink
// (a SIEM that does not answer) delays nothing and nobody but itself: when
// its queue is full, events for it are dropped, counted in
// smscode_audit_events_total{result="dropped"} and logged.
package audit

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The event types.
const (
	TypeSend   = "send"
	TypeVerify = "verify"
	// TypeReceipt is a sent message's final delivery status (its Outcome:
	// delivered, failed, expired, or unknown when no receipt came in
	// time), joined to its send by Provider and MessageID.
	TypeReceipt = "receipt"
)

// Schema is event.schema.json, the JSON Schema (draft 2020-12) of an Event
// as the sinks write it, for a SIEM's parser and for tests.
//
//go:embed event.schema.json
var Schema []byte

// Event is one audit record. Its JSON form is documented by
// event.schema.json (kept equal by a test).
type Event struct {
	// Time is when the decision was made (UTC, RFC 3339 with nanoseconds).
	Time time.Time `json:"time"`
	// Type is TypeSend, TypeVerify or TypeReceipt.
	Type string `json:"type"`
	// RequestID is the request's X-Request-Id, to join the access log.
	RequestID string `json:"request_id,omitempty"`
	ClientID  string `json:"client_id"`
	TenantID  string `json:"tenant_id,omitempty"`
	Scenario  string `json:"scenario"`
	// Outcome: for a send sent, test, refused or failed; for a verify ok,
	// wrong, not_found, too_many_attempts, refused or failed; for a
	// receipt delivered, failed, expired or unknown.
	Outcome string `json:"outcome"`
	// ErrorCode is the answer's error_code when the request failed.
	ErrorCode string `json:"error_code,omitempty"`
	// CountryCode is the number's country calling code ("86"), empty when
	// the number did not parse.
	CountryCode string `json:"country_code,omitempty"`
	// NumberMasked is the number as the logs show it (+86 123****8901).
	NumberMasked string `json:"number_masked,omitempty"`
	// NumberHash is a keyed hash of the number (HMAC under the server
	// secret, hex): equal for one number across events, useless without
	// the secret.
	NumberHash string `json:"number_hash,omitempty"`
	// DeviceHash is a keyed hash of X-device-fingerprint.
	DeviceHash string `json:"device_hash,omitempty"`
	// ClientIP is the caller's address as the server saw it (behind
	// trusted proxies, the forwarded client's).
	ClientIP string `json:"client_ip,omitempty"`
	// Provider is the SMS provider that accepted (or refused) the message.
	Provider string `json:"provider,omitempty"`
	// MessageID is the provider's id for the message, which its delivery
	// receipts name.
	MessageID string `json:"message_id,omitempty"`
}

// Sink writes batches of events somewhere. Write is called from one
// goroutine per sink; it should honour ctx's deadline, and must not keep
// batch after it returns (the Trail reuses it).
type Sink interface {
	Write(ctx context.Context, batch []Event) error
	Close() error
}

// Config tunes a Trail. Zero fields take the defaults stated.
type Config struct {
	// QueueSize is how many events may wait for each sink; more are
	// dropped. Default 10000.
	QueueSize int
	// MaxBatch is the largest batch handed to a sink's Write. Default 100.
	MaxBatch int
	// WriteTimeout bounds one Write. Default 10s.
	WriteTimeout time.Duration
	// FlushTimeout bounds Close: what is still queued then is dropped
	// (counted), so that a down sink cannot hold a shutdown. Default 5s.
	FlushTimeout time.Duration
}

// Defaults of Config.
const (
	DefaultQueueSize    = 10000
	DefaultMaxBatch     = 100
	DefaultWriteTimeout = 10 * time.Second
	DefaultFlushTimeout = 5 * time.Second
)

// dropLogEvery bounds the log lines about dropped events: one per sink per
// interval, with the count since the last one.
const dropLogEvery = 10 * time.Second

// Trail fans events out to its sinks. A nil *Trail records nothing, so
// callers need no check.
type Trail struct {
	cfg    Config
	log    *slog.Logger
	sinks  []*queue
	wg     sync.WaitGroup
	closed chan struct{}
	once   sync.Once
	// life is every write's parent: cancelled FlushTimeout after Close
	// began, which ends a stalled write and drops what is left.
	life   context.Context
	cancel context.CancelFunc
}

// queue is one sink with its bounded queue and counters.
type queue struct {
	name    string
	sink    Sink
	ch      chan Event
	written prometheus.Counter
	dropped prometheus.Counter
	failed  prometheus.Counter

	mu       sync.Mutex
	drops    int // since the last log line
	lastDrop time.Time
}

// Named is a sink with the name it is counted and logged under (from
// configuration: "file", "webhook").
type Named struct {
	Name string
	Sink Sink
}

var eventsDesc = prometheus.CounterOpts{
	Name: "smscode_audit_events_total",
	Help: "Audit events by sink and result: written, dropped (the sink's queue was full) or failed (the sink's write returned an error).",
}

// New starts a Trail writing to sinks. reg, when not nil, receives
// smscode_audit_events_total; log receives drop and failure lines (nil:
// discarded). Close flushes and stops it.
func New(cfg Config, sinks []Named, reg prometheus.Registerer, log *slog.Logger) (*Trail, error) {
	if cfg.QueueSize < 0 || cfg.MaxBatch < 0 || cfg.WriteTimeout < 0 || cfg.FlushTimeout < 0 {
		return nil, errors.New("audit: queue_size, max_batch, write_timeout and flush_timeout must not be negative")
	}
	cfg.QueueSize = cmp.Or(cfg.QueueSize, DefaultQueueSize)
	cfg.MaxBatch = cmp.Or(cfg.MaxBatch, DefaultMaxBatch)
	cfg.WriteTimeout = cmp.Or(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.FlushTimeout = cmp.Or(cfg.FlushTimeout, DefaultFlushTimeout)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	events := prometheus.NewCounterVec(eventsDesc, []string{"sink", "result"})
	if reg != nil {
		if err := reg.Register(events); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			// A rebuilt Trail (a configuration reload) counts on.
			events = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	t := &Trail{cfg: cfg, log: log, closed: make(chan struct{})}
	t.life, t.cancel = context.WithCancel(context.Background())
	seen := map[string]bool{}
	for _, n := range sinks {
		if n.Sink == nil || n.Name == "" || seen[n.Name] {
			return nil, errors.New("audit: every sink needs a distinct name and a Sink")
		}
		seen[n.Name] = true
		q := &queue{
			name: n.Name, sink: n.Sink, ch: make(chan Event, cfg.QueueSize),
			written: events.WithLabelValues(n.Name, "written"),
			dropped: events.WithLabelValues(n.Name, "dropped"),
			failed:  events.WithLabelValues(n.Name, "failed"),
		}
		t.sinks = append(t.sinks, q)
		t.wg.Add(1)
		go t.drain(q)
	}
	return t, nil
}

// Record queues e for every sink and returns at once. A sink whose queue is
// full loses e (counted and logged); Record never waits.
func (t *Trail) Record(e Event) {
	if t == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	select {
	case <-t.closed:
		return
	default:
	}
	for _, q := range t.sinks {
		select {
		case q.ch <- e:
		default:
			q.dropped.Inc()
			t.noteDrop(q)
		}
	}
}

// noteDrop logs drops at most once per dropLogEvery per sink.
func (t *Trail) noteDrop(q *queue) {
	q.mu.Lock()
	q.drops++
	now := time.Now()
	if now.Sub(q.lastDrop) < dropLogEvery {
		q.mu.Unlock()
		return
	}
	n := q.drops
	q.drops, q.lastDrop = 0, now
	q.mu.Unlock()
	t.log.Warn("audit: events dropped, the sink's queue is full", slog.String("sink", q.name), slog.Int("dropped", n))
}

// drain hands q's events to its sink in batches until Close.
func (t *Trail) drain(q *queue) {
	defer t.wg.Done()
	batch := make([]Event, 0, t.cfg.MaxBatch)
	for {
		var e Event
		select {
		case e = <-q.ch:
		case <-t.closed:
			// Flush what is queued, until Close's deadline; then stop.
			for {
				select {
				case e := <-q.ch:
					batch = append(batch, e)
					if len(batch) == t.cfg.MaxBatch {
						t.write(q, batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						t.write(q, batch)
					}
					return
				}
			}
		}
		batch = append(batch[:0], e)
		// Take what else is already waiting, up to a batch.
	more:
		for len(batch) < t.cfg.MaxBatch {
			select {
			case e := <-q.ch:
				batch = append(batch, e)
			default:
				break more
			}
		}
		t.write(q, batch)
		batch = batch[:0]
	}
}

// write hands batch to q's sink within WriteTimeout, or drops it (counted)
// once Close's flush deadline has passed.
func (t *Trail) write(q *queue, batch []Event) {
	if t.life.Err() != nil {
		q.dropped.Add(float64(len(batch)))
		return
	}
	ctx, cancel := context.WithTimeout(t.life, t.cfg.WriteTimeout)
	defer cancel()
	if err := q.sink.Write(ctx, batch); err != nil {
		q.failed.Add(float64(len(batch)))
		t.log.Warn("audit: writing events failed", slog.String("sink", q.name), slog.Int("events", len(batch)), slog.String("error", err.Error()))
		return
	}
	q.written.Add(float64(len(batch)))
}

// Close stops taking events, writes what is queued (within FlushTimeout in
// all; the rest is dropped and counted) and closes the sinks.
func (t *Trail) Close() error {
	if t == nil {
		return nil
	}
	var errs []error
	t.once.Do(func() {
		deadline := time.AfterFunc(t.cfg.FlushTimeout, t.cancel)
		close(t.closed)
		t.wg.Wait()
		deadline.Stop()
		t.cancel()
		for _, q := range t.sinks {
			errs = append(errs, q.sink.Close())
		}
	})
	return errors.Join(errs...)
}
