package ring_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
)

// TestRingInvariants is a property test of the maintenance protocol: a
// random sequence of joins, graceful leaves and crashes, on a ring that
// grows to 20–50 nodes with every node running its periodic
// maintenance, must leave a correct ring once maintenance has had a
// (virtual) 40 s to repair it. Seeds 5 to 8 also lose 5% of the
// requests while the ring churns. The fake clock of testing/synctest
// makes the waiting and the network's latency free.
func TestRingInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		r := []int{8, 3}[seed%2] // a short successor list is the harder case
		drop := []float64{0, 0.05}[seed/5]
		t.Run(fmt.Sprintf("seed=%d/r=%d/drop=%v", seed, r, drop), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { churnThenCheck(t, seed, r, drop) })
		})
	}
}

// churnThenCheck runs the random operations with r successors while
// the network loses a fraction drop of the requests (so live nodes are
// sometimes taken for dead), then lets maintenance repair the ring on a
// lossless network and checks it.
func churnThenCheck(t *testing.T, seed uint64, r int, drop float64) {
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(seed, 1))
	net := memnet.New(memnet.Options{
		Latency: 5 * time.Millisecond,
		Jitter:  5 * time.Millisecond,
		Timeout: 500 * time.Millisecond, // a dead node costs a timeout, not an instant refusal
		Drop:    drop,
		Rand:    rand.New(rand.NewPCG(seed, 2)),
	})
	c := ringtest.New(net, ring.Config{Logger: quiet, CallTimeout: time.Second, Successors: r}, seed)
	defer c.Stop()

	first, err := c.Create()
	if err != nil {
		t.Fatal(err)
	}
	c.Start(first)
	target := 20 + rnd.IntN(31)
	var joins, leaves, crashes int
	for op := 0; op < 4*target; op++ {
		// Grow towards the target, then churn around it.
		pJoin, pLeave := 0.5, 0.75
		if c.Len() < target {
			pJoin, pLeave = 0.7, 0.85
		}
		switch p := rnd.Float64(); {
		case c.Len() < 4 || p < pJoin:
			r, err := c.Join(ctx)
			if err != nil {
				t.Logf("join %d failed (the ring is churning): %v", op, err)
				continue
			}
			c.Start(r)
			joins++
		case p < pLeave:
			if err := c.Leave(ctx, c.Random().Self().Addr); err != nil {
				t.Logf("leave: %v", err)
			}
			leaves++
		default:
			c.Crash(c.Random().Self().Addr)
			crashes++
		}
		time.Sleep(time.Duration(rnd.Int64N(int64(time.Second))))
	}
	net.SetDrop(0)
	time.Sleep(40 * time.Second)
	t.Logf("%d joins, %d leaves, %d crashes; %d nodes live", joins, leaves, crashes, c.Len())

	if err := c.Check(); err != nil {
		t.Fatalf("ring: %v", err)
	}
	if err := c.CheckFingers(); err != nil {
		t.Errorf("fingers: %v", err)
	}
	o := c.Oracle()
	for _, r := range c.Rings() {
		for range 10 {
			if _, err := ringtest.CheckLookup(ctx, o, r, c.Key()); err != nil {
				t.Error(err)
			}
		}
	}
}
