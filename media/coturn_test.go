package media

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"soitto/nat"
)

// coturn relays here use 54000-54099 and our relay 54100-54199: apart
// from each other and from the other coturn tests' ranges (52000-53200),
// which may run at the same time in other packages.
const (
	coturnMinPort, coturnMaxPort = 54000, 54099
	ourMinPort, ourMaxPort       = 54100, 54199
)

// relayOnlyMaxSetup bounds a relay-only session's setup on loopback
// (Offer to both sides open): it takes 30-50 ms, and over 2 s
// when ICE waits pion's default relay wait.
const relayOnlyMaxSetup = 1900 * time.Millisecond

// coturn is a running turnserver (Debian's coturn) on 127.0.0.1 with
// use-auth-secret.
type coturn struct {
	addr   string // its UDP and TCP listening address
	secret string
}

// startCoturn starts turnserver on a free loopback port and waits until
// it allocates; the test's cleanup kills it (and logs its output if the
// test failed). It skips the test only where turnserver is not
// installed (in CI it fails).
func startCoturn(t *testing.T) *coturn {
	t.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("turnserver (Debian package coturn) is not installed; CI must run this test")
		}
		t.Skip("turnserver (Debian package coturn) is not installed")
	}
	port := freeLoopbackPort(t)
	c := &coturn{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), secret: "S, the operator's shared secret"}
	var out syncBuffer
	dir := t.TempDir() // its database and pid file, not the system's
	cmd := exec.Command(bin, "-n",
		"--db", filepath.Join(dir, "turndb"), "--pidfile", filepath.Join(dir, "turnserver.pid"),
		"--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--listening-port", strconv.Itoa(port),
		"--min-port", strconv.Itoa(coturnMinPort), "--max-port", strconv.Itoa(coturnMaxPort),
		"--use-auth-secret", "--static-auth-secret", c.secret, "--realm", "soitto",
		"--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls",
		"--log-file", "stdout", "--simple-log")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("coturn's output:\n%s", out.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	probe := c.iceServer("probe")
	for {
		_, err := nat.CheckRelay(ctx, nat.ICEServer{URLs: probe.URLs, Username: probe.Username, Credential: probe.Credential.(string)}, false)
		if err == nil {
			return c
		}
		select {
		case err := <-exited:
			t.Fatalf("turnserver exited: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("turnserver does not allocate after 10 s: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// iceServer is coturn for user, with TURN REST credentials made from
// the shared secret, as a super-peer hands them out for an operator's
// coturn; UDP and TCP URLs.
func (c *coturn) iceServer(user string) webrtc.ICEServer {
	u, p := nat.RESTCredentials([]byte(c.secret), user, time.Now().Add(10*time.Minute))
	return webrtc.ICEServer{URLs: nat.TURNURLs(c.addr, c.addr), Username: u, Credential: p}
}

// freeLoopbackPort is a port free on 127.0.0.1 for both UDP and TCP
// when asked.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return 0
}

// syncBuffer is a bytes.Buffer that a process's output and the test
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// onlyURL is s with only the turn: URL for transport ("udp" or "tcp").
func onlyURL(s webrtc.ICEServer, transport string) webrtc.ICEServer {
	for _, u := range s.URLs {
		if u[len(u)-len(transport):] == transport {
			s.URLs = []string{u}
			return s
		}
	}
	panic("no " + transport + " URL in " + fmt.Sprint(s.URLs))
}

// inRange says whether c is a relay candidate on 127.0.0.1 at a port in
// [lo, hi].
func inRange(c Candidate, lo, hi int) bool {
	return c.Type == "relay" && c.Address == "127.0.0.1" && c.Port >= lo && c.Port <= hi
}

// TestSessionCoturnToOurTURN: a session between two relays written by
// different people, on loopback. Alice uses only coturn (REST
// credentials from the operator's shared secret), reached over UDP and,
// in a second run, over TCP; Bob uses only our TURN relay (credentials
// from the node). Both sides are relay-only, so the path is coturn's
// relayed address ↔ ours: each relay must grant the other's address a
// permission and carry the checks, DTLS, SCTP and the pings. (Both sides
// on coturn alone: TestSessionThroughCoturn, relay_test.go.)
func TestSessionCoturnToOurTURN(t *testing.T) {
	co := startCoturn(t)
	ours, err := nat.NewTURN(nat.TURNConfig{
		ListenUDP: "127.0.0.1:0", RelayIP: "127.0.0.1", PortMin: ourMinPort, PortMax: ourMaxPort, Lab: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ours.Close() })
	ca := newTestCA(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run("alice-to-coturn-over-"+transport, func(t *testing.T) {
			checkLeaks(t)
			user, pass, _ := ours.Credentials("bob")
			alice := Config{
				Certificate: ca.user("alice"), Roots: ca.roots, Remote: "bob", IPFilter: loopbackOnly, RelayOnly: true,
				ICEServers: []webrtc.ICEServer{onlyURL(co.iceServer("alice"), transport)},
			}
			bob := Config{
				Certificate: ca.user("bob"), Roots: ca.roots, Remote: "alice", IPFilter: loopbackOnly, RelayOnly: true,
				ICEServers: []webrtc.ICEServer{{URLs: nat.TURNURLs(ours.UDPAddr().String(), ""), Username: user, Credential: pass}},
			}
			before := ours.Stats().BytesRelayed
			start := time.Now()
			a, b, errA, errB := connect(t, alice, bob, nil)
			setup := time.Since(start)
			if errA != nil || errB != nil {
				t.Fatalf("open: alice %v; bob %v", errA, errB)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rtt, err := a.Ping(ctx)
			if err != nil {
				t.Fatalf("alice's ping: %v", err)
			}
			if _, err := b.Ping(ctx); err != nil {
				t.Fatalf("bob's ping: %v", err)
			}
			pa, errA := a.Path()
			pb, errB := b.Path()
			if errA != nil || errB != nil {
				t.Fatalf("paths: %v; %v", errA, errB)
			}
			if !inRange(pa.Local, coturnMinPort, coturnMaxPort) || pa.Local.RelayProtocol != transport ||
				!inRange(pa.Remote, ourMinPort, ourMaxPort) {
				t.Errorf("alice's path %s (%+v); want coturn's relayed address (over %s) → ours", pa, pa, transport)
			}
			if !inRange(pb.Local, ourMinPort, ourMaxPort) || pb.Local.RelayProtocol != "udp" ||
				!inRange(pb.Remote, coturnMinPort, coturnMaxPort) {
				t.Errorf("bob's path %s (%+v); want our relayed address → coturn's", pb, pb)
			}
			if pa.Local.Port != pb.Remote.Port || pa.Remote.Port != pb.Local.Port {
				t.Errorf("the two sides name different pairs: %s and %s", pa, pb)
			}
			if st := ours.Stats(); st.BytesRelayed == before {
				t.Errorf("our relay carried nothing: %+v", st)
			}
			// Relay-only sessions do not wait for direct pairs that
			// cannot exist: pion's relay wait (2 s unless set) would
			// make every setup take longer than that.
			if setup >= relayOnlyMaxSetup {
				t.Errorf("relay-only setup took %v; it waits for direct pairs", setup)
			}
			t.Logf("setup %v; alice: %s; bob: %s; ping %v", setup.Round(time.Millisecond), pa, pb, rtt.Round(time.Microsecond))
		})
	}
}

// TestSessionAnswerTakesEarlyCandidates: the caller's candidates may
// reach the callee's session as soon as Config.Started has named it,
// before Answer has set the offer as the remote description; the
// session keeps them, and must use them once the offer is set. Here
// every caller candidate arrives in that window, and both sides are
// relay-only on our TURN relay on loopback, so a lost candidate is a
// session that never opens (the callee's relay only lets the caller's
// checks in once the callee, knowing the candidate, has permitted it).
func TestSessionAnswerTakesEarlyCandidates(t *testing.T) {
	checkLeaks(t)
	ours, err := nat.NewTURN(nat.TURNConfig{
		ListenUDP: "127.0.0.1:0", RelayIP: "127.0.0.1", PortMin: ourMinPort, PortMax: ourMaxPort, Lab: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ours.Close() })
	ca := newTestCA(t)
	relay := func(user string) []webrtc.ICEServer {
		name, pass, _ := ours.Credentials(user)
		return []webrtc.ICEServer{{URLs: nat.TURNURLs(ours.UDPAddr().String(), ""), Username: name, Credential: pass}}
	}
	toBob := make(chan Message, 64)
	alice := Config{
		Certificate: ca.user("alice"), Roots: ca.roots, Remote: "bob", IPFilter: loopbackOnly, RelayOnly: true,
		ICEServers: relay("alice"),
		Send: func(ctx context.Context, m Message) error {
			select {
			case toBob <- m:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	a, err := Offer(alice)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The offer, then Alice's candidates up to the end of them.
	var offer Message
	var early []Message
	for done := false; !done; {
		select {
		case m := <-toBob:
			switch m.Kind {
			case KindOffer:
				offer = m
			case KindCandidate:
				early = append(early, m)
			case KindCandidates:
				done = true
			}
		case <-ctx.Done():
			t.Fatalf("alice's candidates did not all come: %d", len(early))
		}
	}
	if len(early) == 0 {
		t.Fatal("alice has no relay candidate")
	}
	bob := Config{
		Certificate: ca.user("bob"), Roots: ca.roots, Remote: "alice", IPFilter: loopbackOnly, RelayOnly: true,
		ICEServers: relay("bob"),
		Send: func(_ context.Context, m Message) error {
			return a.Handle(m)
		},
		// Before Answer sets the offer: as early as a carrier can.
		Started: func(s *Session) {
			for _, m := range early {
				if err := s.Handle(m); err != nil {
					t.Errorf("early candidate: %v", err)
				}
			}
		},
	}
	b, err := Answer(bob, offer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { errA = a.Open(ctx) })
	wg.Go(func() { errB = b.Open(ctx) })
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("%d candidates given early; open: alice %v; bob %v", len(early), errA, errB)
	}
}
