package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"soitto/app/chat"
	"soitto/app/profile"
	"soitto/app/transfer"
	"soitto/login/username"
	"soitto/overlay/wire"
)

// messaging is a logged-in session's chat and file transfers: the chat
// engine with its history (chat.db in the profile, sealed with a key
// derived from the identity key) and the transfer manager (its state in
// the profile's transfers folder).
type messaging struct {
	chat   *chat.Engine
	files  *transfer.Manager
	mailed *mailedSet

	mu        sync.Mutex // guards acceptDir
	acceptDir string     // files are accepted into it at once when set
}

// historyKey is the key chat history is sealed with: derived from the
// identity key, so it needs the password and stays the same across
// logins and certificates.
func historyKey(key *ecdsa.PrivateKey) ([]byte, error) {
	ek, err := key.ECDH()
	if err != nil {
		return nil, err
	}
	return hkdf.Key(sha256.New, ek.Bytes(), nil, "soitto chat history v1", 32)
}

// openMessaging opens the profile's chat history and transfers for user.
func (c *Client) openMessaging(p *profile.Profile, key *ecdsa.PrivateKey, user string) (*messaging, error) {
	hk, err := historyKey(key)
	if err != nil {
		return nil, err
	}
	m := &messaging{}
	m.chat, err = chat.Open(chat.Config{
		Path: filepath.Join(p.Dir, "chat.db"), Key: hk, Self: user, Now: c.cfg.Now,
		Logger: c.log, OnEvent: c.onChatEvent,
	})
	if err != nil {
		return nil, fmt.Errorf("chat history: %w", err)
	}
	m.files, err = transfer.NewManager(transfer.Config{
		StateDir: filepath.Join(p.Dir, "transfers"), Now: c.cfg.Now, Logger: c.log, OnEvent: c.onFileEvent,
	})
	if err != nil {
		m.chat.Close()
		return nil, fmt.Errorf("file transfers: %w", err)
	}
	m.mailed = openMailed(filepath.Join(p.Dir, "mailed.json"))
	return m, nil
}

func (m *messaging) close() {
	m.files.Close()
	m.chat.Close()
}

// messaging is the session's, or nil.
func (c *Client) messaging() *messaging {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session == nil {
		return nil
	}
	return c.session.msg
}

// SendMessage writes text to user. The message is kept as pending in the
// history at once and delivered when user can be reached: over a session
// if they are online, else sealed to their key and left on the ring for
// them to collect; MessageDelivered says when it arrived.
func (c *Client) SendMessage(user, text string) (chat.Message, error) {
	name, err := username.Normalize(user)
	if err != nil {
		return chat.Message{}, err
	}
	m := c.messaging()
	if m == nil {
		return chat.Message{}, ErrNotLoggedIn
	}
	if c.contactState(name) == StateBlocked {
		return chat.Message{}, fmt.Errorf("%s is blocked", name)
	}
	msg, err := m.chat.Send(name, text)
	if err != nil {
		return chat.Message{}, err
	}
	c.kickCourier()
	return msg, nil
}

// Outcomes of DeliverMessage.
const (
	OutcomeDelivered = "delivered" // the buddy has it
	OutcomeMailed    = "mailed"    // sealed onto the ring for the offline buddy
	OutcomePending   = "pending"   // neither yet: kept, and tried again
)

// deliverWait bounds DeliverMessage's wait in a control request.
const deliverWait = 45 * time.Second

// DeliverMessage sends text to user as SendMessage does and waits until
// it is delivered or left on the ring, or ctx ends (then the outcome is
// pending: the message stays in the history and goes out later).
func (c *Client) DeliverMessage(ctx context.Context, user, text string) (string, error) {
	events, stop := c.Subscribe()
	defer stop()
	msg, err := c.SendMessage(user, text)
	if err != nil {
		return "", err
	}
	for {
		select {
		case <-ctx.Done():
			return OutcomePending, nil
		case e := <-events:
			switch e := e.(type) {
			case MessageDelivered:
				if e.ID == msg.ID {
					return OutcomeDelivered, nil
				}
			case MessageMailed:
				if e.ID == msg.ID {
					return OutcomeMailed, nil
				}
			}
		}
	}
}

// Conversation is the last limit messages with user, oldest first.
func (c *Client) Conversation(user string, limit int) ([]chat.Message, error) {
	m := c.messaging()
	if m == nil {
		return nil, ErrNotLoggedIn
	}
	return m.chat.History(user, limit)
}

// SearchMessages finds messages whose text contains query.
func (c *Client) SearchMessages(query string, limit int) ([]chat.Message, error) {
	m := c.messaging()
	if m == nil {
		return nil, ErrNotLoggedIn
	}
	return m.chat.Search(query, limit)
}

// SetTyping tells user whether this user is typing to them, when a
// session is up (typing is not worth opening one).
func (c *Client) SetTyping(user string, on bool) {
	if m := c.messaging(); m != nil {
		m.chat.SetTyping(user, on)
	}
}

// SendFile offers the file at path to user, who must be online; the
// transfer goes on (and resumes after breaks) until it completes, is
// declined or cancelled. FileChanged events follow it.
func (c *Client) SendFile(ctx context.Context, user, path string) (transfer.Info, error) {
	name, err := username.Normalize(user)
	if err != nil {
		return transfer.Info{}, err
	}
	m := c.messaging()
	_, o, err := c.current()
	if err != nil || m == nil {
		return transfer.Info{}, ErrNotLoggedIn
	}
	if o == nil {
		return transfer.Info{}, ErrOffline
	}
	lctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	s, err := c.link(lctx, o, name)
	if err != nil {
		return transfer.Info{}, err
	}
	return m.files.Offer(ctx, c.filePeer(name, s), path)
}

// AcceptFile accepts an offered file into dir.
func (c *Client) AcceptFile(id, dir string) error {
	m := c.messaging()
	if m == nil {
		return ErrNotLoggedIn
	}
	return m.files.Accept(id, dir)
}

// DeclineFile declines an offered file; nothing is written.
func (c *Client) DeclineFile(id string) error {
	m := c.messaging()
	if m == nil {
		return ErrNotLoggedIn
	}
	return m.files.Decline(id)
}

// CancelFile stops a transfer either way; the other side is told.
func (c *Client) CancelFile(id string) error {
	m := c.messaging()
	if m == nil {
		return ErrNotLoggedIn
	}
	return m.files.Cancel(id)
}

// Transfers are the file transfers known, finished ones included.
func (c *Client) Transfers() []transfer.Info {
	m := c.messaging()
	if m == nil {
		return nil
	}
	return m.files.Transfers()
}

// SetAcceptFiles makes every file offered by someone who may reach this
// user (see SetPrivacy) be accepted into dir at once (soitto-cli listen
// --accept-files); "" asks again.
func (c *Client) SetAcceptFiles(dir string) {
	if m := c.messaging(); m != nil {
		m.mu.Lock()
		m.acceptDir = dir
		m.mu.Unlock()
	}
}

// onChatEvent turns the chat engine's events into the client's.
func (c *Client) onChatEvent(e chat.Event) {
	switch e := e.(type) {
	case chat.Received:
		c.events.publish(MessageReceived{Message: e.Message})
	case chat.Delivered:
		c.events.publish(MessageDelivered{User: e.Peer, ID: e.ID})
	case chat.Typing:
		c.events.publish(Typing{User: e.Peer, On: e.On})
	case chat.AppFrame:
		m := c.messaging()
		_, o, err := c.current()
		if m == nil || err != nil || o == nil {
			return
		}
		s := o.links.get(e.Peer)
		if s == nil {
			return
		}
		if err := m.files.HandleControl(c.filePeer(e.Peer, s), e.Data); err != nil {
			c.log.Info("file transfer message refused", "from", e.Peer, "err", err)
		}
	}
}

// onFileEvent turns the transfer manager's events into the client's, and
// accepts offers at once when SetAcceptFiles asked for it.
func (c *Client) onFileEvent(e transfer.Event) {
	if o, ok := e.(transfer.Offered); ok {
		if !c.mayReach(o.Info.User) {
			if m := c.messaging(); m != nil {
				go m.files.Decline(o.Info.ID)
			}
			return
		}
		if m := c.messaging(); m != nil {
			m.mu.Lock()
			dir := m.acceptDir
			m.mu.Unlock()
			if dir != "" {
				go func() {
					if err := m.files.Accept(o.Info.ID, dir); err != nil {
						c.log.Warn("accepting a file", "from", o.Info.User, "err", err)
					}
				}()
			}
		}
	}
	c.events.publish(FileChanged{Event: e})
}

// MessageReceived is a chat message from a buddy, shown once, in order.
type MessageReceived struct{ Message chat.Message }

// MessageDelivered: the buddy has the message (directly, or collected
// from the ring).
type MessageDelivered struct {
	User string
	ID   [16]byte
}

// MessageMailed: the buddy is offline, and the message was sealed to
// their key and left on the ring; MessageDelivered follows once they
// collect it.
type MessageMailed struct {
	User string
	ID   [16]byte
}

// Typing: the buddy started or stopped typing.
type Typing struct {
	User string
	On   bool
}

// FileChanged is a file transfer's event (package transfer: offered,
// progress, done, failed, declined, cancelled).
type FileChanged struct{ Event transfer.Event }

func (MessageReceived) isEvent()  {}
func (MessageDelivered) isEvent() {}
func (Typing) isEvent()           {}
func (MessageMailed) isEvent()    {}
func (FileChanged) isEvent()      {}

// kickCourier wakes the courier: there is something to deliver.
func (c *Client) kickCourier() {
	_, o, err := c.current()
	if err != nil || o == nil {
		return
	}
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Courier timing.
const (
	courierTick    = 5 * time.Second
	mailboxEvery   = 30 * time.Second // if OverlayConfig.MailboxInterval is zero
	dialBackoffMin = 5 * time.Second
	dialBackoffMax = 30 * time.Second
)

// courier delivers what is pending while the client is online: it opens
// sessions to buddies with pending messages or unfinished transfers,
// seals messages to offline buddies onto the ring, collects this user's
// mailbox, and watches the ring for mail the other side has collected.
func (c *Client) courier(ctx context.Context, o *online) {
	if _, err := o.peer.WaitAttached(ctx); err != nil {
		return
	}
	backoff := map[string]time.Duration{}
	next := map[string]time.Time{}
	linked := make(chan string, 16) // dials that opened a link
	var lastMail time.Time
	every := c.cfg.Overlay.MailboxInterval
	if every <= 0 {
		every = mailboxEvery
	}
	t := time.NewTicker(min(courierTick, every))
	defer t.Stop()
	for {
		m := c.messaging()
		if m == nil {
			return
		}
		now := time.Now()
		if now.Sub(lastMail) >= every {
			lastMail = now
			c.collectMail(ctx, o, m)
			c.checkMailed(ctx, o, m)
		}
		for _, user := range c.waiting(m) {
			if o.links.get(user) != nil {
				delete(backoff, user)
				delete(next, user)
				continue
			}
			if now.Before(next[user]) || !o.links.startDial(user) {
				continue
			}
			o.wg.Go(func() {
				defer o.links.endDial(user)
				dctx, cancel := context.WithTimeout(ctx, linkTimeout)
				defer cancel()
				_, err := c.link(dctx, o, user)
				if err == nil {
					select {
					case linked <- user:
					default:
					}
					return
				}
				c.log.Debug("no session for what is pending", "user", user, "err", err)
				if offline(err) {
					c.mailPending(dctx, o, m, user)
				}
			})
			b := max(dialBackoffMin, min(2*backoff[user], dialBackoffMax))
			backoff[user], next[user] = b, now.Add(b)
		}
		c.nudgePaused(o, m)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.kick:
		case user := <-linked:
			// A link that opened and soon broke again is tried
			// again without waiting out a long backoff.
			delete(backoff, user)
			delete(next, user)
		case user := <-o.cameOnline:
			delete(backoff, user)
			delete(next, user)
		}
	}
}

// nudgePaused resumes the paused transfers with buddies who have a
// link: a transfer channel can break while its session lives on (a
// resume that crossed another), and only a new session would resume it
// otherwise. Resuming is idempotent on both sides.
func (c *Client) nudgePaused(o *online, m *messaging) {
	done := map[string]bool{}
	for _, t := range m.files.Transfers() {
		if t.State != transfer.StatePaused || done[t.User] {
			continue
		}
		done[t.User] = true
		if s := o.links.get(t.User); s != nil {
			m.files.Reconnected(c.filePeer(t.User, s))
		}
	}
}

// waiting are the users something waits for: pending messages and
// unfinished outgoing transfers.
func (c *Client) waiting(m *messaging) []string {
	users := m.chat.PendingPeers()
	for _, t := range m.files.Transfers() {
		if !t.Incoming && unfinished(t.State) && !slices.Contains(users, t.User) {
			users = append(users, t.User)
		}
	}
	return slices.DeleteFunc(users, func(u string) bool { return c.contactState(u) == StateBlocked })
}

// unfinished reports a transfer that still has work to do.
func unfinished(st transfer.State) bool {
	switch st {
	case transfer.StateHashing, transfer.StateOffered, transfer.StateActive, transfer.StatePaused:
		return true
	}
	return false
}

// offline reports an error that says the user is not online.
func offline(err error) bool {
	return errors.Is(err, wire.ErrOffline) || errors.Is(err, errUserOffline)
}
