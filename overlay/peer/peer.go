// Package peer is the ordinary peer's side of the overlay: it attaches
// to one super-peer from the host cache over long-lived TLS, fails over to
// another when that one goes, publishes the user's presence record while
// attached, finds other users (overlay/search) and sends and receives
// signed signals through super-peers (overlay/signal).
//
// The desktop app and soitto-cli both run it through app/.
package peer

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"soitto/bootstrap"
	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/presence"
	"soitto/overlay/search"
	"soitto/overlay/signal"
	"soitto/overlay/tlsnet"
	"soitto/overlay/wire"
)

// Config configures a Peer.
type Config struct {
	// Network is the network file. Required.
	Network *bootstrap.Network
	// Certificate is the user's certificate from the login server, with
	// the identity key. Required.
	Certificate tls.Certificate
	// Hosts is the host cache; if nil, an empty one seeded from the
	// network file. The caller saves it.
	Hosts *bootstrap.HostCache
	// Status to publish first; if zero (Offline), Online.
	Status presence.Status
	// OnSignal receives each signal addressed to the user once, after
	// its signature, time and nonce were checked. It runs on the
	// delivering request's goroutine; return quickly. An error refuses
	// the signal (the sender sees it).
	OnSignal func(*wire.Signal) error
	// OnState is told when the peer attaches (home set) or loses its
	// super-peer (home zero).
	OnState func(home overlay.Node)
	// TTL of published presence; Refresh how often it is republished.
	// If zero, presence.TTL and TTL/2.
	TTL, Refresh time.Duration
	// KeepAlive is how often the link is pinged when the super-peer
	// names no interval. If zero, 15 s.
	KeepAlive time.Duration
	// Receive: take signals (false for one-shot commands such as a
	// search from the command line). Publish: publish presence while
	// attached.
	Receive, Publish bool
	// Logger; if nil, slog.Default().
	Logger *slog.Logger
	// DialTimeout and CallTimeout for the TLS links; if zero, 3 s and
	// 5 s.
	DialTimeout, CallTimeout time.Duration
}

// Peer is a client on the overlay.
type Peer struct {
	cfg      Config
	log      *slog.Logger
	user     string
	key      *ecdsa.PrivateKey
	certDER  []byte
	roots    *x509.CertPool
	net      *tlsnet.Net
	hosts    *bootstrap.HostCache
	verifier *signal.Verifier
	instance [16]byte

	kick chan struct{} // status changed; capacity 1

	mu      sync.Mutex // guards the fields below
	home    overlay.Node
	status  presence.Status
	seq     uint64
	waiters []chan struct{} // closed when attached
}

// New checks cfg and returns a Peer; nothing runs until Run.
func New(cfg Config) (*Peer, error) {
	if cfg.Network == nil {
		return nil, errors.New("peer: Config.Network is nil")
	}
	if len(cfg.Certificate.Certificate) == 0 {
		return nil, errors.New("peer: no certificate")
	}
	key, ok := cfg.Certificate.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("peer: the identity key is not ECDSA")
	}
	leaf, err := x509.ParseCertificate(cfg.Certificate.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("peer: certificate: %w", err)
	}
	user, err := ca.VerifyUser(cfg.Network.CAPool(), leaf, time.Now(), "")
	if err != nil {
		return nil, fmt.Errorf("peer: certificate: %w", err)
	}
	if cfg.Status == presence.Offline {
		cfg.Status = presence.Online
	}
	if cfg.TTL == 0 {
		cfg.TTL = presence.TTL
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = cfg.TTL / 2
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Hosts == nil {
		cfg.Hosts = bootstrap.NewHostCache(nil)
	}
	cfg.Hosts.Seed(cfg.Network.Bootstrap, "network")
	p := &Peer{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "peer", "user", user),
		user:     user,
		key:      key,
		certDER:  leaf.Raw,
		roots:    cfg.Network.CAPool(),
		hosts:    cfg.Hosts,
		verifier: signal.NewVerifier(cfg.Network.CAPool(), user, nil),
		kick:     make(chan struct{}, 1),
		status:   cfg.Status,
	}
	rand.Read(p.instance[:])
	p.net, err = tlsnet.New(tlsnet.Config{
		Certificate: cfg.Certificate,
		Roots:       p.roots,
		Handler:     overlay.HandlerFunc(p.handle),
		Logger:      cfg.Logger,
		DialTimeout: cfg.DialTimeout,
		CallTimeout: cfg.CallTimeout,
		// The super-peer link is kept by pings; links to other
		// super-peers asked during a search go after a minute.
		IdleTimeout: time.Minute,
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// User is the peer's username.
func (p *Peer) User() string { return p.user }

// Hosts is the host cache the peer keeps up to date.
func (p *Peer) Hosts() *bootstrap.HostCache { return p.hosts }

// Home is the super-peer the peer is attached to, or zero.
func (p *Peer) Home() overlay.Node {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.home
}

// Status is the status the peer publishes (Invisible as offline).
func (p *Peer) Status() presence.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// SetStatus changes the status; a running peer publishes it at once.
func (p *Peer) SetStatus(s presence.Status) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// WaitAttached waits until the peer is attached and returns its home.
func (p *Peer) WaitAttached(ctx context.Context) (overlay.Node, error) {
	p.mu.Lock()
	if !p.home.IsZero() {
		defer p.mu.Unlock()
		return p.home, nil
	}
	ch := make(chan struct{})
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()
	select {
	case <-ch:
		return p.Home(), nil
	case <-ctx.Done():
		return overlay.Node{}, fmt.Errorf("peer: not attached to a super-peer: %w", ctx.Err())
	}
}

// Search finds user's presence record through the home super-peer.
func (p *Peer) Search(ctx context.Context, user string) (search.Result, error) {
	home, err := p.WaitAttached(ctx)
	if err != nil {
		return search.Result{}, err
	}
	return search.Search(ctx, p.net, home.Addr, user, search.Options{Roots: p.roots})
}

// Send signs a signal of kind with payload to user and has it relayed
// through the home super-peer to the super-peer the user is attached to.
// It fails with an error wrapping wire.ErrOffline when the user is not
// online, wire.ErrUnreachable when their super-peer cannot be reached.
// A send that fails in transit is retried once with the same signal; the
// receiver drops a second copy, so it arrives at most once.
func (p *Peer) Send(ctx context.Context, user, kind string, payload []byte) error {
	res, err := p.Search(ctx, user)
	switch {
	case errors.Is(err, wire.ErrNotFound):
		return fmt.Errorf("%w: %s is not online", wire.ErrOffline, user)
	case err != nil:
		return err
	case !res.Info.Online():
		return fmt.Errorf("%w: %s is %v", wire.ErrOffline, user, res.Info.Status)
	}
	return p.SendVia(ctx, user, res.Info.SuperPeer.Addr, kind, payload)
}

// SendVia is Send to a user known to be attached to the super-peer at
// via, without searching first: for a burst of signals to one user, such
// as a session's ICE candidates.
func (p *Peer) SendVia(ctx context.Context, user, via, kind string, payload []byte) error {
	sig, err := signal.New(p.user, user, kind, payload, p.key, p.certDER, time.Now())
	if err != nil {
		return err
	}
	req := &wire.Envelope{Body: &wire.Envelope_Relay{Relay: &wire.RelayRequest{Signal: sig, Via: via}}}
	for attempt := 0; ; attempt++ {
		home, err := p.WaitAttached(ctx)
		if err != nil {
			return err
		}
		_, err = p.net.Call(ctx, home.Addr, req)
		var re *wire.RemoteError
		transient := err != nil && (!errors.As(err, &re) || errors.Is(err, wire.ErrUnreachable) || errors.Is(err, wire.ErrTimeout))
		if !transient || attempt == 1 || ctx.Err() != nil {
			if err != nil {
				return fmt.Errorf("send %s to %s: %w", kind, user, err)
			}
			return nil
		}
		select { // give failover a moment
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// handle answers requests from the super-peer: deliveries.
func (p *Peer) handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	d, ok := req.Body.(*wire.Envelope_Deliver)
	if !ok || from.Node.IsZero() {
		return nil, wire.Errorf(wire.ErrForbidden, "a client answers only deliveries from its super-peer")
	}
	if !p.cfg.Receive {
		return nil, wire.Errorf(wire.ErrOffline, "%s takes no signals on this link", p.user)
	}
	sig := d.Deliver.GetSignal()
	if sig == nil {
		return nil, wire.Errorf(wire.ErrBadRequest, "delivery without a signal")
	}
	if err := p.verifier.Accept(sig); err != nil {
		p.log.Info("signal refused", "from", sig.GetFrom(), "err", err)
		return nil, err
	}
	if f := p.cfg.OnSignal; f != nil {
		if err := f(signal.Clean(sig)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// NatInfo asks the home super-peer about its STUN and TURN; being
// attached there, the answer carries TURN credentials.
func (p *Peer) NatInfo(ctx context.Context) (*wire.NatInfoResponse, error) {
	home, err := p.WaitAttached(ctx)
	if err != nil {
		return nil, err
	}
	return p.NatInfoFrom(ctx, home.Addr)
}

// NatInfoFrom asks the super-peer at addr where it answers STUN (a
// second server for NAT behaviour discovery).
func (p *Peer) NatInfoFrom(ctx context.Context, addr string) (*wire.NatInfoResponse, error) {
	resp, err := p.net.Call(ctx, addr, &wire.Envelope{Body: &wire.Envelope_NatInfo{NatInfo: &wire.NatInfoRequest{}}})
	if err != nil {
		return nil, err
	}
	r, ok := resp.Body.(*wire.Envelope_NatInfoResult)
	if !ok {
		return nil, wire.Errorf(wire.ErrBadRequest, "%s answered NatInfo with %T", addr, resp.Body)
	}
	return r.NatInfoResult, nil
}
