package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes on the wire. Each has a sentinel error below.
const (
	CodeBadRequest       = "bad_request"
	CodeUnsupportedType  = "unsupported_media_type"
	CodeTooLarge         = "too_large"
	CodeNotFound         = "not_found"
	CodeMethod           = "method_not_allowed"
	CodeInvalidUsername  = "invalid_username"
	CodeInvalidPassword  = "invalid_password"
	CodeInvalidKey       = "invalid_public_key"
	CodeUsernameTaken    = "username_taken"
	CodeConfusable       = "username_confusable"
	CodeBadCredentials   = "bad_credentials"
	CodeAccountLocked    = "account_locked"
	CodeRateLimited      = "rate_limited"
	CodeRegistrationsCap = "registrations_limited"
	CodeBusy             = "busy"
	CodeInternal         = "internal"
	CodeNotReachable     = "not_reachable"
)

// Sentinel errors, one per code; a client gets them wrapped in *Error.
var (
	ErrBadRequest       = errors.New("bad request")
	ErrUnsupportedType  = errors.New("unsupported content type")
	ErrTooLarge         = errors.New("request too large")
	ErrNotFound         = errors.New("no such endpoint")
	ErrMethod           = errors.New("method not allowed")
	ErrInvalidUsername  = errors.New("invalid username")
	ErrInvalidPassword  = errors.New("invalid password")
	ErrInvalidKey       = errors.New("invalid public key")
	ErrUsernameTaken    = errors.New("username taken")
	ErrConfusable       = errors.New("username confusable with an existing one")
	ErrBadCredentials   = errors.New("wrong username or password")
	ErrAccountLocked    = errors.New("account temporarily locked")
	ErrRateLimited      = errors.New("too many requests")
	ErrRegistrationsCap = errors.New("too many registrations")
	ErrBusy             = errors.New("server busy")
	ErrInternal         = errors.New("internal server error")
	ErrNotReachable     = errors.New("address not reachable from the login server")
)

type codeInfo struct {
	err    error
	status int
}

var codes = map[string]codeInfo{
	CodeBadRequest:       {ErrBadRequest, http.StatusBadRequest},
	CodeUnsupportedType:  {ErrUnsupportedType, http.StatusUnsupportedMediaType},
	CodeTooLarge:         {ErrTooLarge, http.StatusRequestEntityTooLarge},
	CodeNotFound:         {ErrNotFound, http.StatusNotFound},
	CodeMethod:           {ErrMethod, http.StatusMethodNotAllowed},
	CodeInvalidUsername:  {ErrInvalidUsername, http.StatusBadRequest},
	CodeInvalidPassword:  {ErrInvalidPassword, http.StatusBadRequest},
	CodeInvalidKey:       {ErrInvalidKey, http.StatusBadRequest},
	CodeUsernameTaken:    {ErrUsernameTaken, http.StatusConflict},
	CodeConfusable:       {ErrConfusable, http.StatusConflict},
	CodeBadCredentials:   {ErrBadCredentials, http.StatusUnauthorized},
	CodeAccountLocked:    {ErrAccountLocked, http.StatusTooManyRequests},
	CodeRateLimited:      {ErrRateLimited, http.StatusTooManyRequests},
	CodeRegistrationsCap: {ErrRegistrationsCap, http.StatusTooManyRequests},
	CodeBusy:             {ErrBusy, http.StatusServiceUnavailable},
	CodeInternal:         {ErrInternal, http.StatusInternalServerError},
	CodeNotReachable:     {ErrNotReachable, http.StatusUnprocessableEntity},
}

// Error is a refusal from the server: its code, one-line message, HTTP
// status and, for 429 and 503, when to retry.
type Error struct {
	Code       string
	Message    string
	Status     int
	RetryAfter int // seconds; 0 if not given
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel for e's code, so errors.Is works.
func (e *Error) Unwrap() error { return ErrorFor(e.Code) }

// Refuse builds an *Error with code's status and a formatted message.
func Refuse(code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...), Status: StatusOf(code)}
}

// ErrorFor maps a wire code to its sentinel error; an unknown code maps to
// ErrInternal.
func ErrorFor(code string) error {
	if c, ok := codes[code]; ok {
		return c.err
	}
	return ErrInternal
}

// CodeOf maps an error to its wire code: the code of an *Error in err's
// chain, else of the first sentinel err wraps, else CodeInternal.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for code, c := range codes {
		if errors.Is(err, c.err) {
			return code
		}
	}
	return CodeInternal
}

// StatusOf is the HTTP status sent with code.
func StatusOf(code string) int {
	if c, ok := codes[code]; ok {
		return c.status
	}
	return http.StatusInternalServerError
}
