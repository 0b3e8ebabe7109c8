package password

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testParams keep tests fast: 1 MiB, one pass.
var testParams = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, pw string
		want     error
	}{
		{"empty", "", ErrTooShort},
		{"7 characters", "1234567", ErrTooShort},
		{"8 characters", "12345678", nil},
		{"8 two-byte runes", "ääääääää", nil},
		{"7 four-byte runes", strings.Repeat("😀", 7), ErrTooShort},
		{"1024 bytes", strings.Repeat("a", MaxBytes), nil},
		{"1025 bytes", strings.Repeat("a", MaxBytes+1), ErrTooLong},
		{"300 four-byte runes", strings.Repeat("😀", 300), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.pw)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("got message %q, want one line", err)
			}
		})
	}
}

func TestHashRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "pässwörd", "", strings.Repeat("x", MaxBytes)} {
		phc, err := Hash(pw, testParams)
		if err != nil {
			t.Fatalf("Hash: got %v, want nil", err)
		}
		ok, err := Verify(phc, pw)
		if !ok || err != nil {
			t.Errorf("Verify(Hash(%.20q)): got %v, %v, want true, nil", pw, ok, err)
		}
		wrong := "y" + pw
		if len(wrong) > MaxBytes {
			wrong = wrong[:MaxBytes]
		}
		ok, err = Verify(phc, wrong)
		if ok || err != nil {
			t.Errorf("Verify with a wrong password: got %v, %v, want false, nil", ok, err)
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	a, _ := Hash("same password", testParams)
	b, _ := Hash("same password", testParams)
	if a == b {
		t.Errorf("got equal hashes %q, want different salts", a)
	}
}

func TestHashFormat(t *testing.T) {
	phc, err := Hash("correct horse battery staple", DefaultParams)
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	f := strings.Split(phc, "$")
	if len(f) != 6 {
		t.Fatalf("got %q, want 6 fields", phc)
	}
	if got, want := strings.Join(f[:4], "$"), "$argon2id$v=19$m=19456,t=2,p=1"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	// 16 and 32 bytes in unpadded base64.
	if got, want := len(f[4]), 22; got != want {
		t.Errorf("salt: got %v chars, want %v", got, want)
	}
	if got, want := len(f[5]), 43; got != want {
		t.Errorf("key: got %v chars, want %v", got, want)
	}
	s, err := decode(phc)
	if err != nil {
		t.Fatalf("decode: got %v, want nil", err)
	}
	if s.p != DefaultParams {
		t.Errorf("got %+v, want %+v", s.p, DefaultParams)
	}
	if got := encode(s.p, s.salt, s.key); got != phc {
		t.Errorf("encode(decode(phc)): got %v, want %v", got, phc)
	}
}

// A hash written by argon2-cffi (Python), so this is the format other
// tools write and read.
func TestVerifyInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB, 3 passes")
	}
	const phc = "$argon2id$v=19$m=65536,t=3,p=4$2m5CBWkA489bnIwyY5iaWQ$w3ujhnFOTF63QwaBVK950q/NxCwyTVQF4LLTeHAEt/Y"
	ok, err := Verify(phc, "TestPass123")
	if !ok || err != nil {
		t.Errorf("got %v, %v, want true, nil", ok, err)
	}
}

func TestHashRefuses(t *testing.T) {
	if _, err := Hash(strings.Repeat("a", MaxBytes+1), testParams); !errors.Is(err, ErrTooLong) {
		t.Errorf("long password: got %v, want %v", err, ErrTooLong)
	}
	bad := testParams
	bad.Memory = maxMemory + 1
	if _, err := Hash("password", bad); err == nil {
		t.Errorf("memory over 1 GiB: got nil, want an error")
	}
}

func TestVerifyRefuses(t *testing.T) {
	const salt, key = "c29tZXNhbHRzb21lc2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	tests := []struct {
		name, phc string
	}{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2b$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"},
		{"argon2i", "$argon2i$v=19$m=1024,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=1024,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=1024,t=1,p=1$" + salt + "$" + key},
		{"order", "$argon2id$v=19$t=1,m=1024,p=1$" + salt + "$" + key},
		{"extra parameter", "$argon2id$v=19$m=1024,t=1,p=1,data=eA$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=01024,t=1,p=1$" + salt + "$" + key},
		{"sign", "$argon2id$v=19$m=+1024,t=1,p=1$" + salt + "$" + key},
		{"memory over 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key},
		{"memory overflows uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"memory under 8 KiB per lane", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key},
		{"time 0", "$argon2id$v=19$m=1024,t=0,p=1$" + salt + "$" + key},
		{"time over 16", "$argon2id$v=19$m=1024,t=17,p=1$" + salt + "$" + key},
		{"parallelism 0", "$argon2id$v=19$m=1024,t=1,p=0$" + salt + "$" + key},
		{"parallelism over 16", "$argon2id$v=19$m=1024,t=1,p=17$" + salt + "$" + key},
		{"parallelism overflows uint8", "$argon2id$v=19$m=1024,t=1,p=257$" + salt + "$" + key},
		{"salt too short", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$" + key},
		{"salt too long", "$argon2id$v=19$m=1024,t=1,p=1$" + strings.Repeat("A", 88) + "$" + key},
		{"key too short", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$a2V5"},
		{"padded salt", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "==$" + key},
		{"URL base64", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + strings.ReplaceAll(key, "a", "_")},
		{"stray bits", "$argon2id$v=19$m=1024,t=1,p=1$" + salt[:21] + "B$" + key},
		{"newline in key", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + key[:20] + "\n" + key[20:]},
		{"trailing field", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + key + "$"},
		{"too long", "$argon2id$v=19$m=1024,t=1,p=1$" + salt + "$" + key + strings.Repeat("A", maxPHCLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.phc, "password")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("got %v, %v, want false, %v", ok, err, ErrMalformedHash)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, salt) {
				t.Errorf("got message %q, want one line without the hash", msg)
			}
		})
	}
}

func TestVerifyValidParams(t *testing.T) {
	// The "good" base of TestVerifyRefuses parses, so each case there fails
	// for its own reason.
	const phc = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	ok, err := Verify(phc, "password")
	if ok || err != nil {
		t.Errorf("got %v, %v, want false, nil", ok, err)
	}
}

func TestVerifyTooLong(t *testing.T) {
	phc, _ := Hash("password", testParams)
	if ok, err := Verify(phc, strings.Repeat("a", MaxBytes+1)); ok || !errors.Is(err, ErrTooLong) {
		t.Errorf("got %v, %v, want false, %v", ok, err, ErrTooLong)
	}
}
