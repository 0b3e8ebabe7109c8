package tlsnet

import (
	"context"
	"errors"
	"fmt"

	"soitto/overlay/wire"
)

// Call sends req's body to the node at addr and waits for the response,
// dialling a link first if there is none. req is not modified. It gives up
// at ctx's deadline or after CallTimeout, whichever is first, with an
// error matching both wire.ErrTimeout and context.DeadlineExceeded. An
// error response comes back as wire.ErrorFromWire made it (errors.Is
// with the wire sentinels). A link that breaks while the call waits fails
// it with ErrLinkClosed; Call does not resend, since the peer may have
// acted on the request.
func (n *Net) Call(ctx context.Context, addr string, req *wire.Envelope) (*wire.Envelope, error) {
	if req == nil || req.Body == nil {
		return nil, wire.Errorf(wire.ErrBadRequest, "request without a body")
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.CallTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		l, err := n.linkTo(ctx, addr)
		if err != nil {
			return nil, callErr(ctx, addr, err)
		}
		resp, err := l.call(ctx, req)
		if errors.Is(err, errNotSent) && attempt == 0 {
			continue // it closed under us, the request unsent: a fresh link
		}
		if err != nil {
			return nil, callErr(ctx, addr, err)
		}
		if resp.Error != nil {
			return nil, wire.ErrorFromWire(resp.Error)
		}
		if resp.Body == nil {
			return nil, wire.Errorf(wire.ErrBadRequest, "empty response from %s", addr)
		}
		return resp, nil
	}
}

// callErr says which call ran out of time.
func callErr(ctx context.Context, addr string, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil || !errors.Is(err, ctxErr) {
		return err
	}
	if ctxErr == context.DeadlineExceeded {
		return fmt.Errorf("%w: call to %s: %w", wire.ErrTimeout, addr, ctxErr)
	}
	return fmt.Errorf("tlsnet: call to %s: %w", addr, ctxErr)
}

// dialing is a dial in progress, which every Call to its address waits
// for.
type dialing struct {
	done chan struct{}
	l    *link // set when done, if err is nil
	err  error
}

// linkTo returns the link to addr, dialling it if there is none. The dial
// runs on Net's own goroutine bounded by DialTimeout, so a caller that
// gives up does not fail the others waiting for it.
func (n *Net) linkTo(ctx context.Context, addr string) (*link, error) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, ErrClosed
	}
	if l := n.links[addr]; l != nil && !l.dead.Load() {
		n.mu.Unlock()
		return l, nil
	}
	d := n.dials[addr]
	if d == nil {
		d = &dialing{done: make(chan struct{})}
		n.dials[addr] = d
		n.wg.Go(func() { n.dial(addr, d) })
	}
	n.mu.Unlock()
	select {
	case <-d.done:
		return d.l, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dial establishes the link to addr for d's waiters and then, on the same
// goroutine, reads it until it closes.
func (n *Net) dial(addr string, d *dialing) {
	l, err := n.handshakeOut(addr)
	n.mu.Lock()
	delete(n.dials, addr)
	switch {
	case err != nil:
		n.stats.failed.Add(1)
		n.log.Debug("dial failed", "addr", addr, "err", err)
	case n.closed:
		err = ErrClosed
	default:
		n.stats.dialled.Add(1)
		n.all[l] = struct{}{}
		if cur := n.links[addr]; cur == nil || cur.dead.Load() { // else an accepted link got there first
			n.links[addr] = l
		}
		d.l = l
	}
	d.err = err
	n.mu.Unlock()
	close(d.done)
	switch {
	case d.l != nil:
		l.log.Debug("link up (dialled)")
		l.readLoop()
	case l != nil:
		l.close(err, true)
	}
}
