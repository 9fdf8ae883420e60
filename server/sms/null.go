package sms

import (
	"context"
	"strconv"
	"sync/atomic"
)

// Null accepts every message and drops it: a provider for benchmarks and
// load tests, where neither a gateway nor log output may be the bottleneck.
type Null struct {
	count atomic.Int64
}

var _ Provider = (*Null)(nil)

// NewNull returns a Null provider.
func NewNull() *Null { return &Null{} }

// Name returns "null".
func (n *Null) Name() string { return "null" }

// Send counts msg and drops it. Its receipt id is the message's sequence
// number, which costs nothing to make.
func (n *Null) Send(ctx context.Context, _ Message) (Receipt, error) {
	if err := ctx.Err(); err != nil {
		return Receipt{}, err
	}
	seq := n.count.Add(1)
	return Receipt{Provider: n.Name(), MessageID: "null-" + strconv.FormatInt(seq, 10)}, nil
}

// InProcess reports true: Null answers at once, without I/O, so the
// failover gives its attempts no timeout of their own.
func (n *Null) InProcess() bool { return true }

// Count is how many messages Send has accepted.
func (n *Null) Count() int64 { return n.count.Load() }
