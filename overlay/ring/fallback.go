package ring

import (
	"context"
	"errors"
	"slices"

	"soitto/overlay"
)

// expand asks q, a node that answered, for its successor list. If the
// list passes key, the first node after key that has not failed in this
// search is key's successor; otherwise the nodes on the list (all
// closer to key than q) become candidates.
func (r *Ring) expand(ctx context.Context, s *search, q *candidate) ([]overlay.Node, bool) {
	q.state = expanded
	s.res.Hops++
	s.res.Messages++
	_, succs, err := r.neighbours(ctx, q.node)
	if err != nil {
		s.last = err
		if errors.Is(err, errBadAnswer) {
			s.res.Rejected++
		} else {
			s.res.Failed++
		}
		return nil, false
	}
	return r.walk(ctx, s, q.node, succs)
}

// expandSelf is expand with our own successor list.
func (r *Ring) expandSelf(ctx context.Context, s *search) ([]overlay.Node, bool) {
	return r.walk(ctx, s, r.self, r.Successors())
}

// walk follows q's successor list succs: if it passes key, the first
// live node after key is the successor; the nodes before become
// candidates.
func (r *Ring) walk(ctx context.Context, s *search, q overlay.Node, succs []overlay.Node) ([]overlay.Node, bool) {
	prev := q.ID
	for i, n := range succs {
		if overlay.BetweenRightIncl(s.key, prev, n.ID) {
			return r.confirm(ctx, s, succs[i:])
		}
		prev = n.ID
		s.add(n)
	}
	return nil, false
}

// confirm returns the successor list of the first node in cands that
// answers (and has not failed in this search), headed by that node:
// key's successor, checked to be alive, and the nodes after it.
func (r *Ring) confirm(ctx context.Context, s *search, cands []overlay.Node) ([]overlay.Node, bool) {
	for _, n := range cands {
		if st := s.state(n); st == failed || st == refused {
			continue
		}
		if s.res.Hops >= maxSteps {
			break
		}
		s.res.Hops++
		s.res.Messages++
		_, list, err := r.neighbours(ctx, n)
		if err != nil {
			s.last = err
			s.res.Failed++
			continue
		}
		out := []overlay.Node{n}
		for _, m := range list {
			if slices.Contains(out, m) || len(out) == r.cfg.Successors {
				break
			}
			out = append(out, m)
		}
		return out, true
	}
	return nil, false
}
