package tlsnet

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"runtime"
	"sync"

	"soitto/overlay"
)

// Net is a node's (or a client's) end of the overlay: it dials and
// accepts links and carries requests over them. It implements
// overlay.Transport.
type Net struct {
	cfg    Config
	log    *slog.Logger
	limits *peerLimits
	stats  counters

	// handshakes holds a token per server handshake running: at most
	// 4×GOMAXPROCS at once (see accept).
	handshakes chan struct{}

	srvOnce sync.Once
	srvTLS  *tls.Config // shared by every accepted connection

	// ctx is cancelled by Close; dials and links run under it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine Net starts

	mu        sync.Mutex       // guards links, dials, all, listeners, closed
	links     map[string]*link // by peer address: the link Calls to it use
	dials     map[string]*dialing
	all       map[*link]struct{} // every open link
	listeners map[net.Listener]struct{}
	closed    bool
}

var _ overlay.Transport = (*Net)(nil)

// New checks cfg and returns a Net; nothing runs until Serve or Call.
func New(cfg Config) (*Net, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "tlsnet")
	if !cfg.Self.IsZero() {
		log = log.With("self", cfg.Self.Addr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Net{
		handshakes: make(chan struct{}, 4*runtime.GOMAXPROCS(0)),
		cfg:        cfg,
		log:        log,
		limits:     newPeerLimits(cfg.PeerRate, cfg.PeerBurst, cfg.Now),
		ctx:        ctx,
		cancel:     cancel,
		links:      map[string]*link{},
		dials:      map[string]*dialing{},
		all:        map[*link]struct{}{},
		listeners:  map[net.Listener]struct{}{},
	}, nil
}

// Close stops the listeners Serve is using, closes every link (calls
// waiting on them fail with ErrLinkClosed, handlers see their ctx
// cancelled) and waits for every goroutine Net started, handlers
// included. Calls after Close fail with ErrClosed.
func (n *Net) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		n.wg.Wait()
		return nil
	}
	n.closed = true
	n.cancel() // before the listeners, so Serve sees why Accept failed
	var links []*link
	for l := range n.all {
		links = append(links, l)
	}
	for ln := range n.listeners {
		ln.Close()
	}
	n.mu.Unlock()

	// In parallel: a TLS close waits (up to 5 s) to send close_notify to a
	// peer that does not read.
	var wg sync.WaitGroup
	for _, l := range links {
		wg.Go(func() { l.close(ErrClosed, true) })
	}
	wg.Wait()
	n.wg.Wait()
	return nil
}

// goroutine runs f on a goroutine that Close waits for; it reports false,
// and runs nothing, once Net is closed.
func (n *Net) goroutine(f func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.wg.Go(f)
	return true
}

// adopt registers an accepted link and runs its reader on the calling
// goroutine until the link closes. A link from a node becomes the one
// Calls to its address use, unless one exists or is being dialled.
func (n *Net) adopt(l *link) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		l.close(ErrClosed, true)
		return
	}
	n.stats.accepted.Add(1)
	n.all[l] = struct{}{}
	if cur := n.links[l.addr]; l.addr != "" && (cur == nil || cur.dead.Load()) && n.dials[l.addr] == nil {
		n.links[l.addr] = l
	}
	n.mu.Unlock()
	l.log.Debug("link up (accepted)")
	l.readLoop()
}

// forget drops a closing link.
func (n *Net) forget(l *link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.all, l)
	if l.addr != "" && n.links[l.addr] == l {
		delete(n.links, l.addr)
	}
}
