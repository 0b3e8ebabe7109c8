package nat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/transport/v5/vnet"
)

// Discovery against NATs that pion's vnet simulates, on a virtual
// Internet: nothing here leaves the process.

// vnetLogs keeps vnet's logging (it warns on every filtered packet) out
// of the test output.
func vnetLogs() slogFactory {
	return slogFactory{slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// discWAN is a virtual Internet (27.1.0.0/16) with STUN servers on it.
type discWAN struct {
	t   *testing.T
	wan *vnet.Router
	n   int // hosts and routers added, for their WAN addresses
}

func newDiscWAN(t *testing.T) *discWAN {
	t.Helper()
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "27.1.0.0/16", LoggerFactory: vnetLogs()})
	if err != nil {
		t.Fatal(err)
	}
	return &discWAN{t: t, wan: wan}
}

// start starts the routers; they stop when the test ends (before the
// servers on them close, cleanups running last-in first-out: either
// order is fine).
func (w *discWAN) start() {
	w.t.Helper()
	if err := w.wan.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { w.wan.Stop() })
}

// stun puts a STUN server on the WAN at ip, with alt as its second IP
// when not empty. Must be called before start.
func (w *discWAN) stun(ip, alt string) *STUNServer {
	w.t.Helper()
	ips := []string{ip}
	if alt != "" {
		ips = append(ips, alt)
	}
	n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: ips})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.wan.AddNet(n); err != nil {
		w.t.Fatal(err)
	}
	s, err := ListenSTUN(STUNConfig{Listen: ip + ":3478", AltIP: alt, Net: n, RatePerIP: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { s.Close() })
	return s
}

// discNAT is a router between a LAN host and the WAN.
type discNAT struct {
	name string
	// direct: the host sits on the WAN, no NAT.
	direct bool
	// blockUDP: the router drops every UDP packet.
	blockUDP           bool
	mapping, filtering vnet.EndpointDependencyType
}

// host adds a host behind k and returns its network. Must be called
// before start.
func (w *discWAN) host(k discNAT) *vnet.Net {
	w.t.Helper()
	w.n++
	wanIP := fmt.Sprintf("27.1.1.%d", w.n)
	if k.direct {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{wanIP}})
		if err != nil {
			w.t.Fatal(err)
		}
		if err := w.wan.AddNet(n); err != nil {
			w.t.Fatal(err)
		}
		return n
	}
	lan, err := vnet.NewRouter(&vnet.RouterConfig{
		StaticIPs: []string{wanIP},
		CIDR:      fmt.Sprintf("192.168.%d.0/24", w.n),
		NATType: &vnet.NATType{
			Mode: vnet.NATModeNormal, MappingBehavior: k.mapping, FilteringBehavior: k.filtering,
		},
		LoggerFactory: vnetLogs(),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if k.blockUDP {
		lan.AddChunkFilter(func(c vnet.Chunk) bool { return c.Network() != "udp" })
	}
	if err := w.wan.AddRouter(lan); err != nil {
		w.t.Fatal(err)
	}
	n, err := vnet.NewNet(&vnet.NetConfig{})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := lan.AddNet(n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

var (
	natDirect        = discNAT{name: "no NAT", direct: true}
	natFullCone      = discNAT{name: "full cone", mapping: vnet.EndpointIndependent, filtering: vnet.EndpointIndependent}
	natRestricted    = discNAT{name: "restricted cone", mapping: vnet.EndpointIndependent, filtering: vnet.EndpointAddrDependent}
	natPortRestrict  = discNAT{name: "port-restricted cone", mapping: vnet.EndpointIndependent, filtering: vnet.EndpointAddrPortDependent}
	natSymmetric     = discNAT{name: "symmetric", mapping: vnet.EndpointAddrPortDependent, filtering: vnet.EndpointAddrPortDependent}
	natSymmetricAddr = discNAT{name: "address-dependent symmetric", mapping: vnet.EndpointAddrDependent, filtering: vnet.EndpointAddrDependent}
	natBlocked       = discNAT{name: "UDP blocked", blockUDP: true, mapping: vnet.EndpointIndependent, filtering: vnet.EndpointIndependent}
)

// discTimeout bounds one unanswered discovery test. vnet answers in well
// under a millisecond (a request is resent after 100 ms); this is what a
// filtered test costs, with room for a loaded CI machine.
const discTimeout = 600 * time.Millisecond

// TestDiscoverBehindNATs: one STUN server with two IPs tells every
// mapping and filtering behaviour apart.
func TestDiscoverBehindNATs(t *testing.T) {
	w := newDiscWAN(t)
	s := w.stun("27.1.0.10", "27.1.0.11")
	if got := s.OtherAddr().String(); got != "27.1.0.11:3479" {
		t.Fatalf("other address %s, want 27.1.0.11:3479", got)
	}
	servers := []Server{{Addr: s.Addr().String(), Other: s.OtherAddr().String()}}
	cases := []struct {
		nat       discNAT
		mapping   Mapping
		filtering Filtering
		typ       string
	}{
		{natDirect, MappingNone, FilteringEndpointIndependent, "open"},
		{natFullCone, MappingEndpointIndependent, FilteringEndpointIndependent, "full cone"},
		{natRestricted, MappingEndpointIndependent, FilteringAddressDependent, "restricted cone"},
		{natPortRestrict, MappingEndpointIndependent, FilteringAddressPortDependent, "port-restricted cone"},
		{natSymmetric, MappingAddressPortDependent, FilteringAddressPortDependent, "symmetric"},
		{natSymmetricAddr, MappingAddressDependent, FilteringAddressDependent, "symmetric"},
		{natBlocked, MappingUnknown, FilteringUnknown, "UDP blocked"},
	}
	nets := make([]*vnet.Net, len(cases))
	for i, tc := range cases {
		nets[i] = w.host(tc.nat)
	}
	w.start()
	for i, tc := range cases {
		t.Run(tc.nat.name, func(t *testing.T) {
			t.Parallel()
			r, err := Discover(context.Background(), DiscoverConfig{Servers: servers, Net: nets[i], Timeout: discTimeout})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v", r)
			if r.Mapping != tc.mapping || r.Filtering != tc.filtering || r.Type() != tc.typ || r.UDPBlocked != (tc.typ == "UDP blocked") {
				t.Errorf("got %q: mapping %v, filtering %v; want %q: %v, %v", r.Type(), r.Mapping, r.Filtering, tc.typ, tc.mapping, tc.filtering)
			}
			checkMapped(t, tc.nat, r)
		})
	}
}

// checkMapped: behind a NAT the mapped address is the router's WAN
// address, never the host's own; without one it is the host's.
func checkMapped(t *testing.T, k discNAT, r Report) {
	t.Helper()
	switch {
	case k.blockUDP:
		if r.Mapped.IsValid() {
			t.Errorf("UDP blocked, yet mapped %v", r.Mapped)
		}
	case k.direct:
		if r.Mapped != r.Local {
			t.Errorf("no NAT: mapped %v, local %v", r.Mapped, r.Local)
		}
	default:
		if r.Mapped == r.Local || !r.Mapped.IsValid() || r.Mapped.Addr().As4()[1] != 1 || r.Local.Addr().As4()[0] != 192 {
			t.Errorf("behind a NAT: mapped %v, local %v", r.Mapped, r.Local)
		}
	}
}

// TestDiscoverTwoSingleIPServers: two STUN servers with one IP each (the
// usual pair of super-peers) still tell endpoint-independent mapping from
// symmetric, and port-dependent filtering from the rest; EI and AD
// filtering they cannot tell apart.
func TestDiscoverTwoSingleIPServers(t *testing.T) {
	w := newDiscWAN(t)
	a := w.stun("27.1.0.20", "")
	b := w.stun("27.1.0.30", "")
	if a.OtherAddr().IP.String() != "27.1.0.20" || a.OtherAddr().Port == a.Addr().Port {
		t.Fatalf("single-IP server's other address %v", a.OtherAddr())
	}
	servers := []Server{
		{Addr: a.Addr().String(), Other: a.OtherAddr().String()},
		{Addr: b.Addr().String(), Other: b.OtherAddr().String()},
	}
	cases := []struct {
		nat       discNAT
		mapping   Mapping
		filtering Filtering
		typ       string
	}{
		{natDirect, MappingNone, FilteringNotPortDependent, "open"},
		{natFullCone, MappingEndpointIndependent, FilteringNotPortDependent, "restricted or full cone"},
		{natRestricted, MappingEndpointIndependent, FilteringNotPortDependent, "restricted or full cone"},
		{natPortRestrict, MappingEndpointIndependent, FilteringAddressPortDependent, "port-restricted cone"},
		{natSymmetric, MappingAddressPortDependent, FilteringAddressPortDependent, "symmetric"},
		{natSymmetricAddr, MappingAddressDependent, FilteringNotPortDependent, "symmetric"},
		{natBlocked, MappingUnknown, FilteringUnknown, "UDP blocked"},
	}
	nets := make([]*vnet.Net, len(cases))
	for i, tc := range cases {
		nets[i] = w.host(tc.nat)
	}
	w.start()
	for i, tc := range cases {
		t.Run(tc.nat.name, func(t *testing.T) {
			t.Parallel()
			r, err := Discover(context.Background(), DiscoverConfig{Servers: servers, Net: nets[i], Timeout: discTimeout})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v", r)
			if r.Mapping != tc.mapping || r.Filtering != tc.filtering || r.Type() != tc.typ {
				t.Errorf("got %q: mapping %v, filtering %v; want %q: %v, %v", r.Type(), r.Mapping, r.Filtering, tc.typ, tc.mapping, tc.filtering)
			}
			checkMapped(t, tc.nat, r)
		})
	}
	// One single-IP server alone: the mapping stays unknown (nothing to
	// compare with), the filtering is still measured.
	t.Run("one server", func(t *testing.T) {
		w2 := newDiscWAN(t)
		s := w2.stun("27.1.0.40", "")
		n := w2.host(natPortRestrict)
		w2.start()
		r, err := Discover(context.Background(), DiscoverConfig{Servers: []Server{{Addr: s.Addr().String(), Other: s.OtherAddr().String()}}, Net: n, Timeout: discTimeout})
		if err != nil {
			t.Fatal(err)
		}
		if r.Mapping != MappingUnknown || r.Filtering != FilteringAddressPortDependent || !r.Mapped.IsValid() {
			t.Errorf("one single-IP server behind a port-restricted cone: %v", r)
		}
	})
}
