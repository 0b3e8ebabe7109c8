package app

import (
	"sync"

	"soitto/overlay/presence"
)

// Event is something the client reports to its views.
type Event interface{ isEvent() }

// LoggedIn is sent after a successful login.
type LoggedIn struct{ Identity Identity }

// LoggedOut is sent when the session ends.
type LoggedOut struct{ Username string }

// Connected is sent when the client attaches to a super-peer.
type Connected struct{ SuperPeer string }

// Disconnected is sent when the client loses its super-peer or goes
// offline.
type Disconnected struct{}

// StatusChanged is sent when the user's own status changes.
type StatusChanged struct{ Status presence.Status }

// PresenceChanged is sent when a contact's presence changes.
type PresenceChanged struct{ Contact Contact }

// ContactsChanged is sent when a contact is added or removed.
type ContactsChanged struct{ Contacts []Contact }

// SignalReceived is a signal of a kind the core does not handle itself,
// for the features built on signalling (contact requests, calls).
type SignalReceived struct {
	From, Kind string
	Payload    []byte
}

// SessionOpened is a P2P session another user opened to this client.
type SessionOpened struct {
	User, ID string
}

func (SessionOpened) isEvent() {}

// NetChanged is a new NetReport: the NAT type and relay found by Net.
type NetChanged struct{ Report NetReport }

func (NetChanged) isEvent() {}

func (LoggedIn) isEvent()        {}
func (LoggedOut) isEvent()       {}
func (Connected) isEvent()       {}
func (Disconnected) isEvent()    {}
func (StatusChanged) isEvent()   {}
func (PresenceChanged) isEvent() {}
func (ContactsChanged) isEvent() {}
func (SignalReceived) isEvent()  {}

// eventBus fans events out to subscribers. A slow subscriber loses events
// rather than blocking the client; each subscription has room for 64.
type eventBus struct {
	mu   sync.Mutex // guards subs
	subs map[chan Event]struct{}
}

func (b *eventBus) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[chan Event]struct{})
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

func (b *eventBus) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}
