package ring

import (
	"errors"
	"fmt"
	"slices"

	"soitto/overlay"
)

// candidate states in a lookup.
const (
	fresh    = iota // not asked yet
	asked           // asked, answered with closer nodes
	expanded        // asked, and its successor list taken as well
	failed          // did not answer
	refused         // gave an answer that was refused
)

type candidate struct {
	node  overlay.Node
	d     overlay.ID // clockwise distance to the key
	state int
}

// search is the state of one iterative lookup.
type search struct {
	key   overlay.ID
	self  overlay.Node
	cands []*candidate // by d, closest to key first
	res   Result
	last  error // the last failure, for the error message
	// member is set when self is in the ring, so that self, lying
	// between a node and the successor it claims, refutes the claim.
	member bool
	// orphan is set when self has no predecessor: then a node that
	// claims a successor beyond self and is done for a key in (node,
	// self] is our predecessor-to-be, which has not learned of us yet,
	// and key is ours (mine is set).
	orphan, mine bool
	// pred is our predecessor when the search began.
	pred overlay.Node
	// selfExpanded is set once our own successor list has been used;
	// expands counts the other nodes' lists.
	selfExpanded bool
	expands      int
}

// add makes n a candidate unless it is this node or known already.
func (s *search) add(n overlay.Node) {
	if n == s.self || n.IsZero() {
		return
	}
	d := dist(n.ID, s.key)
	i, found := slices.BinarySearchFunc(s.cands, d, func(c *candidate, d overlay.ID) int { return c.d.Cmp(d) })
	if found {
		return
	}
	s.cands = slices.Insert(s.cands, i, &candidate{node: n, d: d})
}

// next returns up to alpha candidates in state st, closest first.
func (s *search) next(st, alpha int) []*candidate {
	var out []*candidate
	for _, c := range s.cands {
		if c.state == st {
			out = append(out, c)
			if len(out) == alpha {
				break
			}
		}
	}
	return out
}

// fresh returns up to alpha candidates not asked yet, closest first,
// that are closer to key than limit (if set).
func (s *search) fresh(alpha int, limit *overlay.ID) []*candidate {
	var out []*candidate
	for _, c := range s.cands {
		if limit != nil && c.d.Cmp(*limit) >= 0 {
			break
		}
		if c.state == fresh {
			out = append(out, c)
			if len(out) == alpha {
				break
			}
		}
	}
	return out
}

// state reports the state of n in this search, or fresh if unknown.
func (s *search) state(n overlay.Node) int {
	i, found := slices.BinarySearchFunc(s.cands, dist(n.ID, s.key), func(c *candidate, d overlay.ID) int { return c.d.Cmp(d) })
	if !found {
		return fresh
	}
	return s.cands[i].state
}

// take checks the reply of candidate c and merges it into the search. It
// returns the successor list of a done answer that passes the checks.
func (s *search) take(c *candidate, rep stepReply) []overlay.Node {
	switch {
	case rep.err != nil && errors.Is(rep.err, errBadAnswer):
		c.state = refused
		s.res.Rejected++
		s.last = rep.err
		return nil
	case rep.err != nil:
		c.state = failed
		s.res.Failed++
		s.last = rep.err
		return nil
	case rep.done:
		if err := s.checkDone(c.node, rep.nodes); err != nil {
			c.state = refused
			s.res.Rejected++
			s.last = err
			return nil
		}
		c.state = asked
		return rep.nodes
	}
	// Every node named must lie strictly between the node and key,
	// closer to key than the node itself, or the lookup could be led
	// round in circles.
	for _, n := range rep.nodes {
		if !overlay.Between(n.ID, c.node.ID, s.key) {
			c.state = refused
			s.res.Rejected++
			s.last = fmt.Errorf("%w: %s named %s, not closer to %s", errBadAnswer, c.node, n, s.key)
			return nil
		}
	}
	if len(rep.nodes) == 0 {
		c.state = refused
		s.res.Rejected++
		s.last = fmt.Errorf("%w: %s named no node for %s", errBadAnswer, c.node, s.key)
		return nil
	}
	c.state = asked
	for _, n := range rep.nodes {
		s.add(n)
	}
	return nil
}

// checkDone checks a done answer from n: nodes must be n's successor
// list, in clockwise order from n, and key must lie between n and the
// first of them. A node that answered in this search (so is live) or
// this node itself lying between n and that first node gives the lie to
// the answer: n's successor is not what it says.
func (s *search) checkDone(n overlay.Node, nodes []overlay.Node) error {
	if len(nodes) == 0 {
		return fmt.Errorf("%w: %s said done for %s with no successor", errBadAnswer, n, s.key)
	}
	if !overlay.BetweenRightIncl(s.key, n.ID, nodes[0].ID) {
		return fmt.Errorf("%w: %s said done for %s with successor %s, which does not follow it", errBadAnswer, n, s.key, nodes[0])
	}
	prev := n.ID
	for i, m := range nodes {
		if !overlay.Between(m.ID, prev, n.ID) && (m != n || i != len(nodes)-1) {
			return fmt.Errorf("%w: %s gave a successor list out of order", errBadAnswer, n)
		}
		prev = m.ID
	}
	if nodes[0] == n {
		return nil // alone: (n, n] is the whole circle
	}
	inside := func(m overlay.Node) bool { return overlay.Between(m.ID, n.ID, nodes[0].ID) }
	if s.member && inside(s.self) {
		if s.orphan && overlay.BetweenRightIncl(s.key, n.ID, s.self.ID) {
			s.mine = true
		}
		return fmt.Errorf("%w: %s said its successor is %s, but this node lies between", errBadAnswer, n, nodes[0])
	}
	if s.member && !s.pred.IsZero() && inside(s.pred) {
		return fmt.Errorf("%w: %s said its successor is %s, but our predecessor %s lies between", errBadAnswer, n, nodes[0], s.pred)
	}
	for _, c := range s.cands {
		if (c.state == asked || c.state == expanded) && inside(c.node) {
			return fmt.Errorf("%w: %s said its successor is %s, but live %s lies between", errBadAnswer, n, nodes[0], c.node)
		}
	}
	return nil
}
