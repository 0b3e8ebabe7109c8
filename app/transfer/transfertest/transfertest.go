// Package transfertest connects two in-process pion PeerConnections over
// 127.0.0.1 and gives each side a transfer.Peer, so that transfer
// managers can be tested (and benchmarked) over real WebRTC data
// channels without a media session.
package transfertest

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"soitto/app/transfer"
)

// Handler is what a side's messages go to; *transfer.Manager is one.
type Handler interface {
	HandleControl(p transfer.Peer, msg []byte) error
	HandleChannel(p transfer.Peer, ch transfer.Channel) bool
}

// Options tune a Link.
type Options struct {
	// Tune, if set, adjusts both sides' SettingEngine (after the
	// loopback-only settings).
	Tune func(*webrtc.SettingEngine)
	// Wrap, if set, wraps every data channel a side opens or accepts,
	// before the side's Handler sees it (to count or damage messages).
	// side is 0 for A, 1 for B.
	Wrap func(side int, ch transfer.Channel) transfer.Channel
}

// Link is two connected PeerConnections, A (the offerer) and B.
type Link struct {
	A, B *End
}

// End is one side of a Link. Its Peer method is the other side as seen
// from here.
type End struct {
	PC      *webrtc.PeerConnection
	side    int
	user    string // the OTHER side's user
	opts    Options
	control *webrtc.DataChannel
	open    chan struct{}

	mu      sync.Mutex // guards handler, pending
	handler Handler
	pending [][]byte
}

// Peer is the transfer.Peer of this end: the other side's user over this
// connection.
func (e *End) Peer() transfer.Peer { return peer{e} }

// SetHandler routes this end's incoming control messages and channels to
// h; control messages that arrived earlier are delivered now.
func (e *End) SetHandler(h Handler) {
	e.mu.Lock()
	e.handler = h
	pending := e.pending
	e.pending = nil
	e.mu.Unlock()
	for _, m := range pending {
		h.HandleControl(e.Peer(), m)
	}
}

type peer struct{ e *End }

func (p peer) User() string { return p.e.user }

func (p peer) SendControl(msg []byte) error {
	select {
	case <-p.e.open:
	case <-time.After(10 * time.Second):
		return errors.New("transfertest: control channel not open")
	}
	return p.e.control.Send(msg)
}

func (p peer) OpenChannel(label string) (transfer.Channel, error) {
	dc, err := p.e.PC.CreateDataChannel(label, nil)
	if err != nil {
		return nil, err
	}
	ch := transfer.WrapDataChannel(dc)
	if p.e.opts.Wrap != nil {
		ch = p.e.opts.Wrap(p.e.side, ch)
	}
	return ch, nil
}

// Connect builds a Link between users userA and userB, connected over
// loopback, with a pre-negotiated "control" channel; it fails t after 20
// seconds. Close closes it (t.Cleanup does too).
func Connect(t testing.TB, userA, userB string, opts Options) *Link {
	t.Helper()
	l := &Link{A: newEnd(t, 0, userB, opts), B: newEnd(t, 1, userA, opts)}
	t.Cleanup(l.Close)
	offer, err := l.A.PC.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gatherA := webrtc.GatheringCompletePromise(l.A.PC)
	if err := l.A.PC.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gatherA
	if err := l.B.PC.SetRemoteDescription(*l.A.PC.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := l.B.PC.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gatherB := webrtc.GatheringCompletePromise(l.B.PC)
	if err := l.B.PC.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gatherB
	if err := l.A.PC.SetRemoteDescription(*l.B.PC.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(20 * time.Second)
	for _, e := range []*End{l.A, l.B} {
		select {
		case <-e.open:
		case <-timeout:
			t.Fatalf("transfertest: control channel not open after 20 s (ICE %s / %s)",
				l.A.PC.ICEConnectionState(), l.B.PC.ICEConnectionState())
		}
	}
	return l
}

func newEnd(t testing.TB, side int, other string, opts Options) *End {
	var se webrtc.SettingEngine
	// Loopback only: no other address is gathered or dialled.
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if opts.Tune != nil {
		opts.Tune(&se)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	e := &End{PC: pc, side: side, user: other, opts: opts, open: make(chan struct{})}
	neg, id := true, uint16(0)
	e.control, err = pc.CreateDataChannel("control", &webrtc.DataChannelInit{Negotiated: &neg, ID: &id})
	if err != nil {
		t.Fatal(err)
	}
	e.control.OnOpen(func() { close(e.open) })
	e.control.OnMessage(func(m webrtc.DataChannelMessage) {
		e.mu.Lock()
		h := e.handler
		if h == nil {
			e.pending = append(e.pending, m.Data)
		}
		e.mu.Unlock()
		if h != nil {
			if err := h.HandleControl(e.Peer(), m.Data); err != nil {
				t.Logf("side %d: control message refused: %v", side, err)
			}
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		ch := transfer.WrapDataChannel(dc)
		if opts.Wrap != nil {
			ch = opts.Wrap(side, ch)
		}
		e.mu.Lock()
		h := e.handler
		e.mu.Unlock()
		if h == nil || !h.HandleChannel(e.Peer(), ch) {
			dc.Close()
		}
	})
	return e
}

// Close closes both PeerConnections (as a network loss or a restart
// would end a session).
func (l *Link) Close() {
	l.A.PC.Close()
	l.B.PC.Close()
}
