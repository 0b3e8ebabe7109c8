package ui

import (
	"context"
	"time"

	"soitto/app"
)

// This file is where the client's goroutines meet Fyne's. Everything that
// blocks (the client's calls, its event stream, the clock) runs on a
// goroutine started here; what it learns reaches the widgets only through
// u.post, which is fyne.Do in the app.

// tickInterval is how often the home screen's "expires in" is redrawn;
// it shows minutes.
const tickInterval = 15 * time.Second

// startBridge subscribes to the client's events and turns them into screen
// changes, and ticks the clock, until Close. Subscribing before the first
// look at the session means no login is missed in between.
func (u *UI) startBridge() {
	events, unsub := u.client.Subscribe()
	u.unsub = unsub
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		u.bridge(events)
	}()
	u.async(func(context.Context) {
		if id, ok := u.client.Session(); ok {
			u.post(func() { u.showHome(id) })
			return
		}
		u.loadSignInDefaults()
	})
}

func (u *UI) bridge(events <-chan app.Event) {
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	callTick := time.NewTicker(time.Second) // the call's timer
	defer callTick.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			switch e := ev.(type) {
			case app.LoggedIn:
				u.post(func() { u.showHome(e.Identity) })
			case app.LoggedOut:
				u.post(u.showSignIn)
			case app.Connected:
				u.post(func() { u.home.setConnected(e.SuperPeer) })
			case app.Disconnected:
				u.post(func() { u.home.setConnected("") })
			case app.StatusChanged:
				u.post(func() { u.home.setOwnStatus(e.Status) })
			case app.ContactsChanged:
				u.post(func() {
					u.home.setContacts(e.Contacts)
					u.chat.refreshHeader()
				})
			case app.PresenceChanged:
				u.post(func() {
					u.home.updateContact(e.Contact)
					u.chat.refreshHeader()
				})
			case app.NetChanged:
				u.post(func() { u.home.net.set(e.Report) })
			case app.CallChanged:
				u.post(func() { u.callChanged(e.Call) })
			case app.DeviceWarning:
				u.post(func() { u.call.warn(e.Text) })
			case app.ContactRequested:
				u.post(func() { u.home.notice(e.From + " wants to be your contact") })
			case app.ContactKeyChanged:
				u.post(func() { u.home.warn(e.Contact.Name + "'s key changed: compare the safety number on their page") })
			case app.MessageReceived:
				u.post(func() { u.messageReceived(e.Message) })
			case app.MessageDelivered:
				u.post(func() { u.messageChanged(e.User, e.ID, false) })
			case app.MessageMailed:
				u.post(func() { u.messageChanged(e.User, e.ID, true) })
			case app.Typing:
				u.post(func() { u.chat.setTyping(e.User, e.On) })
			case app.FileChanged:
				u.post(func() { u.fileChanged(e.Event) })
			case app.BuddyListRefused:
				u.post(func() { u.home.warn("Your buddy list was refused and set aside: " + firstLine(e.Err.Error())) })
			}
		case <-t.C:
			u.post(u.home.tick)
		case <-callTick.C:
			u.post(func() {
				if u.call.call.State == app.CallActive {
					u.call.refresh()
				}
				u.chat.tick()
				if u.transfersActive() {
					u.syncTransfers() // progress events may have been dropped
				}
			})
		}
	}
}

// post hands f to Fyne's goroutine, unless the UI is closed: once the app
// has quit, Fyne would run f right here, alongside other goroutines.
func (u *UI) post(f func()) {
	if u.ctx.Err() == nil {
		u.do(f)
	}
}

// async runs f on a new goroutine that Close waits for; f's context ends
// at Close. It must be called on Fyne's goroutine (or before New returns).
func (u *UI) async(f func(ctx context.Context)) {
	if u.ctx.Err() != nil {
		return
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		f(u.ctx)
	}()
}

// loadSignInDefaults reads, off Fyne's goroutine, what the sign-in screen
// shows before anyone types: the last user and the network in use.
func (u *UI) loadSignInDefaults() {
	last := u.client.LastUser()
	n, path, err := u.client.Network()
	info := describeNetwork(n, path, err)
	u.post(func() {
		u.signIn.prefill(last)
		u.signIn.setNetwork(info)
	})
}

// refreshNetwork re-reads which network the client uses; logging in can
// change it (the profile keeps a copy).
func (s *signInScreen) refreshNetwork() {
	s.u.async(func(context.Context) {
		n, path, err := s.u.client.Network()
		info := describeNetwork(n, path, err)
		s.u.post(func() { s.setNetwork(info) })
	})
}

// login runs Register (when register is set) then Login for user, and
// reports the outcome to the sign-in screen. Success also arrives as an
// app.LoggedIn event, which is what switches screens.
func (s *signInScreen) login(user, password string, register bool) {
	s.u.async(func(ctx context.Context) {
		if register {
			name, err := s.u.client.Register(ctx, user, password)
			if err != nil {
				s.u.post(func() { s.finish(err) })
				return
			}
			user = name
			s.u.post(func() { s.setStatus("Account created. Signing in…") })
		}
		_, err := s.u.client.Login(ctx, user, password)
		s.u.post(func() { s.finish(err) })
	})
}

// logout ends the session; the app.LoggedOut event brings back the
// sign-in screen.
func (h *homeScreen) logout() {
	h.u.async(func(context.Context) { h.u.client.Logout() })
}

// goOnline puts the session on the overlay (the window is an interactive
// client: it publishes presence and follows the contacts) and shows what
// the client knows already.
func (u *UI) goOnline() {
	u.async(func(context.Context) {
		err := u.client.GoOnline(app.OnlineOptions{Interactive: true})
		contacts := u.client.Contacts()
		st := u.client.Status()
		sp, _ := u.client.SuperPeer()
		u.post(func() {
			if err != nil {
				u.home.warn("Cannot go online: " + firstLine(err.Error()))
			}
			u.home.setContacts(contacts)
			u.home.setConnected(sp)
			u.home.setOwnStatus(st)
		})
	})
}
