package signal

import (
	"testing"
	"time"

	"soitto/overlay/wire"
)

func BenchmarkNew(b *testing.B) {
	authority, _ := newAuthority(b)
	alice := newUser(b, authority, "alice")
	payload := make([]byte, 1024)
	now := time.Now()
	for b.Loop() {
		if _, err := New("alice", "bob", "offer", payload, alice.key, alice.cert, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	authority, roots := newAuthority(b)
	alice := newUser(b, authority, "alice")
	now := time.Now()
	s := alice.signal(b, "bob", "offer", string(make([]byte, 1024)), now)
	for b.Loop() {
		if err := Check(s, roots, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccept accepts distinct signals, the set of remembered pairs
// growing to b.N.
func BenchmarkAccept(b *testing.B) {
	authority, roots := newAuthority(b)
	alice := newUser(b, authority, "alice")
	now := time.Now()
	signals := make([]*wire.Signal, b.N)
	for i := range signals {
		signals[i] = alice.signal(b, "bob", "offer", "sdp", now)
	}
	v := NewVerifier(roots, "bob", func() time.Time { return now })
	b.ReportAllocs()
	b.ResetTimer()
	for _, s := range signals {
		if err := v.Accept(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAcceptReplay refuses one signal over and over: the cost of a
// replay flood.
func BenchmarkAcceptReplay(b *testing.B) {
	authority, roots := newAuthority(b)
	alice := newUser(b, authority, "alice")
	now := time.Now()
	s := alice.signal(b, "bob", "offer", "sdp", now)
	v := NewVerifier(roots, "bob", func() time.Time { return now })
	if err := v.Accept(s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v.Accept(s) == nil {
			b.Fatal("replay accepted")
		}
	}
}
