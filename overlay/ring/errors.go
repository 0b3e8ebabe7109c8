package ring

import "errors"

// Errors of the ring's own operations. Errors that cross the wire are
// wire's sentinels (wire.ErrBadID, wire.ErrForbidden, …).
var (
	// ErrLookupFailed: a lookup ran out of nodes to ask before one said
	// it knew the key's successor (all failed or gave refused answers),
	// or hit its step bound.
	ErrLookupFailed = errors.New("ring: lookup failed")
	// ErrNoBootstrap: no bootstrap address other than our own answered a
	// join, or none led to a successor that answers.
	ErrNoBootstrap = errors.New("ring: no bootstrap node answered")
	// ErrLeft: the ring was left (Leave) and does not work any more.
	ErrLeft = errors.New("ring: left")
)
