package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/smscode/smscode/server/store"
)

// The conversion counters of a key (store.ConversionKeys' Prefix and App)
// are two entries of the counters map, so that the cap, the sweeper and
// Len count them like any limit counter: the sends under the key's digest,
// the codes verified under the digest of the key with verifiedSuffix. Both
// expire with the window that the first send started. A prefix's block is
// an entry of the used map (key -> end of the block).
const verifiedSuffix = "\x00verified"

// conv is one key's conversion counters as a call sees them.
type conv struct {
	sh       *shard
	sent, vd digest
}

func (s *Store) conv(h held, key string) conv {
	return conv{sh: s.in(h.set, key), sent: digestOf(key), vd: digestOf(key + verifiedSuffix)}
}

// counts returns the live counts (0, 0 when the window has ended or never
// began).
func (c conv) counts(now int64) (sent, verified int64) {
	s, ok := c.sh.counters[c.sent]
	if !ok || s.expires <= now {
		return 0, 0
	}
	if v, ok := c.sh.counters[c.vd]; ok && v.expires > now {
		verified = v.count
	}
	return s.count, verified
}

// lockKeys locks the shards of keys, in ascending order (lockSet).
func (s *Store) lockKeys(keys ...string) held {
	var set shardSet
	for _, k := range keys {
		set |= 1 << shardIndex(k)
	}
	return s.lockSet(set)
}

// ConversionSend implements store.Conversion.
func (s *Store) ConversionSend(ctx context.Context, req store.ConversionSendRequest) (store.ConversionSendResult, error) {
	if err := ctx.Err(); err != nil {
		return store.ConversionSendResult{}, fmt.Errorf("memstore: conversion send: %w", err)
	}
	if err := store.ValidateConversion(req); err != nil {
		return store.ConversionSendResult{}, err
	}
	k := req.Keys
	h := s.lockKeys(k.Prefix, k.App, k.Block)
	defer s.unlock(h)
	now := s.clock()
	bsh, bd := s.in(h.set, k.Block), digestOf(k.Block)
	if end, ok := bsh.used[bd]; ok && end > now && !req.Exempt {
		return store.ConversionSendResult{Blocked: true, RetryAfter: time.Duration(end - now)}, nil
	}
	p, a := s.conv(h, k.Prefix), s.conv(h, k.App)
	var res store.ConversionSendResult
	res.PrefixSent, res.PrefixVerified = p.counts(now)
	res.AppSent, res.AppVerified = a.counts(now)
	if !req.Exempt && req.Rule.Blocks(res.PrefixSent, res.PrefixVerified, res.AppSent, res.AppVerified) {
		// The prefix's counters go (a clean window once the block ends);
		// the block takes one entry, at most what they freed.
		delete(p.sh.counters, p.sent)
		delete(p.sh.counters, p.vd)
		bsh.used[bd] = now + int64(req.Rule.BlockFor)
		res.Blocked, res.NewBlock, res.RetryAfter = true, true, req.Rule.BlockFor
		return res, nil
	}
	if !s.fits(h, 2, now, func() (n int) {
		for _, c := range [...]conv{p, a} {
			if !has(c.sh.counters, c.sent) {
				n++
			}
		}
		return n
	}) {
		return store.ConversionSendResult{}, full("conversion send")
	}
	for _, c := range [...]conv{p, a} {
		e, ok := c.sh.counters[c.sent]
		if !ok || e.expires <= now {
			// A new window: the verified count of the last one goes too.
			e = counter{expires: now + int64(req.Rule.Window)}
			delete(c.sh.counters, c.vd)
		}
		e.count++
		c.sh.counters[c.sent] = e
	}
	return res, nil
}

// ConversionUnsend implements store.Conversion.
func (s *Store) ConversionUnsend(ctx context.Context, k store.ConversionKeys) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: conversion unsend: %w", err)
	}
	if err := store.ValidateConversionKeys(k); err != nil {
		return err
	}
	h := s.lockKeys(k.Prefix, k.App)
	defer s.unlock(h)
	now := s.clock()
	for _, c := range [...]conv{s.conv(h, k.Prefix), s.conv(h, k.App)} {
		if e, ok := c.sh.counters[c.sent]; ok && e.expires > now && e.count > 0 {
			e.count--
			c.sh.counters[c.sent] = e
		}
	}
	return nil
}

// ConversionVerified implements store.Conversion. A key's verified count
// never goes above its sends, so that a conversion is at most 1 even for
// codes sent in the window before.
func (s *Store) ConversionVerified(ctx context.Context, k store.ConversionKeys) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: conversion verified: %w", err)
	}
	if err := store.ValidateConversionKeys(k); err != nil {
		return err
	}
	h := s.lockKeys(k.Prefix, k.App)
	defer s.unlock(h)
	now := s.clock()
	cs := [...]conv{s.conv(h, k.Prefix), s.conv(h, k.App)}
	if !s.fits(h, 2, now, func() (n int) {
		for _, c := range cs {
			if !has(c.sh.counters, c.vd) {
				n++
			}
		}
		return n
	}) {
		return full("conversion verified")
	}
	for _, c := range cs {
		sent, ok := c.sh.counters[c.sent]
		if !ok || sent.expires <= now {
			continue
		}
		v, ok := c.sh.counters[c.vd]
		if !ok || v.expires <= now {
			v = counter{expires: sent.expires}
		}
		if v.count < sent.count {
			v.count++
		}
		c.sh.counters[c.vd] = v
	}
	return nil
}
