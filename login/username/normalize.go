package username

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

const (
	// MinLength is the fewest characters (runes) a normalized name has.
	MinLength = 3
	// MaxLength is the most characters (runes) a normalized name has.
	MaxLength = 32

	// maxInputBytes bounds the input before any work is done, so hostile
	// input is cheap to refuse. MaxLength runes of up to 4 bytes each, with
	// room for fullwidth forms and decomposed accents that normalization
	// shrinks.
	maxInputBytes = 256
)

// Normalize returns the canonical form of a username: the PRECIS
// UsernameCaseMapped profile (RFC 8265 §3.3: width mapping, case mapping,
// NFC, the IdentifierClass and the Bidi Rule), then the project's rules:
//
//   - only letters, decimal digits (Nd) and '.', '_', '-';
//   - no invisible, control, format or space characters, and no marks;
//   - starts with a letter or digit, does not end with '.', '_' or '-', and
//     has no two of those in a row;
//   - MinLength to MaxLength characters;
//   - letters (and non-ASCII digits) of one script, where Han with
//     Hiragana and Katakana (Japanese), Han with Hangul (Korean) and Han with
//     Bopomofo count as one.
//
// The error wraps one of ErrEmpty, ErrTooShort, ErrTooLong, ErrInvalid or
// ErrMixedScript and is a single line saying why, fit to show the user.
// Normalize is idempotent: Normalize(n) == n for every n it returns.
func Normalize(s string) (string, error) {
	if len(s) > maxInputBytes {
		return "", &nameError{
			msg:  fmt.Sprintf("username is longer than %d bytes", maxInputBytes),
			kind: ErrTooLong,
		}
	}
	if s == "" {
		return "", &nameError{msg: "username is empty", kind: ErrEmpty}
	}
	if !utf8.ValidString(s) {
		return "", errorf(ErrInvalid, s, " is not valid UTF-8")
	}
	// Name invisible characters before PRECIS does: it refuses most of
	// them too, but without saying which.
	for _, r := range s {
		if invisible(r) {
			return "", errorf(ErrInvalid, s, ": contains %s, which is not allowed", describe(r))
		}
	}
	n, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", precisError(s, err)
	}
	// RFC 8264 §7 warns that one pass of the rules is not always stable.
	// Refuse rather than store a name that would change when normalized
	// again.
	if again, err := precis.UsernameCaseMapped.String(n); err != nil || again != n {
		return "", errorf(ErrInvalid, s, " has no stable normal form")
	}
	if err := checkRunes(s, n); err != nil {
		return "", err
	}
	switch c := utf8.RuneCountInString(n); {
	case c < MinLength:
		return "", errorf(ErrTooShort, s, " is too short: %d characters, need at least %d", c, MinLength)
	case c > MaxLength:
		return "", errorf(ErrTooLong, s, " is too long: %d characters, at most %d", c, MaxLength)
	}
	if err := checkPunct(s, n); err != nil {
		return "", err
	}
	if err := checkScripts(s, n); err != nil {
		return "", err
	}
	return n, nil
}

// perRune is precis.UsernameCaseMapped without the Bidi Rule, which
// judges a whole name rather than a rune.
var perRune = precis.NewIdentifier(precis.FoldWidth, precis.LowerCase(), precis.Norm(norm.NFC))

// precisError turns an error of the PRECIS profile into ours. The profile
// does not say which rune it refused, so look for the first one it refuses
// on its own, then apply our rules, which refuse most names that break the
// Bidi Rule with a better reason.
func precisError(s string, err error) error {
	for _, r := range s {
		if _, e := perRune.String(string(r)); e != nil {
			return errorf(ErrInvalid, s, ": contains %s, which is not allowed", describe(r))
		}
	}
	if n, e := perRune.String(s); e == nil {
		if e := checkRunes(s, n); e != nil {
			return e
		}
		if e := checkPunct(s, n); e != nil {
			return e
		}
		if e := checkScripts(s, n); e != nil {
			return e
		}
	}
	if errors.Is(err, bidirule.ErrInvalid) {
		// What is left is a right-to-left name that starts with a digit or
		// mixes ASCII and Arabic-Indic digits (RFC 5893 §2 rules 1 and 4).
		return errorf(ErrInvalid, s, " breaks the Bidi Rule of RFC 5893: a right-to-left name must start with a letter and not mix kinds of digits")
	}
	return errorf(ErrInvalid, s, " is not allowed by RFC 8265")
}

// checkRunes refuses every rune of the normalized name n that is not a
// letter, a decimal digit or one of the separators.
func checkRunes(s, n string) error {
	for _, r := range n {
		switch {
		case isSeparator(r), unicode.Is(unicode.Nd, r):
			continue
		case unicode.IsLetter(r) && !invisible(r):
			// A letter of no script (Common or Inherited), such as U+02BC
			// MODIFIER LETTER APOSTROPHE or U+02D0 MODIFIER LETTER
			// TRIANGULAR COLON, only imitates punctuation.
			if scriptOf(r) != "" {
				continue
			}
		}
		return errorf(ErrInvalid, s, ": contains %s, which is not allowed", describe(r))
	}
	return nil
}

// checkPunct enforces where the separators may stand.
func checkPunct(s, n string) error {
	first, _ := utf8.DecodeRuneInString(n)
	if isSeparator(first) {
		return errorf(ErrInvalid, s, " must start with a letter or digit")
	}
	last, _ := utf8.DecodeLastRuneInString(n)
	if isSeparator(last) {
		return errorf(ErrInvalid, s, " must not end with %q", last)
	}
	prev := first
	for _, r := range n[utf8.RuneLen(first):] {
		if isSeparator(prev) && isSeparator(r) {
			return errorf(ErrInvalid, s, " must not have %q in a row", string([]rune{prev, r}))
		}
		prev = r
	}
	return nil
}

func isSeparator(r rune) bool { return r == '.' || r == '_' || r == '-' }

// invisible reports whether r is a control, format (Cf), default-ignorable
// (UAX #44) or space character: ones a reader cannot see or tell apart.
func invisible(r rune) bool {
	return unicode.IsControl(r) ||
		unicode.IsSpace(r) ||
		unicode.In(r, unicode.Cf, unicode.Z, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}
