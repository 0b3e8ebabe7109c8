package peer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/overlay/dir"
	"soitto/overlay/node/nodetest"
	"soitto/overlay/peer"
	"soitto/overlay/wire"
)

// Alice leaves a mail for bob through her super-peer; bob lists his
// mailbox and fetches it through his, then marks it collected, which
// alice sees.
func TestMailThroughPeers(t *testing.T) {
	cl := nodetest.Start(t, 4, nodetest.Options{})
	var bobCert tls.Certificate
	alice := startPeer(t, cl, "alice", func(c *peer.Config) { c.Receive = false })
	bob := startPeer(t, cl, "bob", func(c *peer.Config) { bobCert = c.Certificate; c.Receive = false })
	waitAttached(t, alice)
	waitAttached(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	exp := time.Now().Add(7 * 24 * time.Hour)
	m, err := dir.NewMail("bob", []byte("sealed to bob's key"), exp)
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.PutRecord(ctx, m); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := alice.PutRecord(ctx, m); !errors.Is(err, wire.ErrStale) {
		t.Errorf("the same mail again: got %v, want %v", err, wire.ErrStale)
	}

	hs, err := bob.ListMail(ctx, "bob")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(hs) != 1 || hs[0].Name() != m.Name || hs[0].Collected() || hs[0].Expires.Unix() != m.Expires {
		t.Fatalf("list: got %+v, want one mail %q", hs, m.Name)
	}
	got, err := bob.GetRecord(ctx, dir.KindMail, hs[0].Name())
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if !proto.Equal(got, m) {
		t.Errorf("get: got %v, want %v", got, m)
	}

	// Only bob may mark it collected.
	aliceCert := alice.certificate(t, cl)
	if _, err := dir.NewMailTombstone("bob", dir.MailID(m), exp, aliceCert.PrivateKey.(*ecdsa.PrivateKey), aliceCert.Certificate[0]); !errors.Is(err, wire.ErrForbidden) {
		t.Errorf("alice's tombstone: got %v, want %v", err, wire.ErrForbidden)
	}
	tomb, err := dir.NewMailTombstone("bob", dir.MailID(m), exp, bobCert.PrivateKey.(*ecdsa.PrivateKey), bobCert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.PutRecord(ctx, tomb); err != nil {
		t.Fatalf("put tombstone: %v", err)
	}
	// The sender sees it collected; so does a listing by anyone.
	got, err = alice.GetRecord(ctx, dir.KindMail, m.Name)
	if err != nil || got.Seq != dir.TombstoneSeq || len(got.Payload) != 0 {
		t.Errorf("alice's get after collection: got %v, %v; want the tombstone", got, err)
	}
	hs, err = alice.ListMail(ctx, "bob")
	if err != nil || len(hs) != 1 || !hs[0].Collected() {
		t.Errorf("alice's listing: got %+v, %v; want one collected", hs, err)
	}

	// Refusals come back as their sentinels.
	if _, err := bob.GetRecord(ctx, dir.KindMail, "bob/"+dir.MailID(m)[:31]+"0"); !errors.Is(err, wire.ErrNotFound) {
		t.Errorf("get of a mail never sent: got %v, want %v", err, wire.ErrNotFound)
	}
	if _, err := bob.ListMail(ctx, "Bob"); !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("list of a name not normalized: got %v, want %v", err, wire.ErrBadRequest)
	}
	if _, err := bob.GetRecord(ctx, dir.KindMail, "bob"); !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("GetRecord of a mailbox: got %v, want %v", err, wire.ErrBadRequest)
	}
}

// certificate is a fresh certificate for c's user, from the cluster's CA.
func (c *client) certificate(t *testing.T, cl *nodetest.Cluster) tls.Certificate {
	t.Helper()
	return cl.User(c.User())
}
