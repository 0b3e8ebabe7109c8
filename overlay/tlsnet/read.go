package tlsnet

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"soitto/overlay/wire"
)

// readLoop receives frames until the link closes: responses go to the
// calls waiting for them, requests to serve.
func (l *link) readLoop() {
	for {
		l.conn.SetReadDeadline(time.Now().Add(l.n.cfg.IdleTimeout))
		before := l.r.n
		e, err := wire.ReadFrame(l.r)
		if err != nil {
			// A deadline between frames loses nothing, so the link may go
			// on if it is busy; inside a frame it cannot.
			if errors.Is(err, os.ErrDeadlineExceeded) && l.r.n == before {
				if l.closeIfIdle() {
					return
				}
				continue
			}
			l.readFailed(err)
			return
		}
		l.n.stats.msgsIn.Add(1)
		if e.Response {
			l.deliver(e)
			continue
		}
		if e.Id == 0 {
			l.fail(wire.Errorf(wire.ErrBadRequest, "request without an ID"))
			return
		}
		l.serve(e)
	}
}

// readFailed closes the link after a read error, telling the peer why
// when it broke the protocol.
func (l *link) readFailed(err error) {
	switch {
	case errors.Is(err, wire.ErrTooLarge), errors.Is(err, wire.ErrBadRequest):
		l.fail(err)
	case errors.Is(err, io.EOF):
		l.close(errPeerClosed, true)
	case errors.Is(err, net.ErrClosed):
		l.close(err, true) // closed on this side; close is a no-op
	default:
		l.close(err, false)
	}
}

// fail sends a link error (an error response with ID 0) and closes the
// link: the protocol cannot go on after it.
func (l *link) fail(err error) {
	l.send(&wire.Envelope{Response: true, Error: wire.ErrorToWire(err)})
	l.close(err, true)
}
