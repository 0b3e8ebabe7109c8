package media

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"soitto/media/audio"
)

// VoiceConfig is what a call's sound comes from and goes to.
type VoiceConfig struct {
	// Mic is the source of this side's sound; Speaker plays the other
	// side's. The Voice owns both and closes them.
	Mic     audio.Source
	Speaker audio.Sink
	// Logger; nil is the session's.
	Logger *slog.Logger
}

// Voice carries sound both ways over a session's audio track: the
// microphone's frames encoded with Opus (FEC tuned to the loss the
// other side reports), and the other side's packets through a jitter
// buffer, decoded (FEC for a single lost packet, concealment for more)
// and played on a clock of its own, so playback never blocks the
// network. Nothing is sent or played before the other side's identity
// is verified.
type Voice struct {
	s      *Session
	cfg    VoiceConfig
	log    *slog.Logger
	enc    audio.Encoder
	dec    audio.Decoder
	muted  atomic.Bool
	level  atomic.Uint32 // the microphone's last RMS, float32 bits, 0..1
	stop   chan struct{}
	wg     sync.WaitGroup
	closed sync.Once

	firstIn chan struct{} // closed at the first packet received
	ready   chan struct{} // the jitter buffer holds its target: start playing
	first   sync.Once

	mu       sync.Mutex // guards jb, counters below
	jb       *audio.Jitter
	sent     uint64 // packets
	sentB    uint64 // payload bytes
	recvB    uint64
	remLoss  float64 // the other side's report of our stream, 0..1
	recvLoss float64 // our own count of theirs, 0..1
	err      error
	track    *webrtc.TrackRemote
	sender   *webrtc.RTPSender
}

// VoiceStats is one side's view of the call's sound.
type VoiceStats struct {
	Sent, Received        uint64        // packets
	SentBytes, RecvBytes  uint64        // Opus payload
	RemoteLoss, LocalLoss float64       // fractions: of ours as they report it; of theirs as we count it
	Jitter                time.Duration // of their packets, as we measure it
	Buffer                time.Duration // the jitter buffer's target delay
	Recovered, Concealed  uint64        // frames: from FEC; made up
	Late, Dropped         uint64        // frames: after their turn; shed to cut the delay
	Stretched             uint64        // of the concealed: underruns waited out
}

// ErrNoAudio is the error of StartVoice on a session without audio.
var ErrNoAudio = errors.New("media: the session has no audio track")

// StartVoice starts sound both ways. It needs a session opened with
// Config.Audio, and Opus (cgo). On error it closes the devices.
func (s *Session) StartVoice(cfg VoiceConfig) (*Voice, error) {
	fail := func(err error) (*Voice, error) {
		cfg.Mic.Close()
		cfg.Speaker.Close()
		return nil, err
	}
	s.mu.Lock()
	track := s.audioOut
	sender := s.sender
	s.mu.Unlock()
	if track == nil {
		return fail(ErrNoAudio)
	}
	enc, err := audio.NewEncoder()
	if err != nil {
		return fail(err)
	}
	dec, err := audio.NewDecoder()
	if err != nil {
		return fail(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	v := &Voice{
		s: s, cfg: cfg, log: cfg.Logger, enc: enc, dec: dec,
		stop: make(chan struct{}), firstIn: make(chan struct{}), ready: make(chan struct{}, 1),
		jb: audio.NewJitter(), sender: sender,
	}
	v.wg.Add(4)
	go v.sendLoop(track)
	go v.rtcpLoop(sender)
	go v.receiveLoop()
	go v.playLoop()
	go func() {
		select {
		case <-s.Done():
			v.Close()
		case <-v.stop:
		}
	}()
	return v, nil
}

// SetMuted mutes the microphone: silence is sent instead (the path and
// the other side's buffer stay warm).
func (v *Voice) SetMuted(m bool) { v.muted.Store(m) }

// Muted tells whether the microphone is muted.
func (v *Voice) Muted() bool { return v.muted.Load() }

// Level is the microphone's loudness over the last frame, 0 to 1 (RMS
// of full scale), for a level meter; 0 while muted.
func (v *Voice) Level() float64 { return float64(math.Float32frombits(v.level.Load())) }

// FirstAudio is closed when the first packet of the other side's sound
// arrives.
func (v *Voice) FirstAudio() <-chan struct{} { return v.firstIn }

// Stats is what this side measured so far.
func (v *Voice) Stats() VoiceStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	j := v.jb.Stats()
	return VoiceStats{
		Sent: v.sent, Received: j.Received, SentBytes: v.sentB, RecvBytes: v.recvB,
		RemoteLoss: v.remLoss, LocalLoss: v.recvLoss,
		Jitter: j.Jitter, Buffer: j.Target,
		Recovered: j.Recovered, Concealed: j.Concealed, Late: j.Late, Dropped: j.Dropped,
		Stretched: j.Stretched,
	}
}

// Err is why the sound stopped early (a device failed), or nil.
func (v *Voice) Err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

// Close stops the sound and closes the devices; the session goes on.
func (v *Voice) Close() error {
	v.closed.Do(func() {
		close(v.stop)
		v.cfg.Mic.Close() // unblocks a Read
		// Unblock the network reads; the session lives on.
		v.mu.Lock()
		tr := v.track
		v.mu.Unlock()
		if tr != nil {
			tr.SetReadDeadline(time.Now())
		}
		if v.sender != nil {
			v.sender.SetReadDeadline(time.Now())
		}
		v.wg.Wait()
		v.cfg.Speaker.Close()
	})
	return nil
}

func (v *Voice) setErr(err error) {
	v.mu.Lock()
	if v.err == nil {
		v.err = err
	}
	v.mu.Unlock()
	v.log.Info("voice stopped", "err", err)
}

// verified waits for the other side's identity; false if the call
// stopped first.
func (v *Voice) verified() bool {
	select {
	case <-v.s.Verified():
		return true
	case <-v.stop:
		return false
	}
}

func (v *Voice) stopped() bool {
	select {
	case <-v.stop:
		return true
	default:
		return false
	}
}

// sendLoop reads the microphone (paced by it) and sends each frame.
func (v *Voice) sendLoop(track *webrtc.TrackLocalStaticSample) {
	defer v.wg.Done()
	if !v.verified() {
		return
	}
	frame := make([]int16, audio.FrameSamples)
	buf := make([]byte, audio.MaxPacket)
	var silence *time.Ticker // paces silence once a file has ended
	defer func() {
		if silence != nil {
			silence.Stop()
		}
	}()
	for !v.stopped() {
		var err error
		if silence != nil {
			select {
			case <-silence.C:
			case <-v.stop:
				return
			}
			clear(frame)
		} else {
			err = v.cfg.Mic.Read(frame)
		}
		if v.stopped() {
			return
		}
		if errors.Is(err, io.EOF) {
			// A file ended: silence from now on, at the same pace.
			silence = time.NewTicker(audio.FrameDuration)
			clear(frame)
		} else if err != nil {
			v.setErr(fmt.Errorf("media: microphone: %w", err))
			return
		}
		if v.muted.Load() {
			clear(frame)
		}
		v.level.Store(math.Float32bits(float32(rms(frame))))
		n, err := v.enc.Encode(frame, buf)
		if err != nil {
			v.setErr(err)
			return
		}
		if err := track.WriteSample(pionmedia.Sample{Data: buf[:n], Duration: audio.FrameDuration}); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				return
			}
			v.log.Debug("audio not sent", "err", err)
			continue
		}
		v.mu.Lock()
		v.sent++
		v.sentB += uint64(n)
		v.mu.Unlock()
	}
}

// rtcpLoop reads the reports about our stream: the loss the other side
// sees sets the encoder's FEC.
func (v *Voice) rtcpLoop(sender *webrtc.RTPSender) {
	defer v.wg.Done()
	if sender == nil {
		return
	}
	sender.SetReadDeadline(time.Time{})
	var smooth float64
	for !v.stopped() {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return // the session closed
		}
		for _, p := range pkts {
			rr, ok := p.(*rtcp.ReceiverReport)
			if !ok || len(rr.Reports) == 0 {
				continue
			}
			loss := float64(rr.Reports[0].FractionLost) / 256
			// A report covers a second, a few dozen packets: smooth it,
			// and protect for the worse of the smoothed and the last.
			smooth = 0.7*smooth + 0.3*loss
			v.mu.Lock()
			v.remLoss = loss
			v.mu.Unlock()
			v.enc.SetLoss(int(math.Ceil(100 * max(smooth, loss))))
		}
	}
}

// receiveLoop takes the other side's packets into the jitter buffer.
func (v *Voice) receiveLoop() {
	defer v.wg.Done()
	var tr *webrtc.TrackRemote
	select {
	case tr = <-v.s.audioIn:
		v.s.audioIn <- tr // for a later Voice on the session
	case <-v.stop:
		return
	}
	if !v.verified() {
		return
	}
	tr.SetReadDeadline(time.Time{})
	v.mu.Lock()
	v.track = tr
	v.mu.Unlock()
	if v.stopped() {
		return
	}
	var expected, got uint64
	var last uint16
	for {
		p, _, err := tr.ReadRTP()
		if err != nil || v.stopped() {
			return
		}
		if len(p.Payload) == 0 || len(p.Payload) > audio.MaxPacket {
			continue
		}
		v.first.Do(func() { close(v.firstIn) })
		payload := append([]byte(nil), p.Payload...)
		v.mu.Lock()
		if got > 0 {
			if d := int16(p.SequenceNumber - last); d > 0 {
				expected += uint64(d)
				last = p.SequenceNumber
			}
		} else {
			expected, last = 1, p.SequenceNumber
		}
		got++
		v.recvLoss = 1 - float64(min(got, expected))/float64(expected)
		v.recvB += uint64(len(payload))
		v.jb.Push(p.SequenceNumber, p.Timestamp, payload, time.Now())
		ready := v.jb.Ready()
		v.mu.Unlock()
		if ready {
			select {
			case v.ready <- struct{}{}:
			default:
			}
		}
	}
}

// Playout clock bounds.
const (
	// maxCatchUp frames are played at once when the clock wakes late
	// (a stalled goroutine); beyond that it starts again from now, and
	// the jitter buffer drops what is left over.
	maxCatchUp = 5
)

// playLoop plays a frame every 20 ms on an absolute schedule: the next
// packet decoded, its recovery from FEC, concealment, or silence while
// buffering. The schedule starts over when the jitter buffer first
// holds its target (Ready), so the delay is the target and not the
// target plus the clock's chance phase; a late wake-up plays the frames
// it owes, as far as their packets are here.
func (v *Voice) playLoop() {
	defer v.wg.Done()
	frame := make([]int16, audio.FrameSamples)
	next := time.Now().Add(audio.FrameDuration)
	t := time.NewTimer(audio.FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-v.ready:
			next = time.Now() // play now; keep time from here
		case <-t.C:
		}
		now := time.Now()
		for n := 0; !next.After(now) && n < maxCatchUp; n++ {
			if n > 0 && !v.hasNext() {
				// A stall held up the sender too (or the network):
				// make nothing up for it, start the schedule again.
				break
			}
			if err := v.playFrame(frame); err != nil {
				v.setErr(fmt.Errorf("media: speaker: %w", err))
				return
			}
			next = next.Add(audio.FrameDuration)
		}
		if !next.After(now) {
			next = now.Add(audio.FrameDuration)
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(time.Until(next))
	}
}

func (v *Voice) hasNext() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.jb.HasNext()
}

// playFrame plays the jitter buffer's next turn.
func (v *Voice) playFrame(frame []int16) error {
	v.mu.Lock()
	play, payload := v.jb.Pop()
	v.mu.Unlock()
	var err error
	switch play {
	case audio.PlayWait:
		clear(frame)
	case audio.PlayPacket:
		err = v.dec.Decode(payload, frame)
	case audio.PlayFEC:
		err = v.dec.DecodeFEC(payload, frame)
	case audio.PlayConceal:
		err = v.dec.Conceal(frame)
	}
	if err != nil {
		v.log.Debug("audio frame not decoded", "play", play, "err", err)
		clear(frame)
	}
	return v.cfg.Speaker.Write(frame)
}

// rms is a frame's loudness, 0 to 1.
func rms(frame []int16) float64 {
	var sum float64
	for _, x := range frame {
		f := float64(x) / 32768
		sum += f * f
	}
	return math.Sqrt(sum / float64(len(frame)))
}
