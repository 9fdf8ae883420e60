package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// withRetry runs attempt once, and again while retryWait allows it.
func (c *Client) withRetry(ctx context.Context, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		wait, ok := c.retryWait(ctx, err, n)
		if !ok {
			return err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			// Both stay visible: errors.As finds the server's *Error (and
			// its RetryAfter for the user), errors.Is the context's end.
			return fmt.Errorf("%w (stopped waiting %v to retry: %w)", err, wait, serr)
		}
	}
}

// retryWait says whether the answer err to attempt n may be repeated, and
// after how long. Only an smscode error (non-empty Code) qualifies: on its
// 429 and 503 the server guarantees that nothing was sent, which a proxy's
// 503 page does not. A missing Retry-After means the server does not know
// when, so there is nothing to wait for.
func (c *Client) retryWait(ctx context.Context, err error, n int) (time.Duration, bool) {
	if c.retry == nil || err == nil || n >= c.retry.MaxAttempts {
		return 0, false
	}
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Code == "" || e.RetryAfter <= 0 || e.RetryAfter > c.retry.MaxWait {
		return 0, false
	}
	if e.StatusCode != http.StatusTooManyRequests && e.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	// Waiting past the caller's deadline would only end in
	// DeadlineExceeded, with the useful answer lost.
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < e.RetryAfter {
		return 0, false
	}
	return e.RetryAfter, true
}

// sleepContext waits d, or until ctx ends and returns its error.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
