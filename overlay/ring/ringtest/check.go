package ringtest

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"soitto/overlay"
	"soitto/overlay/ring"
)

// Check compares every live node's predecessor and successor list with
// the oracle, and follows successors round the ring: each node's
// successor's predecessor is the node itself, and the walk visits every
// live node exactly once before it comes back.
func (c *Cluster) Check() error {
	rings := c.Rings()
	o := c.Oracle()
	var errs []error
	byAddr := map[string]*ring.Ring{}
	for _, r := range rings {
		byAddr[r.Self().Addr] = r
	}
	for i, r := range rings {
		if got, want := r.Successors(), o.SuccessorList(i); !slices.Equal(got, want) {
			errs = append(errs, fmt.Errorf("node %s: successors %v, want %v", r.Self(), got, want))
		}
		if got, want := r.Predecessor(), o.Predecessor(i); got != want {
			errs = append(errs, fmt.Errorf("node %s: predecessor %v, want %v", r.Self(), got, want))
		}
		succ := byAddr[r.Successors()[0].Addr]
		if succ != nil && len(rings) > 1 && succ.Predecessor() != r.Self() {
			errs = append(errs, fmt.Errorf("node %s: its successor %s has predecessor %v", r.Self(), succ.Self(), succ.Predecessor()))
		}
		if len(errs) > 5 {
			break
		}
	}
	if len(rings) > 0 {
		seen := map[string]bool{}
		cur := rings[0]
		for range len(rings) {
			if seen[cur.Self().Addr] {
				errs = append(errs, fmt.Errorf("walk from %s: %s visited twice", rings[0].Self(), cur.Self()))
				break
			}
			seen[cur.Self().Addr] = true
			next := byAddr[cur.Successors()[0].Addr]
			if next == nil {
				errs = append(errs, fmt.Errorf("walk from %s: %s's successor %s is not live", rings[0].Self(), cur.Self(), cur.Successors()[0]))
				break
			}
			cur = next
		}
		if len(seen) == len(rings) && cur != rings[0] {
			errs = append(errs, fmt.Errorf("walk from %s: after %d steps at %s, not back", rings[0].Self(), len(rings), cur.Self()))
		}
	}
	return errors.Join(errs...)
}

// CheckFingers compares every live node's fingers with the oracle.
func (c *Cluster) CheckFingers() error {
	o := c.Oracle()
	var errs []error
	for i, r := range c.Rings() {
		if got, want := r.Fingers(), o.Fingers(i); !slices.Equal(got, want) {
			errs = append(errs, fmt.Errorf("node %s: fingers %v, want %v", r.Self(), got, want))
			if len(errs) > 5 {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// CheckLookup looks key up from r and compares the result with the
// oracle: successor(key) and the min(r, N) nodes from it.
func CheckLookup(ctx context.Context, o Oracle, r *ring.Ring, key overlay.ID) (ring.Result, error) {
	res, err := r.Lookup(ctx, key)
	if err != nil {
		return res, fmt.Errorf("lookup of %s from %s: %w", key, r.Self(), err)
	}
	if want := o.Successors(key); !slices.Equal(res.Successors, want) {
		return res, fmt.Errorf("lookup of %s from %s: got %v, want %v", key, r.Self(), res.Successors, want)
	}
	return res, nil
}

// Each runs f on every live node with up to workers at once (at least
// one), and waits.
func (c *Cluster) Each(workers int, f func(r *ring.Ring)) {
	rings := c.Rings()
	work := make(chan *ring.Ring)
	done := make(chan struct{})
	workers = max(1, min(workers, len(rings)))
	for range workers {
		go func() {
			for r := range work {
				f(r)
			}
			done <- struct{}{}
		}()
	}
	for _, r := range rings {
		work <- r
	}
	close(work)
	for range workers {
		<-done
	}
}

// Round runs one Stabilize, CheckPredecessor and FixFingers on every
// live node, as their timers would.
func (c *Cluster) Round(ctx context.Context, workers int) {
	c.Each(workers, func(r *ring.Ring) {
		r.Stabilize(ctx)
		r.CheckPredecessor(ctx)
		r.FixFingers(ctx)
	})
}

// Converge runs rounds until Check passes, then refreshes every finger
// table; it returns the rounds it took, or Check's error after
// maxRounds.
func (c *Cluster) Converge(ctx context.Context, workers, maxRounds int) (int, error) {
	for i := 1; ; i++ {
		c.Each(workers, func(r *ring.Ring) {
			r.Stabilize(ctx)
			r.CheckPredecessor(ctx)
		})
		err := c.Check()
		if err == nil {
			c.Each(workers, func(r *ring.Ring) { r.RefreshFingers(ctx) })
			return i, nil
		}
		if i >= maxRounds || ctx.Err() != nil {
			return i, err
		}
	}
}

// Grow builds a ring of n nodes quickly and without Run: one Create, then
// joins one at a time through random live nodes. After each join the new
// node's predecessor runs the Stabilize its timer would run next (so the
// new node is spliced in before the following join), and the new node
// fills its finger table. Converge finishes the job.
func (c *Cluster) Grow(ctx context.Context, n int) error {
	if c.Len() == 0 && n > 0 {
		if _, err := c.Create(); err != nil {
			return err
		}
		n--
	}
	for range n {
		r, err := c.Join(ctx)
		if err != nil {
			return err
		}
		if p := c.predecessorOf(r.Self()); !p.IsZero() {
			c.ring(p.Addr).Stabilize(ctx)
		}
		r.RefreshFingers(ctx)
	}
	return nil
}

// ring is the live node at addr, or nil.
func (c *Cluster) ring(addr string) *ring.Ring {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.nodes[addr]; m != nil {
		return m.ring
	}
	return nil
}

// predecessorOf is the live node before n, or zero if n is alone.
func (c *Cluster) predecessorOf(n overlay.Node) overlay.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.sorted, n)
	if i < 0 || len(c.sorted) < 2 {
		return overlay.Node{}
	}
	return c.sorted[(i+len(c.sorted)-1)%len(c.sorted)]
}
