package tlsnet

import (
	"io"
	"sync/atomic"
)

// Stats are a Net's counters since New, for metrics. Messages and bytes
// count frames on established links (length prefixes included, TLS
// overhead and the Hello exchange not).
type Stats struct {
	MessagesIn, MessagesOut uint64
	BytesIn, BytesOut       uint64
	// LinksOpen is the number of links now open.
	LinksOpen int
	// LinksDialled and LinksAccepted count links established.
	LinksDialled, LinksAccepted uint64
	// HandshakesFailed counts dials and accepts that did not become a
	// link: refused, unverifiable or broken off.
	HandshakesFailed uint64
	// RateLimited counts requests answered with wire.CodeRateLimited.
	RateLimited uint64
}

type counters struct {
	msgsIn, msgsOut, bytesIn, bytesOut atomic.Uint64
	dialled, accepted, failed, limited atomic.Uint64
}

// Stats returns the counters now.
func (n *Net) Stats() Stats {
	n.mu.Lock()
	open := len(n.all)
	n.mu.Unlock()
	c := &n.stats
	return Stats{
		MessagesIn: c.msgsIn.Load(), MessagesOut: c.msgsOut.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		LinksOpen:    open,
		LinksDialled: c.dialled.Load(), LinksAccepted: c.accepted.Load(),
		HandshakesFailed: c.failed.Load(), RateLimited: c.limited.Load(),
	}
}

// meterReader counts the bytes read through it: in total for the link
// (read only by the link's reader) and into a shared counter.
type meterReader struct {
	r     io.Reader
	n     int64
	total *atomic.Uint64
}

func (m *meterReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n += int64(n)
	m.total.Add(uint64(n))
	return n, err
}

type meterWriter struct {
	w     io.Writer
	total *atomic.Uint64
}

func (m meterWriter) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	m.total.Add(uint64(n))
	return n, err
}
