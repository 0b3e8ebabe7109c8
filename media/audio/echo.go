//go:build cgo

package audio

/*
#cgo pkg-config: speexdsp
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// EchoCanceller removes from the microphone the echo of what the
// speaker plays (speexdsp's adaptive filter), and optionally noise and
// level swings (its preprocessor). Playback and Capture may be called
// from different goroutines.
//
// It keeps its own queue of played frames (echoRefFrames) rather than
// speexdsp's speex_echo_playback/capture pair, which complains on
// stderr whenever the two sides drift by a frame; when the queue is
// empty, the speaker is taken to be playing silence, as a starved one
// does.
type EchoCanceller struct {
	mu  sync.Mutex // guards ref
	ref *ring      // frames played, not yet matched with a capture

	stateMu sync.Mutex // guards echo, pre, in, play
	echo    *C.SpeexEchoState
	pre     *C.SpeexPreprocessState // nil without Denoise and AGC
	in      []int16
	play    []int16
}

// NewEchoCanceller makes an echo canceller for 20 ms frames at 48 kHz.
func NewEchoCanceller(opts EchoOptions) (*EchoCanceller, error) {
	tail, err := opts.tailSamples()
	if err != nil {
		return nil, err
	}
	echo := C.speex_echo_state_init(FrameSamples, C.int(tail))
	if echo == nil {
		return nil, fmt.Errorf("audio: speexdsp cannot make an echo canceller")
	}
	rate := C.int(SampleRate)
	C.speex_echo_ctl(echo, C.SPEEX_ECHO_SET_SAMPLING_RATE, unsafe.Pointer(&rate))
	var pre *C.SpeexPreprocessState
	if opts.Denoise || opts.AGC {
		pre = C.speex_preprocess_state_init(FrameSamples, SampleRate)
		if pre == nil {
			C.speex_echo_state_destroy(echo)
			return nil, fmt.Errorf("audio: speexdsp cannot make a preprocessor")
		}
		C.speex_preprocess_ctl(pre, C.SPEEX_PREPROCESS_SET_ECHO_STATE, unsafe.Pointer(echo))
		setFlag(pre, C.SPEEX_PREPROCESS_SET_DENOISE, opts.Denoise)
		setFlag(pre, C.SPEEX_PREPROCESS_SET_AGC, opts.AGC)
	}
	return &EchoCanceller{
		ref:  newRing(echoRefFrames * FrameSamples),
		echo: echo,
		pre:  pre,
		in:   make([]int16, FrameSamples),
		play: make([]int16, FrameSamples),
	}, nil
}

// Playback tells the canceller the frame just given to the speaker.
func (e *EchoCanceller) Playback(frame []int16) {
	e.mu.Lock()
	e.ref.write(frame)
	e.mu.Unlock()
}

// Capture writes to out the microphone's frame mic without the echo of
// what was played. Both are FrameSamples long (it panics otherwise);
// they may be the same slice.
func (e *EchoCanceller) Capture(mic, out []int16) {
	if len(mic) != FrameSamples || len(out) != FrameSamples {
		panic(fmt.Sprintf("audio: echo canceller given frames of %d and %d samples, want %d", len(mic), len(out), FrameSamples))
	}
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	if e.echo == nil {
		copy(out, mic)
		return
	}
	e.mu.Lock()
	n := e.ref.read(e.play)
	e.mu.Unlock()
	clear(e.play[n:])
	copy(e.in, mic)
	C.speex_echo_cancellation(e.echo, cInt16(e.in), cInt16(e.play), cInt16(out))
	if e.pre != nil {
		C.speex_preprocess_run(e.pre, cInt16(out))
	}
}

// Close frees the canceller; from then on Capture copies mic to out.
func (e *EchoCanceller) Close() error {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	if e.pre != nil {
		C.speex_preprocess_state_destroy(e.pre)
	}
	if e.echo != nil {
		C.speex_echo_state_destroy(e.echo)
		e.echo, e.pre = nil, nil
	}
	return nil
}

// setFlag turns a preprocessor feature on or off.
func setFlag(pre *C.SpeexPreprocessState, req C.int, on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.speex_preprocess_ctl(pre, req, unsafe.Pointer(&v))
}

// cInt16 points speexdsp at a frame.
func cInt16(p []int16) *C.spx_int16_t { return (*C.spx_int16_t)(unsafe.Pointer(&p[0])) }
