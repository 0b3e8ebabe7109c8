package peer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"soitto/overlay"
	"soitto/overlay/presence"
	"soitto/overlay/wire"
)

// Run keeps the peer attached until ctx ends: it attaches to the best
// super-peer of the host cache (following redirects), pings it, publishes
// presence, and when the link fails attaches to another at once. When ctx
// ends it publishes "offline" (if it published at all) and closes every
// link. Run returns nil then.
func (p *Peer) Run(ctx context.Context) error {
	defer p.net.Close()
	var last string // the super-peer that just failed: tried last
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		conn, home, keep, err := p.attach(ctx, last)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			backoff = min(max(2*backoff, 250*time.Millisecond), 5*time.Second)
			p.log.Info("no super-peer accepted; retrying", "err", err, "in", backoff)
			sleep(ctx, backoff)
			last = ""
			continue
		}
		backoff = 0
		p.setHome(home)
		p.log.Info("attached", "super-peer", home.Addr)
		p.stayAttached(ctx, conn, home, keep)
		p.setHome(overlay.Node{})
		last = home.Addr
		if ctx.Err() == nil {
			p.hosts.Failure(home.Addr)
			p.log.Info("lost the super-peer; attaching to another", "super-peer", home.Addr)
			// Every client of a failed super-peer finds out at once: spread
			// their arrival at the others over half a second.
			sleep(ctx, rand.N(500*time.Millisecond))
		} else if p.cfg.Publish {
			p.publishOffline(home, conn)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// attach tries the host cache's candidates in order, and the super-peers
// a full one redirects to, until one accepts. avoid is tried last.
func (p *Peer) attach(ctx context.Context, avoid string) (overlay.Conn, overlay.Node, time.Duration, error) {
	cands := p.hosts.Candidates(16, avoid)
	if avoid != "" {
		cands = append(cands, avoid)
	}
	tried := map[string]bool{}
	var errs []error
	for len(cands) > 0 && ctx.Err() == nil {
		addr := cands[0]
		cands = cands[1:]
		if tried[addr] {
			continue
		}
		tried[addr] = true
		start := time.Now()
		conn, resp, err := p.attachTo(ctx, addr)
		if err != nil {
			p.hosts.Failure(addr)
			errs = append(errs, err)
			continue
		}
		learnt := addrs(resp.GetSuperPeers())
		p.hosts.Learn(learnt, "peer")
		if !resp.GetAccepted() {
			redirect := addrs(resp.GetRedirect())
			p.hosts.Learn(redirect, "redirect")
			p.log.Info("super-peer is full; redirected", "super-peer", addr, "to", len(redirect))
			cands = append(redirect, cands...)
			errs = append(errs, fmt.Errorf("%s is full", addr))
			continue
		}
		p.hosts.Success(addr, time.Since(start))
		keep := time.Duration(resp.GetKeepaliveSeconds()) * time.Second
		if keep <= 0 {
			keep = p.cfg.KeepAlive
		}
		return conn, overlay.NewNode(addr), keep, nil
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("the host cache is empty"))
	}
	return nil, overlay.Node{}, 0, errors.Join(errs...)
}

func (p *Peer) attachTo(ctx context.Context, addr string) (overlay.Conn, *wire.AttachResponse, error) {
	conn, err := p.net.Dial(ctx, addr)
	if err != nil {
		return nil, nil, err
	}
	resp, err := conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Attach{Attach: &wire.AttachRequest{
		Instance: p.instance[:], Receive: p.cfg.Receive,
	}}})
	if err != nil {
		return nil, nil, err
	}
	r, ok := resp.Body.(*wire.Envelope_AttachResult)
	if !ok {
		return nil, nil, wire.Errorf(wire.ErrBadRequest, "%s answered attach with %T", addr, resp.Body)
	}
	if !r.AttachResult.GetAccepted() {
		conn.Close()
	}
	return conn, r.AttachResult, nil
}

func addrs(ws []*wire.NodeInfo) []string {
	var out []string
	for _, w := range ws {
		if n, err := overlay.NodeFromWire(w); err == nil && !n.IsZero() {
			out = append(out, n.Addr)
		}
	}
	return out
}

func (p *Peer) setHome(home overlay.Node) {
	p.mu.Lock()
	p.home = home
	var waiters []chan struct{}
	if !home.IsZero() {
		waiters, p.waiters = p.waiters, nil
	}
	p.mu.Unlock()
	for _, ch := range waiters {
		close(ch)
	}
	if f := p.cfg.OnState; f != nil {
		f(home)
	}
}

// stayAttached pings conn every keep, publishes presence now, every
// Refresh and on every status change, and returns when the link fails or
// ctx ends.
func (p *Peer) stayAttached(ctx context.Context, conn overlay.Conn, home overlay.Node, keep time.Duration) {
	ping := time.NewTicker(keep)
	defer ping.Stop()
	refresh := time.NewTicker(p.cfg.Refresh)
	defer refresh.Stop()
	publish := func() {
		if !p.cfg.Publish {
			return
		}
		if err := p.publish(ctx, conn, home); err != nil && ctx.Err() == nil {
			p.log.Warn("publishing presence", "err", err)
		}
	}
	publish()
	for {
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		case <-p.kick:
			publish()
		case <-refresh.C:
			publish()
			p.refreshHosts(ctx, conn)
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, keep)
			_, err := conn.Call(pctx, &wire.Envelope{Body: &wire.Envelope_Ping{Ping: &wire.PingRequest{}}})
			cancel()
			if err != nil && ctx.Err() == nil {
				p.log.Info("super-peer did not answer a ping", "super-peer", home.Addr, "err", err)
				conn.Close()
				return
			}
		}
	}
}

// publish signs and stores the peer's presence naming home.
func (p *Peer) publish(ctx context.Context, conn overlay.Conn, home overlay.Node) error {
	p.mu.Lock()
	status := p.status
	p.mu.Unlock()
	return p.put(ctx, conn, status, home, p.cfg.TTL)
}

// publishOffline replaces the presence record with an "offline" one
// that lives a minute, so searches see the logout at once.
func (p *Peer) publishOffline(home overlay.Node, conn overlay.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if conn == nil {
		return
	}
	if err := p.put(ctx, conn, presence.Offline, home, time.Minute); err != nil {
		p.log.Info("publishing offline", "err", err)
	}
}

func (p *Peer) put(ctx context.Context, conn overlay.Conn, status presence.Status, home overlay.Node, ttl time.Duration) error {
	now := time.Now()
	p.mu.Lock()
	// Time-based, so a restarted client (or another program of the same
	// user) still publishes a newer seq than the last one.
	p.seq = max(p.seq+1, uint64(now.UnixMicro()))
	seq := p.seq
	p.mu.Unlock()
	rec, err := presence.Record(p.user, status, home, seq, now.Add(ttl), p.key, p.certDER)
	if err != nil {
		return err
	}
	_, err = conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: rec}}})
	return err
}

// refreshHosts asks the super-peer for the super-peers it knows and adds
// them to the host cache (the super-peer list exchange).
func (p *Peer) refreshHosts(ctx context.Context, conn overlay.Conn) {
	resp, err := conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Peers{Peers: &wire.PeersRequest{Count: 32}}})
	if err != nil {
		return
	}
	if r, ok := resp.Body.(*wire.Envelope_PeersResult); ok {
		p.hosts.Learn(addrs(r.PeersResult.GetNodes()), "peer")
	}
}
