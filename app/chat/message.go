package chat

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// State is where a message stands.
type State int

// The states of a message.
const (
	// StatePending: outgoing, stored, not yet written to a chat channel
	// in this run of the engine.
	StatePending State = iota
	// StateSent: outgoing, written to a chat channel, not acknowledged;
	// it is retried until it is.
	StateSent
	// StateDelivered: outgoing, and the peer has it (acknowledged on the
	// chat channel, or collected from the mailbox).
	StateDelivered
	// StateReceived: incoming.
	StateReceived
)

func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateSent:
		return "sent"
	case StateDelivered:
		return "delivered"
	case StateReceived:
		return "received"
	}
	return "unknown"
}

// Message is one chat message, either way.
type Message struct {
	ID       [16]byte // random, the same on both sides
	Peer     string   // the other side of the conversation
	Outgoing bool
	// Seq numbers the messages of one direction of a conversation: 1, 2, …
	Seq uint64
	// Floor, for an outgoing message that is not delivered (Pending
	// returns it), is the lowest seq to Peer not yet acknowledged: every
	// seq below it is. Seal carries it so that a message from the mailbox
	// is not held for ever behind one that will never come. Zero
	// elsewhere.
	Floor uint64
	Time  time.Time // when the sender sent it (the sender's clock)
	Text  string
	State State
	// Offline: it came from, or was collected through, the ring mailbox.
	Offline bool
}

// IDString is the message ID in lowercase hex.
func (m Message) IDString() string { return hex.EncodeToString(m.ID[:]) }

func newID() (id [16]byte) {
	rand.Read(id[:])
	return id
}

// Event is what the engine tells the app: Received, Delivered, Typing,
// AppFrame.
type Event interface{ isEvent() }

// Received is an incoming message, once, in its sender's order.
type Received struct{ Message Message }

// Delivered: the peer has the outgoing message ID.
type Delivered struct {
	Peer string
	ID   [16]byte
}

// Typing: the peer started or stopped typing. On goes false by itself
// when no refresh comes for TypingTimeout, when a message from the peer
// arrives, or when its chat channel goes.
type Typing struct {
	Peer string
	On   bool
}

// AppFrame is an app frame from the peer (file-transfer control, …);
// Data is the app's own.
type AppFrame struct {
	Peer string
	Data []byte
}

func (Received) isEvent()  {}
func (Delivered) isEvent() {}
func (Typing) isEvent()    {}
func (AppFrame) isEvent()  {}
