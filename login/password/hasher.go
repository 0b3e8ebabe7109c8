package password

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
)

// DefaultMaxQueue is the number of callers a Hasher lets wait for a slot
// when HasherConfig.MaxQueue is zero.
const DefaultMaxQueue = 1024

// HasherConfig configures a Hasher.
type HasherConfig struct {
	// Params are used by Hash and for the dummy hash of VerifyUnknown.
	// If zero, DefaultParams. They must be within the bounds Verify
	// accepts.
	Params Params
	// Concurrency is how many hashes run at once; each one takes
	// Params.Memory KiB (or the stored hash's memory, for Verify) and a
	// CPU per lane. If zero, runtime.NumCPU().
	Concurrency int
	// MaxQueue is how many callers may wait for a slot; the next one gets
	// ErrBusy at once. If zero, DefaultMaxQueue; if negative, none wait.
	MaxQueue int
}

func (c HasherConfig) withDefaults() HasherConfig {
	if c.Params == (Params{}) {
		c.Params = DefaultParams
	}
	if c.Concurrency == 0 {
		c.Concurrency = runtime.NumCPU()
	}
	switch {
	case c.MaxQueue == 0:
		c.MaxQueue = DefaultMaxQueue
	case c.MaxQueue < 0:
		c.MaxQueue = 0
	}
	return c
}

func (c HasherConfig) validate() error {
	if err := c.Params.validate(); err != nil {
		return fmt.Errorf("params: %v", err)
	}
	if c.Concurrency < 0 {
		return errors.New("negative concurrency")
	}
	return nil
}

// Hasher runs Hash and Verify with bounded concurrency: at most Concurrency
// hashes at once, and at most MaxQueue callers waiting, served in order of
// arrival; beyond that it returns ErrBusy at once, so the server can answer
// 503 with Retry-After instead of running out of memory. It is safe for
// concurrent use and starts no goroutines.
type Hasher struct {
	params   Params
	maxQueue int64
	dummy    stored // a hash of a random password, for VerifyUnknown

	slots   chan struct{} // holds a value per running hash; cap is Concurrency
	waiting atomic.Int64  // callers blocked on slots

	key    keyFunc // argon2Key; tests replace it before use
	onWait func()  // if not nil, called as a caller starts waiting (tests)
}

// NewHasher returns a Hasher for cfg. It computes a dummy hash with
// cfg.Params, which takes one hash's time. It panics if cfg.Params are out
// of the bounds Verify accepts or cfg.Concurrency is negative: that is a
// programming error, not a runtime condition.
func NewHasher(cfg HasherConfig) *Hasher {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		panic("password: NewHasher: " + err.Error())
	}
	h := &Hasher{
		params:   cfg.Params,
		maxQueue: int64(cfg.MaxQueue),
		slots:    make(chan struct{}, cfg.Concurrency),
		key:      argon2Key,
	}
	dummy, err := decode(hash(rand.Text(), h.params, argon2Key))
	if err != nil {
		panic("password: NewHasher: dummy hash: " + err.Error())
	}
	h.dummy = dummy
	return h
}

// Hash is Hash(pw, Params) run in a slot. It returns ErrBusy if too many
// callers wait, and ctx.Err() if ctx ends while waiting.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if len(pw) > MaxBytes {
		return "", tooLong(pw)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return hash(pw, h.params, h.key), nil
}

// Verify is Verify(phc, pw) run in a slot; a malformed phc is refused
// without waiting. It returns ErrBusy if too many callers wait, and
// ctx.Err() if ctx ends while waiting.
func (h *Hasher) Verify(ctx context.Context, phc, pw string) (bool, error) {
	s, err := prepare(phc, pw)
	if err != nil {
		return false, err
	}
	return h.verify(ctx, s, pw)
}

// VerifyUnknown does the same work as Verify against a dummy hash made
// once in NewHasher with the Hasher's Params, and always reports false: a
// login for an unknown user costs the same time as for a known one, so the
// answer's timing does not tell which usernames exist. Call it where
// Verify would have been called, and answer as for a wrong password unless
// it returns an error (ErrTooLong, ErrBusy, ctx.Err()).
func (h *Hasher) VerifyUnknown(ctx context.Context, pw string) error {
	if len(pw) > MaxBytes {
		return tooLong(pw)
	}
	_, err := h.verify(ctx, h.dummy, pw)
	return err
}

func (h *Hasher) verify(ctx context.Context, s stored, pw string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	return s.matches(pw, h.key), nil
}

// QueueDepth reports how many callers are waiting for a slot, for a gauge.
// A caller that was just handed a slot may be counted for a moment more.
func (h *Hasher) QueueDepth() int { return int(h.waiting.Load()) }

// Running reports how many hashes are running now, for a gauge.
func (h *Hasher) Running() int { return len(h.slots) }

// acquire takes a slot, waiting if there are fewer than maxQueue waiters.
// Blocked senders on a channel are served first in, first out, and a
// freed slot goes straight to the first of them, so no caller jumps the
// queue.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if n := h.waiting.Add(1); n > h.maxQueue {
		h.waiting.Add(-1)
		return fmt.Errorf("%w: %d hashes running, %d callers waiting", ErrBusy, cap(h.slots), n-1)
	}
	defer h.waiting.Add(-1)
	if h.onWait != nil {
		h.onWait()
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }
