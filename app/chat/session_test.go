package chat_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"soitto/app/chat"
	"soitto/media"
	"soitto/media/mediatest"
	"soitto/nat"
)

// openSessions opens a session between alice and bob over network. Bob's
// side hands the channel alice opens to onBob; alice's chat channel is
// returned.
func openSessions(t *testing.T, network transport.Net, users map[string]mediatest.User, onBob func(*webrtc.DataChannel)) (*media.Session, *webrtc.DataChannel) {
	t.Helper()
	ca, cb := users["alice"].Config("bob"), users["bob"].Config("alice")
	ca.Net, cb.Net = network, network
	cb.OnChannel = onBob
	a, _ := mediatest.Pair(t, ca, cb)
	dc, err := a.OpenChannel("chat")
	if err != nil {
		t.Fatal(err)
	}
	return a, dc
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
	users := mediatest.Users(t, "alice", "bob")
	network := &mediatest.Impaired{Net: mustStdnet(t), Loss: 0.10, Dup: 0.05, Reorder: 0.10, Seed: 7}
	alice, bob := newSide(t, "alice", "bob"), newSide(t, "bob", "alice")
	t.Cleanup(func() { alice.engine().Close(); bob.engine().Close() })
	connect := func() *media.Session {
		a, dc := openSessions(t, network, users, bob.use)
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
	network.Cut(true)
	time.Sleep(5 * time.Second)
	network.Cut(false)
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
		n, back, took.Round(time.Millisecond), network.Lost.Load(), network.Doubled.Load(), network.Swapped.Load())
}

func mustStdnet(t *testing.T) transport.Net {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkChatLatency: from Send at alice to the Received event at bob
// (stored and acknowledged on the way), one message at a time, over a
// session on loopback, direct and relay-only through our TURN relay. It
// reports the median and the 99th percentile.
func BenchmarkChatLatency(b *testing.B) {
	users := mediatest.Users(b, "alice", "bob")
	relay, err := nat.NewTURN(nat.TURNConfig{ListenUDP: "127.0.0.1:0", RelayIP: "127.0.0.1", Lab: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { relay.Close() })
	for _, path := range []string{"direct", "relay"} {
		b.Run(path, func(b *testing.B) {
			got := make(chan time.Time, 1)
			open := func(name string, on func(chat.Event)) *chat.Engine {
				e, err := chat.Open(chat.Config{Path: filepath.Join(b.TempDir(), "chat.db"), Key: make([]byte, 32), Self: name, OnEvent: on})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { e.Close() })
				return e
			}
			alice := open("alice", nil)
			bob := open("bob", func(e chat.Event) {
				if _, ok := e.(chat.Received); ok {
					got <- time.Now()
				}
			})
			ca, cb := users["alice"].Config("bob"), users["bob"].Config("alice")
			if path == "relay" {
				for _, c := range []*media.Config{&ca, &cb} {
					name, pass, _ := relay.Credentials(c.Remote + "-peer")
					c.RelayOnly = true
					c.ICEServers = []webrtc.ICEServer{{URLs: nat.TURNURLs(relay.UDPAddr().String(), ""), Username: name, Credential: pass}}
				}
			}
			attach := func(e *chat.Engine, peer string, dc *webrtc.DataChannel) {
				l := &dcLink{dc}
				dc.OnMessage(func(m webrtc.DataChannelMessage) { e.Receive(peer, m.Data) })
				dc.OnOpen(func() { e.Attach(peer, l) })
			}
			cb.OnChannel = func(dc *webrtc.DataChannel) {
				l := &dcLink{dc}
				dc.OnMessage(func(m webrtc.DataChannelMessage) { bob.Receive("alice", m.Data) })
				bob.Attach("alice", l)
			}
			a, _ := mediatest.Pair(b, ca, cb)
			dc, err := a.OpenChannel("chat")
			if err != nil {
				b.Fatal(err)
			}
			attach(alice, "bob", dc)
			for dc.ReadyState() != webrtc.DataChannelStateOpen {
				time.Sleep(5 * time.Millisecond)
			}
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := alice.Send("bob", fmt.Sprintf("message %d", i)); err != nil {
					b.Fatal(err)
				}
				select {
				case at := <-got:
					lat = append(lat, at.Sub(start))
				case <-time.After(10 * time.Second):
					b.Fatal("no message within 10 s")
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
		})
	}
}
