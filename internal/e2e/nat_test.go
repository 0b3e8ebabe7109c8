package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"soitto/internal/netlab"
)

// pingOut is soitto-cli ping --json.
type pingOut struct {
	User  string `json:"user"`
	Setup int64  `json:"setup_ns"`
	Path  struct {
		Local, Remote struct {
			Type          string `json:"type"`
			Protocol      string `json:"protocol"`
			Address       string `json:"address"`
			RelayProtocol string `json:"relay_protocol"`
		}
		Direct bool   `json:"direct"`
		Text   string `json:"text"`
	} `json:"path"`
	RTTs []int64 `json:"rtts_ns"`
}

// netOut is soitto-cli net --json, the parts the test reads.
type netOut struct {
	NATType string `json:"nat_type"`
	Relay   bool   `json:"relay"`
}

// TestNATPairs is issue 5's "Done when": real Linux NATs in network
// namespaces (a port-restricted cone, a symmetric NAT, one that drops
// UDP, and hosts with public addresses), soitto-login and two soitto-node
// super-peers on the public segment, a soitto-cli listen on every host;
// for every pair of NAT types, `soitto-cli ping` gets a session over the
// path the table predicts: direct where the NATs allow, our TURN relay
// where not, TURN over TCP when UDP is blocked. `soitto-cli net` names
// each host's NAT.
func TestNATPairs(t *testing.T) {
	if why := netlab.Available(); why != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the NAT test: %s", why)
		}
		t.Skip(why)
	}
	bin := buildBinaries(t, "soitto-login", "soitto-node", "soitto-cli")
	cli := filepath.Join(bin, "soitto-cli")
	lab := netlab.New(t)

	// The public segment: login server and two super-peers.
	sp := lab.Public("sp", "198.18.0.10", "198.18.0.11")
	loginAddr, nodeA, nodeB := "198.18.0.10:7443", "198.18.0.10:7600", "198.18.0.11:7600"
	loginDir := filepath.Join(t.TempDir(), "login")
	if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "init", "--dir", loginDir, "--listen", loginAddr, "--bootstrap", nodeA+","+nodeB); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	network := filepath.Join(loginDir, "network.json")
	startIn(t, sp, filepath.Join(bin, "soitto-login"), "serve", "--dir", loginDir)
	for i, a := range []string{nodeA, nodeB} {
		nodeDir := filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))
		if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "node-cert", "--dir", loginDir, "--addr", a, "--out", nodeDir); r.code != 0 {
			t.Fatalf("node-cert: %s", r.stderr)
		}
		// --turn-lab: the lab's addresses (198.18.0.0/15, benchmarking)
		// are special-purpose ones a production relay refuses.
		startIn(t, sp, filepath.Join(bin, "soitto-node"), "--network", network, "--listen", a, "--data", nodeDir,
			"--stabilize", "200ms", "--fix-fingers", "100ms", "--check-predecessor", "300ms", "--keepalive", "2s",
			"--turn-lab", "--turn-ports", "50000-50999")
	}

	type peerHost struct {
		user string
		host *netlab.Host
	}
	kinds := []netlab.NAT{netlab.Public, netlab.PortRestricted, netlab.Symmetric, netlab.UDPBlocked}
	profiles := t.TempDir()
	as := func(user string) []string {
		return []string{"SOITTO_PASSWORD=" + user + "'s password", "XDG_DATA_HOME=" + filepath.Join(profiles, user), "SOITTO_NETWORK=" + network}
	}
	// Two hosts of each kind, so that same-kind pairs are tested too.
	hosts := map[netlab.NAT][2]peerHost{}
	for ki, k := range kinds {
		var pair [2]peerHost
		for j := range 2 {
			user := fmt.Sprintf("%s%d", strings.ReplaceAll(k.String(), "-", ""), j+1)
			if len(user) > 14 {
				user = user[:12] + fmt.Sprint(j+1)
			}
			h := lab.Behind(fmt.Sprintf("h%d%d", ki, j), k, fmt.Sprintf("198.18.0.%d", 20+10*ki+j))
			pair[j] = peerHost{user, h}
		}
		hosts[k] = pair
	}
	var all []peerHost
	for _, k := range kinds {
		all = append(all, hosts[k][0], hosts[k][1])
	}
	waitTCP(t, sp, loginAddr)
	for _, p := range all {
		eventually(t, 20*time.Second, func() error {
			r := runIn(t, p.host, as(p.user), cli, "register", p.user)
			if r.code != 0 {
				return fmt.Errorf("register %s: %s", p.user, r.stderr)
			}
			return nil
		}, "registering %s", p.user)
	}
	for _, p := range all {
		// Strangers pinging each other: anyone may open a session.
		if r := runIn(t, p.host, as(p.user), cli, "contacts", "privacy", "everyone"); r.code != 0 {
			t.Fatalf("privacy %s: %s", p.user, r.stderr)
		}
	}
	for _, p := range all {
		l := startListenIn(t, p.host, as(p.user), cli)
		l.expect(t, "online via ", 30*time.Second)
	}

	// Every host knows its NAT.
	wantType := map[netlab.NAT]string{
		netlab.Public: "open", netlab.PortRestricted: "port-restricted cone",
		netlab.Symmetric: "symmetric", netlab.UDPBlocked: "UDP blocked",
	}
	for _, k := range kinds {
		p := hosts[k][0]
		r := runIn(t, p.host, as(p.user), cli, "--json", "net")
		if r.code != 0 {
			t.Fatalf("%s: net: %s", p.user, r.stderr)
		}
		var n netOut
		if err := json.Unmarshal([]byte(r.stdout), &n); err != nil {
			t.Fatalf("%s: net --json: %v: %q", p.user, err, r.stdout)
		}
		if n.NATType != wantType[k] || !n.Relay {
			t.Errorf("%s behind %v: net says NAT %q, relay %v; want %q with a relay", p.user, k, n.NATType, n.Relay, wantType[k])
		}
		t.Logf("%s (%v): %s", p.user, k, strings.TrimSpace(runIn(t, p.host, as(p.user), cli, "net").stdout))
	}

	// The table: a relay where neither side can reach the other directly.
	needsRelay := func(a, b netlab.NAT) bool {
		if a == netlab.UDPBlocked || b == netlab.UDPBlocked {
			return true
		}
		sym := func(x, y netlab.NAT) bool {
			return x == netlab.Symmetric && (y == netlab.Symmetric || y == netlab.PortRestricted)
		}
		return sym(a, b) || sym(b, a)
	}
	var table []string
	for i, ka := range kinds {
		for _, kb := range kinds[i:] {
			a, b := hosts[ka][0], hosts[kb][1]
			var out pingOut
			var raw result
			eventually(t, 60*time.Second, func() error {
				raw = runIn(t, a.host, as(a.user), cli, "--json", "ping", b.user, "-c", "3")
				if raw.code != 0 {
					return fmt.Errorf("ping: %s", raw.stderr)
				}
				return json.Unmarshal([]byte(raw.stdout), &out)
			}, "%s pinging %s", a.user, b.user)
			relay := needsRelay(ka, kb)
			row := fmt.Sprintf("%-16s %-16s %-60s setup %4d ms  rtt %.2f ms", ka, kb, out.Path.Text,
				out.Setup/1e6, float64(out.RTTs[len(out.RTTs)-1])/1e6)
			table = append(table, row)
			switch {
			case len(out.RTTs) != 3:
				t.Errorf("%v→%v: %d round trips, want 3", ka, kb, len(out.RTTs))
			case out.Path.Direct == relay:
				t.Errorf("%v→%v: path %q; want %s", ka, kb, out.Path.Text, map[bool]string{true: "a relay", false: "direct"}[relay])
			case ka == netlab.UDPBlocked && out.Path.Local.RelayProtocol != "tcp":
				t.Errorf("%v→%v: path %q; want our end relayed over TCP", ka, kb, out.Path.Text)
			case relay && !relayedBy(out, "198.18.0.10", "198.18.0.11"):
				t.Errorf("%v→%v: path %q is relayed, but not by our super-peers", ka, kb, out.Path.Text)
			}
		}
	}
	t.Logf("pings (caller's NAT, callee's NAT, path, setup, last RTT):\n%s", strings.Join(table, "\n"))
}

// relayedBy says whether one end of the path is a relay candidate on one
// of ips.
func relayedBy(p pingOut, ips ...string) bool {
	for _, c := range []struct{ Type, Address string }{{p.Path.Local.Type, p.Path.Local.Address}, {p.Path.Remote.Type, p.Path.Remote.Address}} {
		for _, ip := range ips {
			if c.Type == "relay" && c.Address == ip {
				return true
			}
		}
	}
	return false
}

// startIn starts a long-running program in h's namespace; it is killed
// at the end of the test.
func startIn(t *testing.T, h *netlab.Host, name string, args ...string) {
	t.Helper()
	startProc(t, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// runIn runs a command to completion in h's namespace.
func runIn(t *testing.T, h *netlab.Host, env []string, name string, args ...string) result {
	t.Helper()
	return runCmd(t, env, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// waitTCP waits until addr takes TCP connections, from inside h.
func waitTCP(t *testing.T, h *netlab.Host, addr string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	eventually(t, 20*time.Second, func() error {
		r := runIn(t, h, nil, "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port))
		if r.code != 0 {
			return fmt.Errorf("%s", r.stderr)
		}
		return nil
	}, "waiting for %s", addr)
}

// startListenIn is startListen inside h's namespace.
func startListenIn(t *testing.T, h *netlab.Host, env []string, cli string) *listenProc {
	t.Helper()
	cmd := h.Command(context.Background(), cli, "listen")
	cmd.Env = append(os.Environ(), env...)
	return watchListen(t, cmd)
}
