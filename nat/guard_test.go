package nat

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// sendGuard wraps relay sockets for a test: it records every send and
// never lets one leave for anything but loopback, whatever the code
// under test does.
type sendGuard struct {
	mu    sync.Mutex
	sends []string
}

type guardedConn struct {
	net.PacketConn
	g *sendGuard
}

func (c guardedConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.g.mu.Lock()
	c.g.sends = append(c.g.sends, addr.String())
	c.g.mu.Unlock()
	if ap, ok := udpAddrPort(addr); !ok || !ap.Addr().IsLoopback() {
		return len(p), nil // dropped: the test fails on the record
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (g *sendGuard) recorded() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.sends...)
}

// TestRelayRefusesSSRF: a relay outside a test lab refuses permissions
// and sends towards loopback, the unspecified address, IPv4-mapped
// loopback, the cloud metadata address, a private address and its own
// TURN address (coturn's CVE-2020-26262, Slack's TURN SSRF), and nothing
// is sent to any of them.
func TestRelayRefusesSSRF(t *testing.T) {
	g := &sendGuard{}
	wrapRelayConn = func(c net.PacketConn) net.PacketConn { return guardedConn{c, g} }
	t.Cleanup(func() { wrapRelayConn = nil })

	// The relay's client side is on loopback; the relay itself is not in
	// lab mode.
	tr := newTestTURN(t, TURNConfig{ListenUDP: "127.0.0.1:0"})
	target, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	tport := target.LocalAddr().(*net.UDPAddr).Port

	user, pass, _ := tr.Credentials("mallory")
	cl := turnClient(t, tr.UDPAddr(), false, user, pass)
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	own, _ := udpAddrPort(tr.UDPAddr())
	for _, dst := range []string{
		"127.0.0.1", "0.0.0.0", "::ffff:127.0.0.1", "169.254.169.254", "10.0.0.1", own.Addr().String(),
	} {
		addr := net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(dst), uint16(tport)))
		if dst == own.Addr().String() {
			addr.Port = int(own.Port())
		}
		if err := cl.CreatePermission(addr); err == nil {
			t.Errorf("permission towards %v granted", addr)
		} else if !strings.Contains(err.Error(), "403") {
			t.Errorf("permission towards %v: %v; want 403 Forbidden", addr, err)
		}
		// Sending asks for the permission again; it must fail too.
		if _, err := relay.WriteTo([]byte("GET /latest/meta-data/ HTTP/1.0\r\n\r\n"), addr); err == nil {
			t.Errorf("send towards %v accepted", addr)
		}
	}
	target.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, from, err := target.ReadFrom(make([]byte, 100)); err == nil {
		t.Errorf("loopback target got %d bytes from %v", n, from)
	}
	if s := g.recorded(); len(s) != 0 {
		t.Errorf("the relay tried to send to %v", s)
	}
	if st := tr.Stats(); st.RefusedPeers < 6 {
		t.Errorf("refused peers %d, want at least 6", st.RefusedPeers)
	}

	// The guard itself works: in lab mode the same relay path reaches
	// the loopback target.
	lab := newTestTURN(t, TURNConfig{Lab: true})
	user, pass, _ = lab.Credentials("alice")
	cl2 := turnClient(t, lab.UDPAddr(), false, user, pass)
	relay2, err := cl2.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay2.Close()
	if _, err := relay2.WriteTo([]byte("hi"), target.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	target.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := target.ReadFrom(make([]byte, 100)); err != nil {
		t.Fatalf("lab relay did not reach loopback: %v", err)
	}
	if s := g.recorded(); len(s) != 1 {
		t.Errorf("guard recorded %v, want the one lab send", s)
	}
}

func TestCheckPeer(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("203.0.113.50")}
	refused := []string{
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "127.255.255.254", "169.254.169.254",
		"172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.10", "198.19.255.1",
		"198.51.100.1", "203.0.113.1", "224.0.0.251", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1", "100::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
		"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:a00:1::1", "::127.0.0.1",
	}
	for _, s := range refused {
		err := CheckPeer(netip.MustParseAddr(s), own, false)
		if err == nil {
			t.Errorf("%s allowed", s)
		} else if !strings.HasPrefix(err.Error(), "nat: refusing to relay to ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: reason %q", s, err)
		}
	}
	allowed := []string{"8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "172.32.0.1", "100.128.0.1"}
	for _, s := range allowed {
		if err := CheckPeer(netip.MustParseAddr(s), own, false); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	if err := CheckPeer(netip.MustParseAddr("203.0.113.50"), own, false); err == nil || !strings.Contains(err.Error(), "own address") {
		t.Errorf("own address: %v", err)
	}
	// A lab allows special addresses, but never the node's own services.
	if err := CheckPeer(netip.MustParseAddr("127.0.0.1"), own, true); err != nil {
		t.Errorf("lab: %v", err)
	}
	svc := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:3478"), netip.MustParseAddrPort("0.0.0.0:7600")}
	for _, s := range []string{"127.0.0.1:3478", "[::ffff:127.0.0.1]:3478", "127.0.0.1:7600"} {
		if err := CheckPeerPort(netip.MustParseAddrPort(s), svc, true); err == nil {
			t.Errorf("lab relay may send to its own service %s", s)
		}
	}
	if err := CheckPeerPort(netip.MustParseAddrPort("127.0.0.1:40000"), svc, true); err != nil {
		t.Errorf("lab peer refused: %v", err)
	}
}
