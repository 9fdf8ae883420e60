package kit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// infoContext is a request's context: context.WithValue(parent, infoKey{},
// &info), with the request's info and its X-Request-Id header value in the
// same allocation, and, when RequestContext has a timeout, what
// context.WithDeadline(parent, deadline) does, made only when asked for.
//
// Why lazily: context.WithDeadline starts a timer and registers the new
// context with its parent (net/http's per-request context: a lock and a
// map insertion) for every request, about a tenth of an accepted send's
// own CPU on the memory store (issue 14's profiles), while most requests
// (a memory store, an in-process SMS provider) never wait on Done. So the
// deadline is a time until something calls Done or AfterFunc (go-redis,
// an HTTP provider, a derived context: context.WithCancel calls Done);
// then the real context.WithDeadline is made, and Done, Err and AfterFunc
// are its. Before that, Err is worked out from the parent and the clock, so
// that it answers what the real one would: nil until the deadline, the
// parent's error once the parent is done, DeadlineExceeded after the
// deadline, Canceled once the request has ended; and the first error it
// gives is kept, so that it never changes (a real context made after it
// is made done with that error).
type infoContext struct {
	context.Context // the parent
	info            requestInfo
	idValue         [1]string

	// deadline is set by RequestContext with a positive timeout; with none,
	// Deadline, Done and Err are the parent's.
	deadline time.Time

	mu     sync.Mutex
	real   context.Context    // context.WithDeadline(parent, deadline), once made
	cancel context.CancelFunc // real's
	err    error              // what Err said first, before real was made (Canceled after end)
}

// Value implements context.Context.
func (c *infoContext) Value(key any) any {
	if key == (infoKey{}) {
		return &c.info
	}
	return c.Context.Value(key)
}

// Deadline implements context.Context: the earlier of the parent's and the
// request's.
func (c *infoContext) Deadline() (time.Time, bool) {
	d, ok := c.Context.Deadline()
	if c.deadline.IsZero() || (ok && d.Before(c.deadline)) {
		return d, ok
	}
	return c.deadline, true
}

// Done implements context.Context.
func (c *infoContext) Done() <-chan struct{} {
	if c.deadline.IsZero() {
		return c.Context.Done()
	}
	return c.made().Done()
}

// Err implements context.Context, without making the real context.
func (c *infoContext) Err() error {
	if c.deadline.IsZero() {
		return c.Context.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real != nil {
		return c.real.Err()
	}
	if c.err == nil {
		if err := c.Context.Err(); err != nil {
			c.err = err
		} else if !time.Now().Before(c.deadline) {
			c.err = context.DeadlineExceeded
		}
	}
	return c.err
}

// AfterFunc is what context.AfterFunc and context.WithCancel look for in a
// parent that is not one of the standard library's (its afterFuncer): with
// it they register with the real context rather than start a goroutine
// that waits on Done.
func (c *infoContext) AfterFunc(f func()) (stop func() bool) {
	if c.deadline.IsZero() {
		return context.AfterFunc(c.Context, f)
	}
	return context.AfterFunc(c.made(), f)
}

// made returns the real context, making it on the first call: done
// already, with Err's error, when Err has given one (the request ended,
// the deadline passed or the parent was done), else WithDeadline.
func (c *infoContext) made() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real == nil {
		if c.err != nil {
			c.real, c.cancel = doneWith(c.Context, c.err)
		} else {
			c.real, c.cancel = context.WithDeadline(c.Context, c.deadline)
		}
	}
	return c.real
}

// doneWith returns a context that is done with err (Canceled or
// DeadlineExceeded, the only errors a context gives), whatever parent
// does later.
func doneWith(parent context.Context, err error) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(parent)
	if errors.Is(err, context.DeadlineExceeded) {
		return context.WithDeadline(base, time.Time{}) // in the past: done at once
	}
	ctx, cancel := context.WithCancel(base)
	cancel()
	return ctx, cancel
}

// end is the real context's cancel, called when the request is over: its
// timer stops and everything waiting on Done is released. Before the real
// context is made, it only settles Err (Canceled, unless Err already gave
// another error).
func (c *infoContext) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	} else if c.err == nil {
		c.err = context.Canceled
	}
}
