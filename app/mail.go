package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"soitto/app/chat"
	"soitto/overlay/dir"
	"soitto/overlay/wire"
)

// mailTTL is how long a message sealed onto the ring waits for its
// recipient (the ring's limit for mail).
const mailTTL = 30 * 24 * time.Hour

// recipientKey is user's public key for sealing: the key pinned for the
// contact, else the one in their presence record.
func (c *Client) recipientKey(ctx context.Context, o *online, user string) (*ecdsa.PublicKey, error) {
	c.mu.Lock()
	var pinned []byte
	if c.session != nil {
		pinned = c.session.buddies.pins[user].key
	}
	c.mu.Unlock()
	if pinned != nil {
		k, err := x509.ParsePKIXPublicKey(pinned)
		if err == nil {
			if pk, ok := k.(*ecdsa.PublicKey); ok {
				return pk, nil
			}
		}
	}
	res, err := o.peer.Search(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("no key for %s: %w", user, err)
	}
	pk, ok := res.Info.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("no key for %s: not ECDSA", user)
	}
	return pk, nil
}

// mailPending seals the messages pending for user (offline) that are not
// on the ring yet, and leaves them there.
func (c *Client) mailPending(ctx context.Context, o *online, m *messaging, user string) {
	sess, _, err := c.current()
	if err != nil {
		return
	}
	var to *ecdsa.PublicKey
	for _, msg := range m.chat.Pending(user) {
		if m.mailed.has(msg.ID) {
			continue
		}
		if to == nil {
			if to, err = c.recipientKey(ctx, o, user); err != nil {
				c.log.Info("cannot seal for an offline buddy", "user", user, "err", err)
				return
			}
		}
		sealed, err := chat.Seal(msg, sess.key, sess.cert.Raw, user, to)
		if errors.Is(err, chat.ErrTooLargeForMailbox) {
			c.log.Info("message too large for the ring; it waits for a session", "user", user)
			continue
		}
		if err != nil {
			c.log.Warn("sealing a message", "user", user, "err", err)
			continue
		}
		expires := c.cfg.Now().Add(mailTTL)
		rec, err := dir.NewMail(user, sealed, expires)
		if err != nil {
			c.log.Warn("mail record", "user", user, "err", err)
			continue
		}
		if err := o.peer.PutRecord(ctx, rec); err != nil {
			c.log.Info("leaving a message on the ring", "user", user, "err", err)
			return
		}
		if err := m.mailed.add(msg.ID, mailedEntry{User: user, Name: rec.Name, Expires: expires}); err != nil {
			c.log.Warn("remembering a mailed message", "err", err)
		}
		c.log.Info("message left on the ring", "user", user, "mail", rec.Name)
		c.events.publish(MessageMailed{User: user, ID: msg.ID})
	}
}

// checkMailed looks on the ring for the mail this user left: collected
// (the recipient's tombstone) means delivered; gone before its expiry
// means lost, and the message is sealed again at the next try.
func (c *Client) checkMailed(ctx context.Context, o *online, m *messaging) {
	now := c.cfg.Now()
	for id, e := range m.mailed.all() {
		if !m.chat.IsPending(e.User, id) {
			m.mailed.remove(id)
			continue
		}
		rec, err := o.peer.GetRecord(ctx, dir.KindMail, e.Name)
		switch {
		case err == nil && rec.Seq >= 2:
			if err := m.chat.MarkDelivered(e.User, id); err != nil {
				c.log.Warn("marking delivered", "err", err)
				continue
			}
			m.mailed.remove(id)
		case errors.Is(err, wire.ErrNotFound) || (err == nil && now.After(e.Expires)):
			m.mailed.remove(id)
		case err != nil:
			c.log.Debug("looking for mail on the ring", "mail", e.Name, "err", err)
		}
	}
}

// collectMail takes the messages left on the ring for this user: each is
// opened (sealed to this user's key, signed by its sender), stored like a
// message that came directly, and then deleted from the ring with a
// tombstone, which is how its sender learns it was delivered. Mail that
// does not open, or from someone who may not reach this user, is deleted
// unread.
func (c *Client) collectMail(ctx context.Context, o *online, m *messaging) {
	sess, _, err := c.current()
	if err != nil {
		return
	}
	self := sess.ident.Username
	n, _, err := c.network(sess.profile)
	if err != nil {
		return
	}
	heads, err := o.peer.ListMail(ctx, self)
	if err != nil {
		if !errors.Is(err, wire.ErrNotFound) {
			c.log.Info("listing the mailbox", "err", err)
		}
		return
	}
	for _, h := range heads {
		if h.Seq != 1 {
			continue
		}
		rec, err := o.peer.GetRecord(ctx, dir.KindMail, h.Name())
		if err != nil || rec.Seq != 1 {
			continue
		}
		msg, from, _, err := chat.Unseal(rec.Payload, sess.key, self, n.CAPool(), c.cfg.Now())
		switch {
		case err != nil:
			c.log.Info("mail refused", "mail", h.Name(), "err", err)
		case !c.mayReach(from):
			c.log.Debug("mail from someone who may not reach this user dropped", "from", from)
		default:
			if _, err := m.chat.ReceiveOffline(from, msg); err != nil {
				c.log.Warn("storing collected mail", "from", from, "err", err)
				continue // kept on the ring for the next try
			}
		}
		tomb, err := dir.NewMailTombstone(self, dir.MailID(rec), time.Unix(rec.Expires, 0), sess.key, sess.cert.Raw)
		if err != nil {
			c.log.Warn("tombstone", "err", err)
			continue
		}
		if err := o.peer.PutRecord(ctx, tomb); err != nil {
			c.log.Info("deleting collected mail", "mail", h.Name(), "err", err)
		}
	}
}

// mailID is a message ID as text.
func mailID(id [16]byte) string { return hex.EncodeToString(id[:]) }
