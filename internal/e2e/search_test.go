package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSearchAndPresence is issue 4's "Done when", with the real
// binaries: in a network of soitto-login and 3 soitto-node processes,
// `soitto-cli search bob` run as alice finds bob and prints the rounds;
// bob's `soitto-cli status away` shows in alice's `listen`; after kill -9
// of bob's super-peer, bob is found again (at another) within 10 s.
func TestSearchAndPresence(t *testing.T) {
	bin := buildBinaries(t, "soitto-login", "soitto-node", "soitto-cli")
	cli := filepath.Join(bin, "soitto-cli")
	loginDir := filepath.Join(t.TempDir(), "login")
	loginAddr := freeAddr(t)
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "init", "--dir", loginDir, "--listen", loginAddr, "--bootstrap", strings.Join(addrs, ",")); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	network := filepath.Join(loginDir, "network.json")
	startServe(t, filepath.Join(bin, "soitto-login"), loginDir)
	waitHealthy(t, loginAddr)
	nodes := map[string]*exec.Cmd{}
	for i, a := range addrs {
		nodeDir := filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))
		if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "node-cert", "--dir", loginDir, "--addr", a, "--out", nodeDir); r.code != 0 {
			t.Fatalf("node-cert: %s", r.stderr)
		}
		nodes[a] = startProc(t, filepath.Join(bin, "soitto-node"), "--network", network, "--listen", a, "--data", nodeDir,
			"--stabilize", "200ms", "--fix-fingers", "100ms", "--check-predecessor", "300ms", "--keepalive", "2s")
	}

	profiles := t.TempDir()
	as := func(user string) []string {
		return []string{"SOITTO_PASSWORD=" + user + "'s password", "XDG_DATA_HOME=" + filepath.Join(profiles, user), "SOITTO_NETWORK=" + network}
	}
	for _, u := range []string{"alice", "bob"} {
		if r := runCmd(t, as(u), cli, "register", u); r.code != 0 {
			t.Fatalf("register %s: %s", u, r.stderr)
		}
	}
	// bob's status is public: strangers' searches see it.
	everyone(t, as("bob"), cli)
	bobListen := startListen(t, as("bob"), cli)
	bobListen.expect(t, "online via ", 20*time.Second)

	// alice finds bob; the output names the rounds.
	var found searchOut
	eventually(t, 15*time.Second, func() error {
		r := runCmd(t, as("alice"), cli, "search", "bob")
		if r.code != 0 {
			return fmt.Errorf("exit %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "bob  online  via 127.0.0.1:") || !strings.Contains(r.stdout, "round") {
			return fmt.Errorf("output %q", r.stdout)
		}
		t.Logf("alice$ soitto-cli search bob\n%s", r.stdout)
		found = searchJSON(t, as("alice"), cli)
		return nil
	}, "alice searching bob")
	if found.Rounds < 1 || len(found.Asked) < 1 || found.SuperPeer == "" {
		t.Fatalf("search --json: %+v", found)
	}

	// alice and bob become contacts; his status changes reach her listen.
	if r := runCmd(t, as("alice"), cli, "contacts", "add", "bob"); r.code != 0 {
		t.Fatalf("contacts add: %s", r.stderr)
	}
	bobListen.expect(t, "contact request from alice", 20*time.Second)
	if r := runCmd(t, as("bob"), cli, "contacts", "accept", "alice"); r.code != 0 {
		t.Fatalf("contacts accept: %s", r.stderr)
	}
	aliceListen := startListen(t, as("alice"), cli)
	aliceListen.expect(t, "presence bob online", 20*time.Second)
	time.Sleep(time.Second) // alice's request for pushes reaches bob
	if r := runCmd(t, as("bob"), cli, "status", "away"); r.code != 0 || !strings.Contains(r.stdout, "published by the running session") {
		t.Fatalf("status away: %d %q %s", r.code, r.stdout, r.stderr)
	}
	changed := time.Now()
	aliceListen.expect(t, "presence bob away", 10*time.Second)
	t.Logf("bob's away reached alice's listen in %v", time.Since(changed).Round(time.Millisecond))

	// kill -9 bob's super-peer: bob is found again, elsewhere, in 10 s.
	home := searchJSON(t, as("alice"), cli).SuperPeer
	victim := nodes[home]
	if victim == nil {
		t.Fatalf("bob's super-peer %q is none of ours", home)
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	killed := time.Now()
	eventually(t, 10*time.Second, func() error {
		r := runCmd(t, as("alice"), cli, "--json", "search", "bob")
		var s searchOut
		json.Unmarshal([]byte(r.stdout), &s)
		if r.code != 0 || s.Status != "away" || s.SuperPeer == home || s.SuperPeer == "" {
			return fmt.Errorf("exit %d, %+v, %s", r.code, s, r.stderr)
		}
		return nil
	}, "finding bob after his super-peer was killed")
	t.Logf("bob found again %v after kill -9 of %s", time.Since(killed).Round(time.Millisecond), home)
}

type searchOut struct {
	User      string   `json:"user"`
	Found     bool     `json:"found"`
	Status    string   `json:"status"`
	SuperPeer string   `json:"super_peer"`
	Rounds    int      `json:"rounds"`
	Asked     []string `json:"asked"`
}

func searchJSON(t *testing.T, env []string, cli string) searchOut {
	t.Helper()
	r := runCmd(t, env, cli, "--json", "search", "bob")
	var s searchOut
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || r.code != 0 {
		t.Fatalf("search --json: exit %d, %v: %q %s", r.code, err, r.stdout, r.stderr)
	}
	return s
}

// listenProc is a running `soitto-cli listen` and its output lines.
type listenProc struct {
	lines  chan string
	seen   []string
	cmd    *exec.Cmd
	killed bool // by kill: the cleanup does not expect a clean exit
}

// stop ends the listen with SIGINT (it logs out) and checks it exited 0.
func (p *listenProc) stop(t *testing.T) {
	t.Helper()
	p.killed = true
	p.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("listen exited with %v after SIGINT", err)
		}
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		t.Error("listen did not stop within 15 s of SIGINT")
	}
	for l := range p.lines {
		p.seen = append(p.seen, l)
	}
}

// kill ends the listen with SIGKILL, as a crash would, and waits for it.
func (p *listenProc) kill(t *testing.T) {
	t.Helper()
	p.killed = true
	p.cmd.Process.Kill()
	p.cmd.Wait()
	for range p.lines { // drain what it printed before
	}
}

func startListen(t *testing.T, env []string, cli string) *listenProc {
	t.Helper()
	cmd := exec.Command(cli, "listen")
	cmd.Env = append(os.Environ(), env...)
	return watchListen(t, cmd)
}

// watchListen starts cmd, a soitto-cli listen, and reads its lines; at
// the end of the test it is interrupted and must exit cleanly.
func watchListen(t *testing.T, cmd *exec.Cmd) *listenProc {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &listenProc{lines: make(chan string, 100), cmd: cmd}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		if p.killed {
			return
		}
		// SIGINT: listen logs out (publishes offline) and exits 0.
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("listen exited with %v after SIGINT; stderr: %s", err, errBuf.String())
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Error("listen did not stop within 15 s of SIGINT")
		}
		if t.Failed() {
			t.Logf("listen output: %q\nstderr: %s", p.seen, errBuf.String())
		}
	})
	return p
}

// expect waits for a line starting with prefix.
func (p *listenProc) expect(t *testing.T, prefix string, within time.Duration) string {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("listen ended before %q; saw %q", prefix, p.seen)
			}
			p.seen = append(p.seen, l)
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line %q within %v; saw %q", prefix, within, p.seen)
		}
	}
}
