package dir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// Put stores rec in the directory, from any node. It checks rec with
// Verify, looks up successor(RingKey(rec.Kind, rec.Name)) and sends it a
// PutRequest; that node stores it and forwards it to its replicas before
// it answers.
// While nodes answer ErrNotResponsible (the ring is moving) Put looks up
// again, up to 3 times. If the primary cannot be reached, Put tries its
// successors in order: first as primary, and when one answers
// ErrNotResponsible (it has not noticed yet that the primary is gone) as
// a replica, which repair spreads once that node takes over; this node
// then keeps a copy too until repair has handed it on. A refusal of
// the record itself (ErrBadRecord, ErrStale, ErrQuota, ...) is returned
// at once.
func (d *Directory) Put(ctx context.Context, rec *wire.Record) error {
	if err := Verify(rec, d.cfg.Roots, d.cfg.Now(), d.cfg.Limits); err != nil {
		return err
	}
	key := RingKey(rec.Kind, rec.Name)
	var err error
	for attempt := range putAttempts {
		if attempt > 0 {
			if werr := sleep(ctx, time.Duration(attempt)*100*time.Millisecond); werr != nil {
				err = werr
				break
			}
		}
		var nodes []overlay.Node
		if nodes, err = d.candidates(ctx, key); err != nil {
			continue
		}
		if err = d.putVia(ctx, nodes, rec); !errors.Is(err, wire.ErrNotResponsible) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("dir: put %s/%q: %w", rec.Kind, rec.Name, err)
	}
	return nil
}

// putVia puts rec to its replica set, nodes, primary first.
func (d *Directory) putVia(ctx context.Context, nodes []overlay.Node, rec *wire.Record) error {
	put := func(n overlay.Node, replica bool) error {
		_, err := d.call(ctx, n, &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: rec, Replica: replica}}})
		return err
	}
	err := put(nodes[0], false)
	if err == nil || refused(err) || errors.Is(err, wire.ErrNotResponsible) || ctx.Err() != nil {
		return err
	}
	d.log.Debug("primary unreachable; trying its successors", "primary", nodes[0].String(), "name", rec.Name, "err", err)
	// The putter keeps a copy itself before it sends replica puts: a
	// node that takes a replica put counts its sender as holding the
	// record. Its repair hands the copy on and drops it later.
	local := d.store.Put(rec, d.cfg.Now())
	holds := local == nil || errors.Is(local, wire.ErrStale)
	for _, n := range nodes[1:] {
		e := put(n, false)
		if errors.Is(e, wire.ErrNotResponsible) && holds {
			e = put(n, true)
		}
		switch {
		case e == nil:
			return nil
		case refused(e):
			return e
		}
		err = e
		if ctx.Err() != nil {
			break
		}
	}
	return err
}

// refused reports whether err refuses the record itself, so that trying
// another node is pointless.
func refused(err error) bool {
	for _, s := range []error{wire.ErrBadRecord, wire.ErrExpired, wire.ErrStale, wire.ErrQuota,
		wire.ErrTooLarge, wire.ErrForbidden, wire.ErrBadRequest} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Get finds the record under kind and name. It asks the responsible node
// (itself, when it is), and if that node fails, holds nothing or answers
// with a record that does not verify, asks the rest of the replica set in
// parallel; the highest seq wins. For a mail it always asks the rest too,
// so that a tombstone anywhere in the set wins over a stale mail. Every record is checked with Verify
// and must carry the kind and name asked for. Get returns ErrNotFound if
// a node answered that it holds nothing and none answered with a record;
// if no node answered, the errors (wrapped).
func (d *Directory) Get(ctx context.Context, kind, name string) (*wire.Record, error) {
	if kind == "" || name == "" || len(kind) > MaxKind || len(name) > MaxName {
		return nil, wire.Errorf(wire.ErrBadRequest, "get %q/%q: kind or name empty or too long", kind, name)
	}
	if IsListing(kind, name) {
		return nil, wire.Errorf(wire.ErrBadRequest, "get %q/%q: a mailbox is listed with List", kind, name)
	}
	nodes, err := d.candidates(ctx, RingKey(kind, name))
	if err != nil {
		return nil, fmt.Errorf("dir: get %s/%q: %w", kind, name, err)
	}
	rec, err := d.getFrom(ctx, nodes[0], kind, name)
	if rec != nil && kind != KindMail {
		return rec, nil
	}
	// A mail is read from the whole replica set: a primary that was
	// down while it was collected may still hold the mail, not the
	// tombstone that replaced it elsewhere.
	empty := err == nil
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	type answer struct {
		rec *wire.Record
		err error
	}
	rest := nodes[1:]
	answers := make([]answer, len(rest))
	var wg sync.WaitGroup
	for i, n := range rest {
		wg.Go(func() {
			r, err := d.getFrom(ctx, n, kind, name)
			answers[i] = answer{r, err}
		})
	}
	wg.Wait()
	for _, a := range answers {
		switch {
		case a.rec != nil:
			if rec == nil || a.rec.Seq > rec.Seq {
				rec = a.rec
			}
		case a.err == nil:
			empty = true
		default:
			errs = append(errs, a.err)
		}
	}
	switch {
	case rec != nil:
		return rec, nil
	case empty:
		return nil, wire.Errorf(wire.ErrNotFound, "no %s record for %q", kind, name)
	}
	return nil, fmt.Errorf("dir: get %s/%q: %w", kind, name, errors.Join(errs...))
}

// getFrom asks n for the record under kind and name. It returns the
// newest record n answered with that verifies; nil and nil if n holds
// none; nil and an error if n failed or only answered with records that
// do not verify.
func (d *Directory) getFrom(ctx context.Context, n overlay.Node, kind, name string) (*wire.Record, error) {
	resp, err := d.call(ctx, n, &wire.Envelope{Body: &wire.Envelope_Get{Get: &wire.GetRequest{Kind: kind, Name: name}}})
	if err != nil {
		return nil, err
	}
	res, ok := resp.GetBody().(*wire.Envelope_GetResult)
	if !ok {
		return nil, wire.Errorf(wire.ErrBadRequest, "node %s answered a get with %T", n.Addr, resp.GetBody())
	}
	now := d.cfg.Now()
	var best *wire.Record
	var bad error
	for _, r := range res.GetResult.GetRecords() {
		if r.GetKind() != kind || r.GetName() != name {
			bad = wire.Errorf(wire.ErrBadRecord, "node %s answered %s/%q with a record for %s/%q", n.Addr, kind, name, r.GetKind(), r.GetName())
			continue
		}
		if err := Verify(r, d.cfg.Roots, now, d.cfg.Limits); err != nil {
			bad = fmt.Errorf("node %s answered: %w", n.Addr, err)
			continue
		}
		if best == nil || r.Seq > best.Seq {
			best = r
		}
	}
	switch {
	case best != nil:
		return cleanCopy(best), nil
	case bad != nil:
		d.log.Warn("a node answered with a bad record", "node", n.String(), "err", bad)
		return nil, bad
	}
	return nil, nil
}

// candidates is key's replica set: its primary and the Replicas nodes
// after it. When this node is responsible it needs no lookup.
func (d *Directory) candidates(ctx context.Context, key overlay.ID) ([]overlay.Node, error) {
	if d.cfg.Ring.Responsible(key) {
		return append([]overlay.Node{d.cfg.Ring.Self()}, d.replicaSet()...), nil
	}
	found, err := d.cfg.Ring.Lookup(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("lookup of %s: %w", key, err)
	}
	var nodes []overlay.Node
	for _, n := range found {
		if len(nodes) == d.cfg.Replicas+1 {
			break
		}
		if !n.IsZero() && !slices.Contains(nodes, n) {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("lookup of %s found no node", key)
	}
	return nodes, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
