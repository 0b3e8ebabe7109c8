package dir

import (
	"crypto/ecdsa"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/login/ca"
	"soitto/overlay/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// kindNote is a test-only kind whose owner may write any name, so that
// one owner can hold several records (for the quota) and a tampered name
// reaches the signature check.
const kindNote = "note"

func init() {
	kinds[kindNote] = kindRule{maxPayload: 256, maxTTL: time.Hour}
}

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

// record returns u's signed presence record.
func (u user) record(t testing.TB, seq uint64, expires time.Time, payload string) *wire.Record {
	t.Helper()
	return u.signed(t, &wire.Record{Kind: KindPresence, Name: u.name, Seq: seq, Expires: expires.Unix(), Payload: []byte(payload)})
}

func (u user) signed(t testing.TB, r *wire.Record) *wire.Record {
	t.Helper()
	if err := Sign(r, u.key, u.cert); err != nil {
		t.Fatal(err)
	}
	return r
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

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
