package media

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"soitto/nat"
)

// A session relayed through coturn, a TURN server nobody here wrote:
// both sides use only relay candidates from it, with REST credentials as
// a super-peer hands them out for an operator's coturn.
func TestSessionThroughCoturn(t *testing.T) {
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("turnserver (Debian package coturn) is not installed; CI must run this test")
		}
		t.Skip("turnserver (Debian package coturn) is not installed")
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	const secret = "operator's shared secret"
	var out bytes.Buffer
	cmd := exec.Command(bin, "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
		"--listening-port", strconv.Itoa(port), "--min-port", "53000", "--max-port", "53200",
		"--use-auth-secret", "--static-auth-secret", secret, "--realm", "soitto",
		"--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--log-file", "stdout", "--simple-log")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("coturn:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ice := func(user string) []webrtc.ICEServer {
		u, p := nat.RESTCredentials([]byte(secret), user, time.Now().Add(10*time.Minute))
		return []webrtc.ICEServer{{URLs: nat.TURNURLs(addr, ""), Username: u, Credential: p}}
	}
	// Wait until coturn answers.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, p := nat.RESTCredentials([]byte(secret), "probe", time.Now().Add(time.Minute))
	for {
		if _, err := nat.CheckRelay(ctx, nat.ICEServer{URLs: nat.TURNURLs(addr, ""), Username: u, Credential: p}, false); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("coturn did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}

	net := newTestCA(t)
	alice := Config{Certificate: net.user("alice"), Roots: net.roots, Remote: "bob", IPFilter: loopbackOnly, RelayOnly: true, ICEServers: ice("alice")}
	bob := Config{Certificate: net.user("bob"), Roots: net.roots, Remote: "alice", IPFilter: loopbackOnly, RelayOnly: true, ICEServers: ice("bob")}
	a, _, errA, errB := connect(t, alice, bob, nil)
	if errA != nil || errB != nil {
		t.Fatalf("open: %v / %v", errA, errB)
	}
	if _, err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	path, err := a.Path()
	if err != nil {
		t.Fatal(err)
	}
	if path.Local.Type != "relay" || path.Local.Address != "127.0.0.1" || path.Local.Port < 53000 || path.Local.Port > 53200 || path.Local.RelayProtocol != "udp" {
		t.Errorf("path %s (%+v); want a relay candidate on coturn's ports", path, path)
	}
	t.Logf("alice ↔ bob through coturn: %s", path)
}
