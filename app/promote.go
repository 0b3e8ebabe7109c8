package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"soitto/login/ca"
	"soitto/login/client"
	"soitto/nat"
	"soitto/overlay/node"
)

// PromotionConfig says whether and when this client may become a
// super-peer, as Skype's and KaZaA's clients did: with the user's
// consent, a public address (STUN sees no NAT, and the login server
// connects to it), enough uptime, and mains power. It steps down, handing
// its records over, as soon as one of these stops holding.
type PromotionConfig struct {
	// Consent: the user agrees to relay for others. Off by default in
	// the app; dedicated nodes are soitto-node.
	Consent bool
	// MinUptime online before promotion; if zero, 1 hour.
	MinUptime time.Duration
	// Listen is the "ip:port" to serve the overlay on (TCP; STUN on the
	// same port over UDP, TURN on port+2). The IP must be the public one
	// STUN sees. If empty, the mapped IP and port 7600.
	Listen string
	// CheckEvery is how often the conditions are checked; if zero, 1 min.
	CheckEvery time.Duration
	// OnBattery reports whether the machine runs on battery; if nil,
	// the Linux power supply class is read.
	OnBattery func() bool
	// Lab: the relay may relay to special addresses (tests on loopback).
	Lab bool
}

// Promoted says the client now serves as a super-peer at Addr.
type Promoted struct{ Addr string }

// SteppedDown says the client stopped being a super-peer, and why.
type SteppedDown struct{ Why string }

func (Promoted) isEvent()    {}
func (SteppedDown) isEvent() {}

// superPeer is this client's super-peer role while promoted.
type superPeer struct {
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
	stop   func() // closes STUN and TURN
}

// promotion is an online session's promotion state.
type promotion struct {
	mu      sync.Mutex
	consent bool
	sp      *superPeer
}

// SetPromotion replaces the promotion settings; a session that goes
// online later uses them.
func (c *Client) SetPromotion(pc PromotionConfig) {
	c.mu.Lock()
	c.cfg.Promotion = pc
	c.mu.Unlock()
}

// SetPromotionConsent changes the user's consent; withdrawing it makes a
// promoted client step down at the next check.
func (c *Client) SetPromotionConsent(ok bool) {
	_, o, err := c.current()
	if err != nil {
		return
	}
	o.promo.mu.Lock()
	o.promo.consent = ok
	o.promo.mu.Unlock()
}

// SuperPeerAddr is the address this client serves as a super-peer at, if
// it is promoted.
func (c *Client) SuperPeerAddr() (string, bool) {
	_, o, err := c.current()
	if err != nil {
		return "", false
	}
	o.promo.mu.Lock()
	defer o.promo.mu.Unlock()
	if o.promo.sp == nil {
		return "", false
	}
	return o.promo.sp.addr, true
}

// watchPromotion checks the conditions every CheckEvery and promotes or
// steps down.
func (c *Client) watchPromotion(ctx context.Context, o *online, since time.Time) {
	c.mu.Lock()
	pc := c.cfg.Promotion
	c.mu.Unlock()
	if pc.MinUptime == 0 {
		pc.MinUptime = time.Hour
	}
	if pc.CheckEvery == 0 {
		pc.CheckEvery = time.Minute
	}
	if pc.OnBattery == nil {
		pc.OnBattery = onBattery
	}
	o.promo.mu.Lock()
	o.promo.consent = pc.Consent
	o.promo.mu.Unlock()
	t := time.NewTicker(pc.CheckEvery)
	defer t.Stop()
	defer c.stepDown(o, "going offline")
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		why := c.promotionBlocked(o, pc, since)
		o.promo.mu.Lock()
		promoted := o.promo.sp != nil
		o.promo.mu.Unlock()
		switch {
		case why == "" && !promoted:
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := c.promote(pctx, o, pc); err != nil {
				c.log.Info("not promoted", "err", err)
			}
			cancel()
		case why != "" && promoted:
			c.stepDown(o, why)
		}
	}
}

// promotionBlocked says why the client may not be a super-peer now, or
// "" if it may.
func (c *Client) promotionBlocked(o *online, pc PromotionConfig, since time.Time) string {
	o.promo.mu.Lock()
	consent := o.promo.consent
	o.promo.mu.Unlock()
	switch {
	case !consent:
		return "no consent"
	case time.Since(since) < pc.MinUptime:
		return "not online long enough"
	case pc.OnBattery():
		return "on battery power"
	}
	o.ice.mu.Lock()
	r := o.ice.report
	o.ice.mu.Unlock()
	if r == nil {
		return "network not checked yet"
	}
	if r.NAT.Mapping != nat.MappingNone {
		return "behind a NAT (" + r.NAT.Type() + ")"
	}
	if r.NAT.Filtering == nat.FilteringAddressPortDependent || r.NAT.Filtering == nat.FilteringAddressDependent {
		return "behind a firewall"
	}
	return ""
}

// promote starts the super-peer role: a listener on the public address,
// a node certificate from the login server (which connects to it first),
// STUN, TURN and the ring.
func (c *Client) promote(ctx context.Context, o *online, pc PromotionConfig) error {
	c.mu.Lock()
	sess := c.session
	c.mu.Unlock()
	if sess == nil {
		return ErrNotLoggedIn
	}
	o.ice.mu.Lock()
	r := o.ice.report
	o.ice.mu.Unlock()
	listen := pc.Listen
	if listen == "" {
		listen = net.JoinHostPort(r.NAT.Mapped.Addr().String(), "7600")
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening as a super-peer: %w", err)
	}
	addr := ln.Addr().String()
	if ap, err := netip.ParseAddrPort(addr); err != nil || ap.Addr() != r.NAT.Mapped.Addr() {
		ln.Close()
		return fmt.Errorf("listen address %s is not the public address STUN sees (%s)", addr, r.NAT.Mapped.Addr())
	}
	n, _, err := c.network(sess.profile)
	if err != nil {
		ln.Close()
		return err
	}
	key, err := ca.GenerateKey()
	if err != nil {
		ln.Close()
		return err
	}
	lc := client.New(n)
	defer lc.Close()
	cert, err := lc.NodeCert(ctx, sess.cert, sess.key, addr, &key.PublicKey)
	if err != nil {
		ln.Close()
		return fmt.Errorf("node certificate: %w", err)
	}
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	st, err := nat.ListenSTUN(nat.STUNConfig{Listen: addr, Logger: c.log})
	if err != nil {
		ln.Close()
		return err
	}
	tr, err := nat.NewTURN(nat.TURNConfig{
		ListenUDP: net.JoinHostPort(host, strconv.Itoa(port+2)), ListenTCP: net.JoinHostPort(host, strconv.Itoa(port+2)),
		RelayIP: host, Lab: pc.Lab, Logger: c.log,
		OwnAddrs: []netip.AddrPort{netip.MustParseAddrPort(addr)},
	})
	if err != nil {
		st.Close()
		ln.Close()
		return err
	}
	stopNAT := func() { tr.Close(); st.Close() }
	nd, err := node.New(node.Config{
		Network:     n,
		Certificate: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
		Advertise:   addr,
		NAT:         &node.NATServices{STUN: st, TURN: tr},
		Logger:      c.log,
	})
	if err != nil {
		stopNAT()
		ln.Close()
		return err
	}
	nctx, cancel := context.WithCancel(context.Background())
	sp := &superPeer{addr: addr, cancel: cancel, done: make(chan struct{}), stop: stopNAT}
	go func() {
		defer close(sp.done)
		nd.Run(nctx, ln)
	}()
	o.promo.mu.Lock()
	o.promo.sp = sp
	o.promo.mu.Unlock()
	o.peer.Hosts().Learn([]string{addr}, "self")
	c.log.Info("promoted to super-peer", "addr", addr)
	c.events.publish(Promoted{Addr: addr})
	return nil
}

// stepDown ends the super-peer role: the node hands its records to its
// successor and leaves the ring; its clients fail over to their next
// super-peer.
func (c *Client) stepDown(o *online, why string) {
	o.promo.mu.Lock()
	sp := o.promo.sp
	o.promo.sp = nil
	o.promo.mu.Unlock()
	if sp == nil {
		return
	}
	sp.cancel()
	select {
	case <-sp.done:
	case <-time.After(15 * time.Second):
		c.log.Warn("the super-peer role did not stop within 15 s")
	}
	sp.stop()
	c.log.Info("stepped down as super-peer", "why", why)
	c.events.publish(SteppedDown{Why: why})
}

// onBattery reads Linux's power supply class: on battery when a battery
// discharges and no mains supply is online.
func onBattery() bool {
	dirs, _ := filepath.Glob("/sys/class/power_supply/*")
	battery, mains := false, false
	for _, d := range dirs {
		typ, _ := os.ReadFile(filepath.Join(d, "type"))
		switch strings.TrimSpace(string(typ)) {
		case "Mains", "USB":
			if v, _ := os.ReadFile(filepath.Join(d, "online")); strings.TrimSpace(string(v)) == "1" {
				mains = true
			}
		case "Battery":
			if v, _ := os.ReadFile(filepath.Join(d, "status")); strings.TrimSpace(string(v)) == "Discharging" {
				battery = true
			}
		}
	}
	return battery && !mains
}
