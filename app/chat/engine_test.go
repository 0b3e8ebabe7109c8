package chat

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// capture is a Link that keeps what is sent on it.
type capture struct {
	mu     sync.Mutex
	frames []Frame
}

func (c *capture) Send(b []byte) error {
	f, err := Decode(b)
	if err != nil {
		return err
	}
	if f.Data != nil {
		f.Data = append([]byte(nil), f.Data...)
	}
	c.mu.Lock()
	c.frames = append(c.frames, f)
	c.mu.Unlock()
	return nil
}

func (c *capture) take() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.frames
	c.frames = nil
	return f
}

func msgFrame(t *testing.T, id [16]byte, seq, floor uint64, text string) []byte {
	t.Helper()
	f := Frame{Kind: KindMessage, ID: id, Seq: seq, Floor: floor, Time: time.Now(), Text: text}
	b, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func texts(ms []Message) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Text)
	}
	return strings.Join(s, ",")
}

// TestHoldAndFloor: a message beyond a gap is held, acknowledged at
// once, and shown when the gap fills or the floor passes it.
func TestHoldAndFloor(t *testing.T) {
	r := newRecorder()
	e := openTest(t, t.TempDir(), "bob", testKey(), r, 0)
	l := &capture{}
	e.Attach("alice", l)
	ids := make([][16]byte, 8)
	for i := range ids {
		ids[i] = newID()
	}
	steps := []struct {
		seq, floor uint64
		shown      string
	}{
		{1, 1, "1"},
		{3, 2, "1"}, // 2 missing: held
		{4, 2, "1"}, // held
		{2, 2, "1,2,3,4"},
		{2, 2, "1,2,3,4"},   // duplicate: acked again, shown once
		{6, 6, "1,2,3,4,6"}, // the floor says 5 was acked: not waited for
		{8, 6, "1,2,3,4,6"},
		{5, 5, "1,2,3,4,6,5"}, // late, below what is shown: shown at once
	}
	for i, s := range steps {
		text := string(rune('0' + s.seq))
		if err := e.Receive("alice", msgFrame(t, ids[s.seq-1], s.seq, s.floor, text)); err != nil {
			t.Fatal(err)
		}
		r.wait(t, 5*time.Second, "events", func() bool { return texts(r.received) == s.shown })
		acks := l.take()
		if len(acks) != 1 || acks[0].Kind != KindAck || acks[0].Acks[0] != ids[s.seq-1] {
			t.Fatalf("step %d: got frames %+v, want an ack of seq %d", i, acks, s.seq)
		}
	}
	h, _ := e.History("alice", 100)
	if texts(h) != "1,2,3,4,6,5" {
		t.Errorf("History: got %s, want 1,2,3,4,6,5 (8 held)", texts(h))
	}
}

// TestMaxHold: held messages are shown once the gap lasted MaxHold.
func TestMaxHold(t *testing.T) {
	r := newRecorder()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e, err := Open(Config{Path: t.TempDir() + "/bob.db", Key: testKey(), Self: "bob", Now: clock, OnEvent: r.onEvent, Retry: 10 * time.Millisecond, MaxHold: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Receive("alice", msgFrame(t, newID(), 2, 1, "2"))
	e.Receive("alice", msgFrame(t, newID(), 3, 1, "3"))
	time.Sleep(50 * time.Millisecond)
	r.mu.Lock()
	n := len(r.received)
	r.mu.Unlock()
	if n != 0 {
		t.Fatalf("got %d shown before MaxHold, want 0", n)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	r.wait(t, 5*time.Second, "held messages after MaxHold", func() bool { return texts(r.received) == "2,3" })
}

func TestOfflineDedupe(t *testing.T) {
	r := newRecorder()
	e := openTest(t, t.TempDir(), "bob", testKey(), r, 0)
	id := newID()
	if err := e.Receive("alice", msgFrame(t, id, 1, 1, "direct")); err != nil {
		t.Fatal(err)
	}
	ok, err := e.ReceiveOffline("alice", Message{ID: id, Seq: 1, Time: time.Now(), Text: "direct"})
	if err != nil || ok {
		t.Fatalf("the same message from the mailbox: got %v, %v; want false, nil", ok, err)
	}
	id2 := newID()
	if ok, err := e.ReceiveOffline("alice", Message{ID: id2, Seq: 2, Floor: 1, Time: time.Now(), Text: "mailed"}); err != nil || !ok {
		t.Fatalf("got %v, %v; want true, nil", ok, err)
	}
	if err := e.Receive("alice", msgFrame(t, id2, 2, 1, "mailed")); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 5*time.Second, "two messages", func() bool { return texts(r.received) == "direct,mailed" })
	time.Sleep(20 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.received) != 2 || !r.received[1].Offline || r.received[0].Offline {
		t.Errorf("got %v, want direct then mailed (offline)", r.received)
	}
}

func TestSendRetryAndAck(t *testing.T) {
	r := newRecorder()
	e := openTest(t, t.TempDir(), "alice", testKey(), r, 20*time.Millisecond)
	m, err := e.Send("bob", "hi")
	if err != nil || m.State != StatePending {
		t.Fatalf("without a link: got %v, %v; want pending", m.State, err)
	}
	l := &capture{}
	e.Attach("bob", l)
	deadline := time.Now().Add(5 * time.Second)
	var n int
	for n < 3 && time.Now().Before(deadline) {
		for _, f := range l.take() {
			if f.Kind == KindMessage && f.ID == m.ID && f.Floor == 1 {
				n++
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n < 3 {
		t.Fatalf("got %d tries, want it retried", n)
	}
	if h, _ := e.History("bob", 1); h[0].State != StateSent {
		t.Errorf("got %v, want sent", h[0].State)
	}
	ack, _ := (&Frame{Kind: KindAck, Acks: [][16]byte{m.ID}}).Encode()
	if err := e.Receive("bob", ack); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 5*time.Second, "delivered", func() bool { return r.delivered[m.ID] == 1 })
	l.take()
	time.Sleep(100 * time.Millisecond)
	if f := l.take(); len(f) != 0 {
		t.Errorf("got %d frames after the ack, want none", len(f))
	}
	if e.IsPending("bob", m.ID) {
		t.Error("still pending after the ack")
	}
	e.Detach("bob", l)
	if err := e.SendApp("bob", []byte("x")); !errors.Is(err, ErrNoLink) {
		t.Errorf("SendApp without a link: got %v, want ErrNoLink", err)
	}
}

func TestTypingAndApp(t *testing.T) {
	r := newRecorder()
	e := openTest(t, t.TempDir(), "bob", testKey(), r, 20*time.Millisecond)
	l := &capture{}
	e.Attach("alice", l)
	on, _ := (&Frame{Kind: KindTyping, On: true}).Encode()
	e.Receive("alice", on)
	e.Receive("alice", on)
	r.wait(t, time.Second, "typing on", func() bool { return len(r.typing) == 1 && r.typing[0].On })
	e.Receive("alice", msgFrame(t, newID(), 1, 1, "done typing"))
	r.wait(t, time.Second, "typing off at the message", func() bool { return len(r.typing) == 2 && !r.typing[1].On })
	app, _ := (&Frame{Kind: KindApp, Data: []byte("ctl")}).Encode()
	e.Receive("alice", app)
	r.wait(t, time.Second, "app frame", func() bool { return len(r.app) == 1 && string(r.app[0].Data) == "ctl" })

	// Outgoing: throttled to one frame per TypingRefresh, then off.
	l.take()
	e.SetTyping("alice", true)
	e.SetTyping("alice", true)
	e.SetTyping("alice", false)
	if err := e.SendApp("alice", []byte("ctl2")); err != nil {
		t.Fatal(err)
	}
	f := l.take()
	if len(f) != 3 || !f[0].On || f[1].Kind != KindTyping || f[1].On || string(f[2].Data) != "ctl2" {
		t.Errorf("got %+v, want typing on, typing off, app", f)
	}
}

// TestTypingExpires: a peer's typing ends after TypingTimeout without a
// refresh.
func TestTypingExpires(t *testing.T) {
	r := newRecorder()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e, err := Open(Config{Path: t.TempDir() + "/bob.db", Key: testKey(), Self: "bob", Now: clock, OnEvent: r.onEvent, Retry: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	on, _ := (&Frame{Kind: KindTyping, On: true}).Encode()
	e.Receive("alice", on)
	r.wait(t, time.Second, "typing on", func() bool { return len(r.typing) == 1 })
	mu.Lock()
	now = now.Add(TypingTimeout)
	mu.Unlock()
	r.wait(t, time.Second, "typing off", func() bool { return len(r.typing) == 2 && !r.typing[1].On })
}

func TestSendRefused(t *testing.T) {
	e := openTest(t, t.TempDir(), "alice", testKey(), nil, 0)
	for _, tc := range []struct {
		peer, text string
		want       error
	}{
		{"bob", "", ErrEmpty},
		{"bob", strings.Repeat("x", MaxText+1), ErrTooLarge},
		{"bob", "\xff", ErrBadFrame},
		{"", "hi", ErrBadPeer},
		{strings.Repeat("b", MaxPeer+1), "hi", ErrBadPeer},
	} {
		if _, err := e.Send(tc.peer, tc.text); !errors.Is(err, tc.want) {
			t.Errorf("Send(%.10q, %.10q): got %v, want %v", tc.peer, tc.text, err, tc.want)
		}
	}
	if _, err := e.Send("bob", strings.Repeat("é", MaxText/2)); err != nil {
		t.Errorf("a text of MaxText bytes: %v", err)
	}
	e.Close()
	if _, err := e.Send("bob", "hi"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: got %v, want ErrClosed", err)
	}
}
