package nat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Mapping is a NAT's mapping behaviour (RFC 4787 §4.1, RFC 5780 §4.3).
type Mapping int

const (
	MappingUnknown Mapping = iota
	// MappingNone: the mapped address is the local one: no NAT.
	MappingNone
	// MappingEndpointIndependent: one mapping for all destinations.
	MappingEndpointIndependent
	// MappingAddressDependent: a mapping per destination IP.
	MappingAddressDependent
	// MappingAddressPortDependent: a mapping per destination IP and port.
	MappingAddressPortDependent
)

func (m Mapping) String() string {
	switch m {
	case MappingNone:
		return "none"
	case MappingEndpointIndependent:
		return "endpoint-independent"
	case MappingAddressDependent:
		return "address-dependent"
	case MappingAddressPortDependent:
		return "address-and-port-dependent"
	}
	return "unknown"
}

// MarshalText makes a Mapping its name in JSON.
func (m Mapping) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Filtering is a NAT's (or firewall's) filtering behaviour (RFC 4787
// §5, RFC 5780 §4.4).
type Filtering int

const (
	FilteringUnknown Filtering = iota
	// FilteringEndpointIndependent: anyone may send to a mapping.
	FilteringEndpointIndependent
	// FilteringAddressDependent: only IPs the client has sent to.
	FilteringAddressDependent
	// FilteringAddressPortDependent: only IP and port pairs the client
	// has sent to.
	FilteringAddressPortDependent
	// FilteringNotPortDependent: address-dependent or
	// endpoint-independent; only a server with a second IP tells which.
	FilteringNotPortDependent
)

func (f Filtering) String() string {
	switch f {
	case FilteringEndpointIndependent:
		return "endpoint-independent"
	case FilteringAddressDependent:
		return "address-dependent"
	case FilteringAddressPortDependent:
		return "address-and-port-dependent"
	case FilteringNotPortDependent:
		return "endpoint-independent or address-dependent"
	}
	return "unknown"
}

// MarshalText makes a Filtering its name in JSON.
func (f Filtering) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// Report is what discovery found.
type Report struct {
	UDPBlocked bool           `json:"udp_blocked"`
	Local      netip.AddrPort `json:"local"`
	Mapped     netip.AddrPort `json:"mapped"`
	Mapping    Mapping        `json:"mapping"`
	Filtering  Filtering      `json:"filtering"`
	Servers    []string       `json:"servers,omitempty"`
}

// Type names the NAT in the classic terms (RFC 3489's, which people
// know), from the RFC 4787 behaviours:
//
//	no mapping, endpoint-independent filtering   "open"
//	no mapping, any other filtering              "firewalled"
//	EI mapping, EI filtering                     "full cone"
//	EI mapping, address-dependent filtering      "restricted cone"
//	EI mapping, address+port-dependent filtering "port-restricted cone"
//	EI mapping, EI or AD filtering (one IP)      "restricted or full cone"
//	any other mapping                            "symmetric"
//	no STUN answer                               "UDP blocked"
func (r Report) Type() string {
	if r.UDPBlocked {
		return "UDP blocked"
	}
	switch r.Mapping {
	case MappingNone:
		switch r.Filtering {
		case FilteringEndpointIndependent, FilteringNotPortDependent:
			return "open"
		case FilteringUnknown:
			return "open"
		}
		return "firewalled"
	case MappingEndpointIndependent:
		switch r.Filtering {
		case FilteringEndpointIndependent:
			return "full cone"
		case FilteringAddressDependent:
			return "restricted cone"
		case FilteringAddressPortDependent:
			return "port-restricted cone"
		case FilteringNotPortDependent:
			return "restricted or full cone"
		}
		return "cone"
	case MappingAddressDependent, MappingAddressPortDependent:
		return "symmetric"
	}
	return "unknown"
}

func (r Report) String() string {
	if r.UDPBlocked {
		return "UDP blocked"
	}
	return fmt.Sprintf("%s (mapping %v, filtering %v, mapped %v)", r.Type(), r.Mapping, r.Filtering, r.Mapped)
}

// Server is a STUN server to discover against: its address and its
// alternate one (Other: the alternate port, and IP if it has two), as a
// super-peer describes them.
type Server struct {
	Addr, Other string
}

// DiscoverConfig configures Discover.
type DiscoverConfig struct {
	// Servers: [0] the attached super-peer's STUN server, [1] another
	// super-peer's (a different IP), if there is one.
	Servers []Server
	// Net is the network; nil is the real one.
	Net transport.Net
	// Local is the local "ip:port" to bind; if empty, ":0".
	Local string
	// Timeout bounds one test that gets no answer; if zero, 1.5 s.
	Timeout time.Duration
}

// ChangeRequest asks a STUN server to answer from its alternate IP
// and/or port.
type ChangeRequest struct{ IP, Port bool }

// errNoAnswer is a test that got no answer (which filtering tests
// expect for some NATs).
var errNoAnswer = errors.New("nat: no STUN answer")

// Discover runs the RFC 5780 mapping and filtering tests from one local
// socket. Without an alternate IP on servers[0] it uses servers[1] as the
// "different IP" of the mapping tests and cannot tell endpoint-independent
// from address-dependent filtering (FilteringNotPortDependent).
func Discover(ctx context.Context, cfg DiscoverConfig) (Report, error) {
	if len(cfg.Servers) == 0 {
		return Report{}, errors.New("nat: no STUN server to discover against")
	}
	if cfg.Net == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return Report{}, fmt.Errorf("nat: %w", err)
		}
		cfg.Net = n
	}
	if cfg.Local == "" {
		cfg.Local = ":0"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 1500 * time.Millisecond
	}
	resolve := func(a string) (*net.UDPAddr, error) {
		if a == "" {
			return nil, nil
		}
		u, err := cfg.Net.ResolveUDPAddr("udp4", a)
		if err != nil {
			return nil, fmt.Errorf("nat: STUN server %q: %w", a, err)
		}
		return u, nil
	}
	a, err := resolve(cfg.Servers[0].Addr)
	if err != nil {
		return Report{}, err
	}
	aOther, err := resolve(cfg.Servers[0].Other)
	if err != nil {
		return Report{}, err
	}
	var b, bOther *net.UDPAddr
	if len(cfg.Servers) > 1 {
		if b, err = resolve(cfg.Servers[1].Addr); err != nil {
			return Report{}, err
		}
		if bOther, err = resolve(cfg.Servers[1].Other); err != nil {
			return Report{}, err
		}
	}
	conn, err := cfg.Net.ListenPacket("udp4", cfg.Local)
	if err != nil {
		return Report{}, fmt.Errorf("nat: %w", err)
	}
	defer conn.Close()
	r := Report{}
	for _, s := range cfg.Servers {
		r.Servers = append(r.Servers, s.Addr)
	}
	local, _ := udpAddrPort(conn.LocalAddr())
	if local.Addr().IsUnspecified() {
		// The source IP the system picks towards the server.
		if c, err := cfg.Net.Dial("udp4", a.String()); err == nil {
			if la, ok := udpAddrPort(c.LocalAddr()); ok {
				local = netip.AddrPortFrom(la.Addr(), local.Port())
			}
			c.Close()
		}
	}
	r.Local = local
	tries := func(n int) *binder { return &binder{conn: conn, timeout: cfg.Timeout, tries: n} }

	// Test I.
	res1, err := tries(4).do(ctx, a, ChangeRequest{})
	if errors.Is(err, errNoAnswer) {
		r.UDPBlocked = true
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.Mapped = res1.mapped
	// The server's own OTHER-ADDRESS (a second IP) beats what we were
	// told; without it the "different IP" is the second server.
	altIP := res1.other.IsValid() && res1.other.Addr() != netip.MustParseAddrPort(a.String()).Addr()
	// Filtering tests: answers from elsewhere than where we sent. They
	// come before mapping tests II and III, which send to the other IP
	// and port: that would open an address-dependent filter for them,
	// and a restricted cone would pass for a full cone (RFC 5780 §4.4:
	// the filtering tests are sensitive to prior state on the NAT).
	switch {
	case altIP:
		if _, err := tries(2).do(ctx, a, ChangeRequest{IP: true, Port: true}); err == nil {
			r.Filtering = FilteringEndpointIndependent
		} else if _, err := tries(2).do(ctx, a, ChangeRequest{Port: true}); err == nil {
			r.Filtering = FilteringAddressDependent
		} else {
			r.Filtering = FilteringAddressPortDependent
		}
	case aOther != nil:
		if _, err := tries(2).do(ctx, a, ChangeRequest{Port: true}); err == nil {
			r.Filtering = FilteringNotPortDependent
		} else if errors.Is(err, errNoAnswer) {
			r.Filtering = FilteringAddressPortDependent
		}
	}
	if res1.mapped == local {
		r.Mapping = MappingNone
	} else {
		// Mapping test II: a different IP, same port.
		var d, dAlt *net.UDPAddr
		switch {
		case altIP:
			d = net.UDPAddrFromAddrPort(netip.AddrPortFrom(res1.other.Addr(), uint16(a.Port)))
			dAlt = net.UDPAddrFromAddrPort(res1.other)
		case b != nil:
			d, dAlt = b, bOther
		}
		if d != nil {
			res2, err := tries(3).do(ctx, d, ChangeRequest{})
			switch {
			case err != nil:
				// Leave the mapping unknown.
			case res2.mapped == res1.mapped:
				r.Mapping = MappingEndpointIndependent
			case dAlt != nil:
				// Test III: the same IP as test II, another port.
				res3, err := tries(3).do(ctx, dAlt, ChangeRequest{})
				if err == nil {
					if res3.mapped == res2.mapped {
						r.Mapping = MappingAddressDependent
					} else {
						r.Mapping = MappingAddressPortDependent
					}
				}
			default:
				r.Mapping = MappingAddressPortDependent // at least address-dependent; reported as symmetric either way
			}
		}
	}
	return r, nil
}

// bindResult is one Binding response.
type bindResult struct {
	mapped, other, origin netip.AddrPort
	from                  netip.AddrPort
}

// binder runs Binding transactions on conn, one at a time, resending
// after 100, 200, 400 … ms until timeout or tries sends.
type binder struct {
	conn    net.PacketConn
	timeout time.Duration
	tries   int
}

func (b *binder) do(ctx context.Context, server *net.UDPAddr, change ChangeRequest) (bindResult, error) {
	var id [stun.TransactionIDSize]byte
	rand.Read(id[:])
	setters := []stun.Setter{stun.BindingRequest, stun.NewTransactionIDSetter(id)}
	if change.IP || change.Port {
		var v uint32
		if change.IP {
			v |= changeIP
		}
		if change.Port {
			v |= changePort
		}
		setters = append(setters, changeRequestAttr(v))
	}
	setters = append(setters, stun.Fingerprint)
	req, err := stun.Build(setters...)
	if err != nil {
		return bindResult{}, err
	}
	deadline := time.Now().Add(b.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	rto := 100 * time.Millisecond
	buf := make([]byte, 1500)
	for sent := 0; sent < b.tries && time.Now().Before(deadline); sent++ {
		if _, err := b.conn.WriteTo(req.Raw, server); err != nil {
			return bindResult{}, fmt.Errorf("nat: sending to %v: %w", server, err)
		}
		wait := time.Now().Add(rto)
		if sent == b.tries-1 || wait.After(deadline) {
			wait = deadline
		}
		rto *= 2
		for {
			if ctx.Err() != nil {
				return bindResult{}, ctx.Err()
			}
			b.conn.SetReadDeadline(wait)
			n, from, err := b.conn.ReadFrom(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break // resend
				}
				return bindResult{}, fmt.Errorf("nat: %w", err)
			}
			res, ok := parseBindResponse(buf[:n], id)
			if !ok {
				continue // not ours
			}
			res.from, _ = udpAddrPort(from)
			if res.err != nil {
				return bindResult{}, res.err
			}
			if res.origin.IsValid() && res.origin != res.from {
				// RFC 5780 §7.3: the response did not come from where
				// it says; a NAT or proxy in the way. Use where it came
				// from.
				res.origin = res.from
			}
			return res.bindResult, nil
		}
	}
	return bindResult{}, errNoAnswer
}

type parsedBind struct {
	bindResult
	err error
}

// parseBindResponse decodes a Binding response with transaction id.
func parseBindResponse(b []byte, id [stun.TransactionIDSize]byte) (parsedBind, bool) {
	if len(b) > 1500 || !stun.IsMessage(b) {
		return parsedBind{}, false
	}
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if m.Decode() != nil || m.TransactionID != id || m.Type.Method != stun.MethodBinding {
		return parsedBind{}, false
	}
	if m.Type.Class == stun.ClassErrorResponse {
		var code stun.ErrorCodeAttribute
		code.GetFrom(m)
		// The reason phrase is the server's text: quoted and cut, so
		// the error stays one line whatever it sends.
		reason := string(code.Reason)
		if len(reason) > 100 {
			reason = reason[:100]
		}
		return parsedBind{err: fmt.Errorf("nat: STUN error %d %q", code.Code, reason)}, true
	}
	if m.Type.Class != stun.ClassSuccessResponse {
		return parsedBind{}, false
	}
	var res parsedBind
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(m); err == nil {
		res.mapped = toAddrPort(xa.IP, xa.Port)
	} else {
		var ma stun.MappedAddress
		if err := ma.GetFrom(m); err != nil {
			return parsedBind{err: errors.New("nat: STUN response without a mapped address")}, true
		}
		res.mapped = toAddrPort(ma.IP, ma.Port)
	}
	var oa stun.OtherAddress
	if oa.GetFrom(m) == nil {
		res.other = toAddrPort(oa.IP, oa.Port)
	}
	var ro stun.ResponseOrigin
	if ro.GetFrom(m) == nil {
		res.origin = toAddrPort(ro.IP, ro.Port)
	}
	return res, true
}

func toAddrPort(ip net.IP, port int) netip.AddrPort {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || port < 0 || port > 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

// changeRequestAttr is a CHANGE-REQUEST attribute.
type changeRequestAttr uint32

func (c changeRequestAttr) AddTo(m *stun.Message) error {
	v := []byte{0, 0, 0, byte(c)}
	m.Add(stun.AttrChangeRequest, v)
	return nil
}
