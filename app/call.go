package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"soitto/media"
	"soitto/media/audio"
	"soitto/overlay/wire"
)

// reasonNoAnswer is a cancel's reason when the caller's ring timeout
// ended the call.
const reasonNoAnswer = "no answer"

// DefaultRingTimeout is how long a call rings before it ends unanswered.
const DefaultRingTimeout = 45 * time.Second

// Bounds of a call's setup.
const (
	callSetupTimeout = 30 * time.Second // from accept to sound
	hangupGrace      = 2 * time.Second  // for the hangup signal after the session ends
	callSendTimeout  = 10 * time.Second
)

// CallState is where a call is.
type CallState int

const (
	// CallDialling: the invite is on its way; the callee's program has
	// not answered yet.
	CallDialling CallState = iota
	// CallRinging: the callee is being alerted (on the callee's side:
	// this program rings).
	CallRinging
	// CallConnecting: answered; the P2P session is being set up.
	CallConnecting
	// CallActive: sound flows both ways.
	CallActive
	// CallEnded: over; CallInfo.End says how.
	CallEnded
)

func (s CallState) String() string {
	return [...]string{"dialling", "ringing", "connecting", "active", "ended"}[s]
}

// CallEnd is how a call ended.
type CallEnd string

const (
	EndHungUp    CallEnd = "hung up"   // by EndedBy ("" this side)
	EndDeclined  CallEnd = "declined"  // the callee declined (EndedBy says who)
	EndBusy      CallEnd = "busy"      // the callee was in another call
	EndNoAnswer  CallEnd = "no answer" // rang for RingTimeout
	EndCancelled CallEnd = "cancelled" // the caller gave up before an answer: a missed call
	EndFailed    CallEnd = "failed"    // Reason says why
)

// CallInfo is a call as the views see it.
type CallInfo struct {
	ID       string
	Peer     string
	Outgoing bool
	State    CallState
	Started  time.Time // dialled, or began to ring here
	Answered time.Time // zero until active
	Ended    time.Time
	End      CallEnd
	// EndedBy is the peer when they ended it, "" when this side did.
	EndedBy string
	// Reason, for EndFailed: offline, unreachable, identity mismatch,
	// media failed, connection lost, with the detail.
	Reason string
	Muted  bool
}

// Duration is how long the call has been (or was) active.
func (i CallInfo) Duration(now time.Time) time.Duration {
	switch {
	case i.Answered.IsZero():
		return 0
	case !i.Ended.IsZero():
		return i.Ended.Sub(i.Answered)
	default:
		return now.Sub(i.Answered)
	}
}

// CallChanged is sent whenever a call changes state (an incoming call
// is one in CallRinging with Outgoing false), or is muted.
type CallChanged struct{ Call CallInfo }

func (CallChanged) isEvent() {}

// AudioDevices opens a call's microphone and speaker when the call is
// answered; the call closes them when it ends.
type AudioDevices func() (audio.Source, audio.Sink, error)

// CallStats is what a call measures while active.
type CallStats struct {
	Path PathInfo
	RTT  time.Duration // over the session's control channel
	// Loss of our sound as the peer reports it, and of theirs as we
	// count it, as fractions.
	RemoteLoss, LocalLoss float64
	Jitter                time.Duration
	Buffer                time.Duration // the jitter buffer's delay
	SendKbps, RecvKbps    float64       // Opus payload, over the call
	Level                 float64       // the microphone, 0..1
	Recovered, Concealed  uint64
}

// call is one call and what carries it.
type call struct {
	info    CallInfo
	via     string // the peer program's super-peer
	devices AudioDevices
	ring    *time.Timer
	hungup  chan struct{} // closed when the peer's hangup arrives
	offered chan *media.Session
	sess    *media.Session
	voice   *media.Voice
	rtt     time.Duration
}

// calls is the online session's calls: one at a time, and the ended
// ones are forgotten.
type calls struct {
	mu   sync.Mutex
	byID map[string]*call
}

func newCallID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ringTimeout is the configured ring timeout.
func (c *Client) ringTimeout() time.Duration {
	if c.cfg.RingTimeout > 0 {
		return c.cfg.RingTimeout
	}
	return DefaultRingTimeout
}

// busy is the call not ended, if any. Callers hold t.mu.
func (t *calls) busy() *call {
	for _, k := range t.byID {
		if k.info.State != CallEnded {
			return k
		}
	}
	return nil
}

// update changes call k under the lock and publishes the result.
func (c *Client) updateCall(o *online, k *call, f func(*CallInfo)) CallInfo {
	o.calls.mu.Lock()
	f(&k.info)
	info := k.info
	if info.State == CallEnded {
		delete(o.calls.byID, info.ID)
	}
	o.calls.mu.Unlock()
	c.events.publish(CallChanged{Call: info})
	return info
}

// Call rings user: it finds them, sends the invite and returns the call
// (dialling). The call goes on by itself: CallChanged events follow it
// to ringing, active or an end. devices opens the microphone and
// speaker once the call is answered. A call that cannot start (the user
// is offline, unreachable, or this client is in a call) is returned
// ended, with the error.
func (c *Client) Call(ctx context.Context, user string, devices AudioDevices) (CallInfo, error) {
	_, o, err := c.current()
	if err != nil {
		return CallInfo{}, err
	}
	if !o.receive {
		return CallInfo{}, errors.New("this session takes no signals, so no answer could reach it (go online with Receive)")
	}
	if user == o.peer.User() {
		return CallInfo{}, errors.New("you cannot call yourself")
	}
	k := &call{
		info:    CallInfo{ID: newCallID(), Peer: user, Outgoing: true, State: CallDialling, Started: c.now()},
		devices: devices,
		hungup:  make(chan struct{}),
	}
	o.calls.mu.Lock()
	if b := o.calls.busy(); b != nil {
		o.calls.mu.Unlock()
		return CallInfo{}, fmt.Errorf("already in a call with %s", b.info.Peer)
	}
	if o.calls.byID == nil {
		o.calls.byID = map[string]*call{}
	}
	o.calls.byID[k.info.ID] = k
	o.calls.mu.Unlock()
	c.events.publish(CallChanged{Call: k.info})

	res, err := o.peer.Search(ctx, user)
	switch {
	case errors.Is(err, wire.ErrNotFound):
		err = fmt.Errorf("offline: %s is not online", user)
	case err != nil:
		err = fmt.Errorf("unreachable: %v", err)
	case !res.Info.Online() && !res.Info.Hidden():
		err = fmt.Errorf("offline: %s is %v", user, res.Info.Status)
	}
	if err == nil {
		k.via = res.Info.SuperPeer.Addr
		err = c.sendCall(ctx, o, k, callSignal{Action: actInvite, Via: o.peer.Home().Addr})
		if err != nil {
			err = fmt.Errorf("unreachable: %v", err)
		}
	}
	if err != nil {
		info := c.failCall(o, k, err.Error())
		return info, err
	}
	o.calls.mu.Lock()
	k.ring = time.AfterFunc(c.ringTimeout(), func() { c.ringExpired(o, k) })
	info := k.info
	o.calls.mu.Unlock()
	return info, nil
}

// sendCall sends a call signal about k to its peer.
func (c *Client) sendCall(ctx context.Context, o *online, k *call, m callSignal) error {
	m.Call = k.info.ID
	b, err := m.encode()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callSendTimeout)
	defer cancel()
	return o.peer.SendVia(ctx, k.info.Peer, k.via, kindCall, b)
}

// tell sends m about k on a goroutine of the online session's, logging
// a failure.
func (c *Client) tell(o *online, k *call, m callSignal) {
	o.wg.Go(func() {
		if err := c.sendCall(context.Background(), o, k, m); err != nil {
			c.log.Info("call signal not sent", "action", m.Action, "to", k.info.Peer, "err", err)
		}
	})
}

// ringExpired ends a call still ringing after the ring timeout.
func (c *Client) ringExpired(o *online, k *call) {
	o.calls.mu.Lock()
	st := k.info.State
	o.calls.mu.Unlock()
	if st != CallDialling && st != CallRinging {
		return
	}
	if k.info.Outgoing {
		// Said so: the callee's own timer may not have fired yet.
		c.tell(o, k, callSignal{Action: actCancel, Reason: reasonNoAnswer})
	}
	c.endCall(o, k, EndNoAnswer, "", "")
}

// endCall ends k, if it has not ended, and stops what carries it.
func (c *Client) endCall(o *online, k *call, end CallEnd, by, reason string) CallInfo {
	var ended bool
	info := c.updateCall(o, k, func(i *CallInfo) {
		if i.State == CallEnded {
			return
		}
		ended = true
		i.State, i.End, i.EndedBy, i.Reason, i.Ended = CallEnded, end, by, reason, c.now()
	})
	if !ended {
		return info
	}
	o.calls.mu.Lock()
	if k.ring != nil {
		k.ring.Stop()
	}
	v, s := k.voice, k.sess
	o.calls.mu.Unlock()
	if v != nil {
		v.Close()
	}
	if s != nil {
		go s.Close()
	}
	c.log.Info("call ended", "peer", k.info.Peer, "end", end, "by", by, "reason", reason)
	return info
}

func (c *Client) failCall(o *online, k *call, reason string) CallInfo {
	return c.endCall(o, k, EndFailed, "", reason)
}

// findCall is the call id of the online session.
func (c *Client) findCall(id string) (*online, *call, error) {
	_, o, err := c.current()
	if err != nil {
		return nil, nil, err
	}
	o.calls.mu.Lock()
	k := o.calls.byID[id]
	o.calls.mu.Unlock()
	if k == nil {
		return nil, nil, fmt.Errorf("no call %.8s", id)
	}
	return o, k, nil
}

// AnswerCall answers an incoming call that is ringing: devices opens
// the microphone and speaker once the session is up.
func (c *Client) AnswerCall(id string, devices AudioDevices) error {
	o, k, err := c.findCall(id)
	if err != nil {
		return err
	}
	o.calls.mu.Lock()
	if k.info.Outgoing || k.info.State != CallRinging {
		st := k.info.State
		o.calls.mu.Unlock()
		return fmt.Errorf("the call with %s is %v, not ringing here", k.info.Peer, st)
	}
	k.devices = devices
	k.ring.Stop()
	o.calls.mu.Unlock()
	c.updateCall(o, k, func(i *CallInfo) { i.State = CallConnecting })
	if err := c.sendCall(context.Background(), o, k, callSignal{Action: actAccept, Via: o.peer.Home().Addr}); err != nil {
		c.failCall(o, k, "unreachable: "+err.Error())
		return err
	}
	// The caller's offer comes next (onCallOffer); give it a bound.
	o.wg.Go(func() {
		t := time.NewTimer(callSetupTimeout)
		defer t.Stop()
		select {
		case s := <-k.offered:
			c.startVoice(o, k, s)
		case <-k.hungup:
		case <-t.C:
			c.tell(o, k, callSignal{Action: actHangup, Reason: "no session"})
			c.failCall(o, k, fmt.Sprintf("media failed: no session from %s within %v", k.info.Peer, callSetupTimeout))
		}
	})
	return nil
}

// DeclineCall declines an incoming call that is ringing.
func (c *Client) DeclineCall(id string) error {
	o, k, err := c.findCall(id)
	if err != nil {
		return err
	}
	if k.info.Outgoing {
		return errors.New("declining a call this side placed (hang up instead)")
	}
	c.tell(o, k, callSignal{Action: actDecline})
	c.endCall(o, k, EndDeclined, "", "")
	return nil
}

// HangUp ends a call: cancels it while it rings, hangs up once answered.
func (c *Client) HangUp(id string) error {
	o, k, err := c.findCall(id)
	if err != nil {
		return err
	}
	o.calls.mu.Lock()
	st, out := k.info.State, k.info.Outgoing
	o.calls.mu.Unlock()
	switch {
	case st == CallEnded:
		return nil
	case (st == CallDialling || st == CallRinging) && out:
		c.tell(o, k, callSignal{Action: actCancel})
		c.endCall(o, k, EndCancelled, "", "")
	case st == CallRinging:
		c.tell(o, k, callSignal{Action: actDecline})
		c.endCall(o, k, EndDeclined, "", "")
	default:
		// The signal first: the peer then knows it was a hang-up
		// when the session ends.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := c.sendCall(ctx, o, k, callSignal{Action: actHangup}); err != nil {
			c.log.Info("hangup signal not sent", "err", err)
		}
		cancel()
		c.endCall(o, k, EndHungUp, "", "")
	}
	return nil
}

// SetCallMuted mutes or unmutes the microphone in a call.
func (c *Client) SetCallMuted(id string, muted bool) error {
	o, k, err := c.findCall(id)
	if err != nil {
		return err
	}
	o.calls.mu.Lock()
	v := k.voice
	o.calls.mu.Unlock()
	if v != nil {
		v.SetMuted(muted)
	}
	c.updateCall(o, k, func(i *CallInfo) { i.Muted = muted })
	return nil
}

// Calls are the calls not ended.
func (c *Client) Calls() []CallInfo {
	_, o, err := c.current()
	if err != nil {
		return nil
	}
	o.calls.mu.Lock()
	defer o.calls.mu.Unlock()
	var out []CallInfo
	for _, k := range o.calls.byID {
		out = append(out, k.info)
	}
	return out
}

// SetAutoAnswer answers every incoming call at once with devices (a
// headless listener); nil turns it off.
func (c *Client) SetAutoAnswer(devices AudioDevices) {
	c.mu.Lock()
	c.autoAnswer = devices
	c.mu.Unlock()
}

// endCalls hangs up every call, when going offline.
func (c *Client) endCalls(o *online, reason string) {
	o.calls.mu.Lock()
	var all []*call
	for _, k := range o.calls.byID {
		all = append(all, k)
	}
	o.calls.mu.Unlock()
	for _, k := range all {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.sendCall(ctx, o, k, callSignal{Action: actHangup, Reason: reason})
		cancel()
		c.endCall(o, k, EndHungUp, "", reason)
	}
}

func (c *Client) now() time.Time { return c.cfg.Now() }
