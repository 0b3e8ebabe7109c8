package ring

import (
	"context"
	"slices"

	"soitto/overlay"
)

// CheckRing looks for a successor closer than the one this node has, in
// another part of the ring: it looks successor(self) up through one
// contact drawn at random from the bootstrap nodes, the suspects, the
// fingers and the predecessor, and stabilizes with the nearest node the
// lookup names that lies between this node and its successor, if it
// answers.
//
// Stabilize only ever looks at the successor's predecessor, so once the
// ring has split into loops — each a consistent ring of its own, their
// nodes interleaved on the circle (Zave, "Reasoning about identifier
// spaces: How to make Chord correct", 2017) — stabilize alone never
// merges them again; message loss that makes live nodes look dead can
// split it so. A lookup through a contact in the other loop finds the
// node of that loop that follows this one; once one node adopts it,
// the predecessors that notify brings to the nodes around it zip the
// two loops together round after round. In a ring that is whole the
// lookup names nothing closer and nothing changes.
func (r *Ring) CheckRing(ctx context.Context) {
	r.mu.Lock()
	if r.left {
		r.mu.Unlock()
		return
	}
	succ := r.succs[0]
	var pool []overlay.Node
	add := func(n overlay.Node) {
		if !n.IsZero() && n != r.self && n != succ && !slices.Contains(pool, n) {
			pool = append(pool, n)
		}
	}
	for _, addr := range r.boot {
		add(overlay.NewNode(addr))
	}
	for _, n := range r.suspects {
		add(n)
	}
	for _, n := range r.fingers {
		add(n)
	}
	add(r.pred)
	if len(pool) == 0 {
		r.mu.Unlock()
		return
	}
	contact := pool[r.cfg.Rand.IntN(len(pool))]
	r.mu.Unlock()

	// Not as a member: this node is not in the other loop, and must not
	// refuse the answer of its node that precedes us there.
	res, err := r.iterate(ctx, r.self.ID, []overlay.Node{contact}, 1, false)
	if err != nil {
		r.log.Debug("check ring", "via", contact, "err", err)
		return
	}
	succ = r.Successors()[0]
	for _, n := range res.Successors {
		if n == r.self || !overlay.Between(n.ID, r.self.ID, succ.ID) {
			continue
		}
		// The list is in clockwise order from successor(self): n is the
		// nearest.
		r.log.Debug("check ring: closer successor", "via", contact, "succ", succ, "found", n)
		r.stabilizeWith(ctx, n)
		return
	}
}
