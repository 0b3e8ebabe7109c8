package nat

import (
	"bytes"
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Interop with coturn (Debian's coturn package: turnserver and its
// turnutils), a TURN and STUN implementation nobody here wrote. Every
// process listens and sends on 127.0.0.1 only.

// coturnBin finds a coturn binary. In CI (CI set) they are installed and
// a missing one fails the test; elsewhere the test is skipped, saying so.
func coturnBin(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (Debian package coturn), and CI must run the coturn interop tests", name)
		}
		t.Skipf("skipped: %s is not installed (Debian package coturn: apt-get install coturn)", name)
	}
	return p
}

// coturnPorts returns the first of n consecutive ports on 127.0.0.1 that
// were free a moment ago for UDP and for TCP. They are drawn below
// Linux's ephemeral range (32768-60999), which every socket bound to port
// 0 on this machine draws from, so another process is unlikely to take
// them before the test binds them.
func coturnPorts(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		first := 20000 + mrand.IntN(12000) // above coturnTURN's relay ports
		free := true
		for port := first; port < first+n && free; port++ {
			c, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				free = false
				break
			}
			l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			c.Close()
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return first
		}
	}
	t.Fatal("no free port on 127.0.0.1")
	return 0
}

func coturnPort(t *testing.T) int {
	t.Helper()
	return coturnPorts(t, 1)
}

// coturnTURN starts our relay (a lab) on a free port for UDP and TCP,
// drawing another port if one is taken meanwhile. Its relay ports are
// relayPorts ports from relayMin: below the ephemeral range, and apart
// from other relays of the test, since uclient asks for RTP/RTCP port
// pairs (EVEN-PORT), and pion only reserves the odd port by token, not by
// binding it: anything else that takes it fails the second allocation
// with 508.
func coturnTURN(t *testing.T, secret string, relayMin int) (*TURN, int) {
	t.Helper()
	const relayPorts = 1000
	var err error
	for range 5 {
		port := coturnPort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		var tr *TURN
		tr, err = NewTURN(TURNConfig{ListenUDP: addr, ListenTCP: addr, RelayIP: "127.0.0.1", Lab: true, Secret: []byte(secret),
			PortMin: relayMin, PortMax: relayMin + relayPorts - 1})
		if err == nil {
			t.Cleanup(func() { tr.Close() })
			return tr, port
		}
	}
	t.Fatal(err)
	return nil, 0
}

// lockedBuffer is a buffer a running process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// coturnRun runs a command to its end, at most limit, and returns what
// it printed and how it ended.
func coturnRun(t *testing.T, limit time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s did not finish within %v", name, limit)
	}
	return string(out), err
}

// coturnStart starts a long-running command; it is killed and reaped
// when the test ends, and its output is logged if the test failed.
func coturnStart(t *testing.T, name string, args ...string) *lockedBuffer {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s %s printed:\n%s", name, strings.Join(args, " "), out.String())
		}
	})
	return out
}

// waitTCP waits until something accepts TCP on addr, at most limit.
func waitTCP(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp4", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after %v: %v", addr, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEcho waits until turnutils_peer on 127.0.0.1:port echoes, at most
// limit.
func waitEcho(t *testing.T, port int, limit time.Duration) {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c.WriteTo([]byte("ping"), to)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := c.ReadFrom(make([]byte, 16)); err == nil && n == 4 {
			return
		}
	}
	t.Fatalf("turnutils_peer on port %d does not echo after %v", port, limit)
}

// uclientTotals reads turnutils_uclient's closing statistics.
func uclientTotals(t *testing.T, out string) (sent, recv, lost int) {
	t.Helper()
	m := regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`).FindAllStringSubmatch(out, -1)
	l := regexp.MustCompile(`Total lost packets (\d+)`).FindStringSubmatch(out)
	if len(m) == 0 || l == nil {
		t.Fatalf("no totals in turnutils_uclient's output:\n%s", out)
	}
	sent, _ = strconv.Atoi(m[len(m)-1][1])
	recv, _ = strconv.Atoi(m[len(m)-1][2])
	lost, _ = strconv.Atoi(l[1])
	return sent, recv, lost
}

// TestCoturnUClientThroughOurRelay: coturn's TURN client allocates on our
// relay (a lab on loopback) with credentials our node hands out, and its
// messages reach turnutils_peer and come back: over UDP, over TCP, with
// credentials it makes itself from the shared secret (-W), and between
// two of its own allocations (-y). uclient takes seconds whatever it
// sends, so the cases run at once, each on a relay of its own.
func TestCoturnUClientThroughOurRelay(t *testing.T) {
	uclient := coturnBin(t, "turnutils_uclient")
	peerBin := coturnBin(t, "turnutils_peer")
	const secret = "lab secret"
	// turnutils_peer listens on the port and the next (RTP and RTCP);
	// uclient sends to both.
	peerPort := coturnPorts(t, 2)
	coturnStart(t, peerBin, "-L", "127.0.0.1", "-p", strconv.Itoa(peerPort))
	waitEcho(t, peerPort, 5*time.Second)
	waitEcho(t, peerPort+1, 5*time.Second)

	const msgs, size = 10, 160
	cases := []struct {
		name  string
		flags []string
		// auth gives uclient's credential flags for a relay.
		auth func(*TURN) []string
		ok   bool
	}{
		{"udp", nil, ourCredentials, true},
		{"tcp", []string{"-t"}, ourCredentials, true},
		{"udp, REST credentials made by uclient", nil, func(*TURN) []string { return []string{"-u", "alice", "-W", secret} }, true},
		{"udp, client to client", []string{"-y"}, ourCredentials, true},
		{"wrong password", nil, func(tr *TURN) []string { return []string{"-u", ourCredentials(tr)[1], "-w", "not-the-password"} }, false},
		{"another secret", nil, func(*TURN) []string { return []string{"-u", "alice", "-W", "another secret"} }, false},
	}
	// All at once (t.Parallel would run two at a time on two cores).
	type result struct {
		out   string
		err   error
		stats TURNStats
		took  time.Duration
	}
	results := make([]result, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		tr, port := coturnTURN(t, secret, 10000+1000*i)
		args := append(append(tc.flags, tc.auth(tr)...), "-p", strconv.Itoa(port), "-e", "127.0.0.1", "-r", strconv.Itoa(peerPort),
			"-n", strconv.Itoa(msgs), "-m", "1", "-l", strconv.Itoa(size), "-z", "5", "-X", "127.0.0.1")
		wg.Go(func() {
			start := time.Now()
			out, err := coturnRun(t, 30*time.Second, uclient, args...)
			results[i] = result{out, err, tr.Stats(), time.Since(start)}
		})
	}
	wg.Wait()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := results[i]
			st := r.stats
			if !tc.ok {
				// pion checks the password (MESSAGE-INTEGRITY) after our
				// handler gave the key; no counter of ours sees it.
				if regexp.MustCompile(`tot_recv_msgs=[1-9]`).MatchString(r.out) || st.AllocationsCreated != 0 || !strings.Contains(r.out, "Cannot complete Allocation") {
					t.Errorf("refused credentials relayed, or allocated: stats %+v\n%s", st, r.out)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.out)
			}
			sent, recv, lost := uclientTotals(t, r.out)
			t.Logf("%.1f s: sent %d, received %d, lost %d; our relay: %d allocations, %d bytes", r.took.Seconds(), sent, recv, lost, st.AllocationsCreated, st.BytesRelayed)
			if sent < msgs || recv != sent || lost != 0 {
				t.Errorf("sent %d, received %d, lost %d\n%s", sent, recv, lost, r.out)
			}
			// Each message crosses the relay twice (out and echoed back).
			if st.AllocationsCreated == 0 || st.BytesRelayed < uint64(2*sent*size) {
				t.Errorf("our relay did not carry it: %+v", st)
			}
		})
	}
}

// ourCredentials are uclient's flags for credentials our relay hands out.
func ourCredentials(tr *TURN) []string {
	user, pass, _ := tr.Credentials("alice")
	return []string{"-u", user, "-w", pass}
}

// TestOurClientOnCoturn: coturn as an operator's TURN server with
// use-auth-secret; our CheckRelay, with credentials in the TURN REST
// format made from the shared secret, allocates over UDP and over TCP;
// another secret and expired credentials are refused.
func TestOurClientOnCoturn(t *testing.T) {
	bin := coturnBin(t, "turnserver")
	const secret = "S: the operator's shared secret"
	port := coturnPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	const minPort, maxPort = 53000, 53100
	coturnStart(t, bin, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
		"--listening-port", strconv.Itoa(port), "--min-port", strconv.Itoa(minPort), "--max-port", strconv.Itoa(maxPort),
		"--use-auth-secret", "--static-auth-secret", secret, "--realm", "soitto",
		"--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--log-file", "stdout", "--simple-log")
	waitTCP(t, addr, 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	user, pass := RESTCredentials([]byte(secret), "alice", time.Now().Add(10*time.Minute))
	s := ICEServer{URLs: TURNURLs(addr, addr), Username: user, Credential: pass}
	for _, tcp := range []bool{false, true} {
		ap, err := CheckRelay(ctx, s, tcp)
		if err != nil {
			t.Fatalf("tcp=%v: allocating on coturn: %v", tcp, err)
		}
		if ap.Addr().String() != "127.0.0.1" || ap.Port() < minPort || ap.Port() > maxPort {
			t.Errorf("tcp=%v: relayed address %v, want 127.0.0.1:%d-%d", tcp, ap, minPort, maxPort)
		}
		t.Logf("tcp=%v: coturn relayed address %v", tcp, ap)
	}
	for name, cred := range map[string][2]string{
		"another secret": func() [2]string {
			u, p := RESTCredentials([]byte("another secret"), "alice", time.Now().Add(10*time.Minute))
			return [2]string{u, p}
		}(),
		"expired": func() [2]string {
			u, p := RESTCredentials([]byte(secret), "alice", time.Now().Add(-time.Minute))
			return [2]string{u, p}
		}(),
	} {
		bad := ICEServer{URLs: s.URLs, Username: cred[0], Credential: cred[1]}
		if _, err := CheckRelay(ctx, bad, false); err == nil {
			t.Errorf("%s: coturn took the credentials", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestCoturnNATDiscoveryOnOurSTUN: coturn's RFC 5780 discovery client
// against our STUN server on 127.0.0.1 with 127.0.0.2 as its second IP:
// it follows our OTHER-ADDRESS and gets our CHANGE-REQUEST answers, so on
// loopback it finds endpoint-independent mapping and filtering.
func TestCoturnNATDiscoveryOnOurSTUN(t *testing.T) {
	bin := coturnBin(t, "turnutils_natdiscovery")
	s := listenSTUNTest(t, STUNConfig{AltIP: "127.0.0.2"})
	port := strconv.Itoa(s.Addr().Port)
	out, err := coturnRun(t, 30*time.Second, bin, "-m", "-f", "-L", "127.0.0.1", "-p", port, "127.0.0.1")
	t.Logf("turnutils_natdiscovery -m -f -L 127.0.0.1 -p %s 127.0.0.1:\n%s", port, out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Response origin: : 127.0.0.2:" + port, // test II went to our OTHER-ADDRESS's IP
		"Other addr: : " + s.OtherAddr().String(),
		"NAT with Endpoint Independent Mapping!",
		"NAT with Endpoint Independent Filtering!", // the change-IP-and-port answer came
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	st := s.Stats()
	if st.Answered < 3 || st.Errors != 0 {
		t.Errorf("our server's stats %+v", st)
	}

	// Against a server with one IP, coturn's client cannot run the
	// tests that need a second one, and must not claim a result.
	one := listenSTUNTest(t, STUNConfig{})
	out, _ = coturnRun(t, 30*time.Second, bin, "-m", "-f", "-L", "127.0.0.1", "-p", strconv.Itoa(one.Addr().Port), "127.0.0.1")
	t.Logf("against a server with one IP:\n%s", out)
	if strings.Contains(out, "Endpoint Independent Filtering!") {
		t.Error("endpoint-independent filtering claimed against a server with one IP")
	}
}
