package client

import (
	"context"
	"time"
)

// SetSleep replaces c's wait between attempts, so that tests of WithRetry
// record the wait and move a fake clock instead of sleeping.
func SetSleep(c *Client, f func(context.Context, time.Duration) error) { c.sleep = f }

// SleepContext is the real wait between attempts.
var SleepContext = sleepContext
