package profile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzBuddiesFile feeds arbitrary bytes to LoadBuddies as the profile's
// buddy list: it returns a valid list or a one-line refusal, never
// panics, and sets every refused file aside but a wrong password's. The
// signature is checked before the KDF, so no input reaches argon2 unless
// it was signed with the test user's key.
func FuzzBuddiesFile(f *testing.F) {
	n := newBuddiesNet(f)
	alice := newListUser(f, n, "alice")
	l := sampleList()
	alice.save(f, &l)
	good, err := os.ReadFile(alice.file())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte(buddiesMagic))
	f.Add([]byte("SOITTO-BUDDIES 2\n{}\n"))
	f.Add([]byte(buddiesMagic + `{"kdf":"argon2id","params":{"memory":4294967295,"time":1,"threads":1},"salt":"AAAAAAAAAAA=","check":"","nonce":"","ciphertext":"","cert":"","sig":""}` + "\n"))
	f.Add([]byte(buddiesMagic + `{"KDF":"argon2id","kdf":"scrypt"}` + "\n"))
	// One folder for all inputs (a new one each time costs more than the
	// rest); each input leaves it empty.
	p := &Profile{Dir: f.TempDir(), Username: "alice"}
	path := filepath.Join(p.Dir, BuddiesFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := p.LoadBuddies(alice.lk, n.roots, "alice")
		defer func() {
			left, _ := filepath.Glob(filepath.Join(p.Dir, "*"))
			for _, name := range left {
				os.Remove(name)
			}
		}()
		if err != nil {
			if !errors.Is(err, ErrBuddiesTampered) && !errors.Is(err, ErrBadBuddies) && !errors.Is(err, ErrBuddiesRolledBack) && !errors.Is(err, ErrBuddiesPassword) {
				t.Fatalf("got %v, want a refusal", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("got a message of several lines: %q", err)
			}
			if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
				t.Fatalf("refused (%v) but not set aside", err)
			}
			if len(l.Buddies) != 0 {
				t.Fatalf("refused (%v) but returned %d buddies", err, len(l.Buddies))
			}
			return
		}
		pl := buddiesPlain{Privacy: l.Privacy, Buddies: l.Buddies}
		if err := pl.validate(); err != nil {
			t.Fatalf("loaded a list that does not validate: %v", err)
		}
	})
}

// FuzzBuddiesPlaintext fuzzes the decoder of the decrypted content, which
// FuzzBuddiesFile cannot reach without the signing key.
func FuzzBuddiesPlaintext(f *testing.F) {
	l := sampleList()
	pt, _ := json.Marshal(buddiesPlain{Version: 3, Owner: "alice", Privacy: l.Privacy, Buddies: l.Buddies})
	f.Add(pt)
	f.Add([]byte(`{"version":1,"owner":"alice","privacy":"contacts","buddies":null}`))
	f.Add([]byte(`{"version":1,"owner":"alice","buddies":[{"name":"bob","state":"contact","added":"2026-01-01T00:00:00Z","key":"AAEC"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pl, err := parsePlain(data)
		if err != nil {
			if !errors.Is(err, ErrBadBuddies) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %q, want a one-line ErrBadBuddies", err)
			}
			return
		}
		again, err := json.Marshal(pl)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parsePlain(again)
		if err != nil || len(back.Buddies) != len(pl.Buddies) || back.Version != pl.Version || back.Owner != pl.Owner {
			t.Fatalf("round trip: %v; %+v, want %+v", err, back, pl)
		}
	})
}
