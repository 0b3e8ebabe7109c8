package mediatest

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5"
)

// Impaired is a network (the machine's, in practice, kept to loopback by
// the sessions' IP filter) whose UDP sockets delay, lose, duplicate and
// reorder what they send, and which can be cut. Give it to
// media.Config.Net on both sides; a round trip then gains 2 × Delay.
type Impaired struct {
	transport.Net
	// Delay is added to every datagram sent.
	Delay time.Duration
	// Loss, Dup and Reorder are the chances that a datagram is dropped,
	// sent twice, or held back and sent after the next one.
	Loss, Dup, Reorder float64
	// Seed seeds the chances.
	Seed uint64

	cut atomic.Bool

	mu  sync.Mutex // guards rnd
	rnd *rand.Rand

	// Lost, Doubled and Swapped count what was done.
	Lost, Doubled, Swapped atomic.Int64
}

// Cut drops everything sent while on.
func (n *Impaired) Cut(on bool) { n.cut.Store(on) }

func (n *Impaired) roll() (drop, dup, hold bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.rnd == nil {
		n.rnd = rand.New(rand.NewPCG(n.Seed, n.Seed^0x9e3779b97f4a7c15))
	}
	return n.rnd.Float64() < n.Loss, n.rnd.Float64() < n.Dup, n.rnd.Float64() < n.Reorder
}

// ListenUDP opens an impaired socket.
func (n *Impaired) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	ic := &impairedConn{UDPConn: c, n: n}
	if n.Delay > 0 {
		ic.queue = make(chan delayed, 4096)
		ic.done = make(chan struct{})
		go ic.deliver()
	}
	return ic, nil
}

type impairedConn struct {
	transport.UDPConn
	n *Impaired

	mu   sync.Mutex // guards held
	held *delayed

	queue     chan delayed // with Delay: what waits to go out
	done      chan struct{}
	closeOnce sync.Once
}

type delayed struct {
	b    []byte
	addr net.Addr
	at   time.Time
}

// WriteTo sends b, or not: lost, sent twice, or held back and sent after
// the next datagram (reordered); after Delay.
func (c *impairedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.n.cut.Load() {
		c.n.Lost.Add(1)
		return len(b), nil
	}
	drop, dup, hold := c.n.roll()
	c.mu.Lock()
	prev := c.held
	c.held = nil
	if hold && prev == nil && !drop {
		c.held = &delayed{b: append([]byte(nil), b...), addr: addr}
		c.mu.Unlock()
		c.n.Swapped.Add(1)
		return len(b), nil
	}
	c.mu.Unlock()
	if drop {
		c.n.Lost.Add(1)
	} else {
		if err := c.send(b, addr); err != nil {
			return 0, err
		}
		if dup {
			c.n.Doubled.Add(1)
			c.send(b, addr)
		}
	}
	if prev != nil {
		c.send(prev.b, prev.addr)
	}
	return len(b), nil
}

func (c *impairedConn) send(b []byte, addr net.Addr) error {
	if c.queue == nil {
		_, err := c.UDPConn.WriteTo(b, addr)
		return err
	}
	select {
	case c.queue <- delayed{b: append([]byte(nil), b...), addr: addr, at: time.Now().Add(c.n.Delay)}:
	default:
		c.n.Lost.Add(1) // the link's queue is full: a router drops too
	}
	return nil
}

// deliver sends the delayed datagrams when they are due, in order.
func (c *impairedConn) deliver() {
	for {
		select {
		case d := <-c.queue:
			if w := time.Until(d.at); w > 0 {
				t := time.NewTimer(w)
				select {
				case <-t.C:
				case <-c.done:
					t.Stop()
					return
				}
			}
			c.UDPConn.WriteTo(d.b, d.addr)
		case <-c.done:
			return
		}
	}
}

func (c *impairedConn) Close() error {
	if c.done != nil {
		c.closeOnce.Do(func() { close(c.done) })
	}
	return c.UDPConn.Close()
}
