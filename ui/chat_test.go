package ui

import (
	"context"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"soitto/app"
	"soitto/internal/nettest"
	"soitto/overlay/node/nodetest"
)

// waitEvent waits for an event of c's stream that f likes.
func waitEvent(t *testing.T, events <-chan app.Event, what string, f func(app.Event) bool) app.Event {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case e := <-events:
			if f(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s within %v", what, waitFor)
		}
	}
}

// stepUntil is mainLoop.until that looks at cond after every piece of
// UI work, so that a state shown only between two of them is seen.
func (m *mainLoop) stepUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for !cond() {
		select {
		case f := <-m.q:
			f()
		case <-time.After(10 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", waitFor, what)
		}
	}
}

// chatPair is a real network with bob, a headless client, and alice in
// the window, contacts of each other; events are bob's.
func chatPair(t *testing.T) (h *harness, bob *app.Client, events <-chan app.Event) {
	t.Helper()
	t.Setenv("SOITTO_ICE_NETWORKS", "127.0.0.0/8")
	env := nettest.Start(t, 2, nodetest.Options{NAT: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	bob = onlineUser(ctx, t, env, "bob")
	events, stop := bob.Subscribe()
	t.Cleanup(stop)
	alice, err := app.New(app.Config{ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	h = start(t, env.Login, alice)
	h.fill("alice", "alice's password")
	test.Tap(h.ui.signIn.createBtn)
	h.loop.until(t, "the home screen", h.ui.SignedIn)
	h.loop.until(t, "connected", func() bool { return h.ui.home.connected != "" })

	// alice asks bob (once his record is on the ring); bob accepts.
	for {
		if res, err := alice.Search(ctx, "bob"); err == nil && res.Found {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("alice cannot find bob")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := alice.RequestContactWith("bob", ""); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, "alice's request", func(e app.Event) bool {
		r, ok := e.(app.ContactRequested)
		return ok && r.From == "alice"
	})
	if _, err := bob.AcceptContact("alice"); err != nil {
		t.Fatal(err)
	}
	h.loop.until(t, "bob a contact in alice's list", func() bool {
		c, ok := h.ui.home.contact("bob")
		return ok && c.State == app.StateContact
	})
	return h, bob, events
}

// bubbleWith is the pane's bubble of the message with text, or nil.
func bubbleWith(p *chatPane, text string) *bubble {
	for _, o := range p.column.Objects {
		if b, ok := o.(*bubble); ok && b.msg.Text == text {
			return b
		}
	}
	return nil
}

// snap saves the window as name.png in $SOITTO_SCREENSHOTS, when set.
func (h *harness) snap(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("SOITTO_SCREENSHOTS")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if os.Getenv("SOITTO_SCREENSHOTS_DARK") != "" {
		test.ApplyTheme(t, darkTheme{Theme()})
		defer test.ApplyTheme(t, Theme())
	}
	if err := png.Encode(f, h.win.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

// darkTheme is Soitto's theme in its dark variant, whatever the
// settings say (the test app's variant is neither).
type darkTheme struct{ fyne.Theme }

func (d darkTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return d.Theme.Color(n, theme.VariantDark)
}

// The conversation pane on a real network: a message that came while it
// was closed is counted on bob's row; the pane opens from the row; a
// message sent shows as pending, then delivered; bob's messages and his
// typing appear; alice's typing reaches bob.
func TestChatWindow(t *testing.T) {
	checkGoroutines(t)
	h, bob, events := chatPair(t)
	hs, p := h.ui.home, h.ui.chat

	// While the pane is closed, a message is counted on bob's row.
	if _, err := bob.SendMessage("alice", "hi alice, are you there?"); err != nil {
		t.Fatal(err)
	}
	h.loop.until(t, "an unread message on bob's row", func() bool { return h.ui.unread["bob"] == 1 })
	i := slices.IndexFunc(hs.contacts, func(c app.Contact) bool { return c.Name == "bob" })
	item := hs.list.CreateItem()
	hs.list.UpdateItem(i, item)
	row := item.(*contactRow)
	if !row.unread.Visible() || row.unread.text() != "1" || !row.chat.Visible() {
		t.Errorf("bob's row: unread shown %v (%q), chat button shown %v", row.unread.Visible(), row.unread.text(), row.chat.Visible())
	}

	// The row's chat button opens the pane, with the message in it.
	test.Tap(row.chat)
	h.loop.until(t, "the pane with bob's message", func() bool {
		return p.isOpen("bob") && bubbleWith(p, "hi alice, are you there?") != nil
	})
	if p.name.Text != "bob" || richText(p.presence) != "Online" {
		t.Errorf("pane header %q %q", p.name.Text, richText(p.presence))
	}
	if b := bubbleWith(p, "hi alice, are you there?"); b.own() || b.markText() != "" {
		t.Errorf("bob's message drawn as own %v, mark %q", b.own(), b.markText())
	}
	if h.ui.unread["bob"] != 0 {
		t.Errorf("unread %d with the pane open", h.ui.unread["bob"])
	}

	// alice types: bob is told.
	test.Type(p.entry, "yes, hello bob")
	waitEvent(t, events, "alice typing", func(e app.Event) bool {
		ty, ok := e.(app.Typing)
		return ok && ty.User == "alice" && ty.On
	})
	// Enter sends: pending (or sent) first, then delivered.
	p.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if p.entry.Text != "" {
		t.Errorf("box holds %q after Enter", p.entry.Text)
	}
	var marks []string
	h.loop.stepUntil(t, "alice's message delivered", func() bool {
		b := bubbleWith(p, "yes, hello bob")
		if b == nil {
			return false
		}
		if len(marks) == 0 || marks[len(marks)-1] != b.markText() {
			marks = append(marks, b.markText())
		}
		return b.markText() == markDelivered
	})
	t.Logf("marks shown: %v", marks)
	if marks[0] != markPending && marks[0] != markSent {
		t.Errorf("alice's message first shown as %q, want pending or sent", marks[0])
	}
	if b := bubbleWith(p, "yes, hello bob"); !b.own() {
		t.Error("alice's message not drawn as her own")
	}
	waitEvent(t, events, "alice's message", func(e app.Event) bool {
		m, ok := e.(app.MessageReceived)
		return ok && m.Message.Text == "yes, hello bob"
	})

	// Shift+Enter is a new line; Enter then sends both lines.
	test.Type(p.entry, "line one")
	p.entry.KeyDown(&fyne.KeyEvent{Name: "LeftShift"})
	p.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	p.entry.KeyUp(&fyne.KeyEvent{Name: "LeftShift"})
	test.Type(p.entry, "line two")
	if p.entry.Text != "line one\nline two" {
		t.Errorf("box %q after Shift+Enter", p.entry.Text)
	}
	test.Tap(p.send)
	waitEvent(t, events, "the two lines", func(e app.Event) bool {
		m, ok := e.(app.MessageReceived)
		return ok && m.Message.Text == "line one\nline two"
	})

	// bob types, then writes.
	bob.SetTyping("alice", true)
	h.loop.until(t, "bob typing", func() bool { return p.typing.Visible() })
	if got := richText(p.typing); got != "bob is typing…" {
		t.Errorf("typing line %q", got)
	}
	if _, err := bob.SendMessage("alice", "Great, the new build works. Sending you the photos from Saturday in a minute."); err != nil {
		t.Fatal(err)
	}
	h.loop.until(t, "bob's reply in the pane", func() bool {
		return bubbleWith(p, "Great, the new build works. Sending you the photos from Saturday in a minute.") != nil
	})
	h.loop.until(t, "typing gone with the message", func() bool { return !p.typing.Visible() })
	bob.SetTyping("alice", true)
	h.loop.until(t, "bob typing again", func() bool { return p.typing.Visible() })
	h.snap(t, "chat")

	// Back home; the pane's messages stay in the history.
	test.Tap(p.back)
	if h.ui.shown != hs.root {
		t.Error("back did not go home")
	}
}
