package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPingLocal is issue 5's second "Done when": on one machine (a local
// network on loopback), with bob listening, `soitto-cli ping bob` run as
// alice opens a P2P session and prints the path it took and the RTT.
func TestPingLocal(t *testing.T) {
	bin := buildBinaries(t, "soitto-login", "soitto-node", "soitto-cli")
	cli := filepath.Join(bin, "soitto-cli")
	as := localNetwork(t, bin)
	register(t, as, cli, "alice", "bob")
	everyone(t, as("bob"), cli)
	bob := startListen(t, as("bob"), cli)
	bob.expect(t, "online via ", 20*time.Second)

	var r result
	eventually(t, 20*time.Second, func() error {
		r = runCmd(t, as("alice"), cli, "ping", "bob")
		if r.code != 0 {
			return fmt.Errorf("exit %d: %s", r.code, r.stderr)
		}
		return nil
	}, "alice pinging bob")
	t.Logf("alice$ soitto-cli ping bob\n%s", r.stdout)
	if !regexp.MustCompile(`(?m)^path  direct \(host 127\.0\.0\.1:\d+ → host 127\.0\.0\.1:\d+, udp\)$`).MatchString(r.stdout) {
		t.Errorf("ping output has no direct host path:\n%s", r.stdout)
	}
	if n := len(regexp.MustCompile(`(?m)^rtt   [0-9.]+[µm]?s \(\d of 3\)$`).FindAllString(r.stdout, -1)); n != 3 {
		t.Errorf("ping output has %d RTT lines, want 3:\n%s", n, r.stdout)
	}
	bob.expect(t, "session alice open", 10*time.Second)

	// --json, and the relay: alice forces... the JSON form parses.
	r = runCmd(t, as("alice"), cli, "--json", "ping", "bob", "-c", "2")
	var out pingOut
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || len(out.RTTs) != 2 || !out.Path.Direct {
		t.Fatalf("ping --json: exit %d %q %s", r.code, r.stdout, r.stderr)
	}

	// net: on loopback there is no NAT, and the relay answers.
	r = runCmd(t, as("alice"), cli, "net")
	t.Logf("alice$ soitto-cli net\n%s", r.stdout)
	if r.code != 0 || !strings.Contains(r.stdout, "NAT         open") || !strings.Contains(r.stdout, "relay       available") {
		t.Errorf("net: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// localNetwork starts a login server and two super-peers (STUN, and TURN
// in lab mode) on loopback from the binaries in bin, and returns the
// environment that runs soitto-cli as a user of it, with a profile of
// its own.
func localNetwork(t *testing.T, bin string) func(user string) []string {
	t.Helper()
	loginDir := filepath.Join(t.TempDir(), "login")
	loginAddr := freeAddr(t)
	addrs := []string{freeAddr(t), freeAddr(t)}
	if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "init", "--dir", loginDir, "--listen", loginAddr, "--bootstrap", strings.Join(addrs, ",")); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	network := filepath.Join(loginDir, "network.json")
	startServe(t, filepath.Join(bin, "soitto-login"), loginDir)
	waitHealthy(t, loginAddr)
	for i, a := range addrs {
		nodeDir := filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))
		if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "node-cert", "--dir", loginDir, "--addr", a, "--out", nodeDir); r.code != 0 {
			t.Fatalf("node-cert: %s", r.stderr)
		}
		// Loopback is a lab: STUN on an ephemeral port, TURN allowed to
		// relay between loopback addresses.
		host := strings.Split(a, ":")[0]
		startProc(t, filepath.Join(bin, "soitto-node"), "--network", network, "--listen", a, "--data", nodeDir,
			"--stabilize", "200ms", "--fix-fingers", "100ms", "--check-predecessor", "300ms", "--keepalive", "2s",
			"--stun", host+":0", "--turn", host+":0", "--turn-lab")
	}
	profiles := t.TempDir()
	return func(user string) []string {
		return []string{"SOITTO_PASSWORD=" + user + "'s password", "XDG_DATA_HOME=" + filepath.Join(profiles, user),
			"SOITTO_NETWORK=" + network, "SOITTO_ICE_NETWORKS=127.0.0.0/8"}
	}
}

// everyone lets anyone see the user's status and call them (the
// default is contacts only), for tests between strangers.
func everyone(t *testing.T, env []string, cli string) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		if r := runCmd(t, env, cli, "contacts", "privacy", "everyone"); r.code != 0 {
			return fmt.Errorf("exit %d: %s", r.code, r.stderr)
		}
		return nil
	}, "privacy everyone")
}

// register registers users on the network as runs soitto-cli with.
func register(t *testing.T, as func(string) []string, cli string, users ...string) {
	t.Helper()
	for _, u := range users {
		if r := runCmd(t, as(u), cli, "register", u); r.code != 0 {
			t.Fatalf("register %s: %s", u, r.stderr)
		}
	}
}
