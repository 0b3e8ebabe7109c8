package wire

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestErrorCodesRoundTrip checks every code → error → code and every
// sentinel → code → sentinel, and that the table has no gaps.
func TestErrorCodesRoundTrip(t *testing.T) {
	if len(codeErrs) != int(CodeReplayed) {
		t.Fatalf("table has %d codes, want 1..%d", len(codeErrs), CodeReplayed)
	}
	for code := CodeInternal; code <= CodeReplayed; code++ {
		sentinel, ok := codeErrs[code]
		if !ok {
			t.Fatalf("code %d has no sentinel", code)
		}
		t.Run(sentinel.Error(), func(t *testing.T) {
			err := ErrorFromWire(&Error{Code: code, Message: "why"})
			if !errors.Is(err, sentinel) {
				t.Errorf("ErrorFromWire(%d) = %v, not %v", code, err, sentinel)
			}
			if got := ErrorToWire(err); got.Code != code || got.Message != "why" {
				t.Errorf("code → error → code: got %d %q, want %d %q", got.Code, got.Message, code, "why")
			}
			wrapped := fmt.Errorf("handling put: %w", Errorf(sentinel, "record %s", "alice"))
			w := ErrorToWire(wrapped)
			if w.Code != code {
				t.Errorf("sentinel → code: got %d, want %d", w.Code, code)
			}
			if back := ErrorFromWire(w); !errors.Is(back, sentinel) {
				t.Errorf("sentinel → code → error: got %v, want %v", back, sentinel)
			}
		})
	}
}

func TestErrorToWire(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	<-ctx.Done()
	for _, tc := range []struct {
		name string
		err  error
		code uint32
	}{
		{"plain", errors.New("boom"), CodeInternal},
		{"deadline", fmt.Errorf("asking: %w", ctx.Err()), CodeTimeout},
		{"remote passes its code on", &RemoteError{Code: 99, Message: "newer"}, 99},
		{"two sentinels: lowest code", fmt.Errorf("%w and %w", ErrNotFound, ErrForbidden), CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorToWire(tc.err).Code; got != tc.code {
				t.Errorf("got %d, want %d", got, tc.code)
			}
		})
	}
	if err := ErrorFromWire(&Error{Code: 99}); !errors.Is(err, ErrInternal) {
		t.Errorf("unknown code: got %v, want ErrInternal", err)
	}
	if ErrorFromWire(nil) != nil {
		t.Error("ErrorFromWire(nil) is not nil")
	}
}

func TestErrorMessageOneLine(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes; 200 falls inside no rune
	for _, in := range []string{"two\nlines\r", "bad \xff utf-8", long, strings.Repeat("a", 199) + "é"} {
		m := ErrorToWire(errors.New(in)).Message
		if strings.ContainsAny(m, "\r\n") || !utf8.ValidString(m) || len(m) > 200 {
			t.Errorf("%q became %q: want one line of valid UTF-8, at most 200 bytes", in, m)
		}
	}
}
