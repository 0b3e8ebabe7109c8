package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"soitto/app"
	"soitto/internal/nettest"
	"soitto/overlay/node/nodetest"
)

// Two clients on a network whose super-peers run STUN and TURN: alice
// pings bob over a P2P session set up through the overlay, and both
// know their NAT (none, on loopback) and that a relay is there.
func TestPingAndNet(t *testing.T) {
	t.Setenv("SOITTO_ICE_NETWORKS", "127.0.0.0/8") // host candidates on loopback only
	env := nettest.Start(t, 2, nodetest.Options{NAT: true})
	bob := onlineClient(t, env, "bob", true)
	if err := bob.SetPrivacy(app.PrivacyEveryone); err != nil {
		t.Fatal(err)
	}
	events, stop := bob.Subscribe()
	defer stop()
	alice := onlineClient(t, env, "alice", false)
	ctx0, cancel0 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel0()
	if _, err := alice.Ping(ctx0, "bob", 1); err == nil || !strings.Contains(err.Error(), "takes no signals") {
		t.Fatalf("ping from a client that takes no signals: %v", err)
	}
	alice.GoOffline()
	if err := alice.GoOnline(app.OnlineOptions{Receive: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitOnline(ctx0); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r app.PingResult
	var err error
	for range 20 { // bob's presence may take a moment to be found
		if r, err = alice.Ping(ctx, "bob", 3); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	if len(r.RTTs) != 3 || !r.Path.Direct || r.Path.Local.Type != "host" || !strings.HasPrefix(r.Path.Text, "direct (host 127.0.0.1:") {
		t.Fatalf("ping result %+v", r)
	}
	for {
		select {
		case e := <-events:
			if so, ok := e.(app.SessionOpened); ok && so.User == "alice" {
				goto opened
			}
		case <-ctx.Done():
			t.Fatal("bob was not told of alice's session")
		}
	}
opened:
	// A one-shot client takes no sessions: offers to it are refused.
	if _, err := bob.Ping(ctx, "alice", 1); err == nil {
		t.Error("a session to a client that publishes no presence opened")
	}

	nr, err := alice.Net(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if nr.NATType != "open" || !nr.Relay || len(nr.STUN) != 2 || nr.NAT.Mapped.Addr().String() != "127.0.0.1" {
		t.Errorf("net report %+v", nr)
	}
	if last, ok := alice.LastNet(); !ok || last.NATType != nr.NATType {
		t.Errorf("LastNet %+v %v", last, ok)
	}
}
