package main

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
)

// tick is the resolution of virtual time.
const tick = 100 * time.Millisecond

// clock drives every node's maintenance in virtual time: each node has
// its own Stabilize, FixFingers and CheckPredecessor deadlines, drawn
// with the ring's default periods and ±20% jitter as ring.Run draws them,
// and advancing the clock runs, tick by tick, the rounds that fall due
// (the due nodes of a tick in parallel). Requests themselves take no
// virtual time, so a simulated minute costs only the CPU its messages
// need.
type clock struct {
	c       *ringtest.Cluster
	rnd     *rand.Rand
	now     time.Duration
	timers  map[string]*timers
	workers int
	periods [3]time.Duration // stabilize, fix fingers, check predecessor
	jitter  float64
}

type timers struct {
	r   *ring.Ring
	due [3]time.Duration
}

func newClock(c *ringtest.Cluster, seed uint64) *clock {
	return &clock{
		c:       c,
		rnd:     rand.New(rand.NewPCG(seed, 99)),
		timers:  map[string]*timers{},
		workers: 2 * runtime.GOMAXPROCS(0),
		periods: [3]time.Duration{ring.DefaultStabilize, ring.DefaultFixFingers, ring.DefaultCheckPredecessor},
		jitter:  ring.DefaultJitter,
	}
}

func (k *clock) period(i int) time.Duration {
	return time.Duration(float64(k.periods[i]) * (1 + k.jitter*(2*k.rnd.Float64()-1)))
}

// Advance runs maintenance for d of virtual time, calling each (if not
// nil) after every tick.
func (k *clock) Advance(ctx context.Context, d time.Duration, each func(now time.Duration) bool) {
	end := k.now + d
	for k.now < end {
		k.now += tick
		k.step(ctx)
		if each != nil && !each(k.now) {
			return
		}
	}
}

// step runs the rounds due at k.now.
func (k *clock) step(ctx context.Context) {
	live := k.c.Rings()
	seen := make(map[string]bool, len(live))
	type job struct {
		r     *ring.Ring
		tasks [3]bool
	}
	var jobs []job
	for _, r := range live {
		a := r.Self().Addr
		seen[a] = true
		t := k.timers[a]
		if t == nil || t.r != r { // a new node starts its timers now, at random phases
			t = &timers{r: r}
			for i := range t.due {
				t.due[i] = k.now + time.Duration(k.rnd.Float64()*float64(k.period(i)))
			}
			k.timers[a] = t
		}
		var j job
		due := false
		for i := range t.due {
			if t.due[i] <= k.now {
				j.tasks[i] = true
				t.due[i] = k.now + k.period(i)
				due = true
			}
		}
		if due {
			j.r = r
			jobs = append(jobs, j)
		}
	}
	for a := range k.timers {
		if !seen[a] {
			delete(k.timers, a)
		}
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range k.workers {
		wg.Go(func() {
			for j := range work {
				if j.tasks[0] {
					j.r.Stabilize(ctx)
				}
				if j.tasks[2] {
					j.r.CheckPredecessor(ctx)
				}
				if j.tasks[1] {
					j.r.FixFingers(ctx)
				}
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
}
