package ring

import (
	"context"
	"fmt"
	"sync"

	"soitto/overlay"
)

// Result is what a lookup found.
type Result struct {
	// Successors is successor(key) first, then the nodes after it (the
	// successor list of key's predecessor): the node that holds key and
	// the ones that hold its replicas.
	Successors []overlay.Node
	// Hops is the number of sequential steps (rounds of up to α parallel
	// requests); 0 when local state answered.
	Hops int
	// Messages is the number of requests sent.
	Messages int
	// Failed is the number of nodes that did not answer.
	Failed int
	// Rejected is the number of answers refused for not moving closer to
	// the key, or for naming a node whose ID is not SHA-1 of its address.
	Rejected int
}

// maxSteps bounds the rounds of one lookup: twice the bits of an ID, far
// above the O(log N) a consistent ring needs.
const maxSteps = 2 * fingerCount

// maxExpand bounds how often one lookup falls back on a successor list.
// One is enough when the key's predecessor alone failed or lied; more
// rarely help, and a lookup into a stretch of the ring whose every node
// failed (more than r in a row) would otherwise walk back node by node
// until maxSteps, although only repair can answer it.
const maxExpand = 4

// Lookup finds successor(key) iteratively: this node asks the nodes it
// knows that most closely precede key, α at a time, for a FindStep,
// follows the closer nodes they name, and stops when one says key lies
// between it and its successor. See doc.go for the rules. If ctx has no
// deadline the lookup gets one of 10 × CallTimeout.
func (r *Ring) Lookup(ctx context.Context, key overlay.ID) (Result, error) {
	return r.lookup(ctx, key, r.cfg.LookupParallel)
}

func (r *Ring) lookup(ctx context.Context, key overlay.ID, alpha int) (Result, error) {
	r.mu.Lock()
	if r.left {
		r.mu.Unlock()
		return Result{}, ErrLeft
	}
	if succs, ok := r.localLocked(key); ok {
		r.mu.Unlock()
		return Result{Successors: succs}, nil
	}
	start := r.closestPrecedingLocked(key, MaxSuccessors)
	r.mu.Unlock()
	return r.iterate(ctx, key, start, alpha, true)
}

type stepReply struct {
	done  bool
	nodes []overlay.Node
	err   error
}

// iterate runs a lookup of key starting from the candidates in start.
// member says whether this node is in the ring (not joining).
func (r *Ring) iterate(ctx context.Context, key overlay.ID, start []overlay.Node, alpha int, member bool) (Result, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*r.cfg.CallTimeout)
		defer cancel()
	}
	pred := r.Predecessor()
	s := &search{key: key, self: r.self, member: member, pred: pred, orphan: pred.IsZero()}
	for _, n := range start {
		s.add(n)
	}
	count := min(max(2*alpha, 4), MaxSuccessors)
	for s.res.Hops < maxSteps {
		if err := ctx.Err(); err != nil {
			return s.res, fmt.Errorf("%w: %w", ErrLookupFailed, err)
		}
		// Only nodes closer to key than the closest node that has
		// answered (or than this node) can help; when none is left, that
		// node's successor list is the way on. The closest answered
		// node may be this node itself.
		q := s.next(asked, 1)
		dSelf := dist(r.self.ID, key)
		selfNext := s.member && !s.selfExpanded && (len(q) == 0 || dSelf.Cmp(q[0].d) < 0)
		var limit *overlay.ID
		switch {
		case selfNext:
			limit = &dSelf
		case len(q) > 0:
			limit = &q[0].d
		}
		batch := s.fresh(alpha, limit)
		if len(batch) == 0 {
			// The key's predecessor failed or lied.
			var succs []overlay.Node
			var found bool
			switch {
			case selfNext:
				s.selfExpanded = true
				succs, found = r.expandSelf(ctx, s)
			case len(q) > 0 && s.expands < maxExpand:
				s.expands++
				succs, found = r.expand(ctx, s, q[0])
			default:
				return s.res, fmt.Errorf("%w: key %s: no node left to ask (last error: %v)", ErrLookupFailed, key, s.last)
			}
			if found {
				s.res.Successors = succs
				return s.res, nil
			}
			continue
		}
		s.res.Hops++
		s.res.Messages += len(batch)
		replies := make([]stepReply, len(batch))
		if len(batch) == 1 {
			replies[0].done, replies[0].nodes, replies[0].err = r.findStep(ctx, batch[0].node, key, count)
		} else {
			var wg sync.WaitGroup
			for i, c := range batch {
				wg.Go(func() {
					replies[i].done, replies[i].nodes, replies[i].err = r.findStep(ctx, c.node, key, count)
				})
			}
			wg.Wait()
		}
		// Answers that name closer nodes first, so that the nodes that
		// answered can contradict a done answer of the same round.
		for i, c := range batch {
			if !replies[i].done {
				s.take(c, replies[i])
			}
		}
		var best []overlay.Node
		for i, c := range batch {
			if !replies[i].done {
				continue
			}
			if succs := s.take(c, replies[i]); succs != nil {
				// Of several done answers the one whose successor is
				// nearest after key wins: an honest predecessor's is
				// the true successor, and a liar can only name one
				// further on.
				if best == nil || dist(key, succs[0].ID).Cmp(dist(key, best[0].ID)) < 0 {
					best = succs
				}
			}
		}
		if best != nil {
			s.res.Successors = best
			return s.res, nil
		}
		if s.mine {
			r.mu.Lock()
			s.res.Successors = r.ownLocked()
			r.mu.Unlock()
			return s.res, nil
		}
	}
	return s.res, fmt.Errorf("%w: key %s: over %d steps", ErrLookupFailed, key, maxSteps)
}
