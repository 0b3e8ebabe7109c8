package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"

	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
	"soitto/overlay/search"
	"soitto/overlay/wire"
)

// superPeer is one simulated super-peer: the ring, the directory and the
// search server behind one memnet handler, dispatched as overlay/node
// does. The directory's repair loop does not run: the ring is static
// here, and records reach their replicas when they are put.
type superPeer struct {
	ring *ring.Ring
	dir  *dir.Directory
	srch *search.Server
}

// Handle is the memnet handler. The fields are set before the node joins,
// so before anyone can call it.
func (p *superPeer) Handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	switch b := req.Body.(type) {
	case *wire.Envelope_FindStep, *wire.Envelope_Neighbours, *wire.Envelope_Notify, *wire.Envelope_Ping, *wire.Envelope_Leave:
		return p.ring.Handle(ctx, from, req)
	case *wire.Envelope_Put, *wire.Envelope_Get, *wire.Envelope_Replicate:
		return p.dir.Handle(ctx, from, req)
	case *wire.Envelope_Search:
		resp, err := p.srch.Handle(ctx, from, b.Search)
		if err != nil {
			return nil, err
		}
		return &wire.Envelope{Body: &wire.Envelope_SearchResult{SearchResult: resp}}, nil
	}
	return nil, wire.Errorf(wire.ErrBadRequest, "unexpected %T", req.Body)
}

// lookupRing gives the directory and the search server the ring's lookup
// as a node list (overlay/node's adapters do the same).
type lookupRing struct{ *ring.Ring }

func (r lookupRing) Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error) {
	res, err := r.Ring.Lookup(ctx, key)
	return res.Successors, err
}

// superPeers is a ring of super-peers on one memnet.Network. It is
// ringtest.Cluster's Grow and Converge again, because a Cluster keeps
// each node's Transport to itself and the directory needs it too.
type superPeers struct {
	net *memnet.Network
	r   int // successor list length
	rnd *rand.Rand

	mu   sync.Mutex            // guards live
	live []*superPeer          // in ID order
	all  map[string]*superPeer // by address, live or crashed
}

// buildSuperPeers grows a converged ring of n super-peers, as build does
// for the bare ring: sequential joins, stabilize rounds until every
// successor list and predecessor is exact, then a full finger refresh.
func buildSuperPeers(ctx context.Context, o *options, n int, seed uint64, roots *x509.CertPool) (*superPeers, error) {
	discard := slog.New(slog.DiscardHandler)
	sp := &superPeers{
		net: memnet.New(memnet.Options{Rand: rand.New(rand.NewPCG(seed, 7))}),
		r:   o.r,
		rnd: rand.New(rand.NewPCG(seed, 11)),
		all: map[string]*superPeer{},
	}
	for i := range n {
		addr := ringtest.Addr(i)
		p := new(superPeer)
		tr := sp.net.Listen(addr, p)
		r, err := ring.New(ring.Config{
			Self:           overlay.NewNode(addr),
			Transport:      tr,
			Successors:     o.r,
			LookupParallel: o.alpha,
			Logger:         discard,
			Rand:           rand.New(rand.NewPCG(seed, uint64(i))),
		})
		if err != nil {
			return nil, err
		}
		p.ring = r
		if p.dir, err = dir.New(dir.Config{Ring: lookupRing{r}, Transport: tr, Roots: roots, Logger: discard}); err != nil {
			return nil, err
		}
		if p.srch, err = search.NewServer(search.ServerConfig{Ring: lookupRing{r}, Directory: p.dir, Roots: roots, Logger: discard}); err != nil {
			return nil, err
		}
		if i == 0 {
			r.Create()
		} else if err := r.Join(ctx, []string{sp.random().ring.Self().Addr}); err != nil {
			return nil, fmt.Errorf("N=%d: join %d: %w", n, i, err)
		}
		sp.insert(p)
		if pred := sp.before(p); pred != nil {
			pred.ring.Stabilize(ctx)
		}
		r.RefreshFingers(ctx)
	}
	if err := sp.converge(ctx, 2*o.workers, 100); err != nil {
		return nil, fmt.Errorf("N=%d: %w", n, err)
	}
	return sp, nil
}

func (sp *superPeers) insert(p *superPeer) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	self := p.ring.Self()
	i, _ := slices.BinarySearchFunc(sp.live, self.ID, func(q *superPeer, id overlay.ID) int { return q.ring.Self().ID.Cmp(id) })
	sp.live = slices.Insert(sp.live, i, p)
	sp.all[self.Addr] = p
}

// before is the live node before p, or nil when p is alone.
func (sp *superPeers) before(p *superPeer) *superPeer {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	i := slices.Index(sp.live, p)
	if i < 0 || len(sp.live) < 2 {
		return nil
	}
	return sp.live[(i+len(sp.live)-1)%len(sp.live)]
}

// random is a live node chosen at random.
func (sp *superPeers) random() *superPeer {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.live[sp.rnd.IntN(len(sp.live))]
}

// Live is the live nodes in ID order.
func (sp *superPeers) Live() []*superPeer {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return slices.Clone(sp.live)
}

// crash kills the node at addr without telling anyone.
func (sp *superPeers) crash(addr string) {
	sp.mu.Lock()
	sp.live = slices.DeleteFunc(sp.live, func(p *superPeer) bool { return p.ring.Self().Addr == addr })
	sp.mu.Unlock()
	sp.net.Kill(addr)
}

// revive brings a crashed node back with its state intact.
func (sp *superPeers) revive(addr string) {
	sp.net.Revive(addr)
	if p := sp.all[addr]; p != nil && !slices.Contains(sp.Live(), p) {
		sp.insert(p)
	}
}

// each runs f on every live node, workers at a time.
func (sp *superPeers) each(workers int, f func(p *superPeer)) {
	work := make(chan *superPeer)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Go(func() {
			for p := range work {
				f(p)
			}
		})
	}
	for _, p := range sp.Live() {
		work <- p
	}
	close(work)
	wg.Wait()
}

// converge runs stabilize rounds until check passes, then refreshes
// every finger table.
func (sp *superPeers) converge(ctx context.Context, workers, maxRounds int) error {
	for i := 1; ; i++ {
		sp.each(workers, func(p *superPeer) {
			p.ring.Stabilize(ctx)
			p.ring.CheckPredecessor(ctx)
		})
		err := sp.check()
		if err == nil {
			sp.each(workers, func(p *superPeer) { p.ring.RefreshFingers(ctx) })
			return nil
		}
		if i >= maxRounds || ctx.Err() != nil {
			return fmt.Errorf("not converged after %d rounds: %w", i, err)
		}
	}
}

// check compares every live node's successor list and predecessor with
// the live set (ringtest.Cluster.Check's first half).
func (sp *superPeers) check() error {
	live := sp.Live()
	n := len(live)
	for i, p := range live {
		want := make([]overlay.Node, min(sp.r, n))
		for j := range want {
			want[j] = live[(i+1+j)%n].ring.Self()
		}
		if got := p.ring.Successors(); !slices.Equal(got, want) {
			return fmt.Errorf("node %s: successors %v, want %v", p.ring.Self(), got, want)
		}
		if n > 1 {
			if got, want := p.ring.Predecessor(), live[(i+n-1)%n].ring.Self(); got != want {
				return fmt.Errorf("node %s: predecessor %v, want %v", p.ring.Self(), got, want)
			}
		}
	}
	return nil
}
