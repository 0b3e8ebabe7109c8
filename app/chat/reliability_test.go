package chat

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// side is one user's engine across restarts.
type side struct {
	t    *testing.T
	name string
	peer string
	dir  string
	key  []byte
	rec  *recorder

	mu   sync.RWMutex // guards e: held for writing while restarting
	e    *Engine
	link *pipe // frames to the peer
}

func (s *side) open() {
	s.e = openTest(s.t, s.dir, s.name, s.key, s.rec, 20*time.Millisecond)
}

// deliver is a frame from the peer.
func (s *side) deliver(b []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.e.Receive(s.peer, b); err != nil && err != ErrClosed {
		s.t.Errorf("%s: Receive: %v", s.name, err)
	}
}

func (s *side) send(text string) (Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.e.Send(s.peer, text)
}

// restart closes the engine and opens it again from its file.
func (s *side) restart() {
	s.mu.Lock()
	if err := s.e.Close(); err != nil {
		s.t.Error(err)
	}
	s.open()
	s.mu.Unlock()
	s.e.Attach(s.peer, s.link)
}

func (s *side) detach() { s.e.Detach(s.peer, s.link) }
func (s *side) attach() { s.e.Attach(s.peer, s.link) }

// checkInOrder checks that got are the texts prefix-1 … prefix-n, once
// each, in seq order.
func checkInOrder(t *testing.T, who string, got []Message, prefix string, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%s: got %d messages, want %d", who, len(got), n)
	}
	for i, m := range got {
		want := fmt.Sprintf("%s-%d", prefix, i+1)
		if m.Seq != uint64(i+1) || m.Text != want {
			t.Fatalf("%s: message %d is seq %d %q, want seq %d %q", who, i, m.Seq, m.Text, i+1, want)
		}
	}
}

// TestReliableDelivery sends 10,000 messages alice→bob and 1,000
// bob→alice at once (a tenth of that, and a 1 s cut, with -race) over links that lose 10 %, duplicate 5 % and reorder
// 10 % of frames, cut both ways for 5 s, and restart each engine once in
// the middle: bob sees alice's messages exactly once and in order, alice
// sees every one delivered once, and the other way round.
func TestReliableDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 20 s")
	}
	nA, nB, cut := 10000, 1000, 5*time.Second
	if raceEnabled {
		nA, nB, cut = 1000, 100, time.Second
	}
	dir := t.TempDir()
	alice := &side{t: t, name: "alice", peer: "bob", dir: dir, key: testKey(), rec: newRecorder()}
	bob := &side{t: t, name: "bob", peer: "alice", dir: dir, key: testKey(), rec: newRecorder()}
	alice.open()
	bob.open()
	alice.link = newPipe(1, 0.10, 0.05, 0.10, bob.deliver)
	bob.link = newPipe(2, 0.10, 0.05, 0.10, alice.deliver)
	defer alice.link.close()
	defer bob.link.close()
	alice.attach()
	bob.attach()

	var sentA, sentB atomic.Int64
	var idsA, idsB sync.Map
	var wg sync.WaitGroup
	var stop atomic.Bool
	defer func() { stop.Store(true); wg.Wait() }() // before the engines close
	sender := func(s *side, n int, prefix string, count *atomic.Int64, ids *sync.Map) {
		defer wg.Done()
		for i := 1; i <= n && !stop.Load(); i++ {
			m, err := s.send(fmt.Sprintf("%s-%d", prefix, i))
			if err != nil {
				t.Errorf("%s: Send %d: %v", s.name, i, err)
				return
			}
			ids.Store(m.ID, true)
			count.Add(1)
			if prefix == "b" {
				time.Sleep(time.Millisecond) // bob chats, alice floods
			}
		}
	}
	wg.Add(2)
	go sender(alice, nA, "a", &sentA, &idsA)
	go sender(bob, nB, "b", &sentB, &idsB)

	waitSent := func(n int) {
		for sentA.Load() < int64(n) {
			if t.Failed() {
				t.FailNow()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	start := time.Now()
	waitSent(nA / 4)
	t.Logf("cut at %d sent (%v)", sentA.Load(), time.Since(start).Round(time.Millisecond))
	alice.detach()
	bob.detach()
	alice.link.setDown(true)
	bob.link.setDown(true)
	time.Sleep(cut)
	alice.link.setDown(false)
	bob.link.setDown(false)
	alice.attach()
	bob.attach()
	// Restart each side while alice's messages are still arriving.
	bob.rec.wait(t, 30*time.Second, "bob to receive half", func() bool { return len(bob.rec.received) >= nA/2 })
	t.Logf("alice restarts at %d sent (%v)", sentA.Load(), time.Since(start).Round(time.Millisecond))
	alice.restart()
	bob.rec.wait(t, 30*time.Second, "bob to receive three quarters", func() bool { return len(bob.rec.received) >= nA*3/4 })
	t.Logf("bob restarts at %d sent (%v)", sentA.Load(), time.Since(start).Round(time.Millisecond))
	bob.restart()
	wg.Wait()
	t.Logf("all sent (%v)", time.Since(start).Round(time.Millisecond))

	bob.rec.wait(t, 40*time.Second, "bob to receive alice's messages", func() bool { return len(bob.rec.received) >= nA })
	alice.rec.wait(t, 40*time.Second, "alice's messages to be delivered", func() bool { return len(alice.rec.delivered) >= nA })
	alice.rec.wait(t, 40*time.Second, "alice to receive bob's messages", func() bool { return len(alice.rec.received) >= nB })
	bob.rec.wait(t, 40*time.Second, "bob's messages to be delivered", func() bool { return len(bob.rec.delivered) >= nB })
	t.Logf("all delivered (%v); alice→bob frames %d lost %d duplicated %d reordered %d", time.Since(start).Round(time.Millisecond),
		alice.link.sent.Load(), alice.link.lost.Load(), alice.link.dups.Load(), alice.link.swapped.Load())
	// Let stray retries and duplicates land before counting.
	time.Sleep(200 * time.Millisecond)

	for _, c := range []struct {
		from, to *side
		n        int
		prefix   string
		ids      *sync.Map
	}{{alice, bob, nA, "a", &idsA}, {bob, alice, nB, "b", &idsB}} {
		c.to.rec.mu.Lock()
		checkInOrder(t, c.to.name, c.to.rec.received, c.prefix, c.n)
		c.to.rec.mu.Unlock()
		c.from.rec.mu.Lock()
		if len(c.from.rec.delivered) != c.n {
			t.Errorf("%s: %d delivered, want %d", c.from.name, len(c.from.rec.delivered), c.n)
		}
		for id, k := range c.from.rec.delivered {
			if _, ok := c.ids.Load(id); !ok || k != 1 {
				t.Errorf("%s: %x delivered %d times (sent: %v), want once", c.from.name, id, k, ok)
			}
		}
		c.from.rec.mu.Unlock()
		if p := c.from.e.PendingPeers(); len(p) != 0 {
			t.Errorf("%s: pending for %v after all were delivered", c.from.name, p)
		}
	}
	// The history agrees with the events.
	h, err := bob.e.History("alice", nA+nB)
	if err != nil {
		t.Fatal(err)
	}
	var in []Message
	for _, m := range h {
		if !m.Outgoing {
			in = append(in, m)
		}
	}
	checkInOrder(t, "bob's history", in, "a", nA)
}
