package transfer

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Channel is one reliable, ordered data channel. WrapDataChannel adapts a
// pion data channel; tests wrap it again to count or damage messages.
type Channel interface {
	// Send queues one binary message. It may be called before the channel
	// is open and then waits until it is (or fails once it closed).
	Send([]byte) error
	BufferedAmount() uint64
	SetBufferedAmountLowThreshold(uint64)
	OnBufferedAmountLow(func())
	// OnMessage's handler runs on the channel's read goroutine, one
	// message at a time; while it runs, no more are read (so a slow
	// receiver slows the sender down through SCTP's window).
	OnMessage(func([]byte))
	// OnClose's handler runs once when the channel closed, by either side.
	OnClose(func())
	Close() error
	Label() string
}

// Peer is the other side over the current session with it. A new session
// (after a disconnect or a restart) is a new Peer with the same User.
type Peer interface {
	// User is the other side's (verified) user name.
	User() string
	// SendControl carries msg, reliably and in order, to the other side's
	// Manager.HandleControl.
	SendControl(msg []byte) error
	// OpenChannel opens a reliable, ordered data channel with label; the
	// other side's Manager.HandleChannel gets it.
	OpenChannel(label string) (Channel, error)
}

// labelPrefix starts the label of every data channel this package opens:
// "file:" and the transfer ID.
const labelPrefix = "file:"

// openWait bounds how long Send waits for a channel to open.
const openWait = 30 * time.Second

// WrapDataChannel adapts dc to Channel. Call it before dc opens (right
// after CreateDataChannel, or in OnDataChannel): it sets dc's OnOpen,
// OnClose and OnMessage handlers.
func WrapDataChannel(dc *webrtc.DataChannel) Channel {
	c := &dataChannel{dc: dc, opened: make(chan struct{}), closed: make(chan struct{})}
	dc.OnOpen(func() { c.openOnce.Do(func() { close(c.opened) }) })
	dc.OnClose(func() {
		c.closeOnce.Do(func() {
			c.mu.Lock()
			close(c.closed)
			f := c.onClose
			c.mu.Unlock()
			if f != nil {
				f()
			}
		})
	})
	if dc.ReadyState() == webrtc.DataChannelStateOpen {
		c.openOnce.Do(func() { close(c.opened) })
	}
	return c
}

type dataChannel struct {
	dc                  *webrtc.DataChannel
	opened, closed      chan struct{}
	openOnce, closeOnce sync.Once

	mu      sync.Mutex // guards onClose
	onClose func()
}

var errNotOpen = errors.New("transfer: data channel closed")

func (c *dataChannel) Send(b []byte) error {
	select {
	case <-c.opened:
	default:
		t := time.NewTimer(openWait)
		defer t.Stop()
		select {
		case <-c.opened:
		case <-c.closed:
			return errNotOpen
		case <-t.C:
			return fmt.Errorf("transfer: data channel %s not open after %v", c.dc.Label(), openWait)
		}
	}
	return c.dc.Send(b)
}

func (c *dataChannel) BufferedAmount() uint64 { return c.dc.BufferedAmount() }
func (c *dataChannel) SetBufferedAmountLowThreshold(n uint64) {
	c.dc.SetBufferedAmountLowThreshold(n)
}
func (c *dataChannel) OnBufferedAmountLow(f func()) { c.dc.OnBufferedAmountLow(f) }
func (c *dataChannel) OnMessage(f func([]byte)) {
	c.dc.OnMessage(func(m webrtc.DataChannelMessage) { f(m.Data) })
}

func (c *dataChannel) OnClose(f func()) {
	c.mu.Lock()
	c.onClose = f
	var already bool
	select {
	case <-c.closed:
		already = true
	default:
	}
	c.mu.Unlock()
	if already {
		go f()
	}
}

func (c *dataChannel) Close() error  { return c.dc.Close() }
func (c *dataChannel) Label() string { return c.dc.Label() }
