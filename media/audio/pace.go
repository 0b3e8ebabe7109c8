package audio

import (
	"sync"
	"time"
)

// maxLag is how far a paced source lets its reader fall behind before
// it stops catching up: a reader that stalls longer gets the next frame
// at once and the ones after at the normal pace, not a burst.
const maxLag = 5 * FrameDuration

// pacer times a clocked source the way a microphone delivers sound:
// frame n (from 0) is ready when it has been "recorded", at
// start+(n+1)·FrameDuration, start being the first wait. Time is the
// time package's, so tests pace on testing/synctest's fake clock.
//
// wait and setPaced belong to the reading goroutine; close may come
// from any.
type pacer struct {
	paced bool
	start time.Time
	n     int64

	done chan struct{} // closed by close
	once sync.Once
}

func newPacer() *pacer { return &pacer{paced: true, done: make(chan struct{})} }

// setPaced turns pacing on (the default) or off; turning it on starts
// a new clock at the next wait.
func (p *pacer) setPaced(on bool) {
	p.paced = on
	p.n = 0
}

// closed reports whether close has been called.
func (p *pacer) closed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait blocks until the next frame is due and returns nil, or returns
// ErrClosed once close has been called.
func (p *pacer) wait() error {
	if p.closed() {
		return ErrClosed
	}
	if !p.paced {
		return nil
	}
	now := time.Now()
	if p.n == 0 {
		p.start = now
	}
	p.n++
	due := p.start.Add(time.Duration(p.n) * FrameDuration)
	d := due.Sub(now)
	if d < -maxLag {
		p.start = p.start.Add(-d) // re-anchor: this frame is due now
		return nil
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-p.done:
		return ErrClosed
	}
}

// close makes a blocked and every later wait return ErrClosed.
func (p *pacer) close() { p.once.Do(func() { close(p.done) }) }
