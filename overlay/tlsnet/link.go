package tlsnet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// link is one established connection to a peer. Any goroutine may call
// and send on it; one reader goroutine (readLoop) receives.
type link struct {
	n    *Net
	conn *tls.Conn
	raw  net.Conn // under conn; closed directly when TLS cannot close politely
	peer overlay.Peer
	addr string // the peer's node address; "" for a client
	log  *slog.Logger

	r *meterReader // read only by readLoop
	w meterWriter

	// ctx is cancelled when the link closes; handlers run under it.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the link closes
	dead   atomic.Bool   // set as soon as it starts closing; Net then dials anew
	sem    chan struct{} // a token per request of the peer's being handled
	slots  chan struct{} // a token per call of ours outstanding, up to the peer's max_inflight

	wmu       sync.Mutex // serialises frames out; guards lastWrite
	lastWrite time.Time

	mu      sync.Mutex // guards the fields below
	nextID  uint64
	pending map[uint64]chan *wire.Envelope
	closed  bool
	err     error // why it closed, for the calls it failed
	remote  error // a link error the peer sent before closing
}

// maxSlots caps what a peer may advertise as max_inflight.
const maxSlots = 4096

func (n *Net) newLink(conn *tls.Conn, raw net.Conn, peer overlay.Peer, peerMax uint32) *link {
	if peerMax == 0 {
		peerMax = DefaultMaxInflight
	}
	ctx, cancel := context.WithCancel(n.ctx)
	l := &link{
		n: n, conn: conn, raw: raw, peer: peer, addr: peer.Node.Addr,
		log:     n.log.With("peer", peer.Name),
		r:       &meterReader{r: conn, total: &n.stats.bytesIn},
		w:       meterWriter{w: conn, total: &n.stats.bytesOut},
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
		sem:     make(chan struct{}, n.cfg.MaxInflight),
		slots:   make(chan struct{}, min(peerMax, maxSlots)),
		pending: map[uint64]chan *wire.Envelope{},
	}
	return l
}

// call sends req's body as a new request (req itself is not changed, so
// one request may go to several peers at once) and waits for the
// response, ctx, or the link's end. It first waits for one of the slots
// the peer granted in its max_inflight, so the peer never has to refuse
// a call for being one too many.
func (l *link) call(ctx context.Context, req *wire.Envelope) (*wire.Envelope, error) {
	select {
	case l.slots <- struct{}{}:
		defer func() { <-l.slots }()
	case <-l.done:
		return nil, errNotSent
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	id, ch, err := l.register()
	if err != nil {
		return nil, err
	}
	defer l.unregister(id)
	if err := l.send(&wire.Envelope{Id: id, Body: req.Body}); err != nil {
		return nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-l.done:
		select {
		case resp := <-ch: // it came just before the end
			return resp, nil
		default:
			return nil, l.closeErr()
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *link) register() (uint64, chan *wire.Envelope, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, nil, errNotSent
	}
	l.nextID++
	ch := make(chan *wire.Envelope, 1)
	l.pending[l.nextID] = ch
	return l.nextID, ch, nil
}

func (l *link) unregister(id uint64) {
	l.mu.Lock()
	delete(l.pending, id)
	l.mu.Unlock()
}

// deliver hands a response to the call waiting for it.
func (l *link) deliver(resp *wire.Envelope) {
	if resp.Id == 0 { // about the link: the peer closes it next
		if resp.Error != nil {
			err := wire.ErrorFromWire(resp.Error)
			l.log.Info("peer reports a link error", "err", err)
			l.mu.Lock()
			l.remote = err
			l.mu.Unlock()
		}
		return
	}
	l.mu.Lock()
	ch := l.pending[resp.Id]
	l.mu.Unlock()
	if ch == nil {
		l.log.Debug("response to no waiting call (it timed out?)", "id", resp.Id)
		return
	}
	select {
	case ch <- resp:
	default: // a second response with this ID; the first stands
	}
}

// send writes one frame. An envelope WriteFrame refuses (too large, not
// encodable) leaves the link as it was; a failed write closes it.
func (l *link) send(e *wire.Envelope) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return l.writeLocked(e)
}

// respond sends the response to a request being handled. It gives the
// request's in-flight token back just before writing, with the writer
// held: once the peer has the response it may send the next request, and
// that must find the token free.
func (l *link) respond(out *wire.Envelope) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	<-l.sem
	err := l.writeLocked(out)
	if errors.Is(err, wire.ErrTooLarge) || errors.Is(err, wire.ErrBadRequest) {
		l.log.Warn("a response cannot be sent", "err", err)
		l.writeLocked(&wire.Envelope{Id: out.Id, Response: true, Error: wire.ErrorToWire(err)})
	}
}

func (l *link) writeLocked(e *wire.Envelope) error {
	select {
	case <-l.done:
		return l.closeErr()
	default:
	}
	l.conn.SetWriteDeadline(time.Now().Add(l.n.cfg.CallTimeout))
	err := wire.WriteFrame(l.w, e)
	switch {
	case err == nil:
		l.n.stats.msgsOut.Add(1)
		l.lastWrite = time.Now()
		return nil
	case errors.Is(err, wire.ErrTooLarge), errors.Is(err, wire.ErrBadRequest):
		return err
	}
	l.close(fmt.Errorf("writing: %w", err), false)
	return l.closeErr()
}

// closeErr is the error calls on a closed link fail with.
func (l *link) closeErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// close closes the link for why, once. graceful sends TLS close_notify
// first; otherwise the TCP connection is just closed.
func (l *link) close(why error, graceful bool) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.dead.Store(true)
	l.setErrLocked(why)
	l.mu.Unlock()
	l.finishClose(why, graceful)
}

// closeIfIdle closes the link if it is idle: nothing was received (the
// caller knows) or sent for IdleTimeout, and no call waits and no request
// is being handled. It holds the writer, so no response is half way out,
// and the lock register takes, so a call racing with it either gets in
// first or fails with errNotSent and redials.
func (l *link) closeIfIdle() bool {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return true
	}
	if len(l.pending) > 0 || len(l.sem) > 0 || time.Since(l.lastWrite) < l.n.cfg.IdleTimeout {
		l.mu.Unlock()
		return false
	}
	l.closed = true
	l.dead.Store(true)
	l.setErrLocked(errIdle)
	l.mu.Unlock()
	l.finishClose(errIdle, true)
	return true
}

func (l *link) setErrLocked(why error) {
	dest := l.addr
	if dest == "" {
		dest = l.peer.Name
	}
	cause := why
	if l.remote != nil {
		cause = l.remote
	}
	l.err = fmt.Errorf("%w (%s): %w", ErrLinkClosed, dest, cause)
}

func (l *link) finishClose(why error, graceful bool) {
	l.cancel()
	close(l.done)
	l.n.forget(l)
	if f := l.n.cfg.OnClose; f != nil {
		go f(conn{l})
	}
	if graceful {
		l.conn.Close()
	} else {
		l.raw.Close()
	}
	if why == ErrClosed || why == errIdle || why == errPeerClosed {
		l.log.Debug("link closed", "why", why)
	} else {
		l.log.Info("link closed", "why", why)
	}
}
