package main

import (
	"context"
	"fmt"
	"time"
)

// failureRow is one line of the mass-failure table.
type failureRow struct {
	n         int
	fraction  float64
	killed    int
	okAfter   float64       // % of lookups right just after the failure
	liveAfter float64       // % whose first live node was right
	errAfter  float64       // % that failed outright (the rest were wrong)
	lookupsOK time.Duration // virtual time until a probe of lookups is all right
	ringOK    time.Duration // virtual time until every pointer is exact
	hopsAfter float64       // mean hops of the lookups just after
}

// failure builds a ring of n nodes, kills a fraction of them at once and
// measures lookups right after, then runs maintenance in virtual time
// until lookups are all correct again and until the ring is exact.
func failure(ctx context.Context, o *options, n int, fraction float64) (failureRow, error) {
	row := failureRow{n: n, fraction: fraction}
	for _, seed := range o.seeds {
		c, err := build(ctx, o, n, seed)
		if err != nil {
			return row, err
		}
		kill := int(fraction * float64(n))
		for range kill {
			c.Crash(c.Random().Self().Addr)
		}
		row.killed += kill
		samples := lookups(ctx, c, o.lookups, 1)
		ok, live, failed := 0, 0, 0
		var hops []int
		for _, s := range samples {
			if s.ok {
				ok++
			}
			if s.okLive {
				live++
			}
			if s.err != nil && len(s.res.Successors) == 0 {
				failed++
			}
			hops = append(hops, s.res.Hops)
		}
		w := float64(len(o.seeds))
		row.okAfter += 100 * float64(ok) / float64(len(samples)) / w
		row.liveAfter += 100 * float64(live) / float64(len(samples)) / w
		row.errAfter += 100 * float64(failed) / float64(len(samples)) / w
		row.hopsAfter += mean(hops) / w

		k := newClock(c, seed)
		var lookupsOK, ringOK time.Duration
		k.Advance(ctx, o.recoverMax, func(now time.Duration) bool {
			if now%(500*time.Millisecond) != 0 {
				return true
			}
			if lookupsOK == 0 && allOK(lookups(ctx, c, o.probe, 1)) {
				lookupsOK = now
			}
			if ringOK == 0 && c.Check() == nil {
				ringOK = now
			}
			return lookupsOK == 0 || ringOK == 0
		})
		if lookupsOK == 0 || ringOK == 0 {
			return row, fmt.Errorf("N=%d, %.0f%% killed: not repaired within %v (lookups at %v, ring at %v): %w", n, 100*fraction, o.recoverMax, lookupsOK, ringOK, c.Check())
		}
		row.lookupsOK += lookupsOK / time.Duration(len(o.seeds))
		row.ringOK += ringOK / time.Duration(len(o.seeds))
		o.logf("N=%d, %.0f%% killed: lookups right after %v, ring exact after %v", n, 100*fraction, lookupsOK, ringOK)
	}
	return row, nil
}

func allOK(samples []lookupSample) bool {
	for _, s := range samples {
		if !s.ok {
			return false
		}
	}
	return true
}
