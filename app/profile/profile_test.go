package profile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
