package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"soitto/bootstrap"
	"soitto/media"
	"soitto/overlay/wire"
)

// kindSession is the signal kind that carries media.Messages.
const kindSession = "session"

// Sessions are P2P connections (package media) to other users, set up
// through signals relayed by the super-peers.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session2
}

// session2 is one P2P session and where its signals go. s is nil while
// an offer is being answered; messages that arrive meanwhile wait in
// pending.
type session2 struct {
	user    string
	s       *media.Session
	pending []media.Message
}

// maxSessions bounds the sessions a client keeps at once.
const maxSessions = 32

// PingResult is what Ping measured.
type PingResult struct {
	User string `json:"user"`
	// Setup is the time from sending the offer to the session being
	// open (identity verified, control channel open).
	Setup time.Duration `json:"setup_ns"`
	Path  PathInfo      `json:"path"`
	// RTTs are the round trips over the session.
	RTTs []time.Duration `json:"rtts_ns"`
}

// PathInfo is the path a session took.
type PathInfo struct {
	media.Path
	Direct bool   `json:"direct"`
	Text   string `json:"text"`
}

// Ping opens a session to user, who must be online, measures count round
// trips over it and closes it.
func (c *Client) Ping(ctx context.Context, user string, count int) (PingResult, error) {
	start := time.Now()
	s, err := c.OpenSession(ctx, user)
	if err != nil {
		return PingResult{}, err
	}
	defer s.Close()
	r := PingResult{User: user, Setup: time.Since(start)}
	for range count {
		rtt, err := s.Ping(ctx)
		if err != nil {
			return r, err
		}
		r.RTTs = append(r.RTTs, rtt)
	}
	p, err := s.Path()
	if err != nil {
		return r, err
	}
	r.Path = PathInfo{Path: p, Direct: p.Direct(), Text: p.String()}
	return r, nil
}

// OpenSession opens a P2P session to user: it finds their super-peer,
// offers a session through it, and waits until the session is open.
func (c *Client) OpenSession(ctx context.Context, user string) (*media.Session, error) {
	sess, o, err := c.current()
	if err != nil {
		return nil, err
	}
	if !o.receive {
		return nil, errors.New("this session takes no signals, so no answer could reach it (go online with Receive)")
	}
	res, err := o.peer.Search(ctx, user)
	switch {
	case errors.Is(err, wire.ErrNotFound):
		return nil, offlineError{user, "not online"}
	case err != nil:
		return nil, err
	case !res.Info.Online() && !res.Info.Hidden():
		return nil, offlineError{user, res.Info.Status.String()}
	}
	via := res.Info.SuperPeer.Addr
	cfg, err := c.sessionConfig(ctx, sess, o, user, via)
	if err != nil {
		return nil, err
	}
	s, err := o.sessions.start(func() (*media.Session, error) { return media.Offer(cfg) }, user)
	if err != nil {
		return nil, err
	}
	if err := s.Open(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// errUserOffline: the user is not online (no record, or it says so).
var errUserOffline = errors.New("user not online")

// offlineError says "bob is offline" and is errUserOffline.
type offlineError struct{ user, status string }

func (e offlineError) Error() string        { return e.user + " is " + e.status }
func (e offlineError) Is(target error) bool { return target == errUserOffline }

// sessionConfig is the media configuration for a session with user, who
// is attached to the super-peer at via.
func (c *Client) sessionConfig(ctx context.Context, sess *session, o *online, user, via string) (media.Config, error) {
	servers, _, err := c.iceServers(ctx, o)
	if err != nil {
		return media.Config{}, err
	}
	var ice []webrtc.ICEServer
	for _, s := range servers {
		ice = append(ice, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	n, _, err := c.network(sess.profile)
	if err != nil {
		return media.Config{}, err
	}
	// The session is known once it starts; the other side's data
	// channels (chat, files) come later, once it is verified.
	var started atomic.Pointer[media.Session]
	return media.Config{
		Started:     func(s *media.Session) { started.Store(s) },
		OnChannel:   func(dc *webrtc.DataChannel) { c.onChannel(o, user, started.Load(), dc) },
		Certificate: tls.Certificate{Certificate: [][]byte{sess.cert.Raw}, PrivateKey: sess.key, Leaf: sess.cert},
		Roots:       n.CAPool(),
		Remote:      user,
		ICEServers:  ice,
		IPFilter:    iceIPFilter(),
		Logger:      c.log,
		Send: func(ctx context.Context, m media.Message) error {
			b, err := encodeSessionSignal(o.peer.Home().Addr, m, "")
			if err != nil {
				return err
			}
			return o.peer.SendVia(ctx, user, via, kindSession, b)
		},
	}, nil
}

// iceIPFilter limits host candidates to the networks in
// $SOITTO_ICE_NETWORKS (comma-separated CIDR prefixes), for test labs
// that must keep traffic on loopback; nil (all) when it is unset.
func iceIPFilter() func(net.IP) bool {
	v := os.Getenv("SOITTO_ICE_NETWORKS")
	if v == "" {
		return nil
	}
	var prefixes []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		if p, err := netip.ParsePrefix(strings.TrimSpace(f)); err == nil {
			prefixes = append(prefixes, p)
		}
	}
	return func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return false
		}
		for _, p := range prefixes {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
}

// start registers the session make creates, and forgets it when it
// ends. For an answer, the session was reserved when the offer came:
// messages that arrived since are handed to it.
func (t *sessions) start(make func() (*media.Session, error), user string) (*media.Session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, err := make()
	if err != nil {
		return nil, err
	}
	if t.byID == nil {
		t.byID = map[string]*session2{}
	}
	e := t.byID[s.ID()]
	if e == nil {
		if len(t.byID) >= maxSessions {
			s.Close()
			return nil, fmt.Errorf("%d sessions open already", maxSessions)
		}
		e = &session2{user: user}
		t.byID[s.ID()] = e
	}
	e.s = s
	for _, m := range e.pending {
		s.Handle(m)
	}
	e.pending = nil
	go func() {
		<-s.Done()
		t.mu.Lock()
		delete(t.byID, s.ID())
		t.mu.Unlock()
	}()
	return s, nil
}

// reserve holds a place for the session an offer will start, so that
// its candidates are kept until it exists. It is false if the table is
// full or the ID taken.
func (t *sessions) reserve(id, user string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byID) >= maxSessions || t.byID[id] != nil {
		return false
	}
	if t.byID == nil {
		t.byID = map[string]*session2{}
	}
	t.byID[id] = &session2{user: user}
	return true
}

// release drops a reservation whose session never started.
func (t *sessions) release(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.byID[id]; e != nil && e.s == nil {
		delete(t.byID, id)
	}
}

// closeAll ends every session.
func (t *sessions) closeAll() {
	t.mu.Lock()
	var all []*media.Session
	for _, e := range t.byID {
		if e.s != nil {
			all = append(all, e.s)
		}
	}
	t.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
}

// onSessionSignal takes a session message from user: a new offer (for an
// interactive client), or a message for a session in progress.
func (c *Client) onSessionSignal(o *online, from string, payload []byte) error {
	replyVia, callID, m, err := decodeSessionSignal(payload)
	if err != nil {
		return wire.Errorf(wire.ErrBadRequest, "%v", err)
	}
	o.sessions.mu.Lock()
	cur := o.sessions.byID[m.Session]
	if cur != nil && cur.user == from && cur.s == nil {
		// Being answered: keep it for the session.
		if len(cur.pending) < 64 && m.Kind != media.KindOffer {
			cur.pending = append(cur.pending, m)
		}
		o.sessions.mu.Unlock()
		return nil
	}
	o.sessions.mu.Unlock()
	if cur != nil {
		if cur.user != from {
			return wire.Errorf(wire.ErrForbidden, "session %s is not with %s", m.Session[:8], from)
		}
		if m.Kind == media.KindOffer {
			return nil // a copy
		}
		if err := cur.s.Handle(m); err != nil {
			return wire.Errorf(wire.ErrBadRequest, "%v", err)
		}
		return nil
	}
	if m.Kind == media.KindOffer && callID != "" {
		return c.onCallOffer(o, from, replyVia, callID, m)
	}
	if m.Kind != media.KindOffer {
		// For a session this program does not hold (another program of
		// the same user answered, or it ended): nothing to do.
		return nil
	}
	if !c.mayReach(from) {
		return nil // sessions are for contacts (the privacy setting)
	}
	if !o.interactive {
		return wire.Errorf(wire.ErrOffline, "this program of %s takes no sessions", o.peer.User())
	}
	if !o.sessions.reserve(m.Session, from) {
		return wire.Errorf(wire.ErrQuota, "no room for another session")
	}
	// Answer on another goroutine: finding the caller's super-peer and
	// fetching TURN credentials take round trips, and the delivery is
	// waiting for this answer.
	o.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.answer(ctx, o, from, replyVia, m); err != nil {
			o.sessions.release(m.Session)
			c.log.Info("session offer not answered", "from", from, "err", err)
		}
	})
	return nil
}

// answer answers an offer from user.
// The caller's program is attached at via (it may be a program that
// publishes no presence, such as soitto-cli ping).
func (c *Client) answer(ctx context.Context, o *online, user, via string, offer media.Message) error {
	c.mu.Lock()
	sess := c.session
	c.mu.Unlock()
	if sess == nil {
		return ErrNotLoggedIn
	}
	cfg, err := c.sessionConfig(ctx, sess, o, user, via)
	if err != nil {
		return err
	}
	s, err := o.sessions.start(func() (*media.Session, error) { return media.Answer(cfg, offer) }, user)
	if err != nil {
		return err
	}
	if err := s.Open(ctx); err != nil {
		s.Close()
		return err
	}
	c.events.publish(SessionOpened{User: user, ID: s.ID()})
	// A ping session ends when the caller closes it; a later feature
	// (calls, chat) takes it from here.
	return nil
}

// sessionSignal is the payload of a "session" signal: a media.Message
// and the super-peer the sender's program is attached to, where the
// replies go.
type sessionSignal struct {
	Via string          `json:"via"`
	M   json.RawMessage `json:"m"`
	// Call names the call a session is for (its offer carries audio).
	Call string `json:"call,omitempty"`
}

func encodeSessionSignal(via string, m media.Message, call string) ([]byte, error) {
	b, err := m.Encode()
	if err != nil {
		return nil, err
	}
	return json.Marshal(sessionSignal{Via: via, M: b, Call: call})
}

// decodeSessionSignal reads a "session" signal's payload (at most
// media.MaxMessage and an address).
func decodeSessionSignal(b []byte) (string, string, media.Message, error) {
	if len(b) > media.MaxMessage+512 {
		return "", "", media.Message{}, fmt.Errorf("session signal of %d bytes", len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s sessionSignal
	if err := dec.Decode(&s); err != nil {
		return "", "", media.Message{}, fmt.Errorf("session signal: %v", err)
	}
	if err := bootstrap.CheckHostPort(s.Via); err != nil {
		return "", "", media.Message{}, fmt.Errorf("session signal: reply address %q: %v", s.Via, err)
	}
	if s.Call != "" && !validCallID(s.Call) {
		return "", "", media.Message{}, fmt.Errorf("session signal: call ID %q is not 32 lowercase hex digits", s.Call)
	}
	m, err := media.DecodeMessage(s.M)
	return s.Via, s.Call, m, err
}
