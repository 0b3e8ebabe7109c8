package signal

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/overlay/wire"
)

// FuzzCheck feeds arbitrary bytes, as a Signal off the wire, to Check and
// a Verifier: neither may panic, every refusal names a wire sentinel,
// only the signal signed here is accepted, and what is accepted still
// verifies after Clean.
func FuzzCheck(f *testing.F) {
	authority, roots := newAuthority(f)
	now := time.Now()
	alice := newUser(f, authority, "alice")
	valid := alice.signal(f, "bob", "offer", `{"sdp":"v=0"}`, now)
	b, err := proto.Marshal(valid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	sentinels := []error{wire.ErrBadRecord, wire.ErrTooLarge, wire.ErrExpired, wire.ErrForbidden, wire.ErrReplayed}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s wire.Signal
		if proto.Unmarshal(data, &s) != nil {
			return
		}
		_ = SignedBytes(&s)
		err := Check(&s, roots, now)
		if err == nil {
			if !proto.Equal(Clean(&s), valid) {
				t.Fatalf("a signal not signed here verifies: %v", &s)
			}
			if err := Check(Clean(&s), roots, now); err != nil {
				t.Fatalf("verifies, but not after Clean: %v", err)
			}
		} else if !isOneOf(err, sentinels) {
			t.Fatalf("refusal %v names no sentinel", err)
		}
		// At the signal's own time too, so that inputs with any timestamp
		// (the seeds in testdata among them) reach the certificate and
		// signature checks.
		if err := Check(&s, roots, time.UnixMilli(s.TimestampMs)); err == nil && !proto.Equal(Clean(&s), valid) {
			t.Fatalf("a signal not signed here verifies at its own time: %v", &s)
		} else if err != nil && !isOneOf(err, sentinels) {
			t.Fatalf("refusal %v names no sentinel", err)
		}
		v := NewVerifier(roots, "bob", func() time.Time { return now })
		aerr := v.Accept(&s)
		switch {
		case err == nil && aerr != nil:
			t.Fatalf("Check accepts, Verifier refuses: %v", aerr)
		case err != nil && aerr == nil:
			t.Fatalf("Check refuses (%v), Verifier accepts", err)
		case aerr == nil && !errors.Is(v.Accept(Clean(&s)), wire.ErrReplayed):
			t.Fatal("accepted twice")
		}
	})
}

func isOneOf(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
