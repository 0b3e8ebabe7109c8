package app_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"soitto/app"
	"soitto/app/chat"
	"soitto/internal/nettest"
	"soitto/overlay/dir"
	"soitto/overlay/node/nodetest"
)

// chatClient is an interactive client that looks at its mailbox often.
func chatClient(t *testing.T, env *nettest.Env, profiles, user string) (*app.Client, <-chan app.Event) {
	t.Helper()
	c := startClient(t, app.Config{
		ProfilesDir: profiles, Network: env.NetworkPath, KDF: fastKDF,
		Overlay: app.OverlayConfig{PollInterval: time.Hour, MailboxInterval: time.Second},
	}, user, true)
	events, stop := c.Subscribe()
	t.Cleanup(stop)
	return c, events
}

// TestChatAndMailbox: between contacts, a message goes over a session
// and is delivered; typing shows; a message to bob while he is offline
// is sealed onto the ring (the nodes hold neither its text nor alice's
// name), the super-peer bob used crashes, bob comes back through another
// and collects it from the replicas, and alice sees it delivered; the
// mail is gone from the ring.
func TestChatAndMailbox(t *testing.T) {
	t.Setenv("SOITTO_ICE_NETWORKS", "127.0.0.0/8")
	env := nettest.Start(t, 3, nodetest.Options{NAT: true})
	bobProfiles := t.TempDir()
	alice, ae := chatClient(t, env, t.TempDir(), "alice")
	bob, be := chatClient(t, env, bobProfiles, "bob")
	befriend(t, alice, "alice", bob, "bob", be)

	sent, err := alice.SendMessage("bob", "hello bob")
	if err != nil {
		t.Fatal(err)
	}
	got := waitEvent(t, be, "the message", func(e app.Event) bool {
		m, ok := e.(app.MessageReceived)
		return ok && m.Message.ID == sent.ID
	}).(app.MessageReceived).Message
	if got.Text != "hello bob" || got.Peer != "alice" || got.Outgoing {
		t.Fatalf("bob got %+v", got)
	}
	waitEvent(t, ae, "delivered", func(e app.Event) bool {
		d, ok := e.(app.MessageDelivered)
		return ok && d.ID == sent.ID && d.User == "bob"
	})
	alice.SetTyping("bob", true)
	waitEvent(t, be, "typing", func(e app.Event) bool {
		ty, ok := e.(app.Typing)
		return ok && ty.User == "alice" && ty.On
	})
	hist, err := alice.Conversation("bob", 10)
	if err != nil || len(hist) != 1 || hist[0].State != chat.StateDelivered {
		t.Fatalf("alice's history: %+v, %v", hist, err)
	}

	// Bob goes away; alice writes; the message is left on the ring.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := alice.Search(ctx, "bob")
	if err != nil || res.SuperPeer == "" {
		t.Fatalf("bob's super-peer: %+v, %v", res, err)
	}
	bob.Logout()
	const text = "while you were away"
	away, err := alice.SendMessage("bob", text)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ae, "mailed", func(e app.Event) bool {
		m, ok := e.(app.MessageMailed)
		return ok && m.ID == away.ID
	})
	holders := 0
	for _, n := range env.Cluster.Nodes {
		heads, err := n.Directory().List(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range heads {
			rec := n.Directory().Local(dir.KindMail, h.Name())
			if rec == nil {
				continue
			}
			holders++
			for _, clear := range [][]byte{[]byte(text), []byte("alice")} {
				if bytes.Contains(rec.Payload, clear) || bytes.Contains(rec.Cert, clear) {
					t.Errorf("node %s holds %q in clear", n.Addr, clear)
				}
			}
			if len(rec.Cert) != 0 || len(rec.Signature) != 0 {
				t.Errorf("node %s holds a mail that names its sender (cert %d bytes)", n.Addr, len(rec.Cert))
			}
		}
	}
	if holders < 2 {
		t.Errorf("the mail is held by %d nodes, want it replicated", holders)
	}

	// The super-peer bob was attached to crashes: bob comes back (a new
	// program, the same profile) through another, and collects it from
	// the replicas.
	crashed := -1
	for i, n := range env.Cluster.Nodes {
		if n.Addr == res.SuperPeer {
			crashed = i
		}
	}
	if crashed < 0 {
		t.Fatalf("bob's super-peer %s is not a node of the test", res.SuperPeer)
	}
	env.Cluster.Crash(crashed)
	bob2, err := app.New(app.Config{
		ProfilesDir: bobProfiles, Network: env.NetworkPath, KDF: fastKDF,
		Overlay: app.OverlayConfig{PollInterval: time.Hour, MailboxInterval: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	be2, stop := bob2.Subscribe()
	t.Cleanup(stop)
	if _, err := bob2.Resume(ctx, "bob", "bob's password"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bob2.Logout)
	if err := bob2.GoOnline(app.OnlineOptions{Interactive: true}); err != nil {
		t.Fatal(err)
	}
	if home, err := bob2.WaitOnline(ctx); err != nil || home == res.SuperPeer {
		t.Fatalf("bob back on %q (%v), want another super-peer than %s", home, err, res.SuperPeer)
	}
	m := waitEvent(t, be2, "the mailed message", func(e app.Event) bool {
		m, ok := e.(app.MessageReceived)
		return ok && m.Message.ID == away.ID
	}).(app.MessageReceived).Message
	if m.Text != text || !m.Offline || m.Peer != "alice" {
		t.Fatalf("bob collected %+v", m)
	}
	waitEvent(t, ae, "the mailed message delivered", func(e app.Event) bool {
		d, ok := e.(app.MessageDelivered)
		return ok && d.ID == away.ID
	})
	// The ring keeps only the tombstone.
	for i, n := range env.Cluster.Nodes {
		if i == crashed {
			continue
		}
		heads, err := n.Directory().List(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range heads {
			if !h.Collected() {
				t.Errorf("node %s still lists uncollected mail %s", n.Addr, h.Name())
			}
		}
	}
	// History on both sides: once each, in order.
	hb, err := bob2.Conversation("alice", 10)
	if err != nil || len(hb) != 2 || hb[0].Text != "hello bob" || hb[1].Text != text {
		t.Fatalf("bob's history: %+v, %v", hb, err)
	}
}
