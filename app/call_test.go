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

// callClient is an interactive client whose calls ring for ring.
func callClient(t *testing.T, env *nettest.Env, user string, ring time.Duration) (*app.Client, <-chan app.Event) {
	t.Helper()
	c := startClient(t, app.Config{
		ProfilesDir: t.TempDir(), Network: env.NetworkPath, KDF: fastKDF,
		Overlay:     app.OverlayConfig{PollInterval: time.Hour},
		RingTimeout: ring,
	}, user, true)
	events, stop := c.Subscribe()
	t.Cleanup(stop)
	// Strangers calling: anyone may ring (contacts only is the default).
	if err := c.SetPrivacy(app.PrivacyEveryone); err != nil {
		t.Fatal(err)
	}
	return c, events
}

// waitCall waits for a CallChanged event about call id in state st.
// (A call from a retry loop that failed has an ID of its own.)
func waitCall(t *testing.T, who string, events <-chan app.Event, id string, st app.CallState) app.CallInfo {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-events:
			if cc, ok := e.(app.CallChanged); ok && cc.Call.ID == id && cc.Call.State == st {
				return cc.Call
			}
		case <-timeout:
			t.Fatalf("%s: call %.8s not %v within 20 s", who, id, st)
		}
	}
}

func tone() app.AudioDevices { return app.OpenDevices("tone:440", "null") }

// callUntilRinging places a call from alice to bob and waits until both
// sides ring. The presence record may take a moment to be found.
func callUntilRinging(t *testing.T, alice *app.Client, ae <-chan app.Event, be <-chan app.Event) (app.CallInfo, app.CallInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	var c app.CallInfo
	for range 20 {
		if c, err = alice.Call(ctx, "bob", tone()); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("alice calls bob: %v", err)
	}
	in := waitCall(t, "bob", be, c.ID, app.CallRinging)
	out := waitCall(t, "alice", ae, c.ID, app.CallRinging)
	if in.Outgoing || !out.Outgoing || in.ID != out.ID {
		t.Fatalf("ringing: alice %+v, bob %+v", out, in)
	}
	return out, in
}

// TestCallStates walks a call through every state and end.
func TestCallStates(t *testing.T) {
	t.Setenv("SOITTO_ICE_NETWORKS", "127.0.0.0/8")
	env := nettest.Start(t, 2, nodetest.Options{NAT: true})
	alice, ae := callClient(t, env, "alice", 3*time.Second)
	bob, be := callClient(t, env, "bob", 3*time.Second)
	carol, ce := callClient(t, env, "carol", 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Nobody there: failed, offline.
	info, err := alice.Call(ctx, "dave", tone())
	if err == nil || info.State != app.CallEnded || info.End != app.EndFailed || !strings.HasPrefix(info.Reason, "offline") {
		t.Fatalf("calling dave, who never came online: %+v %v", info, err)
	}

	// Declined.
	_, in := callUntilRinging(t, alice, ae, be)
	if err := bob.DeclineCall(in.ID); err != nil {
		t.Fatal(err)
	}
	if got := waitCall(t, "alice", ae, in.ID, app.CallEnded); got.End != app.EndDeclined || got.EndedBy != "bob" {
		t.Errorf("declined: alice sees %+v", got)
	}

	// The caller hangs up while it rings: a missed call for bob.
	out, _ := callUntilRinging(t, alice, ae, be)
	if err := alice.HangUp(out.ID); err != nil {
		t.Fatal(err)
	}
	if got := waitCall(t, "bob", be, out.ID, app.CallEnded); got.End != app.EndCancelled || got.EndedBy != "alice" {
		t.Errorf("cancelled: bob sees %+v", got)
	}
	waitCall(t, "alice", ae, out.ID, app.CallEnded)

	// No answer: both sides give up after the ring timeout.
	out, _ = callUntilRinging(t, alice, ae, be)
	for name, ev := range map[string]<-chan app.Event{"alice": ae, "bob": be} {
		if got := waitCall(t, name, ev, out.ID, app.CallEnded); got.End != app.EndNoAnswer {
			t.Errorf("unanswered: %s sees %+v", name, got)
		}
	}

	// Answered, then a second caller finds bob busy; mute; bob hangs up.
	_, in = callUntilRinging(t, alice, ae, be)
	if err := bob.AnswerCall(in.ID, tone()); err != nil {
		t.Fatal(err)
	}
	waitCall(t, "bob", be, in.ID, app.CallConnecting)
	act := waitCall(t, "alice", ae, in.ID, app.CallActive)
	waitCall(t, "bob", be, in.ID, app.CallActive)
	select {
	case <-alice.FirstAudio(act.ID):
	case <-time.After(5 * time.Second):
		t.Fatal("no sound reached alice")
	}
	cc, err := carol.Call(ctx, "bob", tone())
	if err != nil {
		t.Fatalf("carol calls bob: %v", err)
	}
	if got := waitCall(t, "carol", ce, cc.ID, app.CallEnded); got.End != app.EndBusy {
		t.Errorf("carol calling bob in a call: %+v", got)
	}
	if err := alice.SetCallMuted(act.ID, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // a round trip measured, some sound
	st, err := alice.CallStats(act.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Path.Direct || st.RTT <= 0 || st.RecvKbps < 8 || st.Level != 0 {
		t.Errorf("alice's stats while muted: %+v", st)
	}
	if calls := alice.Calls(); len(calls) != 1 || !calls[0].Muted {
		t.Errorf("alice's calls: %+v", calls)
	}
	if err := bob.HangUp(in.ID); err != nil {
		t.Fatal(err)
	}
	if got := waitCall(t, "alice", ae, in.ID, app.CallEnded); got.End != app.EndHungUp || got.EndedBy != "bob" || got.Duration(time.Now()) <= 0 {
		t.Errorf("bob hung up: alice sees %+v", got)
	}
	waitCall(t, "bob", be, in.ID, app.CallEnded)

	// The caller goes offline mid-call.
	_, in = callUntilRinging(t, alice, ae, be)
	if err := bob.AnswerCall(in.ID, tone()); err != nil {
		t.Fatal(err)
	}
	waitCall(t, "bob", be, in.ID, app.CallActive)
	alice.GoOffline()
	if got := waitCall(t, "bob", be, in.ID, app.CallEnded); got.End != app.EndHungUp || got.EndedBy != "alice" || got.Reason != "offline" {
		t.Errorf("alice went offline: bob sees %+v", got)
	}
	if len(bob.Calls()) != 0 {
		t.Errorf("bob's calls after the end: %+v", bob.Calls())
	}
}
