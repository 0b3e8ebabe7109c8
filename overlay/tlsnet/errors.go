package tlsnet

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by Call and Serve after Close.
	ErrClosed = errors.New("tlsnet: closed")

	// ErrLinkClosed is returned by a Call whose link closed before the
	// response came. The request may or may not have been handled; the
	// next Call to the address dials again.
	ErrLinkClosed = errors.New("tlsnet: link closed")

	// ErrHandshake wraps a failed TLS handshake or Hello exchange; a
	// refusal by the listener wraps the wire error it sent (errors.Is
	// with wire.ErrVersion, wire.ErrBadID, wire.ErrForbidden), a refused
	// listener certificate the login/ca error (ca.ErrWrongNode,
	// ca.ErrNotNodeCert, ca.ErrExpired).
	ErrHandshake = errors.New("tlsnet: handshake failed")
)

// errNotSent marks a link that closed before the request went out, so
// Call may safely try once more on a fresh link.
var errNotSent = fmt.Errorf("%w before the request was sent", ErrLinkClosed)

// Why links close, besides errors.
var (
	errIdle       = errors.New("idle")
	errPeerClosed = errors.New("peer closed the link")
)
