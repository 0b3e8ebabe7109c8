package memnet

import (
	"sync"
	"sync/atomic"

	"soitto/overlay/wire"
)

// stats counts what crossed the network.
type stats struct {
	messages atomic.Uint64 // requests sent (one per Call)
	bytes    atomic.Uint64 // marshalled requests and responses
	failed   atomic.Uint64 // calls to unreachable nodes
	dropped  atomic.Uint64 // requests lost

	mu     sync.Mutex // guards byKind
	byKind map[string]uint64
}

func (s *stats) request(req *wire.Envelope, size int) {
	s.messages.Add(1)
	s.bytes.Add(uint64(size))
	kind := Kind(req)
	s.mu.Lock()
	if s.byKind == nil {
		s.byKind = map[string]uint64{}
	}
	s.byKind[kind]++
	s.mu.Unlock()
}

func (s *stats) response(size int) { s.bytes.Add(uint64(size)) }

// Kind names an envelope's body by its field name in wire.proto
// ("find_step", "neighbours", …), or "none".
func Kind(e *wire.Envelope) string {
	m := e.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body"))
	if fd == nil {
		return "none"
	}
	return string(fd.Name())
}

// Messages is the number of requests sent since the network was made or
// last Reset: one per Call, whether it was answered or not (a response
// is not counted again).
func (n *Network) Messages() uint64 { return n.stats.messages.Load() }

// Bytes is the size of all marshalled requests and responses.
func (n *Network) Bytes() uint64 { return n.stats.bytes.Load() }

// Failed is the number of calls that found their callee unreachable.
func (n *Network) Failed() uint64 { return n.stats.failed.Load() }

// Dropped is the number of requests lost to Options.Drop.
func (n *Network) Dropped() uint64 { return n.stats.dropped.Load() }

// Counts is the number of requests sent by kind (see Kind).
func (n *Network) Counts() map[string]uint64 {
	n.stats.mu.Lock()
	defer n.stats.mu.Unlock()
	out := make(map[string]uint64, len(n.stats.byKind))
	for k, v := range n.stats.byKind {
		out[k] = v
	}
	return out
}

// Reset sets every counter to zero.
func (n *Network) Reset() {
	n.stats.messages.Store(0)
	n.stats.bytes.Store(0)
	n.stats.failed.Store(0)
	n.stats.dropped.Store(0)
	n.stats.mu.Lock()
	n.stats.byKind = nil
	n.stats.mu.Unlock()
}
