package nat

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// The relay as an attacker's proxy (server-side request forgery):
// coturn's CVE-2020-26262, Slack's TURN SSRF. A guard under the relay
// sockets records every send and lets nothing leave for anything but
// loopback, whatever the code under test does.

// ssrfGuard records every relay send; it passes sends to 127.0.0.0/8 and
// drops (never sends) all others.
type ssrfGuard struct {
	mu    sync.Mutex
	sends []string
}

type ssrfGuardConn struct {
	net.PacketConn
	g *ssrfGuard
}

func (c ssrfGuardConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.g.mu.Lock()
	c.g.sends = append(c.g.sends, addr.String())
	c.g.mu.Unlock()
	ap, ok := udpAddrPort(addr)
	if !ok || !netip.MustParsePrefix("127.0.0.0/8").Contains(ap.Addr()) {
		return len(p), nil // dropped; the test fails on the record
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (g *ssrfGuard) recorded() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.sends...)
}

// installSSRFGuard wraps every relay socket made during the test.
func installSSRFGuard(t *testing.T) *ssrfGuard {
	t.Helper()
	g := &ssrfGuard{}
	prev := wrapRelayConn
	wrapRelayConn = func(c net.PacketConn) net.PacketConn { return ssrfGuardConn{c, g} }
	t.Cleanup(func() { wrapRelayConn = prev })
	return g
}

// ssrfClient is a pion TURN client over UDP from 127.0.0.1; its socket is
// returned too, to send raw TURN messages on the same allocation.
func ssrfClient(t *testing.T, server net.Addr, user, pass string) (*turn.Client, net.PacketConn) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server.String(), TURNServerAddr: server.String(),
		Username: user, Password: pass, Conn: conn, RTO: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); conn.Close() })
	return cl, conn
}

// sendIndication is a raw TURN Send indication towards peer: it needs no
// authentication, only an allocation for the 5-tuple and a permission.
func sendIndication(t *testing.T, conn net.PacketConn, server net.Addr, peer netip.AddrPort, data []byte) {
	t.Helper()
	xpa := stun.XORMappedAddress{IP: peer.Addr().AsSlice(), Port: int(peer.Port())}
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodSend, stun.ClassIndication),
		setterFunc(func(m *stun.Message) error { return xpa.AddToAs(m, stun.AttrXORPeerAddress) }),
		setterFunc(func(m *stun.Message) error { m.Add(stun.AttrData, data); return nil }),
		stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteTo(m.Raw, server); err != nil {
		t.Fatal(err)
	}
}

type setterFunc func(*stun.Message) error

func (f setterFunc) AddTo(m *stun.Message) error { return f(m) }

// TestTURNRefusesForgedPeers: a relay not in lab mode refuses
// permissions and sends towards loopback, the unspecified address,
// IPv4-mapped loopback, the cloud metadata address, a private address
// and its own TURN address; nothing is sent to any of them, also not for
// raw Send indications and ChannelData that skip the client's checks.
func TestTURNRefusesForgedPeers(t *testing.T) {
	g := installSSRFGuard(t)
	tr := newTestTURN(t, TURNConfig{ListenUDP: "127.0.0.1:0", RelayIP: "127.0.0.1"})
	target, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	tport := uint16(target.LocalAddr().(*net.UDPAddr).Port)
	own, _ := udpAddrPort(tr.UDPAddr())

	user, pass, _ := tr.Credentials("mallory")
	cl, conn := ssrfClient(t, tr.UDPAddr(), user, pass)
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	peers := []netip.AddrPort{
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), tport),
		netip.AddrPortFrom(netip.MustParseAddr("0.0.0.0"), tport),
		netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), tport),
		netip.AddrPortFrom(netip.MustParseAddr("169.254.169.254"), 80),
		netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), tport),
		own,
	}
	for _, p := range peers {
		addr := net.UDPAddrFromAddrPort(p)
		if err := cl.CreatePermission(addr); err == nil {
			t.Errorf("permission towards %v granted", p)
		} else if !strings.Contains(err.Error(), "403") {
			t.Errorf("permission towards %v: %v; want 403 Forbidden", p, err)
		}
		// Sending asks for the permission again; it fails too.
		if _, err := relay.WriteTo([]byte("GET /latest/meta-data/ HTTP/1.0\r\n\r\n"), addr); err == nil {
			t.Errorf("a send towards %v was accepted", p)
		} else if !strings.Contains(err.Error(), "403") {
			t.Errorf("a send towards %v: %v; want 403 Forbidden", p, err)
		}
		// Raw, past the client: a Send indication and ChannelData on a
		// channel never bound.
		sendIndication(t, conn, tr.UDPAddr(), p, []byte("raw send"))
	}
	conn.WriteTo([]byte{0x40, 0x00, 0x00, 0x04, 'd', 'a', 't', 'a'}, tr.UDPAddr())

	// The relay still works for what it may do: a Binding request on the
	// same socket is answered after everything above was handled.
	if _, err := cl.SendBindingRequest(); err != nil {
		t.Fatalf("the relay stopped answering: %v", err)
	}
	target.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, from, err := target.ReadFrom(make([]byte, 100)); err == nil {
		t.Errorf("the loopback target got %d bytes from %v", n, from)
	}
	if s := g.recorded(); len(s) != 0 {
		t.Errorf("the relay tried to send to %v", s)
	}
	// Each refused CreatePermission counts: one direct and one for the
	// send, per peer.
	if st := tr.Stats(); st.RefusedPeers != uint64(2*len(peers)) {
		t.Errorf("refused peers %d, want %d", st.RefusedPeers, 2*len(peers))
	}
	t.Logf("stats %+v", tr.Stats())
}

// TestLabTURNRefusesOwnServices: in a lab, where loopback peers are
// allowed, the relay still never sends to its own services, however the
// address is written, and the guard is shown to pass what is allowed.
func TestLabTURNRefusesOwnServices(t *testing.T) {
	g := installSSRFGuard(t)
	stunSrv := listenSTUNTest(t, STUNConfig{})
	stunAddr, _ := udpAddrPort(stunSrv.Addr())
	tr := newTestTURN(t, TURNConfig{ListenUDP: "127.0.0.1:0", Lab: true, OwnAddrs: []netip.AddrPort{stunAddr}})
	own, _ := udpAddrPort(tr.UDPAddr())
	target, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()

	user, pass, _ := tr.Credentials("alice")
	cl, _ := ssrfClient(t, tr.UDPAddr(), user, pass)
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	for _, p := range []netip.AddrPort{
		own, stunAddr,
		netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.1"), own.Port()),
		netip.AddrPortFrom(netip.IPv4Unspecified(), own.Port()),
		netip.AddrPortFrom(netip.IPv4Unspecified(), stunAddr.Port()),
	} {
		// The lab allows the permission (an IP); the send to the port is
		// refused under it, and is never written.
		relay.WriteTo([]byte("loop"), net.UDPAddrFromAddrPort(p))
	}
	// Then a send the lab allows, on the same allocation: once it
	// arrived, the refused ones before it were handled.
	if _, err := relay.WriteTo([]byte("hi"), target.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	target.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, _, err := target.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("the lab relay did not reach the loopback target: %q %v", buf[:n], err)
	}
	if s := g.recorded(); len(s) != 1 || s[0] != target.LocalAddr().String() {
		t.Errorf("the relay sent to %v; want only %v", s, target.LocalAddr())
	}
	if st := tr.Stats(); st.RefusedPeers != 5 {
		t.Errorf("refused peers %d, want 5", st.RefusedPeers)
	}
	if st := stunSrv.Stats(); st.Answered+st.Dropped+st.Errors != 0 {
		t.Errorf("the STUN service got traffic through the relay: %+v", st)
	}
}
