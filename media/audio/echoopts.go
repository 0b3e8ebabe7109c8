package audio

import (
	"fmt"
	"time"
)

// DefaultEchoTail is EchoOptions.TailLength's default: a room's echo
// and a device's buffering fit in 200 ms.
const DefaultEchoTail = 200 * time.Millisecond

// maxEchoTail bounds EchoOptions.TailLength: the filter's cost grows
// with it, and no room needs more.
const maxEchoTail = time.Second

// EchoOptions configures an EchoCanceller.
type EchoOptions struct {
	// TailLength is the longest echo the canceller removes: the
	// delay from a frame's Write to the speaker until its echo has
	// died away in the microphone. If zero, DefaultEchoTail is used.
	TailLength time.Duration
	// Denoise suppresses stationary noise (fans, hiss) and what echo
	// the linear filter leaves.
	Denoise bool
	// AGC evens out the microphone's level.
	AGC bool
	// Denoise and AGC run speexdsp's preprocessor, whose overlapping
	// windows delay the sound by one frame (20 ms); without either,
	// the canceller adds no delay.
}

// tailSamples is TailLength (or its default) in samples, once valid.
func (o EchoOptions) tailSamples() (int, error) {
	tail := o.TailLength
	if tail == 0 {
		tail = DefaultEchoTail
	}
	if tail < FrameDuration || tail > maxEchoTail {
		return 0, fmt.Errorf("audio: echo tail of %v, want %v to %v", tail, FrameDuration, maxEchoTail)
	}
	return int(tail * SampleRate / time.Second), nil
}

// echoRefFrames is how many played frames the canceller holds for
// captures to come: a few, dropping the oldest beyond. A deeper queue
// would hand the filter a reference older than the echo in the frame it
// cancels, and an adaptive filter cannot cancel an echo that arrives
// before its reference; a later echo is what TailLength covers.
const echoRefFrames = 3

// WithEcho puts an echo canceller between a microphone and a speaker:
// every frame written to the returned Sink goes to speaker and to the
// canceller as what is being played, and every frame read from the
// returned Source is mic's with that sound's echo taken out. Closing
// the Source closes mic and closing the Sink closes speaker; close ec
// as well (in any order: a closed canceller passes sound through).
func WithEcho(mic Source, speaker Sink, opts EchoOptions) (Source, Sink, *EchoCanceller, error) {
	ec, err := NewEchoCanceller(opts)
	if err != nil {
		return nil, nil, nil, err
	}
	return &echoSource{mic: mic, ec: ec, buf: make([]int16, FrameSamples)}, &echoSink{speaker: speaker, ec: ec}, ec, nil
}

// echoSource is a microphone with the echo taken out.
type echoSource struct {
	mic Source
	ec  *EchoCanceller
	buf []int16 // Read's alone
}

func (s *echoSource) Read(frame []int16) error {
	if err := checkFrame(frame); err != nil {
		return err
	}
	if err := s.mic.Read(s.buf); err != nil {
		return err
	}
	s.ec.Capture(s.buf, frame)
	return nil
}

func (s *echoSource) Close() error { return s.mic.Close() }

// echoSink is a speaker that tells the canceller what it plays.
type echoSink struct {
	speaker Sink
	ec      *EchoCanceller
}

func (s *echoSink) Write(frame []int16) error {
	if err := s.speaker.Write(frame); err != nil {
		return err
	}
	s.ec.Playback(frame)
	return nil
}

func (s *echoSink) Close() error { return s.speaker.Close() }
