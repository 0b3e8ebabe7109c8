package dir

import (
	"crypto/x509"
	"strings"
	"sync"
	"time"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// recKey is where a record lives in a Store.
type recKey struct{ kind, name string }

func keyOf(r *wire.Record) recKey { return recKey{r.Kind, r.Name} }

// entry is a held record with what Verify learnt about it. rec is never
// modified once stored; a newer record replaces the entry.
type entry struct {
	rec   *wire.Record
	key   overlay.ID
	owner string // the certificate's username; "" for an anonymous mail
	until time.Time
}

// mailbox is what a Store holds of one recipient's mail.
type mailbox struct {
	mails int                 // mails waiting (seq 1)
	bytes int                 // their payload bytes
	names map[string]struct{} // names held, mails and tombstones
}

// Store is the records one node holds, primary and replica alike, keyed
// by kind and name. It checks every record it takes with Verify and keeps
// only the highest sequence number per key. It is safe for concurrent use.
type Store struct {
	roots *x509.CertPool
	lim   Limits

	mu        sync.Mutex // guards recs, owners, mailboxes, mailRecs and mailBytes
	recs      map[recKey]*entry
	owners    map[string]int      // records held per owner, mail excluded
	mailboxes map[string]*mailbox // by recipient
	mailRecs  int                 // mail records held, mails and tombstones
	mailBytes int                 // payload bytes of the mails held
}

// NewStore returns an empty store that accepts records whose certificates
// chain to roots, within lim.
func NewStore(roots *x509.CertPool, lim Limits) *Store {
	return &Store{roots: roots, lim: lim, recs: map[recKey]*entry{}, owners: map[string]int{}, mailboxes: map[string]*mailbox{}}
}

// Put stores a copy of r if it verifies at now and its seq is higher than
// that of the record held under the same kind and name (else ErrStale).
// A new key is refused with ErrQuota when the store is full. A record
// with an owner is refused with ErrQuota when its owner already has
// Limits.MaxPerOwner records here; a mail (seq 1) when its recipient's
// mailbox is full (Limits.MaxMailPerRecipient, MaxMailBytes) or the node
// holds all the mail it may (MaxMailRecords, MaxMailStoreBytes). A
// tombstone counts only toward MaxRecords and MaxMailRecords, and
// releases what the mail it replaces held.
func (s *Store) Put(r *wire.Record, now time.Time) error {
	c, err := check(r, s.roots, now, s.lim)
	if err != nil {
		return err
	}
	k := keyOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.recs[k]
	if old != nil && r.Seq <= old.rec.Seq {
		return wire.Errorf(wire.ErrStale, "%s/%q: seq %d held, got %d", k.kind, k.name, old.rec.Seq, r.Seq)
	}
	if err := s.quotaLocked(r, c, old); err != nil {
		return err
	}
	if old == nil && len(s.recs) >= s.lim.records() {
		return wire.Errorf(wire.ErrQuota, "node holds %d records, limit %d", len(s.recs), s.lim.records())
	}
	if old != nil {
		s.releaseLocked(old)
	}
	e := &entry{rec: cleanCopy(r), key: c.key, owner: c.owner, until: c.until}
	s.recs[k] = e
	s.holdLocked(e)
	return nil
}

// quotaLocked checks the quotas r, checked as c, must meet to replace
// old (nil for a new key), besides MaxRecords.
func (s *Store) quotaLocked(r *wire.Record, c checked, old *entry) error {
	if r.Kind != KindMail {
		if old == nil || old.owner != c.owner {
			if n := s.owners[c.owner]; n >= s.lim.perOwner() {
				return wire.Errorf(wire.ErrQuota, "%q has %d records here, limit %d", c.owner, n, s.lim.perOwner())
			}
		}
		return nil
	}
	if old == nil && s.mailRecs >= s.lim.mailRecords() {
		return wire.Errorf(wire.ErrQuota, "node holds %d mail records, limit %d", s.mailRecs, s.lim.mailRecords())
	}
	if r.Seq != MailSeq {
		return nil // a tombstone: only the recipient can make one
	}
	// A mail has the lowest seq, so old is nil: nothing to release.
	recipient, _, _ := strings.Cut(r.Name, "/")
	var mb mailbox
	if p := s.mailboxes[recipient]; p != nil {
		mb = *p
	}
	n := len(r.Payload)
	if mb.mails+1 > s.lim.mailPerRecipient() || mb.bytes+n > s.lim.mailBytes() {
		return wire.Errorf(wire.ErrQuota, "mailbox of %q is full (%d mails, %d bytes held here; limit %d mails, %d bytes)",
			recipient, mb.mails, mb.bytes, s.lim.mailPerRecipient(), s.lim.mailBytes())
	}
	if s.mailBytes+n > s.lim.mailStoreBytes() {
		return wire.Errorf(wire.ErrQuota, "node holds %d bytes of mail, limit %d", s.mailBytes, s.lim.mailStoreBytes())
	}
	return nil
}

// holdLocked counts e, just stored, toward its quotas.
func (s *Store) holdLocked(e *entry) {
	if e.rec.Kind != KindMail {
		s.owners[e.owner]++
		return
	}
	recipient, _, _ := strings.Cut(e.rec.Name, "/")
	mb := s.mailboxes[recipient]
	if mb == nil {
		mb = &mailbox{names: map[string]struct{}{}}
		s.mailboxes[recipient] = mb
	}
	mb.names[e.rec.Name] = struct{}{}
	s.mailRecs++
	if e.rec.Seq == MailSeq {
		mb.mails++
		mb.bytes += len(e.rec.Payload)
		s.mailBytes += len(e.rec.Payload)
	}
}

// releaseLocked undoes holdLocked for e, removed or replaced.
func (s *Store) releaseLocked(e *entry) {
	if e.rec.Kind != KindMail {
		if s.owners[e.owner]--; s.owners[e.owner] <= 0 {
			delete(s.owners, e.owner)
		}
		return
	}
	recipient, _, _ := strings.Cut(e.rec.Name, "/")
	mb := s.mailboxes[recipient]
	if mb == nil {
		return
	}
	delete(mb.names, e.rec.Name)
	s.mailRecs--
	if e.rec.Seq == MailSeq {
		mb.mails--
		mb.bytes -= len(e.rec.Payload)
		s.mailBytes -= len(e.rec.Payload)
	}
	if len(mb.names) == 0 {
		delete(s.mailboxes, recipient)
	}
}

// Get returns a copy of the record held under kind and name, or nil if
// there is none or it has expired by now.
func (s *Store) Get(kind, name string, now time.Time) *wire.Record {
	s.mu.Lock()
	e := s.recs[recKey{kind, name}]
	s.mu.Unlock()
	if e == nil || !now.Before(e.until) {
		return nil
	}
	return cleanCopy(e.rec)
}

// Expire drops the records that expired by now (or whose certificate
// did) and returns how many.
func (s *Store) Expire(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.recs {
		if !now.Before(e.until) {
			delete(s.recs, k)
			s.releaseLocked(e)
			n++
		}
	}
	return n
}

// Drop removes the record under kind and name if it still has sequence
// number seq (a newer one that arrived meanwhile is kept). It reports
// whether it removed one.
func (s *Store) Drop(kind, name string, seq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := recKey{kind, name}
	e := s.recs[k]
	if e == nil || e.rec.Seq != seq {
		return false
	}
	delete(s.recs, k)
	s.releaseLocked(e)
	return true
}

// List returns the header-only records (kind, name, seq, expiry) of
// recipient's mailbox that have not expired by now: at most MaxList,
// mails waiting first, then tombstones.
func (s *Store) List(recipient string, now time.Time) []*wire.Record {
	s.mu.Lock()
	var hs []MailHeader
	if mb := s.mailboxes[recipient]; mb != nil {
		for name := range mb.names {
			e := s.recs[recKey{KindMail, name}]
			if e == nil || !now.Before(e.until) {
				continue
			}
			_, id, _ := strings.Cut(name, "/")
			hs = append(hs, MailHeader{Recipient: recipient, ID: id, Seq: e.rec.Seq, Expires: time.Unix(e.rec.Expires, 0)})
		}
	}
	s.mu.Unlock()
	hs = mergeHeaders(hs)
	out := make([]*wire.Record, len(hs))
	for i, h := range hs {
		out[i] = h.Record()
	}
	return out
}

// InArc returns copies of the records whose ring key lies on the arc
// (from, to]; when from == to, all of them.
func (s *Store) InArc(from, to overlay.ID) []*wire.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*wire.Record
	for _, e := range s.recs {
		if overlay.BetweenRightIncl(e.key, from, to) {
			out = append(out, cleanCopy(e.rec))
		}
	}
	return out
}

// Len is the number of records held.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// snapshot returns the held entries. The records are shared, not copied:
// callers only read them.
func (s *Store) snapshot() []entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]entry, 0, len(s.recs))
	for _, e := range s.recs {
		out = append(out, *e)
	}
	return out
}
