package dir

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/wire"
)

// cluster is a static Chord ring in one process: every node sees the
// same, exact membership (members), and calls reach the Handle of the
// target's Directory through an in-process transport that encodes and
// decodes every message as the wire would. A node can be killed (calls to
// it fail, but the ring has not noticed and still lists it) or removed
// (the ring noticed).
type cluster struct {
	t         *testing.T
	authority *ca.CA
	roots     *x509.CertPool
	clock     *clock
	replicas  int
	succs     int // successor list length

	mu        sync.Mutex // guards members, handlers, dirs, calls, maxFrame
	members   []overlay.Node
	handlers  map[string]overlay.Handler // nodes that answer
	dirs      map[string]*Directory
	calls     map[string]int // request body type → count
	maxFrame  int
	nextIndex int
}

func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	authority, roots := newAuthority(t)
	c := &cluster{t: t, authority: authority, roots: roots, clock: newClock(), replicas: 3, succs: 6,
		handlers: map[string]overlay.Handler{}, dirs: map[string]*Directory{}, calls: map[string]int{}}
	for range n {
		c.add()
	}
	return c
}

// add starts a new node and puts it on the ring.
func (c *cluster) add() *Directory {
	c.t.Helper()
	c.mu.Lock()
	c.nextIndex++
	self := overlay.NewNode(fmt.Sprintf("10.1.0.%d:7000", c.nextIndex))
	c.mu.Unlock()
	d, err := New(Config{
		Ring:           fakeRing{c, self},
		Transport:      fakeTransport{c, self},
		Roots:          c.roots,
		Replicas:       c.replicas,
		Now:            c.clock.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		RepairInterval: time.Hour, // tests repair by hand, or through Changed
		Grace:          30 * time.Second,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	d.changeDelay = 10 * time.Millisecond
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members = append(c.members, self)
	slices.SortFunc(c.members, func(a, b overlay.Node) int { return a.ID.Cmp(b.ID) })
	c.handlers[self.Addr] = d
	c.dirs[self.Addr] = d
	return d
}

// kill makes the node at addr stop answering; the ring still lists it.
func (c *cluster) kill(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.handlers, addr)
}

// remove takes the node at addr off the ring and stops it answering.
func (c *cluster) remove(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.handlers, addr)
	delete(c.dirs, addr)
	c.members = slices.DeleteFunc(c.members, func(n overlay.Node) bool { return n.Addr == addr })
}

// setHandler replaces what answers at addr.
func (c *cluster) setHandler(addr string, h overlay.Handler) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handlers[addr] = h
}

// live returns the directories of the nodes on the ring that answer.
func (c *cluster) live() []*Directory {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Directory
	for _, n := range c.members {
		if d := c.dirs[n.Addr]; d != nil && c.handlers[n.Addr] != nil {
			out = append(out, d)
		}
	}
	return out
}

func (c *cluster) dir(addr string) *Directory {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dirs[addr]
}

// repairAll runs rounds of repair on every live node.
func (c *cluster) repairAll(rounds int) {
	for range rounds {
		for _, d := range c.live() {
			d.repair(context.Background())
		}
	}
}

// replicaSet is the addresses of the replica set of a presence record
// (or any record whose key is its name's): successor(key) and the
// replicas after it.
func (c *cluster) replicaSet(name string) []string { return c.replicaSetOf(KindPresence, name) }

// replicaSetOf is replicaSet for a record of kind: a mail's lives at its
// recipient's key.
func (c *cluster) replicaSetOf(kind, name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, n := range successorsLocked(c.members, RingKey(kind, name), c.replicas+1) {
		out = append(out, n.Addr)
	}
	return out
}

// holders is the live nodes holding kind/name at seq.
func (c *cluster) holders(kind, name string, seq uint64) []string {
	var out []string
	for _, d := range c.live() {
		if r := d.store.Get(kind, name, c.clock.Now()); r != nil && r.Seq == seq {
			out = append(out, d.cfg.Ring.Self().Addr)
		}
	}
	return out
}

// checkPlaced fails unless every record is held by every node of its
// replica set (exactly: by no other live node).
func (c *cluster) checkPlaced(recs []*wire.Record, exactly bool) {
	c.t.Helper()
	for _, r := range recs {
		want := c.replicaSetOf(r.Kind, r.Name)
		got := c.holders(r.Kind, r.Name, r.Seq)
		for _, a := range want {
			if c.dir(a) != nil && !slices.Contains(got, a) {
				c.t.Errorf("%s seq %d: held by %v, missing on %s of its replica set %v", r.Name, r.Seq, got, a, want)
				break
			}
		}
		if exactly {
			for _, a := range got {
				if !slices.Contains(want, a) {
					c.t.Errorf("%s seq %d: held by %v, outside its replica set %v", r.Name, r.Seq, got, want)
					break
				}
			}
		}
	}
}

func successorsLocked(members []overlay.Node, key overlay.ID, n int) []overlay.Node {
	if len(members) == 0 {
		return nil
	}
	i, _ := slices.BinarySearchFunc(members, key, func(m overlay.Node, k overlay.ID) int { return m.ID.Cmp(k) })
	var out []overlay.Node
	for j := 0; j < min(n, len(members)); j++ {
		out = append(out, members[(i+j)%len(members)])
	}
	return out
}

// fakeRing is one node's view of the cluster's ring: exact.
type fakeRing struct {
	c    *cluster
	self overlay.Node
}

func (r fakeRing) Self() overlay.Node { return r.self }

func (r fakeRing) Predecessor() overlay.Node {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.predecessorLocked()
}

func (r fakeRing) predecessorLocked() overlay.Node {
	m := r.c.members
	i, _ := slices.BinarySearchFunc(m, r.self.ID, func(m overlay.Node, k overlay.ID) int { return m.ID.Cmp(k) })
	for j := 1; j <= len(m); j++ {
		if p := m[(i-j+len(m))%len(m)]; p != r.self {
			return p
		}
	}
	return overlay.Node{}
}

func (r fakeRing) Successors() []overlay.Node {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	var out []overlay.Node
	after := r.self.ID
	after[overlay.IDBytes-1]++ // past self (no two test IDs are adjacent)
	for _, n := range successorsLocked(r.c.members, after, r.c.succs+1) {
		if n != r.self && len(out) < r.c.succs {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []overlay.Node{r.self}
	}
	return out
}

func (r fakeRing) Responsible(key overlay.ID) bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	p := r.predecessorLocked()
	return p.IsZero() || overlay.BetweenRightIncl(key, p.ID, r.self.ID)
}

func (r fakeRing) Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return successorsLocked(r.c.members, key, r.c.succs), nil
}

// fakeTransport delivers calls from one node.
type fakeTransport struct {
	c    *cluster
	from overlay.Node
}

func (t fakeTransport) Call(ctx context.Context, addr string, req *wire.Envelope) (*wire.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.c.mu.Lock()
	h := t.c.handlers[addr]
	t.c.calls[fmt.Sprintf("%T", req.GetBody())]++
	t.c.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("dial %s: connection refused", addr)
	}
	in, err := t.c.wire(req)
	if err != nil {
		return nil, err
	}
	resp, err := h.Handle(ctx, overlay.Peer{Node: t.from, Name: ca.NodeName(t.from.Addr)}, in)
	if err != nil {
		return nil, wire.ErrorFromWire(wire.ErrorToWire(err))
	}
	return t.c.wire(resp)
}

// wire encodes and decodes e as a frame would, refusing what is over the
// frame limit.
func (c *cluster) wire(e *wire.Envelope) (*wire.Envelope, error) {
	b, err := proto.Marshal(e)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.maxFrame = max(c.maxFrame, len(b))
	c.mu.Unlock()
	if len(b) > wire.MaxFrame {
		return nil, wire.Errorf(wire.ErrTooLarge, "frame of %d bytes", len(b))
	}
	out := new(wire.Envelope)
	return out, proto.Unmarshal(b, out)
}

func (c *cluster) count(body any) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[fmt.Sprintf("%T", body)]
}
