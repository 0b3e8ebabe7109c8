package tlsnet

import (
	"context"
	"runtime/debug"

	"soitto/overlay"

	"soitto/overlay/wire"
)

// serve admits an incoming request: it must be a request, within the
// peer's rate and the link's in-flight bound; then a goroutine handles it.
// Refusals are answered from the reader at once, so nothing queues.
func (l *link) serve(req *wire.Envelope) {
	var refuse error
	switch req.Body.(type) {
	case nil:
		refuse = wire.Errorf(wire.ErrBadRequest, "unknown or missing request")
	case *wire.Envelope_Hello, *wire.Envelope_HelloAck:
		refuse = wire.Errorf(wire.ErrBadRequest, "hello after the handshake")
	}
	if refuse == nil && l.n.cfg.Handler == nil {
		refuse = wire.Errorf(wire.ErrForbidden, "this end answers no requests")
	}
	if refuse == nil && !l.n.limits.allow(l.peer.Name) {
		l.n.stats.limited.Add(1)
		refuse = wire.Errorf(wire.ErrRateLimited, "over %v requests/s", l.n.cfg.PeerRate)
	}
	if refuse == nil {
		select {
		case l.sem <- struct{}{}:
			if l.n.goroutine(func() { l.handle(req) }) {
				return
			}
			<-l.sem
			refuse = wire.ErrShuttingDown
		default:
			l.n.stats.limited.Add(1)
			refuse = wire.Errorf(wire.ErrRateLimited, "over %d requests in flight", l.n.cfg.MaxInflight)
		}
	}
	l.send(&wire.Envelope{Id: req.Id, Response: true, Error: wire.ErrorToWire(refuse)})
}

// handle runs the Handler and sends what it returns: its body, Ok when it
// returned none, or its error. It holds a token of l.sem, which respond
// gives back.
func (l *link) handle(req *wire.Envelope) {
	ctx, cancel := context.WithTimeout(l.ctx, l.n.cfg.CallTimeout)
	defer cancel()
	resp, err := l.runHandler(overlay.WithConn(ctx, conn{l}), req)
	out := &wire.Envelope{Id: req.Id, Response: true}
	switch {
	case err != nil:
		out.Error = wire.ErrorToWire(err)
	case resp == nil || resp.Body == nil:
		out.Body = &wire.Envelope_Ok{Ok: &wire.Empty{}}
	default:
		out.Body = resp.Body
	}
	l.respond(out)
}

// runHandler calls the Handler; a panic becomes ErrInternal and a log
// line, not a dead node.
func (l *link) runHandler(ctx context.Context, req *wire.Envelope) (resp *wire.Envelope, err error) {
	defer func() {
		if p := recover(); p != nil {
			l.log.Error("handler panicked", "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, wire.Errorf(wire.ErrInternal, "handler failed")
		}
	}()
	return l.n.cfg.Handler.Handle(ctx, l.peer, req)
}
