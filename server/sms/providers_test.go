package sms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/smscode/smscode/server/sms"
)

var (
	_ sms.Provider = (*sms.Log)(nil)
	_ sms.Provider = (*sms.Null)(nil)
	_ sms.Provider = (*sms.Memory)(nil)
)

func message(to, code string) sms.Message {
	return sms.Message{
		ID: "msg-" + code, To: to, Code: code, TTLMinutes: 5,
		Text:     "[Example] Your verification code is " + code + ".",
		Scenario: "LOGIN_SMS", Lang: "en", ClientID: "app",
	}
}

// testProvider is the contract every development provider meets: a fixed
// name on every receipt, distinct receipt ids, a refusal of a done context,
// and safety under concurrent sends (run with -race).
func testProvider(t *testing.T, p sms.Provider, name string) {
	t.Helper()
	if p.Name() != name {
		t.Errorf("Name() = %q, want %q", p.Name(), name)
	}
	ids := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			r, err := p.Send(t.Context(), message("+8612345678901", fmt.Sprintf("%06d", i)))
			if err != nil {
				t.Errorf("Send: %v", err)
				return
			}
			if r.Provider != name || r.MessageID == "" {
				t.Errorf("receipt %+v, want provider %q and an id", r, name)
			}
			mu.Lock()
			defer mu.Unlock()
			if ids[r.MessageID] {
				t.Errorf("receipt id %q given twice", r.MessageID)
			}
			ids[r.MessageID] = true
		})
	}
	wg.Wait()

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Send(ctx, message("+8612345678901", "000000")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a canceled context = %v, want context.Canceled", err)
	}
}

func TestProviderContract(t *testing.T) {
	tests := []struct {
		name string
		p    sms.Provider
	}{
		{"log", sms.NewLog(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), 5)},
		{"null", sms.NewNull()},
		{"memory", sms.NewMemory()},
		{"backup", sms.NewNamedMemory("backup")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testProvider(t, tt.p, tt.name) })
	}
}

func TestLogWritesMaskedNumberAndCode(t *testing.T) {
	var buf bytes.Buffer
	l := sms.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)), 2)
	if _, err := l.Send(t.Context(), message("+8612345678901", "493027")); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"level":"WARN"`, "development", "493027", `"to":"+86 123****8901"`, `"message_id":"msg-493027"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
	if strings.Contains(out, "12345678901") {
		t.Errorf("log carries the full number: %s", out)
	}
}

func TestLogLast(t *testing.T) {
	const a, b, c = "+8612345678901", "+447700900123", "+14155550100"
	tests := []struct {
		name   string
		keep   int
		sends  [][2]string // to, code
		to     string
		want   string // code; "" for none
		wantOK bool
	}{
		{"latest of one number", 3, [][2]string{{a, "111111"}, {b, "222222"}, {a, "333333"}}, a, "333333", true},
		{"other number", 3, [][2]string{{a, "111111"}, {b, "222222"}, {a, "333333"}}, b, "222222", true},
		{"never sent", 3, [][2]string{{a, "111111"}}, c, "", false},
		{"pushed out of the ring", 2, [][2]string{{b, "222222"}, {a, "111111"}, {a, "333333"}}, b, "", false},
		{"after wrapping", 2, [][2]string{{a, "1"}, {a, "2"}, {a, "3"}, {b, "4"}, {a, "5"}}, a, "5", true},
		{"keep nothing", 0, [][2]string{{a, "111111"}}, a, "", false},
		{"negative keep", -1, [][2]string{{a, "111111"}}, a, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sms.NewLog(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), tt.keep)
			for _, s := range tt.sends {
				if _, err := l.Send(t.Context(), message(s[0], s[1])); err != nil {
					t.Fatal(err)
				}
			}
			m, ok := l.Last(tt.to)
			if ok != tt.wantOK || m.Code != tt.want {
				t.Errorf("Last(%s) = %q, %v; want %q, %v", tt.to, m.Code, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestNullCounts(t *testing.T) {
	n := sms.NewNull()
	for range 3 {
		if _, err := n.Send(t.Context(), message("+8612345678901", "1")); err != nil {
			t.Fatal(err)
		}
	}
	if n.Count() != 3 {
		t.Errorf("Count() = %d, want 3", n.Count())
	}
}

func TestMemory(t *testing.T) {
	m := sms.NewMemory()
	m1, m2 := message("+8612345678901", "111111"), message("+447700900123", "222222")
	for _, msg := range []sms.Message{m1, m2} {
		if _, err := m.Send(t.Context(), msg); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Messages(); len(got) != 2 || got[0] != m1 || got[1] != m2 {
		t.Errorf("Messages() = %+v", got)
	}
	if last, ok := m.Last(m1.To); !ok || last != m1 {
		t.Errorf("Last = %+v, %v", last, ok)
	}
	if _, ok := m.Last("+14155550100"); ok {
		t.Error("Last found a number never sent to")
	}
	m.Messages()[0].Code = "changed"
	if m.Messages()[0].Code != "111111" {
		t.Error("Messages() shares its slice with the provider")
	}
	m.Reset()
	if m.Count() != 0 || m.Attempts() != 0 || len(m.Messages()) != 0 {
		t.Error("Reset left messages behind")
	}
}

func TestMemoryFailure(t *testing.T) {
	errTemporary := errors.New("gateway timeout")
	errBlocked := fmt.Errorf("destination blocked: %w", sms.ErrPermanent)
	tests := []struct {
		name      string
		failure   func(sms.Message) error
		wantErr   error
		permanent bool
	}{
		{"temporary", func(sms.Message) error { return errTemporary }, errTemporary, false},
		{"permanent", func(sms.Message) error { return errBlocked }, errBlocked, true},
		{"selective, not this one", func(m sms.Message) error {
			if m.To == "+447700900123" {
				return errTemporary
			}
			return nil
		}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sms.NewMemory()
			m.SetFailure(tt.failure)
			_, err := m.Send(t.Context(), message("+8612345678901", "111111"))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Send = %v, want %v", err, tt.wantErr)
			}
			if errors.Is(err, sms.ErrPermanent) != tt.permanent {
				t.Errorf("permanent = %v, want %v", !tt.permanent, tt.permanent)
			}
			wantCount := int64(0)
			if tt.wantErr == nil {
				wantCount = 1
			}
			if m.Count() != wantCount || m.Attempts() != 1 {
				t.Errorf("Count %d, Attempts %d; want %d, 1", m.Count(), m.Attempts(), wantCount)
			}

			m.SetFailure(nil)
			if _, err := m.Send(t.Context(), message("+8612345678901", "222222")); err != nil {
				t.Errorf("after SetFailure(nil): %v", err)
			}
		})
	}
}

// A failure function may call the provider it is installed on.
func TestMemoryFailureMayCallProvider(t *testing.T) {
	m := sms.NewMemory()
	m.SetFailure(func(sms.Message) error {
		if m.Count() >= 1 {
			return errors.New("quota reached")
		}
		return nil
	})
	if _, err := m.Send(t.Context(), message("+8612345678901", "1")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Send(t.Context(), message("+8612345678901", "2")); err == nil {
		t.Error("second send accepted")
	}
}
