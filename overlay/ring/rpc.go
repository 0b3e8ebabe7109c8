package ring

import (
	"context"
	"errors"
	"fmt"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// errBadAnswer marks an answer refused by the asker: a node that is not
// SHA-1 of its address, a missing body, or (in a lookup) a step that does
// not move closer to the key.
var errBadAnswer = errors.New("answer refused")

// call sends one request to n, bounded by CallTimeout. When n does not
// answer (as opposed to answering with an error), and the failure is not
// the caller giving up, n is forgotten from every table.
func (r *Ring) call(ctx context.Context, n overlay.Node, req *wire.Envelope) (*wire.Envelope, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
	defer cancel()
	resp, err := r.cfg.Transport.Call(cctx, n.Addr, req)
	if err != nil {
		if ctx.Err() == nil && gone(err) {
			r.forget(n)
		}
		return nil, fmt.Errorf("ring: %s to %s: %w", bodyName(req), n, err)
	}
	r.cleared(n)
	return resp, nil
}

// gone reports whether err means the node is not (or no longer) a ring
// member: it did not answer at all, or said it is shutting down.
func gone(err error) bool {
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return re.Code == wire.CodeShuttingDown
	}
	return true
}

// neighbours asks n for its predecessor and successor list.
func (r *Ring) neighbours(ctx context.Context, n overlay.Node) (overlay.Node, []overlay.Node, error) {
	resp, err := r.call(ctx, n, &wire.Envelope{Body: &wire.Envelope_Neighbours{Neighbours: &wire.NeighboursRequest{}}})
	if err != nil {
		return overlay.Node{}, nil, err
	}
	m := resp.GetNeighboursResult()
	if m == nil {
		return overlay.Node{}, nil, fmt.Errorf("%w: %s answered Neighbours with %T", errBadAnswer, n, resp.Body)
	}
	pred, err := overlay.NodeFromWire(m.GetPredecessor())
	if err != nil {
		return overlay.Node{}, nil, fmt.Errorf("%w: %s: %w", errBadAnswer, n, err)
	}
	succs, err := nodesFromWire(m.GetSuccessors())
	if err != nil || len(succs) == 0 {
		return overlay.Node{}, nil, fmt.Errorf("%w: %s: successors: %v", errBadAnswer, n, err)
	}
	return pred, succs, nil
}

// findStep asks n for one step of a lookup of key.
func (r *Ring) findStep(ctx context.Context, n overlay.Node, key overlay.ID, count int) (done bool, nodes []overlay.Node, err error) {
	resp, err := r.call(ctx, n, &wire.Envelope{Body: &wire.Envelope_FindStep{FindStep: &wire.FindStepRequest{Key: key[:], Count: uint32(count)}}})
	if err != nil {
		return false, nil, err
	}
	m := resp.GetFindStepResult()
	if m == nil {
		return false, nil, fmt.Errorf("%w: %s answered FindStep with %T", errBadAnswer, n, resp.Body)
	}
	nodes, err = nodesFromWire(m.GetNodes())
	if err != nil {
		return false, nil, fmt.Errorf("%w: %s: %w", errBadAnswer, n, err)
	}
	return m.GetDone(), nodes, nil
}

// notify tells n that this node believes it is n's predecessor.
func (r *Ring) notify(ctx context.Context, n overlay.Node) error {
	_, err := r.call(ctx, n, &wire.Envelope{Body: &wire.Envelope_Notify{Notify: &wire.NotifyRequest{Node: r.self.ToWire()}}})
	return err
}

// ping checks that n answers.
func (r *Ring) ping(ctx context.Context, n overlay.Node) error {
	_, err := r.call(ctx, n, &wire.Envelope{Body: &wire.Envelope_Ping{Ping: &wire.PingRequest{}}})
	return err
}

// nodesFromWire decodes and checks a list of nodes; none may be absent.
func nodesFromWire(ws []*wire.NodeInfo) ([]overlay.Node, error) {
	out := make([]overlay.Node, 0, len(ws))
	for _, w := range ws {
		n, err := overlay.NodeFromWire(w)
		if err != nil {
			return nil, err
		}
		if n.IsZero() {
			return nil, fmt.Errorf("%w: empty node in a list", wire.ErrBadRequest)
		}
		out = append(out, n)
	}
	return out, nil
}

// nodesToWire encodes a list of nodes.
func nodesToWire(ns []overlay.Node) []*wire.NodeInfo {
	out := make([]*wire.NodeInfo, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.ToWire())
	}
	return out
}

// bodyName names an envelope's body as wire.proto does ("find_step").
func bodyName(e *wire.Envelope) string {
	m := e.ProtoReflect()
	if fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body")); fd != nil {
		return string(fd.Name())
	}
	return "empty request"
}

// ok is the empty success response.
func ok() *wire.Envelope { return &wire.Envelope{Body: &wire.Envelope_Ok{Ok: &wire.Empty{}}} }
