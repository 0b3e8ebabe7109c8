package app_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"soitto/app"
	"soitto/bootstrap"
	"soitto/internal/nettest"
	"soitto/overlay/node/nodetest"
)

// A client on a public address (loopback here) with the user's consent
// becomes a super-peer once it has been online long enough: it gets a
// node certificate from the login server (which connects to it first),
// joins the ring and takes clients. When consent is withdrawn it steps
// down, and its client fails over to another super-peer.
func TestPromotionAndStepDown(t *testing.T) {
	env := nettest.Start(t, 2, nodetest.Options{NAT: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	carol, err := app.New(app.Config{
		ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF,
		Promotion: app.PromotionConfig{
			Consent: true, MinUptime: time.Second, CheckEvery: 100 * time.Millisecond,
			Listen: "127.0.0.1:0", OnBattery: func() bool { return false }, Lab: true,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := carol.Subscribe()
	defer stop()
	if _, err := carol.Register(ctx, "carol", "carol's password"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Login(ctx, "carol", "carol's password"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := carol.GoOnline(app.OnlineOptions{Interactive: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(carol.Logout)
	var addr string
	for addr == "" {
		select {
		case e := <-events:
			if p, ok := e.(app.Promoted); ok {
				addr = p.Addr
			}
		case <-ctx.Done():
			t.Fatal("carol was not promoted")
		}
	}
	if up := time.Since(start); up < time.Second {
		t.Errorf("promoted after %v online, before the 1 s minimum", up)
	}
	if got, ok := carol.SuperPeerAddr(); !ok || got != addr {
		t.Errorf("SuperPeerAddr %q %v, want %q", got, ok, addr)
	}

	// dave knows only carol's node: he attaches to it, and finds bob
	// through it (carol's node is on the ring).
	n, err := bootstrap.Load(env.NetworkPath)
	if err != nil {
		t.Fatal(err)
	}
	n.Bootstrap = []string{addr}
	daveNet := filepath.Join(t.TempDir(), "network.json")
	if err := n.Save(daveNet); err != nil {
		t.Fatal(err)
	}
	onlineClient(t, env, "bob", true)
	dave := onlineClient(t, &nettest.Env{Login: env.Login, Cluster: env.Cluster, NetworkPath: daveNet}, "dave", false)
	if sp, _ := dave.SuperPeer(); sp != addr {
		t.Fatalf("dave attached to %s, want carol's node %s", sp, addr)
	}
	var found bool
	for range 50 {
		if r, err := dave.Search(ctx, "bob"); err == nil && r.Found {
			found = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !found {
		t.Fatal("dave did not find bob through carol's node")
	}

	// Consent withdrawn: carol steps down; dave moves on.
	carol.SetPromotionConsent(false)
	for {
		select {
		case e := <-events:
			if s, ok := e.(app.SteppedDown); ok {
				if s.Why != "no consent" {
					t.Errorf("stepped down because %q", s.Why)
				}
				goto down
			}
		case <-ctx.Done():
			t.Fatal("carol did not step down")
		}
	}
down:
	if _, ok := carol.SuperPeerAddr(); ok {
		t.Error("still a super-peer after stepping down")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		sp, ok := dave.SuperPeer()
		if ok && sp != addr {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dave is still on %q (%v) after carol stepped down", sp, ok)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
