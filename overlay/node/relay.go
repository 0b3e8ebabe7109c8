package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"soitto/overlay"
	"soitto/overlay/signal"
	"soitto/overlay/wire"
)

// handleRelay passes a signal on towards its recipient. From an attached
// client it must be the client's own (signed by it); it is delivered here
// if via names this node, else forwarded to via. From a node, via must
// name this node: signals take at most two super-peers.
func (n *Node) handleRelay(ctx context.Context, from overlay.Peer, req *wire.RelayRequest) (*wire.Envelope, error) {
	sig := req.GetSignal()
	if sig == nil {
		return nil, wire.Errorf(wire.ErrBadRequest, "relay without a signal")
	}
	if err := signal.Check(sig, n.cfg.Network.CAPool(), time.Now()); err != nil {
		return nil, err
	}
	sig = signal.Clean(sig)
	client := from.Node.IsZero()
	if client {
		if sig.From != from.Name {
			return nil, wire.Errorf(wire.ErrForbidden, "%s may not relay a signal from %s", from.Name, sig.From)
		}
		if !n.clients.attached(overlay.ConnFrom(ctx)) {
			return nil, wire.Errorf(wire.ErrForbidden, "%s is not attached to %s", from.Name, n.self.Addr)
		}
	}
	via := req.GetVia()
	if via == n.self.Addr || via == "" {
		return n.deliver(ctx, sig)
	}
	if !client {
		return nil, wire.Errorf(wire.ErrForbidden, "node %s asked %s to relay on to %s", from.Node.Addr, n.self.Addr, via)
	}
	n.m.relayed.Inc()
	_, err := n.net.Call(ctx, via, &wire.Envelope{Body: &wire.Envelope_Relay{Relay: &wire.RelayRequest{Signal: sig, Via: via}}})
	var re *wire.RemoteError
	if err != nil && !errors.As(err, &re) {
		return nil, fmt.Errorf("%w: %s's super-peer %s: %w", wire.ErrUnreachable, sig.To, via, err)
	}
	if err != nil {
		return nil, err
	}
	return okEnvelope(), nil
}

// deliver hands sig to every endpoint of its recipient attached here that
// takes signals; one acceptance is success.
func (n *Node) deliver(ctx context.Context, sig *wire.Signal) (*wire.Envelope, error) {
	to := n.clients.receivers(sig.To)
	if len(to) == 0 {
		return nil, wire.Errorf(wire.ErrOffline, "%s is not online at %s", sig.To, n.self.Addr)
	}
	req := &wire.Envelope{Body: &wire.Envelope_Deliver{Deliver: &wire.DeliverRequest{Signal: sig}}}
	errs := make([]error, len(to))
	var wg sync.WaitGroup
	for i, a := range to {
		wg.Go(func() { _, errs[i] = a.conn.Call(ctx, req) })
	}
	wg.Wait()
	var refused error
	for _, err := range errs {
		if err == nil {
			n.m.delivered.Inc()
			return okEnvelope(), nil
		}
		var re *wire.RemoteError
		if errors.As(err, &re) {
			refused = err // the client answered: its reason stands
		}
	}
	if refused != nil {
		return nil, refused
	}
	return nil, fmt.Errorf("%w: %s did not answer: %w", wire.ErrUnreachable, sig.To, errors.Join(errs...))
}

func okEnvelope() *wire.Envelope { return &wire.Envelope{Body: &wire.Envelope_Ok{Ok: &wire.Empty{}}} }
