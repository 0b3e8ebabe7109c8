package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"soitto/app/profile"
	"soitto/login/username"
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

// AddContact adds user to the contact list (kept in the profile) and, when
// online, looks up their presence at once.
func (c *Client) AddContact(user string) (Contact, error) {
	name, err := username.Normalize(user)
	if err != nil {
		return Contact{}, err
	}
	c.mu.Lock()
	s := c.session
	if s == nil {
		c.mu.Unlock()
		return Contact{}, ErrNotLoggedIn
	}
	if name == s.ident.Username {
		c.mu.Unlock()
		return Contact{}, errors.New("that is you")
	}
	for _, ct := range s.contacts {
		if ct.Name == name {
			c.mu.Unlock()
			return ct, nil
		}
	}
	if len(s.contacts) >= profile.MaxContacts {
		c.mu.Unlock()
		return Contact{}, fmt.Errorf("the contact list is full (%d)", profile.MaxContacts)
	}
	ct := Contact{Name: name, Added: c.cfg.Now().UTC().Truncate(time.Second)}
	s.contacts = append(s.contacts, ct)
	list := slices.Clone(s.contacts)
	o := s.online
	c.mu.Unlock()
	if err := saveContacts(s.profile, list); err != nil {
		return ct, err
	}
	c.events.publish(ContactsChanged{Contacts: list})
	if o != nil {
		select {
		case o.check <- name:
		default:
		}
	}
	return ct, nil
}

// RemoveContact removes user from the contact list.
func (c *Client) RemoveContact(user string) error {
	name, err := username.Normalize(user)
	if err != nil {
		return err
	}
	c.mu.Lock()
	s := c.session
	if s == nil {
		c.mu.Unlock()
		return ErrNotLoggedIn
	}
	i := slices.IndexFunc(s.contacts, func(ct Contact) bool { return ct.Name == name })
	if i < 0 {
		c.mu.Unlock()
		return fmt.Errorf("%s is not a contact", name)
	}
	s.contacts = slices.Delete(s.contacts, i, i+1)
	list := slices.Clone(s.contacts)
	c.mu.Unlock()
	if err := saveContacts(s.profile, list); err != nil {
		return err
	}
	c.events.publish(ContactsChanged{Contacts: list})
	return nil
}

func saveContacts(p *profile.Profile, list []Contact) error {
	out := make([]profile.Contact, len(list))
	for i, ct := range list {
		out[i] = profile.Contact{Name: ct.Name, Added: ct.Added}
	}
	return p.SaveContacts(out)
}

func loadContacts(p *profile.Profile) ([]Contact, error) {
	saved, err := p.Contacts()
	if err != nil {
		return nil, err
	}
	out := make([]Contact, len(saved))
	for i, ct := range saved {
		out[i] = Contact{Name: ct.Name, Added: ct.Added}
	}
	return out, nil
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
	ct.Status, ct.SuperPeer, ct.Checked = st, sp, c.cfg.Now()
	out := *ct
	c.mu.Unlock()
	if changed {
		c.events.publish(PresenceChanged{Contact: out})
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
			c.lookUp(ctx, o, ct.Name)
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
	st, sp, err := searchStatus(o.peer.Search(sctx, name))
	if err != nil {
		c.log.Debug("presence lookup failed", "contact", name, "err", err)
		return
	}
	c.setPresence(name, st, sp)
	if st == presence.Offline {
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
			if err := o.peer.Send(wctx, name, kindWatch, nil); err != nil {
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
	switch sig.Kind {
	case kindWatch:
		o.mu.Lock()
		defer o.mu.Unlock()
		if _, ok := o.watchers[sig.From]; !ok && len(o.watchers) >= maxWatched {
			return wire.Errorf(wire.ErrRateLimited, "watched by %d users already", maxWatched)
		}
		o.watchers[sig.From] = c.cfg.Now().Add(watchTTL)
		return nil
	case kindPresence:
		st, err := presence.ParseStatus(string(sig.Payload))
		if err != nil {
			return wire.Errorf(wire.ErrBadRequest, "presence push: %v", err)
		}
		if st.Published() != st {
			return wire.Errorf(wire.ErrBadRequest, "presence push of %v", st)
		}
		if !c.isContact(sig.From) {
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
	c.events.publish(SignalReceived{From: sig.From, Kind: sig.Kind, Payload: sig.Payload})
	return nil
}

func (c *Client) isContact(name string) bool {
	return slices.ContainsFunc(c.Contacts(), func(ct Contact) bool { return ct.Name == name })
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
			if err := o.peer.Send(ctx, name, kindPresence, []byte(st.String())); err != nil {
				c.log.Debug("presence push failed", "to", name, "err", err)
			}
		}()
	}
	for range to {
		<-done
	}
}
