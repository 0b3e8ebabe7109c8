package tlsnet

import (
	"crypto/sha1"
	"testing"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/wire"
)

// TestCertificateForAnotherAddress: a node certificate proves one
// address; presenting it for another is refused on either side.
func TestCertificateForAnotherAddress(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	b := startNode(t, c, &echo{}, nil)

	t.Run("listener refuses the dialler", func(t *testing.T) {
		other := startNode(t, c, &echo{}, nil) // a real node, whose certificate...
		claim := overlay.NewNode("127.0.0.1:1")
		// ...is presented with a Hello for another address.
		_, err := rawHello(t, b.addr, other.cfg.Certificate, &wire.Hello{Version: wire.Version, Node: claim.ToWire()})
		wantErr(t, err, wire.ErrForbidden)
	})
	t.Run("dialler refuses the listener", func(t *testing.T) {
		// A node whose certificate names elsewhere listens on b2's port.
		ln := listen(t, "127.0.0.1:0")
		elsewhere := "127.0.0.1:1"
		impostor := serveNet(t, Config{Self: overlay.NewNode(elsewhere), Certificate: c.nodeCert(t, elsewhere), Roots: c.roots, Handler: &echo{}}, ln)
		_, err := b.Call(ctx, impostor.addr, ping())
		wantErr(t, err, ErrHandshake, ca.ErrWrongNode)
		if s := impostor.Stats(); s.LinksOpen != 0 || s.MessagesIn != 0 {
			t.Errorf("impostor got %+v, want no link", s)
		}
	})
	t.Run("New refuses it for Self", func(t *testing.T) {
		_, err := New(Config{Self: overlay.NewNode("127.0.0.1:2"), Certificate: c.nodeCert(t, "127.0.0.1:1"), Roots: c.roots})
		wantErr(t, err, ca.ErrWrongNode)
	})
}

func TestCertificateFromAnotherCA(t *testing.T) {
	ctx := testCtx(t)
	c, evil := newCA(t), newCA(t)
	b := startNode(t, c, &echo{}, nil)
	// A node of the other network: its own CA, and it trusts ours too, so
	// only our side's checks stand in the way.
	roots := evil.roots.Clone()
	roots.AddCert(c.Cert)
	e := startNode(t, evil, &echo{}, func(cfg *Config) { cfg.Roots = roots })

	t.Run("as dialler", func(t *testing.T) {
		_, err := e.Call(ctx, b.addr, ping())
		wantErr(t, err, ErrHandshake)
		eventually(t, ctx, "b counts a failed handshake", func() bool { return b.Stats().HandshakesFailed == 1 })
		if s := b.Stats(); s.LinksOpen != 0 || s.MessagesIn != 0 {
			t.Errorf("b got %+v, want no link", s)
		}
	})
	t.Run("as listener", func(t *testing.T) {
		_, err := b.Call(ctx, e.addr, ping())
		wantErr(t, err, ErrHandshake, ca.ErrNotNodeCert)
	})
}

func TestHelloChecks(t *testing.T) {
	c := newCA(t)
	b := startNode(t, c, &echo{}, func(cfg *Config) { cfg.AcceptClients = true })
	addr := "127.0.0.1:7"
	cert := c.nodeCert(t, addr)
	wrongID := sha1.Sum([]byte("127.0.0.1:8"))
	emptyID := sha1.Sum(nil)
	for _, tc := range []struct {
		name  string
		hello *wire.Hello
		want  error
	}{
		{"version 2", &wire.Hello{Version: 2, Node: overlay.NewNode(addr).ToWire()}, wire.ErrVersion},
		{"version 0", &wire.Hello{Node: overlay.NewNode(addr).ToWire()}, wire.ErrVersion},
		{"ID of another address", &wire.Hello{Version: 1, Node: &wire.NodeInfo{Id: wrongID[:], Addr: addr}}, wire.ErrBadID},
		{"short ID", &wire.Hello{Version: 1, Node: &wire.NodeInfo{Id: wrongID[:19], Addr: addr}}, wire.ErrBadID},
		{"no address", &wire.Hello{Version: 1, Node: &wire.NodeInfo{Id: emptyID[:]}}, wire.ErrBadID},
		{"node certificate, no node", &wire.Hello{Version: 1}, wire.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rawHello(t, b.addr, cert, tc.hello)
			wantErr(t, err, tc.want)
		})
	}
	t.Run("user certificate claiming a node", func(t *testing.T) {
		_, err := rawHello(t, b.addr, c.userCert(t, "mallory"), &wire.Hello{Version: 1, Node: overlay.NewNode(addr).ToWire()})
		wantErr(t, err, wire.ErrForbidden)
	})
	t.Run("right", func(t *testing.T) {
		conn, err := rawHello(t, b.addr, cert, &wire.Hello{Version: 1, Node: overlay.NewNode(addr).ToWire()})
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	})
	t.Run("New refuses a Self whose ID is not its address's", func(t *testing.T) {
		_, err := New(Config{Self: overlay.Node{ID: wrongID, Addr: addr}, Certificate: cert, Roots: c.roots})
		wantErr(t, err, wire.ErrBadID)
	})
}

func TestClients(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	ringOnly := startNode(t, c, &echo{}, nil)
	hb := &echo{}
	open := startNode(t, c, hb, func(cfg *Config) { cfg.AcceptClients = true })
	alice := startClient(t, c, "alice")

	_, err := alice.Call(ctx, ringOnly.addr, ping())
	wantErr(t, err, ErrHandshake, wire.ErrForbidden)

	if err := callGet(ctx, alice, open.addr, "bob"); err != nil {
		t.Fatal(err)
	}
	if got, want := hb.lastPeer(), (overlay.Peer{Name: "alice"}); got != want {
		t.Errorf("node saw %+v, want %+v", got, want)
	}
	// A client answers nothing, and serves nothing.
	if err := alice.Serve(ctx, listen(t, "127.0.0.1:0")); err == nil {
		t.Error("a client's Serve succeeded")
	}
	// New refuses a client with a node certificate.
	if _, err := New(Config{Certificate: c.nodeCert(t, "127.0.0.1:1"), Roots: c.roots}); err == nil {
		t.Error("New took a node certificate without Self")
	}
}
