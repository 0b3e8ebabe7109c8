package tlsnet

import (
	"context"
	"net"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// conn is a link as an overlay.Conn.
type conn struct{ l *link }

var _ overlay.Conn = conn{}

func (c conn) Peer() overlay.Peer    { return c.l.peer }
func (c conn) Done() <-chan struct{} { return c.l.done }
func (c conn) Close()                { c.l.close(ErrClosed, true) }
func (c conn) String() string        { return c.l.peer.Name }

// RemoteAddr is the address the link's TCP connection comes from.
func (c conn) RemoteAddr() net.Addr { return c.l.raw.RemoteAddr() }

// LocalAddr is this end's address of the link's TCP connection.
func (c conn) LocalAddr() net.Addr { return c.l.raw.LocalAddr() }
func (c conn) Call(ctx context.Context, req *wire.Envelope) (*wire.Envelope, error) {
	if req == nil || req.Body == nil {
		return nil, wire.Errorf(wire.ErrBadRequest, "request without a body")
	}
	ctx, cancel := context.WithTimeout(ctx, c.l.n.cfg.CallTimeout)
	defer cancel()
	resp, err := c.l.call(ctx, req)
	if err == errNotSent {
		err = c.l.closeErr()
	}
	if err != nil {
		return nil, callErr(ctx, c.l.peer.Name, err)
	}
	if resp.Error != nil {
		return nil, wire.ErrorFromWire(resp.Error)
	}
	if resp.Body == nil {
		return nil, wire.Errorf(wire.ErrBadRequest, "empty response from %s", c.l.peer.Name)
	}
	return resp, nil
}

// Dial returns the link to the node at addr, dialling it if there is
// none, as an overlay.Conn: a client keeps it to watch its attachment
// (Done) and to receive requests on it (Config.Handler).
func (n *Net) Dial(ctx context.Context, addr string) (overlay.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout)
	defer cancel()
	l, err := n.linkTo(ctx, addr)
	if err != nil {
		return nil, callErr(ctx, addr, err)
	}
	return conn{l}, nil
}
