package nat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/turn/v5"
	"golang.org/x/time/rate"
)

// TURNConfig configures a TURN relay.
type TURNConfig struct {
	// ListenUDP and ListenTCP are the "ip:port"s where clients reach the
	// relay over UDP and over TCP; empty for none (not both).
	ListenUDP, ListenTCP string
	// RelayIP is the IP put in relayed addresses: the node's public one.
	RelayIP string
	// RelayBind is the IP relay sockets are bound to; if empty, RelayIP.
	RelayBind string
	// PortMin and PortMax bound the relay ports; if zero, 49152-65535.
	PortMin, PortMax int
	// Realm; if empty, "soitto".
	Realm string
	// Secret signs this node's credentials; if nil, 32 random bytes, so
	// one node's credentials are worthless on another.
	Secret []byte
	// CredentialTTL is how long Credentials are good for a new
	// allocation; if zero, 10 minutes.
	CredentialTTL time.Duration
	// MaxSession is how long after its credentials expired an existing
	// allocation may still be refreshed, so a long call keeps its relay;
	// if zero, 12 hours.
	MaxSession time.Duration
	// MaxAllocationsPerUser; if zero, 8.
	MaxAllocationsPerUser int
	// AllocationRate is bytes/s per allocation and direction (burst
	// twice that); if zero, 256 KiB/s. Excess is dropped.
	AllocationRate int
	// NodeRate is bytes/s over all allocations and both directions; if
	// zero, 64 MiB/s.
	NodeRate int
	// Lab allows relaying to special-purpose addresses (a test lab on
	// loopback or 198.18.0.0/15). The node's own services stay refused.
	Lab bool
	// OwnAddrs are the node's other service addresses (overlay, STUN);
	// the relay's own listeners are added. They are never relayed to,
	// and outside a lab neither is any of their IPs.
	OwnAddrs []netip.AddrPort
	// Net is the network; nil is the real one.
	Net transport.Net
	// Logger; nil discards.
	Logger *slog.Logger
}

// TURNStats counts what the relay did.
type TURNStats struct {
	Allocations        int    // now
	AllocationsCreated uint64 // since start
	RefusedAuth        uint64
	RefusedQuota       uint64
	RefusedPeers       uint64 // permissions and sends refused by CheckPeer
	DroppedRate        uint64 // packets dropped over a rate limit
	DroppedUnpermitted uint64 // packets from peers without a permission
	BytesRelayed       uint64
}

// TURN is a TURN relay (RFC 8656, pion/turn) for the clients attached to
// one node: they get credentials from the node (Credentials) over their
// attachment; anyone else has none.
type TURN struct {
	cfg    TURNConfig
	log    *slog.Logger
	srv    *turn.Server
	udp    net.PacketConn
	tcp    net.Listener
	own    []netip.AddrPort
	ownIPs []netip.Addr
	node   *rate.Limiter

	mu      sync.Mutex // guards perUser and permits
	perUser map[string]int
	// permits: for each relay port, the peer IPs with a permission, so
	// that packets from anyone else are dropped before they spend the
	// rate limits (pion checks permissions only after reading).
	permits map[int]map[netip.Addr]int

	allocs                                        atomic.Int64
	created, refAuth, refQuota, refPeer, dropRate atomic.Uint64
	bytes, dropPeer                               atomic.Uint64

	closeOnce sync.Once
}

// wrapRelayConn, when set (by tests), wraps every relay socket outside
// the relay's own checks: a last guard that sees every packet sent.
var wrapRelayConn func(net.PacketConn) net.PacketConn

// NewTURN starts a TURN relay.
func NewTURN(cfg TURNConfig) (*TURN, error) {
	if cfg.ListenUDP == "" && cfg.ListenTCP == "" {
		return nil, errors.New("nat: TURN needs a UDP or TCP listen address")
	}
	if cfg.Net == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("nat: %w", err)
		}
		cfg.Net = n
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.PortMin == 0 && cfg.PortMax == 0 {
		cfg.PortMin, cfg.PortMax = 49152, 65535
	}
	if cfg.PortMin < 1 || cfg.PortMax > 65535 || cfg.PortMin > cfg.PortMax {
		return nil, fmt.Errorf("nat: TURN relay ports %d-%d", cfg.PortMin, cfg.PortMax)
	}
	if cfg.Realm == "" {
		cfg.Realm = "soitto"
	}
	if cfg.Secret == nil {
		cfg.Secret = make([]byte, 32)
		rand.Read(cfg.Secret)
	}
	if cfg.CredentialTTL == 0 {
		cfg.CredentialTTL = 10 * time.Minute
	}
	if cfg.MaxSession == 0 {
		cfg.MaxSession = 12 * time.Hour
	}
	if cfg.MaxAllocationsPerUser == 0 {
		cfg.MaxAllocationsPerUser = 8
	}
	if cfg.AllocationRate == 0 {
		cfg.AllocationRate = 256 << 10
	}
	if cfg.NodeRate == 0 {
		cfg.NodeRate = 64 << 20
	}
	relayIP, err := netip.ParseAddr(cfg.RelayIP)
	if err != nil || relayIP.IsUnspecified() {
		return nil, fmt.Errorf("nat: TURN relay IP %q: not a concrete IP", cfg.RelayIP)
	}
	if cfg.RelayBind == "" {
		cfg.RelayBind = cfg.RelayIP
	}
	t := &TURN{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "turn"),
		own:     append([]netip.AddrPort(nil), cfg.OwnAddrs...),
		node:    rate.NewLimiter(rate.Limit(cfg.NodeRate), 2*cfg.NodeRate),
		perUser: map[string]int{},
		permits: map[int]map[netip.Addr]int{},
	}
	fail := func(err error) (*TURN, error) {
		if t.udp != nil {
			t.udp.Close()
		}
		if t.tcp != nil {
			t.tcp.Close()
		}
		return nil, fmt.Errorf("nat: TURN: %w", err)
	}
	gen := &relayGenerator{
		RelayAddressGeneratorPortRange: turn.RelayAddressGeneratorPortRange{
			RelayAddress: relayIP.AsSlice(),
			MinPort:      uint16(cfg.PortMin),
			MaxPort:      uint16(cfg.PortMax),
			MaxRetries:   20,
			Address:      cfg.RelayBind,
			Net:          cfg.Net,
		},
		t: t,
	}
	sc := turn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   t.auth,
		QuotaHandler:  t.quota,
		LoggerFactory: slogFactory{t.log},
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, user, _ string, _ net.Addr, _ int) {
				t.allocs.Add(1)
				t.created.Add(1)
				t.mu.Lock()
				t.perUser[user]++
				t.mu.Unlock()
			},
			OnPermissionCreated: func(_, _ net.Addr, _, _, _ string, relay net.Addr, peer net.IP) {
				t.permit1(relay, peer, 1)
			},
			OnPermissionDeleted: func(_, _ net.Addr, _, _, _ string, relay net.Addr, peer net.IP) {
				t.permit1(relay, peer, -1)
			},
			OnAllocationDeleted: func(_, _ net.Addr, _, user, _ string) {
				t.allocs.Add(-1)
				t.mu.Lock()
				if t.perUser[user]--; t.perUser[user] <= 0 {
					delete(t.perUser, user)
				}
				t.mu.Unlock()
			},
		},
	}
	if cfg.ListenUDP != "" {
		if t.udp, err = cfg.Net.ListenPacket("udp", cfg.ListenUDP); err != nil {
			return fail(err)
		}
		// One socket carries every client's packets, read by one
		// goroutine: a deeper queue rides out its scheduling gaps
		// (best effort; the kernel caps it at net.core.rmem_max).
		if rb, ok := t.udp.(interface{ SetReadBuffer(int) error }); ok {
			rb.SetReadBuffer(4 << 20)
		}
		if ap, ok := udpAddrPort(t.udp.LocalAddr()); ok {
			t.own = append(t.own, ap)
		}
		sc.PacketConnConfigs = []turn.PacketConnConfig{{PacketConn: t.udp, RelayAddressGenerator: gen, PermissionHandler: t.permit}}
	}
	if cfg.ListenTCP != "" {
		laddr, err := cfg.Net.ResolveTCPAddr("tcp", cfg.ListenTCP)
		if err != nil {
			return fail(err)
		}
		if t.tcp, err = cfg.Net.ListenTCP("tcp", laddr); err != nil {
			return fail(err)
		}
		if ap, err := netip.ParseAddrPort(t.tcp.Addr().String()); err == nil {
			t.own = append(t.own, ap)
		}
		sc.ListenerConfigs = []turn.ListenerConfig{{Listener: t.tcp, RelayAddressGenerator: gen, PermissionHandler: t.permit}}
	}
	seen := map[netip.Addr]bool{}
	for _, o := range append(t.own, netip.AddrPortFrom(relayIP, 0)) {
		if a := o.Addr().Unmap(); !seen[a] && !a.IsUnspecified() {
			seen[a] = true
			t.ownIPs = append(t.ownIPs, a)
		}
	}
	if t.srv, err = turn.NewServer(sc); err != nil {
		return fail(err)
	}
	return t, nil
}

// Credentials returns short-lived credentials for user, made with this
// node's secret.
func (t *TURN) Credentials(user string) (username, password string, expires time.Time) {
	expires = time.Now().Add(t.cfg.CredentialTTL)
	username, password = RESTCredentials(t.cfg.Secret, user, expires)
	return username, password, expires
}

// UDPAddr is where the relay takes TURN over UDP, or nil.
func (t *TURN) UDPAddr() net.Addr {
	if t.udp == nil {
		return nil
	}
	return t.udp.LocalAddr()
}

// TCPAddr is where the relay takes TURN over TCP, or nil.
func (t *TURN) TCPAddr() net.Addr {
	if t.tcp == nil {
		return nil
	}
	return t.tcp.Addr()
}

// Stats returns the counters.
func (t *TURN) Stats() TURNStats {
	return TURNStats{
		Allocations: int(t.allocs.Load()), AllocationsCreated: t.created.Load(),
		RefusedAuth: t.refAuth.Load(), RefusedQuota: t.refQuota.Load(), RefusedPeers: t.refPeer.Load(),
		DroppedRate: t.dropRate.Load(), DroppedUnpermitted: t.dropPeer.Load(), BytesRelayed: t.bytes.Load(),
	}
}

// Close stops the relay: listeners, allocations, goroutines.
func (t *TURN) Close() error {
	var err error
	t.closeOnce.Do(func() { err = t.srv.Close() })
	return err
}

// auth checks REST credentials made with this node's secret. A new
// allocation needs unexpired ones; requests on an existing allocation
// (Refresh, CreatePermission, ChannelBind) are taken up to MaxSession
// after expiry.
func (t *TURN) auth(ra *turn.RequestAttributes) (string, []byte, bool) {
	user, expires, err := ParseRESTUsername(ra.Username)
	if err != nil {
		t.refAuth.Add(1)
		t.log.Debug("TURN credentials refused", "src", ra.SrcAddr, "err", err)
		return "", nil, false
	}
	now := time.Now()
	limit := expires
	if ra.Method != stun.MethodAllocate {
		limit = expires.Add(t.cfg.MaxSession)
	}
	if now.After(limit) {
		t.refAuth.Add(1)
		t.log.Debug("TURN credentials expired", "user", user, "method", ra.Method.String())
		return "", nil, false
	}
	// A wrong password makes the integrity check with this key fail.
	return user, turn.GenerateAuthKey(ra.Username, t.cfg.Realm, restPassword(t.cfg.Secret, ra.Username)), true
}

// quota is given the user the AuthHandler named.
func (t *TURN) quota(user, _ string, _ net.Addr) bool {
	t.mu.Lock()
	n := t.perUser[user]
	t.mu.Unlock()
	if n >= t.cfg.MaxAllocationsPerUser {
		t.refQuota.Add(1)
		t.log.Info("TURN allocation quota reached", "user", user, "allocations", n)
		return false
	}
	return true
}

// permit is the permission check of CreatePermission and ChannelBind.
func (t *TURN) permit(client net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	if !ok {
		return false
	}
	if err := CheckPeer(ip, t.ownIPs, t.cfg.Lab); err != nil {
		t.refPeer.Add(1)
		t.log.Info("TURN permission refused", "client", client, "err", err)
		return false
	}
	return true
}

// permit1 counts a permission for peer on the relay at relay up (+1) or
// down (-1).
func (t *TURN) permit1(relay net.Addr, peer net.IP, d int) {
	r, ok1 := udpAddrPort(relay)
	ip, ok2 := netip.AddrFromSlice(peer)
	if !ok1 || !ok2 {
		return
	}
	ip = ip.Unmap()
	port := int(r.Port())
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.permits[port]
	if m == nil {
		if d < 0 {
			return
		}
		m = map[netip.Addr]int{}
		t.permits[port] = m
	}
	if m[ip] += d; m[ip] <= 0 {
		delete(m, ip)
	}
	if len(m) == 0 {
		delete(t.permits, port)
	}
}

// permitted says whether peer has a permission on the relay port.
func (t *TURN) permitted(port int, peer netip.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.permits[port][peer.Unmap()] > 0
}

// relayGenerator hands out UDP relay sockets in the port range, each
// wrapped in the relay's checks and rate limits. It refuses TCP relay
// allocations (RFC 6062): peers are reached over UDP only.
type relayGenerator struct {
	turn.RelayAddressGeneratorPortRange
	t *TURN
}

func (g *relayGenerator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	c, addr, err := g.RelayAddressGeneratorPortRange.AllocatePacketConn(conf)
	if err != nil {
		return nil, nil, err
	}
	if wrapRelayConn != nil {
		c = wrapRelayConn(c)
	}
	r := g.t.cfg.AllocationRate
	port := 0
	if ap, ok := udpAddrPort(addr); ok {
		port = int(ap.Port())
	}
	return &relayConn{PacketConn: c, t: g.t, port: port,
		out: rate.NewLimiter(rate.Limit(r), 2*r), in: rate.NewLimiter(rate.Limit(r), 2*r)}, addr, nil
}

func (g *relayGenerator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errors.New("nat: TCP relay allocations are not offered")
}

func (g *relayGenerator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errors.New("nat: TCP relay allocations are not offered")
}

// relayConn is one allocation's relay socket: every send is checked
// against CheckPeerPort again (whatever pion's permissions let through,
// nothing goes to a refused address) and both directions are rate
// limited.
type relayConn struct {
	net.PacketConn
	t       *TURN
	port    int // the relayed port, which permissions are counted under
	out, in *rate.Limiter
}

func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	dst, ok := udpAddrPort(addr)
	if !ok {
		return 0, fmt.Errorf("nat: relay to %v: not a UDP address", addr)
	}
	if err := CheckPeerPort(dst, c.t.own, c.t.cfg.Lab); err != nil {
		c.t.refPeer.Add(1)
		return 0, err
	}
	now := time.Now()
	if !c.out.AllowN(now, len(p)) || !c.t.node.AllowN(now, len(p)) {
		c.t.dropRate.Add(1)
		return len(p), nil
	}
	n, err := c.PacketConn.WriteTo(p, addr)
	c.t.bytes.Add(uint64(n))
	return n, err
}

func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		if src, ok := udpAddrPort(addr); !ok || !c.t.permitted(c.port, src.Addr()) {
			// No permission: pion would drop it; drop it before it
			// spends anyone's bandwidth.
			c.t.dropPeer.Add(1)
			continue
		}
		now := time.Now()
		if !c.in.AllowN(now, n) || !c.t.node.AllowN(now, n) {
			c.t.dropRate.Add(1)
			continue
		}
		c.t.bytes.Add(uint64(n))
		return n, addr, nil
	}
}

// slogFactory sends pion's logs to slog at debug level (warnings and
// errors at their own).
type slogFactory struct{ log *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{f.log.With("pion", scope)}
}

type slogLogger struct{ l *slog.Logger }

// logf formats only when the level is on: pion logs at debug level
// several times per relayed packet, and formatting those alone cost a
// tenth of the relay's CPU.
func (l slogLogger) logf(level slog.Level, f string, a []any) {
	if l.l.Enabled(context.Background(), level) {
		l.l.Log(context.Background(), level, fmt.Sprintf(f, a...))
	}
}

func (l slogLogger) Trace(string)              {}
func (l slogLogger) Tracef(string, ...any)     {}
func (l slogLogger) Debug(m string)            { l.l.Debug(m) }
func (l slogLogger) Debugf(f string, a ...any) { l.logf(slog.LevelDebug, f, a) }
func (l slogLogger) Info(m string)             { l.l.Debug(m) }
func (l slogLogger) Infof(f string, a ...any)  { l.logf(slog.LevelDebug, f, a) }
func (l slogLogger) Warn(m string)             { l.l.Warn(m) }
func (l slogLogger) Warnf(f string, a ...any)  { l.logf(slog.LevelWarn, f, a) }
func (l slogLogger) Error(m string)            { l.l.Error(m) }
func (l slogLogger) Errorf(f string, a ...any) { l.logf(slog.LevelError, f, a) }
