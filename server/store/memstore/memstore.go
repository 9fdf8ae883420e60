// Package memstore is a store.Store kept in this process's memory: for a
// single instance, for development and tests. Several instances each with a
// memstore would each apply the limits separately; use redisstore for that.
//
// State is split into shards chosen by a key's Redis hash tag, so that the
// keys of one entity (a number's cooldown, daily count and code share its
// tag) are under one mutex; a send locks the few shards of its entities
// (about five: number, device, address, prefix, application) in ascending
// order. Calls for different numbers rarely contend, and the sweeper that
// evicts expired entries holds any one lock only briefly.
//
// The store holds at most Config.MaxEntries entries (limit counters, pending
// codes, used tokens, Put values). Each shard counts its own entries under
// its own lock, and a call adds what it changed to an atomic total as it
// unlocks; there is no global lock. (A cap per shard would refuse early wherever
// keys crowd one shard: the application's daily counter is one key on one
// shard, and keys built with one shared tag all land on one.) Calls in flight on other shards
// may take the total past the cap by their own entries, a few each. A call
// that would add entries to a full store first evicts expired entries (each
// shard at most once a second, so that a flood against a full store costs a
// scan a second, not one per request) and is refused with an error wrapping
// store.ErrFull and store.ErrUnavailable when there is still no room. Calls
// that only update existing entries (a counter's next event, a Take, a
// verify that matches) go on as before.
//
// The trade-off: a full store refuses new work (callers fail closed: 503
// SYS.0002, nothing sent) rather than evict live entries, since evicting a
// live limit counter would hand whoever filled the store a fresh limit.
// Entries are keyed by values a client controls (its address, its device
// fingerprint), so a flood from rotating addresses can fill the store, and
// then deny service until its entries expire; it cannot grow memory past
// the cap nor reset a limit. A Redis deployment gets the same behaviour from
// maxmemory with the noeviction policy, under which Redis refuses writes.
package memstore

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smscode/smscode/server/store"
)

var _ store.Store = (*Store)(nil)

// Config configures a Store. The zero value is ready to use.
type Config struct {
	// Now is the clock. The default is time.Now; tests inject a fake one.
	// Durations are measured between its readings, so a clock with a
	// monotonic reading (as time.Now has) is immune to wall-clock jumps.
	Now func() time.Time
	// SweepInterval is how often expired entries are evicted in the
	// background (they are also dropped whenever they are touched). The
	// default is one minute; a negative value disables the sweeper.
	SweepInterval time.Duration
	// MaxEntries bounds the entries the store holds (see the package
	// doc). Zero or less: DefaultMaxEntries.
	MaxEntries int
}

// shardCount is well above the core counts this runs on, so that unrelated
// numbers seldom share a lock; it is 32 so that a set of shards fits a
// uint32 (see lock).
const shardCount = 32

// Store is an in-memory store.Store. It is safe for concurrent use; call
// Close to stop its sweeper.
type Store struct {
	now  func() time.Time
	base time.Time // instants are kept as nanoseconds since base
	res  atomic.Uint64
	// total is how many entries the shards hold (each call adds its
	// change as it unlocks); max is MaxEntries.
	total atomic.Int64
	max   int64

	shards [shardCount]shard
	// dlr holds the deliveries waiting for receipts (receipts.go).
	dlr deliveries

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// shard holds the entries whose keys hash to it. Entries are values, not
// pointers, and keys are digests held in the map slot, to keep a pending
// code to one map slot plus its hash, however long its key.
type shard struct {
	mu       sync.Mutex
	counters map[digest]counter
	codes    map[digest]code
	used     map[digest]int64 // UseOnce key -> expiry
	values   map[digest]value // Put/Take
	// fullSweptAt is when the shard was last swept because it was full
	// (see room).
	fullSweptAt int64
}

// digest stands for a key in the maps: 128 bits of a keyed hash of it, 16
// bytes in the map slot instead of a string header and the key's bytes
// (about 100 for the sender's keys).
//
// The two halves are hash/maphash under two seeds drawn at random when the
// process starts, which never leave it, nor do digests. Two keys share a
// digest by chance with probability 2^-128 per pair; finding a pair that
// does takes knowing the seeds, which is the attack maphash is made to
// resist (it is Go's map hash, seeded against hash flooding). The sender's
// keys hold no client-chosen text but addresses, besides keyed ids (HMACs
// under the server's secret). This was a SHA-256 of the key, whose two
// compression blocks per key cost about 150 ns where maphash's two halves
// cost about 25, some nine times per send: collision resistance without a
// seed, which a digest no one outside sees does not need.
type digest [16]byte

var digestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func digestOf(key string) digest {
	var d digest
	binary.LittleEndian.PutUint64(d[:8], maphash.String(digestSeeds[0], key))
	binary.LittleEndian.PutUint64(d[8:], maphash.String(digestSeeds[1], key))
	return d
}

// digestOfBytes is digestOf(string(b)).
func digestOfBytes(b []byte) digest {
	var d digest
	binary.LittleEndian.PutUint64(d[:8], maphash.Bytes(digestSeeds[0], b))
	binary.LittleEndian.PutUint64(d[8:], maphash.Bytes(digestSeeds[1], b))
	return d
}

// slot is a key as one call uses it: its digest and its shard, each
// worked out once per call. A send's keys span about five shards and each
// is looked at two or three times (checked, counted, the locks taken), and
// finding a key's shard again hashed its tag each time.
type slot struct {
	d digest
	i uint8 // the shard's index
}

func slotOf(key string) slot { return slot{d: digestOf(key), i: uint8(shardIndex(key))} }

// slotsOf returns the slots of limits' keys, in buf when it is large
// enough, and the set of their shards.
func slotsOf(limits []store.Limit, buf []slot) ([]slot, shardSet) {
	var set shardSet
	for _, l := range limits {
		k := slotOf(l.Key)
		buf, set = append(buf, k), set|1<<k.i
	}
	return buf, set
}

// sendSlots returns the slots of req's limit keys (in buf when it is large
// enough) and of its code key (the zero slot when it has none), and the set
// of the shards they are in.
func sendSlots(req store.SendRequest, buf []slot) (keys []slot, code slot, set shardSet) {
	keys, set = slotsOf(req.Limits, buf)
	if req.Code.Key != "" {
		code = slotOf(req.Code.Key)
		set |= 1 << code.i
	}
	return keys, code, set
}

// at is k's shard.
func (s *Store) at(k slot) *shard { return &s.shards[k.i] }

// value is a Put value and its expiry.
type value struct {
	data    []byte
	expires int64
}

// counter is one limit's fixed window.
type counter struct {
	count   int64
	expires int64
	// blocked records that this window has already refused and applied its
	// Block, so that later refusals do not push the end further out.
	blocked bool
}

// code is a pending code: 56 bytes and no pointer, so that the garbage
// collector never scans the codes maps however many codes are pending (a
// million pending codes are a million entries it would otherwise visit in
// every cycle), and a code costs no allocation of its own. maxAttempts is
// an int16 (MaxAttempts above 32,767 counts as 32,767) after hashValue (33
// bytes, byte-aligned), so that it fits in what would otherwise be
// padding. Wrong guesses are counted per source, in the counters map (see
// Verify).
type code struct {
	expires     int64
	reservation uint64
	hash        hashValue
	maxAttempts int16
}

// hashValue is a code's hash as the store keeps it: the hash itself when it
// has the 32 bytes of the sender's HMAC-SHA256, its SHA-256 otherwise (the
// Store interface takes any length), with digested saying which. Both
// sides of a comparison go through hashOf, and digested takes part in it,
// so that two hashes match exactly when they are equal (barring a SHA-256
// collision): a 32-byte hash that happens to be another hash's SHA-256 does
// not match it.
type hashValue struct {
	sum      [sha256.Size]byte
	digested bool
}

func hashOf(h []byte) hashValue {
	if len(h) == sha256.Size {
		return hashValue{sum: [sha256.Size]byte(h)}
	}
	return hashValue{sum: sha256.Sum256(h), digested: true}
}

// matches compares v with given in constant time (digested is not secret:
// it follows from the length of the hash).
func (v hashValue) matches(given hashValue) bool {
	return subtle.ConstantTimeCompare(v.sum[:], given.sum[:]) == 1 && v.digested == given.digested
}

// New returns a Store and starts its sweeper.
func New(cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	s := &Store{
		now: cfg.Now, max: int64(cfg.MaxEntries),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	s.base = s.now()
	for i := range s.shards {
		s.shards[i] = shard{
			counters: map[digest]counter{}, codes: map[digest]code{}, used: map[digest]int64{}, values: map[digest]value{},
			fullSweptAt: -fullSweepGap,
		}
	}
	if cfg.SweepInterval > 0 {
		go s.sweepEvery(cfg.SweepInterval)
	} else {
		close(s.done)
	}
	return s
}

// Close stops the sweeper and waits for it. The Store stays usable (expired
// entries are then only dropped when touched). Close is idempotent.
func (s *Store) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
}

// clock is the current instant in nanoseconds since the store was made.
func (s *Store) clock() int64 { return int64(s.now().Sub(s.base)) }

// Reserve implements store.Store.
func (s *Store) Reserve(ctx context.Context, req store.SendRequest) (store.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return store.SendResult{}, fmt.Errorf("memstore: reserve: %w", err)
	}
	if err := store.Validate(req); err != nil {
		return store.SendResult{}, err
	}
	var buf [8]slot
	keys, code, set := sendSlots(req, buf[:0]) // once, for check, fits and charge
	locked := s.lockSet(set)
	defer s.unlock(locked)
	now := s.clock()
	if res := s.check(req.Limits, keys, now); !res.Allowed {
		return res, nil
	}
	if !s.fits(locked, len(req.Limits)+1, now, func() (n int) {
		for _, k := range keys {
			if !has(s.at(k).counters, k.d) {
				n++
			}
		}
		if req.Code.Key != "" && !has(s.at(code).codes, code.d) {
			n++
		}
		return n
	}) {
		return store.SendResult{}, full("reserve")
	}
	return s.charge(req, keys, code, now), nil
}

// has reports whether m holds an entry under d, expired or not: a key
// whose entry is still there is no new entry.
func has[V any](m map[digest]V, d digest) bool {
	_, ok := m[d]
	return ok
}

// check looks at every limit before any is charged, since a refused request
// must charge none. Every refusing limit applies its Block (each guards
// something of its own, e.g. a number prefix under attack); the first one is
// reported. A result with Allowed set means none refused.
func (s *Store) check(limits []store.Limit, keys []slot, now int64) store.SendResult {
	res := store.SendResult{Refused: -1}
	for i, l := range limits {
		sh := s.at(keys[i])
		c, ok := sh.counters[keys[i].d]
		if !ok || c.expires <= now || c.count < l.Max {
			continue
		}
		if l.Block > 0 && !c.blocked {
			c.blocked = true
			c.expires = max(c.expires, now+int64(l.Block))
			sh.counters[keys[i].d] = c
		}
		if res.Refused < 0 {
			res.Refused, res.RetryAfter = i, time.Duration(c.expires-now)
		}
	}
	res.Allowed = res.Refused < 0
	return res
}

// count adds one to limit l's counter (k is l.Key's slot), starting a
// window where none is running.
func (s *Store) count(l store.Limit, k slot, now int64) {
	sh := s.at(k)
	c, ok := sh.counters[k.d]
	if !ok || c.expires <= now {
		c = counter{expires: now + int64(l.Window)}
	}
	c.count++
	sh.counters[k.d] = c
}

// charge counts an allowed send against each limit, starting a window where
// none is running, and stores its code under a new reservation.
func (s *Store) charge(req store.SendRequest, keys []slot, codeSlot slot, now int64) store.SendResult {
	for i, l := range req.Limits {
		s.count(l, keys[i], now)
	}
	id := s.res.Add(1)
	if req.Code.Key != "" {
		s.at(codeSlot).codes[codeSlot.d] = code{
			hash:        hashOf(req.Code.Hash),
			expires:     now + int64(req.Code.TTL),
			reservation: id,
			maxAttempts: int16(min(req.Code.MaxAttempts, math.MaxInt16)),
		}
	}
	return store.SendResult{Allowed: true, Reservation: strconv.FormatUint(id, 36)}
}

// Release implements store.Store. Call it once per allowed Reserve: each
// call gives the counts back again. A limit that has since refused and
// blocked keeps its block.
func (s *Store) Release(ctx context.Context, req store.SendRequest, res store.SendResult) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: release: %w", err)
	}
	if !res.Allowed {
		return nil // a refused Reserve took nothing
	}
	if err := store.Validate(req); err != nil {
		return err
	}
	var buf [8]slot
	keys, codeSlot, set := sendSlots(req, buf[:0])
	locked := s.lockSet(set)
	defer s.unlock(locked)
	now := s.clock()
	for i, l := range req.Limits {
		sh := s.at(keys[i])
		c, ok := sh.counters[keys[i].d]
		switch {
		case !ok || c.blocked || c.count > l.Max:
			// Blocked, or over a Max lowered since: giving back would
			// not give room, and redisstore leaves these alone too.
		case c.expires <= now || c.count <= 1:
			// Giving back the window's only event ends the window, so the
			// next send starts a fresh one, as if this one never happened.
			delete(sh.counters, keys[i].d)
		default:
			c.count--
			sh.counters[keys[i].d] = c
		}
	}
	if req.Code.Key != "" {
		id, err := strconv.ParseUint(res.Reservation, 36, 64)
		sh, d := s.at(codeSlot), codeSlot.d
		if c, ok := sh.codes[d]; ok && err == nil && c.reservation == id {
			delete(sh.codes, d)
		}
	}
	return nil
}

// Verify implements store.Store. A source's wrong guesses at a code are
// counters like a limit's, keyed by the code's key, its reservation (so
// that a new code starts them afresh) and the source, expiring with the code.
func (s *Store) Verify(ctx context.Context, req store.VerifyRequest) (store.VerifyResult, error) {
	if err := ctx.Err(); err != nil {
		return store.VerifyResult{}, fmt.Errorf("memstore: verify: %w", err)
	}
	if err := store.ValidateVerify(req); err != nil {
		return store.VerifyResult{}, err
	}
	var lbuf [8]store.Limit
	limits := lbuf[:0]
	for _, l := range req.Limits {
		limits = append(limits, l.Limit)
	}
	var buf [8]slot
	keys, set := slotsOf(limits, buf[:0])
	cd := slotOf(req.Key)
	locked := s.lockSet(set | 1<<cd.i)
	defer s.unlock(locked)
	now := s.clock()
	if res := s.check(limits, keys, now); !res.Allowed {
		return store.VerifyResult{Outcome: store.VerifyRefused, Refused: res.Refused, RetryAfter: res.RetryAfter}, nil
	}
	var sbuf [store.MaxSources]digest
	v := s.verifyCode(req, cd, now, sbuf[:0])
	if v.out != store.VerifyOK && !s.fits(locked, len(limits)+len(v.srcs), now, func() (n int) {
		for i, l := range req.Limits {
			if (v.out == store.VerifyWrong || l.AnyFailure) && !has(s.at(keys[i]).counters, keys[i].d) {
				n++
			}
		}
		for _, sd := range v.srcs {
			if !has(s.at(cd).counters, sd) {
				n++
			}
		}
		return n
	}) {
		return store.VerifyResult{}, full("verify")
	}
	sh := s.at(cd)
	switch v.out {
	case store.VerifyOK:
		delete(sh.codes, cd.d)
	case store.VerifyWrong:
		for _, sd := range v.srcs {
			a, ok := sh.counters[sd]
			if !ok || a.expires <= now {
				a = counter{expires: v.expires}
			}
			a.count++
			sh.counters[sd] = a
		}
	}
	if v.out != store.VerifyOK {
		for i, l := range req.Limits {
			if v.out != store.VerifyWrong && !l.AnyFailure {
				continue
			}
			s.count(l.Limit, keys[i], now)
		}
	}
	return store.VerifyResult{Outcome: v.out, Refused: -1}, nil
}

// anonymous is the source of a VerifyRequest that names none.
var anonymous = []string{""}

// verdict is what verifyCode found: the outcome, and for a wrong guess the
// digests of the caller's attempt counts and the code's expiry, which
// Verify charges once it knows the store has room.
type verdict struct {
	out     store.VerifyOutcome
	srcs    []digest
	expires int64
}

// verifyCode compares req's hash with the code under req.Key (its slot k), the shards
// being locked: a dead code for the caller when one of its sources has spent
// the code's attempts, else a match (which Verify consumes) or a miss (which
// Verify counts against every source). It changes nothing but dropping an
// expired code.
func (s *Store) verifyCode(req store.VerifyRequest, k slot, now int64, srcs []digest) verdict {
	sh := s.at(k)
	c, ok := sh.codes[k.d]
	if ok && c.expires <= now {
		delete(sh.codes, k.d)
		ok = false
	}
	if !ok {
		return verdict{out: store.VerifyNotFound}
	}
	sources := req.Sources
	if len(sources) == 0 {
		sources = anonymous
	}
	for _, src := range sources {
		sd := sourceDigest(req.Key, c.reservation, src)
		srcs = append(srcs, sd)
		// Kept until the code expires, so that this caller keeps getting
		// this answer rather than NotFound.
		if a, ok := sh.counters[sd]; ok && a.expires > now && a.count >= int64(c.maxAttempts) {
			return verdict{out: store.VerifyTooManyAttempts}
		}
	}
	if c.hash.matches(hashOf(req.Hash)) {
		return verdict{out: store.VerifyOK}
	}
	return verdict{out: store.VerifyWrong, srcs: srcs, expires: c.expires}
}

// sourceDigest names the count of one source's wrong guesses at the code
// under key stored by reservation. It starts with key, so it has key's hash
// tag and shard.
func sourceDigest(key string, reservation uint64, src string) digest {
	var buf [256]byte
	b := append(buf[:0], key...)
	b = append(b, 0, 's')
	b = strconv.AppendUint(b, reservation, 36)
	b = append(b, 0)
	b = append(b, src...)
	return digestOfBytes(b)
}

// UseOnce implements store.Store.
func (s *Store) UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("memstore: use once: %w", err)
	}
	if key == "" || ttl < time.Millisecond {
		return false, fmt.Errorf("memstore: %w: UseOnce needs a key and a ttl of at least 1ms", store.ErrInvalid)
	}
	h, sh := s.lockKey(key)
	defer s.unlock(h)
	d, now := digestOf(key), s.clock()
	exp, ok := sh.used[d]
	if ok && exp > now {
		return false, nil
	}
	if !ok && !s.room(h, 1, now) {
		return false, full("use once")
	}
	sh.used[d] = now + int64(ttl)
	return true, nil
}

// Ping implements store.Store: memory is always reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: ping: %w", err)
	}
	return nil
}
