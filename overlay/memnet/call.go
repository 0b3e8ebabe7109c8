package memnet

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/overlay/wire"
)

// Call sends req to the node at addr and waits for its answer: the
// request is marshalled, delayed by the one-way latency, unmarshalled and
// handed to the callee's handler on a goroutine of its own; the response
// travels back the same way. The callee's handler gets ctx, so it ends
// with the caller's deadline. An error the handler returns comes back as
// a *wire.RemoteError, as over TLS.
func (ep *endpoint) Call(ctx context.Context, addr string, req *wire.Envelope) (*wire.Envelope, error) {
	n := ep.net
	req = proto.CloneOf(req)
	req.Id = n.nextID.Add(1)
	req.Response = false
	req.Error = nil
	reqBytes, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("memnet: marshal request: %w", err)
	}
	n.stats.request(req, len(reqBytes))

	n.mu.Lock()
	self := n.nodes[ep.addr]
	callee, ok := n.nodes[addr]
	reachable := ok && !callee.dead && self == ep && !ep.dead
	drop := n.opts.Drop > 0 && n.rnd.Float64() < n.opts.Drop
	timeout := n.opts.Timeout
	there := n.delayLocked()
	back := n.delayLocked()
	n.mu.Unlock()

	if !reachable {
		n.stats.failed.Add(1)
		return nil, n.fail(ctx, timeout, fmt.Errorf("call %s: %w", addr, unreachable))
	}
	if drop {
		n.stats.dropped.Add(1)
		return nil, n.fail(ctx, timeout, fmt.Errorf("call %s: %w", addr, dropped))
	}
	if err := sleep(ctx, there); err != nil {
		return nil, err
	}

	in := new(wire.Envelope)
	if err := proto.Unmarshal(reqBytes, in); err != nil {
		return nil, fmt.Errorf("memnet: unmarshal request: %w", err)
	}
	done := make(chan []byte, 1)
	go func() { done <- handle(ctx, callee, ep, in) }()
	var respBytes []byte
	select {
	case respBytes = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	n.stats.response(len(respBytes))
	if err := sleep(ctx, back); err != nil {
		return nil, err
	}
	resp := new(wire.Envelope)
	if err := proto.Unmarshal(respBytes, resp); err != nil {
		return nil, fmt.Errorf("memnet: unmarshal response: %w", err)
	}
	if resp.Error != nil {
		return nil, wire.ErrorFromWire(resp.Error)
	}
	return resp, nil
}

// handle runs callee's handler on in and returns the marshalled response
// envelope.
func handle(ctx context.Context, callee, caller *endpoint, in *wire.Envelope) []byte {
	body, err := callee.h.Handle(ctx, caller.peer, in)
	if err == nil && (body == nil || body.Body == nil) {
		err = wire.Errorf(wire.ErrInternal, "handler returned no body for %T", in.Body)
	}
	resp := &wire.Envelope{Id: in.Id, Response: true}
	if err != nil {
		resp.Error = wire.ErrorToWire(err)
	} else {
		resp.Body = body.Body
	}
	b, mErr := proto.Marshal(resp)
	if mErr != nil {
		b, _ = proto.Marshal(&wire.Envelope{Id: in.Id, Response: true,
			Error: wire.ErrorToWire(fmt.Errorf("%w: marshal response: %v", wire.ErrInternal, mErr))})
	}
	return b
}

// delayLocked draws one one-way delay.
func (n *Network) delayLocked() time.Duration {
	d := n.opts.Latency
	if n.opts.Jitter > 0 {
		d += time.Duration(n.rnd.Int64N(int64(n.opts.Jitter)))
	}
	return d
}

// fail waits out the simulated timeout (or ctx) and returns err.
func (n *Network) fail(ctx context.Context, timeout time.Duration, err error) error {
	if sErr := sleep(ctx, timeout); sErr != nil {
		return fmt.Errorf("%w (%w)", err, sErr)
	}
	return err
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
