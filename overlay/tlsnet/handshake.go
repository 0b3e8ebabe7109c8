package tlsnet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/wire"
)

// handshakeOut dials addr and runs the dialler's side of the handshake:
// TLS (the listener's certificate must name addr), then Hello, then a
// HelloAck naming addr.
func (n *Net) handshakeOut(addr string) (*link, error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tlsnet: dialling %s: %w", addr, err)
	}
	conn := tls.Client(raw, n.clientTLS(addr))
	var peerMax uint32
	peer, err := exchange(ctx, raw, func() (overlay.Peer, error) {
		if err := conn.HandshakeContext(ctx); err != nil {
			return overlay.Peer{}, err
		}
		hello := &wire.Envelope{Body: &wire.Envelope_Hello{Hello: &wire.Hello{
			Version: wire.Version, Node: n.cfg.Self.ToWire(), MaxInflight: uint32(n.cfg.MaxInflight),
		}}}
		if err := wire.WriteFrame(conn, hello); err != nil {
			return overlay.Peer{}, err
		}
		// A refusal of our certificate shows here, as a TLS alert: in
		// TLS 1.3 the listener checks it after the dialler's handshake ends.
		resp, err := wire.ReadFrame(conn)
		if err != nil {
			return overlay.Peer{}, err
		}
		peerMax = resp.GetHelloAck().GetMaxInflight()
		return checkHelloAck(resp, addr, conn.ConnectionState())
	})
	if err != nil {
		raw.Close()
		return nil, fmt.Errorf("%w with %s: %w", ErrHandshake, addr, err)
	}
	return n.newLink(conn, raw, peer, peerMax), nil
}

func checkHelloAck(resp *wire.Envelope, addr string, cs tls.ConnectionState) (overlay.Peer, error) {
	if resp.Error != nil {
		return overlay.Peer{}, wire.ErrorFromWire(resp.Error)
	}
	ack := resp.GetHelloAck()
	switch {
	case ack == nil:
		return overlay.Peer{}, wire.Errorf(wire.ErrBadRequest, "expected HelloAck, got %T", resp.Body)
	case ack.Version != wire.Version:
		return overlay.Peer{}, wire.Errorf(wire.ErrVersion, "listener speaks version %d, not %d", ack.Version, wire.Version)
	}
	node, err := overlay.NodeFromWire(ack.Node)
	if err != nil {
		return overlay.Peer{}, badID(err)
	}
	if node.Addr != addr {
		return overlay.Peer{}, wire.Errorf(wire.ErrForbidden, "dialled %s, answered as %q", addr, node.Addr)
	}
	return overlay.Peer{Node: node, Name: cs.PeerCertificates[0].Subject.CommonName}, nil
}

// handshakeIn runs the listener's side of the handshake on an accepted
// connection: TLS with a client certificate from the CA, then a Hello
// that checkHello accepts, answered with HelloAck. A refused Hello is
// answered with its error before the connection is closed; refused
// reports that.
func (n *Net) handshakeIn(raw net.Conn) (l *link, refused bool, err error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout)
	defer cancel()
	conn := tls.Server(raw, n.serverTLS())
	var peerMax uint32
	peer, err := exchange(ctx, raw, func() (overlay.Peer, error) {
		if err := conn.HandshakeContext(ctx); err != nil {
			return overlay.Peer{}, err
		}
		hello, err := wire.ReadFrame(conn)
		if err != nil {
			return overlay.Peer{}, err
		}
		peerMax = hello.GetHello().GetMaxInflight()
		peer, err := n.checkHello(hello, conn.ConnectionState())
		if err != nil {
			refused = true
			wire.WriteFrame(conn, &wire.Envelope{Response: true, Error: wire.ErrorToWire(err)})
			return overlay.Peer{}, err
		}
		ack := &wire.Envelope{Body: &wire.Envelope_HelloAck{HelloAck: &wire.HelloAck{
			Version: wire.Version, Node: n.cfg.Self.ToWire(), MaxInflight: uint32(n.cfg.MaxInflight),
		}}}
		return peer, wire.WriteFrame(conn, ack)
	})
	if err != nil {
		if refused {
			conn.Close() // close_notify after the refusal, bounded by the deadline still set
		} else {
			raw.Close()
		}
		return nil, refused, err
	}
	return n.newLink(conn, raw, peer, peerMax), false, nil
}

// checkHello decides who the dialler is, from its Hello and its
// certificate (already verified to chain to Roots by TLS).
func (n *Net) checkHello(e *wire.Envelope, cs tls.ConnectionState) (overlay.Peer, error) {
	hello := e.GetHello()
	switch {
	case cs.NegotiatedProtocol != wire.ALPN:
		return overlay.Peer{}, wire.Errorf(wire.ErrBadRequest, "ALPN %q required", wire.ALPN)
	case hello == nil || e.Id != 0 || e.Response:
		return overlay.Peer{}, wire.Errorf(wire.ErrBadRequest, "expected Hello, got %T", e.Body)
	case hello.Version != wire.Version:
		return overlay.Peer{}, wire.Errorf(wire.ErrVersion, "version %d; this node speaks %d", hello.Version, wire.Version)
	}
	leaf := cs.PeerCertificates[0]
	if hello.Node != nil {
		node, err := overlay.NodeFromWire(hello.Node)
		if err != nil {
			return overlay.Peer{}, badID(err)
		}
		if node.Addr == "" {
			return overlay.Peer{}, wire.Errorf(wire.ErrBadID, "node without an address")
		}
		if _, err := ca.VerifyNode(n.cfg.Roots, leaf, n.cfg.Now(), node.Addr); err != nil {
			return overlay.Peer{}, wire.Errorf(wire.ErrForbidden, "%v", err)
		}
		return overlay.Peer{Node: node, Name: leaf.Subject.CommonName}, nil
	}
	if !n.cfg.AcceptClients {
		return overlay.Peer{}, wire.Errorf(wire.ErrForbidden, "this node takes only ring members")
	}
	// TLS verified the chain to Roots for client authentication, at
	// Config.Time (serverTLS); only the name is left to check.
	name, err := ca.UserName(leaf)
	if len(cs.VerifiedChains) == 0 {
		name, err = ca.VerifyUser(n.cfg.Roots, leaf, n.cfg.Now(), "")
	}
	if err != nil {
		return overlay.Peer{}, wire.Errorf(wire.ErrForbidden, "%v", err)
	}
	return overlay.Peer{Name: name}, nil
}

// badID makes a NodeInfo that does not decode an ErrBadID.
func badID(err error) error {
	if errors.Is(err, wire.ErrBadID) {
		return err
	}
	return fmt.Errorf("%w: %v", wire.ErrBadID, err)
}

// exchange runs f, the handshake on raw, with ctx's deadline on raw and
// ctx's cancellation (Close) breaking it off; after it the deadline is
// cleared.
func exchange(ctx context.Context, raw net.Conn, f func() (overlay.Peer, error)) (overlay.Peer, error) {
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	peer, err := f()
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = raw.SetDeadline(time.Time{})
	}
	return peer, err
}
