package signal

import (
	"crypto/elliptic"
	"encoding/asn1"
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"soitto/overlay/wire"
)

func TestAccept(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	now := time.Now()
	v := NewVerifier(roots, "bob", func() time.Time { return now })

	s := alice.signal(t, "bob", "ping", "", now)
	wantErr(t, v.Accept(s), nil)
	wantErr(t, v.Accept(s), wire.ErrReplayed)
	wantErr(t, v.Accept(Clean(s)), wire.ErrReplayed)

	// ECDSA signatures are malleable: (r, s) and (r, N-s) both verify.
	// The replay check rests on the nonce, so that does not help.
	m := Clean(s)
	m.Signature = malleate(t, s.Signature)
	wantErr(t, Check(m, roots, now), nil)
	wantErr(t, v.Accept(m), wire.ErrReplayed)

	// A forgery reusing an unseen nonce is refused and does not use it up.
	s2 := alice.signal(t, "bob", "ping", "", now)
	forged := Clean(s2)
	forged.Payload = []byte("forged")
	wantErr(t, v.Accept(forged), wire.ErrBadRecord)
	wantErr(t, v.Accept(s2), nil)

	// The same nonce from another sender is another pair.
	carol := newUser(t, authority, "carol")
	s3 := carol.signal(t, "bob", "ping", "", now)
	s3.Nonce = s.Nonce
	wantErr(t, v.Accept(resign(t, s3, carol.key)), nil)

	// Failing signals are refused with Check's error.
	old := alice.signal(t, "bob", "ping", "", now.Add(-MaxSkew-time.Second))
	wantErr(t, v.Accept(old), wire.ErrReplayed)
	wantErr(t, v.Accept(nil), wire.ErrBadRecord)
}

func TestAcceptRecipient(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	now := time.Now()
	v := NewVerifier(roots, "bob", func() time.Time { return now })
	err := v.Accept(alice.signal(t, "carol", "ping", "", now))
	wantErr(t, err, wire.ErrForbidden)
	if want := `signal for "carol" delivered to "bob"`; !strings.Contains(err.Error(), want) {
		t.Fatalf("got %q, want it to say %q", err, want)
	}
	// A user may signal another program of their own.
	self := NewVerifier(roots, "alice", func() time.Time { return now })
	wantErr(t, self.Accept(alice.signal(t, "alice", "ping", "", now)), nil)
}

// TestAcceptConcurrent: of many goroutines delivering one signal at once,
// exactly one is accepted.
func TestAcceptConcurrent(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	v := NewVerifier(roots, "bob", nil)
	for range 5 {
		s := alice.signal(t, "bob", "offer", "sdp", time.Now())
		const n = 32
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { errs <- v.Accept(Clean(s)) })
		}
		wg.Wait()
		close(errs)
		accepted := 0
		for err := range errs {
			switch {
			case err == nil:
				accepted++
			case !errors.Is(err, wire.ErrReplayed):
				t.Fatalf("got %v, want nil or %v", err, wire.ErrReplayed)
			}
		}
		if accepted != 1 {
			t.Fatalf("got %d accepted, want 1", accepted)
		}
	}
}

// TestAcceptForgets: pairs are forgotten once their signals are too old,
// and a receiver clock stepping back does not let them in again.
func TestAcceptForgets(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	start := time.Now()
	c := newClock(start)
	v := NewVerifier(roots, "bob", c.Now)

	s := alice.signal(t, "bob", "ping", "", start)
	wantErr(t, v.Accept(s), nil)
	c.Advance(forgetAfter)
	wantErr(t, v.Accept(alice.signal(t, "bob", "ping", "", c.Now())), nil)
	if got := remembered(v); got != 2 {
		t.Fatalf("got %d remembered, want 2 (nothing forgotten yet)", got)
	}
	c.Advance(time.Millisecond)
	wantErr(t, v.Accept(alice.signal(t, "bob", "ping", "", c.Now())), nil)
	if got := remembered(v); got != 2 {
		t.Fatalf("got %d remembered, want 2 (the first forgotten)", got)
	}
	// The clock steps back to the start: s passes the time check but not
	// the floor.
	c.Set(start)
	wantErr(t, v.Accept(s), wire.ErrReplayed)
	wantErr(t, v.Accept(alice.signal(t, "bob", "ping", "", start.Add(time.Millisecond))), nil)
}

// TestAcceptBounded: the remembered set never grows past the limit, and
// no replay passes however much was forgotten.
func TestAcceptBounded(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	now := time.Now()
	v := NewVerifier(roots, "bob", func() time.Time { return now })
	const limit = 8
	v.limit = limit
	rng := rand.New(rand.NewPCG(1, 2))
	var accepted []*wire.Signal
	refused := 0
	for range 60 {
		// Timestamps in any order within the window.
		at := now.Add(time.Duration(rng.Int64N(int64(2*MaxSkew))) - MaxSkew)
		s := alice.signal(t, "bob", "ping", "", at)
		switch err := v.Accept(s); {
		case err == nil:
			accepted = append(accepted, s)
		case errors.Is(err, wire.ErrReplayed):
			refused++ // older than something forgotten
		default:
			t.Fatal(err)
		}
		if got := remembered(v); got > limit {
			t.Fatalf("got %d remembered, want at most %d", got, limit)
		}
	}
	if len(accepted) < limit {
		t.Fatalf("got %d accepted, want at least %d", len(accepted), limit)
	}
	for _, s := range accepted {
		wantErr(t, v.Accept(Clean(s)), wire.ErrReplayed)
	}
	// Newer signals are still accepted.
	wantErr(t, v.Accept(alice.signal(t, "bob", "ping", "", now.Add(MaxSkew))), nil)
	t.Logf("%d accepted, %d refused as older than a forgotten signal", len(accepted), refused)
}

func remembered(v *Verifier) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.seen) != len(v.byAge) {
		panic("seen and byAge disagree")
	}
	return len(v.seen)
}

// malleate returns the other valid ECDSA signature (r, N-s) of sig.
func malleate(t *testing.T, sig []byte) []byte {
	t.Helper()
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &rs); err != nil {
		t.Fatal(err)
	}
	rs.S = new(big.Int).Sub(elliptic.P256().Params().N, rs.S)
	out, err := asn1.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
