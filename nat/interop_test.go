package nat

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Interop with coturn (Debian's coturn package), a TURN and STUN
// implementation nobody here wrote. In CI the binaries are installed
// (scripts/install-deps.sh); elsewhere the tests say what is missing.

func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (Debian package coturn); CI must run the interop tests", name)
		}
		t.Skipf("%s is not installed (Debian package coturn)", name)
	}
	return p
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago
// (and whose TCP twin was too).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// run runs a command with a time limit and returns its output.
func run(t *testing.T, limit time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// start starts a long-running command, stopped at the end of the test.
func start(t *testing.T, name string, args ...string) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return &out
}

// coturn's turnutils_natdiscovery runs RFC 5780 mapping and filtering
// discovery against our STUN server: it must follow our OTHER-ADDRESS and
// CHANGE-REQUEST and conclude "no NAT" behaviours on loopback.
func TestCoturnNATDiscoveryAgainstOurSTUN(t *testing.T) {
	bin := needBinary(t, "turnutils_natdiscovery")
	s := newTestSTUN(t, true, 0)
	out := run(t, 30*time.Second, bin, "-m", "-f", "-p", strconv.Itoa(s.Addr().Port), "127.0.0.1")
	t.Logf("turnutils_natdiscovery -m -f:\n%s", out)
	for _, want := range []string{
		"Response origin: : 127.0.0.2:" + strconv.Itoa(s.Addr().Port), // followed OTHER-ADDRESS
		"NAT with Endpoint Independent Mapping!",
		"NAT with Endpoint Independent Filtering!", // got the change-IP-and-port answer
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// coturn's turnutils_uclient allocates on our relay with credentials our
// node handed out and sends through it to turnutils_peer.
func TestCoturnClientOnOurRelay(t *testing.T) {
	uclient := needBinary(t, "turnutils_uclient")
	peerBin := needBinary(t, "turnutils_peer")
	port := freeUDPPort(t)
	tr := newTestTURN(t, TURNConfig{
		ListenUDP: fmt.Sprintf("127.0.0.1:%d", port), ListenTCP: fmt.Sprintf("127.0.0.1:%d", port), Lab: true,
	})
	peerPort := freeUDPPort(t)
	start(t, peerBin, "-L", "127.0.0.1", "-p", strconv.Itoa(peerPort))
	time.Sleep(200 * time.Millisecond)
	for _, tcp := range []bool{false, true} {
		user, pass, _ := tr.Credentials("alice")
		args := []string{"-u", user, "-w", pass, "-p", strconv.Itoa(port), "-e", "127.0.0.1", "-r", strconv.Itoa(peerPort),
			"-n", "20", "-m", "1", "-l", "160", "-X", "127.0.0.1"}
		if tcp {
			args = append([]string{"-t"}, args...)
		}
		out := run(t, 30*time.Second, uclient, args...)
		m := regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`).FindAllStringSubmatch(out, -1)
		lost := regexp.MustCompile(`Total lost packets (\d+)`).FindStringSubmatch(out)
		if len(m) == 0 || lost == nil {
			t.Fatalf("tcp=%v: no totals in the output:\n%s", tcp, out)
		}
		sent, recv := m[len(m)-1][1], m[len(m)-1][2]
		t.Logf("turnutils_uclient (tcp=%v) on our relay: sent %s, received %s, lost %s", tcp, sent, recv, lost[1])
		if sent == "0" || sent != recv || lost[1] != "0" {
			t.Errorf("tcp=%v: sent %s, received %s, lost %s", tcp, sent, recv, lost[1])
		}
	}
	// A password made with another secret is refused.
	user, _, _ := tr.Credentials("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, uclient, "-u", user, "-w", "not-the-password", "-p", strconv.Itoa(port),
		"-e", "127.0.0.1", "-r", strconv.Itoa(peerPort), "-n", "2", "-m", "1", "-X", "127.0.0.1").CombinedOutput()
	if regexp.MustCompile(`tot_recv_msgs=[1-9]`).Match(out) {
		t.Errorf("a wrong password relayed:\n%s", out)
	}
}

// Our client, with credentials in the TURN REST format, allocates on
// coturn (use-auth-secret), over UDP and over TCP: what a super-peer hands
// its clients for an operator's coturn works.
func TestOurCredentialsOnCoturn(t *testing.T) {
	bin := needBinary(t, "turnserver")
	port := freeUDPPort(t)
	const secret = "operator's shared secret"
	start(t, bin, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
		"--listening-port", strconv.Itoa(port), "--min-port", "52000", "--max-port", "52200",
		"--use-auth-secret", "--static-auth-secret", secret, "--realm", "soitto",
		"--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--log-file", "stdout", "--simple-log")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	user, pass := RESTCredentials([]byte(secret), "alice", time.Now().Add(10*time.Minute))
	s := ICEServer{URLs: TURNURLs(addr, addr), Username: user, Credential: pass}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for range 50 { // coturn takes a moment to listen
		if _, err = CheckRelay(ctx, s, false); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("UDP allocation on coturn: %v", err)
	}
	ap, err := CheckRelay(ctx, s, true)
	if err != nil || ap.Port() < 52000 || ap.Port() > 52200 {
		t.Fatalf("TCP allocation on coturn: %v %v", ap, err)
	}
	user, pass = RESTCredentials([]byte("another secret"), "alice", time.Now().Add(10*time.Minute))
	if _, err := CheckRelay(ctx, ICEServer{URLs: s.URLs, Username: user, Credential: pass}, false); err == nil {
		t.Fatal("coturn took credentials made with another secret")
	}
}
