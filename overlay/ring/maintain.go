package ring

import (
	"context"
	"slices"
	"sync"
	"time"

	"soitto/overlay"
)

// Run performs the periodic maintenance until ctx ends: Stabilize every
// Config.Stabilize, FixFingers every Config.FixFingers,
// CheckPredecessor every Config.CheckPredecessor and CheckRing every
// Config.CheckRing, each period drawn anew within ±Jitter. The four run
// on goroutines of their own, all ended before Run returns nil.
func (r *Ring) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { r.every(ctx, r.cfg.Stabilize, r.Stabilize) })
	wg.Go(func() { r.every(ctx, r.cfg.FixFingers, r.FixFingers) })
	wg.Go(func() { r.every(ctx, r.cfg.CheckPredecessor, r.CheckPredecessor) })
	wg.Go(func() { r.every(ctx, r.cfg.CheckRing, r.CheckRing) })
	wg.Wait()
	return nil
}

func (r *Ring) every(ctx context.Context, period time.Duration, f func(context.Context)) {
	for {
		t := time.NewTimer(r.jittered(period))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		f(ctx)
	}
}

// jittered returns period scaled by a random factor in [1−Jitter, 1+Jitter).
func (r *Ring) jittered(period time.Duration) time.Duration {
	r.mu.Lock()
	u := r.cfg.Rand.Float64()
	r.mu.Unlock()
	return time.Duration(float64(period) * (1 + r.cfg.Jitter*(2*u-1)))
}

// Stabilize runs one round of Chord's stabilize: ask the successor for
// its predecessor and successor list, adopt that predecessor if it lies
// between us and the successor (and answers; and so on back along the
// predecessors, up to 64 steps), take the successor list
// from whichever is now the successor, and notify it. A successor that
// does not answer is dropped and the next on the list tried; when the
// whole list has failed, the nearest live node among the fingers, the
// predecessor and the suspects becomes the successor, and stabilization
// walks from there back to the true one; failing those, a new lookup of
// this node's ID through the bootstrap nodes of Join finds one.
func (r *Ring) Stabilize(ctx context.Context) { r.stabilize(ctx) }

// stabilize is Stabilize; it reports whether some successor answered.
func (r *Ring) stabilize(ctx context.Context) bool {
	r.mu.Lock()
	succs, left := r.succs, r.left
	r.mu.Unlock()
	if left {
		return false
	}
	for _, s := range succs {
		if s == r.self {
			break
		}
		if r.stabilizeWith(ctx, s) {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	return r.recoverSuccessor(ctx)
}

// maxWalkBack bounds the predecessors one Stabilize follows back.
const maxWalkBack = 64

// stabilizeWith runs a stabilize round against successor s; false if s
// did not answer.
func (r *Ring) stabilizeWith(ctx context.Context, s overlay.Node) bool {
	pred, list, err := r.neighbours(ctx, s)
	if err != nil {
		r.log.Debug("successor does not answer", "succ", s, "err", err)
		return false
	}
	// Chord adopts the successor's predecessor and looks again next
	// round; following the chain back at once (it answers with its own
	// predecessor) costs no extra message in the usual case of one step,
	// and after a successor list was lost whole it finds the true
	// successor in one round instead of one node per round.
	for range maxWalkBack {
		if pred.IsZero() || pred == r.self || !overlay.Between(pred.ID, r.self.ID, s.ID) {
			break
		}
		ppred, plist, err := r.neighbours(ctx, pred)
		if err != nil {
			break
		}
		s, pred, list = pred, ppred, plist
	}
	r.update(func() {
		r.succs = r.successorListLocked(append([]overlay.Node{s}, list...))
	})
	if err := r.notify(ctx, s); err != nil {
		r.log.Debug("notify", "succ", s, "err", err)
	}
	return true
}

// recoverSuccessor finds a successor when every node on the list has
// failed (or there is none besides us): the node nearest clockwise that
// answers among the fingers, the predecessor and the suspects (see
// forget), and failing those successor(self) as a lookup through the
// bootstrap nodes finds it. With none, the list stays as it is (see
// below). It reports whether a successor answered.
//
// The suspects compete with the known nodes on distance alone: a live
// node that was forgotten for one lost message is often the true
// successor, and taking a farther node instead (at worst the
// predecessor, when its own predecessor is not known) closes a loop
// that skips it, which stabilize never reopens. All are pinged at once,
// so the dead among them cost one CallTimeout, not one each.
func (r *Ring) recoverSuccessor(ctx context.Context) bool {
	r.mu.Lock()
	var cands []overlay.Node
	for _, n := range append(append(r.fingers[:], r.pred), r.suspects...) {
		if !n.IsZero() && n != r.self && !slices.Contains(cands, n) {
			cands = append(cands, n)
		}
	}
	boot := slices.Clone(r.boot)
	self := r.self.ID
	r.mu.Unlock()
	slices.SortFunc(cands, func(a, b overlay.Node) int { return dist(self, a.ID).Cmp(dist(self, b.ID)) })
	alive := make([]bool, len(cands))
	var wg sync.WaitGroup
	for i, n := range cands {
		wg.Go(func() { alive[i] = r.ping(ctx, n) == nil })
	}
	wg.Wait()
	for i, n := range cands {
		if !alive[i] {
			continue
		}
		if r.stabilizeWith(ctx, n) {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	// Every node this one knows of is gone or cut off, as when the
	// successor list a join found had failed by the time it was used:
	// start again from the bootstrap nodes, as a join would.
	for _, addr := range boot {
		if r.rejoinVia(ctx, addr) {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	// Nothing answered. This node does not declare itself alone: a node
	// alone takes whoever notifies it (its predecessor) as successor,
	// which points the ring backwards, and nobody else would ever
	// stabilize onto it again, so a burst of lost messages would cut it
	// out of the ring for good. It keeps the last successor forget left
	// on the list and tries again next round.
	return false
}

// rejoinVia looks up successor(self) through the node at addr and
// stabilizes with the first node found that answers; false if none.
func (r *Ring) rejoinVia(ctx context.Context, addr string) bool {
	res, err := r.iterate(ctx, r.self.ID, []overlay.Node{overlay.NewNode(addr)}, r.cfg.LookupParallel, false)
	if err != nil {
		r.log.Debug("rejoin", "via", addr, "err", err)
		return false
	}
	for _, n := range res.Successors {
		if n == r.self {
			continue
		}
		if r.stabilizeWith(ctx, n) {
			r.log.Debug("rejoined", "via", addr, "succ", n)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	return false
}

// CheckPredecessor pings the predecessor and forgets it if it does not
// answer, so that a live node's notify can take its place.
func (r *Ring) CheckPredecessor(ctx context.Context) {
	pred := r.Predecessor()
	if pred.IsZero() {
		return
	}
	if err := r.ping(ctx, pred); err != nil && ctx.Err() == nil {
		r.update(func() {
			if r.pred == pred {
				r.pred = overlay.Node{}
			}
		})
	}
}

// FixFingers refreshes the next group of fingers with one lookup: finger
// i is successor(self + 2^i), and the node found is also finger j for
// every following j whose start it covers, so one call fixes a whole run
// of equal fingers. About log2(N) calls go round the table once.
func (r *Ring) FixFingers(ctx context.Context) { r.fixFingers(ctx) }

// RefreshFingers goes round the whole finger table once (about log2(N)
// lookups), as after a join or in a simulation.
func (r *Ring) RefreshFingers(ctx context.Context) {
	r.mu.Lock()
	r.nextFinger = 0
	r.mu.Unlock()
	for range fingerCount {
		if r.fixFingers(ctx) || ctx.Err() != nil {
			return
		}
	}
}

// fixFingers fixes one group and reports whether it went past the last
// finger.
func (r *Ring) fixFingers(ctx context.Context) (wrapped bool) {
	r.mu.Lock()
	i := r.nextFinger
	r.mu.Unlock()
	// Maintenance lookups ask one node at a time: they are frequent and
	// not urgent.
	res, err := r.lookup(ctx, r.starts[i], 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nextFinger != i { // RefreshFingers restarted the round meanwhile
		return false
	}
	if err != nil {
		r.nextFinger = (i + 1) % fingerCount
		return r.nextFinger == 0
	}
	s := res.Successors[0]
	j := i
	for j < fingerCount && (j == i || overlay.BetweenRightIncl(r.starts[j], r.self.ID, s.ID)) {
		r.fingers[j] = s
		j++
	}
	r.nextFinger = j % fingerCount
	return r.nextFinger == 0
}
