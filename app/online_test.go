package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"soitto/app"
	"soitto/internal/nettest"
	"soitto/overlay/node/nodetest"
	"soitto/overlay/presence"
	"soitto/overlay/search"
)

// onlineClient registers and logs in user on env's network and puts the
// client on the overlay.
func onlineClient(t *testing.T, env *nettest.Env, user string, interactive bool) *app.Client {
	t.Helper()
	return onlineClientIn(t, env, t.TempDir(), user, interactive)
}

func onlineClientIn(t *testing.T, env *nettest.Env, profiles, user string, interactive bool) *app.Client {
	t.Helper()
	return startClient(t, app.Config{
		ProfilesDir: profiles, Network: env.NetworkPath, KDF: fastKDF,
		Overlay: app.OverlayConfig{PollInterval: time.Hour}, // pushes only, so the test sees them work
	}, user, interactive)
}

// startClient makes a client with cfg, registers user, logs in and goes
// online; it logs out at the end of the test.
func startClient(t *testing.T, cfg app.Config, user string, interactive bool) *app.Client {
	t.Helper()
	c, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Register(ctx, user, user+"'s password"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, user, user+"'s password"); err != nil {
		t.Fatal(err)
	}
	if err := c.GoOnline(app.OnlineOptions{Interactive: interactive}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Logout)
	if _, err := c.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitPresence waits for a PresenceChanged event for user with status st.
func waitPresence(t *testing.T, events <-chan app.Event, user string, st presence.Status) time.Duration {
	t.Helper()
	start := time.Now()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if pc, ok := e.(app.PresenceChanged); ok && pc.Contact.Name == user && pc.Contact.Status == st {
				return time.Since(start)
			}
		case <-timeout:
			t.Fatalf("no presence event %s %v in 10 s", user, st)
		}
	}
}

// alice asks bob to be a contact and bob accepts; bob's status changes
// then reach alice as events without a poll (alice's poll interval is an
// hour): bob pushes them because alice asked him to when she found him.
// Before that, under the default privacy (contacts only), alice sees bob
// offline. bob logging out shows too.
func TestPresenceFollowsContacts(t *testing.T) {
	env := nettest.Start(t, 3, nodetest.Options{})
	bob := onlineClient(t, env, "bob", true)
	bobEvents, stopBob := bob.Subscribe()
	defer stopBob()
	alice := onlineClient(t, env, "alice", true)
	events, stop := alice.Subscribe()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// bob's first record has to land before alice can find him; to a
	// stranger he is offline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := alice.Search(ctx, "Bob")
		if err == nil && res.Found {
			if res.Status != presence.Offline {
				t.Fatalf("a stranger sees bob %v under contacts-only privacy", res.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice cannot find bob: %+v %v", res, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := alice.RequestContactWith("bob", "hi bob, it's alice"); err != nil {
		t.Fatal(err)
	}
	if cs := alice.Contacts(); len(cs) != 1 || cs[0].State != app.StateRequested {
		t.Fatalf("alice's list after asking: %+v", cs)
	}
	for {
		select {
		case e := <-bobEvents:
			if r, ok := e.(app.ContactRequested); ok && r.From == "alice" {
				if r.Message != "hi bob, it's alice" {
					t.Errorf("request message %q", r.Message)
				}
				goto asked
			}
		case <-ctx.Done():
			t.Fatal("bob got no request")
		}
	}
asked:
	if _, err := bob.AcceptContact("alice"); err != nil {
		t.Fatal(err)
	}
	waitPresence(t, events, "bob", presence.Online)
	if cs := alice.Contacts(); len(cs) != 1 || cs[0].State != app.StateContact {
		t.Fatalf("alice's list after bob accepted: %+v", cs)
	}
	// The watch request reaches bob shortly after alice finds him.
	time.Sleep(500 * time.Millisecond)

	for _, st := range []presence.Status{presence.Away, presence.DND, presence.Online} {
		if err := bob.SetStatus(st); err != nil {
			t.Fatal(err)
		}
		took := waitPresence(t, events, "bob", st)
		t.Logf("bob %v seen by alice after %v", st, took.Round(time.Millisecond))
	}
	// Invisible looks like offline.
	if err := bob.SetStatus(presence.Invisible); err != nil {
		t.Fatal(err)
	}
	waitPresence(t, events, "bob", presence.Offline)
	if err := bob.SetStatus(presence.Online); err != nil {
		t.Fatal(err)
	}
	waitPresence(t, events, "bob", presence.Online)

	bob.Logout()
	waitPresence(t, events, "bob", presence.Offline)
	cs := alice.Contacts()
	if len(cs) != 1 || cs[0].Name != "bob" || cs[0].Status != presence.Offline {
		t.Fatalf("contacts %+v", cs)
	}
}

// A one-shot client (no presence of its own) finds users, and a search for
// someone who never came online is an authoritative "no such user".
func TestOneShotSearch(t *testing.T) {
	env := nettest.Start(t, 3, nodetest.Options{})
	if err := onlineClient(t, env, "bob", true).SetPrivacy(app.PrivacyEveryone); err != nil {
		t.Fatal(err)
	}
	carol := onlineClient(t, env, "carol", false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var res app.SearchResult
	var err error
	for range 100 {
		if res, err = carol.Search(ctx, "bob"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || res.Status != presence.Online {
		t.Fatalf("carol searching bob: %+v %v", res, err)
	}
	_, err = carol.Search(ctx, "dave")
	if !errors.Is(err, search.ErrNoSuchUser) {
		t.Fatalf("search for dave: %v", err)
	}
	// carol publishes nothing: nobody finds her.
	if _, err := carol.Search(ctx, "carol"); !errors.Is(err, search.ErrNoSuchUser) {
		t.Fatal(fmt.Errorf("one-shot client is findable: %v", err))
	}
}

// Another program of the same user (soitto-cli status) changes the status
// a running session publishes, through the profile's control socket; with
// no session running the status is saved for next time.
func TestRequestStatus(t *testing.T) {
	env := nettest.Start(t, 2, nodetest.Options{})
	profiles := t.TempDir()
	bob := onlineClientIn(t, env, profiles, "bob", true)
	events, stop := bob.Subscribe()
	defer stop()
	other, err := app.New(app.Config{ProfilesDir: profiles, Network: env.NetworkPath, KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := other.RequestStatus(presence.DND)
	if err != nil || !applied {
		t.Fatalf("RequestStatus with a session running: %v %v", applied, err)
	}
	if st := bob.Status(); st != presence.DND {
		t.Fatalf("session status %v, want dnd", st)
	}
	for done := false; !done; {
		select {
		case e := <-events:
			sc, ok := e.(app.StatusChanged)
			done = ok && sc.Status == presence.DND
		case <-time.After(5 * time.Second):
			t.Fatal("no StatusChanged event")
		}
	}
	bob.Logout()
	applied, err = other.RequestStatus(presence.Away)
	if err != nil || applied {
		t.Fatalf("RequestStatus with no session: %v %v", applied, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := bob.Resume(ctx, "", "bob's password"); err != nil {
		t.Fatal(err)
	}
	if st := bob.Status(); st != presence.Away {
		t.Fatalf("status after resume %v, want the saved away", st)
	}
}
