package smstest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/smstest"
)

// TestFakeConforms runs the suite on the sms-level Fake.
func TestFakeConforms(t *testing.T) {
	smstest.Run(t, smstest.Harness{
		New: func(t *testing.T, g *smstest.Gateway) sms.Provider { return smstest.NewFake("fake", g) },
	})
}

// TestServerBehaviours checks what Gateway.Server does for each behaviour,
// seen from a plain HTTP client.
func TestServerBehaviours(t *testing.T) {
	tests := []struct {
		b          smstest.Behaviour
		wantStatus int // 0: a transport error
	}{
		{smstest.Accept, http.StatusOK},
		{smstest.RefusePermanently, http.StatusTeapot},
		{smstest.ServerError, http.StatusServiceUnavailable},
		{smstest.Hang, 0},
		{smstest.Reset, 0},
	}
	for _, tc := range tests {
		t.Run(tc.b.String(), func(t *testing.T) {
			g := smstest.NewGateway()
			g.Set(tc.b)
			srv := g.Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if g.Behaviour() == smstest.RefusePermanently {
					w.WriteHeader(http.StatusTeapot)
					return
				}
				g.Accept(smstest.Received{To: "+1"})
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
			resp, err := srv.Client().Do(req)
			if tc.wantStatus == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("status %d, want a transport error", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
				}
			}
			if tc.b == smstest.Hang && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the deadline", err)
			}
			if g.Attempts() != 1 {
				t.Errorf("attempts = %d, want 1", g.Attempts())
			}
			wantAccepted := 0
			if tc.b == smstest.Accept {
				wantAccepted = 1
			}
			if got := len(g.Accepted()); got != wantAccepted {
				t.Errorf("accepted %d, want %d", got, wantAccepted)
			}
		})
	}
}

func TestAcceptNumbersMessages(t *testing.T) {
	g := smstest.NewGateway()
	if id := g.Accept(smstest.Received{}); id != "fake-1" {
		t.Errorf("id = %q", id)
	}
	if id := g.Accept(smstest.Received{}); id != "fake-2" {
		t.Errorf("id = %q", id)
	}
	if got := g.Accepted(); len(got) != 2 || got[1].ID != "fake-2" {
		t.Errorf("Accepted = %+v", got)
	}
}
