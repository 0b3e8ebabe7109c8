package dir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// maxBatch is the most record bytes one ReplicateRequest carries: a frame
// less room for the envelope around it (request ID, body tag and length).
const maxBatch = wire.MaxFrame - 64

// pushParallel bounds how many nodes one repair pushes to at once.
const pushParallel = 8

// Run keeps this node's records in order until ctx ends: every
// RepairInterval, and shortly after Changed, it drops expired records and
// repairs replica sets (see doc.go). Call it once; it returns nil when
// ctx ends.
func (d *Directory) Run(ctx context.Context) error {
	tick := time.NewTicker(d.cfg.RepairInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-d.kick:
			if sleep(ctx, d.changeDelay) != nil {
				return nil
			}
			select { // changes during the delay are covered by this round
			case <-d.kick:
			default:
			}
		}
		d.repair(ctx)
	}
}

// placed is a held record with its replica set as this round sees it.
type placed struct {
	e   entry
	set []overlay.Node // primary first
}

// repair is one round: expire, then push each record where it is
// missing, hand on those this node should no longer hold and drop them
// after the grace period.
func (d *Directory) repair(ctx context.Context) {
	now := d.cfg.Now()
	if n := d.store.Expire(now); n > 0 {
		d.log.Debug("expired records dropped", "records", n)
	}
	self := d.cfg.Ring.Self()
	replicas := d.replicaSet()
	if d.cfg.Ring.Predecessor().IsZero() && len(replicas) > 0 {
		// Just joined, or the predecessor failed: the ring then counts
		// every key as this node's, which would send every record to
		// this node's successors. The next change repairs.
		return
	}
	held := d.store.snapshot()
	// Clockwise from this node, so that the records on one other node's
	// arc come one after the other and share one lookup.
	dist := make(map[overlay.ID]overlay.ID, len(held))
	for _, e := range held {
		dist[e.key] = clockwise(self.ID, e.key)
	}
	slices.SortFunc(held, func(a, b entry) int { return dist[a.key].Cmp(dist[b.key]) })

	var placements []placed
	pushes := map[string][]*wire.Record{}
	nodes := map[string]overlay.Node{}
	var last *placed // the last lookup: its key and the nodes found
	for _, e := range held {
		p := placed{e: e}
		var targets []overlay.Node
		if d.cfg.Ring.Responsible(e.key) {
			p.set = append([]overlay.Node{self}, replicas...)
			targets = replicas
		} else {
			if last != nil && onArc(e.key, last.e.key, last.set[0].ID) {
				p.set = last.set
			} else {
				set, err := d.candidates(ctx, e.key)
				if err != nil {
					d.log.Debug("repair: lookup failed; record kept", "name", e.rec.Name, "err", err)
					continue
				}
				p.set = set
				last = &p
			}
			if p.set[0].Addr == self.Addr {
				continue // the ring has not settled; next round
			}
			targets = p.set[:1] // the primary: it repairs the rest
		}
		placements = append(placements, p)
		for _, t := range targets {
			if !d.held(e.rec, t.Addr) {
				pushes[t.Addr] = append(pushes[t.Addr], e.rec)
				nodes[t.Addr] = t
			}
		}
	}
	d.pushAll(ctx, nodes, pushes)
	d.settle(now, self, held, placements)
}

// pushAll sends each node its records, a few nodes at a time.
func (d *Directory) pushAll(ctx context.Context, nodes map[string]overlay.Node, pushes map[string][]*wire.Record) {
	sem := make(chan struct{}, pushParallel)
	var wg sync.WaitGroup
	for addr, recs := range pushes {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := d.pushTo(ctx, nodes[addr], recs); err != nil {
				d.log.Debug("repair: push failed; next round retries", "err", err)
			}
		})
	}
	wg.Wait()
}

// settle drops the records this node has held outside their replica set
// for the grace period, once their primary has them, and forgets what it
// knew of records no longer held.
func (d *Directory) settle(now time.Time, self overlay.Node, held []entry, placements []placed) {
	d.mu.Lock()
	defer d.mu.Unlock()
	keep := make(map[recKey]bool, len(held))
	for _, e := range held {
		keep[keyOf(e.rec)] = true
	}
	for k := range d.holders {
		if !keep[k] {
			delete(d.holders, k)
		}
	}
	for k := range d.outSince {
		if !keep[k] {
			delete(d.outSince, k)
		}
	}
	for _, p := range placements {
		k := keyOf(p.e.rec)
		// A node that left the set and comes back must be sent the
		// record again.
		if h, ok := d.holders[k]; ok {
			h.addrs = slices.DeleteFunc(h.addrs, func(a string) bool {
				return !slices.ContainsFunc(p.set, func(n overlay.Node) bool { return n.Addr == a })
			})
			d.holders[k] = h
		}
		if slices.ContainsFunc(p.set, func(n overlay.Node) bool { return n.Addr == self.Addr }) {
			delete(d.outSince, k)
			continue
		}
		since, ok := d.outSince[k]
		if !ok {
			d.outSince[k] = now
			continue
		}
		h := d.holders[k]
		if now.Sub(since) >= d.cfg.Grace && h.seq == p.e.rec.Seq && slices.Contains(h.addrs, p.set[0].Addr) {
			d.store.Drop(k.kind, k.name, p.e.rec.Seq)
			delete(d.outSince, k)
			delete(d.holders, k)
		}
	}
}

// HandOff gives every record this node holds to its first successor that
// takes them all: for a graceful leave, after Run has returned and before
// the node leaves the ring. The successor takes over this node's keys and
// its repair spreads them to its replicas. With records and no successor
// to take them it returns an error: they are lost.
func (d *Directory) HandOff(ctx context.Context) error {
	held := d.store.snapshot()
	if len(held) == 0 {
		return nil
	}
	recs := make([]*wire.Record, len(held))
	for i, e := range held {
		recs[i] = e.rec
	}
	self := d.cfg.Ring.Self()
	var errs []error
	var tried []overlay.Node
	for _, n := range d.cfg.Ring.Successors() {
		if n.IsZero() || n.Addr == self.Addr || slices.Contains(tried, n) {
			continue
		}
		tried = append(tried, n)
		err := d.pushTo(ctx, n, recs)
		if err == nil {
			d.log.Info("records handed over", "to", n.String(), "records", len(recs))
			return nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(tried) == 0 {
		return fmt.Errorf("dir: hand-off: no successor to take %d records", len(recs))
	}
	return fmt.Errorf("dir: hand-off of %d records: %w", len(recs), errors.Join(errs...))
}

// pushTo sends recs to n in ReplicateRequests that each fit in a frame.
func (d *Directory) pushTo(ctx context.Context, n overlay.Node, recs []*wire.Record) error {
	for _, b := range batches(recs, maxBatch) {
		req := &wire.Envelope{Body: &wire.Envelope_Replicate{Replicate: &wire.ReplicateRequest{Records: b}}}
		if _, err := d.call(ctx, n, req); err != nil {
			return fmt.Errorf("replicate %d records to %s: %w", len(b), n, err)
		}
		for _, r := range b {
			d.markHeld(r, n.Addr)
		}
	}
	return nil
}

// batches splits recs so that each batch encodes, as a ReplicateRequest,
// to at most limit bytes. A record larger than limit on its own (Limits
// make that impossible) still gets a batch of its own.
func batches(recs []*wire.Record, limit int) [][]*wire.Record {
	var out [][]*wire.Record
	var cur []*wire.Record
	size := 0
	for _, r := range recs {
		n := proto.Size(r)
		n += protowire.SizeTag(1) + protowire.SizeVarint(uint64(n))
		if len(cur) > 0 && size+n > limit {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, r)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// onArc reports whether key lies on [from, to] going clockwise: if a
// lookup of from found to, the same lookup of key would.
func onArc(key, from, to overlay.ID) bool {
	return key == from || key == to || (from != to && overlay.Between(key, from, to))
}

// clockwise is the distance from a to b going clockwise: b − a mod 2^160.
func clockwise(a, b overlay.ID) overlay.ID {
	var out overlay.ID
	borrow := 0
	for i := overlay.IDBytes - 1; i >= 0; i-- {
		v := int(b[i]) - int(a[i]) - borrow
		borrow = 0
		if v < 0 {
			v += 256
			borrow = 1
		}
		out[i] = byte(v)
	}
	return out
}
