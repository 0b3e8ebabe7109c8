package transfer

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults for Config's zero values.
const (
	DefaultChunkSize = 1 << 20
	DefaultHighWater = 4 << 20
	DefaultLowWater  = 1 << 20
	DefaultSaveEvery = time.Second
	// maxRetries is how often one chunk may fail its hash before the
	// transfer fails (the sender's file changed, or the path is bad).
	maxRetries = 3
	// progressEvery is the least time between two Progress events (and
	// acks) of one transfer.
	progressEvery = 200 * time.Millisecond
)

// Config configures a Manager.
type Config struct {
	// StateDir holds the state of unfinished transfers (created 0700 if
	// missing). Required.
	StateDir string
	// Now is the clock. If nil, time.Now is used.
	Now func() time.Time
	// Logger gets the manager's logs. If nil, nothing is logged.
	Logger *slog.Logger
	// OnEvent gets every Event, in order, on one goroutine the manager
	// owns. It may call the Manager's methods. If nil, events are dropped.
	OnEvent func(Event)
	// ChunkSize is the hashed unit the sender offers. If zero,
	// DefaultChunkSize; it is doubled for files too large for MaxChunks
	// chunks. Must be within MinChunk..MaxChunk.
	ChunkSize int64
	// HighWater and LowWater are the sender's flow control: it stops
	// sending while the channel buffers more than HighWater bytes and
	// resumes when the buffer drains to LowWater. If zero,
	// DefaultHighWater and DefaultLowWater.
	HighWater, LowWater uint64
	// FrameSize is the largest data frame the sender sends, header
	// included. If zero, MaxFrame. Must be within 1 KiB..MaxFrame.
	FrameSize int
	// SaveEvery is how often a receiver rewrites its state file while
	// data flows (it also does on every pause and on Close). If zero,
	// DefaultSaveEvery. After a crash, at most this much data is fetched
	// again.
	SaveEvery time.Duration
}

func (c *Config) validate() error {
	if c.StateDir == "" {
		return errors.New("transfer: Config.StateDir is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.ChunkSize < MinChunk || c.ChunkSize > MaxChunk {
		return fmt.Errorf("transfer: Config.ChunkSize %d outside %d..%d", c.ChunkSize, MinChunk, MaxChunk)
	}
	if c.HighWater == 0 {
		c.HighWater = DefaultHighWater
	}
	if c.LowWater == 0 {
		c.LowWater = min(DefaultLowWater, c.HighWater/2)
	}
	if c.LowWater > c.HighWater {
		return fmt.Errorf("transfer: Config.LowWater %d above HighWater %d", c.LowWater, c.HighWater)
	}
	if c.FrameSize == 0 {
		c.FrameSize = MaxFrame
	}
	if c.FrameSize < 1<<10 || c.FrameSize > MaxFrame {
		return fmt.Errorf("transfer: Config.FrameSize %d outside 1024..%d", c.FrameSize, MaxFrame)
	}
	if c.SaveEvery <= 0 {
		c.SaveEvery = DefaultSaveEvery
	}
	return nil
}

// Manager runs the file transfers of one user with everyone: offers out
// and in, the data, the state on disk that lets them resume.
type Manager struct {
	cfg Config
	log *slog.Logger
	ev  *eventQueue
	wg  sync.WaitGroup // goroutines serving and opening channels

	mu     sync.Mutex // guards out, in, closed, seq
	out    map[string]*outgoing
	in     map[string]*incoming
	closed bool
	seq    int
}

// NewManager loads the unfinished transfers in cfg.StateDir (they stay
// paused until Reconnected with their user) and returns the manager.
func NewManager(cfg Config) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("transfer: state folder: %w", err)
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	cfg.StateDir = dir
	m := &Manager{
		cfg: cfg,
		log: cfg.Logger.With("component", "transfer"),
		out: map[string]*outgoing{},
		in:  map[string]*incoming{},
	}
	m.ev = newEventQueue(cfg.OnEvent)
	m.load()
	return m, nil
}

// load reads the state folder; a file it cannot use is logged and left.
func (m *Manager) load() {
	ents, err := os.ReadDir(m.cfg.StateDir)
	if err != nil {
		m.log.Warn("reading the state folder", "err", err)
		return
	}
	for _, e := range ents {
		name := e.Name()
		id, ok := strings.CutSuffix(name, ".json")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(id, "in-"):
			t, err := m.loadIncoming(strings.TrimPrefix(id, "in-"))
			if err != nil {
				m.log.Warn("not resuming a transfer", "file", name, "err", err)
				continue
			}
			m.in[t.offer.ID] = t
		case strings.HasPrefix(id, "out-"):
			t, err := m.loadOutgoing(strings.TrimPrefix(id, "out-"))
			if err != nil {
				m.log.Warn("not resuming a transfer", "file", name, "err", err)
				continue
			}
			m.out[t.offer.ID] = t
		}
	}
}

func (m *Manager) statePath(dir, id, ext string) string {
	return filepath.Join(m.cfg.StateDir, dir+"-"+id+ext)
}

func (m *Manager) nextSeq() int {
	m.seq++
	return m.seq
}

// Offer hashes the file at path (reading it once, so it takes as long as
// that; ctx cancels it), keeps the transfer in the state folder and
// offers it to p. If the offer cannot be sent now, the transfer waits and
// is offered again on Reconnected; the error is nil in that case too.
func (m *Manager) Offer(ctx context.Context, p Peer, path string) (Info, error) {
	if err := checkUser(p.User()); err != nil {
		return Info{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Info{}, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return Info{}, fmt.Errorf("transfer: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("transfer: %s is not a regular file", abs)
	}
	name := filepath.Base(abs)
	if err := checkName(name); err != nil {
		return Info{}, err
	}
	chunk := m.cfg.ChunkSize
	for fi.Size() > MaxChunks*chunk {
		if chunk*2 > MaxChunk {
			return Info{}, fmt.Errorf("transfer: %s: %d bytes is more than %d", abs, fi.Size(), int64(MaxChunks)*MaxChunk)
		}
		chunk *= 2
	}
	o := Offer{ID: newID(), Name: name, Size: fi.Size(), Chunk: chunk}
	hashes, err := hashFile(ctx, f, &o)
	if err != nil {
		return Info{}, err
	}
	st := outState{V: stateVersion, User: p.User(), Offer: offerControl(o), Path: abs, ModTime: fi.ModTime().UnixNano()}
	t := &outgoing{m: m, st: st, offer: o, hashes: hashes, state: StateOffered, peer: p}
	if err := t.save(); err != nil {
		return Info{}, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		t.removeState()
		return Info{}, ErrClosed
	}
	t.seq = m.nextSeq()
	m.out[o.ID] = t
	m.mu.Unlock()
	t.mu.Lock()
	info := t.infoLocked()
	t.mu.Unlock()
	if err := p.SendControl(offerControl(o).Encode()); err != nil {
		m.log.Info("offer not sent; it is sent again on reconnect", "id", o.ID, "err", err)
	}
	return info, nil
}

// HandleControl handles a control message from p. The error says in one
// line why a message was refused; the carrier should log it.
func (m *Manager) HandleControl(p Peer, msg []byte) error {
	c, err := DecodeControl(msg)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	out, in := m.out[c.ID], m.in[c.ID]
	if out != nil && out.st.User != p.User() || in != nil && in.user != p.User() {
		m.mu.Unlock()
		return fmt.Errorf("transfer: %s from %s for a transfer with someone else", c.Kind, clip(p.User()))
	}
	if c.Kind == KindOffer && out == nil && in == nil {
		in = newIncoming(m, p, c.offer())
		m.in[c.ID] = in
		m.mu.Unlock()
		in.mu.Lock()
		info := in.infoLocked()
		in.mu.Unlock()
		m.ev.emit(Offered{info})
		return nil
	}
	m.mu.Unlock()
	switch {
	case in != nil:
		return in.control(p, c)
	case out != nil:
		return out.control(p, c)
	case c.Kind == KindResume:
		// We do not know it (finished, cancelled, or lost): say so, so
		// the sender stops waiting.
		p.SendControl(Control{Kind: KindCancel, ID: c.ID, Reason: "unknown transfer"}.Encode())
	}
	return fmt.Errorf("transfer: %s for %s: %w", c.Kind, c.ID, ErrUnknown)
}

// HandleChannel takes an incoming data channel from p if its label is
// one of this package's ("file:<id>") and reports whether it did; a
// channel for a transfer it does not hold is closed.
func (m *Manager) HandleChannel(p Peer, ch Channel) bool {
	id, ok := strings.CutPrefix(ch.Label(), labelPrefix)
	if !ok {
		return false
	}
	m.mu.Lock()
	t := m.out[id]
	closed := m.closed
	m.mu.Unlock()
	if closed || t == nil || t.st.User != p.User() {
		m.log.Info("refused a data channel", "label", clip(ch.Label()), "user", p.User(), "why", "no such transfer to this user")
		ch.Close()
		return true
	}
	t.serve(p, ch)
	return true
}

// Accept accepts the incoming transfer id into the folder dir: the data
// goes to a hidden part file there and is renamed to the offered name
// (or "name (1).ext", …) once it is complete and verified.
func (m *Manager) Accept(id, dir string) error {
	t, err := m.incoming(id)
	if err != nil {
		return err
	}
	return t.accept(dir)
}

// Decline declines the incoming offer id; nothing is written.
func (m *Manager) Decline(id string) error {
	t, err := m.incoming(id)
	if err != nil {
		return err
	}
	return t.decline()
}

// Cancel stops transfer id, either direction, tells the other side, and
// removes its part file and state.
func (m *Manager) Cancel(id string) error {
	m.mu.Lock()
	out, in := m.out[id], m.in[id]
	m.mu.Unlock()
	switch {
	case in != nil:
		return in.cancel("cancelled by the receiver", false)
	case out != nil:
		return out.cancel("cancelled by the sender", false)
	}
	return fmt.Errorf("transfer: %s: %w", id, ErrUnknown)
}

// Reconnected tells the manager that p is a new session with p.User():
// unfinished transfers with that user resume. Both sides should call it.
// The receiver drives a resume: it accepts again and opens the data
// channel, then asks for what it lacks; the sender offers again what is
// unanswered and nudges the receiver (resume) for what was accepted.
func (m *Manager) Reconnected(p Peer) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	var outs []*outgoing
	var ins []*incoming
	for _, t := range m.out {
		if t.st.User == p.User() {
			outs = append(outs, t)
		}
	}
	for _, t := range m.in {
		if t.user == p.User() {
			ins = append(ins, t)
		}
	}
	m.mu.Unlock()
	for _, t := range ins {
		t.reconnected(p)
	}
	for _, t := range outs {
		t.reconnected(p)
	}
}

// Transfers lists the transfers the manager holds, oldest first.
func (m *Manager) Transfers() []Info {
	type item struct {
		seq  int
		info Info
	}
	m.mu.Lock()
	outs := make([]*outgoing, 0, len(m.out))
	ins := make([]*incoming, 0, len(m.in))
	for _, t := range m.out {
		outs = append(outs, t)
	}
	for _, t := range m.in {
		ins = append(ins, t)
	}
	m.mu.Unlock()
	var items []item
	for _, t := range outs {
		t.mu.Lock()
		items = append(items, item{t.seq, t.infoLocked()})
		t.mu.Unlock()
	}
	for _, t := range ins {
		t.mu.Lock()
		items = append(items, item{t.seq, t.infoLocked()})
		t.mu.Unlock()
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.seq, b.seq) })
	infos := make([]Info, len(items))
	for i, it := range items {
		infos[i] = it.info
	}
	return infos
}

// Close pauses every transfer (closing its channel and saving its state,
// so a new Manager on the same StateDir resumes it), waits for what the
// manager started, and delivers the remaining events. The other side is
// not told: to it, this looks like a disconnect.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	outs := make([]*outgoing, 0, len(m.out))
	ins := make([]*incoming, 0, len(m.in))
	for _, t := range m.out {
		outs = append(outs, t)
	}
	for _, t := range m.in {
		ins = append(ins, t)
	}
	m.mu.Unlock()
	var errs []error
	for _, t := range outs {
		t.shutdown()
	}
	for _, t := range ins {
		errs = append(errs, t.shutdown())
	}
	m.wg.Wait()
	m.ev.close()
	return errors.Join(errs...)
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

func (m *Manager) incoming(id string) (*incoming, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	t := m.in[id]
	if t == nil {
		if m.out[id] != nil {
			return nil, fmt.Errorf("transfer: %s is outgoing: %w", id, ErrState)
		}
		return nil, fmt.Errorf("transfer: %s: %w", id, ErrUnknown)
	}
	return t, nil
}

// forget drops a finished transfer.
func (m *Manager) forget(id string) {
	m.mu.Lock()
	delete(m.out, id)
	delete(m.in, id)
	m.mu.Unlock()
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// meter smooths a transfer's rate.
type meter struct {
	at    time.Time
	bytes int64
	rate  float64
	emit  time.Time
}

func (r *meter) reset(now time.Time, done int64) {
	r.at, r.bytes, r.rate = now, done, 0
}

// update feeds the bytes done at now and reports whether a Progress is
// due.
func (r *meter) update(now time.Time, done int64) bool {
	if r.at.IsZero() || done < r.bytes {
		// The start, or a resume that counts from the receiver's
		// verified bytes, which may lie behind what was sent.
		r.reset(now, done)
	}
	if dt := now.Sub(r.at).Seconds(); dt >= 0.25 {
		v := float64(done-r.bytes) / dt
		if r.rate == 0 {
			r.rate = v
		} else {
			r.rate = 0.7*r.rate + 0.3*v
		}
		r.at, r.bytes = now, done
	}
	if now.Sub(r.emit) < progressEvery {
		return false
	}
	r.emit = now
	return true
}

func (r *meter) fill(i *Info) {
	i.Rate = r.rate
	if r.rate > 0 && i.Size > i.Done {
		i.ETA = time.Duration(float64(i.Size-i.Done) / r.rate * float64(time.Second)).Round(time.Second)
	}
}

// eventQueue delivers events in order on its own goroutine, so that
// handlers never run under a transfer's lock.
type eventQueue struct {
	fn   func(Event)
	mu   sync.Mutex // guards q, done
	q    []Event
	done bool
	wake chan struct{}
	exit chan struct{}
}

func newEventQueue(fn func(Event)) *eventQueue {
	e := &eventQueue{fn: fn, wake: make(chan struct{}, 1), exit: make(chan struct{})}
	go e.run()
	return e
}

func (e *eventQueue) emit(ev Event) {
	if e.fn == nil {
		return
	}
	e.mu.Lock()
	if !e.done {
		e.q = append(e.q, ev)
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *eventQueue) run() {
	defer close(e.exit)
	for {
		<-e.wake
		e.mu.Lock()
		q, done := e.q, e.done
		e.q = nil
		e.mu.Unlock()
		for _, ev := range q {
			e.fn(ev)
		}
		if done {
			return
		}
	}
}

// close delivers what is queued and stops.
func (e *eventQueue) close() {
	e.mu.Lock()
	e.done = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	<-e.exit
}
