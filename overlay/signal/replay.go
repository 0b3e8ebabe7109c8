package signal

import (
	"container/heap"
	"crypto/x509"
	"math"
	"sync"
	"time"

	"soitto/overlay/wire"
)

// MaxRemembered is how many (from, nonce) pairs a Verifier keeps at most:
// about 10 MB. Past it the oldest are forgotten early (see Verifier).
const MaxRemembered = 100_000

// forgetAfter is how long after its timestamp a signal's nonce is kept.
// A signal older than MaxSkew fails the timestamp check anyway; the rest
// is slack for a receiver clock that steps back.
const forgetAfter = 2*MaxSkew + time.Minute

// A Verifier checks the signals delivered to one receiver and accepts
// each (from, nonce) pair once, so that a signal replayed by a relay or
// anyone else is refused.
//
// It remembers every accepted signal's pair until forgetAfter past its
// timestamp, and at most MaxRemembered of them; when it forgets a pair,
// early or on time, it refuses from then on every signal whose timestamp
// is not newer than the forgotten one's. So a replay can never pass: it is
// either remembered or too old. Only a flood of valid signals (more than
// MaxRemembered within forgetAfter, some 300 a second) makes a receiver
// forget early, and then it refuses others' signals that are older than
// the flood's; relays should rate-limit long before that.
//
// A Verifier is safe for concurrent use.
type Verifier struct {
	roots *x509.CertPool
	self  string
	now   func() time.Time
	limit int // MaxRemembered, but for tests

	mu    sync.Mutex       // guards seen, byAge, floor
	seen  map[string]int64 // pairKey(from, nonce) → timestamp_ms
	byAge ageHeap          // the pairs in seen, oldest timestamp first
	floor int64            // newest timestamp_ms forgotten; signals at or before it are refused
}

// NewVerifier returns a Verifier for the user self (a normalized
// username) that trusts the CA certificates in roots. If now is nil,
// time.Now is used.
func NewVerifier(roots *x509.CertPool, self string, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{
		roots: roots,
		self:  self,
		now:   now,
		limit: MaxRemembered,
		seen:  make(map[string]int64),
		floor: math.MinInt64,
	}
}

// Accept reports whether s may be acted on by this receiver: Check
// passes, s.To is the receiver (else ErrForbidden), and the pair (s.From,
// s.Nonce) has not been accepted before (else ErrReplayed). A nil error
// means s was accepted now and never will be again. Callers act on
// Clean(s), not s.
func (v *Verifier) Accept(s *wire.Signal) error {
	now := v.now()
	if err := checkShape(s); err != nil {
		return err
	}
	if err := checkTime(s, now); err != nil {
		return err
	}
	if s.To != v.self {
		return wire.Errorf(wire.ErrForbidden, "signal for %q delivered to %q", s.To, v.self)
	}
	key := pairKey(s)
	// Refuse a known replay before paying for the signature. A forged
	// signal that copies a seen nonce is refused either way.
	v.mu.Lock()
	err := v.refuseLocked(s, key)
	v.mu.Unlock()
	if err != nil {
		return err
	}
	if err := checkAuth(s, v.roots, now); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.forgetLocked(now.UnixMilli() - forgetAfter.Milliseconds())
	if err := v.refuseLocked(s, key); err != nil {
		return err // another goroutine accepted it meanwhile
	}
	v.seen[key] = s.TimestampMs
	heap.Push(&v.byAge, pair{ts: s.TimestampMs, key: key})
	for len(v.seen) > v.limit {
		v.popLocked()
	}
	return nil
}

// pairKey is the nonce, which has a fixed size, then the sender.
func pairKey(s *wire.Signal) string { return string(s.Nonce) + s.From }

func (v *Verifier) refuseLocked(s *wire.Signal, key string) error {
	if s.TimestampMs <= v.floor {
		return wire.Errorf(wire.ErrReplayed, "%q signal from %q is no newer than a forgotten one (%d ms ≤ %d ms)",
			s.Kind, s.From, s.TimestampMs, v.floor)
	}
	if _, ok := v.seen[key]; ok {
		return wire.Errorf(wire.ErrReplayed, "%q signal from %q with nonce %x seen before", s.Kind, s.From, s.Nonce)
	}
	return nil
}

// forgetLocked forgets the pairs of signals stamped before cutoff.
func (v *Verifier) forgetLocked(cutoff int64) {
	for len(v.byAge) > 0 && v.byAge[0].ts < cutoff {
		v.popLocked()
	}
}

// popLocked forgets the oldest pair and raises the floor to its time.
func (v *Verifier) popLocked() {
	p := heap.Pop(&v.byAge).(pair)
	delete(v.seen, p.key)
	v.floor = max(v.floor, p.ts)
}

// pair is a remembered (from, nonce) and its signal's timestamp.
type pair struct {
	ts  int64
	key string
}

// ageHeap is a min-heap of pairs by timestamp (container/heap).
type ageHeap []pair

func (h ageHeap) Len() int           { return len(h) }
func (h ageHeap) Less(i, j int) bool { return h[i].ts < h[j].ts }
func (h ageHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *ageHeap) Push(x any)        { *h = append(*h, x.(pair)) }
func (h *ageHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = pair{}
	*h = old[:len(old)-1]
	return p
}
