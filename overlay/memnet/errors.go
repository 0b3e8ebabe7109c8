package memnet

import (
	"errors"
	"os"
	"syscall"
)

// Errors a Call fails with besides the callee's own.
var (
	// ErrUnreachable: the callee is dead, removed or was never there, or
	// the caller itself is dead. It wraps syscall.ECONNREFUSED, like a
	// refused TCP dial.
	ErrUnreachable = errors.New("memnet: node unreachable")
	// ErrDropped: the request was lost. It wraps os.ErrDeadlineExceeded,
	// like a read that timed out.
	ErrDropped = errors.New("memnet: message dropped")
)

// unreachable and dropped are the errors with their system causes.
var (
	unreachable = errors.Join(ErrUnreachable, syscall.ECONNREFUSED)
	dropped     = errors.Join(ErrDropped, os.ErrDeadlineExceeded)
)
