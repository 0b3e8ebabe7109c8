package nat

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/stun/v4"
)

// Fuzz targets for what the STUN server and the discovery client read
// from the network, and for TURN REST usernames. Run one with
//
//	go test ./nat/ -run '^$' -fuzz '^FuzzSTUNHandle$' -fuzztime 20s

// fuzzSeedMessages are valid STUN messages of the kinds the server and
// the client see.
func fuzzSeedMessages(tb testing.TB) [][]byte {
	tb.Helper()
	var id [stun.TransactionIDSize]byte
	copy(id[:], "soitto-fuzz!")
	tid := stun.NewTransactionIDSetter(id)
	var out [][]byte
	for _, setters := range [][]stun.Setter{
		{tid, stun.BindingRequest},
		{tid, stun.BindingRequest, stun.Fingerprint},
		{tid, stun.BindingRequest, changeRequestAttr(changePort)},
		{tid, stun.BindingRequest, changeRequestAttr(changeIP | changePort), stun.Fingerprint},
		{tid, stun.BindingRequest, stun.NewUsername("1767225600:alice"), stun.NewShortTermIntegrity("pw"), stun.Fingerprint},
		{tid, stun.BindingRequest, stunAttr{0x7777, []byte{1, 2, 3}}, stunAttr{0x8123, []byte{4}}},
		{tid, stun.BindingRequest, stunAttr{stun.AttrChangeRequest, []byte{0, 4}}},
		{tid, stun.BindingRequest, stunAttr{stun.AttrPadding, make([]byte, 64)}},
		{tid, stun.NewType(stun.MethodAllocate, stun.ClassRequest), stun.NewUsername("u")},
		{tid, stun.NewType(stun.MethodBinding, stun.ClassIndication)},
		{tid, stun.BindingSuccess, &stun.XORMappedAddress{IP: net.IPv4(203, 0, 113, 7), Port: 40000},
			&stun.MappedAddress{IP: net.IPv4(203, 0, 113, 7), Port: 40000},
			&stun.ResponseOrigin{IP: net.IPv4(127, 0, 0, 1), Port: 3478},
			&stun.OtherAddress{IP: net.IPv4(127, 0, 0, 2), Port: 3479}, stun.NewSoftware("soitto"), stun.Fingerprint},
		{tid, stun.BindingSuccess, &stun.XORMappedAddress{IP: net.ParseIP("2001:db8::1"), Port: 1}},
		{tid, stun.BindingSuccess, &stun.MappedAddress{IP: net.IPv4(198, 51, 100, 1), Port: 2}},
		{tid, stun.NewType(stun.MethodBinding, stun.ClassErrorResponse), stun.CodeUnknownAttribute,
			stun.UnknownAttributes{stun.AttrChangeRequest}},
	} {
		m, err := stun.Build(setters...)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m.Raw)
	}
	return out
}

// FuzzSTUNHandle feeds datagrams to the server's request handler: it
// never panics, answers exactly the Binding requests, and every answer is
// a well-formed Binding response of at most 1280 bytes, to be sent from
// one of the server's sockets, naming the sender.
func FuzzSTUNHandle(f *testing.F) {
	withAlt := listenSTUNFuzz(f, "127.0.0.2")
	oneIP := listenSTUNFuzz(f, "")
	for i, b := range fuzzSeedMessages(f) {
		f.Add(b, uint8(i), i%2 == 0, uint8(i))
	}
	f.Add([]byte("garbage"), uint8(0), true, uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, on uint8, alt bool, srcKind uint8) {
		s, sockets := oneIP, 2
		if alt {
			s, sockets = withAlt, 4
		}
		src := []netip.AddrPort{
			netip.MustParseAddrPort("127.0.0.1:5000"),
			netip.MustParseAddrPort("203.0.113.7:65535"),
			netip.MustParseAddrPort("[2001:db8::7]:1"),
		}[int(srcKind)%3]
		in := int(on) % sockets
		orig := bytes.Clone(b)
		resp, via, ok := s.handle(b, src, in)
		if !bytes.Equal(b, orig) {
			t.Fatal("handle changed the datagram")
		}
		req := &stun.Message{Raw: bytes.Clone(b)}
		isBinding := stun.IsMessage(b) && req.Decode() == nil && req.Type == stun.BindingRequest
		if ok != isBinding {
			t.Fatalf("answered %v, but a Binding request: %v", ok, isBinding)
		}
		if !ok {
			return
		}
		if len(resp) > MaxSTUNRequest {
			t.Fatalf("an answer of %d bytes", len(resp))
		}
		if via < 0 || via >= sockets || s.conns[via] == nil {
			t.Fatalf("answer via socket %d of %d", via, sockets)
		}
		m := &stun.Message{Raw: resp}
		if err := m.Decode(); err != nil {
			t.Fatalf("the answer does not decode: %v", err)
		}
		if m.TransactionID != req.TransactionID || m.Type.Method != stun.MethodBinding {
			t.Fatalf("answer %v to another transaction or method", m.Type)
		}
		if err := stun.Fingerprint.Check(m); err != nil {
			t.Fatalf("answer FINGERPRINT: %v", err)
		}
		switch m.Type.Class {
		case stun.ClassErrorResponse:
			if via != in {
				t.Fatalf("an error answer via socket %d, the request came to %d", via, in)
			}
			var ec stun.ErrorCodeAttribute
			if err := ec.GetFrom(m); err != nil || (ec.Code != stun.CodeBadRequest && ec.Code != stun.CodeUnknownAttribute) {
				t.Fatalf("error answer %v (%v)", ec, err)
			}
		case stun.ClassSuccessResponse:
			var xa stun.XORMappedAddress
			if err := xa.GetFrom(m); err != nil || toAddrPort(xa.IP, xa.Port) != src {
				t.Fatalf("XOR-MAPPED-ADDRESS %v (%v), want %v", xa, err, src)
			}
			var ro stun.ResponseOrigin
			if err := ro.GetFrom(m); err != nil || toAddrPort(ro.IP, ro.Port) != s.addrs[via] {
				t.Fatalf("RESPONSE-ORIGIN %v (%v), want %v", ro, err, s.addrs[via])
			}
			var oa stun.OtherAddress
			if err := oa.GetFrom(m); alt != (err == nil) {
				t.Fatalf("OTHER-ADDRESS %v (%v) from a server with a second IP: %v", oa, err, alt)
			}
		default:
			t.Fatalf("answer class %v", m.Type.Class)
		}
	})
}

func listenSTUNFuzz(f *testing.F, alt string) *STUNServer {
	s, err := ListenSTUN(STUNConfig{Listen: "127.0.0.1:0", AltIP: alt})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	return s
}

// FuzzBindResponse feeds datagrams to the discovery client's response
// parser: it never panics, takes only Binding responses to its own
// transaction, and reads the same addresses pion's decoder does.
func FuzzBindResponse(f *testing.F) {
	for _, b := range fuzzSeedMessages(f) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var id [stun.TransactionIDSize]byte
		if len(b) >= 20 {
			copy(id[:], b[8:20]) // its own transaction, so the fuzzer gets past the id check
		}
		orig := bytes.Clone(b)
		res, ok := parseBindResponse(b, id)
		if !bytes.Equal(b, orig) {
			t.Fatal("the parser changed the datagram")
		}
		other := id
		other[0] ^= 0xff
		if _, okOther := parseBindResponse(b, other); okOther {
			t.Fatal("a response to another transaction was taken")
		}
		if !ok {
			return
		}
		m := &stun.Message{Raw: bytes.Clone(b)}
		if len(b) > 1500 || !stun.IsMessage(b) || m.Decode() != nil || m.Type.Method != stun.MethodBinding {
			t.Fatalf("took something that is not a Binding response (%d bytes)", len(b))
		}
		switch m.Type.Class {
		case stun.ClassErrorResponse:
			if res.err == nil || strings.Contains(res.err.Error(), "\n") {
				t.Fatalf("an error response parsed to %v", res.err)
			}
			return
		case stun.ClassSuccessResponse:
		default:
			t.Fatalf("took class %v", m.Type.Class)
		}
		var want netip.AddrPort
		var xa stun.XORMappedAddress
		var ma stun.MappedAddress
		if err := xa.GetFrom(m); err == nil {
			want = toAddrPort(xa.IP, xa.Port)
		} else if err := ma.GetFrom(m); err == nil {
			want = toAddrPort(ma.IP, ma.Port)
		} else {
			if res.err == nil {
				t.Fatal("a success response without a mapped address parsed without error")
			}
			return
		}
		if res.err != nil || res.mapped != want || !res.mapped.IsValid() {
			t.Fatalf("mapped %v (%v), want %v", res.mapped, res.err, want)
		}
		if res.mapped.Addr().Is4In6() || res.other.Addr().Is4In6() || res.origin.Addr().Is4In6() {
			t.Fatalf("an IPv4-mapped address left mapped: %+v", res.bindResult)
		}
	})
}

// FuzzRESTUsername feeds TURN usernames to the relay's parser: it never
// panics, errors are one line, and what it takes is EXPIRY:USER that our
// own credentials reproduce.
func FuzzRESTUsername(f *testing.F) {
	for _, s := range []string{
		"1767225600:alice", "1:b", "x:y", ":alice", "1767225600:", "-5:a", "+5:a", "0005:a",
		"1099511627776:a", "1099511627777:a", "99999999999999999999:a", "1767225600:al:ice",
		strings.Repeat("9", 300) + ":a", "1767225600:" + strings.Repeat("u", 245),
	} {
		f.Add(s)
	}
	secret := []byte("fuzz secret")
	f.Fuzz(func(t *testing.T, s string) {
		user, exp, err := ParseRESTUsername(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "nat: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if user == "" || len(s) > MaxTURNUsername || exp.Unix() <= 0 || exp.Unix() > 1<<40 || !strings.HasSuffix(s, ":"+user) {
			t.Fatalf("%q parsed to user %q, expiry %v", s, user, exp)
		}
		ts, _, _ := strings.Cut(s, ":")
		if ts+":"+user != s {
			t.Fatalf("%q: the user is not all after the first colon: %q", s, user)
		}
		name, pass := RESTCredentials(secret, user, exp)
		u2, e2, err := ParseRESTUsername(name)
		if err != nil || u2 != user || !e2.Equal(exp) {
			t.Fatalf("%q: our own credentials %q parse to %q %v %v", s, name, u2, e2, err)
		}
		if pass != restPassword(secret, name) || pass == restPassword(secret, name+"x") {
			t.Fatal("password does not depend on the username")
		}
	})
}
