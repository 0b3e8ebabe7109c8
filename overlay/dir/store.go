package dir

import (
	"crypto/x509"
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
	owner string
	until time.Time
}

// Store is the records one node holds, primary and replica alike, keyed
// by kind and name. It checks every record it takes with Verify and keeps
// only the highest sequence number per key. It is safe for concurrent use.
type Store struct {
	roots *x509.CertPool
	lim   Limits

	mu     sync.Mutex // guards recs and owners
	recs   map[recKey]*entry
	owners map[string]int // records held per owner
}

// NewStore returns an empty store that accepts records whose certificates
// chain to roots, within lim.
func NewStore(roots *x509.CertPool, lim Limits) *Store {
	return &Store{roots: roots, lim: lim, recs: map[recKey]*entry{}, owners: map[string]int{}}
}

// Put stores a copy of r if it verifies at now and its seq is higher than
// that of the record held under the same kind and name (else ErrStale).
// A new key is refused with ErrQuota when its owner already has
// Limits.MaxPerOwner records here or the store is full.
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
	if old == nil || old.owner != c.owner {
		if n := s.owners[c.owner]; n >= s.lim.perOwner() {
			return wire.Errorf(wire.ErrQuota, "%q has %d records here, limit %d", c.owner, n, s.lim.perOwner())
		}
	}
	if old == nil && len(s.recs) >= s.lim.records() {
		return wire.Errorf(wire.ErrQuota, "node holds %d records, limit %d", len(s.recs), s.lim.records())
	}
	if old != nil {
		s.forgetOwnerLocked(old.owner)
	}
	s.recs[k] = &entry{rec: cleanCopy(r), key: c.key, owner: c.owner, until: c.until}
	s.owners[c.owner]++
	return nil
}

func (s *Store) forgetOwnerLocked(owner string) {
	if s.owners[owner]--; s.owners[owner] <= 0 {
		delete(s.owners, owner)
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
			s.forgetOwnerLocked(e.owner)
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
	s.forgetOwnerLocked(e.owner)
	return true
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
