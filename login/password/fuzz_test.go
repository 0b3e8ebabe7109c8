package password

import (
	"errors"
	"strings"
	"testing"
)

// FuzzVerify feeds Verify arbitrary stored hashes. It must not panic, must
// refuse out-of-bounds parameters before argon2 runs, and what it accepts
// must be exactly what encode writes. Argon2 runs for real only when cheap;
// otherwise a stand-in key function checks the bounds. Seeds live in
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U", "password")
	f.Fuzz(func(t *testing.T, phc, pw string) {
		ran := false
		ok, err := verify(phc, pw, func(pw, salt []byte, p Params) []byte {
			ran = true
			if err := p.validate(); err != nil {
				t.Fatalf("argon2 would run with %+v: %v", p, err)
			}
			if uint64(p.Memory)*uint64(p.Time) <= 4096 {
				return argon2Key(pw, salt, p)
			}
			return make([]byte, p.KeyLen)
		})
		if err != nil {
			if ok || ran {
				t.Errorf("got %v and argon2 ran %v with error %v, want false, false", ok, ran, err)
			}
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("got %v, want %v or %v", err, ErrMalformedHash, ErrTooLong)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("got message %q, want one line", err)
			}
			return
		}
		s, err := decode(phc)
		if err != nil {
			t.Fatalf("verify accepted %q, decode refused it: %v", phc, err)
		}
		if got := encode(s.p, s.salt, s.key); got != phc {
			t.Errorf("encode(decode(%q)): got %q, want the input", phc, got)
		}
	})
}
