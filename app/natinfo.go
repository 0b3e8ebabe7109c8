package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"soitto/nat"
	"soitto/overlay/wire"
)

// NetReport is what the client knows of its network: the super-peer it is
// attached to, its NAT, and whether a relay is there for when direct
// connections fail. soitto-cli net prints it; the window shows it.
type NetReport struct {
	SuperPeer string `json:"super_peer"`
	// Observed is this client's address as the super-peer sees the
	// overlay link (TCP).
	Observed string `json:"observed,omitempty"`
	// NAT is the result of RFC 5780 discovery against the super-peer's
	// STUN server and another super-peer's; NATError says why there is
	// none.
	NAT      nat.Report `json:"nat"`
	NATType  string     `json:"nat_type"`
	NATError string     `json:"nat_error,omitempty"`
	// STUN servers used.
	STUN []string `json:"stun,omitempty"`
	// Relay: TURN servers offered, and whether an allocation on the
	// first one worked (Relayed is the relayed address it gave).
	TURN       []string  `json:"turn,omitempty"`
	Relay      bool      `json:"relay"`
	Relayed    string    `json:"relayed,omitempty"`
	RelayError string    `json:"relay_error,omitempty"`
	Checked    time.Time `json:"checked"`
}

// iceCache keeps the ICE servers of the current super-peer until shortly
// before their credentials expire.
type iceCache struct {
	mu      sync.Mutex
	home    string
	servers []nat.ICEServer
	stun    []nat.Server // home's STUN, then another node's
	until   time.Time
	report  *NetReport
}

// iceServers returns STUN and TURN servers for a session: the attached
// node's STUN and TURN (UDP and TCP, with fresh credentials), another
// super-peer's STUN, and the network file's TURN servers that the node
// has credentials for.
func (c *Client) iceServers(ctx context.Context, o *online) ([]nat.ICEServer, []nat.Server, error) {
	home, err := o.peer.WaitAttached(ctx)
	if err != nil {
		return nil, nil, err
	}
	o.ice.mu.Lock()
	defer o.ice.mu.Unlock()
	now := time.Now()
	if o.ice.home == home.Addr && now.Before(o.ice.until) {
		return o.ice.servers, o.ice.stun, nil
	}
	info, err := o.peer.NatInfo(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("asking %s for its STUN and TURN: %w", home.Addr, err)
	}
	var servers []nat.ICEServer
	var stun []nat.Server
	if info.GetStun() != "" {
		stun = append(stun, nat.Server{Addr: info.GetStun(), Other: info.GetStunOther()})
	}
	// A second super-peer's STUN: its answer gives a second view of the
	// NAT's mapping, for discovery and for ICE.
	for _, addr := range o.peer.Hosts().Candidates(4, home.Addr) {
		if addr == home.Addr {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		other, err := o.peer.NatInfoFrom(cctx, addr)
		cancel()
		if err == nil && other.GetStun() != "" && other.GetStun() != info.GetStun() {
			stun = append(stun, nat.Server{Addr: other.GetStun(), Other: other.GetStunOther()})
			break
		}
	}
	for _, s := range stun {
		servers = append(servers, nat.ICEServer{URLs: []string{nat.STUNURL(s.Addr)}})
	}
	for _, s := range info.GetIceServers() {
		servers = append(servers, iceFromWire(s))
	}
	until := time.Unix(info.GetExpires(), 0).Add(-time.Minute)
	if info.GetExpires() == 0 || until.Before(now) {
		until = now.Add(time.Minute)
	}
	o.ice.home, o.ice.servers, o.ice.stun, o.ice.until = home.Addr, servers, stun, until
	return servers, stun, nil
}

func iceFromWire(s *wire.IceServer) nat.ICEServer {
	return nat.ICEServer{URLs: append([]string(nil), s.GetUrls()...), Username: s.GetUsername(), Credential: s.GetCredential()}
}

// Net discovers the client's NAT type and checks that a relay is
// available. It takes a few seconds (STUN retransmissions when UDP is
// blocked, a TURN allocation).
func (c *Client) Net(ctx context.Context) (NetReport, error) {
	_, o, err := c.current()
	if err != nil {
		return NetReport{}, err
	}
	home, err := o.peer.WaitAttached(ctx)
	if err != nil {
		return NetReport{}, err
	}
	r := NetReport{SuperPeer: home.Addr, Checked: time.Now()}
	if info, err := o.peer.NatInfo(ctx); err == nil {
		r.Observed = info.GetObserved()
	}
	servers, stun, err := c.iceServers(ctx, o)
	if err != nil {
		return r, err
	}
	for _, s := range stun {
		r.STUN = append(r.STUN, s.Addr)
	}
	if len(stun) == 0 {
		r.NATError = "the super-peer runs no STUN server"
	} else {
		rep, err := nat.Discover(ctx, nat.DiscoverConfig{Servers: stun})
		r.NAT, r.NATType = rep, rep.Type()
		if err != nil {
			r.NATError = err.Error()
		}
	}
	var turn []nat.ICEServer
	for _, s := range servers {
		if s.Username != "" {
			turn = append(turn, s)
			r.TURN = append(r.TURN, s.URLs...)
		}
	}
	if len(turn) == 0 {
		r.RelayError = "no TURN relay offered"
	} else {
		var errs []error
		for _, s := range turn {
			relayed, err := nat.CheckRelay(ctx, s, r.NAT.UDPBlocked)
			if err == nil {
				r.Relay, r.Relayed = true, relayed.String()
				break
			}
			errs = append(errs, err)
		}
		if !r.Relay {
			r.RelayError = errors.Join(errs...).Error()
		}
	}
	o.ice.mu.Lock()
	o.ice.report = &r
	o.ice.mu.Unlock()
	c.events.publish(NetChanged{Report: r})
	return r, nil
}

// LastNet is the last NetReport, if Net has run in this session online.
func (c *Client) LastNet() (NetReport, bool) {
	_, o, err := c.current()
	if err != nil {
		return NetReport{}, false
	}
	o.ice.mu.Lock()
	defer o.ice.mu.Unlock()
	if o.ice.report == nil {
		return NetReport{}, false
	}
	return *o.ice.report, true
}

// netRecheck is how often an interactive session looks at its NAT again
// while it stays on one super-peer.
const netRecheck = 15 * time.Minute

// watchNet runs Net whenever the session attaches to a super-peer, and
// every netRecheck, so the window can show the NAT type and the relay.
func (c *Client) watchNet(ctx context.Context, o *online) {
	t := time.NewTimer(netRecheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.rehome:
		case <-t.C:
		}
		nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if _, err := c.Net(nctx); err != nil && ctx.Err() == nil {
			c.log.Info("network check", "err", err)
		}
		cancel()
		t.Reset(netRecheck)
	}
}
