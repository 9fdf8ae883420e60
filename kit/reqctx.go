package kit

import (
	"context"
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
// deadline, Canceled once the request has ended.
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
	ended  bool               // end was called: the request is over
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
	real, ended := c.real, c.ended
	c.mu.Unlock()
	switch {
	case real != nil:
		return real.Err()
	case ended:
		return context.Canceled
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
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

// made returns the real context, making it on the first call. Made after
// the request ended, it is cancelled at once, as the real one would be by
// then; made after the deadline, context.WithDeadline returns it done.
func (c *infoContext) made() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real == nil {
		c.real, c.cancel = context.WithDeadline(c.Context, c.deadline)
		if c.ended {
			c.cancel()
		}
	}
	return c.real
}

// end is the real context's cancel, called when the request is over: its
// timer stops and everything waiting on Done is released.
func (c *infoContext) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	if c.cancel != nil {
		c.cancel()
	}
}
