// Package node is a super-peer: the Chord ring, the directory stored on it
// and the TLS transport, put together behind one Run. Dedicated nodes
// (cmd/soitto-node) run it, and a promoted desktop client will run the same
// component.
package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"soitto/bootstrap"
	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/ring"
	"soitto/overlay/search"
	"soitto/overlay/tlsnet"
	"soitto/overlay/wire"
)

// Config configures a Node.
type Config struct {
	// Network is the network file: its CA and bootstrap list. Required.
	Network *bootstrap.Network
	// Certificate is the node certificate (soitto-login node-cert) with its
	// key. Required; it must name Advertise.
	Certificate tls.Certificate
	// Advertise is the node's public "ip:port"; its ring ID is SHA-1 of
	// it. Required.
	Advertise string
	// Ring tunes the Chord maintenance; Self and Transport are filled in.
	Ring ring.Config
	// Replicas is the number of copies of each record besides the
	// primary; if zero, dir.DefaultReplicas.
	Replicas int
	// RejoinInterval is how often a node that is alone retries the
	// bootstrap list, so nodes that start together merge into one ring.
	// If zero, 2 s.
	RejoinInterval time.Duration
	// MaxClients is how many client endpoints may be attached at once;
	// more are redirected to other super-peers. If zero,
	// DefaultMaxClients.
	MaxClients int
	// KeepAlive is how often attached clients are asked to ping. If
	// zero, DefaultKeepAlive.
	KeepAlive time.Duration
	// Search tunes the answers to clients' searches; Ring, Directory,
	// Roots and Logger are filled in.
	Search search.ServerConfig
	// NAT is the node's STUN server and TURN relay, described to
	// clients that ask (NatInfo); nil if it runs neither.
	NAT *NATServices
	// Logger; if nil, slog.Default().
	Logger *slog.Logger
}

// Node is a running super-peer.
type Node struct {
	cfg  Config
	log  *slog.Logger
	self overlay.Node
	net  *tlsnet.Net
	ring *ring.Ring
	dir  *dir.Directory
	srch *search.Server
	m    *metrics

	clients *clients

	mu      sync.Mutex // guards leaving and crashed
	leaving bool
	crashed bool
}

// New checks cfg and builds the node; nothing runs until Run.
func New(cfg Config) (*Node, error) {
	if cfg.Network == nil {
		return nil, errors.New("node: Config.Network is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RejoinInterval == 0 {
		cfg.RejoinInterval = 2 * time.Second
	}
	if cfg.MaxClients == 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.MaxClients < 0 || cfg.KeepAlive < time.Second {
		return nil, errors.New("node: MaxClients must not be negative, KeepAlive at least 1 s")
	}
	if err := bootstrap.CheckHostPort(cfg.Advertise); err != nil {
		return nil, fmt.Errorf("node: advertise address %q: %v", cfg.Advertise, err)
	}
	if len(cfg.Certificate.Certificate) == 0 {
		return nil, errors.New("node: no certificate")
	}
	leaf, err := x509.ParseCertificate(cfg.Certificate.Certificate[0])
	if err != nil {
		return nil, err
	}
	if _, err := ca.VerifyNode(cfg.Network.CAPool(), leaf, time.Now(), cfg.Advertise); err != nil {
		return nil, fmt.Errorf("node: certificate: %w", err)
	}
	n := &Node{cfg: cfg, self: overlay.NewNode(cfg.Advertise), clients: newClients(cfg.MaxClients)}
	n.log = cfg.Logger.With("component", "node", "self", n.self.String())
	n.m = newMetrics(n)
	n.net, err = tlsnet.New(tlsnet.Config{
		Self:          n.self,
		Certificate:   cfg.Certificate,
		Roots:         cfg.Network.CAPool(),
		Handler:       overlay.HandlerFunc(n.handle),
		Logger:        cfg.Logger,
		AcceptClients: true,
		OnClose:       n.linkClosed,
		// Attached clients ping every KeepAlive; three missed pings
		// end the link.
		IdleTimeout: 3 * cfg.KeepAlive,
	})
	if err != nil {
		return nil, err
	}
	rc := cfg.Ring
	rc.Self = n.self
	rc.Transport = n.net
	if rc.Logger == nil {
		rc.Logger = cfg.Logger
	}
	rc.OnChange = func() {
		if n.dir != nil {
			n.dir.Changed()
		}
	}
	if n.ring, err = ring.New(rc); err != nil {
		return nil, err
	}
	n.dir, err = dir.New(dir.Config{
		Ring:      ringAdapter{n.ring, n.m},
		Transport: n.net,
		Roots:     cfg.Network.CAPool(),
		Replicas:  cfg.Replicas,
		Logger:    cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	sc := cfg.Search
	sc.Ring = searchRing{n.ring}
	sc.Directory = n.dir
	sc.Roots = cfg.Network.CAPool()
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	if n.srch, err = search.NewServer(sc); err != nil {
		return nil, err
	}
	return n, nil
}

// Self is the node's place on the ring.
func (n *Node) Self() overlay.Node { return n.self }

// Ring is the node's Chord state.
func (n *Node) Ring() *ring.Ring { return n.ring }

// Directory is the node's share of the directory.
func (n *Node) Directory() *dir.Directory { return n.dir }

// Run serves ln, joins the ring through the network file's bootstrap
// nodes (or starts it when none answers), and keeps the ring and the
// directory maintained until ctx ends. Then it leaves gracefully: it
// hands its records to its successor and tells its neighbours. Run closes
// ln.
func (n *Node) Run(ctx context.Context, ln net.Listener) error {
	serveCtx, stopServe := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := n.net.Serve(serveCtx, ln); err != nil && serveCtx.Err() == nil {
			n.log.Error("serve", "err", err)
		}
	}()
	// Stop serving only after leaving, so the hand-off can still be
	// answered; then wait for everything Serve started.
	defer func() {
		stopServe()
		n.net.Close()
		wg.Wait()
	}()

	n.join(ctx)
	runCtx, stopRun := context.WithCancel(ctx)
	var loops sync.WaitGroup
	loops.Add(3)
	go func() { defer loops.Done(); n.ring.Run(runCtx) }()
	go func() { defer loops.Done(); n.dir.Run(runCtx) }()
	go func() { defer loops.Done(); n.rejoinWhileAlone(runCtx) }()
	<-ctx.Done()
	stopRun()
	loops.Wait()

	n.mu.Lock()
	n.leaving = true
	crashed := n.crashed
	n.mu.Unlock()
	if crashed {
		return nil
	}
	lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.dir.HandOff(lctx); err != nil {
		n.log.Warn("handing records over", "err", err)
	}
	if err := n.ring.Leave(lctx); err != nil {
		n.log.Warn("leaving the ring", "err", err)
	}
	n.log.Info("left the ring")
	return nil
}

// Crash stops the node at once, as a crash or kill -9 would look to the
// rest of the network: every link is closed, nothing is handed over and
// no neighbour is told. Run then returns without leaving. For tests.
func (n *Node) Crash() {
	n.mu.Lock()
	n.crashed = true
	n.mu.Unlock()
	n.net.Close()
}

func (n *Node) others() []string {
	var out []string
	for _, a := range n.cfg.Network.Bootstrap {
		if a != n.self.Addr {
			out = append(out, a)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (n *Node) join(ctx context.Context) {
	if boot := n.others(); len(boot) > 0 {
		jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := n.ring.Join(jctx, boot)
		cancel()
		if err == nil {
			n.log.Info("joined the ring", "successor", n.ring.Successors()[0].String())
			return
		}
		n.log.Info("no bootstrap node answered; starting a ring", "err", err)
	}
	n.ring.Create()
}

// rejoinWhileAlone retries the bootstrap list while the node is its own
// successor: nodes of an empty network that start at once each create a
// ring, and this merges them.
func (n *Node) rejoinWhileAlone(ctx context.Context) {
	t := time.NewTicker(n.cfg.RejoinInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		succ := n.ring.Successors()
		if len(succ) > 0 && succ[0] != n.self {
			continue
		}
		boot := n.others()
		if len(boot) == 0 {
			continue
		}
		jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := n.ring.Join(jctx, boot); err == nil {
			n.log.Info("alone; joined through the bootstrap list", "successor", n.ring.Successors()[0].String())
		}
		cancel()
	}
}

// handle dispatches a request to the ring or the directory. A client
// (a peer with no ring identity) may only put and get, and its requests
// are routed to the responsible nodes on its behalf.
func (n *Node) handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	n.m.requests.Inc()
	n.mu.Lock()
	leaving := n.leaving
	n.mu.Unlock()
	if leaving {
		return nil, wire.Errorf(wire.ErrShuttingDown, "node %s is leaving", n.self.Addr)
	}
	if from.Node.IsZero() {
		return n.handleClient(ctx, from, req)
	}
	switch req.Body.(type) {
	case *wire.Envelope_FindStep, *wire.Envelope_Neighbours, *wire.Envelope_Notify, *wire.Envelope_Ping, *wire.Envelope_Leave:
		return n.ring.Handle(ctx, from, req)
	case *wire.Envelope_Put, *wire.Envelope_Get, *wire.Envelope_Replicate:
		return n.dir.Handle(ctx, from, req)
	}
	if resp, ok, err := n.handleEither(ctx, from, req); ok {
		return resp, err
	}
	return nil, wire.Errorf(wire.ErrBadRequest, "unexpected %T", req.Body)
}

// handleEither answers what clients and ring members may both send;
// ok is false for anything else.
func (n *Node) handleEither(ctx context.Context, from overlay.Peer, req *wire.Envelope) (resp *wire.Envelope, ok bool, err error) {
	switch b := req.Body.(type) {
	case *wire.Envelope_Search:
		resp, err = n.handleSearch(ctx, from, b.Search)
	case *wire.Envelope_Relay:
		resp, err = n.handleRelay(ctx, from, b.Relay)
	case *wire.Envelope_Peers:
		resp = n.handlePeers(b.Peers)
	case *wire.Envelope_NatInfo:
		resp, err = n.handleNatInfo(ctx, from)
	default:
		return nil, false, nil
	}
	return resp, true, err
}

func (n *Node) handleClient(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	switch b := req.Body.(type) {
	case *wire.Envelope_Put:
		if err := n.dir.Put(ctx, b.Put.GetRecord()); err != nil {
			return nil, err
		}
		return &wire.Envelope{Body: &wire.Envelope_Ok{Ok: &wire.Empty{}}}, nil
	case *wire.Envelope_Get:
		if dir.IsListing(b.Get.GetKind(), b.Get.GetName()) {
			return n.listMail(ctx, b.Get.GetName())
		}
		rec, err := n.dir.Get(ctx, b.Get.GetKind(), b.Get.GetName())
		if err != nil {
			return nil, err
		}
		return &wire.Envelope{Body: &wire.Envelope_GetResult{GetResult: &wire.GetResponse{Records: []*wire.Record{rec}}}}, nil
	case *wire.Envelope_Ping:
		return &wire.Envelope{Body: &wire.Envelope_Ok{Ok: &wire.Empty{}}}, nil
	case *wire.Envelope_Attach:
		return n.handleAttach(ctx, from, b.Attach)
	}
	if resp, ok, err := n.handleEither(ctx, from, req); ok {
		return resp, err
	}
	return nil, wire.Errorf(wire.ErrForbidden, "a client may not send %T", req.Body)
}

// listMail answers a client's listing of a mailbox with the header-only
// records of the whole replica set's answers (dir.Directory.List).
func (n *Node) listMail(ctx context.Context, recipient string) (*wire.Envelope, error) {
	hs, err := n.dir.List(ctx, recipient)
	if err != nil {
		return nil, err
	}
	res := &wire.GetResponse{Records: make([]*wire.Record, len(hs))}
	for i, h := range hs {
		res.Records[i] = h.Record()
	}
	return &wire.Envelope{Body: &wire.Envelope_GetResult{GetResult: res}}, nil
}

// ringAdapter gives the directory the small ring interface it needs and
// counts lookups for the metrics.
type ringAdapter struct {
	*ring.Ring
	m *metrics
}

func (a ringAdapter) Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error) {
	res, err := a.Ring.Lookup(ctx, key)
	a.m.lookup(res, err)
	return res.Successors, err
}

func (n *Node) handleSearch(ctx context.Context, from overlay.Peer, req *wire.SearchRequest) (*wire.Envelope, error) {
	n.m.searches.Inc()
	resp, err := n.srch.Handle(ctx, from, req)
	if err != nil {
		return nil, err
	}
	return &wire.Envelope{Body: &wire.Envelope_SearchResult{SearchResult: resp}}, nil
}

// searchRing gives the search server the ring's lookup as a node list.
type searchRing struct{ *ring.Ring }

func (r searchRing) Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error) {
	res, err := r.Ring.Lookup(ctx, key)
	return res.Successors, err
}
