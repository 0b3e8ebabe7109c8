package audio

import (
	"math"
	"time"
)

// Jitter buffer bounds, in frames of 20 ms.
const (
	// MinJitterFrames is the smallest target, counted with the frame
	// about to play: two, so one frame of slack for a packet that
	// arrives a little after its time (the playout clock starts when
	// the buffer first holds the target, so the slack is a whole frame).
	MinJitterFrames = 2
	// MaxJitterFrames is the largest target, 200 ms: more delay than
	// that hurts a conversation more than the losses it would save.
	MaxJitterFrames = 10
	// jitterSlots is how far ahead of the playout point a packet may
	// be; further ones are taken as a new stream (the sender restarted).
	jitterSlots = 64
	// resetAfter missing frames in a row, the buffer starts over: the
	// stream stopped (muted, on hold, or a path change), and the next
	// packet starts a new talk spurt with a fresh buffer.
	resetAfter = 10
	// trimWindow pops: when the buffer held more than its target at
	// every pop of a window, a frame is dropped (clock drift, a lost
	// playout tick, or jitter that has calmed down).
	trimWindow = 50
)

// Play says what the playout clock's turn gives.
type Play int

const (
	// PlayWait: nothing yet (buffering at the start): play silence.
	PlayWait Play = iota
	// PlayPacket: decode the payload.
	PlayPacket
	// PlayFEC: the packet is lost, but the next one is here: decode
	// the payload's in-band FEC (DecodeFEC) for it.
	PlayFEC
	// PlayConceal: lost, and nothing to recover it from: conceal.
	PlayConceal
)

func (p Play) String() string {
	return [...]string{"wait", "packet", "fec", "conceal"}[p]
}

// JitterStats counts what the buffer saw.
type JitterStats struct {
	Received   uint64 // packets pushed
	Duplicates uint64 // pushed twice
	Late       uint64 // arrived after their turn
	Played     uint64 // frames decoded from their own packet
	Recovered  uint64 // frames recovered from the next packet's FEC
	Concealed  uint64 // frames concealed
	Dropped    uint64 // frames skipped to bring the delay down
	Stretched  uint64 // of the concealed: underruns, the turn kept for the late packet
	// Jitter is the interarrival jitter (RFC 3550, A.8).
	Jitter time.Duration
	// Target is the delay the buffer aims at.
	Target time.Duration
	// Depth is what is buffered now.
	Depth time.Duration
}

// Jitter is a jitter buffer for 20 ms Opus packets: Push as packets
// arrive, Pop once per frame from the playout clock (which should start
// when Ready first says so). Its target is MinJitterFrames plus three
// times the measured jitter, up to MaxJitterFrames; it grows at once
// when jitter does or a packet comes late, and shrinks a frame a second
// at most. The delay follows the target: a burst beyond it is skipped at
// once, and a frame is dropped when the buffer has held more than the
// target for a whole window (a playout clock that lost a tick, or a
// sender's clock running fast). It is not safe for concurrent use.
type Jitter struct {
	slots   [jitterSlots][]byte
	has     [jitterSlots]bool
	next    uint16 // the sequence number whose turn is next
	started bool   // playing (else buffering)
	target  int    // frames
	missing int    // turns in a row without a packet
	// The least depth seen at a pop in the current window of
	// trimWindow pops.
	minDepth, pops int

	// RFC 3550 jitter, in samples (48 kHz), and the last transit time.
	jitter      float64
	lastTransit float64
	haveTransit bool
	epoch       time.Time

	stats JitterStats
}

// NewJitter is an empty jitter buffer.
func NewJitter() *Jitter { return &Jitter{target: MinJitterFrames} }

// Ready tells whether a buffer that is filling holds its target now:
// the playout clock should start (Pop will play). A playout clock that
// starts then, rather than on its own phase, keeps the delay to the
// target.
func (j *Jitter) Ready() bool {
	return !j.started && j.anyBuffered() && j.depthFrames() >= j.target
}

// Push takes a packet: its RTP sequence number and timestamp, its
// payload (kept, not copied: the caller must not reuse it), and when it
// arrived.
func (j *Jitter) Push(seq uint16, ts uint32, payload []byte, arrived time.Time) {
	j.stats.Received++
	j.measure(ts, arrived)
	if j.started {
		d := int16(seq - j.next)
		switch {
		case d < 0:
			// Late: the buffer is too short for this path; one frame
			// more.
			j.stats.Late++
			j.target = min(j.target+1, MaxJitterFrames)
			return
		case int(d) >= jitterSlots:
			j.reset() // far ahead: a new stream
		}
	}
	if !j.started {
		// Buffering: the earliest packet seen sets the playout point.
		if !j.anyBuffered() {
			j.next = seq
		} else if d := int16(seq - j.next); d < 0 {
			if int(-d)+j.depthFrames() > jitterSlots {
				return // too far back to hold with the rest
			}
			j.next = seq
		} else if int(d) >= jitterSlots {
			return
		}
	}
	i := seq % jitterSlots
	if j.has[i] {
		j.stats.Duplicates++
		return
	}
	j.slots[i], j.has[i] = payload, true
}

// measure updates the interarrival jitter with a packet sent at RTP
// time ts that arrived at arrived, and the target delay with it.
func (j *Jitter) measure(ts uint32, arrived time.Time) {
	if j.epoch.IsZero() {
		j.epoch = arrived
	}
	transit := arrived.Sub(j.epoch).Seconds()*SampleRate - float64(ts)
	if j.haveTransit {
		d := math.Abs(transit - j.lastTransit)
		if d < 10*SampleRate { // not a timestamp jump
			j.jitter += (d - j.jitter) / 16
		}
	}
	j.lastTransit, j.haveTransit = transit, true
	want := MinJitterFrames + int(3*j.jitter/FrameSamples)
	want = min(max(want, MinJitterFrames), MaxJitterFrames)
	if want > j.target {
		j.target = want // grow at once
	} else if want < j.target && j.stats.Received%50 == 0 {
		j.target-- // shrink by a frame a second at most
	}
}

func (j *Jitter) anyBuffered() bool {
	for _, h := range j.has {
		if h {
			return true
		}
	}
	return false
}

// depthFrames is how many frames from the playout point to the last
// buffered packet, inclusive.
func (j *Jitter) depthFrames() int {
	last := -1
	for k := range jitterSlots {
		if j.has[(j.next+uint16(k))%jitterSlots] {
			last = k
		}
	}
	return last + 1
}

func (j *Jitter) reset() {
	j.slots, j.has = [jitterSlots][]byte{}, [jitterSlots]bool{}
	j.started, j.missing, j.pops = false, 0, 0
}

// HasNext tells whether the packet whose turn is next is here (a clock
// catching up after a stall plays only what has arrived).
func (j *Jitter) HasNext() bool {
	return j.started && j.has[j.next%jitterSlots]
}

// Pop is the playout clock's turn: what to play for the next frame, and
// the payload to decode for PlayPacket and PlayFEC.
func (j *Jitter) Pop() (Play, []byte) {
	if !j.started {
		if !j.anyBuffered() || j.depthFrames() < j.target {
			return PlayWait, nil
		}
		j.started = true
	}
	// Too much delay: after a burst, skip frames down to the target at
	// once, oldest first; a standing frame too many, at the end of a
	// window where the buffer never ran down to its target.
	depth := j.depthFrames()
	for ; depth > j.target+2; depth-- {
		j.skip()
	}
	if j.pops == 0 || depth < j.minDepth {
		j.minDepth = depth
	}
	if j.pops++; j.pops >= trimWindow {
		if j.minDepth > j.target {
			j.skip()
		}
		j.pops = 0
	}
	if p, ok := j.take(j.next); ok {
		j.next++
		j.missing = 0
		j.stats.Played++
		return PlayPacket, p
	}
	j.missing++
	if j.missing >= resetAfter {
		j.reset()
		return PlayWait, nil
	}
	if !j.anyBuffered() {
		// An underrun, not a loss: nothing later has come either (the
		// sender or the path stalled). Conceal, but keep the turn: the
		// packet plays when it comes instead of arriving late, and the
		// delay this adds is trimmed later.
		j.stats.Concealed++
		j.stats.Stretched++
		return PlayConceal, nil
	}
	j.next++
	if i := j.next % jitterSlots; j.has[i] {
		j.stats.Recovered++
		return PlayFEC, j.slots[i] // stays for its own turn
	}
	j.stats.Concealed++
	return PlayConceal, nil
}

// skip drops the frame whose turn is next.
func (j *Jitter) skip() {
	j.take(j.next)
	j.next++
	j.stats.Dropped++
}

func (j *Jitter) take(seq uint16) ([]byte, bool) {
	i := seq % jitterSlots
	if !j.has[i] {
		return nil, false
	}
	p := j.slots[i]
	j.slots[i], j.has[i] = nil, false
	return p, true
}

// Stats is what the buffer counted so far.
func (j *Jitter) Stats() JitterStats {
	s := j.stats
	s.Jitter = time.Duration(j.jitter / SampleRate * float64(time.Second))
	s.Target = time.Duration(j.target) * FrameDuration
	if j.anyBuffered() {
		s.Depth = time.Duration(j.depthFrames()) * FrameDuration
	}
	return s
}
