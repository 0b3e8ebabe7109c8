package password

import "errors"

// Errors returned by this package wrap one of these; test with errors.Is.
// No error text contains the password or the stored hash.
var (
	// ErrTooShort means a new password has fewer than MinLength characters.
	ErrTooShort = errors.New("password too short")
	// ErrTooLong means a password has more than MaxBytes bytes. Hash and
	// Verify refuse it too, so that a huge password cannot cost more to
	// hash than a normal one.
	ErrTooLong = errors.New("password too long")
	// ErrMalformedHash means a stored hash is not an argon2id PHC string
	// this package writes, or its parameters are out of the bounds Verify
	// accepts (see Params).
	ErrMalformedHash = errors.New("malformed password hash")
	// ErrBusy means the Hasher already has MaxQueue callers waiting; the
	// caller should be told to retry later (HTTP 503 with Retry-After).
	ErrBusy = errors.New("password hasher busy")
)
