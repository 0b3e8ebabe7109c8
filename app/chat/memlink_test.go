package chat

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// pipe is one direction of an in-memory chat channel that loses,
// duplicates and reorders frames (seeded), and can be cut. A pipe is a
// Link; its goroutine hands frames to deliver until close.
type pipe struct {
	deliver func([]byte)

	mu      sync.Mutex // guards the fields below
	cond    *sync.Cond
	rng     *rand.Rand
	loss    float64 // probability a frame is dropped
	dup     float64 // probability a frame is delivered twice
	reorder float64 // probability a frame is held back behind the next
	down    bool
	closed  bool
	queue   [][]byte

	sent, lost, dups, swapped atomic.Int64
	done                      chan struct{}
}

var errCut = errors.New("pipe: cut")

func newPipe(seed uint64, loss, dup, reorder float64, deliver func([]byte)) *pipe {
	p := &pipe{deliver: deliver, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		loss: loss, dup: dup, reorder: reorder, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	go p.run()
	return p
}

func (p *pipe) Send(frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down || p.closed {
		return errCut
	}
	p.sent.Add(1)
	if p.rng.Float64() < p.loss {
		p.lost.Add(1)
		return nil
	}
	b := bytes.Clone(frame)
	p.queue = append(p.queue, b)
	if p.rng.Float64() < p.dup {
		p.dups.Add(1)
		p.queue = append(p.queue, b)
	}
	p.cond.Signal()
	return nil
}

// setDown cuts the pipe (frames in it are lost) or mends it.
func (p *pipe) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	if down {
		p.queue = nil
	}
	p.mu.Unlock()
}

func (p *pipe) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Signal()
	p.mu.Unlock()
	<-p.done
}

func (p *pipe) run() {
	defer close(p.done)
	var back []byte // a frame held back
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.closed {
			if back != nil {
				break
			}
			p.cond.Wait()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		var b []byte
		if len(p.queue) > 0 {
			b, p.queue = p.queue[0], p.queue[1:]
		}
		hold := b != nil && back == nil && p.rng.Float64() < p.reorder
		p.mu.Unlock()
		if hold {
			back = b
			p.swapped.Add(1)
			continue
		}
		if b != nil {
			p.deliver(b)
		}
		if back != nil {
			p.deliver(back)
			back = nil
		}
	}
}
