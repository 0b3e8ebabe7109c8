package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"soitto/media"
	"soitto/overlay/wire"
)

// onCallSignal takes a call signal from user.
func (c *Client) onCallSignal(o *online, from string, payload []byte) error {
	m, err := decodeCallSignal(payload)
	if err != nil {
		return wire.Errorf(wire.ErrBadRequest, "%v", err)
	}
	o.calls.mu.Lock()
	k := o.calls.byID[m.Call]
	if k != nil && k.info.Peer != from {
		o.calls.mu.Unlock()
		return wire.Errorf(wire.ErrForbidden, "call %.8s is not with %s", m.Call, from)
	}
	o.calls.mu.Unlock()
	if m.Action == actInvite {
		if k != nil {
			return nil // a copy
		}
		if !c.mayReach(from) {
			// Only contacts ring (the privacy setting): no answer, so
			// the caller learns nothing, not even that we are here.
			return nil
		}
		return c.onInvite(o, from, m)
	}
	if k == nil {
		return nil // ended here already, or another program's
	}
	o.calls.mu.Lock()
	st, out := k.info.State, k.info.Outgoing
	o.calls.mu.Unlock()
	switch m.Action {
	case actRinging:
		if out && st == CallDialling {
			c.updateCall(o, k, func(i *CallInfo) { i.State = CallRinging })
		}
	case actAccept:
		if out && (st == CallDialling || st == CallRinging) {
			o.calls.mu.Lock()
			k.ring.Stop()
			k.via = m.Via // the program that answered
			o.calls.mu.Unlock()
			c.updateCall(o, k, func(i *CallInfo) { i.State = CallConnecting })
			o.wg.Go(func() { c.connectCall(o, k) })
		}
	case actDecline:
		if out {
			c.endCall(o, k, EndDeclined, from, "")
		}
	case actBusy:
		if out {
			c.endCall(o, k, EndBusy, from, "")
		}
	case actCancel:
		switch {
		case out:
		case m.Reason == reasonNoAnswer:
			c.endCall(o, k, EndNoAnswer, "", "")
		default:
			c.endCall(o, k, EndCancelled, from, "")
		}
	case actHangup:
		o.calls.mu.Lock()
		select {
		case <-k.hungup:
		default:
			close(k.hungup)
		}
		o.calls.mu.Unlock()
		c.endCall(o, k, EndHungUp, from, m.Reason)
	}
	return nil
}

// onInvite rings, or answers busy.
func (c *Client) onInvite(o *online, from string, m callSignal) error {
	if !o.interactive {
		return wire.Errorf(wire.ErrOffline, "this program of %s takes no calls", o.peer.User())
	}
	k := &call{
		info:    CallInfo{ID: m.Call, Peer: from, State: CallRinging, Started: c.now()},
		via:     m.Via,
		hungup:  make(chan struct{}),
		offered: make(chan *media.Session, 1),
	}
	o.calls.mu.Lock()
	if b := o.calls.busy(); b != nil {
		o.calls.mu.Unlock()
		c.log.Info("call while busy", "from", from, "in a call with", b.info.Peer)
		c.tell(o, k, callSignal{Action: actBusy})
		return nil
	}
	if o.calls.byID == nil {
		o.calls.byID = map[string]*call{}
	}
	o.calls.byID[k.info.ID] = k
	k.ring = time.AfterFunc(c.ringTimeout(), func() { c.ringExpired(o, k) })
	o.calls.mu.Unlock()
	c.events.publish(CallChanged{Call: k.info})
	c.mu.Lock()
	auto := c.autoAnswer
	c.mu.Unlock()
	if auto == nil {
		o.wg.Go(func() { c.playRingtone(o, k) })
	}
	// Ringing, then (auto-answering) accept, in that order.
	o.wg.Go(func() {
		if err := c.sendCall(context.Background(), o, k, callSignal{Action: actRinging}); err != nil {
			c.log.Info("call signal not sent", "action", actRinging, "to", from, "err", err)
		}
		if auto != nil {
			if err := c.AnswerCall(k.info.ID, auto); err != nil {
				c.log.Info("auto-answer", "err", err)
			}
		}
	})
	return nil
}

// connectCall opens the caller's session for an accepted call.
func (c *Client) connectCall(o *online, k *call) {
	ctx, cancel := context.WithTimeout(context.Background(), callSetupTimeout)
	defer cancel()
	c.mu.Lock()
	sess := c.session
	c.mu.Unlock()
	if sess == nil {
		c.failCall(o, k, "media failed: logged out")
		return
	}
	cfg, err := c.sessionConfig(ctx, sess, o, k.info.Peer, k.via)
	if err != nil {
		c.tell(o, k, callSignal{Action: actHangup, Reason: "media failed"})
		c.failCall(o, k, "media failed: "+err.Error())
		return
	}
	cfg.Audio = true
	cfg.Send = c.sessionSender(o, k.info.Peer, k.via, k.info.ID)
	s, err := o.sessions.start(func() (*media.Session, error) { return media.Offer(cfg) }, k.info.Peer)
	if err != nil {
		c.tell(o, k, callSignal{Action: actHangup, Reason: "media failed"})
		c.failCall(o, k, "media failed: "+err.Error())
		return
	}
	if err := s.Open(ctx); err != nil {
		s.Close()
		c.tell(o, k, callSignal{Action: actHangup, Reason: "media failed"})
		c.failCall(o, k, sessionFailure(err))
		return
	}
	c.startVoice(o, k, s)
}

// sessionFailure is a call's failure reason for a session that did not
// open.
func sessionFailure(err error) string {
	if errors.Is(err, media.ErrIdentity) {
		return "identity mismatch: " + err.Error()
	}
	return "media failed: " + err.Error()
}

// onCallOffer answers the caller's session offer for call id, which this
// side accepted.
func (c *Client) onCallOffer(o *online, from, via, id string, offer media.Message) error {
	o.calls.mu.Lock()
	k := o.calls.byID[id]
	ok := k != nil && k.info.Peer == from && !k.info.Outgoing && k.info.State == CallConnecting
	o.calls.mu.Unlock()
	if !ok {
		return wire.Errorf(wire.ErrForbidden, "no call %.8s accepted from %s", id, from)
	}
	if !o.sessions.reserve(offer.Session, from) {
		return wire.Errorf(wire.ErrQuota, "no room for another session")
	}
	o.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callSetupTimeout)
		defer cancel()
		c.mu.Lock()
		sess := c.session
		c.mu.Unlock()
		fail := func(reason string) {
			o.sessions.release(offer.Session)
			c.tell(o, k, callSignal{Action: actHangup, Reason: "media failed"})
			c.failCall(o, k, reason)
		}
		if sess == nil {
			fail("media failed: logged out")
			return
		}
		cfg, err := c.sessionConfig(ctx, sess, o, from, via)
		if err != nil {
			fail("media failed: " + err.Error())
			return
		}
		cfg.Audio = true
		cfg.Send = c.sessionSender(o, from, via, id)
		s, err := o.sessions.start(func() (*media.Session, error) { return media.Answer(cfg, offer) }, from)
		if err != nil {
			fail("media failed: " + err.Error())
			return
		}
		if err := s.Open(ctx); err != nil {
			s.Close()
			fail(sessionFailure(err))
			return
		}
		k.offered <- s
	})
	return nil
}

// startVoice starts the sound of call k over session s and watches both.
func (c *Client) startVoice(o *online, k *call, s *media.Session) {
	o.calls.mu.Lock()
	if k.info.State == CallEnded {
		o.calls.mu.Unlock()
		s.Close()
		return
	}
	k.sess = s
	devices := k.devices
	muted := k.info.Muted
	o.calls.mu.Unlock()
	if devices == nil {
		devices = nullDevices
	}
	mic, spk, err := devices()
	if err != nil {
		c.tell(o, k, callSignal{Action: actHangup, Reason: "no sound device"})
		c.failCall(o, k, "media failed: "+err.Error())
		return
	}
	v, err := s.StartVoice(media.VoiceConfig{Mic: mic, Speaker: spk, Logger: c.log})
	if err != nil {
		c.tell(o, k, callSignal{Action: actHangup, Reason: "media failed"})
		c.failCall(o, k, "media failed: "+err.Error())
		return
	}
	v.SetMuted(muted)
	o.calls.mu.Lock()
	k.voice = v
	ended := k.info.State == CallEnded
	o.calls.mu.Unlock()
	if ended { // hung up meanwhile
		v.Close()
		s.Close()
		return
	}
	c.updateCall(o, k, func(i *CallInfo) { i.State, i.Answered = CallActive, c.now() })
	o.wg.Go(func() { c.watchCall(o, k, s) })
}

// watchCall ends the call when its session ends, and measures the round
// trip every 2 s meanwhile.
func (c *Client) watchCall(o *online, k *call, s *media.Session) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	measure := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		rtt, err := s.Ping(ctx)
		cancel()
		if err == nil {
			o.calls.mu.Lock()
			k.rtt = rtt
			o.calls.mu.Unlock()
		}
	}
	measure()
	for {
		select {
		case <-s.Done():
			// A hang-up from the peer may be on its way.
			g := time.NewTimer(hangupGrace)
			select {
			case <-k.hungup:
			case <-g.C:
				c.failCall(o, k, "connection lost: "+s.Err().Error())
			}
			g.Stop()
			return
		case <-t.C:
			o.calls.mu.Lock()
			st := k.info.State
			o.calls.mu.Unlock()
			if st == CallEnded {
				return
			}
			measure()
		}
	}
}

// CallStats is what an active call measures.
func (c *Client) CallStats(id string) (CallStats, error) {
	o, k, err := c.findCall(id)
	if err != nil {
		return CallStats{}, err
	}
	o.calls.mu.Lock()
	v, s, rtt, answered := k.voice, k.sess, k.rtt, k.info.Answered
	o.calls.mu.Unlock()
	if v == nil || s == nil {
		return CallStats{}, fmt.Errorf("the call with %s is not active", k.info.Peer)
	}
	vs := v.Stats()
	st := CallStats{
		RTT: rtt, RemoteLoss: vs.RemoteLoss, LocalLoss: vs.LocalLoss, Jitter: vs.Jitter, Buffer: vs.Buffer,
		Level: v.Level(), Recovered: vs.Recovered, Concealed: vs.Concealed,
	}
	if d := c.now().Sub(answered).Seconds(); d > 0.5 {
		st.SendKbps = float64(vs.SentBytes) * 8 / 1000 / d
		st.RecvKbps = float64(vs.RecvBytes) * 8 / 1000 / d
	}
	if p, err := s.Path(); err == nil {
		st.Path = PathInfo{Path: p, Direct: p.Direct(), Text: p.String()}
	}
	return st, nil
}

// FirstAudio is closed when the call's first packet of the peer's sound
// arrives (nil before the call is active).
func (c *Client) FirstAudio(id string) <-chan struct{} {
	o, k, err := c.findCall(id)
	if err != nil {
		return nil
	}
	o.calls.mu.Lock()
	defer o.calls.mu.Unlock()
	if k.voice == nil {
		return nil
	}
	return k.voice.FirstAudio()
}

// sessionSender sends a call's session messages to user's program at
// via, naming the call.
func (c *Client) sessionSender(o *online, user, via, callID string) func(context.Context, media.Message) error {
	return func(ctx context.Context, m media.Message) error {
		b, err := encodeSessionSignal(o.peer.Home().Addr, m, callID)
		if err != nil {
			return err
		}
		return o.peer.SendVia(ctx, user, via, kindSession, b)
	}
}
