package media

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/login/ca"
)

// testCA is a network CA for tests, with users.
type testCA struct {
	t     testing.TB
	ca    *ca.CA
	roots *x509.CertPool
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	c, err := ca.Create(t.TempDir(), "test network")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Cert)
	return &testCA{t: t, ca: c, roots: roots}
}

func (c *testCA) user(name string) tls.Certificate {
	c.t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		c.t.Fatal(err)
	}
	cert, err := c.ca.IssueUser(name, key.Public())
	if err != nil {
		c.t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

// loopbackOnly keeps host candidates to 127.0.0.1, so tests send nothing
// off the machine's loopback.
func loopbackOnly(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }

// pipe carries messages between two sessions in memory, through the
// encoder and decoder, as the overlay would.
type pipe struct {
	t        testing.TB
	mu       sync.Mutex
	offerer  *Session
	answerer *Session
	offer    chan Message
	tamper   func(m Message) Message // rewrites what the offerer receives
}

func roundTrip(t testing.TB, m Message) Message {
	b, err := m.Encode()
	if err != nil {
		t.Errorf("encode: %v", err)
		return m
	}
	out, err := DecodeMessage(b)
	if err != nil {
		t.Errorf("decode: %v", err)
	}
	return out
}

// connect opens a session from alice to bob over p, with cfg templates.
func connect(t *testing.T, alice, bob Config, tamper func(Message) Message) (*Session, *Session, error, error) {
	t.Helper()
	p := &pipe{t: t, offer: make(chan Message, 1), tamper: tamper}
	bob.Send = func(_ context.Context, m Message) error {
		m = roundTrip(t, m)
		if p.tamper != nil {
			m = p.tamper(m)
		}
		p.mu.Lock()
		o := p.offerer
		p.mu.Unlock()
		return o.Handle(m)
	}
	// The offerer's candidates wait for the answerer in a buffer.
	var early []Message
	var earlyMu sync.Mutex
	alice.Send = func(ctx context.Context, m Message) error {
		m = roundTrip(t, m)
		if m.Kind == KindOffer {
			p.offer <- m
			return nil
		}
		p.mu.Lock()
		a := p.answerer
		p.mu.Unlock()
		if a == nil {
			earlyMu.Lock()
			early = append(early, m)
			earlyMu.Unlock()
			return nil
		}
		return a.Handle(m)
	}
	a, err := Offer(alice)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.offerer = a
	p.mu.Unlock()
	b, err := Answer(bob, <-p.offer)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.answerer = b
	p.mu.Unlock()
	earlyMu.Lock()
	for _, m := range early {
		b.Handle(m)
	}
	earlyMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() { errA = a.Open(ctx) })
	wg.Go(func() { errB = b.Open(ctx) })
	wg.Wait()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b, errA, errB
}

func TestSessionLoopback(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	net := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	bob := Config{Certificate: net.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly}
	a, b, errA, errB := connect(t, alice, bob, nil)
	if errA != nil || errB != nil {
		t.Fatalf("open: alice %v, bob %v", errA, errB)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		rtt, err := a.Ping(ctx)
		if err != nil || rtt <= 0 || rtt > 2*time.Second {
			t.Fatalf("ping: %v, %v", rtt, err)
		}
	}
	if _, err := b.Ping(ctx); err != nil {
		t.Fatalf("ping from the answerer: %v", err)
	}
	path, err := a.Path()
	if err != nil {
		t.Fatal(err)
	}
	if !path.Direct() || path.Local.Type != "host" || path.Local.Address != "127.0.0.1" || !strings.HasPrefix(path.String(), "direct (host") {
		t.Errorf("path %+v (%s)", path, path)
	}
	if a.Remote() != "bob" || b.Remote() != "alice" || a.ID() != b.ID() {
		t.Errorf("remote %q/%q, ids %s/%s", a.Remote(), b.Remote(), a.ID(), b.ID())
	}
	// DTLS: the negotiated suite is AES-GCM.
	// Closing one side ends the other.
	a.Close()
	select {
	case <-b.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("bob's session did not end after alice closed hers")
	}
	b.Close()
}

// TestSessionRefusesImpostor: alice means to reach bob, but the answer
// comes from mallory (a valid user of the same network, as a super-peer
// rewriting the signalling could arrange): both ends fail, saying why.
func TestSessionRefusesImpostor(t *testing.T) {
	net := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	mallory := Config{Certificate: net.user("mallory"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly}
	_, _, errA, _ := connect(t, alice, mallory, nil)
	if errA == nil || !strings.Contains(errA.Error(), `remote certificate names "mallory", expected "bob"`) {
		t.Fatalf("alice's session: %v; want the impostor named", errA)
	}
}

// TestSessionRefusesOtherCA: a certificate for "bob" from another CA is
// refused.
func TestSessionRefusesOtherCA(t *testing.T) {
	net := newTestCA(t)
	other := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	fakeBob := Config{Certificate: other.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly}
	_, _, errA, errB := connect(t, alice, fakeBob, nil)
	if errA == nil || !strings.Contains(errA.Error(), "not issued by this network's CA") {
		t.Fatalf("alice's session: %v", errA)
	}
	if errB == nil {
		t.Fatalf("the fake bob's session opened")
	}
}
