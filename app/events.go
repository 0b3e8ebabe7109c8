package app

import "sync"

// Event is something the client reports to its views.
type Event interface{ isEvent() }

// LoggedIn is sent after a successful login.
type LoggedIn struct{ Identity Identity }

// LoggedOut is sent when the session ends.
type LoggedOut struct{ Username string }

func (LoggedIn) isEvent()  {}
func (LoggedOut) isEvent() {}

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
