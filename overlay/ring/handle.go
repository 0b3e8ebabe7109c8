package ring

import (
	"context"
	"slices"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// Handle answers the ring's requests: FindStep, Neighbours, Notify, Ping
// and Leave. Any other body is wire.ErrBadRequest; after Leave every
// request is wire.ErrShuttingDown. from is the verified sender.
func (r *Ring) Handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	r.mu.Lock()
	left := r.left
	r.mu.Unlock()
	if left {
		return nil, wire.Errorf(wire.ErrShuttingDown, "node %s has left the ring", r.self.Addr)
	}
	switch b := req.GetBody().(type) {
	case *wire.Envelope_FindStep:
		return r.handleFindStep(b.FindStep)
	case *wire.Envelope_Neighbours:
		r.mu.Lock()
		resp := &wire.NeighboursResponse{Predecessor: r.pred.ToWire(), Successors: nodesToWire(r.succs)}
		r.mu.Unlock()
		return &wire.Envelope{Body: &wire.Envelope_NeighboursResult{NeighboursResult: resp}}, nil
	case *wire.Envelope_Notify:
		return r.handleNotify(from, b.Notify)
	case *wire.Envelope_Ping:
		return ok(), nil
	case *wire.Envelope_Leave:
		return r.handleLeave(from, b.Leave)
	}
	return nil, wire.Errorf(wire.ErrBadRequest, "ring: unexpected %T", req.GetBody())
}

// handleFindStep: done with the successor list if key ∈ (self,
// successor], else the count known nodes that most closely precede key.
func (r *Ring) handleFindStep(m *wire.FindStepRequest) (*wire.Envelope, error) {
	key, err := overlay.ParseID(m.GetKey())
	if err != nil {
		return nil, wire.Errorf(wire.ErrBadRequest, "FindStep key: %v", err)
	}
	count := min(max(int(m.GetCount()), 1), MaxSuccessors)
	resp := &wire.FindStepResponse{}
	r.mu.Lock()
	if overlay.BetweenRightIncl(key, r.self.ID, r.succs[0].ID) {
		resp.Done = true
		resp.Nodes = nodesToWire(r.succs)
	} else {
		resp.Nodes = nodesToWire(r.closestPrecedingLocked(key, count))
	}
	r.mu.Unlock()
	return &wire.Envelope{Body: &wire.Envelope_FindStepResult{FindStepResult: resp}}, nil
}

// handleNotify is Chord's notify: the sender becomes the predecessor if
// there is none or it lies between the predecessor and this node. A node
// alone also takes the sender as its successor, which is how a ring of
// one becomes a ring of two.
func (r *Ring) handleNotify(from overlay.Peer, m *wire.NotifyRequest) (*wire.Envelope, error) {
	n, err := r.sender(from, m.GetNode())
	if err != nil {
		return nil, err
	}
	if n == r.self {
		return ok(), nil
	}
	r.update(func() {
		if r.pred.IsZero() || overlay.Between(n.ID, r.pred.ID, r.self.ID) {
			r.pred = n
		}
		if r.succs[0] == r.self {
			r.succs = []overlay.Node{n}
		}
	})
	return ok(), nil
}

// handleLeave splices a leaving neighbour out at once: as our successor
// it is replaced by its successor list, as our predecessor by its
// predecessor.
func (r *Ring) handleLeave(from overlay.Peer, m *wire.LeaveRequest) (*wire.Envelope, error) {
	n, err := r.sender(from, m.GetNode())
	if err != nil {
		return nil, err
	}
	pred, err := overlay.NodeFromWire(m.GetPredecessor())
	if err != nil {
		return nil, err
	}
	succs, err := nodesFromWire(m.GetSuccessors())
	if err != nil {
		return nil, err
	}
	if n == r.self {
		return ok(), nil
	}
	succs = slices.DeleteFunc(succs, func(s overlay.Node) bool { return s == n })
	r.update(func() {
		if r.pred == n {
			r.pred = overlay.Node{}
			if pred != r.self && pred != n {
				r.pred = pred
			}
		}
		if i := slices.Index(r.succs, n); i == 0 {
			r.succs = r.successorListLocked(succs)
		} else if i > 0 {
			r.succs = r.successorListLocked(slices.Delete(slices.Clone(r.succs), i, i+1))
		}
		for i := range r.fingers {
			if r.fingers[i] == n {
				r.fingers[i] = overlay.Node{}
			}
		}
	})
	return ok(), nil
}

// sender decodes the node a Notify or Leave is about and checks that it
// is the verified sender, so no node can speak for another.
func (r *Ring) sender(from overlay.Peer, w *wire.NodeInfo) (overlay.Node, error) {
	n, err := overlay.NodeFromWire(w)
	if err != nil {
		return overlay.Node{}, err
	}
	if n.IsZero() {
		return overlay.Node{}, wire.Errorf(wire.ErrBadRequest, "no node given")
	}
	if !from.Node.IsZero() && from.Node != n {
		return overlay.Node{}, wire.Errorf(wire.ErrForbidden, "%s may not speak for %s", from.Node, n)
	}
	return n, nil
}
