package nat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"golang.org/x/time/rate"
)

// MaxSTUNRequest is the largest datagram the STUN server reads as a
// request. A Binding request needs a few dozen bytes; 1280 (the IPv6
// minimum MTU) leaves room for any attribute a client adds and keeps a
// response never larger than the request that caused it by much.
const MaxSTUNRequest = 1280

// STUNConfig configures a STUN server.
type STUNConfig struct {
	// Listen is the primary UDP "ip:port". The IP must be concrete (not
	// 0.0.0.0): RFC 5780 responses say which address they came from.
	// Port 0 picks one.
	Listen string
	// AltIP is a second IP of this host. With it the server answers
	// CHANGE-REQUEST change-IP and names an OTHER-ADDRESS, as RFC 5780
	// needs for a full NAT behaviour discovery against one server.
	AltIP string
	// AltPort is the alternate port; if zero, the primary port + 1 when
	// that is free, else any.
	AltPort int
	// Net is the network; nil is the real one (a pion vnet in tests).
	Net transport.Net
	// Logger; nil discards.
	Logger *slog.Logger
	// RatePerIP limits answers per source IP per second (burst twice
	// that); if zero, 20.
	RatePerIP float64
}

// STUNStats counts what the server did.
type STUNStats struct {
	Answered, Errors, Dropped, RateLimited uint64
}

// STUNServer answers STUN Binding requests (RFC 8489) with the RFC 5780
// attributes a client needs to discover its NAT's behaviour: the mapped
// address, where the response came from, the alternate address, and
// responses from the alternate port (and IP) on request.
type STUNServer struct {
	log *slog.Logger
	// conns[i]: bit 1 set = alternate IP, bit 0 set = alternate port.
	// conns[2] and conns[3] are nil without an alternate IP.
	conns [4]net.PacketConn
	addrs [4]netip.AddrPort

	rate  float64
	mu    sync.Mutex // guards limit
	limit map[netip.Addr]*rate.Limiter

	answered, errs, dropped, limited atomic.Uint64

	closing   atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// maxSTUNSources bounds the rate limiter's table; when full it starts
// over, which at worst lets a flood through for a moment.
const maxSTUNSources = 4096

// ListenSTUN starts a STUN server.
func ListenSTUN(cfg STUNConfig) (*STUNServer, error) {
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
	if cfg.RatePerIP == 0 {
		cfg.RatePerIP = 20
	}
	primary, err := netip.ParseAddrPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nat: STUN listen address %q: %v", cfg.Listen, err)
	}
	if primary.Addr().IsUnspecified() {
		return nil, fmt.Errorf("nat: STUN listen address %q: needs a concrete IP, not a wildcard", cfg.Listen)
	}
	var alt netip.Addr
	if cfg.AltIP != "" {
		if alt, err = netip.ParseAddr(cfg.AltIP); err != nil || alt.IsUnspecified() || alt == primary.Addr() {
			return nil, fmt.Errorf("nat: STUN alternate IP %q: not a second concrete IP", cfg.AltIP)
		}
	}
	s := &STUNServer{log: cfg.Logger.With("component", "stun"), rate: cfg.RatePerIP, limit: map[netip.Addr]*rate.Limiter{}}
	fail := func(err error) (*STUNServer, error) {
		for _, c := range s.conns {
			if c != nil {
				c.Close()
			}
		}
		return nil, fmt.Errorf("nat: STUN: %w", err)
	}
	listen := func(i int, ip netip.Addr, port int) error {
		c, err := cfg.Net.ListenPacket("udp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
		if err != nil {
			return err
		}
		s.conns[i] = c
		ap, err := netip.ParseAddrPort(c.LocalAddr().String())
		if err != nil {
			return err
		}
		s.addrs[i] = netip.AddrPortFrom(ip, ap.Port())
		return nil
	}
	if err := listen(0, primary.Addr(), int(primary.Port())); err != nil {
		return fail(err)
	}
	p1 := int(s.addrs[0].Port())
	p2 := cfg.AltPort
	if p2 == 0 {
		if err := listen(1, primary.Addr(), p1+1); err != nil || p1 == 65535 {
			if err := listen(1, primary.Addr(), 0); err != nil {
				return fail(err)
			}
		}
	} else if err := listen(1, primary.Addr(), p2); err != nil {
		return fail(err)
	}
	p2 = int(s.addrs[1].Port())
	if alt.IsValid() {
		if err := listen(2, alt, p1); err != nil {
			return fail(err)
		}
		if err := listen(3, alt, p2); err != nil {
			return fail(err)
		}
	}
	for i, c := range s.conns {
		if c == nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(i, c)
		}()
	}
	return s, nil
}

// Addr is the primary address.
func (s *STUNServer) Addr() *net.UDPAddr { return net.UDPAddrFromAddrPort(s.addrs[0]) }

// OtherAddr is the alternate address: the alternate IP and port when the
// server has a second IP, else the primary IP and the alternate port.
// Only with a second IP is it sent as OTHER-ADDRESS.
func (s *STUNServer) OtherAddr() *net.UDPAddr {
	if s.conns[3] != nil {
		return net.UDPAddrFromAddrPort(s.addrs[3])
	}
	return net.UDPAddrFromAddrPort(s.addrs[1])
}

// Stats returns the counters.
func (s *STUNServer) Stats() STUNStats {
	return STUNStats{Answered: s.answered.Load(), Errors: s.errs.Load(), Dropped: s.dropped.Load(), RateLimited: s.limited.Load()}
}

// Close stops the server and waits for its goroutines.
func (s *STUNServer) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		for _, c := range s.conns {
			if c != nil {
				c.Close()
			}
		}
	})
	s.wg.Wait()
	return nil
}

func (s *STUNServer) serve(i int, c net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			// Closed (pion's vnet says so in an error of its own), or a
			// transient error such as an ICMP report: keep serving
			// unless the server is closing.
			if s.closing.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
				return
			}
			time.Sleep(time.Millisecond) // no busy loop on a broken socket
			continue
		}
		src, ok := udpAddrPort(from)
		if !ok || n > MaxSTUNRequest {
			s.dropped.Add(1)
			continue
		}
		if !s.allow(src.Addr()) {
			s.limited.Add(1)
			continue
		}
		resp, via, ok := s.handle(buf[:n], src, i)
		if !ok {
			s.dropped.Add(1)
			continue
		}
		if _, err := s.conns[via].WriteTo(resp, net.UDPAddrFromAddrPort(src)); err != nil {
			s.log.Debug("STUN response not sent", "to", src, "err", err)
		}
	}
}

func (s *STUNServer) allow(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limit[ip]
	if l == nil {
		if len(s.limit) >= maxSTUNSources {
			clear(s.limit)
		}
		l = rate.NewLimiter(rate.Limit(s.rate), int(2*s.rate)+1)
		s.limit[ip] = l
	}
	return l.Allow()
}

// Change-request flags (RFC 5780 §7.2).
const (
	changeIP   = 0x04
	changePort = 0x02
)

// handle turns one datagram that arrived on socket on from src into a
// response to send from socket via; ok is false when nothing is to be
// sent (not a Binding request).
func (s *STUNServer) handle(b []byte, src netip.AddrPort, on int) (resp []byte, via int, ok bool) {
	if !stun.IsMessage(b) {
		return nil, 0, false
	}
	req := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := req.Decode(); err != nil || req.Type != stun.BindingRequest {
		return nil, 0, false
	}
	via = on
	var unknown []stun.AttrType
	var change uint32
	for _, a := range req.Attributes {
		switch {
		case a.Type == stun.AttrChangeRequest:
			if len(a.Value) != 4 {
				return s.errorResponse(req, stun.CodeBadRequest, nil, on)
			}
			change = binary.BigEndian.Uint32(a.Value)
		case a.Type < 0x8000 && !knownComprehensionRequired(a.Type):
			unknown = append(unknown, a.Type)
		}
	}
	if len(unknown) > 0 {
		if len(unknown) > 8 {
			unknown = unknown[:8]
		}
		return s.errorResponse(req, stun.CodeUnknownAttribute, unknown, on)
	}
	if change&changeIP != 0 {
		if s.conns[2] == nil {
			// RFC 5780 §6.1: a server without an alternate address
			// answers a change-IP request with 420.
			return s.errorResponse(req, stun.CodeUnknownAttribute, []stun.AttrType{stun.AttrChangeRequest}, on)
		}
		via ^= 2
	}
	if change&changePort != 0 {
		via ^= 1
	}
	setters := []stun.Setter{
		stun.NewTransactionIDSetter(req.TransactionID),
		stun.BindingSuccess,
		&stun.XORMappedAddress{IP: src.Addr().AsSlice(), Port: int(src.Port())},
		&stun.MappedAddress{IP: src.Addr().AsSlice(), Port: int(src.Port())},
		&stun.ResponseOrigin{IP: s.addrs[via].Addr().AsSlice(), Port: int(s.addrs[via].Port())},
	}
	if s.conns[3] != nil {
		o := s.addrs[on^3]
		setters = append(setters, &stun.OtherAddress{IP: o.Addr().AsSlice(), Port: int(o.Port())})
	}
	setters = append(setters, stun.NewSoftware("soitto"), stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		return nil, 0, false
	}
	s.answered.Add(1)
	return m.Raw, via, true
}

// knownComprehensionRequired are the attributes below 0x8000 a Binding
// request may carry that the server understands (or may ignore).
func knownComprehensionRequired(t stun.AttrType) bool {
	switch t {
	case stun.AttrChangeRequest, stun.AttrUsername, stun.AttrMessageIntegrity,
		stun.AttrPadding, stun.AttrResponsePort, stun.AttrPriority, stun.AttrUseCandidate:
		// PADDING and RESPONSE-PORT are understood and deliberately
		// not honoured: no amplification, no reflection elsewhere.
		return true
	}
	return false
}

func (s *STUNServer) errorResponse(req *stun.Message, code stun.ErrorCode, unknown []stun.AttrType, on int) ([]byte, int, bool) {
	setters := []stun.Setter{
		stun.NewTransactionIDSetter(req.TransactionID),
		stun.NewType(stun.MethodBinding, stun.ClassErrorResponse),
		code,
	}
	if len(unknown) > 0 {
		setters = append(setters, stun.UnknownAttributes(unknown))
	}
	setters = append(setters, stun.NewSoftware("soitto"), stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		return nil, 0, false
	}
	s.errs.Add(1)
	return m.Raw, on, true
}

func udpAddrPort(a net.Addr) (netip.AddrPort, bool) {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), ap.IsValid()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}
