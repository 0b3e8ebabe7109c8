package password

import (
	"fmt"
	"unicode/utf8"
)

const (
	// MinLength is the fewest characters (runes) a new password has.
	MinLength = 8
	// MaxBytes is the most bytes a password has. Argon2 hashes a password
	// of any length, so the bound is there only to refuse absurd input.
	MaxBytes = 1024
)

// Validate reports whether pw is acceptable as a new password: at least
// MinLength characters (runes, so "pässwörd" counts 8) and at most MaxBytes
// bytes. The error wraps ErrTooShort or ErrTooLong and is one line.
func Validate(pw string) error {
	if len(pw) > MaxBytes {
		return tooLong(pw)
	}
	if n := utf8.RuneCountInString(pw); n < MinLength {
		return fmt.Errorf("%w: %d characters, need at least %d", ErrTooShort, n, MinLength)
	}
	return nil
}

func tooLong(pw string) error {
	return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(pw), MaxBytes)
}
