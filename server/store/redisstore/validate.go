package redisstore

import (
	"fmt"
	"time"

	"github.com/smscode/smscode/server/store"
)

// validate rejects requests that are caller bugs, before anything is
// counted. The rules match memstore's (the conformance suite checks
// both): durations of at least a millisecond, the unit Redis expires in.
func validate(req store.SendRequest) error {
	for i, l := range req.Limits {
		switch {
		case l.Key == "":
			return invalid("limit %d has no key", i)
		case l.Max < 1:
			return invalid("limit %q has Max %d", l.Key, l.Max)
		case l.Window < time.Millisecond:
			return invalid("limit %q has Window %v", l.Key, l.Window)
		case l.Block < 0:
			return invalid("limit %q has Block %v", l.Key, l.Block)
		case l.Key == req.Code.Key:
			return invalid("key %q is both a limit and the code", l.Key)
		}
		for _, prev := range req.Limits[:i] {
			if prev.Key == l.Key {
				return invalid("limit key %q appears twice", l.Key)
			}
		}
	}
	if c := req.Code; c.Key != "" {
		switch {
		case c.TTL < time.Millisecond:
			return invalid("code %q has TTL %v", c.Key, c.TTL)
		case c.MaxAttempts < 1:
			return invalid("code %q has MaxAttempts %d", c.Key, c.MaxAttempts)
		case len(c.Hash) == 0:
			return invalid("code %q has no hash", c.Key)
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("redisstore: invalid request: "+format, args...)
}
