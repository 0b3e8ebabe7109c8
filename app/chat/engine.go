package chat

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"
)

// Timing and window of delivery (doc.go says how they are used).
const (
	// DefaultRetry is the first retry of an unacknowledged message when
	// Config.Retry is zero.
	DefaultRetry = time.Second
	// MaxRetry is where the retry interval stops doubling.
	MaxRetry = 30 * time.Second
	// Window is how many messages to one peer may be on the wire without
	// an acknowledgement; the rest wait, pending, behind them.
	Window = 256
	// TypingTimeout is how long a peer's "typing" lasts without a
	// refresh.
	TypingTimeout = 6 * time.Second
	// TypingRefresh is how often SetTyping(peer, true) sends "typing" again
	// while it is called.
	TypingRefresh = 2 * time.Second
	// DefaultMaxHold is how long incoming messages wait behind a gap, when
	// Config.MaxHold is zero, before they are shown anyway.
	DefaultMaxHold = 10 * time.Minute
	// DefaultLimit is the limit of History, HistoryBefore and Search when
	// theirs is zero or less.
	DefaultLimit = 100
)

// Link is the chat data channel of the current session with a peer.
// Send must not block for long (pion's DataChannel.Send queues). Links
// are compared with == by Detach, so a Link's dynamic type must be
// comparable (a pointer, or a struct of pointers).
type Link interface {
	Send(frame []byte) error
}

// Config configures an Engine.
type Config struct {
	// Path is the history file (chat.db in the profile). Required.
	Path string
	// Key is the 32-byte key the history is sealed with. Required.
	Key []byte
	// Self is this user's name. Required.
	Self string
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger, if nil, discards.
	Logger *slog.Logger
	// OnEvent receives the engine's events, one at a time, in order, on a
	// goroutine of the engine and with no lock held: it may call the
	// engine, but not Close. If nil, events are dropped.
	OnEvent func(Event)
	// Retry is how long an unacknowledged message waits before it is sent
	// again; the wait doubles at every try up to MaxRetry. If zero,
	// DefaultRetry.
	Retry time.Duration
	// MaxHold is how long incoming messages wait for an earlier one that
	// is missing before they are shown anyway. If zero, DefaultMaxHold;
	// if negative, they wait for ever.
	MaxHold time.Duration
}

func (c *Config) validate() error {
	switch {
	case c.Path == "":
		return errors.New("chat: Config.Path is empty")
	case len(c.Key) != 32:
		return fmt.Errorf("chat: Config.Key of %d bytes, want 32", len(c.Key))
	case c.Retry < 0:
		return fmt.Errorf("chat: Config.Retry %v is negative", c.Retry)
	}
	if err := checkPeer(c.Self); err != nil {
		return fmt.Errorf("chat: Config.Self: %w", err)
	}
	return nil
}

// Engine is the chat of one user: the history on disk, delivery of
// outgoing messages over the peers' links, and the order of incoming
// ones. Its methods are safe for concurrent use.
type Engine struct {
	cfg  Config
	log  *slog.Logger
	st   *store
	stop chan struct{}
	wake chan struct{} // the dispatcher's, buffered 1
	wg   sync.WaitGroup

	mu     sync.Mutex // guards the fields below, and every write to st
	closed bool
	peers  map[string]*peer
	pos    int64   // the highest pos given
	events []Event // not yet dispatched
}

// peer is the state of one conversation.
type peer struct {
	name    string
	saved   bool   // has a peers row
	outNext uint64 // the seq of the next message to the peer
	inNext  uint64 // every seq from the peer below it is shown
	pending []*outMsg
	link    Link

	held      int       // incoming messages held behind a gap
	heldSince time.Time // since when the gap has not moved

	typingOut  bool
	typingSent time.Time
	typingIn   bool
	typingEnds time.Time
}

// outMsg is an outgoing message not yet delivered.
type outMsg struct {
	msg      Message
	sent     bool // written to a link in this run: state Sent
	inFlight bool // written to the current link, awaiting its ack
	due      time.Time
	backoff  time.Duration
}

// floor is the lowest seq to the peer not acknowledged.
func (p *peer) floor() uint64 {
	if len(p.pending) > 0 {
		return p.pending[0].msg.Seq
	}
	return p.outNext
}

// outFrame is a frame to write once the lock is released.
type outFrame struct {
	l Link
	b []byte
}

// Open opens (or creates) the history at cfg.Path and starts the engine:
// its messages pending from before are sent when their peer's link is
// attached.
func Open(cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Retry == 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.MaxHold == 0 {
		cfg.MaxHold = DefaultMaxHold
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx := context.Background()
	st, err := openStore(ctx, cfg.Path, cfg.Key)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:   cfg,
		log:   log.With("component", "chat"),
		st:    st,
		stop:  make(chan struct{}),
		wake:  make(chan struct{}, 1),
		peers: map[string]*peer{},
	}
	if err := e.load(ctx); err != nil {
		st.close()
		return nil, err
	}
	e.wg.Add(2)
	go e.dispatch()
	go e.timers()
	return e, nil
}

// load reads the conversations' state and the pending messages.
func (e *Engine) load(ctx context.Context) error {
	rows, err := e.st.loadPeers(ctx)
	if err != nil {
		return err
	}
	for name, r := range rows {
		e.peers[name] = &peer{name: name, saved: true, outNext: r.outNext, inNext: r.inNext}
	}
	pending, err := e.st.pendingAll(ctx)
	if err != nil {
		return err
	}
	for _, m := range pending {
		p := e.peers[m.Peer]
		if p == nil {
			return fmt.Errorf("%w: a pending message to an unknown peer", ErrCorrupt)
		}
		p.pending = append(p.pending, &outMsg{msg: m, backoff: e.cfg.Retry})
	}
	held, err := e.st.heldPeers(ctx)
	if err != nil {
		return err
	}
	now := e.cfg.Now()
	for _, p := range e.peers {
		if n := held[string(e.st.peerHash(p.name))]; n > 0 {
			p.held, p.heldSince = n, now
		}
	}
	e.pos, err = e.st.maxPos(ctx)
	return err
}

// Close stops the engine: links are dropped, events already queued are
// dispatched, and the history is closed. What is pending stays pending.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	for _, p := range e.peers {
		p.link = nil
	}
	e.mu.Unlock()
	close(e.stop)
	e.wg.Wait()
	return e.st.close()
}

// peerLocked is the conversation with name, made if new.
func (e *Engine) peerLocked(name string) *peer {
	p := e.peers[name]
	if p == nil {
		p = &peer{name: name, outNext: 1, inNext: 1}
		e.peers[name] = p
	}
	return p
}

// emitLocked queues ev for the dispatcher.
func (e *Engine) emitLocked(ev Event) {
	e.events = append(e.events, ev)
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// dispatch hands events to OnEvent, in order, until Close; then the
// ones left.
func (e *Engine) dispatch() {
	defer e.wg.Done()
	for {
		var stopping bool
		select {
		case <-e.wake:
		case <-e.stop:
			stopping = true
		}
		for {
			e.mu.Lock()
			evs := e.events
			e.events = nil
			e.mu.Unlock()
			if len(evs) == 0 {
				break
			}
			if e.cfg.OnEvent != nil {
				for _, ev := range evs {
					e.cfg.OnEvent(ev)
				}
			}
		}
		if stopping {
			return
		}
	}
}

// timers retries unacknowledged messages, ends typing that was not
// refreshed and releases messages held too long.
func (e *Engine) timers() {
	defer e.wg.Done()
	tick := min(max(e.cfg.Retry/2, 5*time.Millisecond), 500*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		var out []outFrame
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return
		}
		now := e.cfg.Now()
		for _, p := range e.peers {
			out = append(out, e.pumpLocked(p, now)...)
			if p.typingIn && !now.Before(p.typingEnds) {
				p.typingIn = false
				e.emitLocked(Typing{Peer: p.name})
			}
			if p.held > 0 && e.cfg.MaxHold > 0 && now.Sub(p.heldSince) >= e.cfg.MaxHold {
				if err := e.releaseAllLocked(p, now); err != nil {
					e.log.Warn("releasing held messages", "peer", p.name, "err", err)
				}
			}
		}
		e.mu.Unlock()
		e.flush(out)
	}
}

// flush writes frames; a link that fails is left to its owner to detach.
func (e *Engine) flush(out []outFrame) {
	for _, f := range out {
		if err := f.l.Send(f.b); err != nil {
			e.log.Debug("chat frame not sent", "err", err)
		}
	}
}

// pumpLocked returns the frames due on p's link: the first Window
// pending messages that are not on the wire yet or whose retry is due.
func (e *Engine) pumpLocked(p *peer, now time.Time) []outFrame {
	if p.link == nil {
		return nil
	}
	var out []outFrame
	floor := p.floor()
	for _, o := range p.pending[:min(len(p.pending), Window)] {
		if o.inFlight && now.Before(o.due) {
			continue
		}
		if o.inFlight {
			o.backoff = min(2*o.backoff, MaxRetry)
		}
		f := Frame{Kind: KindMessage, ID: o.msg.ID, Seq: o.msg.Seq, Floor: floor, Time: o.msg.Time, Text: o.msg.Text}
		b, err := f.Encode()
		if err != nil {
			e.log.Error("a pending message does not encode", "err", err)
			continue
		}
		o.sent, o.inFlight, o.due = true, true, now.Add(o.backoff)
		out = append(out, outFrame{p.link, b})
	}
	return out
}

// Send stores text to peer as pending and writes it to the peer's link
// if one is attached; it is retried until acknowledged (Delivered), also
// after a restart.
func (e *Engine) Send(peerName, text string) (Message, error) {
	if err := checkPeer(peerName); err != nil {
		return Message{}, err
	}
	if err := checkText(text); err != nil {
		return Message{}, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return Message{}, ErrClosed
	}
	p := e.peerLocked(peerName)
	now := e.cfg.Now()
	m := Message{ID: newID(), Peer: peerName, Outgoing: true, Seq: p.outNext, Time: now, Text: text, State: StatePending}
	err := e.tx(func(ctx context.Context, tx *sql.Tx) error {
		if err := e.st.insert(ctx, tx, &m, false, e.pos+1); err != nil {
			return err
		}
		return e.st.savePeer(ctx, tx, peerRow{name: p.name, outNext: p.outNext + 1, inNext: p.inNext})
	})
	if err != nil {
		e.mu.Unlock()
		return Message{}, err
	}
	e.pos++
	p.outNext++
	p.saved = true
	o := &outMsg{msg: m, backoff: e.cfg.Retry}
	p.pending = append(p.pending, o)
	p.typingOut = false // the peer stops showing it at the message
	out := e.pumpLocked(p, now)
	if o.sent {
		m.State = StateSent
	}
	e.mu.Unlock()
	e.flush(out)
	return m, nil
}

// tx runs f in a transaction.
func (e *Engine) tx(f func(context.Context, *sql.Tx) error) error {
	ctx := context.Background()
	tx, err := e.st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	defer tx.Rollback()
	if err := f(ctx, tx); err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	return nil
}

// Attach makes l the peer's chat channel (a session's came up): pending
// messages go out on it at once, in seq order.
func (e *Engine) Attach(peerName string, l Link) {
	if checkPeer(peerName) != nil || l == nil {
		return
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	p := e.peerLocked(peerName)
	p.link = l
	for _, o := range p.pending {
		o.inFlight, o.backoff = false, e.cfg.Retry
	}
	out := e.pumpLocked(p, e.cfg.Now())
	e.mu.Unlock()
	e.flush(out)
}

// Detach drops l as the peer's chat channel (it went down), if it is the
// one attached. The peer's typing ends.
func (e *Engine) Detach(peerName string, l Link) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[peerName]
	if p == nil || p.link == nil || p.link != l {
		return
	}
	p.link = nil
	p.typingOut = false
	if p.typingIn {
		p.typingIn = false
		e.emitLocked(Typing{Peer: p.name})
	}
}

// Receive handles a frame from the peer's chat channel: a message is
// stored (once: a duplicate is only acknowledged again), acknowledged on
// the peer's link once committed, and shown (Received) when every
// earlier one from the peer is; an ack makes messages Delivered; typing
// and app frames become events. A frame that does not decode is an
// error and changes nothing.
func (e *Engine) Receive(peerName string, frame []byte) error {
	if err := checkPeer(peerName); err != nil {
		return err
	}
	f, err := Decode(frame)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	p := e.peerLocked(peerName)
	now := e.cfg.Now()
	var out []outFrame
	switch f.Kind {
	case KindMessage:
		m := Message{ID: f.ID, Seq: f.Seq, Time: f.Time, Text: f.Text}
		if _, err := e.storeIncomingLocked(p, m, f.Floor, now); err != nil {
			e.mu.Unlock()
			return err
		}
		if p.link != nil {
			ack := Frame{Kind: KindAck, Acks: [][16]byte{f.ID}}
			b, _ := ack.Encode()
			out = append(out, outFrame{p.link, b})
		}
	case KindAck:
		if err := e.ackedLocked(p, f.Acks); err != nil {
			e.mu.Unlock()
			return err
		}
		out = e.pumpLocked(p, now)
	case KindTyping:
		if f.On {
			p.typingEnds = now.Add(TypingTimeout)
		}
		if p.typingIn != f.On {
			p.typingIn = f.On
			e.emitLocked(Typing{Peer: p.name, On: f.On})
		}
	case KindApp:
		e.emitLocked(AppFrame{Peer: p.name, Data: bytes.Clone(f.Data)})
	}
	e.mu.Unlock()
	e.flush(out)
	return nil
}

// ReceiveOffline stores a message opened from the mailbox (Unseal), like
// one that came on the chat channel: once (it reports false for a
// duplicate, whichever way the first copy came), and shown in its
// sender's order. m.Floor counts as a message frame's floor. Nothing is
// acknowledged: collecting the mail tells the sender.
func (e *Engine) ReceiveOffline(peerName string, m Message) (bool, error) {
	if err := checkPeer(peerName); err != nil {
		return false, err
	}
	if err := checkMessage(m.Seq, m.Floor, m.Text); err != nil {
		return false, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false, ErrClosed
	}
	m.Offline = true
	dup, err := e.storeIncomingLocked(e.peerLocked(peerName), m, m.Floor, e.cfg.Now())
	return !dup && err == nil, err
}

// storeIncomingLocked commits an incoming message, held, then releases
// what it and floor allow; dup reports a message already stored.
func (e *Engine) storeIncomingLocked(p *peer, m Message, floor uint64, now time.Time) (dup bool, err error) {
	m.Peer, m.Outgoing, m.State, m.Floor = p.name, false, StateReceived, 0
	var rel []Message
	var next uint64
	err = e.tx(func(ctx context.Context, tx *sql.Tx) error {
		if dup, err = e.st.has(ctx, tx, m.ID); err != nil || dup {
			return err
		}
		if err := e.st.insert(ctx, tx, &m, true, 0); err != nil {
			return err
		}
		rel, next, err = e.releaseTx(ctx, tx, p, max(p.inNext, floor), false, &m)
		return err
	})
	if err != nil || dup {
		return dup, err
	}
	if p.held == 0 {
		p.heldSince = now
	}
	p.held++
	e.releasedLocked(p, rel, next, now)
	if p.typingIn {
		p.typingIn = false
		e.emitLocked(Typing{Peer: p.name})
	}
	return false, nil
}

// releaseTx shows the held messages from p that inNext (and all) allow,
// at the next positions; fresh is the message just inserted, which need
// not be read back. It saves p's in_next.
func (e *Engine) releaseTx(ctx context.Context, tx *sql.Tx, p *peer, inNext uint64, all bool, fresh *Message) ([]Message, uint64, error) {
	held, next, err := e.st.releasable(ctx, tx, p.name, inNext, all)
	if err != nil {
		return nil, 0, err
	}
	rel := make([]Message, 0, len(held))
	for i, h := range held {
		if err := e.st.release(ctx, tx, h.id, e.pos+int64(i)+1); err != nil {
			return nil, 0, err
		}
		var m Message
		if fresh != nil && h.id == fresh.ID {
			m = *fresh
		} else if m, err = e.st.message(ctx, tx, h.id); err != nil {
			return nil, 0, err
		}
		rel = append(rel, m)
	}
	if next != p.inNext || !p.saved {
		if err := e.st.savePeer(ctx, tx, peerRow{name: p.name, outNext: p.outNext, inNext: next}); err != nil {
			return nil, 0, err
		}
	}
	return rel, next, nil
}

// releasedLocked applies a committed release to memory and emits it.
func (e *Engine) releasedLocked(p *peer, rel []Message, next uint64, now time.Time) {
	e.pos += int64(len(rel))
	p.saved = true
	if next != p.inNext {
		p.heldSince = now
	}
	p.inNext = next
	p.held = max(p.held-len(rel), 0)
	for _, m := range rel {
		e.emitLocked(Received{Message: m})
	}
}

// releaseAllLocked shows every message held from p: the gap before them
// lasted MaxHold.
func (e *Engine) releaseAllLocked(p *peer, now time.Time) error {
	var rel []Message
	var next uint64
	err := e.tx(func(ctx context.Context, tx *sql.Tx) (err error) {
		rel, next, err = e.releaseTx(ctx, tx, p, p.inNext, true, nil)
		return err
	})
	if err != nil {
		return err
	}
	if len(rel) > 0 {
		e.log.Info("messages shown after waiting for an earlier one", "peer", p.name, "count", len(rel), "missing_from", p.inNext)
	}
	e.releasedLocked(p, rel, next, now)
	p.held = 0
	return nil
}

// ackedLocked marks the acknowledged messages to p delivered.
func (e *Engine) ackedLocked(p *peer, ids [][16]byte) error {
	var acked [][16]byte
	for _, id := range ids {
		if p.pendingIndex(id) >= 0 && !slices.Contains(acked, id) {
			acked = append(acked, id)
		}
	}
	if len(acked) == 0 {
		return nil
	}
	err := e.tx(func(ctx context.Context, tx *sql.Tx) error {
		for _, id := range acked {
			if _, err := e.st.setDelivered(ctx, tx, p.name, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range acked {
		if i := p.pendingIndex(id); i >= 0 {
			p.pending = slices.Delete(p.pending, i, i+1)
		}
		e.emitLocked(Delivered{Peer: p.name, ID: id})
	}
	return nil
}

// pendingIndex is the index of id in p.pending, or -1. Acknowledged
// messages are near the front: they were in the window.
func (p *peer) pendingIndex(id [16]byte) int {
	return slices.IndexFunc(p.pending, func(o *outMsg) bool { return o.msg.ID == id })
}

// MarkDelivered marks the outgoing message id to peer delivered without
// an ack on the chat channel (the ring says the recipient collected
// it). A message that is not pending is left as it is.
func (e *Engine) MarkDelivered(peerName string, id [16]byte) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	p := e.peers[peerName]
	if p == nil {
		e.mu.Unlock()
		return nil
	}
	err := e.ackedLocked(p, [][16]byte{id})
	out := e.pumpLocked(p, e.cfg.Now())
	e.mu.Unlock()
	e.flush(out)
	return err
}

// SendApp writes an app frame with data (1 to MaxApp bytes) to the
// peer's link: ErrNoLink if none is attached. App frames are not stored
// nor retried.
func (e *Engine) SendApp(peerName string, data []byte) error {
	f := Frame{Kind: KindApp, Data: data}
	b, err := f.Encode()
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	var l Link
	if p := e.peers[peerName]; p != nil {
		l = p.link
	}
	e.mu.Unlock()
	if l == nil {
		return fmt.Errorf("%w: %s", ErrNoLink, peerName)
	}
	return l.Send(b)
}

// SetTyping tells the peer whether this user is typing to them, if their
// link is attached. The UI calls it with true at every keystroke (it is
// sent at most every TypingRefresh) and with false when the user stops;
// the peer ends it by itself after TypingTimeout, and at a message.
func (e *Engine) SetTyping(peerName string, on bool) {
	e.mu.Lock()
	p := e.peers[peerName]
	if e.closed || p == nil || p.link == nil {
		e.mu.Unlock()
		return
	}
	now := e.cfg.Now()
	send := on != p.typingOut || (on && now.Sub(p.typingSent) >= TypingRefresh)
	p.typingOut = on
	if on && send {
		p.typingSent = now
	}
	l := p.link
	e.mu.Unlock()
	if send {
		f := Frame{Kind: KindTyping, On: on}
		b, _ := f.Encode()
		e.flush([]outFrame{{l, b}})
	}
}

// Pending returns the messages to peer not yet delivered, in seq order,
// with their Floor.
func (e *Engine) Pending(peerName string) []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[peerName]
	if p == nil {
		return nil
	}
	out := make([]Message, 0, len(p.pending))
	floor := p.floor()
	for _, o := range p.pending {
		m := o.msg
		m.Floor = floor
		if o.sent {
			m.State = StateSent
		}
		out = append(out, m)
	}
	return out
}

// IsPending reports whether the message id to peer is not yet delivered.
func (e *Engine) IsPending(peerName string, id [16]byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.peers[peerName]
	return p != nil && p.pendingIndex(id) >= 0
}

// PendingPeers returns the peers with messages not yet delivered, sorted.
func (e *Engine) PendingPeers() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for name, p := range e.peers {
		if len(p.pending) > 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
