package chat

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"soitto/login/ca"
)

// user is a test identity: a key and its user certificate.
type user struct {
	name string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

func testCA(t testing.TB) (*ca.CA, *x509.CertPool) {
	t.Helper()
	authority, err := ca.Create(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	return authority, roots
}

func testUser(t testing.TB, authority *ca.CA, name string) user {
	t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := authority.IssueUser(name, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return user{name, key, cert}
}

func TestSealRoundTrip(t *testing.T) {
	authority, roots := testCA(t)
	alice, bob := testUser(t, authority, "alice"), testUser(t, authority, "bob")
	now := time.Now()
	m := Message{ID: newID(), Seq: 42, Floor: 40, Time: now.Add(-time.Minute), Text: "hei bob, ääkköset ✓"}
	sealed, err := Seal(m, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "alice") || strings.Contains(string(sealed), "hei bob") {
		t.Error("the sender or the text is visible in the sealed message")
	}
	got, from, cert, err := Unseal(sealed, bob.key, "bob", roots, now)
	if err != nil {
		t.Fatal(err)
	}
	if from != "alice" || got.Peer != "alice" || !cert.Equal(alice.cert) || got.ID != m.ID || got.Seq != 42 || got.Floor != 40 ||
		got.Text != m.Text || !got.Time.Equal(m.Time.Truncate(time.Millisecond)) || !got.Offline || got.State != StateReceived {
		t.Fatalf("got %+v from %q, want %+v from alice", got, from, m)
	}
	// A day and a half later the certificate has expired, but it was
	// valid when the message was sent.
	if _, _, _, err := Unseal(sealed, bob.key, "bob", roots, now.Add(36*time.Hour)); err != nil {
		t.Errorf("36 h later: %v", err)
	}
	// A long text compresses under the limit.
	m.Text = strings.Repeat("la ", MaxText/3)
	if _, err := Seal(m, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey); err != nil {
		t.Errorf("a compressible MaxText: %v", err)
	}
}

func TestSealRefused(t *testing.T) {
	authority, roots := testCA(t)
	alice, bob, carol := testUser(t, authority, "alice"), testUser(t, authority, "bob"), testUser(t, authority, "carol")
	otherCA, _ := testCA(t)
	mallory := testUser(t, otherCA, "alice") // "alice" from another CA
	now := time.Now()
	m := Message{ID: newID(), Seq: 1, Floor: 1, Time: now, Text: "meet at noon"}
	sealed, err := Seal(m, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	// Re-addressed: bob opens the seal and seals the same signed inner
	// message to carol.
	readdressed := func() []byte {
		plain := openOuter(t, sealed, bob.key)
		return sealOuter(t, plain, &carol.key.PublicKey)
	}()
	// Tampered inside the seal (a re-sealed changed text): the signature.
	tampered := func() []byte {
		s, err := Seal(m, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		inner := inflate(t, openOuter(t, s, bob.key))
		i := strings.Index(string(inner), "noon")
		inner[i] = 'm'
		return sealOuter(t, deflate(t, inner), &bob.key.PublicKey)
	}()
	forged, err := Seal(m, mallory.key, mallory.cert.Raw, "bob", &bob.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	future := m
	future.Time = now.Add(time.Hour)
	fromFuture, _ := Seal(future, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey)

	for _, tc := range []struct {
		name   string
		sealed []byte
		key    *ecdsa.PrivateKey
		self   string
	}{
		{"wrong recipient key", sealed, carol.key, "carol"},
		{"re-addressed", readdressed, carol.key, "carol"},
		{"text changed and re-sealed", tampered, bob.key, "bob"},
		{"certificate from another CA", forged, bob.key, "bob"},
		{"from the future", fromFuture, bob.key, "bob"},
		{"truncated", sealed[:len(sealed)-1], bob.key, "bob"},
		{"empty", nil, bob.key, "bob"},
		{"over MaxSealed", make([]byte, MaxSealed+1), bob.key, "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := Unseal(tc.sealed, tc.key, tc.self, roots, now)
			if !errors.Is(err, ErrBadEnvelope) {
				t.Fatalf("got %v, want ErrBadEnvelope", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
	t.Run("every byte flipped", func(t *testing.T) {
		for i := range sealed {
			b := append([]byte(nil), sealed...)
			b[i] ^= 0x40
			if _, _, _, err := Unseal(b, bob.key, "bob", roots, now); err == nil {
				t.Fatalf("byte %d flipped: got nil error", i)
			}
		}
	})
	t.Run("too old", func(t *testing.T) {
		if _, _, _, err := Unseal(sealed, bob.key, "bob", roots, now.Add(MaxMailAge+time.Hour)); !errors.Is(err, ErrBadEnvelope) {
			t.Fatalf("got %v, want ErrBadEnvelope", err)
		}
	})
	t.Run("too large for the mailbox", func(t *testing.T) {
		big := make([]byte, MaxText)
		rand.Read(big)
		text := []rune{}
		for _, c := range big[:MaxText/2] {
			text = append(text, rune('a'+c%26), rune('A'+c/10))
		}
		m := m
		m.Text = string(text)[:MaxText-10]
		if _, err := Seal(m, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey); !errors.Is(err, ErrTooLargeForMailbox) {
			t.Fatalf("got %v, want ErrTooLargeForMailbox", err)
		}
	})
	t.Run("key not the certificate's", func(t *testing.T) {
		if _, err := Seal(m, bob.key, alice.cert.Raw, "bob", &bob.key.PublicKey); err == nil {
			t.Fatal("got nil error")
		}
	})
}
