package chat

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

func BenchmarkSeal(b *testing.B) {
	authority, _ := testCA(b)
	alice, bob := testUser(b, authority, "alice"), testUser(b, authority, "bob")
	m := Message{ID: newID(), Seq: 1, Floor: 1, Time: time.Now(), Text: strings.Repeat("a typical chat line ", 5)}
	for b.Loop() {
		if _, err := Seal(m, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnseal(b *testing.B) {
	authority, roots := testCA(b)
	alice, bob := testUser(b, authority, "alice"), testUser(b, authority, "bob")
	now := time.Now()
	m := Message{ID: newID(), Seq: 1, Floor: 1, Time: now, Text: strings.Repeat("a typical chat line ", 5)}
	sealed, err := Seal(m, alice.key, alice.cert.Raw, "bob", &bob.key.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(sealed)), "sealed-bytes")
	var pool *x509.CertPool = roots
	for b.Loop() {
		if _, _, _, err := Unseal(sealed, bob.key, "bob", pool, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip is one message alice→bob and its ack back, over a
// perfect in-memory link, each side committing to its own history
// (synchronous=FULL: the disk's fsync sets the pace).
func BenchmarkRoundTrip(b *testing.B) {
	dir := b.TempDir()
	ra, rb := newRecorder(), newRecorder()
	alice := openTest(b, dir, "alice", testKey(), ra, time.Second)
	bob := openTest(b, dir, "bob", testKey(), rb, time.Second)
	ab := newPipe(1, 0, 0, 0, func(f []byte) { bob.Receive("alice", f) })
	ba := newPipe(2, 0, 0, 0, func(f []byte) { alice.Receive("bob", f) })
	defer ab.close()
	defer ba.close()
	alice.Attach("bob", ab)
	bob.Attach("alice", ba)
	for b.Loop() {
		m, err := alice.Send("bob", "ping")
		if err != nil {
			b.Fatal(err)
		}
		ra.wait(b, 10*time.Second, "delivered", func() bool { return ra.delivered[m.ID] == 1 })
	}
}
