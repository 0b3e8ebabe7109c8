package nat

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// Every address below is only a value handed to CheckPeer; nothing is
// sent anywhere.

// specialRanges are the ranges a relay outside a lab must refuse, from
// IANA's IPv4 and IPv6 special-purpose registries (the ones not
// globally reachable) plus multicast and the reserved class E; written
// out here, not taken from peercheck.go, so a range dropped there fails.
var specialRanges = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
}

// prefixSamples are the first, last and a middle address of p.
func prefixSamples(p netip.Prefix) []netip.Addr {
	first := p.Masked().Addr()
	b := first.AsSlice()
	last := make([]byte, len(b))
	copy(last, b)
	for i := p.Bits(); i < len(b)*8; i++ {
		last[i/8] |= 0x80 >> (i % 8)
	}
	lastA, _ := netip.AddrFromSlice(last)
	out := []netip.Addr{first}
	if lastA != first {
		mid := make([]byte, len(b))
		copy(mid, b)
		if bit := p.Bits() + 1; bit < len(b)*8 {
			mid[bit/8] |= 0x80 >> (bit % 8) // the middle of the range
		}
		mid[len(mid)-1] |= 0x05
		midA, _ := netip.AddrFromSlice(mid)
		out = append(out, midA, lastA)
	}
	return out
}

// v4Forms are the IPv6 spellings of an IPv4 address a relay must see
// through: IPv4-mapped, NAT64 (RFC 6052 well-known prefix), 6to4 and
// IPv4-compatible.
func v4Forms(a netip.Addr) map[string]netip.Addr {
	v := a.As4()
	return map[string]netip.Addr{
		"mapped": netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: v[0], 13: v[1], 14: v[2], 15: v[3]}),
		"NAT64":  netip.AddrFrom16([16]byte{0: 0x00, 1: 0x64, 2: 0xff, 3: 0x9b, 12: v[0], 13: v[1], 14: v[2], 15: v[3]}),
		"6to4":   netip.AddrFrom16([16]byte{0: 0x20, 1: 0x02, 2: v[0], 3: v[1], 4: v[2], 5: v[3], 15: 1}),
		"compat": netip.AddrFrom16([16]byte{12: v[0], 13: v[1], 14: v[2], 15: v[3]}),
	}
}

func checkRefusal(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s allowed", what)
	} else if !strings.HasPrefix(err.Error(), "nat: refusing to relay to ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: refusal %q is not one line saying so", what, err)
	}
}

func inSpecial(a netip.Addr) bool {
	for _, r := range specialRanges {
		if netip.MustParsePrefix(r).Contains(a) {
			return true
		}
	}
	return false
}

// TestCheckPeerEveryRange: first, middle and last address of every
// special range, and every IPv6 spelling of the IPv4 ones, are refused;
// the addresses just outside each range are not; a lab allows them all.
func TestCheckPeerEveryRange(t *testing.T) {
	// The table and peercheck.go name the same ranges.
	inCode := map[netip.Prefix]bool{}
	for _, p := range refusedPrefixes {
		inCode[p.prefix] = true
	}
	for _, r := range specialRanges {
		if !inCode[netip.MustParsePrefix(r)] {
			t.Errorf("%s is not in peercheck.go's refused ranges", r)
		}
		delete(inCode, netip.MustParsePrefix(r))
	}
	for p := range inCode {
		t.Errorf("peercheck.go refuses %v, which this test does not cover", p)
	}

	own := []netip.Addr{netip.MustParseAddr("8.8.4.4")}
	n := 0
	for _, r := range specialRanges {
		p := netip.MustParsePrefix(r)
		for _, a := range prefixSamples(p) {
			checkRefusal(t, fmt.Sprintf("%v (in %v)", a, p), CheckPeer(a, own, false))
			if err := CheckPeer(a, own, true); err != nil {
				t.Errorf("lab: %v refused: %v", a, err)
			}
			n++
			if !a.Is4() {
				continue
			}
			for form, a6 := range v4Forms(a) {
				checkRefusal(t, fmt.Sprintf("%s form %v of %v", form, a6, a), CheckPeer(a6, own, false))
				if err := CheckPeer(a6, own, true); err != nil {
					t.Errorf("lab: %v refused: %v", a6, err)
				}
				n++
			}
		}
		// Just outside: allowed, unless another special range holds it.
		first, last := prefixSamples(p)[0], prefixSamples(p)[len(prefixSamples(p))-1]
		for _, a := range []netip.Addr{first.Prev(), last.Next()} {
			if !a.IsValid() || inSpecial(a) {
				continue
			}
			if a.Is6() && (netip.MustParsePrefix("::/96").Contains(a) || netip.MustParsePrefix("::ffff:0:0/96").Contains(a)) {
				continue // an IPv4 spelling, checked as its IPv4 address
			}
			if err := CheckPeer(a, own, false); err != nil {
				t.Errorf("%v, just outside %v, refused: %v", a, p, err)
			}
		}
	}
	t.Logf("%d special addresses refused", n)
}

// TestCheckPeerPublicAndOwn: public addresses, in every spelling, are
// allowed; the node's own IPs are refused in every spelling.
func TestCheckPeerPublicAndOwn(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("8.8.4.4"), netip.MustParseAddr("2001:4860:4860::8844")}
	for _, s := range []string{
		"8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
		"192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255",
		"2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	} {
		if err := CheckPeer(netip.MustParseAddr(s), own, false); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	for _, s := range []string{"8.8.4.4", "::ffff:8.8.4.4", "2001:4860:4860::8844"} {
		err := CheckPeer(netip.MustParseAddr(s), own, false)
		checkRefusal(t, "own "+s, err)
		if err != nil && !strings.Contains(err.Error(), "own address") {
			t.Errorf("own %s: %v, want it to say why", s, err)
		}
	}
	// A zone does not hide a link-local address; an invalid address is
	// refused.
	checkRefusal(t, "fe80::1%eth0", CheckPeer(netip.MustParseAddr("fe80::1%eth0"), nil, false))
	checkRefusal(t, "the zero Addr", CheckPeer(netip.Addr{}, nil, false))
	checkRefusal(t, "the zero Addr in a lab", CheckPeer(netip.Addr{}, nil, true))
}

// TestCheckPeerPortOwnServices: in a lab, where special addresses are
// allowed, the node's own services are still refused, however they are
// spelt, and other ports are allowed.
func TestCheckPeerPortOwnServices(t *testing.T) {
	svc := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:3478"),       // STUN on loopback
		netip.MustParseAddrPort("0.0.0.0:7600"),         // overlay on every IPv4 address
		netip.MustParseAddrPort("[::]:7700"),            // metrics on every address
		netip.MustParseAddrPort("198.18.0.5:3479"),      // TURN on a lab address
		netip.MustParseAddrPort("[2001:db8::5]:3480"),   // an IPv6 service
		netip.MustParseAddrPort("[::ffff:10.0.0.5]:81"), // a service written IPv4-mapped
		netip.MustParseAddrPort("8.8.4.4:3481"),         // a service on a public IP
	}
	for _, lab := range []bool{true, false} {
		for _, s := range []string{
			"127.0.0.1:3478", "[::ffff:127.0.0.1]:3478", "0.0.0.0:3478", "[::]:3478",
			"127.0.0.1:7600", "127.9.9.9:7600", "[::1]:7600", "0.0.0.0:7600", "198.18.0.5:7600",
			"[::1]:7700", "127.0.0.1:7700", "[::]:7700",
			"198.18.0.5:3479", "[::ffff:198.18.0.5]:3479", "0.0.0.0:3479",
			"[2001:db8::5]:3480", "10.0.0.5:81",
		} {
			checkRefusal(t, fmt.Sprintf("lab=%v: own service %s", lab, s), CheckPeerPort(netip.MustParseAddrPort(s), svc, lab))
		}
	}
	for _, s := range []string{"127.0.0.1:40000", "127.0.0.2:3478", "198.18.0.6:3479", "198.18.0.5:3478", "10.0.0.6:81", "[::1]:40000"} {
		if err := CheckPeerPort(netip.MustParseAddrPort(s), svc, true); err != nil {
			t.Errorf("lab: %s refused: %v", s, err)
		}
	}
	// Outside a lab the service IPs are the node's own: refused on any
	// port (and loopback is refused anyway).
	for _, s := range []string{"8.8.4.4:40000", "[::ffff:8.8.4.4]:1", "198.18.0.5:40000", "127.0.0.1:40000"} {
		checkRefusal(t, "not a lab: "+s, CheckPeerPort(netip.MustParseAddrPort(s), svc, false))
	}
	if err := CheckPeerPort(netip.MustParseAddrPort("8.8.8.8:3478"), svc, false); err != nil {
		t.Errorf("a public peer on a port the node also uses: %v", err)
	}
}

// TestRESTCredentialsMatchPion: our TURN REST credentials are pion's
// (GenerateLongTermTURNRESTCredentials) and coturn's format, both ways.
func TestRESTCredentialsMatchPion(t *testing.T) {
	const secret = "shared secret"
	const ttl = 10 * time.Minute
	before := time.Now()
	pu, pp, err := turn.GenerateLongTermTURNRESTCredentials(secret, "alice", ttl)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	user, exp, err := ParseRESTUsername(pu)
	if err != nil || user != "alice" {
		t.Fatalf("pion's username %q parsed to %q, %v", pu, user, err)
	}
	if exp.Unix() < before.Add(ttl).Unix() || exp.Unix() > after.Add(ttl).Unix() {
		t.Errorf("pion's username %q: expiry %v, want %v", pu, exp, before.Add(ttl))
	}
	ou, op := RESTCredentials([]byte(secret), "alice", exp)
	if ou != pu || op != pp {
		t.Errorf("ours %q / %q, pion's %q / %q", ou, op, pu, pp)
	}
	// pion's REST auth handler takes ours...
	ra := &turn.RequestAttributes{Username: ou, Realm: "soitto", Method: stun.MethodAllocate}
	uid, key, ok := turn.LongTermTURNRESTAuthHandler(secret, slogLogger{vnetLogs().log})(ra)
	if !ok || uid != "alice" || string(key) != string(turn.GenerateAuthKey(ou, "soitto", op)) {
		t.Errorf("pion's handler on our credentials: %q %v", uid, ok)
	}
	// ... and our relay takes pion's.
	tr := newTestTURN(t, TURNConfig{Secret: []byte(secret), Lab: true})
	ra = &turn.RequestAttributes{Username: pu, Realm: "soitto", Method: stun.MethodAllocate}
	uid, key, ok = tr.auth(ra)
	if !ok || uid != "alice" || string(key) != string(turn.GenerateAuthKey(pu, "soitto", pp)) {
		t.Errorf("our relay on pion's credentials: %q %v", uid, ok)
	}
	// The user part may itself hold colons (coturn takes everything
	// after the first).
	u, _, err := ParseRESTUsername("1767225600:alice:work")
	if err != nil || u != "alice:work" {
		t.Errorf("a user with a colon: %q %v", u, err)
	}
	for _, bad := range []string{"", "alice", ":alice", "1767225600:", "0:alice", "-1:alice", "x:alice", "1767225600x:alice", strings.Repeat("1", 300) + ":a"} {
		if _, _, err := ParseRESTUsername(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
