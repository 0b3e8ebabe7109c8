package peer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"testing"
	"time"

	"soitto/bootstrap"
	"soitto/overlay"
	"soitto/overlay/node/nodetest"
	"soitto/overlay/peer"
	"soitto/overlay/presence"
	"soitto/overlay/signal"
	"soitto/overlay/tlsnet"
	"soitto/overlay/wire"
)

// Killing the super-peer a client is attached to: the client attaches to
// another and can be found there within 10 s.
func TestReattachAfterCrash(t *testing.T) {
	cl := nodetest.Start(t, 4, nodetest.Options{})
	bob := startPeer(t, cl, "bob", nil)
	waitAttached(t, bob)
	home := bob.Home()
	victim := -1
	for i, n := range cl.Nodes {
		if n.Addr == home.Addr {
			victim = i
		}
	}
	// alice, who searches, must not be on the node that dies.
	alice := startPeer(t, cl, "alice", preferring(cl.Nodes[(victim+1)%len(cl.Nodes)].Addr))
	waitAttached(t, alice)
	if alice.Home() == home {
		t.Fatalf("alice attached to %s although she prefers another", home.Addr)
	}
	eventually(t, 10*time.Second, findOnline(alice, "bob", presence.Online))
	killed := time.Now()
	cl.Crash(victim)
	took := eventually(t, 10*time.Second, func() error {
		if err := findOnline(alice, "bob", presence.Online)(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := alice.Search(ctx, "bob")
		if err != nil {
			return err
		}
		if res.Info.SuperPeer.Addr == home.Addr {
			return fmt.Errorf("bob still shown at the dead super-peer %s", home.Addr)
		}
		return nil
	})
	t.Logf("bob found again at %s %v after his super-peer %s crashed", bob.Home().Addr, time.Since(killed).Round(time.Millisecond), home.Addr)
	if took > 10*time.Second {
		t.Errorf("took %v", took)
	}
}

// A presence record for someone else, a forged one and a replayed
// (older) one are all refused by the ring.
func TestPresenceRefused(t *testing.T) {
	cl := nodetest.Start(t, 3, nodetest.Options{})
	mallory := cl.User("mallory")
	bob := cl.User("bob")
	client := rawClient(t, cl, mallory)
	put := func(r *wire.Record) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := client.Call(ctx, cl.Nodes[0].Addr, &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: r}}})
		return err
	}
	exp := time.Now().Add(time.Minute)
	mkey := mallory.PrivateKey.(*ecdsa.PrivateKey)
	// For someone else, signed with mallory's own certificate.
	r, err := presence.Record("bob", presence.Online, cl.Nodes[0].Self(), 1, exp, mkey, mallory.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := put(r); !errors.Is(err, wire.ErrForbidden) {
		t.Errorf("record for bob signed by mallory: %v, want forbidden", err)
	}
	// Forged: bob's certificate, mallory's signature.
	r, _ = presence.Record("mallory", presence.Online, cl.Nodes[0].Self(), 1, exp, mkey, mallory.Certificate[0])
	r.Name, r.Cert = "bob", bob.Certificate[0]
	if err := put(r); !errors.Is(err, wire.ErrBadRecord) {
		t.Errorf("forged record: %v, want bad record", err)
	}
	// Replayed: an older seq after a newer one.
	old, _ := presence.Record("mallory", presence.Online, cl.Nodes[0].Self(), 5, exp, mkey, mallory.Certificate[0])
	newer, _ := presence.Record("mallory", presence.Away, cl.Nodes[0].Self(), 6, exp, mkey, mallory.Certificate[0])
	if err := put(newer); err != nil {
		t.Fatal(err)
	}
	if err := put(old); !errors.Is(err, wire.ErrStale) {
		t.Errorf("replayed older record: %v, want stale", err)
	}
	if err := put(newer); !errors.Is(err, wire.ErrStale) {
		t.Errorf("replayed same record: %v, want stale", err)
	}
}

// rawClient is a bare TLS client with cert, for speaking the protocol
// directly.
func rawClient(t *testing.T, cl *nodetest.Cluster, cert tls.Certificate) *tlsnet.Net {
	t.Helper()
	n, err := tlsnet.New(tlsnet.Config{Certificate: cert, Roots: cl.Roots(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// A signal sent to a user arrives exactly once, even when the same bytes
// are relayed again; signals to users who are offline or not known fail
// with clear errors.
func TestRelayExactlyOnce(t *testing.T) {
	cl := nodetest.Start(t, 3, nodetest.Options{})
	alice := startPeer(t, cl, "alice", nil)
	bob := startPeer(t, cl, "bob", nil)
	waitAttached(t, alice)
	waitAttached(t, bob)
	eventually(t, 10*time.Second, findOnline(alice, "bob", presence.Online))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := alice.Send(ctx, "bob", "ping", []byte("hello bob")); err != nil {
		t.Fatal(err)
	}
	var got *wire.Signal
	select {
	case got = <-bob.got:
	case <-ctx.Done():
		t.Fatal("bob got nothing")
	}
	if got.From != "alice" || got.Kind != "ping" || string(got.Payload) != "hello bob" {
		t.Fatalf("bob got %+v", got)
	}
	// The same signal again, straight to bob's super-peer from alice's
	// attachment: refused as a replay, not delivered twice.
	if err := relayAgain(ctx, t, cl, alice, bob, got); !errors.Is(err, wire.ErrReplayed) {
		t.Errorf("replayed signal: %v, want replayed", err)
	}
	select {
	case s := <-bob.got:
		t.Fatalf("delivered twice: %+v", s)
	case <-time.After(300 * time.Millisecond):
	}

	// Unknown user, and a user who logged out.
	if err := alice.Send(ctx, "nobody", "ping", nil); !errors.Is(err, wire.ErrOffline) {
		t.Errorf("send to an unknown user: %v, want offline", err)
	}
	bob.stop()
	eventually(t, 5*time.Second, findOnline(alice, "bob", presence.Offline))
	if err := alice.Send(ctx, "bob", "ping", nil); !errors.Is(err, wire.ErrOffline) {
		t.Errorf("send to bob after logout: %v, want offline", err)
	}
}

// relayAgain sends sig once more through a fresh attachment of alice's
// to the super-peer bob is attached to.
func relayAgain(ctx context.Context, t *testing.T, cl *nodetest.Cluster, alice, bob *client, sig *wire.Signal) error {
	t.Helper()
	// A second endpoint of alice's: the node wants relays from attached
	// clients only.
	conn := attachRaw(ctx, t, cl, aliceCert(t, cl, alice), bob.Home().Addr)
	_, err := conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Relay{Relay: &wire.RelayRequest{Signal: sig, Via: bob.Home().Addr}}})
	return err
}

// aliceCert is a second certificate for alice (the login server issues
// one per login); a signal signed with her first stays valid.
func aliceCert(t *testing.T, cl *nodetest.Cluster, alice *client) tls.Certificate {
	return cl.User(alice.User())
}

// A relay must be signed by the sender: a client cannot relay another
// user's signal, nor one it altered.
func TestRelayForgeryRefused(t *testing.T) {
	cl := nodetest.Start(t, 2, nodetest.Options{})
	bob := startPeer(t, cl, "bob", nil)
	waitAttached(t, bob)
	alice := cl.User("alice")
	mallory := cl.User("mallory")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := attachRaw(ctx, t, cl, mallory, bob.Home().Addr)
	relay := func(s *wire.Signal) error {
		_, err := conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Relay{Relay: &wire.RelayRequest{Signal: s, Via: bob.Home().Addr}}})
		return err
	}
	// alice's genuine signal, relayed by mallory.
	sig, err := signal.New("alice", "bob", "ping", []byte("hi"), alice.PrivateKey.(*ecdsa.PrivateKey), alice.Certificate[0], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := relay(sig); !errors.Is(err, wire.ErrForbidden) {
		t.Errorf("mallory relaying alice's signal: %v, want forbidden", err)
	}
	// mallory's own, altered after signing.
	sig, _ = signal.New("mallory", "bob", "ping", []byte("hi"), mallory.PrivateKey.(*ecdsa.PrivateKey), mallory.Certificate[0], time.Now())
	sig.Payload = []byte("altered")
	if err := relay(sig); !errors.Is(err, wire.ErrBadRecord) {
		t.Errorf("altered signal: %v, want bad record", err)
	}
	select {
	case s := <-bob.got:
		t.Fatalf("bob got %+v", s)
	case <-time.After(200 * time.Millisecond):
	}
}

// A super-peer at capacity refuses with a redirect, and a peer follows it.
func TestCapacityRedirect(t *testing.T) {
	cl := nodetest.Start(t, 3, nodetest.Options{MaxClients: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	full := cl.Nodes[0]
	attach := func(name string) *wire.AttachResponse {
		n := rawClient(t, cl, cl.User(name))
		inst := make([]byte, 16)
		rand.Read(inst)
		resp, err := n.Call(ctx, full.Addr, &wire.Envelope{Body: &wire.Envelope_Attach{Attach: &wire.AttachRequest{Instance: inst}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetAttachResult()
	}
	if r := attach("first"); !r.GetAccepted() || len(r.GetSuperPeers()) == 0 {
		t.Fatalf("first attach: %+v", r)
	}
	r := attach("second")
	if r.GetAccepted() || len(r.GetRedirect()) == 0 {
		t.Fatalf("attach at capacity: %+v, want a redirect", r)
	}
	for _, w := range r.GetRedirect() {
		if n, err := overlay.NodeFromWire(w); err != nil || n.Addr == full.Addr {
			t.Errorf("redirect to %v (%v)", w, err)
		}
	}
	// A peer that prefers the full node ends up on another.
	p := startPeer(t, cl, "third", preferring(full.Addr))
	waitAttached(t, p)
	if p.Home().Addr == full.Addr {
		t.Fatalf("attached to the full node %s", full.Addr)
	}
}

// preferring makes a peer's host cache rank addr first.
func preferring(addr string) func(*peer.Config) {
	return func(c *peer.Config) {
		c.Hosts = bootstrap.NewHostCache(nil)
		c.Hosts.Success(addr, time.Microsecond)
	}
}

// A client's host cache learns super-peers beyond the network file from
// the super-peer it attaches to.
func TestHostCacheLearns(t *testing.T) {
	cl := nodetest.Start(t, 4, nodetest.Options{})
	hosts := bootstrap.NewHostCache(nil)
	only := cl.Nodes[0].Addr
	net := *cl.Network
	net.Bootstrap = []string{only}
	p := startPeer(t, cl, "learner", func(c *peer.Config) {
		c.Network = &net
		c.Hosts = hosts
		c.Refresh = 200 * time.Millisecond
	})
	waitAttached(t, p)
	eventually(t, 5*time.Second, func() error {
		if n := hosts.Len(); n != len(cl.Nodes) {
			return fmt.Errorf("host cache holds %d super-peers, want %d", n, len(cl.Nodes))
		}
		return nil
	})
	if h := hosts.Hosts()[0]; h.Addr != only || h.LastSuccess.IsZero() {
		t.Errorf("best host %+v, want the one attached to, with a success", h)
	}
}

// attachRaw attaches a bare client with cert to the super-peer at addr.
func attachRaw(ctx context.Context, t *testing.T, cl *nodetest.Cluster, cert tls.Certificate, addr string) overlay.Conn {
	t.Helper()
	conn, err := rawClient(t, cl, cert).Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	inst := make([]byte, 16)
	rand.Read(inst)
	if _, err := conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Attach{Attach: &wire.AttachRequest{Instance: inst}}}); err != nil {
		t.Fatal(err)
	}
	return conn
}
