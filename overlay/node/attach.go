package node

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// Defaults for the client-facing fields of Config.
const (
	DefaultMaxClients = 10_000
	DefaultKeepAlive  = 15 * time.Second
	instanceSize      = 16
	maxPeersAnswer    = 32
)

// attachment is one client endpoint attached here.
type attachment struct {
	user     string
	instance [instanceSize]byte
	receive  bool
	conn     overlay.Conn
}

// clients is the table of attached clients.
type clients struct {
	max int

	mu     sync.Mutex // guards byConn and byUser
	byConn map[overlay.Conn]*attachment
	byUser map[string][]*attachment
}

func newClients(max int) *clients {
	return &clients{max: max, byConn: map[overlay.Conn]*attachment{}, byUser: map[string][]*attachment{}}
}

// add attaches a; an endpoint of the same user and instance that is
// attached already is replaced (and its link closed). It reports false
// when the table is full.
func (c *clients) add(a *attachment) (ok bool) {
	c.mu.Lock()
	var old *attachment
	if cur := c.byConn[a.conn]; cur != nil {
		c.removeLocked(cur)
	}
	for _, b := range c.byUser[a.user] {
		if b.instance == a.instance {
			old = b
		}
	}
	if old != nil {
		c.removeLocked(old)
	}
	if len(c.byConn) >= c.max {
		c.mu.Unlock()
		return false
	}
	c.byConn[a.conn] = a
	c.byUser[a.user] = append(c.byUser[a.user], a)
	c.mu.Unlock()
	if old != nil && old.conn != a.conn {
		old.conn.Close()
	}
	return true
}

// drop removes the attachment on conn, if any.
func (c *clients) drop(conn overlay.Conn) *attachment {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.byConn[conn]
	if a != nil {
		c.removeLocked(a)
	}
	return a
}

func (c *clients) removeLocked(a *attachment) {
	delete(c.byConn, a.conn)
	list := c.byUser[a.user]
	for i, b := range list {
		if b == a {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.byUser, a.user)
	} else {
		c.byUser[a.user] = list
	}
}

// attached reports whether conn is an attached client's link.
func (c *clients) attached(conn overlay.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byConn[conn] != nil
}

// receivers are user's endpoints that take relayed messages.
func (c *clients) receivers(user string) []*attachment {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*attachment
	for _, a := range c.byUser[user] {
		if a.receive {
			out = append(out, a)
		}
	}
	return out
}

func (c *clients) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byConn)
}

// Clients is how many client endpoints are attached to the node.
func (n *Node) Clients() int { return n.clients.len() }

func (n *Node) handleAttach(ctx context.Context, from overlay.Peer, req *wire.AttachRequest) (*wire.Envelope, error) {
	conn := overlay.ConnFrom(ctx)
	if conn == nil {
		return nil, wire.Errorf(wire.ErrInternal, "no link to attach")
	}
	if len(req.GetInstance()) != instanceSize {
		return nil, wire.Errorf(wire.ErrBadRequest, "attach with an instance of %d bytes, want %d", len(req.GetInstance()), instanceSize)
	}
	a := &attachment{user: from.Name, receive: req.GetReceive(), conn: conn}
	copy(a.instance[:], req.GetInstance())
	resp := &wire.AttachResponse{SuperPeers: nodesToWire(n.knownNodes(maxPeersAnswer)), KeepaliveSeconds: uint32(n.cfg.KeepAlive / time.Second)}
	if !n.clients.add(a) {
		n.m.redirects.Inc()
		resp.Redirect = nodesToWire(n.knownNodes(8))
		n.log.Info("at capacity; redirecting a client", "user", from.Name, "clients", n.clients.len())
		return &wire.Envelope{Body: &wire.Envelope_AttachResult{AttachResult: resp}}, nil
	}
	resp.Accepted = true
	select {
	case <-conn.Done(): // it closed while we added it: OnClose may have run first
		n.clients.drop(conn)
	default:
	}
	n.log.Debug("client attached", "user", from.Name, "receive", a.receive)
	return &wire.Envelope{Body: &wire.Envelope_AttachResult{AttachResult: resp}}, nil
}

// linkClosed drops the attachment of a link that closed.
func (n *Node) linkClosed(c overlay.Conn) {
	if a := n.clients.drop(c); a != nil {
		n.log.Debug("client detached", "user", a.user)
	}
}

// knownNodes is up to max ring members this node knows, itself left out:
// its successors, predecessor and fingers, shuffled, for clients' host
// caches and redirects.
func (n *Node) knownNodes(max int) []overlay.Node {
	seen := map[string]bool{n.self.Addr: true}
	var out []overlay.Node
	add := func(ns ...overlay.Node) {
		for _, x := range ns {
			if !x.IsZero() && !seen[x.Addr] {
				seen[x.Addr] = true
				out = append(out, x)
			}
		}
	}
	add(n.ring.Successors()...)
	add(n.ring.Predecessor())
	add(n.ring.Fingers()...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if len(out) > max {
		out = out[:max]
	}
	return out
}

func (n *Node) handlePeers(req *wire.PeersRequest) *wire.Envelope {
	count := int(req.GetCount())
	if count <= 0 || count > maxPeersAnswer {
		count = maxPeersAnswer
	}
	return &wire.Envelope{Body: &wire.Envelope_PeersResult{PeersResult: &wire.PeersResponse{Nodes: nodesToWire(n.knownNodes(count))}}}
}

func nodesToWire(ns []overlay.Node) []*wire.NodeInfo {
	out := make([]*wire.NodeInfo, 0, len(ns))
	for _, x := range ns {
		out = append(out, x.ToWire())
	}
	return out
}
