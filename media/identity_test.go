package media

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"soitto/login/ca"
)

// TestIdentityVerified: the positive case. Both sides' certificates are
// the network's and name the user the other meant to reach.
func TestIdentityVerified(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	bob := Config{Certificate: net.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := dialPair(ctx, t, alice, bob)
	t.Cleanup(p.close)
	if p.errA != nil || p.errB != nil {
		t.Fatalf("alice %v, bob %v", p.errA, p.errB)
	}
	for _, s := range []*Session{p.a, p.b} {
		if err := s.Verify(); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}
	// What each side was shown is the other's own certificate.
	if got := p.a.PeerConnection().SCTP().Transport().GetRemoteCertificate(); string(got) != string(bob.Certificate.Certificate[0]) {
		t.Error("alice was not shown bob's user certificate")
	}
}

// TestIdentityImpostor: alice means to reach bob, but the answer comes
// from mallory's session (a valid user of the same network, as a
// super-peer rewriting the signalling could arrange). Alice's Dial fails
// naming the impostor; mallory's session ends too, and no ping of hers is
// answered.
func TestIdentityImpostor(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	mallory := Config{Certificate: net.user("mallory"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := dialPair(ctx, t, alice, mallory)
	t.Cleanup(p.close)
	want := `media: remote certificate names "mallory", expected "bob"`
	if p.a != nil || p.errA == nil || p.errA.Error() != want || !errors.Is(p.errA, ErrIdentity) {
		t.Fatalf("alice's Dial: %v, %v; want %q", p.a, p.errA, want)
	}
	// Mallory's own check of alice passes, so her Accept may return
	// before alice's refusal reaches her; either way, alice answers
	// nothing and mallory's session ends.
	if p.b != nil {
		pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
		rtt, err := p.b.Ping(pctx)
		pcancel()
		if err == nil {
			t.Errorf("alice answered mallory's ping (%v)", rtt)
		}
		select {
		case <-p.b.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("mallory's session did not end")
		}
		t.Logf("mallory's session: %v", p.b.Err())
	} else {
		t.Logf("mallory's Accept: %v", p.errB)
	}
}

// TestIdentityOtherCA: a certificate for "bob" from another CA is
// refused, and the impostor's side fails too.
func TestIdentityOtherCA(t *testing.T) {
	checkLeaks(t)
	net := newTestCA(t)
	other := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly}
	// The fake bob trusts his own CA, so his own certificate passes his
	// checks, and alice's is refused on his side too.
	fakeBob := Config{Certificate: other.user("bob"), Roots: other.roots, Remote: "alice", IPFilter: loopbackOnly}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := dialPair(ctx, t, alice, fakeBob)
	t.Cleanup(p.close)
	// Both sides refuse each other. Usually alice's own check ends her
	// session; sometimes the fake bob's close (saying he refused alice)
	// arrives first. Either way her Dial fails, in one line, naming the
	// CA.
	own := p.errA != nil && strings.HasPrefix(p.errA.Error(), "media: remote certificate not issued by this network's CA: ") && errors.Is(p.errA, ErrIdentity)
	theirs := p.errA != nil && strings.Contains(p.errA.Error(), "ended the session: remote certificate not issued by this network's CA")
	if !(own || theirs) || strings.Contains(p.errA.Error(), "\n") {
		t.Fatalf("alice's Dial: %v", p.errA)
	}
	if p.errB == nil {
		t.Fatalf("the fake bob's Accept succeeded")
	}
	t.Logf("alice: %v; fake bob: %v", p.errA, p.errB)
}

// TestVerifyRemote checks the certificate rules without a session.
func TestVerifyRemote(t *testing.T) {
	net := newTestCA(t)
	other := newTestCA(t)
	bob := net.user("bob").Certificate[0]
	now := time.Now()

	// A certificate the CA issued two days ago has expired.
	past := newTestCA(t)
	past.ca.SetClock(func() time.Time { return now.Add(-48 * time.Hour) })
	oldBob := past.user("bob").Certificate[0]

	key, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	node, err := net.ca.IssueNode("127.0.0.1:4000", key.Public())
	if err != nil {
		t.Fatal(err)
	}
	server, err := net.ca.IssueServer([]string{"bob"}, key.Public())
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		der   []byte
		roots *testCA
		at    time.Time
		want  string // prefix of the error; "" for none
	}{
		{"bob", bob, net, now, ""},
		{"someone else", net.user("mallory").Certificate[0], net, now, `media: remote certificate names "mallory", expected "bob"`},
		{"other CA", other.user("bob").Certificate[0], net, now, "media: remote certificate not issued by this network's CA: "},
		{"expired", oldBob, past, now, `media: remote certificate of "bob": certificate expired`},
		{"not yet valid", bob, net, now.Add(-time.Hour), `media: remote certificate of "bob": certificate expired or not yet valid`},
		{"node certificate", node.Raw, net, now, "media: remote certificate not issued by this network's CA: "},
		{"server certificate", server.Raw, net, now, "media: remote certificate not issued by this network's CA: "},
		{"none", nil, net, now, "media: the other side showed no certificate"},
		{"garbage", []byte("not DER"), net, now, "media: remote certificate: "},
	} {
		err := VerifyRemote(tc.der, tc.roots.roots, "bob", tc.at)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, ErrIdentity)):
			t.Errorf("%s: got %v, want %q…", tc.name, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: error of more than one line: %q", tc.name, err)
		}
	}
}
