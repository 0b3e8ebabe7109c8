package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"soitto/app"
	"soitto/internal/nettest"
	"soitto/overlay/node/nodetest"
)

// waitCallEvent waits for a CallChanged about call id (any, if "") in
// state st.
func waitCallEvent(t *testing.T, events <-chan app.Event, id string, st app.CallState) app.CallInfo {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case e := <-events:
			if cc, ok := e.(app.CallChanged); ok && (id == "" || cc.Call.ID == id) && cc.Call.State == st {
				return cc.Call
			}
		case <-timeout:
			t.Fatalf("no call %.8s %v", id, st)
		}
	}
}

// The window takes calls: the incoming-call dialog (decline, accept),
// the in-call view (timer, quality, level meter, mute, hang-up), and a
// call placed from the window that the other side ends.
func TestCallWindow(t *testing.T) {
	checkGoroutines(t)
	t.Setenv("SOITTO_ICE_NETWORKS", "127.0.0.0/8")
	env := nettest.Start(t, 2, nodetest.Options{NAT: true})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	bob := onlineUser(ctx, t, env, "bob")
	events, stop := bob.Subscribe()
	defer stop()

	alice, err := app.New(app.Config{ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, env.Login, alice)
	h.ui.devices = func(bool) app.AudioDevices { return app.OpenDevices("tone:330", "null") }
	h.fill("alice", "alice's password")
	test.Tap(h.ui.signIn.createBtn)
	h.loop.until(t, "the home screen", h.ui.SignedIn)
	h.loop.until(t, "connected", func() bool { return h.ui.home.connected != "" })
	// Strangers calling each other: both let anyone ring.
	for _, c := range []*app.Client{alice, bob} {
		if err := c.SetPrivacy(app.PrivacyEveryone); err != nil {
			t.Fatal(err)
		}
	}

	ring := func() string {
		t.Helper()
		deadline := time.Now().Add(waitFor)
		var id string
		for {
			c, err := bob.Call(ctx, "alice", app.OpenDevices("tone:440", "null"))
			if err == nil {
				id = c.ID
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bob calls alice: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		h.loop.until(t, "the incoming-call dialog", func() bool { return h.ui.ring != nil && h.ui.ring.id == id })
		return id
	}

	// Declined from the dialog.
	id := ring()
	if h.ui.ring.from != "bob" {
		t.Errorf("incoming call from %q", h.ui.ring.from)
	}
	test.Tap(h.ui.ring.decline)
	if got := waitCallEvent(t, events, id, app.CallEnded); got.End != app.EndDeclined || got.EndedBy != "alice" {
		t.Errorf("declined from the window: bob sees %+v", got)
	}
	h.loop.until(t, "the dialog gone", func() bool { return h.ui.ring == nil })

	// Accepted: the call view, then mute and hang up.
	id = ring()
	test.Tap(h.ui.ring.accept)
	v := h.ui.call
	h.loop.until(t, "the call active", func() bool { return h.ui.shown == v.root && v.call.State == app.CallActive })
	if v.name.Text != "bob" {
		t.Errorf("call view names %q", v.name.Text)
	}
	h.loop.until(t, "the quality line and the level meter", func() bool {
		return strings.HasPrefix(richText(v.quality), "Direct · ") && v.level.value > 0.3
	})
	t.Logf("in call: %q %q, level %.2f", v.state.Text, richText(v.quality), v.level.value)
	if !strings.HasSuffix(richText(v.quality), "no loss · good") {
		t.Errorf("quality %q on loopback", richText(v.quality))
	}
	h.loop.until(t, "the timer running", func() bool { return v.state.Text == "0:01" || v.state.Text == "0:02" })
	test.Tap(v.mute)
	h.loop.until(t, "muted", func() bool { return v.call.Muted && v.mute.Text == "Unmute" })
	h.loop.until(t, "the meter silent", func() bool { return v.level.value == 0 })
	test.Tap(v.hangup)
	if got := waitCallEvent(t, events, id, app.CallEnded); got.End != app.EndHungUp || got.EndedBy != "alice" {
		t.Errorf("hung up from the window: bob sees %+v", got)
	}
	h.loop.until(t, "the call ended", func() bool { return v.state.Text == "Call ended" })
	h.loop.until(t, "home again", func() bool { return h.ui.shown == h.ui.home.root })

	// From the window to bob, who answers and then hangs up.
	bob.SetAutoAnswer(app.OpenDevices("tone:440", "null"))
	h.ui.startCall("bob")
	h.loop.until(t, "the call view", func() bool { return h.ui.shown == v.root && v.call.Peer == "bob" })
	act := waitCallEvent(t, events, "", app.CallActive)
	h.loop.until(t, "active", func() bool { return v.call.State == app.CallActive })
	if err := bob.HangUp(act.ID); err != nil {
		t.Fatal(err)
	}
	h.loop.until(t, "bob hung up", func() bool { return v.state.Text == "bob hung up" })
	h.loop.until(t, "home again", func() bool { return h.ui.shown == h.ui.home.root })
}

func TestCallTexts(t *testing.T) {
	for _, c := range []struct {
		in   app.CallInfo
		want string
	}{
		{app.CallInfo{Peer: "bob", End: app.EndHungUp, EndedBy: "bob"}, "bob hung up"},
		{app.CallInfo{Peer: "bob", End: app.EndHungUp, EndedBy: "bob", Reason: "offline"}, "bob went offline"},
		{app.CallInfo{Peer: "bob", Outgoing: true, End: app.EndBusy, EndedBy: "bob"}, "bob is busy"},
		{app.CallInfo{Peer: "bob", End: app.EndNoAnswer}, "Missed call"},
		{app.CallInfo{Peer: "bob", Outgoing: true, End: app.EndNoAnswer}, "No answer"},
		{app.CallInfo{Peer: "bob", End: app.EndFailed, Reason: "identity mismatch: x"}, "Call failed: identity mismatch: x"},
	} {
		if got := endText(c.in); got != c.want {
			t.Errorf("%+v: %q, want %q", c.in, got, c.want)
		}
	}
	if got := clock(3723 * time.Second); got != "1:02:03" {
		t.Errorf("clock %q", got)
	}
	st := app.CallStats{RTT: 120 * time.Millisecond, RemoteLoss: 0.05}
	st.Path.Direct = false
	if got := qualityText(st); got != "Through a relay · 120 ms round trip · 5% loss · fair" {
		t.Errorf("quality %q", got)
	}
}
