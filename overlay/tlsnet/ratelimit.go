package tlsnet

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// minSweep is the number of peers remembered before idle ones are
// forgotten.
const minSweep = 1024

// peerLimits holds one token bucket per certificate name, shared by all
// of a peer's links so that opening more links buys no more requests.
type peerLimits struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex // guards byName, sweepAt
	byName  map[string]*rate.Limiter
	sweepAt int
}

func newPeerLimits(r rate.Limit, burst int, now func() time.Time) *peerLimits {
	return &peerLimits{rate: r, burst: burst, now: now, byName: map[string]*rate.Limiter{}, sweepAt: minSweep}
}

// allow takes a token from name's bucket.
func (p *peerLimits) allow(name string) bool {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	lim := p.byName[name]
	if lim == nil {
		if len(p.byName) >= p.sweepAt {
			p.sweepLocked(now)
		}
		lim = rate.NewLimiter(p.rate, p.burst)
		p.byName[name] = lim
	}
	return lim.AllowN(now, 1)
}

// sweepLocked forgets peers whose bucket is full again: a new bucket
// would be the same.
func (p *peerLimits) sweepLocked(now time.Time) {
	for name, lim := range p.byName {
		if lim.TokensAt(now) >= float64(p.burst) {
			delete(p.byName, name)
		}
	}
	p.sweepAt = max(minSweep, 2*len(p.byName))
}
