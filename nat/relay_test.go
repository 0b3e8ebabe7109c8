package nat

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"go.uber.org/goleak"
)

// newTestTURN starts a relay on loopback (a lab: loopback peers allowed).
func newTestTURN(t *testing.T, cfg TURNConfig) *TURN {
	t.Helper()
	if cfg.ListenUDP == "" && cfg.ListenTCP == "" {
		cfg.ListenUDP, cfg.ListenTCP = "127.0.0.1:0", "127.0.0.1:0"
	}
	if cfg.RelayIP == "" {
		cfg.RelayIP = "127.0.0.1"
	}
	tr, err := NewTURN(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// turnClient is a pion TURN client on loopback (UDP or TCP).
func turnClient(t *testing.T, server net.Addr, tcp bool, user, pass string) *turn.Client {
	t.Helper()
	var conn net.PacketConn
	if tcp {
		c, err := net.Dial("tcp", server.String())
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	} else {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
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
	return cl
}

// echo is a UDP echo server on loopback.
func echo(t *testing.T) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo(buf[:n], from)
		}
	})
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return c
}

func TestTURNCloseLeavesNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tr, err := NewTURN(TURNConfig{ListenUDP: "127.0.0.1:0", ListenTCP: "127.0.0.1:0", RelayIP: "127.0.0.1", Lab: true})
	if err != nil {
		t.Fatal(err)
	}
	user, pass, _ := tr.Credentials("alice")
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: tr.UDPAddr().String(), STUNServerAddr: tr.UDPAddr().String(), Username: user, Password: pass, Conn: c})
	if err != nil {
		t.Fatal(err)
	}
	cl.Listen()
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	relay.Close()
	cl.Close()
	c.Close()
	tr.Close()
	tr.Close() // idempotent
}

func TestTURNRelaysUDPAndTCP(t *testing.T) {
	tr := newTestTURN(t, TURNConfig{Lab: true})
	peer := echo(t)
	for _, tcp := range []bool{false, true} {
		server := tr.UDPAddr()
		if tcp {
			server = tr.TCPAddr()
		}
		user, pass, _ := tr.Credentials("alice")
		cl := turnClient(t, server, tcp, user, pass)
		relay, err := cl.Allocate()
		if err != nil {
			t.Fatalf("tcp=%v: allocate: %v", tcp, err)
		}
		if _, err := relay.WriteTo([]byte("hello"), peer.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		relay.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, from, err := relay.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "hello" || from.String() != peer.LocalAddr().String() {
			t.Fatalf("tcp=%v: echo through the relay: %q from %v, %v", tcp, buf[:n], from, err)
		}
		relay.Close()
	}
	if st := tr.Stats(); st.AllocationsCreated != 2 || st.BytesRelayed < 10 {
		t.Errorf("stats %+v", st)
	}
}

func TestTURNRefusesOtherNodesAndExpiredCredentials(t *testing.T) {
	tr := newTestTURN(t, TURNConfig{Lab: true, CredentialTTL: time.Second, MaxSession: time.Minute})
	other := newTestTURN(t, TURNConfig{Lab: true})

	user, pass, _ := other.Credentials("alice")
	if _, err := turnClient(t, tr.UDPAddr(), false, user, pass).Allocate(); err == nil {
		t.Fatal("another node's credentials were accepted")
	}
	user, pass = RESTCredentials([]byte("a guess"), "alice", time.Now().Add(time.Minute))
	if _, err := turnClient(t, tr.UDPAddr(), false, user, pass).Allocate(); err == nil {
		t.Fatal("credentials made with a guessed secret were accepted")
	}
	user, pass = RESTCredentials(tr.cfg.Secret, "alice", time.Now().Add(-time.Second))
	if _, err := turnClient(t, tr.UDPAddr(), false, user, pass).Allocate(); err == nil {
		t.Fatal("expired credentials made a new allocation")
	}
	// An allocation made in time stays refreshable after its
	// credentials expire (a long call keeps its relay).
	user, pass, _ = tr.Credentials("alice")
	cl := turnClient(t, tr.UDPAddr(), false, user, pass)
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	time.Sleep(2100 * time.Millisecond)
	peer := echo(t)
	if _, err := relay.WriteTo([]byte("x"), peer.LocalAddr()); err != nil {
		t.Fatalf("permission with expired credentials on a live allocation: %v", err)
	}
	relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := relay.ReadFrom(make([]byte, 10)); err != nil {
		t.Fatalf("no echo after the credentials expired: %v", err)
	}
	if tr.Stats().RefusedAuth < 1 {
		t.Errorf("refused auth %d: the expired credentials were not counted", tr.Stats().RefusedAuth)
	}
}

func TestTURNQuotaPerUser(t *testing.T) {
	tr := newTestTURN(t, TURNConfig{Lab: true, MaxAllocationsPerUser: 3})
	for i := range 4 {
		user, pass, _ := tr.Credentials("alice")
		relay, err := turnClient(t, tr.UDPAddr(), false, user, pass).Allocate()
		switch {
		case i < 3 && err != nil:
			t.Fatalf("allocation %d: %v", i+1, err)
		case i == 3 && err == nil:
			t.Fatal("a 4th allocation for alice beyond the quota of 3")
		case i == 3 && !strings.Contains(err.Error(), "486"):
			t.Fatalf("4th allocation: %v; want 486 Allocation Quota Reached", err)
		}
		if relay != nil {
			defer relay.Close()
		}
	}
	user, pass, _ := tr.Credentials("bob")
	relay, err := turnClient(t, tr.UDPAddr(), false, user, pass).Allocate()
	if err != nil {
		t.Fatalf("bob is not limited by alice's quota: %v", err)
	}
	relay.Close()
}

func TestTURNRateLimit(t *testing.T) {
	const rate = 20 << 10 // 20 KiB/s, burst 40 KiB
	tr := newTestTURN(t, TURNConfig{Lab: true, AllocationRate: rate})
	user, pass, _ := tr.Credentials("alice")
	relay, err := turnClient(t, tr.UDPAddr(), false, user, pass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	sink, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var got int
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2000)
		for {
			sink.SetReadDeadline(time.Now().Add(time.Second))
			n, _, err := sink.ReadFrom(buf)
			if err != nil {
				return
			}
			got += n
		}
	}()
	// 1 s at 4× the rate: 80 KiB offered, in 1000-byte packets.
	payload := make([]byte, 1000)
	start := time.Now()
	for i := range 80 {
		relay.WriteTo(payload, sink.LocalAddr())
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 12500 * time.Microsecond)))
	}
	<-done
	elapsed := time.Since(start).Seconds()
	max := float64(2*rate) + rate*elapsed // burst + rate over the time
	if float64(got) > max || got < rate/2 {
		t.Errorf("%d bytes relayed in %.1f s at a %d B/s limit; want between %d and %.0f", got, elapsed, rate, rate/2, max)
	}
	if tr.Stats().DroppedRate == 0 {
		t.Error("nothing counted as dropped over the rate")
	}
	t.Logf("offered 80000 B, relayed %d B, dropped %d packets", got, tr.Stats().DroppedRate)
}

func TestCheckRelay(t *testing.T) {
	tr := newTestTURN(t, TURNConfig{Lab: true})
	user, pass, _ := tr.Credentials("alice")
	s := ICEServer{URLs: TURNURLs(tr.UDPAddr().String(), tr.TCPAddr().String()), Username: user, Credential: pass}
	for _, tcp := range []bool{false, true} {
		ap, err := CheckRelay(context.Background(), s, tcp)
		if err != nil || ap.Addr().String() != "127.0.0.1" {
			t.Fatalf("tcp=%v: %v %v", tcp, ap, err)
		}
	}
	s.Credential = "wrong"
	if _, err := CheckRelay(context.Background(), s, false); err == nil {
		t.Fatal("a wrong password checked out")
	}
	if _, err := CheckRelay(context.Background(), ICEServer{URLs: []string{"stun:127.0.0.1:1"}}, false); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no turn: URL: %v", err)
	}
}
