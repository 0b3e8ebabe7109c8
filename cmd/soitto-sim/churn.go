package main

import (
	"context"
	"math"
	"time"
)

// churnRow is one line of the churn table.
type churnRow struct {
	rate           float64 // membership events per second
	joins, departs int
	lookups        int
	failedPct      float64 // lookups that erred or found the wrong node
	liveFailedPct  float64 // lookups whose first live node was not the successor
	erredPct       float64 // of which erred outright
	hopsMean, msgs float64
	endN           int
}

// churn runs Chord's experiment of its Fig. 12 (SIGCOMM 2001 §6.4): on a
// ring of n nodes, membership events arrive as a Poisson process of rate
// events per second, each a join (through a random live node) or a
// departure (a crash, or with probability o.gracefulFrac a graceful
// leave) with equal probability, while maintenance runs on its default
// periods and lookups for random keys from random nodes are issued at
// o.lookupRate per second. A lookup fails if it errs or its successor is
// not the true one at that moment.
func churn(ctx context.Context, o *options, n int, rate float64) (churnRow, error) {
	row := churnRow{rate: rate}
	var hops, msgs []int
	for _, seed := range o.seeds {
		c, err := build(ctx, o, n, seed)
		if err != nil {
			return row, err
		}
		k := newClock(c, seed)
		var failed, liveFailed, erred int
		lookupCarry := 0.0
		k.Advance(ctx, o.churnFor, func(time.Duration) bool {
			for range poisson(k, rate*tick.Seconds()) {
				if k.rnd.IntN(2) == 0 {
					if _, err := c.Join(ctx); err == nil {
						row.joins++
					}
					continue
				}
				if c.Len() <= 2 {
					continue
				}
				victim := c.Random().Self().Addr
				if k.rnd.Float64() < o.gracefulFrac {
					c.Leave(ctx, victim)
				} else {
					c.Crash(victim)
				}
				row.departs++
			}
			lookupCarry += o.lookupRate * tick.Seconds()
			count := int(lookupCarry)
			lookupCarry -= float64(count)
			for _, s := range lookups(ctx, c, count, 1) {
				row.lookups++
				hops = append(hops, s.res.Hops)
				msgs = append(msgs, s.res.Messages)
				if !s.okLive {
					liveFailed++
				}
				if !s.ok {
					failed++
					if s.err != nil && len(s.res.Successors) == 0 {
						erred++
					}
				}
			}
			return true
		})
		row.failedPct += float64(failed)
		row.erredPct += float64(erred)
		row.liveFailedPct += float64(liveFailed)
		row.endN += c.Len()
		o.logf("churn N=%d R=%g/s: %d lookups, %d failed", n, rate, row.lookups, failed)
	}
	if row.lookups > 0 {
		row.failedPct = 100 * row.failedPct / float64(row.lookups)
		row.erredPct = 100 * row.erredPct / float64(row.lookups)
		row.liveFailedPct = 100 * row.liveFailedPct / float64(row.lookups)
	}
	row.endN /= len(o.seeds)
	row.hopsMean, row.msgs = mean(hops), mean(msgs)
	return row, nil
}

// poisson draws from a Poisson distribution of mean lambda (Knuth's
// method; lambda here is small).
func poisson(k *clock, lambda float64) int {
	l, n, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= k.rnd.Float64()
		if p <= l {
			return n
		}
		n++
	}
}
