package transfer_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"soitto/app/transfer"
	"soitto/app/transfer/transfertest"
)

func newPair(t testing.TB, cfg transfer.Config, opts transfertest.Options) *pair {
	t.Helper()
	root := t.TempDir()
	p := &pair{
		snd:  newSide(t, filepath.Join(root, "alice"), cfg),
		rcv:  newSide(t, filepath.Join(root, "bob"), cfg),
		dest: filepath.Join(root, "downloads"),
	}
	if err := os.Mkdir(p.dest, 0o700); err != nil {
		t.Fatal(err)
	}
	p.link = connect(t, p.snd, p.rcv, opts)
	return p
}

// checkArrived waits for Done on both sides and checks the file.
func checkArrived(t *testing.T, p *pair, id string, want [32]byte, wantName string, d time.Duration) {
	t.Helper()
	e, _ := p.rcv.wait(0, d, func(e transfer.Event) bool {
		if _, ok := e.(transfer.Failed); ok && e.TransferInfo().ID == id {
			t.Fatalf("receiver: %s", describe(e))
		}
		return isKind[transfer.Done](id)(e)
	})
	path := e.(transfer.Done).Path
	if got := filepath.Base(path); got != wantName {
		t.Errorf("arrived as %q, want %q", got, wantName)
	}
	if got := fileHash(t, path); got != want {
		t.Fatalf("got SHA-256 %x, want %x", got, want)
	}
	p.snd.wait(0, 10*time.Second, isKind[transfer.Done](id))
	for _, n := range names(t, p.dest) {
		if filepath.Ext(n) == transfer.PartSuffix {
			t.Errorf("part file %s left", n)
		}
	}
	if n := names(t, p.snd.state); len(n) != 0 {
		t.Errorf("sender state left: %v", n)
	}
	if n := names(t, p.rcv.state); len(n) != 0 {
		t.Errorf("receiver state left: %v", n)
	}
	if n := len(p.snd.m.Transfers()) + len(p.rcv.m.Transfers()); n != 0 {
		t.Errorf("%d transfers still listed", n)
	}
}

func TestTransfer64MiB(t *testing.T) {
	p := newPair(t, transfer.Config{}, transfertest.Options{})
	path, sum := makeFile(t, t.TempDir(), "data.bin", 64<<20, 1)
	start := time.Now()
	id := send(t, p, path)
	checkArrived(t, p, id, sum, "data.bin", 60*time.Second)
	t.Logf("64 MiB in %v", time.Since(start).Round(time.Millisecond))
}

func TestTransferEmptyAndSmall(t *testing.T) {
	p := newPair(t, transfer.Config{}, transfertest.Options{})
	for _, size := range []int64{0, 1, transfer.DefaultChunkSize, transfer.DefaultChunkSize + 1} {
		path, sum := makeFile(t, t.TempDir(), "small.bin", size, uint64(size))
		id := send(t, p, path)
		checkArrived(t, p, id, sum, "small.bin", 20*time.Second)
		os.Remove(filepath.Join(p.dest, "small.bin"))
	}
}

func TestTransfer1GiB(t *testing.T) {
	// Under the race detector 1 GiB takes minutes: 128 MiB there (the
	// e2e test moves 1 GiB between real binaries in every run).
	size := int64(1 << 30)
	if raceEnabled {
		size = 128 << 20
	}
	p := newPair(t, transfer.Config{}, transfertest.Options{Tune: transfer.TuneSettingEngine})
	path, sum := makeFile(t, t.TempDir(), "big.bin", size, 2)
	start := time.Now()
	id := send(t, p, path)
	checkArrived(t, p, id, sum, "big.bin", 5*time.Minute)
	d := time.Since(start)
	t.Logf("%d MiB in %v (%.0f MB/s, hashing included)", size>>20, d.Round(time.Millisecond), float64(size)/d.Seconds()/1e6)
}

// waitHalf waits until the receiver has verified at least half of id.
func waitHalf(t *testing.T, s *side, id string, size int64) {
	t.Helper()
	s.wait(0, 60*time.Second, func(e transfer.Event) bool {
		p, ok := e.(transfer.Progress)
		return ok && p.ID == id && p.Done >= size/2
	})
}

func TestReceiverRestart(t *testing.T) {
	const size = 64 << 20
	var c counter
	opts := transfertest.Options{Wrap: func(side int, ch transfer.Channel) transfer.Channel {
		if side == 0 { // alice sends
			return c.wrap(ch)
		}
		return ch
	}}
	p := newPair(t, transfer.Config{}, opts)
	path, sum := makeFile(t, t.TempDir(), "data.bin", size, 3)
	id := send(t, p, path)
	waitHalf(t, p.rcv, id, size)

	// Bob's program ends: its manager and its connection go.
	if err := p.rcv.m.Close(); err != nil {
		t.Fatal(err)
	}
	p.link.Close()
	p.snd.wait(0, 20*time.Second, isKind[transfer.Paused](id))
	if n := names(t, p.rcv.state); len(n) == 0 {
		t.Fatal("receiver kept no state")
	}
	sentBefore, _ := c.chunkStarts()

	// It starts again, with the same state folder, and a new session.
	rcv := newSide(t, p.rcv.state, transfer.Config{})
	if got := rcv.m.Transfers(); len(got) != 1 || got[0].State != transfer.StatePaused || got[0].Done < size/2 {
		t.Fatalf("after restart got %+v, want one paused transfer at least half done", got)
	}
	p.rcv = rcv
	p.link = connect(t, p.snd, p.rcv, opts)
	p.rcv.m.Reconnected(p.link.B.Peer())
	p.snd.m.Reconnected(p.link.A.Peer())
	checkArrived(t, p, id, sum, "data.bin", 60*time.Second)

	total, per := c.chunkStarts()
	chunks := size / transfer.DefaultChunkSize
	t.Logf("chunks sent: %d before the restart, %d in all, for %d chunks", sentBefore, total, chunks)
	// What was in flight at the restart (the sender's buffer, at most
	// HighWater, SCTP's window, the chunk arriving) is sent again;
	// nothing verified is.
	if extra := total - chunks; extra > 10 {
		t.Errorf("got %d chunks sent, want at most %d + 10", total, chunks)
	}
	for k, v := range per {
		if v > 2 {
			t.Errorf("chunk %d sent %d times", k, v)
		}
	}
}

func TestSenderRestart(t *testing.T) {
	const size = 64 << 20
	var c counter
	opts := transfertest.Options{Wrap: func(side int, ch transfer.Channel) transfer.Channel {
		if side == 0 {
			return c.wrap(ch)
		}
		return ch
	}}
	p := newPair(t, transfer.Config{}, opts)
	path, sum := makeFile(t, t.TempDir(), "data.bin", size, 4)
	id := send(t, p, path)
	waitHalf(t, p.rcv, id, size)

	if err := p.snd.m.Close(); err != nil {
		t.Fatal(err)
	}
	p.link.Close()
	p.rcv.wait(0, 20*time.Second, isKind[transfer.Paused](id))

	snd := newSide(t, p.snd.state, transfer.Config{})
	if got := snd.m.Transfers(); len(got) != 1 || got[0].Incoming || got[0].State != transfer.StatePaused {
		t.Fatalf("after restart got %+v, want one paused outgoing transfer", got)
	}
	p.snd = snd
	p.link = connect(t, p.snd, p.rcv, opts)
	p.snd.m.Reconnected(p.link.A.Peer())
	p.rcv.m.Reconnected(p.link.B.Peer())
	checkArrived(t, p, id, sum, "data.bin", 60*time.Second)

	total, per := c.chunkStarts()
	chunks := size / transfer.DefaultChunkSize
	t.Logf("chunks sent: %d in all, for %d chunks", total, chunks)
	if total-chunks > 10 {
		t.Errorf("got %d chunks sent, want at most %d + 10", total, chunks)
	}
	for k, v := range per {
		if v > 2 {
			t.Errorf("chunk %d sent %d times", k, v)
		}
	}
}

// corrupter flips a byte in one data frame the receiver gets.
type corrupter struct {
	transfer.Channel
	chunk uint32
	done  bool
}

func (c *corrupter) OnMessage(f func([]byte)) {
	c.Channel.OnMessage(func(b []byte) {
		if !c.done && len(b) > 100 && b[0] == 'D' && b[4] == byte(c.chunk) && b[1] == 0 && b[2] == 0 && b[3] == 0 {
			c.done = true
			b[50] ^= 0x40
		}
		f(b)
	})
}

func TestCorruptChunkFetchedAgain(t *testing.T) {
	var c counter
	opts := transfertest.Options{Wrap: func(side int, ch transfer.Channel) transfer.Channel {
		if side == 0 {
			return c.wrap(ch)
		}
		return &corrupter{Channel: ch, chunk: 5}
	}}
	p := newPair(t, transfer.Config{}, opts)
	path, sum := makeFile(t, t.TempDir(), "data.bin", 16<<20, 5)
	id := send(t, p, path)
	checkArrived(t, p, id, sum, "data.bin", 60*time.Second)
	_, per := c.chunkStarts()
	if per[5] != 2 {
		t.Errorf("chunk 5 sent %d times, want 2 (once more after it failed its hash)", per[5])
	}
	for k, v := range per {
		if k != 5 && v != 1 {
			t.Errorf("chunk %d sent %d times, want 1", k, v)
		}
	}
}

func TestDeclineWritesNothing(t *testing.T) {
	p := newPair(t, transfer.Config{}, transfertest.Options{})
	path, _ := makeFile(t, t.TempDir(), "data.bin", 1<<20, 6)
	info, err := p.snd.m.Offer(t.Context(), p.link.A.Peer(), path)
	if err != nil {
		t.Fatal(err)
	}
	p.rcv.wait(0, 10*time.Second, isKind[transfer.Offered](info.ID))
	if err := p.rcv.m.Decline(info.ID); err != nil {
		t.Fatal(err)
	}
	p.snd.wait(0, 10*time.Second, isKind[transfer.Declined](info.ID))
	if n := names(t, p.dest); len(n) != 0 {
		t.Errorf("destination has %v after a decline", n)
	}
	if n := names(t, p.rcv.state); len(n) != 0 {
		t.Errorf("receiver state has %v after a decline", n)
	}
	if n := names(t, p.snd.state); len(n) != 0 {
		t.Errorf("sender state has %v after a decline", n)
	}
}

func TestCancel(t *testing.T) {
	for _, by := range []string{"sender", "receiver"} {
		t.Run("by "+by, func(t *testing.T) {
			// A small high-water mark and frames slow the sender enough
			// to cancel mid-way.
			p := newPair(t, transfer.Config{HighWater: 64 << 10, FrameSize: 4 << 10}, transfertest.Options{})
			path, _ := makeFile(t, t.TempDir(), "data.bin", 256<<20, 7)
			id := send(t, p, path)
			p.rcv.wait(0, 30*time.Second, isKind[transfer.Progress](id))
			canceller, other := p.snd, p.rcv
			if by == "receiver" {
				canceller, other = p.rcv, p.snd
			}
			if err := canceller.m.Cancel(id); err != nil {
				t.Fatal(err)
			}
			e, _ := other.wait(0, 10*time.Second, isKind[transfer.Cancelled](id))
			if !e.(transfer.Cancelled).ByPeer {
				t.Error("other side's Cancelled has ByPeer false")
			}
			canceller.wait(0, 10*time.Second, isKind[transfer.Cancelled](id))
			if n := names(t, p.dest); len(n) != 0 {
				t.Errorf("destination has %v after cancel", n)
			}
			for _, s := range []*side{p.snd, p.rcv} {
				if n := names(t, s.state); len(n) != 0 {
					t.Errorf("state left after cancel: %v", n)
				}
			}
		})
	}
}

func TestTwoAtOnce(t *testing.T) {
	p := newPair(t, transfer.Config{}, transfertest.Options{})
	pathA, sumA := makeFile(t, t.TempDir(), "a.bin", 24<<20, 8)
	pathB, sumB := makeFile(t, t.TempDir(), "b.bin", 24<<20, 9)
	idA := send(t, p, pathA)
	idB := send(t, p, pathB)
	// Both are under way before either is done.
	checkArrivedOne(t, p, idA, sumA, "a.bin")
	checkArrivedOne(t, p, idB, sumB, "b.bin")
}

func checkArrivedOne(t *testing.T, p *pair, id string, want [32]byte, name string) {
	t.Helper()
	e, _ := p.rcv.wait(0, 60*time.Second, isKind[transfer.Done](id))
	if got := fileHash(t, e.(transfer.Done).Path); got != want {
		t.Fatalf("%s: got SHA-256 %x, want %x", name, got, want)
	}
	if got := filepath.Base(e.(transfer.Done).Path); got != name {
		t.Errorf("got name %q, want %q", got, name)
	}
	p.snd.wait(0, 10*time.Second, isKind[transfer.Done](id))
}

func TestExistingFileKept(t *testing.T) {
	p := newPair(t, transfer.Config{}, transfertest.Options{})
	old := filepath.Join(p.dest, "data.bin")
	if err := os.WriteFile(old, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dest, "data (1).bin"), []byte("mine too"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, sum := makeFile(t, t.TempDir(), "data.bin", 3<<20, 10)
	id := send(t, p, path)
	checkArrived(t, p, id, sum, "data (2).bin", 30*time.Second)
	if b, _ := os.ReadFile(old); string(b) != "mine" {
		t.Errorf("existing file now holds %q", b)
	}
}
