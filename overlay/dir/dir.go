package dir

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// DefaultReplicas is how many successors of a record's primary hold a
// copy of it, besides the primary itself.
const DefaultReplicas = 3

// Defaults for the zero fields of Config.
const (
	DefaultRepairInterval = 10 * time.Second
)

const (
	// callTimeout bounds one request to another node.
	callTimeout = 5 * time.Second
	// changeDelay is how long Run waits after Changed before repairing:
	// ring changes come in bursts (a join moves a predecessor, then
	// successor lists one after the other).
	changeDelay = 500 * time.Millisecond
	// putAttempts is how many lookups Put makes while nodes answer
	// ErrNotResponsible (the ring is moving).
	putAttempts = 3
)

// Ring is what the directory needs of the Chord ring. *ring.Ring has all
// of it but Lookup, which returns a ring.Result: wrap it as
//
//	func (a adapter) Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error) {
//		res, err := a.Ring.Lookup(ctx, key)
//		return res.Successors, err
//	}
type Ring interface {
	// Self is this node.
	Self() overlay.Node
	// Predecessor is this node's predecessor; zero if unknown.
	Predecessor() overlay.Node
	// Successors is this node's successor list, nearest first. A node
	// alone may list itself.
	Successors() []overlay.Node
	// Responsible reports whether key lies in (predecessor, self].
	Responsible(key overlay.ID) bool
	// Lookup returns successor(key) followed by the nodes after it (its
	// successor list); at least Replicas+1 of them for a full replica
	// set.
	Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error)
}

// Config configures a Directory.
type Config struct {
	// Ring is this node's ring. Required.
	Ring Ring
	// Transport reaches other nodes. Required. Calls to this node itself
	// never go through it.
	Transport overlay.Transport
	// Roots is the network's CA; records must be signed by users it
	// certified. Required.
	Roots *x509.CertPool
	// Replicas is how many successors of the primary keep a copy of each
	// record, so a record lives on Replicas+1 nodes. If zero,
	// DefaultReplicas.
	Replicas int
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
	// Logger; if nil, slog.Default().
	Logger *slog.Logger
	// RepairInterval is how often Run drops expired records and checks
	// replica sets. If zero, DefaultRepairInterval.
	RepairInterval time.Duration
	// Grace is how long a node keeps a record after it left the record's
	// replica set and handed it on, in case the ring moves back. If zero,
	// 3 × RepairInterval.
	Grace time.Duration
	// Limits bound the records accepted; zero fields take defaults.
	Limits Limits
}

func (c *Config) validate() error {
	switch {
	case c.Ring == nil:
		return errors.New("dir: Config.Ring is nil")
	case c.Transport == nil:
		return errors.New("dir: Config.Transport is nil")
	case c.Roots == nil:
		return errors.New("dir: Config.Roots is nil")
	case c.Replicas < 0:
		return fmt.Errorf("dir: Config.Replicas %d is negative", c.Replicas)
	case c.RepairInterval < 0:
		return fmt.Errorf("dir: Config.RepairInterval %v is negative", c.RepairInterval)
	case c.Grace < 0:
		return fmt.Errorf("dir: Config.Grace %v is negative", c.Grace)
	}
	return c.Limits.validate()
}

// Directory is one node's part of the directory: the records it holds,
// the requests other nodes send it, and the client side of Put and Get.
type Directory struct {
	cfg         Config
	log         *slog.Logger
	store       *Store
	kick        chan struct{} // Changed's signal to Run; capacity 1
	changeDelay time.Duration

	mu sync.Mutex // guards holders and outSince
	// holders is, per record, the nodes known to hold its current seq:
	// those it was pushed to and those that pushed it here.
	holders map[recKey]holders
	// outSince is when a record was first seen held here while this node
	// is not in its replica set.
	outSince map[recKey]time.Time
}

type holders struct {
	seq   uint64
	addrs []string
}

// New checks cfg and returns a Directory with an empty store. Nothing
// runs until Run.
func New(cfg Config) (*Directory, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = DefaultReplicas
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RepairInterval == 0 {
		cfg.RepairInterval = DefaultRepairInterval
	}
	if cfg.Grace == 0 {
		cfg.Grace = 3 * cfg.RepairInterval
	}
	return &Directory{
		cfg:         cfg,
		log:         cfg.Logger.With("component", "dir", "self", cfg.Ring.Self().String()),
		store:       NewStore(cfg.Roots, cfg.Limits),
		kick:        make(chan struct{}, 1),
		changeDelay: changeDelay,
		holders:     map[recKey]holders{},
		outSince:    map[recKey]time.Time{},
	}, nil
}

// Len is the number of records this node holds, primary and replica.
func (d *Directory) Len() int { return d.store.Len() }

// Changed tells the directory that the predecessor or successors changed;
// Run repairs replica sets shortly after. It never blocks; the ring calls
// it from its OnChange hook.
func (d *Directory) Changed() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Handle answers the directory's requests from other nodes: Put, Get and
// Replicate. A Get that IsListing is answered with this node's listing
// of the mailbox (Store.List).
func (d *Directory) Handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	switch b := req.GetBody().(type) {
	case *wire.Envelope_Put:
		return d.handlePut(ctx, from, b.Put)
	case *wire.Envelope_Get:
		return d.handleGet(b.Get), nil
	case *wire.Envelope_Replicate:
		return d.handleReplicate(from, b.Replicate)
	}
	return nil, wire.Errorf(wire.ErrBadRequest, "directory: unexpected %T", req.GetBody())
}

func okEnvelope() *wire.Envelope { return &wire.Envelope{Body: &wire.Envelope_Ok{Ok: &wire.Empty{}}} }

func (d *Directory) handlePut(ctx context.Context, from overlay.Peer, p *wire.PutRequest) (*wire.Envelope, error) {
	rec := p.GetRecord()
	if rec == nil {
		return nil, wire.Errorf(wire.ErrBadRequest, "put without a record")
	}
	if p.Replica {
		if from.Node.IsZero() {
			return nil, wire.Errorf(wire.ErrForbidden, "only ring members send replicas")
		}
	} else if key := RingKey(rec.Kind, rec.Name); !d.cfg.Ring.Responsible(key) {
		return nil, wire.Errorf(wire.ErrNotResponsible, "key %s of %q is not in (%s, %s]",
			key, rec.Name, d.cfg.Ring.Predecessor(), d.cfg.Ring.Self())
	}
	if err := d.store.Put(rec, d.cfg.Now()); err != nil {
		return nil, err
	}
	if p.Replica {
		d.markHeld(rec, from.Node.Addr)
	} else {
		d.forward(ctx, cleanCopy(rec))
	}
	return okEnvelope(), nil
}

func (d *Directory) handleGet(g *wire.GetRequest) *wire.Envelope {
	res := &wire.GetResponse{}
	if IsListing(g.GetKind(), g.GetName()) {
		res.Records = d.store.List(g.GetName(), d.cfg.Now())
	} else if rec := d.store.Get(g.GetKind(), g.GetName(), d.cfg.Now()); rec != nil {
		res.Records = []*wire.Record{rec}
	}
	return &wire.Envelope{Body: &wire.Envelope_GetResult{GetResult: res}}
}

func (d *Directory) handleReplicate(from overlay.Peer, r *wire.ReplicateRequest) (*wire.Envelope, error) {
	if from.Node.IsZero() {
		return nil, wire.Errorf(wire.ErrForbidden, "only ring members replicate")
	}
	now := d.cfg.Now()
	stored, refused := 0, 0
	primary := false // stored a record this node is primary for
	for _, rec := range r.GetRecords() {
		switch err := d.store.Put(rec, now); {
		case err == nil:
			stored++
			d.markHeld(rec, from.Node.Addr)
			primary = primary || d.cfg.Ring.Responsible(RingKey(rec.Kind, rec.Name))
		case errors.Is(err, wire.ErrStale):
		default:
			refused++
			d.log.Debug("replicated record refused", "from", from.Node.String(), "err", err)
		}
	}
	if refused > 0 {
		d.log.Info("replicated records refused", "from", from.Node.String(), "refused", refused, "stored", stored)
	}
	if primary {
		// New records to pass on to this node's replicas: a joining
		// node gets its arc's records this way from the old primary.
		d.Changed()
	}
	return okEnvelope(), nil
}

// forward sends a record this node just stored as primary to its replica
// set, in parallel, and waits for the answers (each bounded by
// callTimeout). Failures are left to repair.
func (d *Directory) forward(ctx context.Context, rec *wire.Record) {
	var wg sync.WaitGroup
	for _, n := range d.replicaSet() {
		wg.Go(func() {
			req := &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: rec, Replica: true}}}
			if _, err := d.call(ctx, n, req); err != nil && !errors.Is(err, wire.ErrStale) {
				d.log.Debug("forwarding to replica", "to", n.String(), "name", rec.Name, "err", err)
				return
			}
			d.markHeld(rec, n.Addr)
		})
	}
	wg.Wait()
}

// call sends req to n, or handles it here if n is this node.
func (d *Directory) call(ctx context.Context, n overlay.Node, req *wire.Envelope) (*wire.Envelope, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if self := d.cfg.Ring.Self(); n.Addr == self.Addr {
		return d.Handle(ctx, overlay.Peer{Node: self}, req)
	}
	return d.cfg.Transport.Call(ctx, n.Addr, req)
}

// replicaSet is the first Replicas distinct successors other than this
// node: where records it is primary for belong besides itself.
func (d *Directory) replicaSet() []overlay.Node {
	self := d.cfg.Ring.Self()
	var out []overlay.Node
	for _, n := range d.cfg.Ring.Successors() {
		if len(out) == d.cfg.Replicas {
			break
		}
		if n.IsZero() || n.Addr == self.Addr || slices.Contains(out, n) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// markHeld records that the node at addr holds rec's seq.
func (d *Directory) markHeld(rec *wire.Record, addr string) {
	k := keyOf(rec)
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.holders[k]
	switch {
	case h.seq > rec.Seq:
		return // a newer seq is already known
	case h.seq < rec.Seq:
		h = holders{seq: rec.Seq}
	}
	if !slices.Contains(h.addrs, addr) {
		h.addrs = append(h.addrs, addr)
	}
	d.holders[k] = h
}

// held reports whether the node at addr is known to hold rec's seq.
func (d *Directory) held(rec *wire.Record, addr string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.holders[keyOf(rec)]
	return h.seq == rec.Seq && slices.Contains(h.addrs, addr)
}

// Local returns a copy of the record this node holds under kind and name
// (as primary or replica), or nil; it asks no one.
func (d *Directory) Local(kind, name string) *wire.Record {
	return d.store.Get(kind, name, d.cfg.Now())
}
