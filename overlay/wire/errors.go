package wire

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// Error codes on the wire, with the sentinel each maps to. A code not in
// this table decodes as ErrInternal.
const (
	CodeInternal       uint32 = 1  // ErrInternal: the other side failed
	CodeBadRequest     uint32 = 2  // ErrBadRequest: malformed or unexpected message
	CodeVersion        uint32 = 3  // ErrVersion: protocol version not spoken
	CodeBadID          uint32 = 4  // ErrBadID: a node ID that is not SHA-1 of its address
	CodeForbidden      uint32 = 5  // ErrForbidden: the peer may not do this
	CodeRateLimited    uint32 = 6  // ErrRateLimited: too many requests from this peer
	CodeNotFound       uint32 = 7  // ErrNotFound: no such record
	CodeBadRecord      uint32 = 8  // ErrBadRecord: signature, certificate or shape refused
	CodeExpired        uint32 = 9  // ErrExpired: record or certificate expired
	CodeStale          uint32 = 10 // ErrStale: a record with this or a newer seq is held
	CodeQuota          uint32 = 11 // ErrQuota: too many records for this owner
	CodeTooLarge       uint32 = 12 // ErrTooLarge: frame or record over its limit
	CodeTimeout        uint32 = 13 // ErrTimeout: the other side gave up waiting
	CodeNotResponsible uint32 = 14 // ErrNotResponsible: the key is not this node's
	CodeShuttingDown   uint32 = 15 // ErrShuttingDown: the node is leaving
	CodeOffline        uint32 = 16 // ErrOffline: the user is not online (not attached there)
	CodeUnreachable    uint32 = 17 // ErrUnreachable: the user's super-peer cannot be reached
	CodeReplayed       uint32 = 18 // ErrReplayed: a signal seen before, or too old or new
)

// Sentinel errors, one per code.
var (
	ErrInternal       = errors.New("internal error")
	ErrBadRequest     = errors.New("bad request")
	ErrVersion        = errors.New("unsupported protocol version")
	ErrBadID          = errors.New("node ID does not match its address")
	ErrForbidden      = errors.New("forbidden")
	ErrRateLimited    = errors.New("rate limited")
	ErrNotFound       = errors.New("not found")
	ErrBadRecord      = errors.New("bad record")
	ErrExpired        = errors.New("expired")
	ErrStale          = errors.New("stale record")
	ErrQuota          = errors.New("quota exceeded")
	ErrTooLarge       = errors.New("too large")
	ErrTimeout        = errors.New("timed out")
	ErrNotResponsible = errors.New("not responsible for this key")
	ErrShuttingDown   = errors.New("shutting down")
	ErrOffline        = errors.New("offline")
	ErrUnreachable    = errors.New("unreachable")
	ErrReplayed       = errors.New("replayed")
)

var codeErrs = map[uint32]error{
	CodeInternal: ErrInternal, CodeBadRequest: ErrBadRequest, CodeVersion: ErrVersion,
	CodeBadID: ErrBadID, CodeForbidden: ErrForbidden, CodeRateLimited: ErrRateLimited,
	CodeNotFound: ErrNotFound, CodeBadRecord: ErrBadRecord, CodeExpired: ErrExpired,
	CodeStale: ErrStale, CodeQuota: ErrQuota, CodeTooLarge: ErrTooLarge,
	CodeTimeout: ErrTimeout, CodeNotResponsible: ErrNotResponsible, CodeShuttingDown: ErrShuttingDown,
	CodeOffline: ErrOffline, CodeUnreachable: ErrUnreachable, CodeReplayed: ErrReplayed,
}

// codeOrder is the codes in ascending order, so that an error wrapping
// several sentinels always maps to the same code.
var codeOrder = slices.Sorted(maps.Keys(codeErrs))

// RemoteError is an error a peer sent; it unwraps to the code's sentinel.
type RemoteError struct {
	Code    uint32
	Message string
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the sentinel of e's code.
func (e *RemoteError) Unwrap() error {
	if s, ok := codeErrs[e.Code]; ok {
		return s
	}
	return ErrInternal
}

// ErrorToWire turns err into the Error sent on the wire: the code of the
// first sentinel err wraps (context deadlines become CodeTimeout), and
// err's text, cut to one line of at most 200 bytes.
func ErrorToWire(err error) *Error {
	code := CodeInternal
	var re *RemoteError
	switch {
	case errors.As(err, &re):
		code = re.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		code = CodeTimeout
	default:
		for _, c := range codeOrder {
			if errors.Is(err, codeErrs[c]) {
				code = c
				break
			}
		}
	}
	return &Error{Code: code, Message: oneLine(err.Error(), 200)}
}

// ErrorFromWire turns a received Error into a *RemoteError.
func ErrorFromWire(e *Error) error {
	if e == nil {
		return nil
	}
	return &RemoteError{Code: e.Code, Message: oneLine(e.Message, 200)}
}

// Errorf wraps a sentinel with a formatted one-line reason.
func Errorf(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))
}

// oneLine makes s one line of valid UTF-8 (proto3 refuses to encode a
// string that is not) of at most max bytes, cut at a rune boundary.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
