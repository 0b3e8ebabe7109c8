//go:build cgo

package audio

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/gen2brain/malgo"
)

// micFrames is how much sound a microphone keeps for a late Read:
// 200 ms. Beyond it the oldest is dropped, so a reader that stalls
// hears the present, not the past.
const micFrames = 10

// errMicStopped is Read's error when the device went away.
var errMicStopped = errors.New("audio: the microphone stopped (device lost?)")

// mic is a system microphone: the device's callback fills a ring that
// Read empties a frame at a time.
type mic struct {
	ctx *malgo.AllocatedContext
	dev *malgo.Device

	mu      sync.Mutex // guards ring, stats, stopped, scratch
	ring    *ring
	stats   DeviceStats
	stopped bool
	scratch []int16

	ready chan struct{} // one token: the callback delivered sound
	done  chan struct{} // closed by Close
	once  sync.Once
}

// OpenMic opens the system's microphone name (a DeviceInfo's ID or
// Name), or its default for "". The Source has a Stats method.
func OpenMic(name string) (Source, error) {
	m := &mic{
		ring:  newRing(micFrames * FrameSamples),
		ready: make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	var err error
	cb := malgo.DeviceCallbacks{Data: m.onData, Stop: m.onStop}
	m.ctx, m.dev, err = openDevice(malgo.Capture, name, deviceConfig(malgo.Capture), cb)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// onData runs on the device's thread with captured s16 samples.
func (m *mic) onData(_, in []byte, frames uint32) {
	m.mu.Lock()
	n := min(int(frames), len(in)/2)
	if cap(m.scratch) < n {
		m.scratch = make([]int16, n)
	}
	s := m.scratch[:n]
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(in[2*i:]))
	}
	if m.ring.write(s) > 0 {
		m.stats.Overruns++
	}
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// onStop runs when the device stops, by Close or because it was lost.
func (m *mic) onStop() {
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// Read waits for the next 20 ms the device has captured.
func (m *mic) Read(frame []int16) error {
	if err := checkFrame(frame); err != nil {
		return err
	}
	for {
		select {
		case <-m.done:
			return ErrClosed
		default:
		}
		m.mu.Lock()
		if m.ring.len() >= FrameSamples {
			m.ring.read(frame)
			m.mu.Unlock()
			return nil
		}
		stopped := m.stopped
		m.mu.Unlock()
		if stopped {
			return errMicStopped
		}
		select {
		case <-m.ready:
		case <-m.done:
			return ErrClosed
		}
	}
}

// Stats returns the microphone's counters.
func (m *mic) Stats() DeviceStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Close stops the device and releases it; a blocked Read returns
// ErrClosed.
func (m *mic) Close() error {
	m.once.Do(func() {
		close(m.done)
		m.dev.Uninit()
		freeContext(m.ctx)
	})
	return nil
}
