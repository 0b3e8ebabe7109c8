package media

import (
	"net"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// Bulk data (file transfers) over a session's data channels is limited by
// SCTP's window and by datagrams the kernel drops when a burst meets a
// reader that was not scheduled in time; each drop halves SCTP's
// congestion window. Package transfer's BenchmarkTransfer measured the
// steps (64 MiB over loopback, MB/s, two runs each on a noisy machine):
// pion's defaults 29–35; a 16 MiB SCTP receive buffer 33–35; and 4 MiB
// UDP socket buffers on top 38–45 (50–53 against 34 in quieter single
// runs).
const (
	// SCTPReceiveBuffer is the SCTP receive window (pion's default is
	// 1 MiB, about 1 MiB per round trip).
	SCTPReceiveBuffer = 16 << 20
	// SocketBuffer is the UDP socket buffer asked of the kernel (Linux
	// caps it at net.core.rmem_max / wmem_max; about 208 KiB by default).
	SocketBuffer = 4 << 20
)

// TuneBulk sets se's SCTP receive buffer for bulk data channels and its
// network to n (the real one if nil) with SocketBuffer-sized UDP
// buffers. Only this side's buffers change: a peer without it still
// interoperates.
func TuneBulk(se *webrtc.SettingEngine, n transport.Net) error {
	se.SetSCTPMaxReceiveBufferSize(SCTPReceiveBuffer)
	if n == nil {
		var err error
		if n, err = stdnet.NewNet(); err != nil {
			return err
		}
	}
	se.SetNet(WithSocketBuffers(n, SocketBuffer))
	return nil
}

// WithSocketBuffers wraps n so that every UDP socket it opens asks for
// bytes of receive and send buffer, best effort (a smaller buffer still
// works; a virtual network has none).
func WithSocketBuffers(n transport.Net, bytes int) transport.Net {
	return bufNet{n, bytes}
}

type bufNet struct {
	transport.Net
	bytes int
}

type socketBuffers interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}

func (b bufNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := b.Net.ListenUDP(network, laddr)
	if err == nil {
		c.SetReadBuffer(b.bytes)
		c.SetWriteBuffer(b.bytes)
	}
	return c, err
}

func (b bufNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := b.Net.ListenPacket(network, address)
	if u, ok := c.(socketBuffers); err == nil && ok {
		u.SetReadBuffer(b.bytes)
		u.SetWriteBuffer(b.bytes)
	}
	return c, err
}
