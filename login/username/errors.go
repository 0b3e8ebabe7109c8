package username

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every error returned by Normalize wraps exactly one of these; test with
// errors.Is. The error text itself is one line meant for the user, e.g.
// `username "a\u200bb": contains U+200B ZERO WIDTH SPACE, which is not allowed`.
var (
	// ErrEmpty means the name is empty.
	ErrEmpty = errors.New("username is empty")
	// ErrTooShort means the name has fewer than MinLength characters
	// after normalization.
	ErrTooShort = errors.New("username is too short")
	// ErrTooLong means the name has more than MaxLength characters after
	// normalization, or is longer than maxInputBytes before it.
	ErrTooLong = errors.New("username is too long")
	// ErrInvalid means the name contains a character that is not allowed
	// (invisible, control, space, symbol, a mark, invalid UTF-8, a rune
	// PRECIS refuses), or breaks the punctuation rules.
	ErrInvalid = errors.New("username is invalid")
	// ErrMixedScript means the name has letters from more than one script,
	// e.g. a Cyrillic 'а' among Latin letters.
	ErrMixedScript = errors.New("username mixes scripts")
)

// nameError is a one-line message for the user that wraps a sentinel.
type nameError struct {
	msg  string
	kind error
}

func (e *nameError) Error() string { return e.msg }
func (e *nameError) Unwrap() error { return e.kind }

// errorf returns `username "<name>"<text>`, with name quoted by quote.
func errorf(kind error, name, format string, args ...any) error {
	return &nameError{
		msg:  "username " + quote(name) + fmt.Sprintf(format, args...),
		kind: kind,
	}
}

// quote is like strconv.Quote but keeps visible non-ASCII characters and
// escapes invisible ones that strconv counts as printable, such as U+3164
// HANGUL FILLER, and marks with no letter to sit on: the user sees exactly
// what was wrong, on one line.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	escaped := true // the last thing written was not a character of s
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
			} else {
				b.WriteString(`\ufffd`)
			}
			escaped = true
		case invisible(r) || !strconv.IsPrint(r) || r == '"' || r == '\\' ||
			(escaped && unicode.Is(unicode.M, r)):
			q := strconv.QuoteToASCII(string(r))
			b.WriteString(q[1 : len(q)-1])
			escaped = true
		default:
			b.WriteRune(r)
			escaped = false
		}
	}
	b.WriteByte('"')
	return b.String()
}
