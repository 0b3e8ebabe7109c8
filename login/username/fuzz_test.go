package username

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize checks that Normalize never panics, that what it accepts is
// stable and within bounds, and that what it refuses is explained on one
// line by an error wrapping a sentinel. Seeds live in
// testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"alice", "Alice", "a.b_c-d", "やまだ太郎", "İstanbul"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s)
		if err != nil {
			if n != "" {
				t.Errorf("Normalize(%q): got %q with error %v, want \"\"", s, n, err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) {
				t.Errorf("Normalize(%q): got message %q, want one line of UTF-8", s, msg)
			}
			if !isSentinel(err) {
				t.Errorf("Normalize(%q): got %v, want an error wrapping a sentinel", s, err)
			}
			return
		}
		if c := utf8.RuneCountInString(n); c < MinLength || c > MaxLength {
			t.Errorf("Normalize(%q) = %q: got %d runes, want %d..%d", s, n, c, MinLength, MaxLength)
		}
		again, err := Normalize(n)
		if err != nil || again != n {
			t.Errorf("Normalize(Normalize(%q) = %q): got %q, %v, want %q, nil", s, n, again, err, n)
		}
		_ = Skeleton(n)
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrEmpty, ErrTooShort, ErrTooLong, ErrInvalid, ErrMixedScript} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
