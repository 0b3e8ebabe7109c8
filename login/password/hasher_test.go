package password

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// testHasher returns a Hasher with testParams whose onWait reports each
// caller that starts waiting on the returned channel.
func testHasher(t *testing.T, concurrency, maxQueue int) (*Hasher, <-chan struct{}) {
	t.Helper()
	h := NewHasher(HasherConfig{Params: testParams, Concurrency: concurrency, MaxQueue: maxQueue})
	queued := make(chan struct{}, 16)
	h.onWait = func() { queued <- struct{}{} }
	return h, queued
}

// testContext ends with the test, or after a minute so a deadlock fails
// rather than hangs.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

type result struct {
	phc string
	err error
}

func TestHasherBusy(t *testing.T) {
	ctx := testContext(t)
	h, queued := testHasher(t, 1, 1)
	started, unblock := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h.key = func(pw, salt []byte, p Params) []byte {
		if calls.Add(1) == 1 { // the slow first call
			close(started)
			<-unblock
		}
		return argon2Key(pw, salt, p)
	}

	first, second := make(chan result), make(chan result)
	go func() { phc, err := h.Hash(ctx, "first password"); first <- result{phc, err} }()
	<-started
	go func() { phc, err := h.Hash(ctx, "second password"); second <- result{phc, err} }()
	<-queued
	if got, want := h.Running(), 1; got != want {
		t.Errorf("Running: got %v, want %v", got, want)
	}
	if got, want := h.QueueDepth(), 1; got != want {
		t.Errorf("QueueDepth: got %v, want %v", got, want)
	}

	if _, err := h.Hash(ctx, "third password"); !errors.Is(err, ErrBusy) {
		t.Errorf("third Hash: got %v, want %v", err, ErrBusy)
	}
	if _, err := h.Verify(ctx, h.dummyPHC(), "third password"); !errors.Is(err, ErrBusy) {
		t.Errorf("third Verify: got %v, want %v", err, ErrBusy)
	}
	if err := h.VerifyUnknown(ctx, "third password"); !errors.Is(err, ErrBusy) {
		t.Errorf("third VerifyUnknown: got %v, want %v", err, ErrBusy)
	}

	close(unblock)
	r1, r2 := <-first, <-second
	if r1.err != nil || r2.err != nil {
		t.Fatalf("first and second: got %v, %v, want nil, nil", r1.err, r2.err)
	}
	if ok, err := h.Verify(ctx, r1.phc, "first password"); !ok || err != nil {
		t.Errorf("Verify first: got %v, %v, want true, nil", ok, err)
	}
	if ok, err := h.Verify(ctx, r2.phc, "second password"); !ok || err != nil {
		t.Errorf("Verify second: got %v, %v, want true, nil", ok, err)
	}
	if h.Running() != 0 || h.QueueDepth() != 0 {
		t.Errorf("after: got Running %d, QueueDepth %d, want 0, 0", h.Running(), h.QueueDepth())
	}
}

func TestHasherCancelWhileQueued(t *testing.T) {
	h, queued := testHasher(t, 1, 1)
	h.slots <- struct{}{} // hold the only slot
	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan error)
	go func() { _, err := h.Verify(ctx, h.dummyPHC(), "password"); done <- err }()
	<-queued
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want %v", err, context.Canceled)
	}
	if got := h.QueueDepth(); got != 0 {
		t.Errorf("QueueDepth: got %v, want 0", got)
	}
	<-h.slots
}

func TestHasherContextDone(t *testing.T) {
	h, _ := testHasher(t, 1, 1)
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	if _, err := h.Hash(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want %v", err, context.Canceled)
	}
}

func TestHasherNoQueue(t *testing.T) {
	h, _ := testHasher(t, 1, -1)
	h.slots <- struct{}{}
	if _, err := h.Hash(testContext(t), "password"); !errors.Is(err, ErrBusy) {
		t.Errorf("got %v, want %v", err, ErrBusy)
	}
	<-h.slots
}

func TestHasherMalformedDoesNotWait(t *testing.T) {
	h, _ := testHasher(t, 1, -1)
	h.slots <- struct{}{}
	if _, err := h.Verify(testContext(t), "garbage", "password"); !errors.Is(err, ErrMalformedHash) {
		t.Errorf("got %v, want %v", err, ErrMalformedHash)
	}
	<-h.slots
}

// VerifyUnknown runs the key function once with the Hasher's Params, as
// Verify of a hash made by the same Hasher does: the same work. The time
// it takes is compared in BenchmarkVerifyUnknown and BenchmarkVerifyKnown.
func TestHasherVerifyUnknownSameWork(t *testing.T) {
	ctx := testContext(t)
	h, _ := testHasher(t, 1, 1)
	phc, err := h.Hash(ctx, "password")
	if err != nil {
		t.Fatal(err)
	}
	var got []Params
	h.key = func(pw, salt []byte, p Params) []byte {
		got = append(got, p)
		return argon2Key(pw, salt, p)
	}
	if ok, err := h.Verify(ctx, phc, "password"); !ok || err != nil {
		t.Fatalf("Verify: got %v, %v, want true, nil", ok, err)
	}
	if err := h.VerifyUnknown(ctx, "password"); err != nil {
		t.Fatalf("VerifyUnknown: got %v, want nil", err)
	}
	if len(got) != 2 || got[0] != testParams || got[1] != testParams {
		t.Errorf("key function calls: got %+v, want twice %+v", got, testParams)
	}
}

func TestNewHasherDefaults(t *testing.T) {
	h := NewHasher(HasherConfig{Params: testParams})
	if h.maxQueue != DefaultMaxQueue || cap(h.slots) < 1 {
		t.Errorf("got MaxQueue %d, Concurrency %d, want %d, NumCPU", h.maxQueue, cap(h.slots), DefaultMaxQueue)
	}
	if h.dummy.p != testParams {
		t.Errorf("dummy params: got %+v, want %+v", h.dummy.p, testParams)
	}
}

func TestNewHasherPanics(t *testing.T) {
	for name, cfg := range map[string]HasherConfig{
		"bad params":           {Params: Params{Memory: 1024}},
		"negative concurrency": {Params: testParams, Concurrency: -1},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("got no panic, want one")
				}
			}()
			NewHasher(cfg)
		})
	}
}

// dummyPHC returns the dummy hash as a PHC string.
func (h *Hasher) dummyPHC() string { return encode(h.dummy.p, h.dummy.salt, h.dummy.key) }
