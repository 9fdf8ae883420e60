package kit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/kit"
)

// serveWith runs one request through kit.RequestContext(timeout), with
// parent as the request's context, and hands the handler's context to h.
// It returns after the request ended (the middleware's cleanup ran).
func serveWith(t *testing.T, parent context.Context, timeout time.Duration, h func(ctx context.Context)) {
	t.Helper()
	e := echo.New()
	e.Use(kit.RequestContext(timeout))
	e.GET("/", func(c echo.Context) error {
		h(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(parent)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d", rec.Code)
	}
}

// The request's context keeps context.WithTimeout's contract although its
// timer is only made when something waits on it: each case checks Done,
// Err, Deadline and derived contexts, waiting or not.
func TestRequestContextDeadline(t *testing.T) {
	const timeout = 30 * time.Millisecond
	waitDone := func(t *testing.T, ctx context.Context) {
		t.Helper()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done was not closed")
		}
	}
	cases := map[string]func(t *testing.T, ctx context.Context){
		"deadline within the timeout": func(t *testing.T, ctx context.Context) {
			d, ok := ctx.Deadline()
			if left := time.Until(d); !ok || left <= 0 || left > timeout {
				t.Errorf("Deadline %v away (set %v), want within %v", left, ok, timeout)
			}
			if err := ctx.Err(); err != nil {
				t.Errorf("Err before the deadline: %v", err)
			}
		},
		"Done closes at the deadline": func(t *testing.T, ctx context.Context) {
			start := time.Now()
			waitDone(t, ctx)
			if took := time.Since(start); took < timeout/2 {
				t.Errorf("Done closed after %v, before the deadline", took)
			}
			if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Err = %v, want DeadlineExceeded", err)
			}
		},
		"Err without Done": func(t *testing.T, ctx context.Context) {
			time.Sleep(timeout + 10*time.Millisecond)
			if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Err = %v, want DeadlineExceeded", err)
			}
			// Done, first asked for after the deadline, is closed.
			select {
			case <-ctx.Done():
			default:
				t.Error("Done is open after Err reported the deadline")
			}
		},
		"a derived context ends at the deadline": func(t *testing.T, ctx context.Context) {
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			waitDone(t, child)
			if err := child.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("child Err = %v, want DeadlineExceeded", err)
			}
		},
		"AfterFunc runs at the deadline": func(t *testing.T, ctx context.Context) {
			ran := make(chan struct{})
			context.AfterFunc(ctx, func() { close(ran) })
			select {
			case <-ran:
			case <-time.After(5 * time.Second):
				t.Fatal("AfterFunc did not run")
			}
		},
		"a stopped AfterFunc does not run": func(t *testing.T, ctx context.Context) {
			stop := context.AfterFunc(ctx, func() { t.Error("stopped AfterFunc ran") })
			if !stop() {
				t.Error("stop reported the func as started")
			}
			waitDone(t, ctx)
		},
	}
	for name, check := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			serveWith(t, context.Background(), timeout, func(ctx context.Context) { check(t, ctx) })
		})
	}
}

// The parent's end (net/http cancels a request's context when the client
// goes away) reaches the request's context, whether Done was asked for
// before or after.
func TestRequestContextParentCancel(t *testing.T) {
	for _, doneFirst := range []bool{true, false} {
		parent, cancel := context.WithCancel(context.Background())
		serveWith(t, parent, time.Minute, func(ctx context.Context) {
			var done <-chan struct{}
			if doneFirst {
				done = ctx.Done()
			}
			cancel()
			if err := ctx.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("doneFirst %v: Err = %v, want Canceled", doneFirst, err)
			}
			if done == nil {
				done = ctx.Done()
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("doneFirst %v: Done open after the parent's cancel", doneFirst)
			}
		})
	}
}

// A parent's deadline earlier than the request's is the one reported and
// the one that ends it.
func TestRequestContextParentDeadline(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	want, _ := parent.Deadline()
	serveWith(t, parent, time.Minute, func(ctx context.Context) {
		if d, _ := ctx.Deadline(); !d.Equal(want) {
			t.Errorf("Deadline %v, want the parent's %v", d, want)
		}
		<-ctx.Done()
		if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err = %v, want DeadlineExceeded", err)
		}
	})
}

// Once the request is over its context is cancelled, as WithTimeout's
// cancel did: what a handler left waiting on it (Done asked for during
// the request, or only after) is released, and Err says Canceled.
func TestRequestContextEndsWithTheRequest(t *testing.T) {
	var during, after context.Context
	var wg sync.WaitGroup
	released := make(chan struct{})
	serveWith(t, context.Background(), time.Minute, func(ctx context.Context) {
		during = ctx
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ctx.Done()
			close(released)
		}()
	})
	serveWith(t, context.Background(), time.Minute, func(ctx context.Context) { after = ctx })
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("a goroutine waiting on the request's Done was not released when it ended")
	}
	wg.Wait()
	for name, ctx := range map[string]context.Context{"waited on": during, "never waited on": after} {
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Err after the request = %v, want Canceled", name, err)
		}
		select {
		case <-ctx.Done():
		default:
			t.Errorf("%s: Done open after the request", name)
		}
	}
}

// Err never changes once it has given an error, whatever comes after and
// whether Done is asked for after it or not: a deadline that passed stays
// the reason when the request ends or the client goes away.
func TestRequestContextErrIsSticky(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after func(cancelParent context.CancelFunc) // once Err said DeadlineExceeded, in the handler
	}{
		{"then the request ends", func(context.CancelFunc) {}},
		{"then the client goes away", func(cancel context.CancelFunc) { cancel() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			var kept context.Context
			serveWith(t, parent, 10*time.Millisecond, func(ctx context.Context) {
				time.Sleep(20 * time.Millisecond)
				if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Err after the deadline = %v", err)
				}
				tt.after(cancel)
				if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Err after that = %v, want DeadlineExceeded still", err)
				}
				kept = ctx
			})
			// The request has ended; Err still says why it first ended, and
			// Done, first asked for now, is closed and changes nothing.
			if err := kept.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Err after the request = %v, want DeadlineExceeded", err)
			}
			select {
			case <-kept.Done():
			default:
				t.Error("Done open after the request")
			}
			if err := kept.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Err after the request = %v, want DeadlineExceeded", err)
			}
		})
	}
}

// Without a timeout (kit.RequestID) the context is the parent's in all
// but its values.
func TestRequestIDKeepsTheParentsDeadline(t *testing.T) {
	serveWith(t, context.Background(), 0, func(ctx context.Context) {
		if _, ok := ctx.Deadline(); ok {
			t.Error("a deadline without a timeout")
		}
		if ctx.Done() != nil {
			t.Error("Done is not Background's (nil)")
		}
		if kit.RequestIDFromContext(ctx) == "" {
			t.Error("no request id")
		}
	})
}

// BenchmarkRequestContext is the middleware's cost per request, a bare
// handler inside, with the request's deadline and without.
func BenchmarkRequestContext(b *testing.B) {
	for _, timeout := range []time.Duration{0, 10 * time.Second} {
		b.Run("timeout="+timeout.String(), func(b *testing.B) {
			e := echo.New()
			e.Use(kit.RequestContext(timeout))
			e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			// As net/http's: a cancelable parent per request.
			base, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithCancel(base)
				e.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
				cancel()
			}
		})
	}
}
