package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"soitto/overlay"
	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
)

// build grows a converged ring of n nodes on a fresh network: sequential
// joins (ringtest.Cluster.Grow), then stabilize rounds until every
// successor list and predecessor is exact, then a full finger refresh.
func build(ctx context.Context, o *options, n int, seed uint64) (*ringtest.Cluster, error) {
	net := memnet.New(memnet.Options{Rand: rand.New(rand.NewPCG(seed, 7))})
	c := ringtest.New(net, ring.Config{
		Successors:     o.r,
		LookupParallel: o.alpha,
		Logger:         slog.New(slog.DiscardHandler),
	}, seed)
	start := time.Now()
	if err := c.Grow(ctx, n); err != nil {
		return nil, err
	}
	rounds, err := c.Converge(ctx, 2*o.workers, 100)
	if err != nil {
		return nil, fmt.Errorf("N=%d not converged after %d rounds: %w", n, rounds, err)
	}
	o.logf("built N=%d in %v (%d messages, %d rounds to converge)", n, time.Since(start).Round(time.Millisecond), net.Messages(), rounds)
	return c, nil
}

// lookupSample is what one lookup measured.
type lookupSample struct {
	res     ring.Result
	latency time.Duration
	ok      bool // the first node found was the true successor
	okLive  bool // the first live node of the list was: what a caller trying them in turn reaches
	err     error
}

// lookups runs count lookups for random keys from random live nodes,
// parallel at a time, and checks each against the oracle.
func lookups(ctx context.Context, c *ringtest.Cluster, count, parallel int) []lookupSample {
	o := c.Oracle()
	type job struct {
		from *ring.Ring
		key  overlay.ID
	}
	jobs := make([]job, count)
	for i := range jobs {
		jobs[i] = job{c.Random(), c.Key()}
	}
	out := make([]lookupSample, count)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, parallel) {
		wg.Go(func() {
			for i := range next {
				lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				start := time.Now()
				res, err := ringtest.CheckLookup(lctx, o, jobs[i].from, jobs[i].key)
				out[i] = lookupSample{res: res, latency: time.Since(start), err: err}
				want := o.Successors(jobs[i].key)[0]
				// The holder counts; a list that differs further on
				// (replicas not yet updated) does not make a lookup fail.
				out[i].ok = len(res.Successors) > 0 && res.Successors[0] == want
				for _, n := range res.Successors {
					if c.Net.Alive(n.Addr) {
						out[i].okLive = n == want
						break
					}
				}
				cancel()
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// steadyRow is one line of the steady-state table.
type steadyRow struct {
	n              int
	latency        time.Duration
	lookups        int
	okPct          float64
	hopsMean       float64
	hopsP99        int
	halfLog        float64
	msgs           float64
	latP50, latP95 time.Duration
	maint          float64            // maintenance messages per node per second
	maintKinds     map[string]float64 // the same by kind
}

// steady builds a ring of n nodes and measures maintenance cost and
// lookups at each latency.
func steady(ctx context.Context, o *options, n int) ([]steadyRow, error) {
	var rows []steadyRow
	for si, seed := range o.seeds {
		c, err := build(ctx, o, n, seed)
		if err != nil {
			return nil, err
		}
		// Maintenance cost: run the periodic rounds on the converged
		// ring for a while in virtual time.
		net := c.Net
		net.Reset()
		k := newClock(c, seed)
		k.Advance(ctx, o.maintFor, nil)
		secs := o.maintFor.Seconds()
		maint := float64(net.Messages()) / float64(n) / secs
		kinds := map[string]float64{}
		for kind, v := range net.Counts() {
			kinds[kind] = float64(v) / float64(n) / secs
		}
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("N=%d: ring not stable under maintenance: %w", n, err)
		}
		for li, lat := range o.latencies {
			net.SetLatency(lat, 0)
			parallel := 1 // alone on the CPU, so latency is the lookup's own
			if lat > 0 {
				parallel = 16 // sleeping, not computing: overlap them
			}
			samples := lookups(ctx, c, o.lookups, parallel)
			if si == 0 {
				rows = append(rows, steadyRow{n: n, latency: lat, halfLog: halfLog2(n), maintKinds: map[string]float64{}})
			}
			row := &rows[li]
			row.add(samples)
			row.maint += maint / float64(len(o.seeds))
			for kind, v := range kinds {
				row.maintKinds[kind] += v / float64(len(o.seeds))
			}
		}
		net.SetLatency(0, 0)
	}
	return rows, nil
}

// accumulators across seeds live on the row.
func (row *steadyRow) add(samples []lookupSample) {
	var hops []int
	var msgs []int
	var lats []time.Duration
	ok := 0
	for _, s := range samples {
		hops = append(hops, s.res.Hops)
		msgs = append(msgs, s.res.Messages)
		lats = append(lats, s.latency)
		if s.ok {
			ok++
		}
	}
	// Seeds are pooled by averaging the rows' statistics weighted by
	// their lookups.
	w0, w1 := float64(row.lookups), float64(len(samples))
	avg := func(a, b float64) float64 { return (a*w0 + b*w1) / (w0 + w1) }
	row.okPct = avg(row.okPct, 100*float64(ok)/w1)
	row.hopsMean = avg(row.hopsMean, mean(hops))
	row.msgs = avg(row.msgs, mean(msgs))
	row.hopsP99 = max(row.hopsP99, quantile(hops, 0.99))
	row.latP50 = time.Duration(avg(float64(row.latP50), float64(quantile(lats, 0.50))))
	row.latP95 = time.Duration(avg(float64(row.latP95), float64(quantile(lats, 0.95))))
	row.lookups += len(samples)
}
