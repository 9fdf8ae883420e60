package wire_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/smscode/smscode/client"
	"github.com/smscode/smscode/internal/audittest"
	"github.com/smscode/smscode/server/audit"
	"github.com/smscode/smscode/server/config"
	"github.com/smscode/smscode/server/servertest"
	"github.com/smscode/smscode/server/sms/webhook/webhooktest"
)

// TestAuditTrail runs sends and verifies through the real client and
// server and reads the audit file: one event per decision, in order, with
// the outcome, error code, number fields and provider each should have.
// (servertest checks every test server's events for codes and numbers; this
// test checks what the events say.)
func TestAuditTrail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	env := servertest.New(t, servertest.WithConfig(func(c *config.Config) {
		c.Audit.File = &audit.FileConfig{Path: path}
	}))
	c, err := client.New(env.URL, client.WithClientID(servertest.ClientID), client.WithTenantID(servertest.TenantID),
		client.WithDevice(client.Device{OSVersion: "Android 10", Fingerprint: "fp-audit-1", IP: "10.10.10.1", UserAgent: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const mobile, e164 = "13812345678", "+8613812345678"
	if _, err := c.SendSMS(ctx, mobile, client.ScenarioLogin, servertest.CaptchaToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendSMS(ctx, mobile, client.ScenarioLogin, servertest.CaptchaToken); client.CodeOf(err) != client.CodeTooFrequent {
		t.Fatalf("second send: %v, want %s", err, client.CodeTooFrequent)
	}
	msg, ok := env.Outbox.Last(e164)
	if !ok {
		t.Fatal("no message sent")
	}
	wrong := "000000"
	if msg.Code == wrong {
		wrong = "111111"
	}
	if err := c.VerifySMS(ctx, mobile, client.ScenarioLogin, wrong); err == nil {
		t.Fatal("a wrong code verified")
	}
	if err := c.VerifySMS(ctx, mobile, client.ScenarioLogin, msg.Code); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifySMS(ctx, mobile, client.ScenarioLogin, msg.Code); err == nil {
		t.Fatal("a used code verified again")
	}
	// Closing flushes the trail (servertest closes it at cleanup too).
	if err := env.Runtime.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := audittest.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, outcome, code string }{
		{audit.TypeSend, "sent", ""},
		{audit.TypeSend, "refused", string(client.CodeTooFrequent)},
		{audit.TypeVerify, "wrong", "VERIFY.0001"},
		{audit.TypeVerify, "ok", ""},
		{audit.TypeVerify, "not_found", "VERIFY.0002"},
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(events), len(want), events)
	}
	for i, w := range want {
		e := events[i]
		if e.Type != w.typ || e.Outcome != w.outcome || e.ErrorCode != w.code {
			t.Errorf("event %d: %s %s %q, want %s %s %q", i, e.Type, e.Outcome, e.ErrorCode, w.typ, w.outcome, w.code)
		}
		if e.ClientID != servertest.ClientID || e.TenantID != servertest.TenantID || e.Scenario != string(client.ScenarioLogin) ||
			e.RequestID == "" || e.ClientIP != "127.0.0.1" || e.CountryCode != "86" || e.NumberMasked != "+86 138****5678" {
			t.Errorf("event %d: %+v", i, e)
		}
		// One number, one device: the same keyed hashes in every event.
		if e.NumberHash != events[0].NumberHash || e.DeviceHash != events[0].DeviceHash || e.NumberHash == e.DeviceHash {
			t.Errorf("event %d hashes %s %s, want those of event 0", i, e.NumberHash, e.DeviceHash)
		}
		if leaks := audittest.Leaks(e, []string{msg.Code, "13812345678", "fp-audit-1"}); len(leaks) > 0 {
			t.Errorf("event %d carries %v", i, leaks)
		}
	}
	if e := events[0]; e.Provider != "primary" || e.MessageID == "" {
		t.Errorf("sent event: provider %q, message id %q", e.Provider, e.MessageID)
	}
	t.Logf("%d events, first: %+v", len(events), events[0])
}

// A delivery receipt adds its event: the message's final status, joined to
// its send by provider and message id.
func TestAuditTrailReceipt(t *testing.T) {
	gw := webhooktest.New(t)
	env := servertest.New(t, servertest.WithWebhookGateway(gw, "gateway"))
	c, err := client.New(env.URL, client.WithClientID(servertest.ClientID), client.WithTenantID(servertest.TenantID),
		client.WithDevice(client.Device{OSVersion: "Android 10", Fingerprint: "fp-audit-2", IP: "10.10.10.1", UserAgent: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendSMS(context.Background(), "13812345679", client.ScenarioLogin, servertest.CaptchaToken); err != nil {
		t.Fatal(err)
	}
	sent, ok := gw.Last("+8613812345679")
	if !ok {
		t.Fatal("the gateway got no message")
	}
	if status, err := gw.Deliver(sent.Payload.ReceiptURL, sent.MessageID, "delivered"); err != nil || status != 204 {
		t.Fatalf("receipt: %d %v", status, err)
	}
	if err := env.Runtime.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := audittest.ReadFile(env.AuditFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want the send and its receipt: %+v", len(events), events)
	}
	send, receipt := events[0], events[1]
	if send.Type != audit.TypeSend || receipt.Type != audit.TypeReceipt || receipt.Outcome != "delivered" ||
		receipt.Provider != "gateway" || receipt.MessageID != send.MessageID || send.MessageID != sent.MessageID ||
		receipt.ClientID != servertest.ClientID || receipt.Scenario != string(client.ScenarioLogin) || receipt.CountryCode != "86" {
		t.Fatalf("events %+v, want the send then its delivered receipt", events)
	}
}
