package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"soitto/app/profile"
	"soitto/login/username"
	"soitto/overlay/presence"
	"soitto/overlay/wire"
)

// ContactState is where a user stands in the buddy list.
type ContactState string

const (
	// StateContact: both accepted.
	StateContact ContactState = ContactState(profile.BuddyContact)
	// StateRequested: this user asked; the other has not accepted.
	StateRequested ContactState = ContactState(profile.BuddyRequested)
	// StatePending: the other asked; this user has not answered.
	StatePending ContactState = ContactState(profile.BuddyPending)
	// StateBlocked: everything from them is dropped unanswered.
	StateBlocked ContactState = ContactState(profile.BuddyBlocked)
)

// Privacy says who sees the user's status and may call them.
type Privacy string

const (
	// PrivacyContacts (the default): only contacts see the status (to
	// others the user is offline) and only contacts can call, open
	// sessions or send files; anyone can send a contact request.
	PrivacyContacts Privacy = "contacts"
	// PrivacyEveryone: status public, and anyone may call.
	PrivacyEveryone Privacy = "everyone"
)

// ContactRequested is a contact request from another user.
type ContactRequested struct {
	From, Message string
}

// ContactKeyChanged says that a contact now signs with another key than
// the one first seen: until the user accepts it (AcceptContactKey), the
// contact is marked.
type ContactKeyChanged struct{ Contact Contact }

// BuddyListRefused says the buddy list on disk was refused at login
// (tampered with, rolled back, or unreadable) and set aside; the session
// started with an empty list.
type BuddyListRefused struct{ Err error }

func (ContactRequested) isEvent()  {}
func (ContactKeyChanged) isEvent() {}
func (BuddyListRefused) isEvent()  {}

// buddies is what a session keeps of its buddy list besides the
// contacts shown: the key that seals it, its version, and pinned keys.
type buddies struct {
	key     *profile.ListKey
	version uint64
	privacy Privacy
	pins    map[string]pin
	refused error // the list on disk was refused at login
}

type pin struct{ key, newKey []byte }

// openBuddies loads the buddy list of p with password. A list refused
// (tampered, rolled back) is set aside by the profile and the session
// starts with none, saying why in refused.
func (c *Client) openBuddies(p *profile.Profile, password string, roots *x509.CertPool) ([]Contact, buddies, error) {
	b := buddies{privacy: PrivacyContacts, pins: map[string]pin{}}
	k, err := p.ListKey(password, c.cfg.KDF)
	if err != nil {
		return nil, b, err
	}
	b.key = k
	l, err := p.LoadBuddies(k, roots, p.Username)
	if errors.Is(err, profile.ErrBuddiesPassword) {
		return nil, b, err
	}
	if err != nil {
		c.log.Info("buddy list refused; starting with none", "err", err)
		b.refused = err
		b.version = l.Version
		return nil, b, nil
	}
	b.version = l.Version
	if l.Privacy == string(PrivacyEveryone) {
		b.privacy = PrivacyEveryone
	}
	var out []Contact
	for _, e := range l.Buddies {
		out = append(out, Contact{Name: e.Name, Added: e.Added, State: ContactState(e.State), Message: e.Message, KeyChanged: e.NewKey != nil})
		b.pins[e.Name] = pin{key: e.Key, newKey: e.NewKey}
	}
	return out, b, nil
}

// saveBuddies writes the session's buddy list (signed, sealed, its
// version one higher). Callers hold nothing.
func (c *Client) saveBuddies(s *session) error {
	c.mu.Lock()
	l := profile.BuddyList{Version: s.buddies.version, Privacy: string(s.buddies.privacy)}
	for _, ct := range s.contacts {
		p := s.buddies.pins[ct.Name]
		l.Buddies = append(l.Buddies, profile.Buddy{Name: ct.Name, State: profile.BuddyState(ct.State), Added: ct.Added,
			Message: ct.Message, Key: p.key, NewKey: p.newKey})
	}
	c.mu.Unlock()
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if err := s.profile.SaveBuddies(&l, s.buddies.key, s.key, s.cert); err != nil {
		return fmt.Errorf("saving the buddy list: %w", err)
	}
	c.mu.Lock()
	s.buddies.version = max(s.buddies.version, l.Version)
	c.mu.Unlock()
	// The plain list of older versions is in the sealed one now.
	os.Remove(filepath.Join(s.profile.Dir, profile.ContactsFile))
	return nil
}

// update applies f to user's entry (nil when there is none; f returns
// the new entry, or nil to remove it), saves the list and reports it.
func (c *Client) updateBuddy(user string, f func(cur *Contact) *Contact) (Contact, error) {
	c.mu.Lock()
	s := c.session
	if s == nil {
		c.mu.Unlock()
		return Contact{}, ErrNotLoggedIn
	}
	i := slices.IndexFunc(s.contacts, func(ct Contact) bool { return ct.Name == user })
	var cur *Contact
	if i >= 0 {
		cp := s.contacts[i]
		cur = &cp
	}
	next := f(cur)
	switch {
	case next == nil && i >= 0:
		s.contacts = slices.Delete(s.contacts, i, i+1)
		delete(s.buddies.pins, user)
	case next == nil:
		c.mu.Unlock()
		return Contact{}, nil
	case i >= 0:
		s.contacts[i] = *next
	default:
		if len(s.contacts) >= profile.MaxContacts {
			c.mu.Unlock()
			return Contact{}, fmt.Errorf("the contact list is full (%d)", profile.MaxContacts)
		}
		s.contacts = append(s.contacts, *next)
	}
	list := slices.Clone(s.contacts)
	c.mu.Unlock()
	err := c.saveBuddies(s)
	c.events.publish(ContactsChanged{Contacts: list})
	if next == nil {
		return Contact{}, err
	}
	return *next, err
}

// contactState is user's state in the list, "" when not in it.
func (c *Client) contactState(user string) ContactState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return ""
	}
	for _, ct := range c.session.contacts {
		if ct.Name == user {
			return ct.State
		}
	}
	return ""
}

// mayReach tells whether user may call this user, open a session, ask
// for presence pushes or send anything but a contact request.
func (c *Client) mayReach(user string) bool {
	switch c.contactState(user) {
	case StateContact:
		return true
	case StateBlocked:
		return false
	}
	return c.Privacy() == PrivacyEveryone
}

// BuddyListRefused is why the buddy list on disk was refused at login
// (it was set aside and the session started with none), or nil.
func (c *Client) BuddyListRefused() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return nil
	}
	return c.session.buddies.refused
}

// Privacy is the session's privacy setting.
func (c *Client) Privacy() Privacy {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return PrivacyContacts
	}
	return c.session.buddies.privacy
}

// SetPrivacy changes who sees the status and may call; it is kept in
// the buddy list and published at once.
func (c *Client) SetPrivacy(p Privacy) error {
	if p != PrivacyContacts && p != PrivacyEveryone {
		return fmt.Errorf("privacy %q: want contacts or everyone", p)
	}
	c.mu.Lock()
	s := c.session
	if s == nil {
		c.mu.Unlock()
		return ErrNotLoggedIn
	}
	s.buddies.privacy = p
	st := s.status
	o := s.online
	c.mu.Unlock()
	if o != nil {
		o.peer.SetStatus(c.published(st))
	}
	return c.saveBuddies(s)
}

// published is what the record on the ring says for st: under
// PrivacyContacts, offline to all (with the super-peer, so requests and
// contacts reach the user), the status going to contacts in signals.
func (c *Client) published(st presence.Status) presence.Status {
	return publishedFor(st, c.Privacy())
}

func publishedFor(st presence.Status, p Privacy) presence.Status {
	if p == PrivacyContacts && st.Published() != presence.Offline {
		return presence.Hidden
	}
	return st
}

// AddContact asks user to be a contact, with a short message; user's
// entry is "requested" until they accept. Asking someone who asked
// first accepts them.
func (c *Client) AddContact(user string) (Contact, error) { return c.RequestContactWith(user, "") }

// RequestContactWith is AddContact with a message for the request.
func (c *Client) RequestContactWith(user, message string) (Contact, error) {
	name, err := username.Normalize(user)
	if err != nil {
		return Contact{}, err
	}
	if err := checkRequestMessage(message); err != nil {
		return Contact{}, err
	}
	if id, ok := c.Session(); ok && id.Username == name {
		return Contact{}, errors.New("that is you")
	}
	if c.contactState(name) == StatePending {
		return c.AcceptContact(name)
	}
	ct, err := c.updateBuddy(name, func(cur *Contact) *Contact {
		if cur != nil && cur.State == StateContact {
			return cur
		}
		return &Contact{Name: name, Added: c.cfg.Now().UTC().Truncate(time.Second), State: StateRequested, Message: message}
	})
	if err != nil {
		return ct, err
	}
	if ct.State == StateRequested {
		// Not delivered (they are offline): the follower sends it
		// when they are found.
		c.sendContact(name, contactSignal{Action: actRequest, Message: message})
	}
	return ct, nil
}

// AcceptContact accepts user's request: both are contacts now.
func (c *Client) AcceptContact(user string) (Contact, error) {
	name, err := username.Normalize(user)
	if err != nil {
		return Contact{}, err
	}
	if st := c.contactState(name); st != StatePending {
		return Contact{}, fmt.Errorf("%s has not asked to be a contact", name)
	}
	ct, err := c.updateBuddy(name, func(cur *Contact) *Contact {
		cur.State, cur.Message = StateContact, ""
		return cur
	})
	if err != nil {
		return ct, err
	}
	c.sendContact(name, contactSignal{Action: actAcceptC})
	c.checkNow(name)
	return ct, nil
}

// DeclineContact declines user's request (they are told).
func (c *Client) DeclineContact(user string) error {
	name, err := username.Normalize(user)
	if err != nil {
		return err
	}
	if st := c.contactState(name); st != StatePending {
		return fmt.Errorf("%s has not asked to be a contact", name)
	}
	if _, err := c.updateBuddy(name, func(*Contact) *Contact { return nil }); err != nil {
		return err
	}
	c.sendContact(name, contactSignal{Action: actDeclineC})
	return nil
}

// RemoveContact ends the contact (or the request) on both sides; a
// blocked user is unblocked.
func (c *Client) RemoveContact(user string) error {
	name, err := username.Normalize(user)
	if err != nil {
		return err
	}
	st := c.contactState(name)
	if st == "" {
		return fmt.Errorf("%s is not a contact", name)
	}
	if _, err := c.updateBuddy(name, func(*Contact) *Contact { return nil }); err != nil {
		return err
	}
	if st != StateBlocked {
		c.sendContact(name, contactSignal{Action: actRemove})
	}
	c.setPresence(name, presence.Offline, "")
	return nil
}

// BlockContact blocks user: their requests, calls, sessions and
// messages are dropped without telling them, and they are not told.
func (c *Client) BlockContact(user string) error {
	name, err := username.Normalize(user)
	if err != nil {
		return err
	}
	if id, ok := c.Session(); ok && id.Username == name {
		return errors.New("that is you")
	}
	_, err = c.updateBuddy(name, func(cur *Contact) *Contact {
		if cur == nil {
			cur = &Contact{Name: name, Added: c.cfg.Now().UTC().Truncate(time.Second)}
		}
		cur.State, cur.Message, cur.Status, cur.SuperPeer = StateBlocked, "", presence.Offline, ""
		return cur
	})
	c.endCallsWith(name)
	return err
}

// AcceptContactKey accepts the new key a contact signs with.
func (c *Client) AcceptContactKey(user string) error {
	name, err := username.Normalize(user)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if s := c.session; s != nil {
		if p, ok := s.buddies.pins[name]; ok && p.newKey != nil {
			s.buddies.pins[name] = pin{key: p.newKey}
		}
	}
	c.mu.Unlock()
	_, err = c.updateBuddy(name, func(cur *Contact) *Contact {
		if cur != nil {
			cur.KeyChanged = false
		}
		return cur
	})
	return err
}

// SafetyNumber is the number this user and user compare out of band
// to check each other's keys (see the package function). It needs the
// contact's key, pinned from their first signal.
func (c *Client) SafetyNumber(user string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.session
	if s == nil {
		return "", ErrNotLoggedIn
	}
	p := s.buddies.pins[user]
	key := p.key
	if p.newKey != nil {
		key = p.newKey
	}
	if key == nil {
		return "", fmt.Errorf("no key seen from %s yet", user)
	}
	own, err := x509.MarshalPKIXPublicKey(s.cert.PublicKey)
	if err != nil {
		return "", err
	}
	return SafetyNumber(s.ident.Username, own, user, key), nil
}

// pinKey pins the key of a signal's sender who is in the list, or
// flags a change.
func (c *Client) pinKey(sig *wire.Signal) {
	cert, err := x509.ParseCertificate(sig.Cert)
	if err != nil {
		return
	}
	key, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		return
	}
	c.mu.Lock()
	s := c.session
	if s == nil || !slices.ContainsFunc(s.contacts, func(ct Contact) bool { return ct.Name == sig.From }) {
		c.mu.Unlock()
		return
	}
	p := s.buddies.pins[sig.From]
	changed := false
	switch {
	case p.key == nil:
		p.key = key
	case bytes.Equal(p.key, key):
		if p.newKey != nil {
			p.newKey = nil // back to the pinned key
			changed = true
		}
		if !changed {
			c.mu.Unlock()
			return
		}
	case bytes.Equal(p.newKey, key):
		c.mu.Unlock()
		return
	default:
		p.newKey = key
		changed = true
	}
	s.buddies.pins[sig.From] = p
	c.mu.Unlock()
	ct, err := c.updateBuddy(sig.From, func(cur *Contact) *Contact {
		if cur != nil {
			cur.KeyChanged = p.newKey != nil
		}
		return cur
	})
	if err != nil {
		c.log.Warn("saving a pinned key", "err", err)
	}
	if changed && ct.KeyChanged {
		c.events.publish(ContactKeyChanged{Contact: ct})
	}
}

// onContactSignal takes a request or an answer from user.
func (c *Client) onContactSignal(from string, payload []byte) error {
	m, err := decodeContactSignal(payload)
	if err != nil {
		return wire.Errorf(wire.ErrBadRequest, "%v", err)
	}
	st := c.contactState(from)
	switch m.Action {
	case actRequest:
		switch st {
		case StateContact, StateRequested:
			// They have us already, or both asked: contacts now.
			if _, err := c.updateBuddy(from, func(cur *Contact) *Contact {
				cur.State, cur.Message = StateContact, ""
				return cur
			}); err != nil {
				return err
			}
			c.sendContactSoon(from, contactSignal{Action: actAcceptC})
			c.checkNow(from)
		case StatePending:
			// A repeat: keep the newest message.
			c.updateBuddy(from, func(cur *Contact) *Contact { cur.Message = m.Message; return cur })
		default:
			if _, err := c.updateBuddy(from, func(*Contact) *Contact {
				return &Contact{Name: from, Added: c.cfg.Now().UTC().Truncate(time.Second), State: StatePending, Message: m.Message}
			}); err != nil {
				return err
			}
			c.events.publish(ContactRequested{From: from, Message: m.Message})
		}
	case actAcceptC:
		if st == StateRequested {
			c.updateBuddy(from, func(cur *Contact) *Contact { cur.State, cur.Message = StateContact, ""; return cur })
			c.checkNow(from)
		}
	case actDeclineC:
		if st == StateRequested {
			c.updateBuddy(from, func(*Contact) *Contact { return nil })
		}
	case actRemove:
		if st == StateContact || st == StateRequested || st == StatePending {
			c.updateBuddy(from, func(*Contact) *Contact { return nil })
			c.setPresence(from, presence.Offline, "")
		}
	}
	return nil
}

// sendContactSoon sends m to user on a goroutine (signal handlers must
// not wait for the network).
func (c *Client) sendContactSoon(user string, m contactSignal) {
	_, o, err := c.current()
	if err != nil {
		return
	}
	o.wg.Go(func() { c.sendContact(user, m) })
}

// sendContact sends m to user, when online, through the super-peer of
// their record even when it says offline (a hidden user), and waits
// for it to go (at most 15 s). A request that cannot go now is sent
// again by the contact follower when the user is found.
func (c *Client) sendContact(user string, m contactSignal) error {
	_, o, err := c.current()
	if err != nil {
		return err
	}
	b, err := m.encode()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.sendReachable(ctx, o, user, kindContact, b); err != nil {
		c.log.Info("contact signal not sent", "to", user, "action", m.Action, "err", err)
		return err
	}
	if m.Action == actRequest {
		o.mu.Lock()
		o.requested[user] = true
		o.mu.Unlock()
	}
	return nil
}

// sendReachable sends a signal to user through the super-peer their
// record names, whether it says online or hides the status.
func (c *Client) sendReachable(ctx context.Context, o *online, user, kind string, payload []byte) error {
	res, err := o.peer.Search(ctx, user)
	if err != nil {
		return err
	}
	if res.Info.SuperPeer.IsZero() {
		return fmt.Errorf("%s is not online", user)
	}
	return o.peer.SendVia(ctx, user, res.Info.SuperPeer.Addr, kind, payload)
}

// checkNow asks the contact follower to look user up at once.
func (c *Client) checkNow(user string) {
	_, o, err := c.current()
	if err != nil {
		return
	}
	select {
	case o.check <- user:
	default:
	}
}

// endCallsWith hangs up (without a word) the calls with a user just
// blocked.
func (c *Client) endCallsWith(user string) {
	_, o, err := c.current()
	if err != nil {
		return
	}
	o.calls.mu.Lock()
	var mine []*call
	for _, k := range o.calls.byID {
		if k.info.Peer == user {
			mine = append(mine, k)
		}
	}
	o.calls.mu.Unlock()
	for _, k := range mine {
		c.endCall(o, k, EndHungUp, "", "blocked")
	}
}

// ExportContacts writes the buddy list, sealed and signed as the
// profile's, to path (never over an existing file), to take to another
// machine.
func (c *Client) ExportContacts(path string) error {
	c.mu.Lock()
	s := c.session
	if s == nil {
		c.mu.Unlock()
		return ErrNotLoggedIn
	}
	l := profile.BuddyList{Version: s.buddies.version, Privacy: string(s.buddies.privacy)}
	for _, ct := range s.contacts {
		p := s.buddies.pins[ct.Name]
		l.Buddies = append(l.Buddies, profile.Buddy{Name: ct.Name, State: profile.BuddyState(ct.State), Added: ct.Added,
			Message: ct.Message, Key: p.key, NewKey: p.newKey})
	}
	k, key, cert := s.buddies.key, s.key, s.cert
	c.mu.Unlock()
	return profile.ExportBuddies(path, l, k, key, cert)
}

// ImportContacts adds the buddies of a list exported elsewhere (opened
// with password, the one it was sealed with) to this one: users not in
// this list are added as they were there, with their pinned keys.
func (c *Client) ImportContacts(path, password string) (added int, err error) {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s == nil {
		return 0, ErrNotLoggedIn
	}
	n, _, err := c.network(s.profile)
	if err != nil {
		return 0, err
	}
	l, err := profile.ImportBuddies(path, password, n.CAPool(), s.ident.Username)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	for _, b := range l.Buddies {
		if slices.ContainsFunc(s.contacts, func(ct Contact) bool { return ct.Name == b.Name }) || len(s.contacts) >= profile.MaxContacts {
			continue
		}
		s.contacts = append(s.contacts, Contact{Name: b.Name, Added: b.Added, State: ContactState(b.State), Message: b.Message, KeyChanged: b.NewKey != nil})
		s.buddies.pins[b.Name] = pin{key: b.Key, newKey: b.NewKey}
		added++
	}
	list := slices.Clone(s.contacts)
	c.mu.Unlock()
	if err := c.saveBuddies(s); err != nil {
		return added, err
	}
	c.events.publish(ContactsChanged{Contacts: list})
	for _, ct := range list {
		c.checkNow(ct.Name) // find them, and tell them where we are now
	}
	return added, nil
}
