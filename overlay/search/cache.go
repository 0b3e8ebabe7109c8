package search

import (
	"crypto/x509"
	"sync"
	"time"

	"soitto/overlay/dir"
	"soitto/overlay/wire"
)

// cache holds presence records a super-peer found on a client's behalf,
// each until the earlier of its expiry and ttl after it was found.
type cache struct {
	size  int
	ttl   time.Duration
	roots *x509.CertPool

	mu   sync.Mutex // guards recs
	recs map[string]cached
}

type cached struct {
	rec   *wire.Record
	until time.Time
}

func newCache(size int, ttl time.Duration, roots *x509.CertPool) *cache {
	return &cache{size: size, ttl: ttl, roots: roots, recs: map[string]cached{}}
}

func (c *cache) get(name string, now time.Time) *wire.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.recs[name]
	if !ok {
		return nil
	}
	if !now.Before(e.until) {
		delete(c.recs, name)
		return nil
	}
	return e.rec
}

// put caches rec if it verifies and is newer than what is held.
func (c *cache) put(rec *wire.Record, now time.Time) {
	if dir.Verify(rec, c.roots, now, dir.Limits{}) != nil || rec.Kind != dir.KindPresence {
		return
	}
	until := now.Add(c.ttl)
	if exp := time.Unix(rec.Expires, 0); exp.Before(until) {
		until = exp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.recs[rec.Name]; ok && old.rec.Seq >= rec.Seq {
		return
	}
	if len(c.recs) >= c.size {
		for k, e := range c.recs { // the expired first; else any one
			if !now.Before(e.until) {
				delete(c.recs, k)
			}
		}
		for k := range c.recs {
			if len(c.recs) < c.size {
				break
			}
			delete(c.recs, k)
		}
	}
	c.recs[rec.Name] = cached{rec: rec, until: until}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recs)
}
