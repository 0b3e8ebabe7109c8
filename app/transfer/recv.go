package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"
)

// PartSuffix ends the name of a file being received.
const PartSuffix = ".soitto-part"

// incoming is a transfer this side receives.
type incoming struct {
	m     *Manager
	user  string
	offer Offer

	mu       sync.Mutex // guards the fields below
	seq      int
	state    State
	ended    bool
	accepted bool
	st       inState // valid once accepted
	peer     Peer
	ch       Channel  // the open data channel, if any
	f        *os.File // the part file while a channel is open
	hashes   []byte   // the chunk hash list, once fetched and checked
	list     []byte   // the hash list while it arrives
	cur      int      // chunk arriving, or -1
	curOff   int64
	live     bool      // cur is being fed to fileH too
	snap     []byte    // fileH before cur, to undo a bad chunk
	chunkH   hash.Hash // of cur
	fileH    hash.Hash // of chunks [0, st.Hashed)
	retries  map[int]int
	done     int64
	dirty    bool // st changed since saved
	savedAt  int64
	meter    meter
	rbuf     []byte // catch-up reads
	final    string // the file's path once done
}

func newIncoming(m *Manager, p Peer, o Offer) *incoming {
	return &incoming{m: m, user: p.User(), offer: o, peer: p, state: StateOffered, seq: m.nextSeq(), cur: -1}
}

func (m *Manager) loadIncoming(id string) (*incoming, error) {
	if !validID(id) {
		return nil, fmt.Errorf("transfer: %q is not a transfer ID", clip(id))
	}
	b, err := readLimited(m.statePath("in", id, ".json"))
	if err != nil {
		return nil, err
	}
	st, err := decodeInState(b)
	if err != nil {
		return nil, err
	}
	o := st.Offer.offer()
	if o.ID != id {
		return nil, fmt.Errorf("transfer: state for %s in the file of %s", o.ID, id)
	}
	t := &incoming{m: m, user: st.User, offer: o, st: st, state: StatePaused, accepted: true, seq: m.nextSeq(), cur: -1}
	if _, err := os.Stat(t.partPath()); err != nil {
		os.Remove(m.statePath("in", id, ".json"))
		os.Remove(m.statePath("in", id, ".hashes"))
		return nil, fmt.Errorf("transfer: part file gone, forgetting the transfer: %w", err)
	}
	t.fileH = sha256.New()
	t.fileH.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.FileHash) // checked by decodeInState
	if list, err := readHashes(m.statePath("in", id, ".hashes"), o); err == nil {
		t.hashes = list
	}
	for i := range o.Chunks() {
		if bit(st.Have, i) {
			t.done += o.chunkLen(i)
		}
	}
	return t, nil
}

// partName is the hidden name the file has while it arrives.
func partName(o Offer) string {
	name := o.Name
	for len(name) > 200 {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	return "." + name + "." + o.ID[:8] + PartSuffix
}

func (t *incoming) partPath() string { return filepath.Join(t.st.Dir, partName(t.offer)) }

func (t *incoming) infoLocked() Info {
	i := Info{ID: t.offer.ID, User: t.user, Name: t.offer.Name, Size: t.offer.Size,
		Done: t.done, Incoming: true, State: t.state, Path: t.final}
	if t.state == StateActive {
		t.meter.fill(&i)
	}
	return i
}

func (t *incoming) accept(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil {
		return fmt.Errorf("transfer: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("transfer: %s is not a folder", abs)
	}
	t.mu.Lock()
	if t.ended || t.accepted {
		s := t.state
		t.mu.Unlock()
		return fmt.Errorf("transfer: %s is %s: %w", t.offer.ID, s, ErrState)
	}
	fh, _ := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	t.st = inState{V: stateVersion, User: t.user, Offer: offerControl(t.offer), Dir: abs,
		Have: make([]byte, (t.offer.Chunks()+7)/8), FileHash: fh}
	f, err := os.OpenFile(t.partPath(), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		err = f.Truncate(t.offer.Size)
		f.Close()
	}
	if err == nil {
		err = writeJSON(t.m.statePath("in", t.offer.ID, ".json"), t.st)
	}
	if err != nil {
		os.Remove(t.partPath())
		t.mu.Unlock()
		return fmt.Errorf("transfer: accepting %s: %w", t.offer.Name, err)
	}
	t.accepted = true
	t.fileH = sha256.New()
	t.state = StatePaused
	p := t.peer
	info := t.infoLocked()
	t.mu.Unlock()
	t.m.ev.emit(Accepted{info})
	t.start(p)
	return nil
}

func (t *incoming) decline() error {
	t.mu.Lock()
	if t.ended || t.accepted {
		s := t.state
		t.mu.Unlock()
		return fmt.Errorf("transfer: %s is %s: %w", t.offer.ID, s, ErrState)
	}
	t.ended = true
	t.state = StateDeclined
	p := t.peer
	info := t.infoLocked()
	t.mu.Unlock()
	t.m.forget(t.offer.ID)
	p.SendControl(Control{Kind: KindDecline, ID: t.offer.ID}.Encode())
	t.m.ev.emit(Declined{info})
	return nil
}

// start (re)starts the data: accept again (the sender may have missed
// it), open the channel, then ask for the hash list or the chunks.
func (t *incoming) start(p Peer) {
	t.mu.Lock()
	if t.ended || !t.accepted {
		t.mu.Unlock()
		return
	}
	t.peer = p
	if t.ch != nil {
		t.ch.Close()
		t.ch = nil
	}
	t.mu.Unlock()
	t.m.wg.Add(1)
	go func() {
		defer t.m.wg.Done()
		if err := t.open(p); err != nil {
			t.m.log.Info("resume failed; waiting for a reconnect", "id", t.offer.ID, "err", err)
		}
	}()
}

func (t *incoming) open(p Peer) error {
	if err := p.SendControl(Control{Kind: KindAccept, ID: t.offer.ID}.Encode()); err != nil {
		return err
	}
	ch, err := p.OpenChannel(labelPrefix + t.offer.ID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	if t.ended || t.peer != p || t.ch != nil || t.m.isClosed() {
		t.mu.Unlock()
		ch.Close()
		return nil
	}
	if t.f == nil {
		f, err := os.OpenFile(t.partPath(), os.O_RDWR, 0)
		if err != nil {
			t.mu.Unlock()
			ch.Close()
			t.fail(fmt.Errorf("transfer: part file: %w", err))
			return err
		}
		t.f = f
	}
	t.ch = ch
	t.dropPartialLocked()
	t.state = StateActive
	t.meter.reset(t.m.cfg.Now(), t.done)
	ch.OnMessage(func(b []byte) { t.onMessage(ch, b) })
	ch.OnClose(func() { t.onClose(ch) })
	var first [][]byte
	if t.hashes == nil {
		t.list = t.list[:0]
		first = [][]byte{encodePair(frameList, 0, uint32(t.offer.Chunks()))}
	} else {
		first = t.requestsLocked()
	}
	t.mu.Unlock()
	for _, m := range first {
		if err := ch.Send(m); err != nil {
			ch.Close()
			return err
		}
	}
	return nil
}

// maxRuns bounds the requests sent at once; past it, one request covers
// everything from the first missing chunk (duplicates are skipped).
const maxRuns = 1024

// requestsLocked asks for every chunk not yet verified.
func (t *incoming) requestsLocked() [][]byte {
	n := t.offer.Chunks()
	var runs [][2]int
	for i := 0; i < n; {
		if bit(t.st.Have, i) {
			i++
			continue
		}
		j := i + 1
		for j < n && !bit(t.st.Have, j) {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	if len(runs) > maxRuns {
		runs = [][2]int{{runs[0][0], n}}
	}
	// The sender serves the last request first.
	var ms [][]byte
	for k := len(runs) - 1; k >= 0; k-- {
		ms = append(ms, encodePair(frameReq, uint32(runs[k][0]), uint32(runs[k][1])))
	}
	return ms
}

func (t *incoming) onClose(ch Channel) {
	t.mu.Lock()
	if t.ch != ch || t.ended {
		t.mu.Unlock()
		return
	}
	t.pauseLocked()
	info := t.infoLocked()
	t.mu.Unlock()
	if !t.m.isClosed() {
		t.m.ev.emit(Paused{Info: info, Err: errChannelClosed})
	}
}

// pauseLocked drops the channel, saves the state and closes the file.
func (t *incoming) pauseLocked() error {
	if t.ch != nil {
		t.ch.Close()
		t.ch = nil
	}
	t.state = StatePaused
	t.dropPartialLocked()
	err := t.saveLocked()
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	return err
}

// saveLocked makes the verified chunks durable, then says so in the
// state file.
func (t *incoming) saveLocked() error {
	if !t.dirty {
		return nil
	}
	if t.f != nil {
		if err := t.f.Sync(); err != nil {
			return err
		}
	}
	fh := t.snap // the chunk arriving is fed in, but not verified yet
	if t.cur < 0 || !t.live {
		var err error
		if fh, err = t.fileH.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
			return err
		}
	}
	t.st.FileHash = fh
	if err := writeJSON(t.m.statePath("in", t.offer.ID, ".json"), t.st); err != nil {
		return err
	}
	t.dirty = false
	t.savedAt = t.m.cfg.Now().UnixNano()
	return nil
}

func (t *incoming) onMessage(ch Channel, b []byte) {
	t.mu.Lock()
	if t.ch != ch || t.ended {
		t.mu.Unlock()
		return
	}
	f, err := decodeFrame(b)
	var out [][]byte
	var finished bool
	if err == nil {
		out, finished, err = t.takeLocked(f)
	}
	if err != nil {
		t.mu.Unlock()
		t.fail(err)
		return
	}
	now := t.m.cfg.Now()
	if t.dirty && now.UnixNano()-t.savedAt >= int64(t.m.cfg.SaveEvery) {
		if err := t.saveLocked(); err != nil {
			t.mu.Unlock()
			t.fail(fmt.Errorf("transfer: saving state: %w", err))
			return
		}
	}
	var ev Event
	if finished {
		ev, err = t.finishLocked()
		t.mu.Unlock()
		if err != nil {
			t.fail(err)
			return
		}
		t.m.ev.emit(ev)
		return
	}
	if f.Kind == frameData && t.meter.update(now, t.done) {
		ev = Progress{t.infoLocked()}
		out = append(out, encodeAck(uint64(t.done)))
	}
	t.mu.Unlock()
	for _, m := range out {
		ch.Send(m)
	}
	if ev != nil {
		t.m.ev.emit(ev)
	}
}

// takeLocked handles one frame; it returns frames to send back and
// whether the file is complete.
func (t *incoming) takeLocked(f frame) ([][]byte, bool, error) {
	o := t.offer
	n := o.Chunks()
	switch f.Kind {
	case frameHashes:
		if t.hashes != nil {
			return nil, false, nil
		}
		if int(f.A) != len(t.list)/32 || len(t.list)+len(f.Payload) > n*32 {
			return nil, false, fmt.Errorf("transfer: hashes from %d out of order or past %d chunks", f.A, n)
		}
		t.list = append(t.list, f.Payload...)
		if len(t.list) < n*32 {
			return nil, false, nil
		}
		if err := checkHashes(o, t.list); err != nil {
			return nil, false, err
		}
		if err := writeFileAtomic(t.m.statePath("in", o.ID, ".hashes"), t.list); err != nil {
			return nil, false, err
		}
		t.hashes, t.list = t.list, nil
		return t.requestsLocked(), false, nil
	case frameData:
		return t.dataLocked(f)
	}
	return nil, false, fmt.Errorf("transfer: frame kind %c from the sender", f.Kind)
}

func (t *incoming) dataLocked(f frame) ([][]byte, bool, error) {
	o := t.offer
	i := int(f.A)
	if t.hashes == nil {
		return nil, false, errors.New("transfer: data before the hash list")
	}
	if i >= o.Chunks() {
		return nil, false, fmt.Errorf("transfer: data for chunk %d of %d", i, o.Chunks())
	}
	if bit(t.st.Have, i) {
		return nil, false, nil // a duplicate
	}
	clen := o.chunkLen(i)
	off := int64(f.B)
	if off == 0 {
		t.dropPartialLocked()
		t.cur, t.curOff = i, 0
		if t.chunkH == nil {
			t.chunkH = sha256.New()
		}
		t.chunkH.Reset()
		t.live = i == t.st.Hashed
		if t.live {
			t.snap, _ = t.fileH.(encoding.BinaryMarshaler).MarshalBinary()
		}
	} else if i != t.cur || off != t.curOff {
		return nil, false, fmt.Errorf("transfer: data for chunk %d at %d, expected chunk %d at %d", i, off, t.cur, t.curOff)
	}
	if off+int64(len(f.Payload)) > clen {
		return nil, false, fmt.Errorf("transfer: data past the end of chunk %d", i)
	}
	if _, err := t.f.WriteAt(f.Payload, int64(i)*o.Chunk+off); err != nil {
		return nil, false, fmt.Errorf("transfer: writing %s: %w", t.f.Name(), err)
	}
	t.chunkH.Write(f.Payload)
	if t.live {
		t.fileH.Write(f.Payload)
	}
	t.curOff += int64(len(f.Payload))
	if t.curOff < clen {
		return nil, false, nil
	}
	t.cur = -1
	var sum [32]byte
	if !bytes.Equal(t.chunkH.Sum(sum[:0]), t.hashes[i*32:i*32+32]) {
		if t.live {
			t.fileH.(encoding.BinaryUnmarshaler).UnmarshalBinary(t.snap)
		}
		if t.retries == nil {
			t.retries = map[int]int{}
		}
		t.retries[i]++
		if t.retries[i] > maxRetries {
			return nil, false, fmt.Errorf("transfer: chunk %d failed its hash %d times: %w", i, t.retries[i], ErrCorrupt)
		}
		t.m.log.Info("chunk failed its hash; fetching it again", "id", o.ID, "chunk", i)
		return [][]byte{encodePair(frameReq, uint32(i), uint32(i+1))}, false, nil
	}
	setBit(t.st.Have, i)
	t.done += clen
	t.dirty = true
	if t.live {
		t.st.Hashed++
	}
	if err := t.catchUpLocked(); err != nil {
		return nil, false, err
	}
	return nil, t.st.Hashed == o.Chunks(), nil
}

// dropPartialLocked forgets the chunk arriving, undoing what it fed the
// whole-file hash.
func (t *incoming) dropPartialLocked() {
	if t.cur >= 0 && t.live {
		t.fileH.(encoding.BinaryUnmarshaler).UnmarshalBinary(t.snap)
	}
	t.cur = -1
}

// catchUpLocked feeds the whole-file hash the verified chunks that
// arrived out of order, reading them back from the part file.
func (t *incoming) catchUpLocked() error {
	o := t.offer
	for t.st.Hashed < o.Chunks() && bit(t.st.Have, t.st.Hashed) {
		n := o.chunkLen(t.st.Hashed)
		if int64(len(t.rbuf)) < n {
			t.rbuf = make([]byte, o.Chunk)
		}
		if _, err := t.f.ReadAt(t.rbuf[:n], int64(t.st.Hashed)*o.Chunk); err != nil {
			return fmt.Errorf("transfer: reading back %s: %w", t.f.Name(), err)
		}
		t.fileH.Write(t.rbuf[:n])
		t.st.Hashed++
	}
	return nil
}

// finishLocked checks the whole file and renames it into place.
func (t *incoming) finishLocked() (Event, error) {
	var sum [32]byte
	if t.fileH.Sum(sum[:0]); sum != t.offer.SHA256 {
		return nil, fmt.Errorf("transfer: %s: the file's SHA-256 does not match the offer: %w", t.offer.Name, ErrCorrupt)
	}
	if err := t.f.Sync(); err != nil {
		return nil, err
	}
	t.f.Close()
	t.f = nil
	final, err := place(t.partPath(), t.st.Dir, t.offer.Name)
	if err != nil {
		return nil, fmt.Errorf("transfer: %s: %w", t.offer.Name, err)
	}
	t.final = final
	ch, p := t.ch, t.peer
	t.ch = nil
	t.ended = true
	t.state = StateDone
	t.removeStateLocked()
	t.m.forget(t.offer.ID)
	info := t.infoLocked()
	// Tell the sender, then close; both asynchronously so the channel's
	// read loop (this goroutine) is not held.
	t.m.wg.Add(1)
	go func() {
		defer t.m.wg.Done()
		ch.Send(encodeAck(uint64(t.offer.Size)))
		p.SendControl(Control{Kind: KindDone, ID: t.offer.ID}.Encode())
		ch.Close()
	}()
	return Done{Info: info, Path: final}, nil
}

func (t *incoming) removeStateLocked() {
	os.Remove(t.m.statePath("in", t.offer.ID, ".json"))
	os.Remove(t.m.statePath("in", t.offer.ID, ".hashes"))
}

// place moves part into dir under name, or "name (1).ext", "name (2).ext"
// … if taken; it never replaces a file.
func place(part, dir, name string) (string, error) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if base == "" {
		base, ext = name, ""
	}
	for i := 0; i < 1000; i++ {
		cand := name
		if i > 0 {
			cand = fmt.Sprintf("%s (%d)%s", base, i, ext)
		}
		path := filepath.Join(dir, cand)
		// link(2) fails if path exists, so nothing is overwritten even if
		// the name is taken meanwhile.
		err := os.Link(part, path)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			// No hard links here (some file systems): check, then rename.
			if _, serr := os.Lstat(path); serr == nil {
				continue
			}
			if err := os.Rename(part, path); err != nil {
				return "", err
			}
		} else {
			os.Remove(part)
		}
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
		return path, nil
	}
	return "", fmt.Errorf("no free name in %s", dir)
}

func (t *incoming) control(p Peer, c Control) error {
	switch c.Kind {
	case KindOffer:
		// The sender offers again after a reconnect: if we accepted,
		// accept again and resume; if we are still asking, wait.
		t.mu.Lock()
		same := t.offer == c.offer()
		acc := t.accepted
		if !acc {
			t.peer = p
		}
		t.mu.Unlock()
		if !same {
			return fmt.Errorf("transfer: a different offer under id %s", c.ID)
		}
		if acc {
			t.resume(p)
		}
		return nil
	case KindResume:
		t.resume(p)
		return nil
	case KindCancel:
		return t.cancel(c.Reason, true)
	}
	return fmt.Errorf("transfer: %s for incoming transfer %s: %w", c.Kind, t.offer.ID, ErrState)
}

// resume restarts the data with p unless it already flows there.
func (t *incoming) resume(p Peer) {
	t.mu.Lock()
	busy := t.peer == p && t.ch != nil
	t.mu.Unlock()
	if !busy {
		t.start(p)
	}
}

func (t *incoming) reconnected(p Peer) {
	t.mu.Lock()
	acc := t.accepted
	if !acc {
		t.peer = p
	}
	t.mu.Unlock()
	if acc {
		t.resume(p)
	}
}

func (t *incoming) endLocked(s State) {
	t.ended = true
	t.state = s
	if t.ch != nil {
		t.ch.Close()
		t.ch = nil
	}
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	if t.accepted {
		os.Remove(t.partPath())
		t.removeStateLocked()
	}
	t.m.forget(t.offer.ID)
}

func (t *incoming) cancel(reason string, byPeer bool) error {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return fmt.Errorf("transfer: %s is %s: %w", t.offer.ID, t.state, ErrState)
	}
	p := t.peer
	t.endLocked(StateCancelled)
	info := t.infoLocked()
	t.mu.Unlock()
	if !byPeer && p != nil {
		p.SendControl(Control{Kind: KindCancel, ID: t.offer.ID, Reason: reason}.Encode())
	}
	t.m.ev.emit(Cancelled{Info: info, ByPeer: byPeer, Reason: reason})
	return nil
}

// fail ends the transfer with err and tells the sender.
func (t *incoming) fail(err error) {
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

// shutdown is Manager.Close for this transfer: pause and keep the state.
func (t *incoming) shutdown() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended || !t.accepted {
		return nil
	}
	return t.pauseLocked()
}
