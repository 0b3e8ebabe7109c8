package media

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestChannels: either side opens channels once the session is open;
// the other side gets them through OnChannel and messages cross both
// ways. The control label is refused.
func TestChannels(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	// The handler is set inside OnChannel: pion drops what comes
	// before it.
	echo := func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { dc.SendText("re: " + string(m.Data)) })
	}
	gotA := make(chan *webrtc.DataChannel, 4)
	gotB := make(chan *webrtc.DataChannel, 4)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly,
		OnChannel: func(dc *webrtc.DataChannel) { echo(dc); gotA <- dc }}
	bob := Config{Certificate: net.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly,
		OnChannel: func(dc *webrtc.DataChannel) { echo(dc); gotB <- dc }}
	a, b, errA, errB := connect(t, alice, bob, nil)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if _, err := a.OpenChannel(ControlLabel); err == nil {
		t.Fatal("a second control channel was opened")
	}
	for _, c := range []struct {
		name  string
		from  *Session
		to    chan *webrtc.DataChannel
		label string
	}{{name: "alice opens", from: a, to: gotB, label: "chat"}, {name: "bob opens", from: b, to: gotA, label: "file:1"}} {
		t.Run(c.name, func(t *testing.T) {
			dc, err := c.from.OpenChannel(c.label)
			if err != nil {
				t.Fatal(err)
			}
			echoed := make(chan string, 1)
			dc.OnMessage(func(m webrtc.DataChannelMessage) { echoed <- string(m.Data) })
			dc.OnOpen(func() { dc.SendText("hello") })
			var peer *webrtc.DataChannel
			select {
			case peer = <-c.to:
			case <-time.After(10 * time.Second):
				t.Fatal("the other side got no channel")
			}
			if peer.Label() != c.label {
				t.Fatalf("label %q, want %q", peer.Label(), c.label)
			}
			select {
			case got := <-echoed:
				if got != "re: hello" {
					t.Fatalf("got %q, want %q", got, "re: hello")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no answer on the channel")
			}
		})
	}
	// Control still works beside them.
	if _, err := a.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}
