// Package memnet is an in-memory overlay.Transport: a Network of nodes in
// one process that call each other with simulated latency, loss and
// crashes. It exists so the ring and directory protocols can be tested and
// simulated at thousands of nodes, deterministically under
// testing/synctest, with the same code that runs over TLS.
//
// Every request and response is round-tripped through proto.Marshal and
// proto.Unmarshal, so the two sides never share memory and the byte
// counts are honest. Latency is spent with timers (time.Sleep semantics),
// which a synctest bubble's fake clock makes free.
package memnet

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"soitto/overlay"
)

// Options configures a Network. The zero value is an instant, lossless
// network.
type Options struct {
	// Latency is the fixed one-way delay of every message; a call costs
	// twice this (request and response).
	Latency time.Duration
	// Jitter adds a uniformly random extra delay in [0, Jitter) to each
	// direction.
	Jitter time.Duration
	// Drop is the probability in [0, 1] that a request is lost. The
	// caller then fails as on a timeout (see Timeout).
	Drop float64
	// Timeout is how long a call to a dead or unknown node, or a call
	// whose request was dropped, takes to fail, as a real dial or read
	// would; the caller's context ends it sooner. If zero, such calls fail
	// at once.
	Timeout time.Duration
	// Rand draws jitter and drops. If nil, a generator seeded from the
	// system's entropy is used.
	Rand *rand.Rand
}

// Network is a set of in-memory endpoints. Its methods are safe for
// concurrent use.
type Network struct {
	mu    sync.Mutex // guards opts, rnd, nodes
	opts  Options
	rnd   *rand.Rand
	nodes map[string]*endpoint

	nextID atomic.Uint64
	stats  stats
}

// endpoint is one registered node.
type endpoint struct {
	net  *Network
	addr string
	peer overlay.Peer // how this node appears to the nodes it calls
	h    overlay.Handler
	dead bool // guarded by net.mu
}

// New returns an empty network.
func New(opts Options) *Network {
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Network{opts: opts, rnd: rnd, nodes: map[string]*endpoint{}}
}

// SetLatency changes the one-way latency and jitter of calls that start
// from now on.
func (n *Network) SetLatency(latency, jitter time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.opts.Latency, n.opts.Jitter = latency, jitter
}

// SetDrop changes the probability that a request is lost.
func (n *Network) SetDrop(p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.opts.Drop = p
}

// Listen registers the node at addr, whose requests h answers, and
// returns the Transport that node calls others with. The callee sees the
// caller as overlay.Peer{Node: overlay.NewNode(addr), Name: "node:"+addr}
// — a verified identity, as TLS with node certificates would give.
// Listening again on an address replaces the earlier endpoint (a
// restarted node) and makes it live.
func (n *Network) Listen(addr string, h overlay.Handler) overlay.Transport {
	ep := &endpoint{
		net:  n,
		addr: addr,
		peer: overlay.Peer{Node: overlay.NewNode(addr), Name: "node:" + addr},
		h:    h,
	}
	n.mu.Lock()
	n.nodes[addr] = ep
	n.mu.Unlock()
	return ep
}

// Kill makes the node at addr unreachable, as a crashed process or a cut
// cable: calls to it fail with ErrUnreachable (after Options.Timeout),
// and its own calls fail the same way. Its handler is not told.
func (n *Network) Kill(addr string) { n.setDead(addr, true) }

// Revive makes a killed node reachable again, with its state intact.
func (n *Network) Revive(addr string) { n.setDead(addr, false) }

func (n *Network) setDead(addr string, dead bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ep, ok := n.nodes[addr]; ok {
		ep.dead = dead
	}
}

// Remove forgets the node at addr; calls to it fail as to a dead node.
// Its Transport stops working too.
func (n *Network) Remove(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.nodes, addr)
}

// Alive reports whether a node is registered at addr and not killed.
func (n *Network) Alive(addr string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	ep, ok := n.nodes[addr]
	return ok && !ep.dead
}
