package audio

import (
	"math"
	"sync/atomic"
)

// toneLevel is a tone's amplitude: 0.3 of full scale, loud enough to
// hear and to measure, far from clipping.
const toneLevel = 0.3 * math.MaxInt16

// NewTone is an endless sine at hz, paced like a microphone. Like
// WAVSource, the Source has a SetPaced(bool) method to turn pacing off.
func NewTone(hz float64) Source {
	return &tone{step: 2 * math.Pi * hz / SampleRate, pace: newPacer()}
}

// Silence is endless silence, paced like a microphone (and with
// SetPaced, as NewTone's).
func Silence() Source { return &tone{pace: newPacer()} }

// tone is a sine, or silence at step 0.
type tone struct {
	step  float64 // radians per sample
	phase float64
	pace  *pacer
}

// SetPaced turns pacing off or back on, as WAVSource.SetPaced.
func (t *tone) SetPaced(on bool) { t.pace.setPaced(on) }

func (t *tone) Read(frame []int16) error {
	if err := checkFrame(frame); err != nil {
		return err
	}
	if t.step == 0 {
		clear(frame)
	} else {
		for i := range frame {
			frame[i] = int16(math.Round(toneLevel * math.Sin(t.phase)))
			t.phase = math.Mod(t.phase+t.step, 2*math.Pi)
		}
	}
	return t.pace.wait()
}

func (t *tone) Close() error {
	t.pace.close()
	return nil
}

// Null is a Sink that discards what it is given.
func Null() Sink { return &null{} }

type null struct{ closed atomic.Bool }

func (n *null) Write([]int16) error {
	if n.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (n *null) Close() error {
	n.closed.Store(true)
	return nil
}
