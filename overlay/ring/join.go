package ring

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// Join enters the ring through the first address in bootstrap that
// leads to a live successor (our own address is skipped): it looks up
// successor(self) through that node, takes the successor list it finds,
// and runs one Stabilize, which notifies the first of them that
// answers. The predecessor and the fingers are learned afterwards by
// maintenance. The successors a lookup names may have failed since the
// node that named them last looked; when none answers, Stabilize looks
// successor(self) up again, and Join moves on to the next address.
// Failing all, Join returns ErrNoBootstrap, and the node is alone if a
// lookup got that far (else its state is as it was).
// The bootstrap addresses are kept: should every node this one knows
// fail later, Stabilize looks successor(self) up through them again.
func (r *Ring) Join(ctx context.Context, bootstrap []string) error {
	var boot []string
	for _, addr := range bootstrap {
		if addr != "" && addr != r.self.Addr && !slices.Contains(boot, addr) {
			boot = append(boot, addr)
		}
	}
	var errs []error
	tried := false // a lookup succeeded and replaced the state
	for _, addr := range boot {
		res, err := r.iterate(ctx, r.self.ID, []overlay.Node{overlay.NewNode(addr)}, r.cfg.LookupParallel, false)
		if err == nil {
			// An earlier incarnation of this node may still be in the
			// ring, holding our own ID.
			res.Successors = slices.DeleteFunc(res.Successors, func(n overlay.Node) bool { return n == r.self })
			if len(res.Successors) == 0 {
				err = fmt.Errorf("ring: lookup through %s found only this node", addr)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("via %s: %w", addr, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		tried = true
		r.update(func() {
			r.pred = overlay.Node{}
			r.succs = r.successorListLocked(res.Successors)
			r.fingers = [fingerCount]overlay.Node{}
			r.boot = boot
			r.nextFinger = 0
			r.left = false
		})
		if r.stabilize(ctx) {
			r.log.Debug("joined", "via", addr, "succ", r.Successors()[0], "hops", res.Hops)
			return nil
		}
		errs = append(errs, fmt.Errorf("via %s: no successor found answers (%v)", addr, res.Successors))
		if ctx.Err() != nil {
			break
		}
	}
	if tried {
		// Nobody has heard of this node: it did not get as far as a
		// notify.
		r.Create()
	}
	return errors.Join(append([]error{ErrNoBootstrap}, errs...)...)
}

// Leave leaves the ring gracefully: it tells the predecessor and the
// successor, handing each the other (the predecessor gets our successor
// list), so they splice this node out at once instead of waiting to
// notice it is gone. From then on Handle refuses every request with
// wire.ErrShuttingDown and Lookup fails with ErrLeft; Create or Join
// make the ring usable again. Stop Run before calling Leave.
func (r *Ring) Leave(ctx context.Context) error {
	r.mu.Lock()
	if r.left {
		r.mu.Unlock()
		return nil
	}
	r.left = true
	pred, succs := r.pred, slices.Clone(r.succs)
	r.mu.Unlock()
	req := &wire.Envelope{Body: &wire.Envelope_Leave{Leave: &wire.LeaveRequest{
		Node:        r.self.ToWire(),
		Predecessor: pred.ToWire(),
		Successors:  nodesToWire(succs),
	}}}
	targets := []overlay.Node{succs[0]}
	if pred != succs[0] {
		targets = append(targets, pred)
	}
	var errs []error
	for _, n := range targets {
		if n.IsZero() || n == r.self {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, r.cfg.CallTimeout)
		_, err := r.cfg.Transport.Call(cctx, n.Addr, req)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("ring: leave: telling %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
