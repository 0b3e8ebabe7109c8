package nat

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"go.uber.org/goleak"
)

// The STUN server on loopback: 127.0.0.1 and, as the second IP,
// 127.0.0.2 (Linux routes all of 127.0.0.0/8 to lo).

// stunSockets are a server's four addresses as a client sees them:
// [0] primary, [1] primary IP + alternate port, [2] alternate IP +
// primary port, [3] alternate IP and port (OtherAddr).
func stunSockets(s *STUNServer) [4]netip.AddrPort {
	p, _ := udpAddrPort(s.Addr())
	o, _ := udpAddrPort(s.OtherAddr())
	return [4]netip.AddrPort{
		p, netip.AddrPortFrom(p.Addr(), o.Port()),
		netip.AddrPortFrom(o.Addr(), p.Port()), o,
	}
}

func listenSTUNTest(t *testing.T, cfg STUNConfig) *STUNServer {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	s, err := ListenSTUN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stunClient is a UDP socket on ip (loopback).
func stunClient(t *testing.T, ip string) (net.PacketConn, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenPacket("udp4", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ap, _ := udpAddrPort(c.LocalAddr())
	return c, ap
}

// stunAsk sends a Binding request with the given attributes to dst and
// returns the decoded answer with its transaction id, and the address
// the datagram came from; nil if none came within wait.
func stunAsk(t *testing.T, c net.PacketConn, dst netip.AddrPort, wait time.Duration, attrs ...stun.Setter) (*stun.Message, netip.AddrPort) {
	t.Helper()
	req, err := stun.Build(append([]stun.Setter{stun.TransactionID, stun.BindingRequest}, attrs...)...)
	if err != nil {
		t.Fatal(err)
	}
	return stunSendRaw(t, c, dst, req.Raw, req.TransactionID, wait)
}

// stunSendRaw sends raw and waits for a STUN message with transaction id
// id (others are skipped).
func stunSendRaw(t *testing.T, c net.PacketConn, dst netip.AddrPort, raw []byte, id [stun.TransactionIDSize]byte, wait time.Duration) (*stun.Message, netip.AddrPort) {
	t.Helper()
	if _, err := c.WriteTo(raw, net.UDPAddrFromAddrPort(dst)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 2048)
	for {
		c.SetReadDeadline(deadline)
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return nil, netip.AddrPort{}
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if m.Decode() != nil || m.TransactionID != id {
			continue
		}
		src, _ := udpAddrPort(from)
		return m, src
	}
}

func stunErrorCode(t *testing.T, m *stun.Message) stun.ErrorCode {
	t.Helper()
	if m.Type != stun.NewType(stun.MethodBinding, stun.ClassErrorResponse) {
		t.Fatalf("answer is %v, want a Binding error response", m.Type)
	}
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(m); err != nil {
		t.Fatalf("error response without ERROR-CODE: %v", err)
	}
	return ec.Code
}

// TestSTUNBindingFromEverySocket: a request to any of the four sockets,
// with every CHANGE-REQUEST, is answered from the socket it asks for,
// with the client's address, where the answer came from, and the
// alternate address (as seen from the socket the request reached).
func TestSTUNBindingFromEverySocket(t *testing.T) {
	s := listenSTUNTest(t, STUNConfig{AltIP: "127.0.0.2"})
	socks := stunSockets(s)
	if socks[3].Addr() != netip.MustParseAddr("127.0.0.2") || socks[0].Addr() != netip.MustParseAddr("127.0.0.1") || socks[0].Port() == socks[3].Port() {
		t.Fatalf("server sockets %v", socks)
	}
	c, me := stunClient(t, "127.0.0.1")
	changes := []struct {
		name string
		flag uint32
	}{{"none", 0}, {"change port", changePort}, {"change IP", changeIP}, {"change IP and port", changeIP | changePort}}
	for on, dst := range socks {
		for _, ch := range changes {
			var attrs []stun.Setter
			if ch.flag != 0 {
				attrs = append(attrs, changeRequestAttr(ch.flag))
			}
			m, from := stunAsk(t, c, dst, 2*time.Second, attrs...)
			if m == nil {
				t.Fatalf("to %v, %s: no answer", dst, ch.name)
			}
			var wantFrom netip.AddrPort
			switch ch.flag {
			case 0:
				wantFrom = socks[on]
			case changePort:
				wantFrom = socks[on^1]
			case changeIP:
				wantFrom = socks[on^2]
			default:
				wantFrom = socks[on^3]
			}
			if m.Type != stun.BindingSuccess {
				t.Fatalf("to %v, %s: %v", dst, ch.name, m.Type)
			}
			if from != wantFrom {
				t.Errorf("to %v, %s: the answer came from %v, want %v", dst, ch.name, from, wantFrom)
			}
			var xa stun.XORMappedAddress
			var ma stun.MappedAddress
			var ro stun.ResponseOrigin
			var oa stun.OtherAddress
			if err := xa.GetFrom(m); err != nil || toAddrPort(xa.IP, xa.Port) != me {
				t.Errorf("to %v, %s: XOR-MAPPED-ADDRESS %v (%v), want %v", dst, ch.name, xa, err, me)
			}
			if err := ma.GetFrom(m); err != nil || toAddrPort(ma.IP, ma.Port) != me {
				t.Errorf("to %v, %s: MAPPED-ADDRESS %v (%v), want %v", dst, ch.name, ma, err, me)
			}
			if err := ro.GetFrom(m); err != nil || toAddrPort(ro.IP, ro.Port) != wantFrom {
				t.Errorf("to %v, %s: RESPONSE-ORIGIN %v (%v), want %v", dst, ch.name, ro, err, wantFrom)
			}
			if err := oa.GetFrom(m); err != nil || toAddrPort(oa.IP, oa.Port) != socks[on^3] {
				t.Errorf("to %v, %s: OTHER-ADDRESS %v (%v), want %v", dst, ch.name, oa, err, socks[on^3])
			}
			if err := stun.Fingerprint.Check(m); err != nil {
				t.Errorf("to %v, %s: FINGERPRINT: %v", dst, ch.name, err)
			}
		}
	}
	if st := s.Stats(); st.Answered != 16 || st.Errors != 0 || st.Dropped != 0 || st.RateLimited != 0 {
		t.Errorf("stats %+v, want 16 answered and nothing else", st)
	}
}

// TestSTUNWithoutAltIP: one IP: no OTHER-ADDRESS, change-port still
// works, change-IP is 420 (RFC 5780 §6.1) from the socket asked.
func TestSTUNWithoutAltIP(t *testing.T) {
	s := listenSTUNTest(t, STUNConfig{})
	socks := stunSockets(s)
	if socks[1] != socks[3] || socks[0].Port() == socks[1].Port() {
		t.Fatalf("single-IP sockets %v", socks)
	}
	c, me := stunClient(t, "127.0.0.1")
	m, from := stunAsk(t, c, socks[0], 2*time.Second)
	if m == nil || m.Type != stun.BindingSuccess || from != socks[0] {
		t.Fatalf("plain Binding: %v from %v", m, from)
	}
	var oa stun.OtherAddress
	if oa.GetFrom(m) == nil {
		t.Errorf("OTHER-ADDRESS %v sent by a server with one IP", oa)
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(m); err != nil || toAddrPort(xa.IP, xa.Port) != me {
		t.Errorf("XOR-MAPPED-ADDRESS %v (%v), want %v", xa, err, me)
	}
	m, from = stunAsk(t, c, socks[0], 2*time.Second, changeRequestAttr(changePort))
	if m == nil || m.Type != stun.BindingSuccess || from != socks[1] {
		t.Fatalf("change port: %v from %v, want success from %v", m, from, socks[1])
	}
	for _, flag := range []uint32{changeIP, changeIP | changePort} {
		m, from = stunAsk(t, c, socks[0], 2*time.Second, changeRequestAttr(flag))
		if m == nil {
			t.Fatalf("change flags %#x: no answer", flag)
		}
		if code := stunErrorCode(t, m); code != stun.CodeUnknownAttribute || from != socks[0] {
			t.Errorf("change flags %#x: %d from %v, want 420 from %v", flag, code, from, socks[0])
		}
		var ua stun.UnknownAttributes
		if err := ua.GetFrom(m); err != nil || len(ua) != 1 || ua[0] != stun.AttrChangeRequest {
			t.Errorf("change flags %#x: UNKNOWN-ATTRIBUTES %v (%v), want CHANGE-REQUEST", flag, ua, err)
		}
	}
	if st := s.Stats(); st.Answered != 2 || st.Errors != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestSTUNAttributeChecks: unknown comprehension-required attributes
// are 420 with UNKNOWN-ATTRIBUTES naming them; unknown optional ones are
// ignored; a CHANGE-REQUEST of the wrong size is 400.
func TestSTUNAttributeChecks(t *testing.T) {
	s := listenSTUNTest(t, STUNConfig{AltIP: "127.0.0.2"})
	socks := stunSockets(s)
	c, _ := stunClient(t, "127.0.0.1")

	m, from := stunAsk(t, c, socks[0], 2*time.Second, stunAttr{0x7777, []byte{1, 2, 3, 4}}, stunAttr{0x0004, []byte{0, 0}}, stun.NewSoftware("test"))
	if m == nil {
		t.Fatal("unknown attributes: no answer")
	}
	if code := stunErrorCode(t, m); code != stun.CodeUnknownAttribute || from != socks[0] {
		t.Errorf("unknown attributes: %d from %v, want 420 from %v", code, from, socks[0])
	}
	var ua stun.UnknownAttributes
	if err := ua.GetFrom(m); err != nil || len(ua) != 2 || ua[0] != 0x7777 || ua[1] != 0x0004 {
		t.Errorf("UNKNOWN-ATTRIBUTES %v (%v), want [0x7777 0x0004]", ua, err)
	}
	// Comprehension-optional (0x8000 and up): ignored.
	if m, _ := stunAsk(t, c, socks[0], 2*time.Second, stunAttr{0x8123, []byte{9}}); m == nil || m.Type != stun.BindingSuccess {
		t.Errorf("an unknown optional attribute: %v, want success", m)
	}
	// Understood ones (USERNAME, PRIORITY, PADDING, RESPONSE-PORT): no 420.
	if m, _ := stunAsk(t, c, socks[0], 2*time.Second, stun.NewUsername("u"), stunAttr{stun.AttrPriority, []byte{0, 0, 0, 1}},
		stunAttr{stun.AttrPadding, make([]byte, 8)}, stunAttr{stun.AttrResponsePort, []byte{0x30, 0x39, 0, 0}}); m == nil || m.Type != stun.BindingSuccess {
		t.Errorf("known attributes: %v, want success", m)
	}
	m, _ = stunAsk(t, c, socks[0], 2*time.Second, stunAttr{stun.AttrChangeRequest, []byte{0, 6}})
	if m == nil || stunErrorCode(t, m) != stun.CodeBadRequest {
		t.Errorf("a 2-byte CHANGE-REQUEST: %v, want 400", m)
	}
	// Nine unknown attributes: the list is cut at eight.
	var many []stun.Setter
	for i := range 9 {
		many = append(many, stunAttr{stun.AttrType(0x7000 + i), nil})
	}
	m, _ = stunAsk(t, c, socks[0], 2*time.Second, many...)
	if m == nil || stunErrorCode(t, m) != stun.CodeUnknownAttribute || ua.GetFrom(m) != nil || len(ua) != 8 {
		t.Errorf("nine unknown attributes: %v, UNKNOWN-ATTRIBUTES %v", m, ua)
	}
	if st := s.Stats(); st.Answered != 2 || st.Errors != 3 {
		t.Errorf("stats %+v, want 2 answered and 3 errors", st)
	}
}

// TestSTUNDropsWhatIsNotABindingRequest: other methods and classes,
// garbage and datagrams over 1280 bytes get no answer and count as
// dropped; a 1280-byte Binding request is still answered.
func TestSTUNDropsWhatIsNotABindingRequest(t *testing.T) {
	s := listenSTUNTest(t, STUNConfig{AltIP: "127.0.0.2", RatePerIP: 1000})
	socks := stunSockets(s)
	c, _ := stunClient(t, "127.0.0.1")
	build := func(setters ...stun.Setter) []byte {
		m, err := stun.Build(append([]stun.Setter{stun.TransactionID}, setters...)...)
		if err != nil {
			t.Fatal(err)
		}
		return m.Raw
	}
	// A valid Binding request padded to n bytes (n a multiple of 4, ≥ 28).
	padded := func(n int) []byte {
		return build(stun.BindingRequest, stunAttr{stun.AttrPadding, make([]byte, n-20-4)})
	}
	if len(padded(1280)) != 1280 || len(padded(1284)) != 1284 {
		t.Fatal("padding arithmetic")
	}
	drops := map[string][]byte{
		"Allocate request":         build(stun.NewType(stun.MethodAllocate, stun.ClassRequest)),
		"Refresh request":          build(stun.NewType(stun.MethodRefresh, stun.ClassRequest)),
		"Binding indication":       build(stun.NewType(stun.MethodBinding, stun.ClassIndication)),
		"Binding success response": build(stun.BindingSuccess, &stun.XORMappedAddress{IP: net.IPv4(127, 0, 0, 1), Port: 1}),
		"Binding error response":   build(stun.NewType(stun.MethodBinding, stun.ClassErrorResponse), stun.CodeBadRequest),
		"garbage":                  []byte("GET / HTTP/1.0\r\n\r\n"),
		"empty datagram":           {},
		"truncated header":         padded(28)[:19],
		"wrong magic cookie":       func() []byte { b := padded(28); b[4] ^= 0xff; return b }(),
		"length past the end":      func() []byte { b := padded(28); b[3] = 0x40; return b }(),
		"1284-byte Binding":        padded(1284),
		"2000-byte Binding":        padded(2000),
		"9000-byte Binding":        padded(9000),
	}
	for name, b := range drops {
		if _, err := c.WriteTo(b, net.UDPAddrFromAddrPort(socks[0])); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The socket is served in order: once a later request is answered,
	// every drop before it has been handled.
	big := padded(1280)
	var id [stun.TransactionIDSize]byte
	copy(id[:], big[8:20])
	m, _ := stunSendRaw(t, c, socks[0], big, id, 2*time.Second)
	if m == nil || m.Type != stun.BindingSuccess {
		t.Fatalf("a 1280-byte Binding request: %v", m)
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, from, err := c.ReadFrom(make([]byte, 2048)); err == nil {
		t.Errorf("an answer of %d bytes from %v to something that was to be dropped", n, from)
	}
	if st := s.Stats(); st.Dropped != uint64(len(drops)) || st.Answered != 1 || st.Errors != 0 {
		t.Errorf("stats %+v, want %d dropped and 1 answered", st, len(drops))
	}
}

// TestSTUNRatePerIP: answers per source IP are limited (a burst of twice
// the rate, plus one); every request is either answered or counted as
// rate-limited; another source IP has its own budget.
func TestSTUNRatePerIP(t *testing.T) {
	s := listenSTUNTest(t, STUNConfig{RatePerIP: 2}) // burst 5
	dst, _ := udpAddrPort(s.Addr())
	c, _ := stunClient(t, "127.0.0.1")
	const sent = 30
	start := time.Now()
	for range sent {
		req, _ := stun.Build(stun.TransactionID, stun.BindingRequest)
		if _, err := c.WriteTo(req.Raw, net.UDPAddrFromAddrPort(dst)); err != nil {
			t.Fatal(err)
		}
	}
	// Another IP is not limited by the first one's flood.
	c3, _ := stunClient(t, "127.0.0.3")
	if m, _ := stunAsk(t, c3, dst, 2*time.Second); m == nil || m.Type != stun.BindingSuccess {
		t.Errorf("127.0.0.3 was limited by 127.0.0.1's requests: %v", m)
	}
	got := 0
	for {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, _, err := c.ReadFrom(make([]byte, 2048)); err != nil {
			break
		}
		got++
	}
	elapsed := time.Since(start).Seconds()
	maxGot := 5 + int(2*elapsed) + 1
	if got < 5 || got > maxGot {
		t.Errorf("%d of %d answered in %.2f s at 2/s with a burst of 5; want 5 to %d", got, sent, elapsed, maxGot)
	}
	st := s.Stats()
	if st.Answered != uint64(got)+1 || st.RateLimited != uint64(sent-got) {
		t.Errorf("stats %+v; want %d answered (one for 127.0.0.3) and %d rate-limited", st, got+1, sent-got)
	}
	// The budget refills.
	time.Sleep(600 * time.Millisecond)
	if m, _ := stunAsk(t, c, dst, 2*time.Second); m == nil {
		t.Error("no answer after the budget refilled")
	}
	t.Logf("answered %d of %d within %.2f s; stats %+v", got, sent, elapsed, s.Stats())
}

// TestSTUNCloseIsIdempotent: Close stops every goroutine, frees every
// socket, and may be called again, also concurrently.
func TestSTUNCloseIsIdempotent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, err := ListenSTUN(STUNConfig{Listen: "127.0.0.1:0", AltIP: "127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	socks := stunSockets(s)
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m, _ := stunAsk(t, c, socks[0], 2*time.Second, changeRequestAttr(changeIP|changePort)); m == nil {
		t.Fatal("no answer")
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	// Every socket is free again.
	for _, a := range socks {
		l, err := net.ListenPacket("udp4", a.String())
		if err != nil {
			t.Errorf("%v still taken after Close: %v", a, err)
			continue
		}
		l.Close()
	}
}

// stunAttr is an arbitrary attribute.
type stunAttr struct {
	t stun.AttrType
	v []byte
}

func (a stunAttr) AddTo(m *stun.Message) error {
	m.Add(a.t, a.v)
	return nil
}
