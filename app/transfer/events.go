package transfer

import "time"

// State is where a transfer is.
type State string

// States. Offered, Active and Paused are unfinished; the rest are final
// (the transfer leaves Transfers soon after).
const (
	StateHashing   State = "hashing"   // the sender is reading the file
	StateOffered   State = "offered"   // waiting for the receiver to accept or decline
	StateActive    State = "active"    // data is flowing
	StatePaused    State = "paused"    // the connection broke; resumes on Reconnected
	StateDone      State = "done"      // arrived and verified
	StateFailed    State = "failed"    // gave up; see the Failed event
	StateDeclined  State = "declined"  // the receiver declined
	StateCancelled State = "cancelled" // either side cancelled
)

// Info is a snapshot of one transfer.
type Info struct {
	ID       string
	User     string // the other side
	Name     string // the file's name as offered
	Size     int64
	Done     int64 // bytes verified by the receiver
	Incoming bool
	Rate     float64       // bytes per second, smoothed; 0 when unknown
	ETA      time.Duration // time left at Rate; 0 when unknown
	State    State
	// Path is the sender's file, or the receiver's file once done.
	Path string
}

// Event is one of Offered, Accepted, Progress, Paused, Done, Failed,
// Declined, Cancelled. Config.OnEvent gets them in order, from one
// goroutine.
type Event interface{ TransferInfo() Info }

type (
	// Offered: the other side offers a file; answer with Accept or Decline.
	Offered struct{ Info }
	// Accepted: the receiver accepted (on both sides).
	Accepted struct{ Info }
	// Progress: bytes moved; at most a few per second per transfer.
	Progress struct{ Info }
	// Paused: the connection broke; Err says how.
	Paused struct {
		Info
		Err error
	}
	// Done: the file arrived and matched its SHA-256; Path is where it
	// is (the receiver's final name, or the sender's file).
	Done struct {
		Info
		Path string
	}
	// Failed: the transfer stopped for good; Err says why in one line.
	Failed struct {
		Info
		Err error
	}
	// Declined: the receiver declined the offer.
	Declined struct{ Info }
	// Cancelled: a side cancelled; ByPeer tells whether it was the other.
	Cancelled struct {
		Info
		ByPeer bool
		Reason string
	}
)

// TransferInfo is the transfer the event is about.
func (i Info) TransferInfo() Info { return i }
