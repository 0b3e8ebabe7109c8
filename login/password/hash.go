package password

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// keyFunc derives a key from a password; argon2Key outside tests.
type keyFunc func(pw, salt []byte, p Params) []byte

// argon2Key is argon2id (RFC 9106) with p, which must be valid.
func argon2Key(pw, salt []byte, p Params) []byte {
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// Hash returns the PHC string of pw with a fresh random salt:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// It refuses a password longer than MaxBytes (ErrTooLong) and Params out of
// the bounds Verify accepts, but does not apply Validate's minimum: call
// Validate first for a new password. Hash takes p.Memory KiB and as much
// CPU time as it was set to; a server should use a Hasher instead.
func Hash(pw string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("password: params: %v", err)
	}
	if len(pw) > MaxBytes {
		return "", tooLong(pw)
	}
	return hash(pw, p, argon2Key), nil
}

// hash is Hash for valid arguments, with key as the key function.
func hash(pw string, p Params, key keyFunc) string {
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24)
	return encode(p, salt, key([]byte(pw), salt, p))
}

// Verify reports whether pw matches the PHC string phc, comparing keys in
// constant time. It refuses (ErrMalformedHash) a string that does not parse
// or whose parameters are out of bounds (memory over 1 GiB, time over 16,
// parallelism 0 or over 16, salt or key outside 8..64 bytes) before running
// argon2, so a bad stored hash cannot exhaust memory, and a password longer
// than MaxBytes (ErrTooLong). A wrong password is false with a nil error.
func Verify(phc, pw string) (bool, error) { return verify(phc, pw, argon2Key) }

// verify is Verify with key as the key function.
func verify(phc, pw string, key keyFunc) (bool, error) {
	s, err := prepare(phc, pw)
	if err != nil {
		return false, err
	}
	return s.matches(pw, key), nil
}

// prepare does the cheap checks of Verify.
func prepare(phc, pw string) (stored, error) {
	s, err := decode(phc)
	if err != nil {
		return stored{}, err
	}
	if len(pw) > MaxBytes {
		return stored{}, tooLong(pw)
	}
	return s, nil
}

// matches runs the key function, the expensive part of Verify.
func (s stored) matches(pw string, key keyFunc) bool {
	return subtle.ConstantTimeCompare(key([]byte(pw), s.salt, s.p), s.key) == 1
}
