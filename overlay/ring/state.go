package ring

import (
	"slices"

	"soitto/overlay"
)

// update runs f with mu held and then, without it, calls OnChange if f
// changed the predecessor or the successor list.
func (r *Ring) update(f func()) {
	r.mu.Lock()
	pred, succs := r.pred, r.succs
	f()
	changed := pred != r.pred || !slices.Equal(succs, r.succs)
	pred, succ := r.pred, r.succs[0]
	r.mu.Unlock()
	if changed {
		r.log.Debug("neighbours changed", "pred", pred, "succ", succ)
		if r.cfg.OnChange != nil {
			r.cfg.OnChange()
		}
	}
}

// successorListLocked makes a successor list out of candidates in
// clockwise order: zero nodes are skipped, the list stops before a node
// it already holds (it went round) and after this node itself (the ring
// is smaller than r), and it holds at most r nodes. An empty result
// means this node is alone: [self].
func (r *Ring) successorListLocked(cands []overlay.Node) []overlay.Node {
	out := make([]overlay.Node, 0, r.cfg.Successors)
	for _, c := range cands {
		if c.IsZero() {
			continue
		}
		if slices.Contains(out, c) {
			break
		}
		out = append(out, c)
		if c == r.self || len(out) == r.cfg.Successors {
			break
		}
	}
	if len(out) == 0 {
		out = append(out, r.self)
	}
	return out
}

// maxSuspects bounds the nodes remembered by forget.
const maxSuspects = MaxSuccessors

// cleared drops n from the suspects: it answered.
func (r *Ring) cleared(n overlay.Node) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.suspects) > 0 {
		r.suspects = slices.DeleteFunc(r.suspects, func(m overlay.Node) bool { return m == n })
	}
}

// forget removes a node that failed to answer from every table: the
// fingers, the successor list (the next one takes its place, unless it
// was the last) and the predecessor. A node that does not answer may
// only have lost a message, so it is remembered as a suspect (the last
// maxSuspects of them): recoverSuccessor tries the suspects last, so a
// node whose every contact was forgotten during a burst of loss finds
// its way back into the ring once the loss stops, instead of being cut
// out for good.
func (r *Ring) forget(n overlay.Node) {
	if n == r.self {
		return
	}
	r.update(func() {
		r.suspects = slices.DeleteFunc(r.suspects, func(m overlay.Node) bool { return m == n })
		if len(r.suspects) == maxSuspects {
			r.suspects = slices.Delete(r.suspects, 0, 1)
		}
		r.suspects = append(r.suspects, n)
		for i := range r.fingers {
			if r.fingers[i] == n {
				r.fingers[i] = overlay.Node{}
			}
		}
		// The last successor stays even when dead: an empty list would
		// read as "alone", and a node alone takes whoever notifies it as
		// its successor — its predecessor, here, which would point the
		// ring backwards. Stabilize finds a live successor instead.
		if i := slices.Index(r.succs, n); i >= 0 && len(r.succs) > 1 {
			r.succs = r.successorListLocked(slices.Delete(slices.Clone(r.succs), i, i+1))
		}
		if r.pred == n {
			r.pred = overlay.Node{}
		}
	})
}

// localLocked answers a lookup for key from local state when it can:
// alone, key ∈ (predecessor, self] or key ∈ (self, successor].
func (r *Ring) localLocked(key overlay.ID) ([]overlay.Node, bool) {
	succ := r.succs[0]
	switch {
	case succ == r.self:
		return []overlay.Node{r.self}, true
	case !r.pred.IsZero() && overlay.BetweenRightIncl(key, r.pred.ID, r.self.ID):
		return r.ownLocked(), true
	case overlay.BetweenRightIncl(key, r.self.ID, succ.ID):
		return slices.Clone(r.succs), true
	}
	return nil, false
}

// closestPrecedingLocked returns up to n distinct known nodes (fingers,
// successors, predecessor) that lie strictly between this node and key,
// the ones closest to key first: Chord's closest_preceding_node, widened
// to a list.
func (r *Ring) closestPrecedingLocked(key overlay.ID, n int) []overlay.Node {
	type cand struct {
		node overlay.Node
		d    overlay.ID
	}
	cands := make([]cand, 0, 32)
	add := func(c overlay.Node) {
		if c.IsZero() || c == r.self || !overlay.Between(c.ID, r.self.ID, key) {
			return
		}
		for _, have := range cands {
			if have.node == c {
				return
			}
		}
		cands = append(cands, cand{c, dist(c.ID, key)})
	}
	for i, f := range r.fingers {
		if i == 0 || f != r.fingers[i-1] {
			add(f)
		}
	}
	for _, s := range r.succs {
		add(s)
	}
	add(r.pred)
	slices.SortFunc(cands, func(a, b cand) int { return a.d.Cmp(b.d) })
	out := make([]overlay.Node, 0, min(n, len(cands)))
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.node)
	}
	return out
}

// ownLocked is the answer to a lookup of a key this node holds: itself,
// then its successors.
func (r *Ring) ownLocked() []overlay.Node {
	out := []overlay.Node{r.self}
	for _, s := range r.succs {
		if s != r.self && len(out) < r.cfg.Successors {
			out = append(out, s)
		}
	}
	return out
}
