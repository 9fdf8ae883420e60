package memstore

import (
	"hash/maphash"
	"math/bits"
	"time"

	"github.com/smscode/smscode/server/store"
)

// shardIndex picks a key's shard from its Redis Cluster hash tag (the text
// inside the first "{...}", when not empty) or else the whole key, so that
// keys that go together in a call, which share a tag, share a shard.
func shardIndex(key string) int { return tagShard(store.HashTag(key)) }

// tagShard is the shard of the keys whose store.HashTag is tag. The hash is
// hash/maphash under a seed drawn when the process starts: a tag is some
// 70 bytes (an application's scope and a keyed id), which a byte-at-a-time
// hash (FNV-1a, before) took about 70 ns to hash where maphash takes a
// few, and a send hashes some twenty tags; the seed also keeps a caller
// from choosing ids that all land on one shard's lock.
func tagShard(tag string) int {
	return int(maphash.String(shardSeed, tag) % shardCount)
}

var shardSeed = maphash.MakeSeed()

func (s *Store) shard(key string) *shard { return &s.shards[shardIndex(key)] }

// shardSet is a set of shard indices, one bit each.
type shardSet uint32

// held is a set of locked shards and how many entries they held when
// locked, so that unlock can add what the call changed to the store's total.
type held struct {
	set    shardSet
	before int
}

// lockSet locks the shards in set, in ascending order, so that two calls
// whose keys span the same shards cannot deadlock. A send's keys span
// about five tags.
func (s *Store) lockSet(set shardSet) held {
	for m := set; m != 0; m &= m - 1 {
		s.shards[lowest(m)].mu.Lock()
	}
	return held{set: set, before: s.sizeOf(set)}
}

// lockKey locks key's shard.
func (s *Store) lockKey(key string) (held, *shard) {
	i := shardIndex(key)
	sh := &s.shards[i]
	sh.mu.Lock()
	return held{set: 1 << i, before: sh.size()}, sh
}

// sizeOf is how many entries the shards in set hold; they are locked.
func (s *Store) sizeOf(set shardSet) (n int) {
	for m := set; m != 0; m &= m - 1 {
		n += s.shards[lowest(m)].size()
	}
	return n
}

// in returns key's shard, knowing that it is in set: when set holds one
// shard (keys sharing a tag, the usual case), without hashing key again.
func (s *Store) in(set shardSet, key string) *shard {
	if set&(set-1) == 0 {
		return &s.shards[lowest(set)]
	}
	return s.shard(key)
}

// unlock adds what the call changed to the store's total and unlocks.
func (s *Store) unlock(h held) {
	if d := s.sizeOf(h.set) - h.before; d != 0 {
		s.total.Add(int64(d))
	}
	for m := h.set; m != 0; m &= m - 1 {
		s.shards[lowest(m)].mu.Unlock()
	}
}

func (s *Store) sweepEvery(d time.Duration) {
	defer close(s.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep evicts every expired entry, one shard at a time, so that memory is
// bounded by what is live even for keys that are never touched again.
func (s *Store) sweep() {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		before := sh.size()
		sh.evictExpired(s.clock())
		s.total.Add(int64(sh.size() - before))
		sh.mu.Unlock()
	}
}

// lowest is the index of the lowest shard in a non-empty set.
func lowest(set shardSet) int { return bits.TrailingZeros32(uint32(set)) }

// len reports how many entries the store holds, expired or not (tests).
func (s *Store) len() int { return s.Len() }
