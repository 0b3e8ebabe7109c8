// Package ringtest runs many ring.Ring nodes in one process over a
// memnet.Network, with an oracle (the sorted IDs of the live nodes) to
// check them against. The ring's tests and cmd/soitto-sim share it, so
// the invariants the tests assert are the ones the simulator measures.
package ringtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"soitto/overlay"
	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/wire"
)

// Cluster is a set of ring nodes on one memnet.Network. Its methods are
// safe for concurrent use.
type Cluster struct {
	// Net is the network the nodes talk over.
	Net *memnet.Network
	// Intercept, if set before nodes are added, wraps each new node's
	// handler: a test makes a node misbehave with it.
	Intercept func(self overlay.Node, h overlay.Handler) overlay.Handler

	tmpl ring.Config
	r    int // successor list length

	mu     sync.Mutex // guards rnd, nodes, sorted, next
	rnd    *rand.Rand
	nodes  map[string]*member // the live ones
	sorted []overlay.Node     // the live ones in ID order
	next   int                // index of the next address

	wg sync.WaitGroup // Run loops
}

type member struct {
	ring   *ring.Ring
	cancel context.CancelFunc // stops Run; nil when not running
}

// New returns an empty cluster. Every node gets tmpl with Self and
// Transport filled in, and a Rand seeded from seed.
func New(net *memnet.Network, tmpl ring.Config, seed uint64) *Cluster {
	r := tmpl.Successors
	if r == 0 {
		r = ring.DefaultSuccessors
	}
	return &Cluster{Net: net, tmpl: tmpl, r: r, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), nodes: map[string]*member{}}
}

// Addr is the address of the i-th node a cluster makes, in the
// benchmarking range 198.18.0.0/15 (RFC 2544), which the project keeps
// for test addresses; it repeats after 2^17 nodes.
func Addr(i int) string {
	return fmt.Sprintf("198.%d.%d.%d:7000", 18+(i>>16&1), i>>8&255, i&255)
}

// handler lets a node listen before its Ring exists.
type handler struct{ r atomic.Pointer[ring.Ring] }

func (h *handler) Handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	return h.r.Load().Handle(ctx, from, req)
}

// add makes a node at the next address, alone, listening on the network
// but not yet in the live set.
func (c *Cluster) add() (*ring.Ring, error) {
	c.mu.Lock()
	addr := Addr(c.next)
	c.next++
	seed := c.rnd.Uint64()
	c.mu.Unlock()
	h := new(handler)
	cfg := c.tmpl
	cfg.Self = overlay.NewNode(addr)
	var hh overlay.Handler = h
	if c.Intercept != nil {
		hh = c.Intercept(cfg.Self, h)
	}
	cfg.Transport = c.Net.Listen(addr, hh)
	cfg.Rand = rand.New(rand.NewPCG(seed, seed+1))
	r, err := ring.New(cfg)
	if err != nil {
		c.Net.Remove(addr)
		return nil, err
	}
	h.r.Store(r)
	return r, nil
}

// insert adds r to the live set.
func (c *Cluster) insert(r *ring.Ring) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := r.Self()
	c.nodes[n.Addr] = &member{ring: r}
	i, _ := slices.BinarySearchFunc(c.sorted, n.ID, func(a overlay.Node, id overlay.ID) int { return a.ID.Cmp(id) })
	c.sorted = slices.Insert(c.sorted, i, n)
}

// Create makes the first node of a ring.
func (c *Cluster) Create() (*ring.Ring, error) {
	r, err := c.add()
	if err != nil {
		return nil, err
	}
	r.Create()
	c.insert(r)
	return r, nil
}

// Join makes a node and joins it through a random live node.
func (c *Cluster) Join(ctx context.Context) (*ring.Ring, error) {
	boot := c.Random()
	if boot == nil {
		return nil, fmt.Errorf("ringtest: no live node to join through")
	}
	r, err := c.add()
	if err != nil {
		return nil, err
	}
	if err := r.Join(ctx, []string{boot.Self().Addr}); err != nil {
		c.Net.Remove(r.Self().Addr)
		return nil, err
	}
	c.insert(r)
	return r, nil
}

// Start runs r's maintenance (Run) until Crash, Leave or Stop.
func (c *Cluster) Start(r *ring.Ring) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.nodes[r.Self().Addr]
	if m == nil || m.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	c.wg.Go(func() { r.Run(ctx) })
}

// remove takes addr out of the live set and stops its maintenance.
func (c *Cluster) remove(addr string) *ring.Ring {
	c.mu.Lock()
	m := c.nodes[addr]
	delete(c.nodes, addr)
	if m != nil {
		c.sorted = slices.DeleteFunc(c.sorted, func(n overlay.Node) bool { return n.Addr == addr })
	}
	c.mu.Unlock()
	if m == nil {
		return nil
	}
	if m.cancel != nil {
		m.cancel()
	}
	return m.ring
}

// Crash kills the node at addr: it stops answering at once, telling no
// one.
func (c *Cluster) Crash(addr string) {
	if c.remove(addr) != nil {
		c.Net.Kill(addr)
	}
}

// Leave makes the node at addr leave gracefully and takes it off the
// network.
func (c *Cluster) Leave(ctx context.Context, addr string) error {
	r := c.remove(addr)
	if r == nil {
		return nil
	}
	err := r.Leave(ctx)
	c.Net.Remove(addr)
	return err
}

// Stop ends every node's maintenance and waits for it.
func (c *Cluster) Stop() {
	c.mu.Lock()
	for _, m := range c.nodes {
		if m.cancel != nil {
			m.cancel()
			m.cancel = nil
		}
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// Len is the number of live nodes.
func (c *Cluster) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// Rings is the live nodes, in ID order.
func (c *Cluster) Rings() []*ring.Ring {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*ring.Ring, len(c.sorted))
	for i, n := range c.sorted {
		out[i] = c.nodes[n.Addr].ring
	}
	return out
}

// Random is a live node chosen at random, or nil.
func (c *Cluster) Random() *ring.Ring {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.nodes) == 0 {
		return nil
	}
	return c.nodes[c.sorted[c.rnd.IntN(len(c.sorted))].Addr].ring
}

// Key draws a random key from the cluster's seeded generator.
func (c *Cluster) Key() overlay.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	var k overlay.ID
	for i := 0; i < len(k); i += 8 {
		v := c.rnd.Uint64()
		for j := 0; j < 8 && i+j < len(k); j++ {
			k[i+j] = byte(v >> (8 * j))
		}
	}
	return k
}

// Oracle is the true state of the ring: its live nodes in ID order.
type Oracle struct {
	Nodes []overlay.Node
	R     int // successor list length
}

// Oracle returns the live nodes as they should be arranged.
func (c *Cluster) Oracle() Oracle {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Oracle{R: c.r, Nodes: slices.Clone(c.sorted)}
}

// index is the position of successor(key) in o.Nodes.
func (o Oracle) index(key overlay.ID) int {
	i, _ := slices.BinarySearchFunc(o.Nodes, key, func(n overlay.Node, k overlay.ID) int { return n.ID.Cmp(k) })
	return i % len(o.Nodes)
}

// Successors is successor(key) and the nodes after it: min(R, N) nodes.
func (o Oracle) Successors(key overlay.ID) []overlay.Node {
	return o.from(o.index(key), min(o.R, len(o.Nodes)))
}

func (o Oracle) from(i, n int) []overlay.Node {
	out := make([]overlay.Node, n)
	for j := range out {
		out[j] = o.Nodes[(i+j)%len(o.Nodes)]
	}
	return out
}

// SuccessorList is what node i's successor list should be.
func (o Oracle) SuccessorList(i int) []overlay.Node {
	return o.from(i+1, min(o.R, len(o.Nodes)))
}

// Predecessor is what node i's predecessor should be; zero when alone.
func (o Oracle) Predecessor(i int) overlay.Node {
	if len(o.Nodes) == 1 {
		return overlay.Node{}
	}
	return o.Nodes[(i+len(o.Nodes)-1)%len(o.Nodes)]
}

// Fingers is what node i's Fingers should be: the distinct
// successor(self + 2^k), in finger order, without itself.
func (o Oracle) Fingers(i int) []overlay.Node {
	self := o.Nodes[i]
	var out []overlay.Node
	for k := range 8 * overlay.IDBytes {
		f := o.Nodes[o.index(overlay.AddPow2(self.ID, k))]
		if f != self && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
