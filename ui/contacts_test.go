package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"soitto/app"
	"soitto/internal/nettest"
	"soitto/overlay/node/nodetest"
	"soitto/overlay/presence"
)

// The window on a real network (a login server and two super-peers on
// loopback): alice signs in, finds bob with the search box, adds him, and
// the contact list follows bob's presence as it changes, without a restart.
func TestContactListFollowsPresence(t *testing.T) {
	checkGoroutines(t)
	env := nettest.Start(t, 2, nodetest.Options{NAT: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	bob := onlineUser(ctx, t, env, "bob")

	alice, err := app.New(app.Config{
		ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF, Logger: discard(),
		Overlay: app.OverlayConfig{PollInterval: time.Hour}, // changes must come as pushes
	})
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, env.Login, alice)
	h.fill("alice", "alice's password")
	test.Tap(h.ui.signIn.createBtn)
	h.loop.until(t, "the home screen", h.ui.SignedIn)
	hs := h.ui.home
	h.loop.until(t, "connected", func() bool { return hs.connected != "" })
	if got := richText(hs.headerSub); got != "Online" {
		t.Errorf("header says %q once connected, want Online", got)
	}
	// The status area shows the NAT check: on loopback, no NAT, and the
	// super-peer's relay answers.
	h.loop.until(t, "the network checked", func() bool { return richText(hs.net.summary) != "Checking the network…" })
	if got := richText(hs.net.summary); got != "Public address · relay ready" {
		t.Errorf("network status %q, want %q", got, "Public address · relay ready")
	}
	if !hs.contactsEmpty.Visible() || hs.list.Visible() {
		t.Error("empty contact list not shown as empty")
	}

	// Search until bob's first record is on the ring.
	sp := hs.search
	deadline := time.Now().Add(10 * time.Second)
	for {
		test.Type(sp.entry, "bob")
		test.Tap(sp.button)
		h.loop.until(t, "a search result", func() bool { return !sp.busy })
		if strings.HasPrefix(richText(sp.info), "Offline · 1 round") || time.Now().After(deadline) {
			break
		}
		sp.entry.SetText("")
		time.Sleep(100 * time.Millisecond)
	}
	if got := richText(sp.info); !strings.HasPrefix(got, "Offline · ") || !sp.addBtn.Visible() {
		t.Fatalf("search result %q (a stranger under contacts-only privacy), add shown %v", got, sp.addBtn.Visible())
	}
	bobEvents, stopBob := bob.Subscribe()
	defer stopBob()
	test.Tap(sp.addBtn)
	h.loop.until(t, "the request form", func() bool { return sp.ask != nil })
	test.Type(sp.askMsg, "hi bob")
	sp.ask.Submit()
	for asked := false; !asked; {
		select {
		case e := <-bobEvents:
			r, ok := e.(app.ContactRequested)
			asked = ok && r.From == "alice" && r.Message == "hi bob"
		case <-time.After(waitFor):
			t.Fatal("bob got no request from the window")
		}
	}
	h.loop.until(t, "bob requested in the list", func() bool {
		c, ok := hs.contact("bob")
		return ok && c.State == app.StateRequested
	})
	if _, err := bob.AcceptContact("alice"); err != nil {
		t.Fatal(err)
	}
	row := func() (app.Contact, bool) { return hs.contact("bob") }
	h.loop.until(t, "bob online in the contact list", func() bool {
		c, ok := row()
		return ok && c.Status == presence.Online
	})
	if sp.addBtn.Visible() {
		t.Error("Add still offered for a contact")
	}
	if hs.list.Length() != 1 || hs.contactsEmpty.Visible() {
		t.Errorf("list has %d rows, empty state shown %v", hs.list.Length(), hs.contactsEmpty.Visible())
	}
	if got := richText(hs.contactsCount); got != "1 of 1 online" {
		t.Errorf("count %q", got)
	}
	time.Sleep(500 * time.Millisecond) // alice's request for pushes reaches bob

	for _, st := range []presence.Status{presence.Away, presence.DND, presence.Online} {
		if err := bob.SetStatus(st); err != nil {
			t.Fatal(err)
		}
		h.loop.until(t, "bob "+st.String()+" in the list", func() bool {
			c, _ := row()
			return c.Status == st
		})
		// The row drawn for bob says so.
		r := hs.list.CreateItem()
		hs.list.UpdateItem(0, r)
		if got := richText(r.(*contactRow).status); got != statusLabel(st) {
			t.Errorf("row for bob says %q, want %q", got, statusLabel(st))
		}
	}
	bob.Logout()
	h.loop.until(t, "bob offline in the list", func() bool {
		c, _ := row()
		return c.Status == presence.Offline
	})
	if got := richText(hs.contactsCount); got != "0 of 1 online" {
		t.Errorf("count %q", got)
	}

	// carol asks alice; alice accepts from the pending row.
	carol := onlineUser(ctx, t, env, "carol")
	h.loop.until(t, "carol's request in alice's list", func() bool {
		if c, ok := hs.contact("carol"); ok && c.State == app.StatePending {
			return true
		}
		go carol.RequestContactWith("alice", "hello from carol")
		time.Sleep(200 * time.Millisecond)
		return false
	})
	i := slices.IndexFunc(hs.contacts, func(c app.Contact) bool { return c.Name == "carol" })
	item := hs.list.CreateItem()
	hs.list.UpdateItem(i, item)
	pending := item.(*contactRow)
	if got := richText(pending.status); got != "Wants to be your contact: “hello from carol”" || !pending.accept.Visible() || pending.call.Visible() {
		t.Errorf("carol's pending row: %q, accept shown %v", got, pending.accept.Visible())
	}
	test.Tap(pending.accept)
	h.loop.until(t, "carol a contact", func() bool {
		c, _ := hs.contact("carol")
		return c.State == app.StateContact
	})
	deadline = time.Now().Add(waitFor)
	for {
		cs := carol.Contacts()
		if len(cs) == 1 && cs[0].Name == "alice" && cs[0].State == app.StateContact {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carol's list after alice accepted in the window: %+v", cs)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// alice's own status menu reaches the client.
	hs.statusSel.SetSelected(statusLabel(presence.Away))
	h.loop.until(t, "alice away", func() bool { return h.client.Status() == presence.Away })
	if got := richText(hs.headerSub); got != "Away" {
		t.Errorf("header %q after choosing Away", got)
	}
}

// onlineUser is a headless client of env, registered as user and online
// (interactive) until the test ends.
func onlineUser(ctx context.Context, t *testing.T, env *nettest.Env, user string) *app.Client {
	t.Helper()
	c, err := app.New(app.Config{ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, user, user+"'s password"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, user, user+"'s password"); err != nil {
		t.Fatal(err)
	}
	if err := c.GoOnline(app.OnlineOptions{Interactive: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Logout)
	return c
}
