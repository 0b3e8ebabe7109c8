package search_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/memnet"
	"soitto/overlay/presence"
	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
	"soitto/overlay/search"
	"soitto/overlay/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// superPeer is a ring node with its directory and search server behind
// one memnet handler, dispatched as overlay/node does.
type superPeer struct {
	ring *ring.Ring
	dir  *dir.Directory
	srv  *search.Server
	// answer, if set, answers SearchRequests instead of srv: a node that
	// lies or lost its copy.
	answer atomic.Pointer[func(*wire.SearchRequest) *wire.SearchResponse]
}

func (p *superPeer) Handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	switch b := req.Body.(type) {
	case *wire.Envelope_Put, *wire.Envelope_Get, *wire.Envelope_Replicate:
		return p.dir.Handle(ctx, from, req)
	case *wire.Envelope_Search:
		var resp *wire.SearchResponse
		if f := p.answer.Load(); f != nil {
			resp = (*f)(b.Search)
		} else {
			var err error
			if resp, err = p.srv.Handle(ctx, from, b.Search); err != nil {
				return nil, err
			}
		}
		return &wire.Envelope{Body: &wire.Envelope_SearchResult{SearchResult: resp}}, nil
	}
	return p.ring.Handle(ctx, from, req)
}

func (p *superPeer) setAnswer(f func(*wire.SearchRequest) *wire.SearchResponse) { p.answer.Store(&f) }

func (p *superPeer) addr() string { return p.ring.Self().Addr }

// lookupRing gives dir and search the ring's lookup as a node list.
type lookupRing struct{ *ring.Ring }

func (r lookupRing) Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error) {
	res, err := r.Ring.Lookup(ctx, key)
	return res.Successors, err
}

// testNet is a converged ring of super-peers over memnet, with a CA.
type testNet struct {
	t         *testing.T
	net       *memnet.Network
	nodes     []*superPeer // in ID order
	authority *ca.CA
	roots     *x509.CertPool
	clients   int
}

// newTestNet builds a ring of n super-peers whose directories keep
// replicas copies besides the primary, and whose search servers get sc
// (Ring, Directory, Roots and Logger filled in).
func newTestNet(t *testing.T, ctx context.Context, n, replicas int, sc search.ServerConfig) *testNet {
	t.Helper()
	authority, err := ca.Create(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	tn := &testNet{t: t, net: memnet.New(memnet.Options{Rand: rand.New(rand.NewPCG(1, 2))}), authority: authority, roots: roots}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range n {
		addr := ringtest.Addr(i)
		p := new(superPeer)
		tr := tn.net.Listen(addr, p)
		if p.ring, err = ring.New(ring.Config{Self: overlay.NewNode(addr), Transport: tr, Logger: discard, Rand: rand.New(rand.NewPCG(uint64(i), 3))}); err != nil {
			t.Fatal(err)
		}
		if p.dir, err = dir.New(dir.Config{Ring: lookupRing{p.ring}, Transport: tr, Roots: roots, Replicas: replicas, Logger: discard}); err != nil {
			t.Fatal(err)
		}
		c := sc
		c.Ring, c.Directory, c.Roots, c.Logger = lookupRing{p.ring}, p.dir, roots, discard
		if p.srv, err = search.NewServer(c); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			p.ring.Create()
		} else if err := p.ring.Join(ctx, []string{tn.nodes[0].addr()}); err != nil {
			t.Fatal(err)
		}
		tn.nodes = append(tn.nodes, p)
	}
	slices.SortFunc(tn.nodes, func(a, b *superPeer) int { return a.ring.Self().ID.Cmp(b.ring.Self().ID) })
	for round := 0; !tn.converged(); round++ {
		if round == 50 {
			t.Fatal("ring not converged after 50 rounds")
		}
		for _, p := range tn.nodes {
			p.ring.Stabilize(ctx)
			p.ring.CheckPredecessor(ctx)
		}
	}
	for _, p := range tn.nodes {
		p.ring.RefreshFingers(ctx)
	}
	return tn
}

func (tn *testNet) converged() bool {
	n := len(tn.nodes)
	for i, p := range tn.nodes {
		want := make([]overlay.Node, min(ring.DefaultSuccessors, n))
		for j := range want {
			want[j] = tn.nodes[(i+1+j)%n].ring.Self()
		}
		if !slices.Equal(p.ring.Successors(), want) || p.ring.Predecessor() != tn.nodes[(i+n-1)%n].ring.Self() {
			return false
		}
	}
	return true
}

// from returns the nodes from successor(KeyOf(name)) on, clockwise: the
// primary, then the replicas, then the rest.
func (tn *testNet) from(name string) []*superPeer {
	key := overlay.KeyOf(name)
	i, _ := slices.BinarySearchFunc(tn.nodes, key, func(p *superPeer, k overlay.ID) int { return p.ring.Self().ID.Cmp(k) })
	return append(slices.Clone(tn.nodes[i%len(tn.nodes):]), tn.nodes[:i%len(tn.nodes)]...)
}

// client is a new client endpoint, as one attached to a super-peer.
func (tn *testNet) client() overlay.Transport {
	tn.clients++
	return tn.net.Listen(ringtest.Addr(1000+tn.clients), overlay.HandlerFunc(
		func(context.Context, overlay.Peer, *wire.Envelope) (*wire.Envelope, error) {
			return nil, wire.Errorf(wire.ErrForbidden, "a client answers nothing")
		}))
}

type user struct {
	name string
	key  *ecdsa.PrivateKey
	cert []byte
}

func (tn *testNet) user(name string) user {
	tn.t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		tn.t.Fatal(err)
	}
	cert, err := tn.authority.IssueUser(name, &key.PublicKey)
	if err != nil {
		tn.t.Fatal(err)
	}
	return user{name, key, cert.Raw}
}

// record is u's presence record, online at sp, signed with key and cert
// (u's own unless a test forges).
func (u user) record(t *testing.T, name string, seq uint64, sp overlay.Node) *wire.Record {
	t.Helper()
	rec, err := presence.Record(name, presence.Online, sp, seq, time.Now().Add(presence.TTL), u.key, u.cert)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// publish puts u's record (seq 1) through sp, as u's client would.
func (tn *testNet) publish(ctx context.Context, u user, sp *superPeer) {
	tn.t.Helper()
	if err := sp.dir.Put(ctx, u.record(tn.t, u.name, 1, sp.ring.Self())); err != nil {
		tn.t.Fatal(err)
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFound(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 8, 3, search.ServerConfig{})
	alice := tn.user("alice")
	at := tn.nodes[2]
	tn.publish(ctx, alice, at)
	order := tn.from("alice")
	for _, tc := range []struct {
		name      string
		home      *superPeer
		wantAsked int
	}{
		{"home far from the key", order[5], 5}, // home, then the 4 nodes it names
		{"home holds a replica", order[2], 1},
		{"home is the primary", order[0], 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := search.Search(ctx, tn.client(), tc.home.addr(), "alice", search.Options{Roots: tn.roots})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Found || res.Info.User != "alice" || res.Info.SuperPeer != at.ring.Self() || !res.Info.Online() {
				t.Errorf("got found %v, info %+v; want alice online at %v", res.Found, res.Info, at.ring.Self())
			}
			if res.Rounds != 1 || res.Proxied || res.Cached {
				t.Errorf("got rounds %d, proxied %v, cached %v; want 1 round, neither", res.Rounds, res.Proxied, res.Cached)
			}
			if len(res.Asked) != tc.wantAsked || res.Asked[0] != tc.home.addr() {
				t.Errorf("asked %v, want %d nodes, home first", res.Asked, tc.wantAsked)
			}
		})
	}
}

func TestNoSuchUser(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 8, 3, search.ServerConfig{})
	tn.publish(ctx, tn.user("alice"), tn.nodes[0])
	order := tn.from("nobody")
	for _, tc := range []struct {
		name      string
		home      *superPeer
		wantAsked int
	}{
		{"home far from the key", order[5], 5},
		{"home is responsible", order[0], 1},
		// A replica is not responsible: it names the nodes to ask.
		{"home is a replica", order[1], 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := search.Search(ctx, tn.client(), tc.home.addr(), "nobody", search.Options{Roots: tn.roots})
			if !errors.Is(err, search.ErrNoSuchUser) || !errors.Is(err, wire.ErrNotFound) {
				t.Fatalf("got %v, want %v and %v", err, search.ErrNoSuchUser, wire.ErrNotFound)
			}
			if res.Found || res.Rounds != 1 {
				t.Errorf("got found %v in %d rounds, want not found in 1", res.Found, res.Rounds)
			}
			if len(res.Asked) != tc.wantAsked {
				t.Errorf("asked %v, want %d nodes", res.Asked, tc.wantAsked)
			}
		})
	}
}

// TestForgedRecordIgnored: a replica answers with a record that does
// not verify for the name searched; the client ignores it and believes
// the honest nodes.
func TestForgedRecordIgnored(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 8, 3, search.ServerConfig{})
	alice, mallory := tn.user("alice"), tn.user("mallory")
	tn.publish(ctx, alice, tn.nodes[1])
	evil := overlay.NewNode("203.0.113.66:7000")
	forgeries := map[string]func(name string) *wire.Record{
		"tampered payload": func(name string) *wire.Record {
			r := alice.record(t, "alice", 99, evil)
			other := alice.record(t, "alice", 99, tn.nodes[5].ring.Self())
			r.Payload = other.Payload // signed for another super-peer
			r.Name = name
			return r
		},
		"another user's record": func(string) *wire.Record { return mallory.record(t, "mallory", 99, evil) },
		"signed by another user": func(name string) *wire.Record {
			return mallory.record(t, name, 99, evil) // certificate says mallory
		},
	}
	for fname, forge := range forgeries {
		for _, name := range []string{"alice", "nobody"} {
			t.Run(fname+"/"+name, func(t *testing.T) {
				order := tn.from(name)
				liar := order[2] // a replica; the primary stays honest
				forged := forge(name)
				liar.setAnswer(func(*wire.SearchRequest) *wire.SearchResponse {
					return &wire.SearchResponse{Record: proto.CloneOf(forged)}
				})
				defer liar.answer.Store(nil)
				res, err := search.Search(ctx, tn.client(), order[5].addr(), name, search.Options{Roots: tn.roots})
				if !slices.Contains(res.Asked, liar.addr()) {
					t.Fatalf("asked %v, not the liar %s", res.Asked, liar.addr())
				}
				if name == "nobody" {
					if !errors.Is(err, search.ErrNoSuchUser) || res.Found {
						t.Errorf("got found %v, err %v; want %v", res.Found, err, search.ErrNoSuchUser)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Info.SuperPeer != tn.nodes[1].ring.Self() || res.Info.Seq != 1 {
					t.Errorf("got seq %d at %v, want the real record: seq 1 at %v", res.Info.Seq, res.Info.SuperPeer, tn.nodes[1].ring.Self())
				}
			})
		}
	}
}

// TestRoundOneUnreachable: the 4 nodes home names first are all dead, so
// home searches on the client's behalf and finds a replica further on;
// the record is cached at home and the next search is answered from
// the cache.
func TestRoundOneUnreachable(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 8, 5, search.ServerConfig{}) // 6 copies: 2 survive
	alice := tn.user("alice")
	order := tn.from("alice")
	at := order[6]
	tn.publish(ctx, alice, at)
	for _, p := range order[:4] {
		tn.net.Kill(p.addr())
	}
	home := order[7] // the primary's predecessor: it names the dead nodes from its successor list
	if got := home.srv.CacheLen(); got != 0 {
		t.Fatalf("CacheLen before: got %d, want 0", got)
	}
	res, err := search.Search(ctx, tn.client(), home.addr(), "alice", search.Options{Roots: tn.roots})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Found || res.Info.SuperPeer != at.ring.Self() {
		t.Errorf("got found %v at %v, want alice at %v", res.Found, res.Info.SuperPeer, at.ring.Self())
	}
	if !res.Proxied || res.Rounds != 1 || res.Cached {
		t.Errorf("got proxied %v, rounds %d, cached %v; want a proxied search in round 1, not cached", res.Proxied, res.Rounds, res.Cached)
	}
	if got := home.srv.CacheLen(); got != 1 {
		t.Errorf("CacheLen after: got %d, want 1", got)
	}

	res, err = search.Search(ctx, tn.client(), home.addr(), "alice", search.Options{Roots: tn.roots})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Found || !res.Cached || res.Proxied || !slices.Equal(res.Asked, []string{home.addr()}) {
		t.Errorf("second search: got found %v, cached %v, proxied %v, asked %v; want found in home's cache", res.Found, res.Cached, res.Proxied, res.Asked)
	}
}

// TestRoundTwo: of the 4 nodes of round 1, 3 are dead and the fourth
// answers but lost its copy (a node restarted empty), so the search asks
// home for 8 and finds a replica further on.
func TestRoundTwo(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 8, 5, search.ServerConfig{})
	alice := tn.user("alice")
	order := tn.from("alice")
	tn.publish(ctx, alice, order[6])
	for _, p := range order[:3] {
		tn.net.Kill(p.addr())
	}
	order[3].setAnswer(func(*wire.SearchRequest) *wire.SearchResponse { return &wire.SearchResponse{} })
	res, err := search.Search(ctx, tn.client(), order[7].addr(), "alice", search.Options{Roots: tn.roots})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Found || res.Rounds != 2 || res.Proxied {
		t.Errorf("got found %v, rounds %d, proxied %v; want found in round 2", res.Found, res.Rounds, res.Proxied)
	}
}

func TestRateLimited(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 8, 3, search.ServerConfig{Rate: rate.Every(time.Hour), Burst: 2})
	tn.publish(ctx, tn.user("alice"), tn.nodes[0])
	home := tn.from("alice")[5]
	c := tn.client()
	opt := search.Options{Roots: tn.roots}
	for i := range 2 {
		if _, err := search.Search(ctx, c, home.addr(), "alice", opt); err != nil {
			t.Fatalf("search %d: %v", i+1, err)
		}
	}
	if _, err := search.Search(ctx, c, home.addr(), "alice", opt); !errors.Is(err, wire.ErrRateLimited) {
		t.Errorf("third search: got %v, want %v", err, wire.ErrRateLimited)
	}
	// The limit is per asker.
	if _, err := search.Search(ctx, tn.client(), home.addr(), "alice", opt); err != nil {
		t.Errorf("another client: got %v, want no error", err)
	}
}

func TestBadRequest(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 2, 1, search.ServerConfig{})
	srv := tn.nodes[0].srv
	for _, req := range []*wire.SearchRequest{
		{Name: "", Count: 4},
		{Name: string(make([]byte, dir.MaxName+1)), Count: 4},
		{Name: "alice", Count: search.MaxCount + 1},
	} {
		if _, err := srv.Handle(ctx, overlay.Peer{Name: "someone"}, req); !errors.Is(err, wire.ErrBadRequest) {
			t.Errorf("name of %d bytes, count %d: got %v, want %v", len(req.Name), req.Count, err, wire.ErrBadRequest)
		}
	}
}

// TestNoFalseAbsenceAfterCrash: a node whose predecessor just crashed
// (check-predecessor forgot it, stabilize has not run) takes every key for
// the ring's writes, but must not tell a searcher "no such user" for a key
// it does not know to be its own: it names the nodes to ask instead.
func TestNoFalseAbsenceAfterCrash(t *testing.T) {
	ctx := testContext(t)
	tn := newTestNet(t, ctx, 8, 3, search.ServerConfig{})
	tn.publish(ctx, tn.user("alice"), tn.nodes[0])
	order := tn.from("alice")
	// home: the node four after alice's primary; its predecessor dies.
	home, dead := order[4], order[3]
	tn.net.Kill(dead.addr())
	home.ring.CheckPredecessor(ctx)
	if !home.ring.Predecessor().IsZero() {
		t.Fatal("home still has a predecessor after it crashed")
	}
	res, err := search.Search(ctx, tn.client(), home.addr(), "alice", search.Options{Roots: tn.roots})
	if err != nil || !res.Found || res.Info.User != "alice" {
		t.Fatalf("got %+v, %v; want alice found", res, err)
	}
}
