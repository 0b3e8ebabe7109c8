package signal

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/login/ca"
	"soitto/overlay/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// user is a certified key.
type user struct {
	name string
	key  *ecdsa.PrivateKey
	cert []byte // DER
}

func newUser(t testing.TB, authority *ca.CA, name string) user {
	t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := authority.IssueUser(name, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return user{name: name, key: key, cert: cert.Raw}
}

// signal returns a signal from u to whom, signed at now.
func (u user) signal(t testing.TB, to, kind, payload string, now time.Time) *wire.Signal {
	t.Helper()
	s, err := New(u.name, to, kind, []byte(payload), u.key, u.cert, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// resign signs s as it is with key, bypassing New's checks, so a test can
// make a validly signed signal of any shape.
func resign(t testing.TB, s *wire.Signal, key *ecdsa.PrivateKey) *wire.Signal {
	t.Helper()
	digest := sha256.Sum256(SignedBytes(s))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	s.Signature = sig
	return s
}

func newAuthority(t testing.TB) (*ca.CA, *x509.CertPool) {
	t.Helper()
	authority, err := ca.Create(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	return authority, roots
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// wantErr fails t unless err wraps want (nil: err is nil) and is one line.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("got %v, want nil", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("got %v, want %v", err, want)
	case err != nil && strings.ContainsAny(err.Error(), "\r\n"):
		t.Fatalf("error is not one line: %q", err)
	}
}
