//go:build cgo && unix

package media

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"soitto/media/audio"
	"soitto/media/audio/audiotest"
	"soitto/nat"
)

// Benchmarks of a call's sound: how long until the callee hears the
// caller, how long a sound takes from one terminal's microphone to the
// other's speaker, and what a call costs in CPU. (unix: BenchmarkVoiceCPU
// reads getrusage.)
//
//	go test ./media/ -run '^$' -bench 'DialToFirstAudio|TerminalDelay|VoiceCPU' -benchtime 5x

// voicePair is a call: a session alice dialled and bob accepted, with
// sound both ways, each side's Voice started as soon as its own session
// opened, as the app does.
type voicePair struct {
	link   *link
	a, b   *Session
	va, vb *Voice
	open   time.Duration // from the offer to alice's session open
	first  time.Duration // from the offer to bob's first packet of alice's sound
}

// dialVoice opens a call between alice and bob over an in-memory link
// and waits for alice's sound to reach bob. It owns the devices (they
// are closed on error too); close ends the call.
func dialVoice(ctx context.Context, tb testing.TB, alice, bob Config, micA, micB audio.Source, spkA, spkB audio.Sink) (*voicePair, error) {
	alice.Audio, bob.Audio = true, true
	p := &voicePair{link: newLink(tb, &alice, &bob)}
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case offer := <-p.link.offers:
			if p.b, errB = Accept(ctx, bob, offer); errB == nil {
				p.vb, errB = p.b.StartVoice(VoiceConfig{Mic: micB, Speaker: spkB})
				return // StartVoice owns the devices, even on error
			}
		case <-ctx.Done():
			errB = ctx.Err()
		}
		micB.Close()
		spkB.Close()
	})
	start := time.Now() // before the offer is made
	if p.a, errA = Dial(ctx, alice); errA == nil {
		p.open = time.Since(start)
		p.va, errA = p.a.StartVoice(VoiceConfig{Mic: micA, Speaker: spkA})
	} else {
		micA.Close()
		spkA.Close()
	}
	wg.Wait()
	if errA != nil || errB != nil {
		p.close()
		return nil, fmt.Errorf("alice: %v; bob: %v", errA, errB)
	}
	select {
	case <-p.vb.FirstAudio():
		p.first = time.Since(start)
	case <-ctx.Done():
		p.close()
		return nil, fmt.Errorf("no sound reached bob: %w", ctx.Err())
	}
	return p, nil
}

// close ends the sound, then both sessions (at once), then the link.
func (p *voicePair) close() {
	for _, v := range []*Voice{p.va, p.vb} {
		if v != nil {
			v.Close()
		}
	}
	var wg sync.WaitGroup
	for _, s := range []*Session{p.a, p.b} {
		if s != nil {
			wg.Go(func() { s.Close() })
		}
	}
	wg.Wait()
	p.link.close()
}

// BenchmarkDialToFirstAudio measures how long a caller waits to be
// heard: from the offer (taken before Dial) to the first packet of the
// caller's sound at the callee (Voice.FirstAudio), each side starting
// its Voice as soon as its session is open. On loopback directly and
// relay-only through our TURN relay on 127.0.0.1; on pion's vnet with
// 50 ms round trips between the hosts (benchWorld: the hosts are 33 ms
// from the relay, so a relayed round trip is 67 ms): port-restricted ↔
// port-restricted (direct), symmetric ↔ symmetric (relayed after
// DefaultRelayWait) and port-restricted ↔ port-restricted relay-only.
// It reports ms/open (offer to the caller's session open),
// ms/first-audio (offer to the first packet at the callee) and
// relayed/op (the share of calls whose path went through the relay).
func BenchmarkDialToFirstAudio(b *testing.B) {
	users := newTestCA(b)
	relay, err := nat.NewTURN(nat.TURNConfig{
		ListenUDP: "127.0.0.1:0", RelayIP: "127.0.0.1", PortMin: ourMinPort, PortMax: ourMaxPort, Lab: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { relay.Close() })
	loopback := func(user, remote string, relayOnly bool) Config {
		c := Config{Certificate: users.user(user), Roots: users.roots, Remote: remote, IPFilter: loopbackOnly, RelayOnly: relayOnly}
		if relayOnly {
			name, pass, _ := relay.Credentials(user)
			c.ICEServers = []webrtc.ICEServer{{URLs: nat.TURNURLs(relay.UDPAddr().String(), ""), Username: name, Credential: pass}}
		}
		return c
	}
	const rtt = 50 * time.Millisecond
	vnetCase := func(a, bn benchNAT, relayOnly bool) func(*testing.B) (Config, Config, func()) {
		return func(b *testing.B) (Config, Config, func()) {
			w := newBenchWorld(b, rtt, 0, a, bn)
			alice, bob := w.config(users, 0, "alice", "bob", 0), w.config(users, 1, "bob", "alice", 0)
			alice.RelayOnly, bob.RelayOnly = relayOnly, relayOnly
			return alice, bob, w.close
		}
	}
	for _, c := range []struct {
		name  string
		setup func(*testing.B) (alice, bob Config, done func())
	}{
		{"loopback/direct", func(*testing.B) (Config, Config, func()) {
			return loopback("alice", "bob", false), loopback("bob", "alice", false), func() {}
		}},
		{"loopback/relay-only", func(*testing.B) (Config, Config, func()) {
			return loopback("alice", "bob", true), loopback("bob", "alice", true), func() {}
		}},
		{"vnet-rtt=50ms/direct=port-restricted", vnetCase(benchPortRestricted, benchPortRestricted, false)},
		{"vnet-rtt=50ms/relay=symmetric", vnetCase(benchSymmetric, benchSymmetric, false)},
		{"vnet-rtt=50ms/relay-only", vnetCase(benchPortRestricted, benchPortRestricted, true)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var open, first []time.Duration
			relayed := 0
			for b.Loop() {
				b.StopTimer()
				alice, bob, done := c.setup(b)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				b.StartTimer()
				p, err := dialVoice(ctx, b, alice, bob, audio.NewTone(440), audio.NewTone(660), audio.Null(), audio.Null())
				b.StopTimer()
				cancel()
				if err != nil {
					done()
					b.Fatal(err)
				}
				open, first = append(open, p.open), append(first, p.first)
				if path, err := p.a.Path(); err == nil && path.Relayed() {
					relayed++
				}
				p.close()
				done()
				b.StartTimer()
			}
			b.ReportMetric(ms(median(open)), "ms/open")
			b.ReportMetric(ms(median(first)), "ms/first-audio")
			b.ReportMetric(ms(slices.Max(first)), "ms-max/first-audio")
			b.ReportMetric(float64(relayed)/float64(len(first)), "relayed/op")
		})
	}
}

// The clicks of BenchmarkTerminalDelay: after clickWarmup frames (the
// jitter buffer settles), a click every clickEvery frames, each at
// another place in its frame so that the frame's phase is sampled.
const (
	terminalClicks = 20
	clickWarmup    = 25
	clickEvery     = 12 // 240 ms, longer than any delay measured
	clickSamples   = 240
	clickThreshold = 2000 // of a click's 16384 peak: silence decodes to 0
)

// clickSchedule is where the clicks are: frame[i] and offset[i] (the
// click's first sample in that frame), the click itself, and its energy
// centroid in samples from its start (the instant it "is").
type clickSchedule struct {
	frame, offset []int
	byFrame       map[int]int // frame → click
	click         []int16
	centroid      float64
	frames        int // frames the microphone plays with clicks
}

func newClickSchedule(n int) *clickSchedule {
	s := &clickSchedule{byFrame: map[int]int{}, click: make([]int16, clickSamples)}
	// A 5 ms Hann-windowed 1 kHz burst at half full scale: short enough
	// to place to a fraction of a millisecond, tonal enough for Opus's
	// speech modes to keep its energy where it was.
	var e, ew float64
	for j := range s.click {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(j)/clickSamples)
		s.click[j] = int16(16384 * w * math.Sin(2*math.Pi*1000*float64(j)/audio.SampleRate))
		x := float64(s.click[j]) * float64(s.click[j])
		e += x
		ew += x * float64(j)
	}
	s.centroid = ew / e
	for i := range n {
		f := clickWarmup + i*clickEvery
		s.frame = append(s.frame, f)
		s.offset = append(s.offset, (i*317)%(audio.FrameSamples-clickSamples))
		s.byFrame[f] = i
	}
	s.frames = s.frame[n-1] + clickEvery
	return s
}

// fill makes frame n of the microphone's sound.
func (s *clickSchedule) fill(n int, frame []int16) {
	clear(frame)
	if i, ok := s.byFrame[n]; ok {
		copy(frame[s.offset[i]:], s.click)
	}
}

// findClicks is the energy centroid of each click in pcm, in samples.
func findClicks(pcm []int16) []float64 {
	var at []float64
	for i := 0; i < len(pcm); i++ {
		if abs16(pcm[i]) < clickThreshold {
			continue
		}
		lo, hi := max(i-audio.FrameSamples/2, 0), min(i+3*audio.FrameSamples/2, len(pcm))
		var e, ew float64
		for j := lo; j < hi; j++ {
			x := float64(pcm[j]) * float64(pcm[j])
			e += x
			ew += x * float64(j)
		}
		at = append(at, ew/e)
		i = hi + 5*audio.FrameSamples // the clicks are 12 frames apart
	}
	return at
}

func abs16(x int16) int {
	if x < 0 {
		return -int(x)
	}
	return int(x)
}

// codecShift is where Opus (audio.NewEncoder and NewDecoder, as a call
// sets them) puts each click of s, in samples after where it was: the
// codec's algorithmic delay, measured without a network.
func codecShift(tb testing.TB, s *clickSchedule) []float64 {
	enc, err := audio.NewEncoder()
	if err != nil {
		tb.Fatal(err)
	}
	dec, err := audio.NewDecoder()
	if err != nil {
		tb.Fatal(err)
	}
	in := make([]int16, audio.FrameSamples)
	pkt := make([]byte, audio.MaxPacket)
	out := make([]int16, s.frames*audio.FrameSamples)
	for n := range s.frames {
		s.fill(n, in)
		k, err := enc.Encode(in, pkt)
		if err != nil {
			tb.Fatal(err)
		}
		if err := dec.Decode(pkt[:k], out[n*audio.FrameSamples:(n+1)*audio.FrameSamples]); err != nil {
			tb.Fatal(err)
		}
	}
	at := findClicks(out)
	if len(at) != len(s.frame) {
		tb.Fatalf("%d clicks decoded of %d", len(at), len(s.frame))
	}
	shift := make([]float64, len(at))
	for i, c := range at {
		shift[i] = c - float64(s.frame[i]*audio.FrameSamples+s.offset[i]) - s.centroid
	}
	return shift
}

// clickMic is a microphone that plays a clickSchedule (then silence),
// paced as a device delivers: frame n at start+(n+1)·20 ms, start being
// the first Read. It notes when each Read returned.
type clickMic struct {
	s      *clickSchedule
	lead   time.Duration // before frame 0 begins
	closed chan struct{}
	once   sync.Once
	played chan struct{} // closed once every click's frame was read
	mu     sync.Mutex    // guards start, reads
	start  time.Time
	reads  []time.Time // when Read returned frame n
}

func newClickMic(s *clickSchedule, lead time.Duration) *clickMic {
	return &clickMic{s: s, lead: lead, closed: make(chan struct{}), played: make(chan struct{})}
}

func (m *clickMic) Read(frame []int16) error {
	m.mu.Lock()
	if m.start.IsZero() {
		m.start = time.Now().Add(m.lead)
	}
	n := len(m.reads)
	due := m.start.Add(time.Duration(n+1) * audio.FrameDuration)
	m.mu.Unlock()
	t := time.NewTimer(time.Until(due))
	defer t.Stop()
	select {
	case <-t.C:
	case <-m.closed:
		return audio.ErrClosed
	}
	m.s.fill(n, frame)
	now := time.Now()
	m.mu.Lock()
	m.reads = append(m.reads, now)
	m.mu.Unlock()
	if n == m.s.frames {
		close(m.played)
	}
	return nil
}

func (m *clickMic) Close() error {
	m.once.Do(func() { close(m.closed) })
	return nil
}

// stampSink is a speaker that keeps what it is given and when.
type stampSink struct {
	mu  sync.Mutex // guards at, pcm
	at  []time.Time
	pcm []int16
}

func (s *stampSink) Write(frame []int16) error {
	now := time.Now()
	s.mu.Lock()
	s.at = append(s.at, now)
	s.pcm = append(s.pcm, frame...)
	s.mu.Unlock()
	return nil
}

func (s *stampSink) Close() error { return nil }

// ticksLost counts the frames the playout clock skipped: how many
// fewer Writes there were than 20 ms periods between the first and the
// last.
func (s *stampSink) ticksLost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.at) < 2 {
		return 0
	}
	span := s.at[len(s.at)-1].Sub(s.at[0])
	return int((span+audio.FrameDuration/2)/audio.FrameDuration) + 1 - len(s.at)
}

// rtpClock is an interceptor that notes when each RTP packet of a side's
// own stream was written (after encoding, before SRTP) and when each of
// the other side's was read (by Voice, into the jitter buffer).
type rtpClock struct {
	interceptor.NoOp
	mu   sync.Mutex // guards sent, read
	sent []rtpStamp // in order
	read map[uint16]time.Time
}

type rtpStamp struct {
	seq uint16
	at  time.Time
}

func newRTPClock() *rtpClock { return &rtpClock{read: map[uint16]time.Time{}} }

func (c *rtpClock) NewInterceptor(string) (interceptor.Interceptor, error) { return c, nil }

func (c *rtpClock) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		now := time.Now()
		c.mu.Lock()
		c.sent = append(c.sent, rtpStamp{h.SequenceNumber, now})
		c.mu.Unlock()
		return w.Write(h, payload, a)
	})
}

func (c *rtpClock) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil {
			var h rtp.Header
			if _, err := h.Unmarshal(b[:n]); err == nil {
				now := time.Now()
				c.mu.Lock()
				if _, ok := c.read[h.SequenceNumber]; !ok {
					c.read[h.SequenceNumber] = now
				}
				c.mu.Unlock()
			}
		}
		return n, a, err
	})
}

// clickDelay is one click's way from alice's microphone to bob's
// speaker. total = framing + codec + late + send + buffer, where
//   - framing is 20 ms: the click waits for the rest of its frame to be
//     recorded, and comes out at the same place in the frame played;
//   - codec is Opus's algorithmic delay (where the decoder puts the
//     click, against where it was);
//   - late is how late the microphone's Read returned, against its
//     schedule (the Go scheduler's timer slack);
//   - send is from that Read to bob's Voice reading the packet: Opus
//     encoding, RTP, SRTP, the UDP path, pion's receive side;
//   - buffer is from there to the speaker Write that begins playing the
//     frame: the jitter buffer's target less a frame, the playout
//     ticker's phase against the arrivals, and decoding.
type clickDelay struct {
	total, codec, late, send, buffer time.Duration
}

// measureClicks finds the clicks of s in what bob's speaker got and
// times each against when alice's microphone "heard" it. A click it
// cannot time is in missed, with why: not heard (its frame concealed,
// or dropped by the jitter buffer), or its packet not found.
func measureClicks(s *clickSchedule, mic *clickMic, spk *stampSink, out, in *rtpClock, shift []float64) (ds []clickDelay, missed map[int]string) {
	mic.mu.Lock()
	start, reads := mic.start, slices.Clone(mic.reads)
	mic.mu.Unlock()
	spk.mu.Lock()
	writes, pcm := slices.Clone(spk.at), slices.Clone(spk.pcm)
	spk.mu.Unlock()
	out.mu.Lock()
	sent := slices.Clone(out.sent)
	out.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()

	samples := func(x float64) time.Duration { return time.Duration(x * float64(time.Second) / audio.SampleRate) }
	mouth := make([]time.Time, len(s.frame)) // when each click "is" at the microphone
	missed = map[int]string{}
	for i, f := range s.frame {
		mouth[i] = start.Add(time.Duration(f)*audio.FrameDuration + samples(float64(s.offset[i])+s.centroid))
		missed[i] = "not heard"
	}
	for _, c := range findClicks(pcm) {
		fr := int(c) / audio.FrameSamples
		ear := writes[fr].Add(samples(c - float64(fr*audio.FrameSamples)))
		// The click it is: the last one heard at the microphone before.
		i := sort.Search(len(mouth), func(i int) bool { return mouth[i].After(ear) }) - 1
		if i < 0 || missed[i] != "not heard" {
			continue // not a click sent (concealment's echo of one)
		}
		f := s.frame[i]
		if f >= len(reads) {
			missed[i] = "frame never read"
			continue
		}
		ideal := start.Add(time.Duration(f+1) * audio.FrameDuration)
		read := reads[f]
		// Its packet: Voice's send loop reads a frame, encodes and
		// writes it, then reads the next, so it is the one written
		// between this Read and the next.
		k := sort.Search(len(sent), func(k int) bool { return !sent[k].at.Before(read) })
		if k == len(sent) || (f+1 < len(reads) && !sent[k].at.Before(reads[f+1])) {
			missed[i] = "no packet sent for its frame"
			continue
		}
		arrived, ok := in.read[sent[k].seq]
		if !ok {
			missed[i] = fmt.Sprintf("packet %d never read by bob", sent[k].seq)
			continue
		}
		delete(missed, i)
		// The speaker Write that began playing its frame: the click is
		// offset+centroid+shift samples into it.
		want := ear.Add(-samples(float64(s.offset[i]) + s.centroid + shift[i]))
		j := sort.Search(len(writes), func(j int) bool { return !writes[j].Before(want) })
		if j == len(writes) || (j > 0 && want.Sub(writes[j-1]) < writes[j].Sub(want)) {
			j--
		}
		d := clickDelay{
			total:  ear.Sub(mouth[i]),
			late:   read.Sub(ideal),
			send:   arrived.Sub(read),
			buffer: writes[j].Sub(arrived),
		}
		d.codec = d.total - audio.FrameDuration - d.late - d.send - d.buffer
		ds = append(ds, d)
	}
	return ds, missed
}

// BenchmarkTerminalDelay measures the delay a pair of terminals adds to
// the network's, mouth to ear, without the sound devices' own buffers:
// alice's microphone plays clicks at known instants (paced as a device
// is), through Voice (Opus, RTP, SRTP) over a loopback session to bob's
// Voice (jitter buffer, playout clock, Opus), whose speaker notes when
// each frame was written. A click's delay is from its instant at the
// microphone to its instant in the speaker's stream (the frame's Write
// time plus its place in the frame), less half the session's round trip
// (Ping, on loopback a fraction of a millisecond). Each op is a call of
// its own, so each samples another phase of bob's playout clock against
// alice's; terminalClicks clicks a call.
//
// It reports the delay (ms-p50, ms-max, ms-min over every click) and
// its parts (see clickDelay; p50 each, and ms-buffer-max); ms-phase is
// the buffer's part less bob's jitter buffer target (ms-target, at the
// call's end) and the frame being played: the playout ticker's phase
// against the arrivals, and frames the buffer holds beyond its target.
// ticks-lost/op counts the 20 ms turns bob's playout clock skipped (a
// stalled goroutine: time.Ticker drops ticks), dropped/op and
// concealed/op what the jitter buffer counted, missed/op the clicks it
// could not time (logged with why).
func BenchmarkTerminalDelay(b *testing.B) {
	users := newTestCA(b)
	sched := newClickSchedule(terminalClicks)
	shift := codecShift(b, sched)
	var all []clickDelay
	var byCall [][]clickDelay
	var oneWay, phase []time.Duration
	var target []time.Duration
	var dropped, concealed uint64
	missed := 0
	var lost []int // by call
	for b.Loop() {
		out, in := newRTPClock(), newRTPClock()
		alice := Config{Certificate: users.user("alice"), Roots: users.roots, Remote: "bob", IPFilter: loopbackOnly,
			Interceptors: []interceptor.Factory{out}}
		bob := Config{Certificate: users.user("bob"), Roots: users.roots, Remote: "alice", IPFilter: loopbackOnly,
			Interceptors: []interceptor.Factory{in}}
		// Alice's microphone starts a while after bob's playout clock
		// (they would start together on loopback): another phase a call,
		// spread over the frame as a network's delay would.
		lead := time.Duration(len(target)*7300) * time.Microsecond % audio.FrameDuration
		mic, spk := newClickMic(sched, lead), &stampSink{}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p, err := dialVoice(ctx, b, alice, bob, mic, audio.Silence(), audio.Null(), spk)
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		var rtts []time.Duration
		for range 5 {
			if rtt, err := p.a.Ping(ctx); err == nil {
				rtts = append(rtts, rtt)
			}
		}
		select {
		case <-mic.played:
		case <-ctx.Done():
		}
		time.Sleep(300 * time.Millisecond) // the last click's way out
		st := p.vb.Stats()
		p.close()
		cancel()
		if len(rtts) == 0 {
			b.Fatal("no ping answered")
		}
		ds, miss := measureClicks(sched, mic, spk, out, in, shift)
		if len(ds) == 0 {
			b.Fatalf("no click timed: %v", miss)
		}
		if len(miss) > 0 {
			b.Logf("call %d: clicks not timed %v (bob %+v)", len(target), miss, st)
		}
		missed += len(miss)
		lost = append(lost, spk.ticksLost())
		half := median(rtts) / 2
		for i := range ds {
			ds[i].total -= half
			ds[i].send -= half
			// What the buffer held a packet beyond its target (less the
			// frame being played): the playout ticker's phase.
			phase = append(phase, ds[i].buffer-(st.Buffer-audio.FrameDuration))
		}
		all = append(all, ds...)
		byCall = append(byCall, ds)
		oneWay = append(oneWay, half)
		target = append(target, st.Buffer)
		dropped += st.Dropped
		concealed += st.Concealed
	}
	part := func(f func(clickDelay) time.Duration) []time.Duration {
		var v []time.Duration
		for _, d := range all {
			v = append(v, f(d))
		}
		return v
	}
	total := part(func(d clickDelay) time.Duration { return d.total })
	buffer := part(func(d clickDelay) time.Duration { return d.buffer })
	b.ReportMetric(ms(median(total)), "ms-p50")
	b.ReportMetric(ms(slices.Max(total)), "ms-max")
	b.ReportMetric(ms(slices.Min(total)), "ms-min")
	b.ReportMetric(ms(audio.FrameDuration), "ms-framing")
	b.ReportMetric(ms(median(part(func(d clickDelay) time.Duration { return d.codec }))), "ms-codec")
	b.ReportMetric(ms(median(part(func(d clickDelay) time.Duration { return d.late }))), "ms-late")
	b.ReportMetric(ms(median(part(func(d clickDelay) time.Duration { return d.send }))), "ms-send")
	b.ReportMetric(ms(median(buffer)), "ms-buffer")
	b.ReportMetric(ms(slices.Max(buffer)), "ms-buffer-max")
	b.ReportMetric(ms(median(phase)), "ms-phase")
	b.ReportMetric(ms(slices.Max(phase)), "ms-phase-max")
	b.ReportMetric(ms(median(oneWay)), "ms-net")
	b.ReportMetric(ms(median(target)), "ms-target")
	b.ReportMetric(float64(dropped)/float64(len(target)), "dropped/op")
	b.ReportMetric(float64(concealed)/float64(len(target)), "concealed/op")
	b.ReportMetric(float64(missed)/float64(len(target)), "missed/op")
	b.ReportMetric(float64(sum(lost))/float64(len(target)), "ticks-lost/op")
	var offline []time.Duration
	for _, x := range shift {
		offline = append(offline, time.Duration(x*float64(time.Second)/audio.SampleRate))
	}
	// Per call: the playout phase is the call's, so the buffer's part
	// moves between calls more than within one.
	for k, ds := range byCall {
		var t, bu []time.Duration
		for _, d := range ds {
			t, bu = append(t, d.total), append(bu, d.buffer)
		}
		b.Logf("call %d: delay p50 %.1f ms (%.1f-%.1f), buffer p50 %.1f ms, target %v; playout ticks lost %d",
			k, ms(median(t)), ms(slices.Min(t)), ms(slices.Max(t)), ms(median(bu)), target[k], lost[k])
	}
	b.Logf("Opus's delay without a network: %.2f ms (p50 of the clicks)", ms(median(offline)))
}

// BenchmarkVoiceCPU measures what a call costs in CPU: 1 and then 4
// calls at once on loopback, both ends of each in this process (so a
// call is two terminals: two PeerConnections, two Opus encoders and
// decoders, DTLS, SRTP, pion's RTCP reports), each end's microphone
// playing voice-like sound over and over, into a speaker that discards
// it. Each op is a second of the calls running, timed by the process's
// CPU time (getrusage: user and system, every thread, cgo's included).
// It reports cpu-%/call: CPU time over wall time, per call, in percent
// of one core (half of it is a terminal's share).
func BenchmarkVoiceCPU(b *testing.B) {
	users := newTestCA(b)
	voice := audiotest.VoiceLike(3)
	for _, calls := range []int{1, 4} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) {
			var ps []*voicePair
			defer func() {
				var wg sync.WaitGroup
				for _, p := range ps {
					wg.Go(p.close)
				}
				wg.Wait()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for range calls {
				alice := Config{Certificate: users.user("alice"), Roots: users.roots, Remote: "bob", IPFilter: loopbackOnly}
				bob := Config{Certificate: users.user("bob"), Roots: users.roots, Remote: "alice", IPFilter: loopbackOnly}
				p, err := dialVoice(ctx, b, alice, bob, newLoopPlayer(voice), newLoopPlayer(voice), audio.Null(), audio.Null())
				if err != nil {
					b.Fatal(err)
				}
				ps = append(ps, p)
			}
			for _, p := range ps {
				select {
				case <-p.va.FirstAudio():
				case <-ctx.Done():
					b.Fatal("no sound reached alice")
				}
			}
			time.Sleep(time.Second) // setup's CPU done, buffers settled
			var cpu, wall time.Duration
			before := make([]VoiceStats, len(ps))
			for i, p := range ps {
				before[i] = p.vb.Stats()
			}
			for b.Loop() {
				c0, t0 := cpuTime(b), time.Now()
				time.Sleep(time.Second)
				cpu += cpuTime(b) - c0
				wall += time.Since(t0)
			}
			var played, concealed uint64
			for i, p := range ps {
				st := p.vb.Stats()
				played += st.Received - before[i].Received
				concealed += st.Concealed - before[i].Concealed
			}
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/float64(calls), "cpu-%/call")
			b.ReportMetric(float64(played)/wall.Seconds()/float64(calls), "pkts/s/call")
			b.ReportMetric(float64(concealed)/float64(calls), "concealed/call")
		})
	}
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
