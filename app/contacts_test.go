package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"soitto/app"
	"soitto/internal/nettest"
	"soitto/overlay/node/nodetest"
	"soitto/overlay/presence"
)

// waitEvent waits for an event f accepts.
func waitEvent(t *testing.T, events <-chan app.Event, what string, f func(app.Event) bool) app.Event {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e := <-events:
			if f(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s within 15 s", what)
		}
	}
}

// befriend makes a and b contacts: a asks (once b can be found), b
// accepts.
func befriend(t *testing.T, a *app.Client, aName string, b *app.Client, bName string, bEvents <-chan app.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		if res, err := a.Search(ctx, bName); err == nil && res.Found {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%s cannot find %s", aName, bName)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := a.RequestContactWith(bName, ""); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, bEvents, aName+"'s request", func(e app.Event) bool {
		r, ok := e.(app.ContactRequested)
		return ok && r.From == aName
	})
	if _, err := b.AcceptContact(aName); err != nil {
		t.Fatal(err)
	}
}

// TestContactsPrivacy: under the default privacy a stranger sees bob
// offline, cannot ring him or open a session, and learns none of his
// addresses; a blocked user is dropped without a word; a contact's new
// key is flagged and changes the safety number.
func TestContactsPrivacy(t *testing.T) {
	t.Setenv("SOITTO_ICE_NETWORKS", "127.0.0.0/8")
	env := nettest.Start(t, 2, nodetest.Options{NAT: true})
	bob := onlineClient(t, env, "bob", true)
	be, stopB := bob.Subscribe()
	defer stopB()

	// carol, a stranger, records everything that reaches her.
	carol, err := app.New(app.Config{ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF, RingTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var heard []string
	app.TraceSignals(carol, func(from, kind string, payload []byte) {
		mu.Lock()
		heard = append(heard, from+" "+kind+" "+string(payload))
		mu.Unlock()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := carol.Register(ctx, "carol", "carol's password"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Login(ctx, "carol", "carol's password"); err != nil {
		t.Fatal(err)
	}
	if err := carol.GoOnline(app.OnlineOptions{Interactive: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(carol.Logout)
	ce, stopC := carol.Subscribe()
	defer stopC()
	carol.WaitOnline(ctx)

	// bob is there, but offline to a stranger.
	var res app.SearchResult
	for range 100 {
		if res, err = carol.Search(ctx, "bob"); err == nil && res.Found {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !res.Found || res.Status != presence.Offline {
		t.Fatalf("carol searching bob: %+v %v", res, err)
	}

	// carol rings bob: nothing rings, and carol hears nothing back.
	info, err := carol.Call(ctx, "bob", app.OpenDevices("silence", "null"))
	if err != nil {
		t.Fatalf("carol calls bob: %v", err)
	}
	if got := waitCall(t, "carol", ce, info.ID, app.CallEnded); got.End != app.EndNoAnswer {
		t.Errorf("a stranger's call: %+v", got)
	}
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	if _, err := carol.Ping(pctx, "bob", 1); err == nil {
		t.Error("a stranger opened a session to bob")
	}
	pcancel()
	select {
	case e := <-be:
		if cc, ok := e.(app.CallChanged); ok {
			t.Errorf("bob's phone rang for a stranger: %+v", cc.Call)
		}
	default:
	}

	// Under "everyone", bob's phone rings for carol; she hangs up before
	// he answers. What she heard holds none of bob's addresses.
	if err := bob.SetPrivacy(app.PrivacyEveryone); err != nil {
		t.Fatal(err)
	}
	info, err = carol.Call(ctx, "bob", app.OpenDevices("silence", "null"))
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, "bob", be, info.ID, app.CallRinging)
	waitCall(t, "carol", ce, info.ID, app.CallRinging)
	carol.HangUp(info.ID)
	waitCall(t, "bob", be, info.ID, app.CallEnded)
	mu.Lock()
	got := strings.Join(heard, "\n")
	mu.Unlock()
	if got == "" || strings.Contains(got, "candidate") || strings.Contains(got, "127.0.0.1") || strings.Contains(got, "sdp") {
		t.Errorf("carol, ringing bob unanswered, received:\n%s", got)
	}
	t.Logf("all carol received from ringing bob:\n%s", got)

	// Blocked: carol's request and call are dropped, and she is not told.
	if err := bob.BlockContact("carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.RequestContactWith("bob", "please"); err != nil {
		t.Fatal(err)
	}
	info, _ = carol.Call(ctx, "bob", app.OpenDevices("silence", "null"))
	if got := waitCall(t, "carol", ce, info.ID, app.CallEnded); got.End != app.EndNoAnswer {
		t.Errorf("a blocked user's call: %+v", got)
	}
	for drained := false; !drained; {
		select {
		case e := <-be:
			switch e := e.(type) {
			case app.ContactRequested:
				t.Errorf("bob saw a blocked user's request: %+v", e)
			case app.CallChanged:
				if e.Call.Peer == "carol" && e.Call.State != app.CallEnded {
					t.Errorf("bob's phone rang for a blocked user: %+v", e.Call)
				}
			}
		default:
			drained = true
		}
	}
	if cs := carol.Contacts(); len(cs) != 1 || cs[0].State != app.StateRequested {
		t.Errorf("carol's list: %+v (still waiting, never told)", cs)
	}

	// alice and bob become contacts; alice moves to another machine (a
	// new key, certified by the login server): bob flags it.
	alice := onlineClient(t, env, "alice", true)
	ae, stopA := alice.Subscribe()
	defer stopA()
	befriend(t, alice, "alice", bob, "bob", be)
	waitEvent(t, ae, "alice's contact accepted", func(e app.Event) bool {
		cc, ok := e.(app.ContactsChanged)
		return ok && len(cc.Contacts) == 1 && cc.Contacts[0].State == app.StateContact
	})
	before, err := bob.SafetyNumber("alice")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := alice.SafetyNumber("bob"); n != before {
		t.Errorf("safety numbers differ: alice %q, bob %q", n, before)
	}
	exported := t.TempDir() + "/alice.buddies"
	if err := alice.ExportContacts(exported); err != nil {
		t.Fatal(err)
	}
	alice.Logout()
	alice2, err := app.New(app.Config{ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice2.Login(ctx, "alice", "alice's password"); err != nil {
		t.Fatal(err)
	}
	if err := alice2.GoOnline(app.OnlineOptions{Interactive: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(alice2.Logout)
	alice2.WaitOnline(ctx)
	// The list moves with her: exported, imported on the new machine.
	if _, err := alice2.ImportContacts(exported, "not alice's password"); err == nil {
		t.Error("imported with a wrong password")
	}
	if n, err := alice2.ImportContacts(exported, "alice's password"); err != nil || n != 1 {
		t.Fatalf("import: %d %v", n, err)
	}
	if cs := alice2.Contacts(); len(cs) != 1 || cs[0].Name != "bob" || cs[0].State != app.StateContact {
		t.Errorf("alice's list on the new machine: %+v", cs)
	}
	// alice2 finds bob and asks for his presence: signed with her new key.
	e := waitEvent(t, be, "a key change", func(e app.Event) bool {
		_, ok := e.(app.ContactKeyChanged)
		return ok
	})
	if kc := e.(app.ContactKeyChanged); kc.Contact.Name != "alice" || !kc.Contact.KeyChanged {
		t.Errorf("key change event %+v", kc)
	}
	after, err := bob.SafetyNumber("alice")
	if err != nil || after == before {
		t.Errorf("safety number after the key change: %q (before %q) %v", after, before, err)
	}
	if err := bob.AcceptContactKey("alice"); err != nil {
		t.Fatal(err)
	}
	for _, ct := range bob.Contacts() {
		if ct.Name == "alice" && (ct.KeyChanged || ct.State != app.StateContact) {
			t.Errorf("after accepting the key: %+v", ct)
		}
	}
}
