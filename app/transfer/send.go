package transfer

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// outgoing is a transfer this side sends.
type outgoing struct {
	m      *Manager
	offer  Offer
	hashes []byte // the chunk hash list, checked against offer.Root

	mu    sync.Mutex // guards the fields below
	st    outState
	seq   int
	state State
	peer  Peer
	srv   *server // serving the current channel, if any
	done  int64   // bytes the receiver acknowledged
	meter meter
	ended bool // done, failed or cancelled: ignore everything
}

func (m *Manager) loadOutgoing(id string) (*outgoing, error) {
	if !validID(id) {
		return nil, fmt.Errorf("transfer: %q is not a transfer ID", clip(id))
	}
	b, err := readLimited(m.statePath("out", id, ".json"))
	if err != nil {
		return nil, err
	}
	st, err := decodeOutState(b)
	if err != nil {
		return nil, err
	}
	o := st.Offer.offer()
	if o.ID != id {
		return nil, fmt.Errorf("transfer: state for %s in the file of %s", o.ID, id)
	}
	hashes, err := readHashes(m.statePath("out", id, ".hashes"), o)
	if err != nil {
		return nil, err
	}
	t := &outgoing{m: m, st: st, offer: o, hashes: hashes, state: StateOffered, seq: m.nextSeq()}
	if st.Accepted {
		t.state = StatePaused
	}
	return t, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, MaxState+1)
	n, err := f.Read(b)
	if n > MaxState {
		return nil, fmt.Errorf("transfer: %s: more than %d bytes: %w", path, MaxState, ErrTooLarge)
	}
	if err != nil && n == 0 {
		return nil, err
	}
	// A short Read of a regular file is its end.
	return b[:n], nil
}

func (t *outgoing) save() error {
	if err := writeFileAtomic(t.m.statePath("out", t.offer.ID, ".hashes"), t.hashes); err != nil {
		return err
	}
	return writeJSON(t.m.statePath("out", t.offer.ID, ".json"), t.st)
}

func (t *outgoing) removeState() {
	os.Remove(t.m.statePath("out", t.offer.ID, ".json"))
	os.Remove(t.m.statePath("out", t.offer.ID, ".hashes"))
}

func (t *outgoing) infoLocked() Info {
	i := Info{ID: t.offer.ID, User: t.st.User, Name: t.offer.Name, Size: t.offer.Size,
		Done: t.done, State: t.state, Path: t.st.Path}
	if t.state == StateActive {
		t.meter.fill(&i)
	}
	return i
}

func (t *outgoing) control(p Peer, c Control) error {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return nil
	}
	t.peer = p
	switch c.Kind {
	case KindAccept:
		if t.st.Accepted {
			t.mu.Unlock()
			return nil
		}
		t.st.Accepted = true
		t.state = StatePaused // until the receiver's channel arrives
		err := writeJSON(t.m.statePath("out", t.offer.ID, ".json"), t.st)
		info := t.infoLocked()
		t.mu.Unlock()
		t.m.ev.emit(Accepted{info})
		return err
	case KindDecline:
		if t.st.Accepted {
			t.mu.Unlock()
			return fmt.Errorf("transfer: decline of %s after accepting it: %w", t.offer.ID, ErrState)
		}
		t.endLocked(StateDeclined)
		info := t.infoLocked()
		t.mu.Unlock()
		t.m.ev.emit(Declined{info})
		return nil
	case KindCancel:
		t.endLocked(StateCancelled)
		info := t.infoLocked()
		t.mu.Unlock()
		t.m.ev.emit(Cancelled{Info: info, ByPeer: true, Reason: c.Reason})
		return nil
	case KindDone:
		t.done = t.offer.Size
		t.endLocked(StateDone)
		info := t.infoLocked()
		t.mu.Unlock()
		t.m.ev.emit(Done{Info: info, Path: t.st.Path})
		return nil
	}
	t.mu.Unlock()
	return fmt.Errorf("transfer: %s for outgoing transfer %s: %w", c.Kind, t.offer.ID, ErrState)
}

// endLocked finishes the transfer for good: closes its channel, removes
// its state, and forgets it.
func (t *outgoing) endLocked(s State) {
	t.ended = true
	t.state = s
	if t.srv != nil {
		t.srv.stop()
		t.srv = nil
	}
	t.removeState()
	t.m.forget(t.offer.ID)
}

func (t *outgoing) cancel(reason string, byPeer bool) error {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return fmt.Errorf("transfer: %s is %s: %w", t.offer.ID, t.state, ErrState)
	}
	p := t.peer
	t.endLocked(StateCancelled)
	info := t.infoLocked()
	t.mu.Unlock()
	if !byPeer && p != nil { // the receiver that cancelled needs no echo
		p.SendControl(Control{Kind: KindCancel, ID: t.offer.ID, Reason: reason}.Encode())
	}
	t.m.ev.emit(Cancelled{Info: info, ByPeer: byPeer, Reason: reason})
	return nil
}

// fail ends the transfer with err and tells the receiver.
func (t *outgoing) fail(err error) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	p := t.peer
	t.endLocked(StateFailed)
	info := t.infoLocked()
	t.mu.Unlock()
	t.m.log.Warn("transfer failed", "id", t.offer.ID, "err", err)
	if p != nil {
		p.SendControl(Control{Kind: KindCancel, ID: t.offer.ID, Reason: oneLine(err.Error())}.Encode())
	}
	t.m.ev.emit(Failed{Info: info, Err: err})
}

func (t *outgoing) reconnected(p Peer) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.peer = p
	msg := Control{Kind: KindResume, ID: t.offer.ID}
	if !t.st.Accepted {
		msg = offerControl(t.offer)
	}
	t.mu.Unlock()
	if err := p.SendControl(msg.Encode()); err != nil {
		t.m.log.Info("resume not sent", "id", t.offer.ID, "err", err)
	}
}

// shutdown is Manager.Close for this transfer: stop serving, keep state.
func (t *outgoing) shutdown() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.srv != nil {
		t.srv.stop()
		t.srv = nil
	}
}

// serve starts serving ch, the receiver's data channel, replacing any
// earlier one.
func (t *outgoing) serve(p Peer, ch Channel) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		ch.Close()
		return
	}
	t.peer = p
	if t.srv != nil {
		t.srv.stop()
	}
	if !t.st.Accepted {
		// The accept was lost; opening the channel says as much.
		t.st.Accepted = true
		writeJSON(t.m.statePath("out", t.offer.ID, ".json"), t.st)
	}
	s := &server{t: t, ch: ch, wake: make(chan struct{}, 1), low: make(chan struct{}, 1), stopped: make(chan struct{})}
	t.srv = s
	t.state = StateActive
	t.meter.reset(t.m.cfg.Now(), t.done)
	ch.SetBufferedAmountLowThreshold(t.m.cfg.LowWater)
	ch.OnBufferedAmountLow(func() {
		select {
		case s.low <- struct{}{}:
		default:
		}
	})
	ch.OnMessage(s.onMessage)
	ch.OnClose(func() { s.closed() })
	t.m.wg.Add(1)
	go func() {
		defer t.m.wg.Done()
		s.run()
	}()
}

// server answers the receiver's requests on one data channel.
type server struct {
	t       *outgoing
	ch      Channel
	wake    chan struct{} // a request arrived
	low     chan struct{} // the channel's buffer drained
	stopped chan struct{} // closed by stop
	once    sync.Once

	mu    sync.Mutex // guards reqs, lists
	reqs  []span     // chunk ranges, served last first (a re-fetch goes ahead)
	lists []span     // hash list ranges
}

type span struct{ from, to int }

// maxQueued bounds the requests a receiver may have outstanding.
const maxQueued = 4096

func (s *server) stop() {
	s.once.Do(func() {
		close(s.stopped)
		s.ch.Close()
	})
}

// closed: the channel closed (either side). Unless the transfer ended,
// it is paused.
func (s *server) closed() {
	s.stop()
	t := s.t
	t.mu.Lock()
	if t.srv != s || t.ended {
		t.mu.Unlock()
		return
	}
	t.srv = nil
	t.state = StatePaused
	info := t.infoLocked()
	t.mu.Unlock()
	// A receiver that has verified everything closes the channel as it
	// says done on the control path, which may come second: that is no
	// pause to show.
	if !t.m.isClosed() && (info.Size == 0 || info.Done < info.Size) {
		t.m.ev.emit(Paused{Info: info, Err: errChannelClosed})
	}
}

var errChannelClosed = fmt.Errorf("transfer: data channel closed")

func (s *server) onMessage(b []byte) {
	f, err := decodeFrame(b)
	if err == nil {
		err = s.take(f)
	}
	if err != nil {
		s.t.m.log.Info("closing a data channel", "id", s.t.offer.ID, "why", err)
		s.stop()
	}
}

func (s *server) take(f frame) error {
	n := uint32(s.t.offer.Chunks())
	switch f.Kind {
	case frameAck:
		if f.N > uint64(s.t.offer.Size) {
			return fmt.Errorf("transfer: ack of %d bytes of %d", f.N, s.t.offer.Size)
		}
		t := s.t
		t.mu.Lock()
		t.done = int64(f.N)
		emit := t.meter.update(t.m.cfg.Now(), t.done)
		info := t.infoLocked()
		t.mu.Unlock()
		if emit {
			t.m.ev.emit(Progress{info})
		}
		return nil
	case frameReq:
		if f.B > n {
			return fmt.Errorf("transfer: request for chunks [%d, %d) of %d", f.A, f.B, n)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.reqs) >= maxQueued {
			return fmt.Errorf("transfer: more than %d requests queued", maxQueued)
		}
		s.reqs = append(s.reqs, span{int(f.A), int(f.B)})
	case frameList:
		if uint64(f.A)+uint64(f.B) > uint64(n) {
			return fmt.Errorf("transfer: request for hashes [%d, %d) of %d", f.A, uint64(f.A)+uint64(f.B), n)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.lists) >= maxQueued {
			return fmt.Errorf("transfer: more than %d requests queued", maxQueued)
		}
		s.lists = append(s.lists, span{int(f.A), int(f.A + f.B)})
	default:
		return fmt.Errorf("transfer: frame kind %c from the receiver", f.Kind)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// next takes the next piece of work: a hash list range, or one chunk.
func (s *server) next() (list span, chunk int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lists) > 0 {
		list = s.lists[0]
		s.lists = s.lists[1:]
		return list, -1, true
	}
	if len(s.reqs) == 0 {
		return span{}, -1, false
	}
	// Last first, so that a re-fetched chunk goes ahead of a long run;
	// the rest of the run stays where it was.
	i := len(s.reqs) - 1
	r := s.reqs[i]
	if r.from+1 < r.to {
		s.reqs[i].from++
	} else {
		s.reqs = slices.Delete(s.reqs, i, i+1)
	}
	return span{}, r.from, true
}

func (s *server) run() {
	defer s.stop()
	t := s.t
	f, err := os.Open(t.st.Path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && (fi.Size() != t.offer.Size || fi.ModTime().UnixNano() != t.st.ModTime) {
			err = fmt.Errorf("transfer: %s: %w", t.st.Path, ErrChanged)
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		t.fail(err)
		return
	}
	defer f.Close()
	buf := make([]byte, t.m.cfg.FrameSize)
	for {
		list, chunk, ok := s.next()
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-s.stopped:
				return
			}
		}
		if chunk < 0 {
			err = s.sendHashes(buf, list)
		} else {
			err = s.sendChunk(f, buf, chunk)
		}
		if err != nil {
			select {
			case <-s.stopped:
			default:
				t.m.log.Info("data channel broke", "id", t.offer.ID, "err", err)
			}
			return
		}
	}
}

func (s *server) sendHashes(buf []byte, r span) error {
	for i := r.from; i < r.to; i += hashesPerFrame {
		j := min(r.to, i+hashesPerFrame)
		m := append(buf[:0], frameHashes, 0, 0, 0, 0)
		m[1], m[2], m[3], m[4] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		m = append(m, s.t.hashes[i*32:j*32]...)
		if err := s.send(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *server) sendChunk(f *os.File, buf []byte, i int) error {
	o := s.t.offer
	n := o.chunkLen(i)
	base := int64(i) * o.Chunk
	per := int64(len(buf) - dataHeader)
	for off := int64(0); off < n || off == 0; {
		k := min(per, n-off)
		putDataHeader(buf, uint32(i), uint32(off))
		if _, err := f.ReadAt(buf[dataHeader:dataHeader+k], base+off); err != nil {
			err = fmt.Errorf("transfer: reading %s: %w", f.Name(), err)
			s.t.fail(err)
			return err
		}
		if err := s.send(buf[:dataHeader+k]); err != nil {
			return err
		}
		off += k
		if n == 0 {
			break
		}
	}
	return nil
}

// send sends m once the channel's buffer is below the high-water mark
// (pion's data-channels flow-control example).
func (s *server) send(m []byte) error {
	high := s.t.m.cfg.HighWater
	for s.ch.BufferedAmount() > high {
		t := time.NewTimer(100 * time.Millisecond) // in case a low event was missed
		select {
		case <-s.low:
		case <-t.C:
		case <-s.stopped:
			t.Stop()
			return errChannelClosed
		}
		t.Stop()
	}
	select {
	case <-s.stopped:
		return errChannelClosed
	default:
	}
	return s.ch.Send(m)
}
