// Package sender is the send pipeline: from a validated request to an SMS.
// It checks the application, the scenario, the phone number and the captcha
// token, makes one atomic limit decision on the store, stores the code as an
// HMAC, renders the message and hands it to a provider; and it checks codes
// (Verify). It knows nothing of HTTP: errors are *apierr.Error values.
package sender

import (
	"time"

	"github.com/smscode/smscode/gen"
)

// Caller is who asks: the application and the device, as the headers say,
// and the client address as the server trusts it.
type Caller struct {
	ClientID string // X-client-id
	TenantID string // X-tenant-id, "" when absent
	Lang     string // X-L, "" when absent
	// OSVersion, Fingerprint, Agent and ReportedIP are the device headers.
	// ReportedIP (X-device-ip) is client-supplied: logged, never used for limits.
	OSVersion   string
	Fingerprint string
	Agent       string
	ReportedIP  string
	// RemoteIP is the connection's address, or the X-Forwarded-For hop set
	// by a configured trusted proxy: the one the per-IP limit counts.
	RemoteIP  string
	RequestID string
}

// SendRequest asks for a code to be sent.
type SendRequest struct {
	Caller
	Mobile       string
	Scenario     gen.Scenario
	CaptchaToken string
}

// SendResult describes an accepted send.
type SendResult struct {
	// ResendAfter is when a new code may be sent to the same number for the
	// same scenario; ExpiresIn is how long the code stays valid.
	ResendAfter time.Duration
	ExpiresIn   time.Duration
	// Provider and MessageID name the provider that accepted the message
	// and its id for it.
	Provider  string
	MessageID string
}

// VerifyRequest asks whether code is the one sent to Mobile for Scenario.
type VerifyRequest struct {
	Caller
	Mobile   string
	Scenario gen.Scenario
	Code     string
}
