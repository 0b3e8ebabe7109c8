// Package overlay holds what every part of the super-peer network shares:
// node IDs on the Chord circle, and the Transport and Handler interfaces
// that the ring and the directory speak through, so that the same protocol
// code runs over TLS between processes (overlay/tlsnet) and in memory in
// tests and simulations (overlay/memnet) without knowing which.
package overlay

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/big"

	"soitto/overlay/wire"
)

// IDBytes is the length of an ID: 160 bits, as in Chord.
const IDBytes = sha1.Size

// ID is a point on the Chord circle of 2^160 identifiers.
type ID [IDBytes]byte

// IDOf is a node's ID: SHA-1 of its public "ip:port".
func IDOf(addr string) ID { return ID(sha1.Sum([]byte(addr))) }

// KeyOf is the ring key a name is stored under: SHA-1 of the name.
func KeyOf(name string) ID { return ID(sha1.Sum([]byte(name))) }

// String is the first 8 hex digits, enough to tell nodes apart in logs.
func (a ID) String() string { return hex.EncodeToString(a[:4]) }

// Hex is the whole ID in hex.
func (a ID) Hex() string { return hex.EncodeToString(a[:]) }

// Cmp compares a and b as 160-bit unsigned integers.
func (a ID) Cmp(b ID) int { return bytes.Compare(a[:], b[:]) }

// Between reports whether x lies on the open arc (a, b) going clockwise;
// when a == b the arc is the whole circle but a.
func Between(x, a, b ID) bool {
	switch c := a.Cmp(b); {
	case c < 0:
		return a.Cmp(x) < 0 && x.Cmp(b) < 0
	case c > 0:
		return a.Cmp(x) < 0 || x.Cmp(b) < 0
	default:
		return x != a
	}
}

// BetweenRightIncl reports whether x lies on the arc (a, b].
func BetweenRightIncl(x, a, b ID) bool { return x == b || Between(x, a, b) }

// Distance is the clockwise distance from a to b.
func Distance(a, b ID) *big.Int {
	d := new(big.Int).Sub(new(big.Int).SetBytes(b[:]), new(big.Int).SetBytes(a[:]))
	if d.Sign() < 0 {
		d.Add(d, ringSize)
	}
	return d
}

var ringSize = new(big.Int).Lsh(big.NewInt(1), 8*IDBytes)

// AddPow2 returns a + 2^i mod 2^160: the start of finger i.
func AddPow2(a ID, i int) ID {
	s := new(big.Int).SetBytes(a[:])
	s.Add(s, new(big.Int).Lsh(big.NewInt(1), uint(i)))
	s.Mod(s, ringSize)
	var out ID
	s.FillBytes(out[:])
	return out
}

// ParseID reads a 20-byte ID.
func ParseID(b []byte) (ID, error) {
	var id ID
	if len(b) != IDBytes {
		return id, fmt.Errorf("ID of %d bytes, want %d", len(b), IDBytes)
	}
	copy(id[:], b)
	return id, nil
}

// Node is a ring member: its ID and the address it listens on.
type Node struct {
	ID   ID
	Addr string
}

// IsZero reports whether n names no node.
func (n Node) IsZero() bool { return n.Addr == "" }

func (n Node) String() string { return n.ID.String() + "@" + n.Addr }

// NewNode returns the node at addr, with its ID derived from it.
func NewNode(addr string) Node { return Node{ID: IDOf(addr), Addr: addr} }

// ToWire encodes n; a zero node encodes as nil.
func (n Node) ToWire() *wire.NodeInfo {
	if n.IsZero() {
		return nil
	}
	return &wire.NodeInfo{Id: n.ID[:], Addr: n.Addr}
}

// NodeFromWire decodes and checks a NodeInfo: the ID must be SHA-1 of the
// address, so no node can claim a place on the circle it does not hold.
func NodeFromWire(w *wire.NodeInfo) (Node, error) {
	if w == nil {
		return Node{}, nil
	}
	id, err := ParseID(w.Id)
	if err != nil {
		return Node{}, err
	}
	if id != IDOf(w.Addr) {
		return Node{}, fmt.Errorf("%w: node %s claims ID %s", wire.ErrBadID, w.Addr, id)
	}
	return Node{ID: id, Addr: w.Addr}, nil
}

// Peer is the verified identity of the other end of a link.
type Peer struct {
	// Node is the peer's ring identity; zero for a client.
	Node Node
	// Name is the subject of the peer's certificate: a username, or
	// "node:ADDR" for a dedicated node.
	Name string
}

// Transport sends a request to the node at addr and waits for its
// response. The request's body is set; the transport fills in the ID. An
// error response comes back as an error that wire.ErrorFromWire made, so
// callers test it with errors.Is against wire's sentinels.
type Transport interface {
	Call(ctx context.Context, addr string, req *wire.Envelope) (*wire.Envelope, error)
}

// Handler answers requests that reach a node. It returns the response
// envelope's body (ID and response flag are the transport's job), or an
// error that the transport sends with wire.ErrorToWire.
type Handler interface {
	Handle(ctx context.Context, from Peer, req *wire.Envelope) (*wire.Envelope, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, from Peer, req *wire.Envelope) (*wire.Envelope, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, from Peer, req *wire.Envelope) (*wire.Envelope, error) {
	return f(ctx, from, req)
}

// Conn is one link to a peer, seen from either end: a handler gets the
// link its request arrived on from ConnFrom, so a super-peer can call an
// attached client back over the client's own connection (a client has no
// address to dial).
type Conn interface {
	// Call sends a request over this link and waits for the response,
	// as Transport.Call does.
	Call(ctx context.Context, req *wire.Envelope) (*wire.Envelope, error)
	// Peer is the verified identity of the other end.
	Peer() Peer
	// Done is closed when the link closes.
	Done() <-chan struct{}
	// Close closes the link.
	Close()
}

type connKey struct{}

// WithConn returns ctx carrying c; transports call it for handlers.
func WithConn(ctx context.Context, c Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ConnFrom returns the link the request being handled arrived on, or nil
// when the transport gives none.
func ConnFrom(ctx context.Context) Conn {
	c, _ := ctx.Value(connKey{}).(Conn)
	return c
}
