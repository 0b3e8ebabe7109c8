//go:build cgo

package audio

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/gen2brain/malgo"
)

// Speaker buffering. Write queues at most speakerFrames (200 ms) and
// drops the oldest beyond. After silence the device waits for
// primeSamples (40 ms) before it plays again, so that a writer's usual
// jitter does not break the sound up.
const (
	speakerFrames = 10
	primeSamples  = 2 * FrameSamples
	drainTimeout  = 300 * time.Millisecond
)

// errSpeakerStopped is Write's error when the device went away.
var errSpeakerStopped = errors.New("audio: the speaker stopped (device lost?)")

// speaker is a system speaker: Write fills a ring that the device's
// callback empties.
type speaker struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device

	mu      sync.Mutex // guards the rest
	ring    *ring
	stats   DeviceStats
	playing bool // the ring has been primed and not yet run dry
	drain   bool // Close is waiting for the ring to play out
	stopped bool
	closed  bool
	scratch []int16
}

// OpenSpeaker opens the system's speaker name (a DeviceInfo's ID or
// Name), or its default for "". The Sink has a Stats method.
func OpenSpeaker(name string) (Sink, error) {
	s := &speaker{ring: newRing(speakerFrames * FrameSamples)}
	var err error
	cb := malgo.DeviceCallbacks{Data: s.onData, Stop: s.onStop}
	s.ctx, s.dev, err = openDevice(malgo.Playback, name, deviceConfig(malgo.Playback), cb)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// onData runs on the device's thread to fill out with s16 samples.
func (s *speaker) onData(out, _ []byte, frames uint32) {
	n := min(int(frames), len(out)/2)
	s.mu.Lock()
	if cap(s.scratch) < n {
		s.scratch = make([]int16, n)
	}
	p := s.scratch[:n]
	got := 0
	if !s.playing && (s.ring.len() >= primeSamples || s.drain) {
		s.playing = true
	}
	if s.playing {
		got = s.ring.read(p)
		if got < n {
			s.stats.Underruns++
			s.playing = false
		}
	}
	clear(p[got:])
	s.mu.Unlock()
	for i, v := range p {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
	}
	clear(out[2*n:])
}

// onStop runs when the device stops, by Close or because it was lost.
func (s *speaker) onStop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

// Write queues frame for the device; it never waits for it.
func (s *speaker) Write(frame []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.stopped:
		return errSpeakerStopped
	}
	if s.ring.write(frame) > 0 {
		s.stats.Overruns++
	}
	return nil
}

// Stats returns the speaker's counters.
func (s *speaker) Stats() DeviceStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close lets the device play what was written (waiting at most
// drainTimeout), then stops and releases it.
func (s *speaker) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed, s.drain = true, true
	s.mu.Unlock()
	deadline := time.Now().Add(drainTimeout)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		left := s.ring.len() > 0 && !s.stopped
		s.mu.Unlock()
		if !left {
			time.Sleep(periods * periodMillis * time.Millisecond) // the device's own buffer
			break
		}
		time.Sleep(periodMillis * time.Millisecond / 2)
	}
	s.dev.Uninit()
	freeContext(s.ctx)
	return nil
}
