package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/app/transfer"
	"soitto/app/transfer/transfertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// side is one user's manager and the events it emitted.
type side struct {
	t      testing.TB
	m      *transfer.Manager
	state  string
	mu     sync.Mutex
	events []transfer.Event
	wake   chan struct{}
}

func newSide(t testing.TB, state string, cfg transfer.Config) *side {
	t.Helper()
	s := &side{t: t, state: state, wake: make(chan struct{}, 1)}
	cfg.StateDir = state
	cfg.OnEvent = func(e transfer.Event) {
		s.mu.Lock()
		s.events = append(s.events, e)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	m, err := transfer.NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.m = m
	t.Cleanup(func() { m.Close() })
	return s
}

// wait returns the first event (from index from on) that ok accepts,
// and its index; it fails the test after d.
func (s *side) wait(from int, d time.Duration, ok func(transfer.Event) bool) (transfer.Event, int) {
	s.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i := from; i < len(s.events); i++ {
			if ok(s.events[i]) {
				e := s.events[i]
				s.mu.Unlock()
				return e, i
			}
		}
		from = len(s.events)
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-deadline.C:
			s.t.Fatalf("no matching event after %v; events: %s", d, s.dump())
		}
	}
}

func (s *side) dump() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	for _, e := range s.events {
		if _, ok := e.(transfer.Progress); ok {
			continue
		}
		b.WriteString("\n  ")
		b.WriteString(describe(e))
	}
	return b.String()
}

func describe(e transfer.Event) string {
	i := e.TransferInfo()
	s := ""
	switch e := e.(type) {
	case transfer.Failed:
		s = " err=" + e.Err.Error()
	case transfer.Paused:
		s = " err=" + e.Err.Error()
	case transfer.Cancelled:
		s = " reason=" + e.Reason
	}
	return typeName(e) + " " + i.ID[:8] + " " + string(i.State) + s
}

func typeName(e transfer.Event) string {
	switch e.(type) {
	case transfer.Offered:
		return "Offered"
	case transfer.Accepted:
		return "Accepted"
	case transfer.Progress:
		return "Progress"
	case transfer.Paused:
		return "Paused"
	case transfer.Done:
		return "Done"
	case transfer.Failed:
		return "Failed"
	case transfer.Declined:
		return "Declined"
	case transfer.Cancelled:
		return "Cancelled"
	}
	return "?"
}

func isKind[T transfer.Event](id string) func(transfer.Event) bool {
	return func(e transfer.Event) bool {
		_, ok := e.(T)
		return ok && (id == "" || e.TransferInfo().ID == id)
	}
}

// makeFile writes size bytes of deterministic pseudo-random data and
// returns the path and SHA-256.
func makeFile(t testing.TB, dir, name string, size int64, seed uint64) (string, [32]byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	src := rand.NewChaCha8(key)
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		src.Read(buf[:n])
		h.Write(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return path, sum
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// names lists a folder.
func names(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// counter wraps the sender's channels and counts the data frames sent
// (and the chunk starts, per chunk).
type counter struct {
	frames atomic.Int64
	bytes  atomic.Int64
	mu     sync.Mutex
	starts map[uint32]int
}

func (c *counter) wrap(ch transfer.Channel) transfer.Channel {
	return &countingChannel{Channel: ch, c: c}
}

func (c *counter) chunkStarts() (total int, per map[uint32]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	per = map[uint32]int{}
	for k, v := range c.starts {
		per[k] = v
		total += v
	}
	return total, per
}

type countingChannel struct {
	transfer.Channel
	c *counter
}

func (ch *countingChannel) Send(b []byte) error {
	if len(b) >= 9 && b[0] == 'D' {
		ch.c.frames.Add(1)
		ch.c.bytes.Add(int64(len(b) - 9))
		if binary.BigEndian.Uint32(b[5:]) == 0 {
			ch.c.mu.Lock()
			if ch.c.starts == nil {
				ch.c.starts = map[uint32]int{}
			}
			ch.c.starts[binary.BigEndian.Uint32(b[1:])]++
			ch.c.mu.Unlock()
		}
	}
	return ch.Channel.Send(b)
}

// pair is a sender ("alice") and a receiver ("bob") over one link.
type pair struct {
	snd, rcv *side
	link     *transfertest.Link
	sessPeer transfer.Peer // alice's, over a media session (sessionPair)
	dest     string
}

// connect links snd (as alice, end A) and rcv (as bob, end B).
func connect(t testing.TB, snd, rcv *side, opts transfertest.Options) *transfertest.Link {
	t.Helper()
	l := transfertest.Connect(t, "alice", "bob", opts)
	l.A.SetHandler(snd.m)
	l.B.SetHandler(rcv.m)
	return l
}

// send offers path from alice to bob and has bob accept it into dest;
// it returns the transfer ID.
func send(t testing.TB, p *pair, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	info, err := p.snd.m.Offer(ctx, p.link.A.Peer(), path)
	if err != nil {
		t.Fatal(err)
	}
	p.rcv.wait(0, 10*time.Second, isKind[transfer.Offered](info.ID))
	if err := p.rcv.m.Accept(info.ID, p.dest); err != nil {
		t.Fatal(err)
	}
	return info.ID
}
