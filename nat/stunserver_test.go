package nat

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"go.uber.org/goleak"
)

// newTestSTUN starts a server on 127.0.0.1, with 127.0.0.2 as its second
// IP when alt (all of 127/8 is loopback on Linux).
func newTestSTUN(t testing.TB, alt bool, rate float64) *STUNServer {
	t.Helper()
	cfg := STUNConfig{Listen: "127.0.0.1:0", RatePerIP: rate}
	if alt {
		cfg.AltIP = "127.0.0.2"
	}
	s, err := ListenSTUN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// exchange sends raw to the server and returns the answer and where it
// came from; ok is false when none came within 300 ms.
func exchange(t *testing.T, c net.PacketConn, to net.Addr, raw []byte) ([]byte, netip.AddrPort, bool) {
	t.Helper()
	if _, err := c.WriteTo(raw, to); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		return nil, netip.AddrPort{}, false
	}
	ap, _ := udpAddrPort(from)
	return buf[:n], ap, true
}

func bindingRequest(t *testing.T, extra ...stun.Setter) *stun.Message {
	t.Helper()
	m, err := stun.Build(append([]stun.Setter{stun.TransactionID, stun.BindingRequest}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSTUNServerAnswers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, err := ListenSTUN(STUNConfig{Listen: "127.0.0.1:0", AltIP: "127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	me, _ := udpAddrPort(c.LocalAddr())
	primary, _ := udpAddrPort(s.Addr())
	other, _ := udpAddrPort(s.OtherAddr())
	if other.Addr().String() != "127.0.0.2" || other.Port() == primary.Port() {
		t.Fatalf("other address %v", other)
	}
	for _, tc := range []struct {
		name   string
		change uint32
		from   netip.AddrPort
	}{
		{"plain", 0, primary},
		{"change port", changePort, netip.AddrPortFrom(primary.Addr(), other.Port())},
		{"change IP", changeIP, netip.AddrPortFrom(other.Addr(), primary.Port())},
		{"change both", changeIP | changePort, other},
	} {
		req := bindingRequest(t)
		if tc.change != 0 {
			req = bindingRequest(t, changeRequestAttr(tc.change))
		}
		raw, from, ok := exchange(t, c, s.Addr(), req.Raw)
		if !ok {
			t.Fatalf("%s: no answer", tc.name)
		}
		if from != tc.from {
			t.Errorf("%s: answer from %v, want %v", tc.name, from, tc.from)
		}
		var id [stun.TransactionIDSize]byte = req.TransactionID
		res, ok := parseBindResponse(raw, id)
		if !ok || res.err != nil {
			t.Fatalf("%s: %v", tc.name, res.err)
		}
		if res.mapped != me || res.origin != tc.from || res.other != other {
			t.Errorf("%s: mapped %v origin %v other %v; want %v %v %v", tc.name, res.mapped, res.origin, res.other, me, tc.from, other)
		}
	}
	if st := s.Stats(); st.Answered != 4 {
		t.Errorf("stats %+v", st)
	}
	c.Close()
	s.Close()
	s.Close()
}

func TestSTUNServerRefuses(t *testing.T) {
	s := newTestSTUN(t, false, 0)
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Without a second IP: no OTHER-ADDRESS, and change-IP is 420.
	req := bindingRequest(t)
	raw, _, ok := exchange(t, c, s.Addr(), req.Raw)
	res, _ := parseBindResponse(raw, req.TransactionID)
	if !ok || res.err != nil || res.other.IsValid() {
		t.Fatalf("plain binding: ok %v, %+v", ok, res)
	}
	req = bindingRequest(t, changeRequestAttr(changeIP))
	raw, _, ok = exchange(t, c, s.Addr(), req.Raw)
	res, _ = parseBindResponse(raw, req.TransactionID)
	if !ok || res.err == nil || !bytes.Contains([]byte(res.err.Error()), []byte("420")) {
		t.Fatalf("change-IP without a second IP: ok %v, %v", ok, res.err)
	}
	// An unknown comprehension-required attribute: 420, named.
	req = bindingRequest(t, rawAttr{0x7777, []byte{1, 2, 3, 4}})
	raw, _, ok = exchange(t, c, s.Addr(), req.Raw)
	m := &stun.Message{Raw: raw}
	var ua stun.UnknownAttributes
	if !ok || m.Decode() != nil || ua.GetFrom(m) != nil || len(ua) != 1 || ua[0] != 0x7777 {
		t.Fatalf("unknown attribute: ok %v, %v", ok, ua)
	}
	// No answer: other methods, garbage, oversize.
	alloc, _ := stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest))
	for name, b := range map[string][]byte{
		"allocate": alloc.Raw,
		"garbage":  []byte("hello, is this STUN?"),
		"oversize": append(bindingRequest(t).Raw, make([]byte, MaxSTUNRequest)...),
		"indication": func() []byte {
			m, _ := stun.Build(stun.TransactionID, stun.NewType(stun.MethodBinding, stun.ClassIndication))
			return m.Raw
		}(),
	} {
		if _, _, ok := exchange(t, c, s.Addr(), b); ok {
			t.Errorf("%s answered", name)
		}
	}
	if st := s.Stats(); st.Dropped < 4 || st.Errors != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestSTUNServerRateLimit(t *testing.T) {
	s := newTestSTUN(t, false, 5) // 5/s, burst 11
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 40 {
		c.WriteTo(bindingRequest(t).Raw, s.Addr())
	}
	got := 0
	for {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, _, err := c.ReadFrom(make([]byte, 1500)); err != nil {
			break
		}
		got++
	}
	if got > 13 || got < 5 {
		t.Errorf("%d of 40 answered at 5/s with a burst of 11", got)
	}
	if st := s.Stats(); st.RateLimited < 20 {
		t.Errorf("stats %+v", st)
	}
}

// Discovery on loopback: no NAT, and with a second IP, nothing filtered.
func TestDiscoverLoopback(t *testing.T) {
	a := newTestSTUN(t, true, 0)
	r, err := Discover(context.Background(), DiscoverConfig{Servers: []Server{{Addr: a.Addr().String(), Other: a.OtherAddr().String()}}, Local: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mapping != MappingNone || r.Filtering != FilteringEndpointIndependent || r.Type() != "open" || r.UDPBlocked {
		t.Errorf("report %v", r)
	}
	// Nobody answers: UDP blocked, within the timeout.
	dead, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	addr := dead.LocalAddr().String()
	dead.Close()
	start := time.Now()
	r, err = Discover(context.Background(), DiscoverConfig{Servers: []Server{{Addr: addr}}, Local: "127.0.0.1:0", Timeout: 600 * time.Millisecond})
	if err != nil && !r.UDPBlocked {
		// ICMP port unreachable may surface as a read error on Linux.
		t.Logf("discover against a closed port: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// rawAttr is an arbitrary attribute.
type rawAttr struct {
	t stun.AttrType
	v []byte
}

func (a rawAttr) AddTo(m *stun.Message) error {
	m.Add(a.t, a.v)
	return nil
}

func FuzzSTUNRequest(f *testing.F) {
	s := newTestSTUN(f, true, 0)
	for _, setters := range [][]stun.Setter{
		{stun.TransactionID, stun.BindingRequest},
		{stun.TransactionID, stun.BindingRequest, changeRequestAttr(changeIP | changePort)},
		{stun.TransactionID, stun.BindingRequest, rawAttr{0x0002, []byte{0, 1}}},
		{stun.TransactionID, stun.BindingRequest, stun.NewUsername("u"), stun.Fingerprint},
	} {
		m, _ := stun.Build(setters...)
		f.Add(m.Raw, uint8(0))
	}
	src := netip.MustParseAddrPort("127.0.0.1:5000")
	f.Fuzz(func(t *testing.T, b []byte, on uint8) {
		resp, via, ok := s.handle(b, src, int(on%4))
		if !ok {
			return
		}
		if len(resp) > MaxSTUNRequest || via < 0 || via > 3 || s.conns[via] == nil {
			t.Fatalf("response of %d bytes via socket %d", len(resp), via)
		}
		m := &stun.Message{Raw: resp}
		if err := m.Decode(); err != nil || m.Type.Method != stun.MethodBinding {
			t.Fatalf("answer is not a Binding response: %v", err)
		}
	})
}

func FuzzParseBindResponse(f *testing.F) {
	var id [stun.TransactionIDSize]byte
	m, _ := stun.Build(stun.NewTransactionIDSetter(id), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: net.IPv4(127, 0, 0, 1), Port: 5}, &stun.OtherAddress{IP: net.IPv4(127, 0, 0, 2), Port: 6})
	f.Add(m.Raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		parseBindResponse(b, id)
	})
}

func FuzzParseRESTUsername(f *testing.F) {
	f.Add("1767225600:alice")
	f.Add("x:y")
	f.Fuzz(func(t *testing.T, s string) {
		user, exp, err := ParseRESTUsername(s)
		if err != nil {
			return
		}
		if user == "" || len(s) > MaxTURNUsername || exp.Unix() <= 0 {
			t.Fatalf("%q parsed to %q %v", s, user, exp)
		}
	})
}
