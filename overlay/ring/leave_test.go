package ring_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"soitto/overlay"
	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
)

// TestLeaveSplicesAtOnce checks that a graceful leave repairs the
// neighbours' pointers without waiting for any maintenance round.
func TestLeaveSplicesAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := grown(t, ctx, 12, 3, ring.Config{})
	o := c.Oracle()
	rings := c.Rings()
	const leaver = 5
	pred, succ := rings[leaver-1], rings[leaver+1]
	if err := c.Leave(ctx, rings[leaver].Self().Addr); err != nil {
		t.Fatal(err)
	}
	if got, want := pred.Successors()[0], o.Nodes[leaver+1]; got != want {
		t.Errorf("predecessor's successor %v, want %v", got, want)
	}
	if got, want := succ.Predecessor(), o.Nodes[leaver-1]; got != want {
		t.Errorf("successor's predecessor %v, want %v", got, want)
	}
	if slices.Contains(pred.Successors(), o.Nodes[leaver]) {
		t.Errorf("predecessor still lists the leaver: %v", pred.Successors())
	}
	if err := c.Check(); err == nil {
		t.Log("the whole ring is already correct")
	}
	if _, err := c.Converge(ctx, 4, 20); err != nil {
		t.Fatal(err)
	}
	if _, err := rings[leaver].Lookup(ctx, c.Key()); err == nil {
		t.Error("lookup after Leave succeeded")
	}
}

// TestSmallRings runs Run on rings of one to four nodes under a fake
// clock: the first node alone holds every key, each join is noticed, and
// OnChange fires when neighbours change.
func TestSmallRings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var changes atomic.Int64
		c := ringtest.New(memnet.New(memnet.Options{Latency: time.Millisecond}),
			ring.Config{Logger: quiet, OnChange: func() { changes.Add(1) }}, 1)
		defer c.Stop()
		first, err := c.Create()
		if err != nil {
			t.Fatal(err)
		}
		c.Start(first)
		key := overlay.KeyOf("alice")
		if !first.Responsible(key) {
			t.Error("a node alone is not responsible for every key")
		}
		if got := first.Closest(key, 4); !slices.Equal(got, []overlay.Node{first.Self()}) {
			t.Errorf("Closest alone: got %v, want only itself", got)
		}
		for n := 2; n <= 4; n++ {
			before := changes.Load()
			r, err := c.Join(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c.Start(r)
			time.Sleep(10 * time.Second)
			if err := c.Check(); err != nil {
				t.Fatalf("%d nodes: %v", n, err)
			}
			if changes.Load() == before {
				t.Errorf("%d nodes: OnChange not called", n)
			}
			o := c.Oracle()
			holders := 0
			for _, r := range c.Rings() {
				if r.Responsible(key) {
					holders++
				}
				if _, err := ringtest.CheckLookup(ctx, o, r, key); err != nil {
					t.Error(err)
				}
				if got, want := r.Closest(key, 2)[0], o.Successors(key)[0]; r.Responsible(key) && got != want {
					t.Errorf("Closest from the holder: got %v first, want %v", got, want)
				}
			}
			if holders != 1 {
				t.Errorf("%d nodes: %d think they hold the key, want 1", n, holders)
			}
		}
		// Down to one again, by leaving and by crashing.
		rings := c.Rings()
		if err := c.Leave(ctx, rings[0].Self().Addr); err != nil {
			t.Fatal(err)
		}
		c.Crash(rings[1].Self().Addr)
		c.Crash(rings[2].Self().Addr)
		time.Sleep(30 * time.Second)
		if err := c.Check(); err != nil {
			t.Fatalf("back to one: %v", err)
		}
	})
}
