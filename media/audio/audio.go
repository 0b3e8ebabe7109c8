// Package audio is the sound a call carries: the devices it comes from
// and goes to (the system's, a WAV file, a tone, silence), the Opus
// codec, echo cancellation and the jitter buffer.
//
// Everything here works in one format: 48 kHz, mono, signed 16-bit
// samples, in frames of 20 ms (FrameSamples samples). A Source gives one
// frame per Read, paced as a microphone is: Read blocks until the
// frame's time has come (a WAV file or a tone are paced by a clock, the
// system's microphone by the device), so a caller never needs a clock of
// its own. A Sink takes one frame per Write and never blocks for long: a
// file writes it, the system's speaker queues it for its device.
//
// The system's devices, Opus and the echo canceller need cgo (miniaudio
// through malgo, libopus, libspeexdsp); built without cgo they return
// ErrNoCgo, and the file, tone and silence kinds still work.
package audio

import (
	"errors"
	"time"
)

// The one format.
const (
	SampleRate    = 48000
	Channels      = 1
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = SampleRate / 50 // 960
)

// ErrNoCgo is the error of what needs cgo in a build without it.
var ErrNoCgo = errors.New("audio: this build has no audio devices or codec (built without cgo)")

// ErrNoDevice is the error of the system kind where the system has no
// sound device to open.
var ErrNoDevice = errors.New("audio: no sound device")

// Source is where a call's sound comes from.
type Source interface {
	// Read fills frame (FrameSamples samples) with the next 20 ms,
	// blocking until its time has come. io.EOF ends a finite source
	// (a WAV file's end).
	Read(frame []int16) error
	// Close releases the source; a blocked Read returns.
	Close() error
}

// Sink is where a call's sound goes.
type Sink interface {
	// Write plays or stores frame (FrameSamples samples). It must not
	// block for more than a frame's time.
	Write(frame []int16) error
	// Close flushes and releases the sink (a WAV file gets its final
	// header and is renamed into place).
	Close() error
}
