package chat_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"soitto/app/chat"
	"soitto/login/ca"
	"soitto/media"
)

// impairedNet is the machine's network (loopback only, by the sessions'
// IP filter) whose UDP sockets lose, duplicate and reorder what they
// send, and can be cut: the link the chat crosses below SCTP.
type impairedNet struct {
	transport.Net
	loss, dup, reorder float64
	cut                atomic.Bool

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand

	lost, doubled, swapped atomic.Int64
}

func (n *impairedNet) roll() (drop, dup, hold bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rnd.Float64() < n.loss, n.rnd.Float64() < n.dup, n.rnd.Float64() < n.reorder
}

func (n *impairedNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &impairedConn{UDPConn: c, n: n}, nil
}

type impairedConn struct {
	transport.UDPConn
	n    *impairedNet
	mu   sync.Mutex // guards held
	held *heldPacket
}

type heldPacket struct {
	b    []byte
	addr net.Addr
}

// WriteTo sends b, or not: lost, sent twice, or held back and sent after
// the next packet (reordered).
func (c *impairedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.n.cut.Load() {
		c.n.lost.Add(1)
		return len(b), nil
	}
	drop, dup, hold := c.n.roll()
	c.mu.Lock()
	prev := c.held
	c.held = nil
	if hold && prev == nil && !drop {
		c.held = &heldPacket{append([]byte(nil), b...), addr}
		c.mu.Unlock()
		c.n.swapped.Add(1)
		return len(b), nil
	}
	c.mu.Unlock()
	if drop {
		c.n.lost.Add(1)
	} else {
		if _, err := c.UDPConn.WriteTo(b, addr); err != nil {
			return 0, err
		}
		if dup {
			c.n.doubled.Add(1)
			c.UDPConn.WriteTo(b, addr)
		}
	}
	if prev != nil {
		c.UDPConn.WriteTo(prev.b, prev.addr)
	}
	return len(b), nil
}

func loopbackOnly(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }

// sessionUser is a user certificate of a test CA.
type sessionUser struct {
	cert  tls.Certificate
	roots *x509.CertPool
}

func sessionUsers(t *testing.T, names ...string) map[string]sessionUser {
	c, err := ca.Create(t.TempDir(), "test network")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Cert)
	out := map[string]sessionUser{}
	for _, n := range names {
		key, err := ca.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		cert, err := c.IssueUser(n, key.Public())
		if err != nil {
			t.Fatal(err)
		}
		out[n] = sessionUser{tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, roots}
	}
	return out
}

// openSessions opens a session between alice and bob over network, with
// signalling carried in memory. Bob's side hands the channel alice opens
// to onBob; alice's chat channel is returned.
func openSessions(t *testing.T, network transport.Net, users map[string]sessionUser, onBob func(*webrtc.DataChannel)) (a, b *media.Session, dcA *webrtc.DataChannel) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	toA, toB := make(chan media.Message, 512), make(chan media.Message, 512)
	send := func(to chan media.Message) func(context.Context, media.Message) error {
		return func(ctx context.Context, m media.Message) error {
			select {
			case to <- m:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	cfg := func(self, remote string, to chan media.Message) media.Config {
		u := users[self]
		return media.Config{Certificate: u.cert, Roots: u.roots, Remote: remote, IPFilter: loopbackOnly,
			Net: network, Send: send(to)}
	}
	ca, cb := cfg("alice", "bob", toB), cfg("bob", "alice", toA)
	cb.OnChannel = onBob
	a, err := media.Offer(ca)
	if err != nil {
		t.Fatal(err)
	}
	var pending []media.Message
	for b == nil {
		select {
		case m := <-toB:
			if m.Kind != media.KindOffer {
				pending = append(pending, m)
				continue
			}
			if b, err = media.Answer(cb, m); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("no offer")
		}
	}
	for _, m := range pending {
		b.Handle(m)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	route := func(from chan media.Message, s *media.Session) {
		for {
			select {
			case m := <-from:
				s.Handle(m)
			case <-stop:
				return
			}
		}
	}
	wg.Go(func() { route(toA, a) })
	wg.Go(func() { route(toB, b) })
	t.Cleanup(func() {
		a.Close()
		b.Close()
		close(stop)
		wg.Wait()
	})
	var ea, eb error
	var owg sync.WaitGroup
	owg.Go(func() { ea = a.Open(ctx) })
	owg.Go(func() { eb = b.Open(ctx) })
	owg.Wait()
	if ea != nil || eb != nil {
		t.Fatalf("open: alice %v, bob %v", ea, eb)
	}
	if dcA, err = a.OpenChannel("chat"); err != nil {
		t.Fatal(err)
	}
	return a, b, dcA
}

// dcLink is a data channel as an engine's link.
type dcLink struct{ dc *webrtc.DataChannel }

func (l *dcLink) Send(b []byte) error { return l.dc.Send(b) }

// side is one user's engine, restartable, with what it saw.
type side struct {
	t     *testing.T
	name  string
	path  string
	key   []byte
	mu    sync.Mutex // guards eng, link, got, delivered
	eng   *chat.Engine
	link  *dcLink
	peer  string
	got   []chat.Message
	seen  map[[16]byte]int
	deliv map[[16]byte]int
}

func newSide(t *testing.T, name, peer string) *side {
	s := &side{t: t, name: name, peer: peer, path: filepath.Join(t.TempDir(), "chat.db"),
		key: make([]byte, 32), seen: map[[16]byte]int{}, deliv: map[[16]byte]int{}}
	s.key[0] = name[0]
	s.open()
	return s
}

func (s *side) open() {
	eng, err := chat.Open(chat.Config{Path: s.path, Key: s.key, Self: s.name, Retry: 200 * time.Millisecond,
		OnEvent: func(e chat.Event) {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch e := e.(type) {
			case chat.Received:
				s.got = append(s.got, e.Message)
				s.seen[e.Message.ID]++
			case chat.Delivered:
				s.deliv[e.ID]++
			}
		}})
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.eng = eng
	l := s.link
	s.mu.Unlock()
	if l != nil {
		eng.Attach(s.peer, l)
	}
}

func (s *side) engine() *chat.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng
}

// use makes dc the side's link: frames in go to the engine.
func (s *side) use(dc *webrtc.DataChannel) {
	l := &dcLink{dc}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		// A frame that reaches an engine mid-restart is lost, as in a
		// crash; its sender tries again.
		if err := s.engine().Receive(s.peer, m.Data); err != nil && !errors.Is(err, chat.ErrClosed) {
			s.t.Errorf("%s: frame refused: %v", s.name, err)
		}
	})
	attach := func() {
		s.mu.Lock()
		old := s.link
		s.link = l
		eng := s.eng
		s.mu.Unlock()
		if old != nil {
			eng.Detach(s.peer, old)
		}
		eng.Attach(s.peer, l)
	}
	if dc.ReadyState() == webrtc.DataChannelStateOpen {
		attach()
	} else {
		dc.OnOpen(attach)
	}
}

// restart closes the engine and opens it again from its history.
func (s *side) restart() {
	s.engine().Close()
	s.open()
}

func (s *side) counts() (got, delivered int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got), len(s.deliv)
}

// TestChatOverImpairedSession: 10,000 messages alice→bob (and 1,000 back)
// through real sessions over UDP that loses 10%, duplicates 5% and
// reorders 10% of packets, across a 5-second cut of the link, a new
// session after it, and a restart of each engine: each side shows every
// message once, in order, and every message is delivered.
func TestChatOverImpairedSession(t *testing.T) {
	n, back := 10_000, 1_000
	if chat.RaceEnabled {
		n, back = 1_000, 100
	}
	users := sessionUsers(t, "alice", "bob")
	network := &impairedNet{Net: mustStdnet(t), loss: 0.10, dup: 0.05, reorder: 0.10, rnd: rand.New(rand.NewPCG(7, 8))}
	alice, bob := newSide(t, "alice", "bob"), newSide(t, "bob", "alice")
	t.Cleanup(func() { alice.engine().Close(); bob.engine().Close() })
	connect := func() *media.Session {
		a, _, dc := openSessions(t, network, users, bob.use)
		alice.use(dc)
		return a
	}
	sess := connect()

	start := time.Now()
	var wg sync.WaitGroup
	sendAll := func(s *side, count int, restartAt int) {
		for i := range count {
			if i == restartAt {
				s.restart()
			}
			if _, err := s.engine().Send(s.peer, fmt.Sprintf("%s %d", s.name, i+1)); err != nil {
				t.Errorf("%s: send %d: %v", s.name, i+1, err)
				return
			}
		}
	}
	wg.Go(func() { sendAll(alice, n, n/2) })
	wg.Go(func() { sendAll(bob, back, -1) })

	waitFor := func(what string, within time.Duration, f func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !f() {
			if time.Now().After(deadline) {
				ag, ad := alice.counts()
				bg, bd := bob.counts()
				t.Fatalf("%s not within %v: alice got %d, %d delivered; bob got %d, %d delivered", what, within, ag, ad, bg, bd)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A quarter through: the link is cut for 5 s, then a new session.
	waitFor("a quarter at bob", time.Minute, func() bool { g, _ := bob.counts(); return g >= n/4 })
	network.cut.Store(true)
	time.Sleep(5 * time.Second)
	network.cut.Store(false)
	sess.Close()
	sess = connect()
	// Three quarters through: bob restarts.
	waitFor("three quarters at bob", 2*time.Minute, func() bool { g, _ := bob.counts(); return g >= 3*n/4 })
	bob.restart()
	wg.Wait()
	waitFor("everything delivered", 2*time.Minute, func() bool {
		ag, ad := alice.counts()
		bg, bd := bob.counts()
		return bg >= n && ad >= n && ag >= back && bd >= back
	})
	took := time.Since(start)

	for _, c := range []struct {
		s     *side
		from  string
		count int
		other *side
	}{{bob, "alice", n, alice}, {alice, "bob", back, bob}} {
		c.s.mu.Lock()
		if len(c.s.got) != c.count {
			t.Errorf("%s shows %d messages, want %d", c.s.name, len(c.s.got), c.count)
		}
		for i, m := range c.s.got {
			if want := fmt.Sprintf("%s %d", c.from, i+1); m.Text != want || m.Seq != uint64(i+1) {
				t.Errorf("%s's message %d is %q (seq %d), want %q: out of order", c.s.name, i+1, m.Text, m.Seq, want)
				break
			}
		}
		for id, k := range c.s.seen {
			if k != 1 {
				t.Errorf("%s shows message %x %d times", c.s.name, id, k)
			}
		}
		c.s.mu.Unlock()
		c.other.mu.Lock()
		for id, k := range c.other.deliv {
			if k != 1 {
				t.Errorf("%s saw message %x delivered %d times", c.other.name, id, k)
			}
		}
		c.other.mu.Unlock()
		if p := c.other.engine().Pending(c.s.name); len(p) != 0 {
			t.Errorf("%s has %d messages still pending", c.other.name, len(p))
		}
	}
	t.Logf("%d + %d messages in %v; packets lost %d, duplicated %d, reordered %d",
		n, back, took.Round(time.Millisecond), network.lost.Load(), network.doubled.Load(), network.swapped.Load())
}

func mustStdnet(t *testing.T) transport.Net {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
