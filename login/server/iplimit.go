package server

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipLimiter keeps one token bucket per client address (per /64 for IPv6,
// since one host is given a whole /64), with a bounded number of entries.
type ipLimiter struct {
	rate  rate.Limit
	burst int
	max   int

	mu      sync.Mutex // guards buckets
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(r rate.Limit, burst, max int) *ipLimiter {
	return &ipLimiter{rate: r, burst: burst, max: max, buckets: make(map[netip.Prefix]*bucket)}
}

// allow takes a token for addr and, when there is none, says how long until
// there is.
func (l *ipLimiter) allow(remoteAddr string, now time.Time) (ok bool, retry time.Duration) {
	key := ipKey(remoteAddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evictLocked(now)
		}
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// evictLocked drops the buckets that are full again (idle long enough), or
// failing that the oldest half, so the map stays bounded under a flood of
// addresses.
func (l *ipLimiter) evictLocked(now time.Time) {
	full := time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.seen) > full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.max {
		return
	}
	n := 0
	for k := range l.buckets { // map order is random: a fair sample to drop
		delete(l.buckets, k)
		if n++; n >= l.max/2 {
			break
		}
	}
}

func ipKey(remoteAddr string) netip.Prefix {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}
