package ring

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"soitto/overlay"
	"soitto/overlay/memnet"
	"soitto/overlay/wire"
)

// TestCheckRingMergesLoops builds the state Stabilize cannot repair: two
// rings whose nodes interleave on the circle, each consistent on its own.
// Stabilize, CheckPredecessor and FixFingers leave it split; once one
// node has a contact in the other loop, CheckRing merges the two.
func TestCheckRingMergesLoops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		net := memnet.New(memnet.Options{Latency: time.Millisecond, Rand: rand.New(rand.NewPCG(1, 2))})
		var all []*Ring
		for i := range 16 {
			addr := fmt.Sprintf("198.18.9.%d:7000", i)
			var r *Ring
			tr := net.Listen(addr, overlay.HandlerFunc(func(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
				return r.Handle(ctx, from, req)
			}))
			var err error
			r, err = New(Config{Self: overlay.NewNode(addr), Transport: tr, Successors: 3, Logger: slog.New(slog.DiscardHandler), Rand: rand.New(rand.NewPCG(uint64(i), 3))})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
		slices.SortFunc(all, func(a, b *Ring) int { return a.self.ID.Cmp(b.self.ID) })
		var loops [2][]*Ring
		for i, r := range all {
			loops[i%2] = append(loops[i%2], r)
		}
		for _, loop := range loops {
			loop[0].Create()
			for _, r := range loop[1:] {
				if err := r.Join(ctx, []string{loop[0].self.Addr}); err != nil {
					t.Fatal(err)
				}
			}
		}
		round := func(checkRing bool) {
			for _, r := range all {
				r.Stabilize(ctx)
				r.CheckPredecessor(ctx)
				r.FixFingers(ctx)
				if checkRing {
					r.CheckRing(ctx)
				}
			}
		}
		for range 20 {
			round(false)
		}
		for _, loop := range loops {
			if err := checkLoop(loop); err != nil {
				t.Fatalf("before: %v", err)
			}
		}

		// A contact across: the other loop's first node, as if it had
		// been the bootstrap node.
		loops[0][0].mu.Lock()
		loops[0][0].boot = []string{loops[1][0].self.Addr}
		loops[0][0].mu.Unlock()
		for range 20 {
			round(false)
		}
		if checkLoop(all) == nil {
			t.Fatal("the loops merged without CheckRing")
		}
		var err error
		for i := range 60 {
			round(true)
			if err = checkLoop(all); err == nil {
				t.Logf("merged after %d rounds", i+1)
				break
			}
		}
		if err != nil {
			t.Fatalf("after: %v", err)
		}
	})
}

// checkLoop checks that rs (in ID order) form one ring: each node's
// successor is the next and its predecessor the previous.
func checkLoop(rs []*Ring) error {
	for i, r := range rs {
		next, prev := rs[(i+1)%len(rs)], rs[(i+len(rs)-1)%len(rs)]
		if got := r.Successors()[0]; got != next.self {
			return fmt.Errorf("%s: successor %s, want %s", r.self, got, next.self)
		}
		if got := r.Predecessor(); got != prev.self {
			return fmt.Errorf("%s: predecessor %s, want %s", r.self, got, prev.self)
		}
	}
	return nil
}
