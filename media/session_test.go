package media

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
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

// user issues a user certificate for name, as the login server does.
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

// loopbackOnly keeps candidates to 127.0.0.1, so tests send nothing off
// the machine's loopback.
func loopbackOnly(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }

// checkLeaks fails t if goroutines started during it outlive its
// cleanups (which close its sessions). Call it first.
func checkLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// link carries signalling between two sides in memory, as the overlay
// would: each message goes through Encode and DecodeMessage, in order,
// one goroutine per direction, to the session the receiving side
// registered with Config.Started. The first message to b must be the
// offer; it goes to offers, for whoever answers.
type link struct {
	t            testing.TB
	tamper       func(Message) Message // if set, rewrites what a receives
	toA, toB     chan []byte
	sessA, sessB chan *Session
	offers       chan Message
	stop         chan struct{}
	wg           sync.WaitGroup
}

func newLink(t testing.TB, a, b *Config) *link {
	l := &link{
		t:   t,
		toA: make(chan []byte, 256), toB: make(chan []byte, 256),
		sessA: make(chan *Session, 1), sessB: make(chan *Session, 1),
		offers: make(chan Message, 1),
		stop:   make(chan struct{}),
	}
	a.Send, a.Started = l.sender(l.toB), func(s *Session) { l.sessA <- s }
	b.Send, b.Started = l.sender(l.toA), func(s *Session) { l.sessB <- s }
	l.wg.Go(func() { l.deliver(l.toA, l.sessA, true) })
	l.wg.Go(func() { l.deliver(l.toB, l.sessB, false) })
	return l
}

func (l *link) sender(to chan<- []byte) func(context.Context, Message) error {
	return func(ctx context.Context, m Message) error {
		b, err := m.Encode()
		if err != nil {
			l.t.Errorf("encoding a %s message: %v", m.Kind, err)
			return err
		}
		select {
		case to <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-l.stop:
			return errors.New("link closed")
		}
	}
}

func (l *link) deliver(from <-chan []byte, sess <-chan *Session, toA bool) {
	var s *Session
	for {
		select {
		case b := <-from:
			m, err := DecodeMessage(b)
			if err != nil {
				l.t.Errorf("decoding %s: %v", b, err)
				continue
			}
			if toA && l.tamper != nil {
				m = l.tamper(m)
			}
			if m.Kind == KindOffer {
				l.offers <- m
				continue
			}
			if s == nil {
				select {
				case s = <-sess:
				case <-l.stop:
					return
				}
			}
			if err := s.Handle(m); err != nil {
				l.t.Errorf("handling a %s message: %v", m.Kind, err)
			}
		case <-l.stop:
			return
		}
	}
}

func (l *link) close() {
	close(l.stop)
	l.wg.Wait()
}

// dialed is a session Dial opened from a and the one Accept opened at b.
type dialed struct {
	a, b       *Session
	errA, errB error
	setup      time.Duration // Dial: from the call (the offer) to open
	link       *link
}

// dialPair opens a session from a to b over a link: a Dials, b Accepts
// the offer.
func dialPair(ctx context.Context, t testing.TB, a, b Config) *dialed {
	p := &dialed{link: newLink(t, &a, &b)}
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case offer := <-p.link.offers:
			p.b, p.errB = Accept(ctx, b, offer)
		case <-ctx.Done():
			p.errB = ctx.Err()
		}
	})
	start := time.Now()
	p.a, p.errA = Dial(ctx, a)
	p.setup = time.Since(start)
	wg.Wait()
	return p
}

// close closes both sessions and the link.
func (p *dialed) close() {
	for _, s := range []*Session{p.a, p.b} {
		if s != nil {
			s.Close()
		}
	}
	p.link.close()
}

// connect opens a session from alice to bob with the non-blocking API
// the app uses (Offer, Answer, Open); tamper, if set, rewrites what alice
// receives. The sessions close at the test's end.
func connect(t *testing.T, alice, bob Config, tamper func(Message) Message) (a, b *Session, errA, errB error) {
	t.Helper()
	l := newLink(t, &alice, &bob)
	l.tamper = tamper
	t.Cleanup(l.close)
	a, err := Offer(alice)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case offer := <-l.offers:
		if b, err = Answer(bob, offer); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
	case <-ctx.Done():
		t.Fatal("no offer")
	}
	var wg sync.WaitGroup
	wg.Go(func() { errA = a.Open(ctx) })
	wg.Go(func() { errB = b.Open(ctx) })
	wg.Wait()
	return a, b, errA, errB
}

func TestSessionLoopback(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	bob := Config{Certificate: net.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := dialPair(ctx, t, alice, bob)
	t.Cleanup(p.close)
	if p.errA != nil || p.errB != nil {
		t.Fatalf("open: alice %v, bob %v", p.errA, p.errB)
	}
	a, b := p.a, p.b
	t.Logf("offer to open: %v", p.setup.Round(time.Millisecond))
	if a.Remote() != "bob" || b.Remote() != "alice" || a.ID() != b.ID() || !validID(a.ID()) {
		t.Errorf("remote %q/%q, ids %s/%s", a.Remote(), b.Remote(), a.ID(), b.ID())
	}
	for _, s := range []*Session{a, b} {
		select {
		case <-s.Verified():
		default:
			t.Errorf("%s's session open but not verified", s.Remote())
		}
	}
	for i := range 3 {
		rtt, err := a.Ping(ctx)
		if err != nil || rtt <= 0 {
			t.Fatalf("ping %d: %v, %v", i, rtt, err)
		}
		t.Logf("ping %d: %v", i, rtt)
	}
	if _, err := b.Ping(ctx); err != nil {
		t.Fatalf("ping from the answerer: %v", err)
	}
	for _, s := range []*Session{a, b} {
		path, err := s.Path()
		if err != nil {
			t.Fatal(err)
		}
		if !path.Direct() || path.Local.Type != "host" || path.Local.Address != "127.0.0.1" || path.Remote.Address != "127.0.0.1" ||
			!strings.HasPrefix(path.String(), "direct (host 127.0.0.1:") {
			t.Errorf("path %+v (%s); want direct between loopback host candidates", path, path)
		}
	}
	// DTLS and the SRTP profile it negotiated are AES-GCM.
	for _, st := range a.PeerConnection().GetStats() {
		if ts, ok := st.(webrtc.TransportStats); ok {
			if !strings.Contains(ts.DTLSCipher, "ECDHE_ECDSA") || !strings.Contains(ts.DTLSCipher, "GCM") ||
				!strings.Contains(ts.SRTPCipher, "AES_256_GCM") {
				t.Errorf("DTLS cipher %q, SRTP %q; want ECDHE_ECDSA AES-GCM and AEAD_AES_256_GCM", ts.DTLSCipher, ts.SRTPCipher)
			}
		}
	}

	// Closing one side ends the other.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("bob's session did not end after alice closed hers")
	}
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "alice") {
		t.Errorf("bob's session ended with %v; want alice named", err)
	}
	if !errors.Is(a.Err(), ErrClosed) {
		t.Errorf("alice's session ended with %v, want ErrClosed", a.Err())
	}
	if _, err := a.Ping(ctx); err == nil {
		t.Error("ping on a closed session")
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestSessionOfferAnswer: the non-blocking API opens a session too, and
// a close message (not the connection's end) ends the other side with
// the reason given.
func TestSessionOfferAnswer(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	bob := Config{Certificate: net.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly}
	a, b, errA, errB := connect(t, alice, bob, nil)
	if errA != nil || errB != nil {
		t.Fatalf("open: alice %v, bob %v", errA, errB)
	}
	if err := b.Handle(Message{Session: b.ID(), Kind: KindClose, Reason: "going away"}); err != nil {
		t.Fatal(err)
	}
	<-b.Done()
	if err := b.Err(); err == nil || err.Error() != "media: alice ended the session: going away" {
		t.Errorf("bob's session ended with %v", err)
	}
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("alice's session did not end after bob's did")
	}
	if err := a.Handle(Message{Session: strings.Repeat("0", 32), Kind: KindClose}); err == nil {
		t.Error("a message for another session was taken")
	}
}

// TestSessionDialTimeout: nobody answers; Dial gives up when ctx ends,
// saying so, and leaves nothing running.
func TestSessionDialTimeout(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	var sent []string
	var mu sync.Mutex
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly,
		Send: func(_ context.Context, m Message) error {
			mu.Lock()
			sent = append(sent, m.Kind)
			mu.Unlock()
			return nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	s, err := Dial(ctx, alice)
	if s != nil || err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "session with bob not open") {
		t.Fatalf("Dial: %v, %v", s, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) < 2 || sent[0] != KindOffer || sent[len(sent)-1] != KindClose {
		t.Errorf("sent %v; want the offer first and a close last", sent)
	}
}

func TestSessionConfigRefused(t *testing.T) {
	net := newTestCA(t)
	other := newTestCA(t)
	send := func(context.Context, Message) error { return nil }
	alice := net.user("alice")
	rsaLike := alice
	rsaLike.PrivateKey = "not a key"
	mismatched := alice
	mismatched.PrivateKey = net.user("carol").PrivateKey
	for name, cfg := range map[string]Config{
		"no remote":       {Certificate: alice, Roots: net.roots, Send: send},
		"no certificate":  {Roots: net.roots, Remote: "bob", Send: send},
		"wrong key type":  {Certificate: rsaLike, Roots: net.roots, Remote: "bob", Send: send},
		"another's key":   {Certificate: mismatched, Roots: net.roots, Remote: "bob", Send: send},
		"another network": {Certificate: other.user("alice"), Roots: net.roots, Remote: "bob", Send: send},
	} {
		s, err := Offer(cfg)
		if err == nil || s != nil || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "media: ") {
			t.Errorf("%s: %v, %v", name, s, err)
		}
	}
}

// TestSessionCandidatesBeforeAnswer: the carrier may reorder messages.
// The answerer's candidates reach the offerer before the answer; the
// session keeps them until the answer is set, and opens.
func TestSessionCandidatesBeforeAnswer(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	toBob, toAlice := make(chan Message, 256), make(chan Message, 256)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly,
		Send: func(_ context.Context, m Message) error { toBob <- m; return nil }}
	bob := Config{Certificate: net.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly,
		Send: func(_ context.Context, m Message) error { toAlice <- m; return nil }}
	timeout := time.After(10 * time.Second)
	a, err := Offer(alice)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	var offer Message
	select {
	case offer = <-toBob:
	case <-timeout:
		t.Fatal("no offer")
	}
	b, err := Answer(bob, offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	// Alice's candidates go to bob as they come.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); wg.Wait() })
	wg.Go(func() {
		for {
			select {
			case m := <-toBob:
				b.Handle(m)
			case <-stop:
				return
			}
		}
	})
	// Bob's: all his candidates first, then the answer.
	var answer Message
	var cands []Message
	for answer.Kind == "" || len(cands) == 0 || cands[len(cands)-1].Kind != KindCandidates {
		select {
		case m := <-toAlice:
			if m.Kind == KindAnswer {
				answer = m
			} else {
				cands = append(cands, m)
			}
		case <-timeout:
			t.Fatalf("bob sent %d candidates and answer %q, no end-of-candidates", len(cands), answer.Kind)
		}
	}
	if len(cands) < 2 {
		t.Fatalf("bob sent %v; want a candidate at least", cands)
	}
	for _, m := range cands {
		if err := a.Handle(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Handle(answer); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Open(ctx); err != nil {
		t.Fatalf("alice: %v", err)
	}
	if err := b.Open(ctx); err != nil {
		t.Fatalf("bob: %v", err)
	}
	if _, err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// Alice knows bob's candidates from the signalling, not only as
	// peer-reflexive sources of his checks (which would open the session
	// too).
	known := map[string]bool{}
	for _, st := range a.PeerConnection().GetStats() {
		if c, ok := st.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate && c.CandidateType == webrtc.ICECandidateTypeHost {
			known[fmt.Sprintf("%s %d", c.IP, c.Port)] = true
		}
	}
	for _, m := range cands {
		if m.Kind != KindCandidate {
			continue
		}
		c, err := ice.UnmarshalCandidate(m.Candidate.Candidate)
		if err != nil {
			t.Fatal(err)
		}
		if !known[fmt.Sprintf("%s %d", c.Address(), c.Port())] {
			t.Errorf("bob's candidate %s, sent before the answer, is not among alice's remote candidates %v", c, known)
		}
	}
}
