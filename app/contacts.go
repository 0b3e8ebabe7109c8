package app

import (
	"context"
	"slices"
	"time"

	"soitto/overlay/presence"
	"soitto/overlay/wire"
)

// Signal kinds the client core speaks.
const (
	// kindWatch asks the recipient to push their status changes to the
	// sender for watchTTL.
	kindWatch = "watch"
	// kindPresence pushes the sender's new status (payload: its name).
	kindPresence = "presence"
)

const (
	watchTTL   = 15 * time.Minute
	rewatch    = 5 * time.Minute
	maxWatched = 1000
)

// Contacts returns the contact list with what is known of each one's
// presence, in the order they were added.
func (c *Client) Contacts() []Contact {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return nil
	}
	return slices.Clone(c.session.contacts)
}

// setPresence records a contact's presence and reports a change.
func (c *Client) setPresence(name string, st presence.Status, sp string) {
	c.mu.Lock()
	s := c.session
	if s == nil {
		c.mu.Unlock()
		return
	}
	i := slices.IndexFunc(s.contacts, func(ct Contact) bool { return ct.Name == name })
	if i < 0 {
		c.mu.Unlock()
		return
	}
	ct := &s.contacts[i]
	changed := ct.Checked.IsZero() || ct.Status != st || ct.SuperPeer != sp
	wasOnline := ct.Status != presence.Offline
	ct.Status, ct.SuperPeer, ct.Checked = st, sp, c.cfg.Now()
	out := *ct
	o := s.online
	c.mu.Unlock()
	if changed {
		c.events.publish(PresenceChanged{Contact: out})
	}
	if o != nil && !wasOnline && st != presence.Offline {
		select { // what waits for them may go now
		case o.cameOnline <- name:
		default:
		}
	}
}

// followContacts looks up every contact's presence now and every
// PollInterval, and one contact at once when asked through o.check; a
// contact found online is asked to push changes (a "watch" signal).
func (c *Client) followContacts(ctx context.Context, o *online) {
	if _, err := o.peer.WaitAttached(ctx); err != nil {
		return
	}
	interval := c.cfg.Overlay.PollInterval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	all := func() {
		for _, ct := range c.Contacts() {
			if ctx.Err() != nil {
				return
			}
			if ct.State == StateContact || ct.State == StateRequested {
				c.lookUp(ctx, o, ct.Name)
			}
		}
	}
	all()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			all()
		case name := <-o.check:
			c.lookUp(ctx, o, name)
		}
	}
}

func (c *Client) lookUp(ctx context.Context, o *online, name string) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, sp, hidden, err := searchStatus(o.peer.Search(sctx, name))
	if err != nil {
		c.log.Debug("presence lookup failed", "contact", name, "err", err)
		return
	}
	state := c.contactState(name)
	if state == StateRequested && sp != "" {
		c.deliverRequest(o, name)
	}
	if state != StateContact {
		return
	}
	if hidden {
		// Connected, status for contacts only: keep what they pushed
		// (the watch below brings it), note where they are.
		st = c.contactStatus(name)
	}
	c.setPresence(name, st, sp)
	if sp == "" {
		return
	}
	o.mu.Lock()
	due := c.cfg.Now().Sub(o.watchSent[name]) > rewatch
	if due {
		o.watchSent[name] = c.cfg.Now()
	}
	o.mu.Unlock()
	if due {
		o.wg.Go(func() {
			wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.sendReachable(wctx, o, name, kindWatch, nil); err != nil {
				c.log.Debug("asking a contact for presence pushes", "contact", name, "err", err)
				o.mu.Lock()
				delete(o.watchSent, name)
				o.mu.Unlock()
			}
		})
	}
}

// onSignal takes a verified signal addressed to the user.
func (c *Client) onSignal(o *online, sig *wire.Signal) error {
	if c.traceSignal != nil {
		c.traceSignal(sig.From, sig.Kind, sig.Payload)
	}
	if c.contactState(sig.From) == StateBlocked {
		return nil // dropped, and they are not told
	}
	c.pinKey(sig)
	switch sig.Kind {
	case kindContact:
		err := c.onContactSignal(sig.From, sig.Payload)
		c.pinKey(sig) // a request's sender is in the list only now
		return err
	case kindWatch:
		if !c.mayReach(sig.From) {
			return nil // the status is for contacts only
		}
		o.mu.Lock()
		if _, ok := o.watchers[sig.From]; !ok && len(o.watchers) >= maxWatched {
			o.mu.Unlock()
			return wire.Errorf(wire.ErrRateLimited, "watched by %d users already", maxWatched)
		}
		o.watchers[sig.From] = c.cfg.Now().Add(watchTTL)
		o.mu.Unlock()
		// Tell them the status now: a hidden record does not.
		st := c.Status().Published()
		o.wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.sendReachable(ctx, o, sig.From, kindPresence, []byte(st.String())); err != nil {
				c.log.Debug("presence push failed", "to", sig.From, "err", err)
			}
		})
		return nil
	case kindPresence:
		st, err := presence.ParseStatus(string(sig.Payload))
		if err != nil {
			return wire.Errorf(wire.ErrBadRequest, "presence push: %v", err)
		}
		if st.Published() != st {
			return wire.Errorf(wire.ErrBadRequest, "presence push of %v", st)
		}
		if c.contactState(sig.From) != StateContact {
			return nil // not followed; nothing to update
		}
		// The push is signed by the contact; it is shown at once, and the
		// record (with the super-peer) is fetched to confirm it.
		sp := ""
		if st != presence.Offline {
			for _, ct := range c.Contacts() {
				if ct.Name == sig.From {
					sp = ct.SuperPeer
				}
			}
		}
		c.setPresence(sig.From, st, sp)
		o.wg.Go(func() {
			time.Sleep(500 * time.Millisecond)
			select {
			case o.check <- sig.From:
			default:
			}
		})
		return nil
	}
	switch sig.Kind {
	case kindSession:
		return c.onSessionSignal(o, sig.From, sig.Payload)
	case kindCall:
		return c.onCallSignal(o, sig.From, sig.Payload)
	}
	if !c.mayReach(sig.From) {
		return nil
	}
	c.events.publish(SignalReceived{From: sig.From, Kind: sig.Kind, Payload: sig.Payload})
	return nil
}

// contactStatus is the status last known for contact name.
func (c *Client) contactStatus(name string) presence.Status {
	for _, ct := range c.Contacts() {
		if ct.Name == name {
			return ct.Status
		}
	}
	return presence.Offline
}

// deliverRequest sends the request this user made to name again, once
// a session, now that name can be reached.
func (c *Client) deliverRequest(o *online, name string) {
	o.mu.Lock()
	done := o.requested[name]
	o.mu.Unlock()
	if done {
		return
	}
	msg := ""
	for _, ct := range c.Contacts() {
		if ct.Name == name {
			msg = ct.Message
		}
	}
	c.sendContactSoon(name, contactSignal{Action: actRequest, Message: msg})
}

// tellWatchers pushes st to every user who asked within watchTTL.
func (c *Client) tellWatchers(ctx context.Context, o *online, st presence.Status) {
	now := c.cfg.Now()
	o.mu.Lock()
	var to []string
	for name, until := range o.watchers {
		if now.After(until) {
			delete(o.watchers, name)
			continue
		}
		to = append(to, name)
	}
	o.mu.Unlock()
	done := make(chan struct{}, len(to))
	for _, name := range to {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := c.sendReachable(ctx, o, name, kindPresence, []byte(st.String())); err != nil {
				c.log.Debug("presence push failed", "to", name, "err", err)
			}
		}()
	}
	for range to {
		<-done
	}
}
