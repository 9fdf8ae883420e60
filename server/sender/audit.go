package sender

import (
	"strconv"
	"time"

	"github.com/smscode/smscode/gen"
	"github.com/smscode/smscode/server/apierr"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/phone"
)

// Auditor takes the audit trail's events: one per send and verify
// decision. Record must return at once (audit.Trail queues; a stalled sink
// drops, it never slows a request).
type Auditor interface {
	Record(audit.Event)
}

// The keyed-hash domains of the audit trail's ids: not the store keys'
// (numberIDDomain, deviceIDDomain), so that an audit file cannot be joined
// to a Redis dump's keys, and follows a number only with the secret.
const (
	auditNumberDomain = "smscode audit id: number"
	auditDeviceDomain = "smscode audit id: device fingerprint"
)

// auditEntry is what Send and Verify learn about a request as they go; the
// deferred record turns it into the event, with the outcome they set or,
// when they returned early, the one the error implies.
type auditEntry struct {
	typ      string
	caller   *Caller
	scenario gen.Scenario
	num      phone.Number // zero when the number did not parse
	outcome  string
	provider string
	msgID    string
}

// record writes e's event to the audit trail, if there is one.
func (s *Service) record(e *auditEntry, err error) {
	if s.d.Audit == nil {
		return
	}
	c := e.caller
	ev := audit.Event{
		Time: time.Now(), Type: e.typ, RequestID: c.RequestID, ClientID: c.ClientID, TenantID: c.TenantID,
		Scenario: string(e.scenario), Outcome: e.outcome, ClientIP: c.RemoteIP,
		Provider: e.provider, MessageID: e.msgID,
	}
	if err != nil {
		ae := apierr.From(err)
		ev.ErrorCode = string(ae.Code)
		if ev.Outcome == "" {
			ev.Outcome = failureOutcome(ae)
		}
	}
	if ev.Outcome == "" { // no error and nothing set: the default success
		ev.Outcome = "sent"
		if e.typ == audit.TypeVerify {
			ev.Outcome = "ok"
		}
	}
	if e.num.E164 != "" {
		ev.CountryCode = strconv.Itoa(e.num.CallingCode)
		ev.NumberMasked = phone.Mask(e.num.E164)
		ev.NumberHash = keyedID(s.d.Hasher, auditNumberDomain, e.num.E164)
	}
	if c.Fingerprint != "" {
		ev.DeviceHash = keyedID(s.d.Hasher, auditDeviceDomain, c.Fingerprint)
	}
	s.d.Audit.Record(ev)
}
