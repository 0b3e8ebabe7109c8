package nat

import (
	"context"
	"net"
	"testing"
	"time"
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
