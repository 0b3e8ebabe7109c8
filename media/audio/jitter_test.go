package audio

import (
	"testing"
	"time"
)

// feed pushes packets seq (payload = its number) arriving every 20 ms
// from t0, with timestamps to match.
func feed(j *Jitter, t0 time.Time, seqs ...uint16) {
	for _, s := range seqs {
		j.Push(s, uint32(s)*FrameSamples, []byte{byte(s)}, t0.Add(time.Duration(s)*FrameDuration))
	}
}

func pops(j *Jitter, n int) (plays []Play, payloads []int) {
	for range n {
		p, b := j.Pop()
		plays = append(plays, p)
		v := -1
		if b != nil {
			v = int(b[0])
		}
		payloads = append(payloads, v)
	}
	return
}

func TestJitterInOrder(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	if p, _ := j.Pop(); p != PlayWait {
		t.Fatalf("empty buffer: %v", p)
	}
	feed(j, t0, 10, 11, 12, 13)
	plays, got := pops(j, 4)
	for i, p := range plays {
		if p != PlayPacket || got[i] != 10+i {
			t.Fatalf("turn %d: %v %d", i, p, got[i])
		}
	}
	if s := j.Stats(); s.Played != 4 || s.Concealed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestJitterReorderDuplicateLate(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	feed(j, t0, 2, 1, 3, 3) // 1 arrives after 2, 3 twice
	plays, got := pops(j, 3)
	want := []int{1, 2, 3}
	for i := range want {
		if plays[i] != PlayPacket || got[i] != want[i] {
			t.Fatalf("turn %d: %v %d, want packet %d", i, plays[i], got[i], want[i])
		}
	}
	feed(j, t0, 2) // after its turn
	s := j.Stats()
	if s.Duplicates != 1 || s.Late != 1 {
		t.Fatalf("duplicates %d late %d, want 1 1", s.Duplicates, s.Late)
	}
}

func TestJitterLossFECAndConceal(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	// 3 lost alone: FEC from 4. 6 and 7 lost: at 6's turn nothing later
	// has come, so it is an underrun: concealed, the turn kept (the
	// delay grows a frame); once 8 is here, 6 is concealed as lost and 7
	// recovered from 8's FEC. Packets arrive one a turn, the buffer two
	// frames behind.
	lost := map[uint16]bool{3: true, 6: true, 7: true}
	var plays []Play
	var got []int
	for s := uint16(1); s <= 11; s++ {
		if !lost[s] {
			feed(j, t0, s)
		}
		p, g := pops(j, 1)
		plays, got = append(plays, p...), append(got, g...)
	}
	want := []Play{PlayWait, PlayPacket, PlayPacket, PlayFEC, PlayPacket, PlayPacket, PlayConceal, PlayConceal, PlayFEC, PlayPacket, PlayPacket}
	wantP := []int{-1, 1, 2, 4, 4, 5, -1, -1, 8, 8, 9}
	for i := range want {
		if plays[i] != want[i] || got[i] != wantP[i] {
			t.Fatalf("turn %d: %v %d, want %v %d", i, plays[i], got[i], want[i], wantP[i])
		}
	}
	if s := j.Stats(); s.Recovered != 2 || s.Concealed != 2 || s.Stretched != 1 || s.Played != 6 {
		t.Fatalf("stats %+v", s)
	}
}

func TestJitterWraps(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	feed(j, t0, 65534, 65535, 0, 1)
	_, got := pops(j, 4)
	for i, w := range []int{254, 255, 0, 1} {
		if got[i] != w {
			t.Fatalf("turn %d: %d, want %d", i, got[i], w)
		}
	}
}

func TestJitterAdaptsToJitter(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	// Steady arrivals: the target stays small.
	for s := range uint16(100) {
		j.Push(s, uint32(s)*FrameSamples, []byte{1}, t0.Add(time.Duration(s)*FrameDuration))
		j.Pop()
	}
	if tg := j.Stats().Target; tg > 2*FrameDuration {
		t.Fatalf("target %v with no jitter", tg)
	}
	// ±30 ms of arrival jitter: the target grows past 60 ms.
	for s := uint16(100); s < 200; s++ {
		d := time.Duration(s) * FrameDuration
		if s%2 == 0 {
			d += 30 * time.Millisecond
		}
		j.Push(s, uint32(s)*FrameSamples, []byte{1}, t0.Add(d))
		j.Pop()
	}
	s := j.Stats()
	if s.Target < 3*FrameDuration || s.Jitter < 10*time.Millisecond {
		t.Fatalf("jitter %v target %v, want the target to grow", s.Jitter, s.Target)
	}
	t.Logf("jitter %v target %v", s.Jitter, s.Target)
}

func TestJitterDropsExcessDelay(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	feed(j, t0, 1, 2, 3, 4, 5, 6, 7, 8) // a burst: far over the target
	p, b := j.Pop()
	s := j.Stats()
	if p != PlayPacket || s.Dropped == 0 || int(b[0]) == 1 {
		t.Fatalf("played %v %d with %d dropped: want the oldest skipped", p, b[0], s.Dropped)
	}
	if s.Depth > s.Target+2*FrameDuration {
		t.Fatalf("depth %v, target %v", s.Depth, s.Target)
	}
}

func TestJitterRestartsAfterGap(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	feed(j, t0, 1, 2)
	pops(j, 2)
	plays, _ := pops(j, resetAfter)
	if plays[len(plays)-1] != PlayWait {
		t.Fatalf("after %d missing frames: %v, want wait (buffering again)", resetAfter, plays)
	}
	// The sender went on far ahead (or restarted): a new stream.
	feed(j, t0, 5000, 5001)
	if p, b := j.Pop(); p != PlayPacket || b[0] != byte(5000%256) {
		t.Fatalf("new stream: %v", p)
	}
}

func FuzzJitter(f *testing.F) {
	f.Add([]byte{1, 2, 3, 5, 4, 4, 200, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 4096 {
			return
		}
		j := NewJitter()
		t0 := time.Now()
		seq := uint16(0)
		for i, op := range ops {
			if op&1 == 0 {
				j.Pop()
				continue
			}
			seq += uint16(op >> 1) // reorder, loss, jumps, wrap
			j.Push(seq, uint32(seq)*FrameSamples, []byte{op}, t0.Add(time.Duration(i)*time.Millisecond*7))
			if d := j.Stats().Depth; d > jitterSlots*FrameDuration {
				t.Fatalf("depth %v", d)
			}
		}
	})
}

// TestJitterTrimsStandingDelay: a playout clock that lost a tick leaves
// a frame too many in the buffer for good; the buffer drops one within
// a window and the delay is back at the target.
func TestJitterTrimsStandingDelay(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	seq := uint16(0)
	push := func() {
		j.Push(seq, uint32(seq)*FrameSamples, []byte{byte(seq)}, t0.Add(time.Duration(seq)*FrameDuration))
		seq++
	}
	for !j.Ready() {
		push()
	}
	if got := j.Stats().Depth; got != time.Duration(MinJitterFrames)*FrameDuration {
		t.Fatalf("ready at depth %v", got)
	}
	for range 20 { // steady: one packet a turn
		j.Pop()
		push()
	}
	// (Depth is measured here, before the next pop.)
	if s := j.Stats(); s.Depth != s.Target {
		t.Fatalf("steady: depth %v at a pop, target %v", s.Depth, s.Target)
	}
	push() // a tick lost: one packet more than popped
	for range 2 * trimWindow {
		j.Pop()
		push()
	}
	s := j.Stats()
	if s.Dropped != 1 || s.Depth != s.Target {
		t.Fatalf("after a lost tick and two windows: dropped %d, depth %v at a pop, target %v", s.Dropped, s.Depth, s.Target)
	}
}

// TestJitterStallIsNotLoss: when the sender (or the path) stalls and
// then sends what it held, the frames are played late rather than
// concealed and then dropped as late.
func TestJitterStallIsNotLoss(t *testing.T) {
	j := NewJitter()
	t0 := time.Now()
	seq := uint16(0)
	for range 20 {
		feed(j, t0, seq)
		seq++
		j.Pop()
	}
	for range 5 { // 100 ms with nothing
		if p, _ := j.Pop(); p != PlayConceal && p != PlayPacket {
			t.Fatalf("during the stall: %v", p)
		}
	}
	played := j.Stats().Played
	for range 5 { // the held packets come in a burst
		feed(j, t0, seq)
		seq++
	}
	for range 10 {
		feed(j, t0, seq)
		seq++
		j.Pop()
	}
	s := j.Stats()
	if s.Late != 0 || s.Stretched == 0 || s.Played-played < 10 {
		t.Fatalf("after a stall: %+v (played %d since)", s, s.Played-played)
	}
}
