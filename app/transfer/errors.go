package transfer

import "errors"

var (
	// ErrUnknown is returned for a transfer ID this manager does not hold.
	ErrUnknown = errors.New("transfer: unknown transfer")
	// ErrClosed is returned once the manager is closed.
	ErrClosed = errors.New("transfer: manager closed")
	// ErrState is returned when an action does not fit the transfer's
	// state (accepting an outgoing transfer, declining one already
	// accepted).
	ErrState = errors.New("transfer: not possible in this state")
	// ErrDeclined is a Failed event's error on the sender when the
	// receiver declined.
	ErrDeclined = errors.New("transfer: declined")
	// ErrCancelled is the error of a transfer cancelled by either side.
	ErrCancelled = errors.New("transfer: cancelled")
	// ErrCorrupt is wrapped by errors about data that failed its hash.
	ErrCorrupt = errors.New("transfer: data failed its hash")
	// ErrTooLarge is wrapped by decoders refusing input over their limit.
	ErrTooLarge = errors.New("transfer: message too large")
	// ErrChanged is returned when the sender's file changed after it was
	// offered.
	ErrChanged = errors.New("transfer: file changed since it was offered")
)
