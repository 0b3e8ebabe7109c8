package profile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"soitto/bootstrap"
	"soitto/login/ca"
)

var fastKDF = KDF{Memory: 1024, Time: 1, Threads: 1}

func testNetwork(t testing.TB) *bootstrap.Network {
	t.Helper()
	authority, err := ca.Create(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	n, err := bootstrap.New("test", "https://127.0.0.1:7443", authority.Cert, authority.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateUnlock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "alice")
	key, _ := ca.GenerateKey()
	if _, err := Create(dir, "alice", "secret password", fastKDF, testNetwork(t), key); err != nil {
		t.Fatal(err)
	}
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "alice" {
		t.Fatalf("got %q, want alice", p.Username)
	}
	got, err := p.Unlock("secret password")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(key) {
		t.Fatal("unlocked key differs from the one stored")
	}
	if _, err := p.Unlock("wrong password"); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("got %v, want ErrWrongPassword", err)
	}
	fi, _ := os.Stat(filepath.Join(dir, KeyFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("identity.key mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if bytes.Contains(raw, key.D.Bytes()) {
		t.Error("identity.key holds the private scalar in the clear")
	}
	if _, err := Create(dir, "alice", "x", fastKDF, testNetwork(t), key); !errors.Is(err, ErrExists) {
		t.Errorf("second Create: got %v, want ErrExists", err)
	}
	if _, err := p.Certificate(); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("got %v, want ErrNoCertificate", err)
	}
}

func TestTamperedKeyFile(t *testing.T) {
	key, _ := ca.GenerateKey()
	sealed, err := sealKey(key, "pw", fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	kf, err := parseKeyFile(sealed)
	if err != nil {
		t.Fatal(err)
	}
	kf.Ciphertext[3] ^= 1
	if _, err := kf.open("pw"); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("flipped ciphertext: got %v, want refusal", err)
	}
	// Swapping in another public key breaks the binding.
	kf, _ = parseKeyFile(sealed)
	other, _ := ca.GenerateKey()
	otherSealed, _ := sealKey(other, "pw", fastKDF)
	okf, _ := parseKeyFile(otherSealed)
	kf.PublicKey = okf.PublicKey
	if _, err := kf.open("pw"); err == nil {
		t.Fatal("key file with a swapped public key opened")
	}
}

func FuzzParseKeyFile(f *testing.F) {
	k, _ := ca.GenerateKey()
	sealed, _ := sealKey(k, "pw", fastKDF)
	f.Add(sealed)
	f.Add([]byte(`{"version":1,"kdf":"argon2id","params":{"memory":4294967295,"time":1,"threads":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := parseKeyFile(data)
		if err != nil {
			if !errors.Is(err, ErrBadKeyFile) {
				t.Fatalf("error %v does not wrap ErrBadKeyFile", err)
			}
			return
		}
		// Bounds hold for anything accepted, so open cannot exhaust memory.
		if kf.Params.Memory > 1<<20 || kf.Params.Time > 16 {
			t.Fatalf("accepted params %+v", kf.Params)
		}
	})
}

func TestContactsRoundTrip(t *testing.T) {
	p := &Profile{Dir: t.TempDir()}
	if cs, err := p.Contacts(); err != nil || cs != nil {
		t.Fatalf("no file: %v %v", cs, err)
	}
	want := []Contact{{Name: "bob", Added: time.Unix(1700000000, 0).UTC()}, {Name: "carol", Added: time.Unix(1700000100, 0).UTC()}}
	if err := p.SaveContacts(want); err != nil {
		t.Fatal(err)
	}
	got, err := p.Contacts()
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v %v, want %v", got, err, want)
	}
}

func TestParseContactsRefuses(t *testing.T) {
	for name, data := range map[string]string{
		"not json":      "{",
		"version":       `{"version":2,"contacts":[]}`,
		"unknown field": `{"version":1,"contacts":[],"x":1}`,
		"empty name":    `{"version":1,"contacts":[{"name":""}]}`,
		"slash":         `{"version":1,"contacts":[{"name":"a/b"}]}`,
		"twice":         `{"version":1,"contacts":[{"name":"bob"},{"name":"bob"}]}`,
		"trailing":      `{"version":1,"contacts":[]} {}`,
		"huge":          `{"version":1,"contacts":[` + strings.Repeat(" ", maxContactsFile) + `]}`,
	} {
		_, err := ParseContacts([]byte(data))
		if !errors.Is(err, ErrBadContacts) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParseContacts(f *testing.F) {
	f.Add([]byte(`{"version":1,"contacts":[{"name":"bob","added":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"contacts":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseContacts(data)
		if err != nil {
			return
		}
		p := &Profile{Dir: t.TempDir()}
		if err := p.SaveContacts(cs); err != nil {
			t.Fatal(err)
		}
		again, err := p.Contacts()
		if err != nil || len(again) != len(cs) {
			t.Fatalf("round trip: %v, %d vs %d", err, len(again), len(cs))
		}
	})
}
