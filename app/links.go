package app

import (
	"context"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"soitto/app/transfer"
	"soitto/media"
)

// chatLabel is the label of a session's chat channel; file transfers
// open channels of their own (package transfer).
const chatLabel = "chat"

// A link is a data session with a buddy that chat and file transfers
// ride on: a media.Session (no audio) whose offerer opens a "chat"
// channel. Either side may open one; the newest open one is used.
type links struct {
	mu      sync.Mutex // guards byUser, dialing
	byUser  map[string]*media.Session
	dialing map[string]bool
}

// add makes s the link with user.
func (l *links) add(user string, s *media.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byUser == nil {
		l.byUser = map[string]*media.Session{}
	}
	l.byUser[user] = s
}

// remove forgets s as the link with user, if it still is.
func (l *links) remove(user string, s *media.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byUser[user] == s {
		delete(l.byUser, user)
	}
}

// get is the open link with user, or nil.
func (l *links) get(user string) *media.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.byUser[user]; s != nil {
		select {
		case <-s.Done():
		default:
			return s
		}
	}
	return nil
}

// startDial marks a dial to user in progress; false if one is.
func (l *links) startDial(user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dialing == nil {
		l.dialing = map[string]bool{}
	}
	if l.dialing[user] {
		return false
	}
	l.dialing[user] = true
	return true
}

func (l *links) endDial(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.dialing, user)
}

// link returns the open link with user, opening a session if there is
// none. It needs the user online.
func (c *Client) link(ctx context.Context, o *online, user string) (*media.Session, error) {
	if s := o.links.get(user); s != nil {
		return s, nil
	}
	s, err := c.OpenSession(ctx, user)
	if err != nil {
		return nil, err
	}
	c.useLink(o, user, s)
	dc, err := s.OpenChannel(chatLabel)
	if err != nil {
		s.Close()
		return nil, err
	}
	c.useChatChannel(user, s, dc)
	return s, nil
}

// useLink makes s the link with user until it ends.
func (c *Client) useLink(o *online, user string, s *media.Session) {
	o.links.add(user, s)
	go func() {
		<-s.Done()
		o.links.remove(user, s)
	}()
}

// onChannel takes a data channel user opened on session s: the chat
// channel, or a file transfer's.
func (c *Client) onChannel(o *online, user string, s *media.Session, dc *webrtc.DataChannel) {
	m := c.messaging()
	if m == nil {
		dc.Close()
		return
	}
	if dc.Label() == chatLabel {
		c.useLink(o, user, s)
		c.useChatChannel(user, s, dc)
		return
	}
	if !m.files.HandleChannel(c.filePeer(user, s), transfer.WrapDataChannel(dc)) {
		dc.Close()
	}
}

// chatLink is a chat channel as the chat engine's link.
type chatLink struct{ dc *webrtc.DataChannel }

func (l chatLink) Send(frame []byte) error { return l.dc.Send(frame) }

// useChatChannel attaches the chat engine to dc while it is open: what
// is pending for user goes out, and frames that come in are the
// engine's; file transfers with user resume.
func (c *Client) useChatChannel(user string, s *media.Session, dc *webrtc.DataChannel) {
	m := c.messaging()
	if m == nil {
		return
	}
	l := chatLink{dc}
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		if err := m.chat.Receive(user, msg.Data); err != nil {
			c.log.Info("chat frame refused", "from", user, "err", err)
		}
	})
	dc.OnClose(func() { m.chat.Detach(user, l) })
	attach := func() {
		m.chat.Attach(user, l)
		m.files.Reconnected(c.filePeer(user, s))
	}
	if dc.ReadyState() == webrtc.DataChannelStateOpen {
		attach()
	} else {
		dc.OnOpen(attach)
	}
	go func() {
		<-s.Done()
		m.chat.Detach(user, l)
	}()
}

// filePeer is user over session s, for package transfer.
func (c *Client) filePeer(user string, s *media.Session) transfer.Peer {
	return filePeer{c: c, user: user, s: s}
}

type filePeer struct {
	c    *Client
	user string
	s    *media.Session
}

func (p filePeer) User() string { return p.user }

func (p filePeer) SendControl(msg []byte) error {
	m := p.c.messaging()
	if m == nil {
		return ErrNotLoggedIn
	}
	return m.chat.SendApp(p.user, msg)
}

func (p filePeer) OpenChannel(label string) (transfer.Channel, error) {
	dc, err := p.s.OpenChannel(label)
	if err != nil {
		return nil, err
	}
	return transfer.WrapDataChannel(dc), nil
}

// linkTimeout bounds opening a session for chat or files.
const linkTimeout = 30 * time.Second
