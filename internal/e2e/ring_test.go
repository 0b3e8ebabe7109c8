package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"soitto/bootstrap"
	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/tlsnet"
	"soitto/overlay/wire"
)

// TestRingOfNodes is issue 3's "Done when": soitto-node processes on
// loopback form a ring; a record put through one node is found through
// each; after kill -9 of the node that holds it (the worst one to lose),
// it is still found through every survivor.
func TestRingOfNodes(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("nodes=%d", n), func(t *testing.T) { testRing(t, n) })
	}
}

func testRing(t *testing.T, count int) {
	bin := buildBinaries(t, "soitto-login", "soitto-node")
	loginDir := filepath.Join(t.TempDir(), "login")
	addrs := make([]string, count)
	for i := range addrs {
		addrs[i] = freeAddr(t)
	}
	if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "init", "--dir", loginDir, "--listen", freeAddr(t), "--bootstrap", strings.Join(addrs, ",")); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	network := filepath.Join(loginDir, "network.json")
	procs := make([]*exec.Cmd, count)
	metrics := make([]string, count)
	for i, a := range addrs {
		metrics[i] = freeAddr(t)
		nodeDir := filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))
		if r := runCmd(t, nil, filepath.Join(bin, "soitto-login"), "node-cert", "--dir", loginDir, "--addr", a, "--out", nodeDir); r.code != 0 {
			t.Fatalf("node-cert: %s", r.stderr)
		}
		procs[i] = startProc(t, filepath.Join(bin, "soitto-node"), "--network", network, "--listen", a, "--data", nodeDir,
			"--stabilize", "200ms", "--fix-fingers", "100ms", "--check-predecessor", "300ms", "--metrics", metrics[i])
	}

	net, _ := bootstrap.Load(network)
	authority, err := ca.Load(loginDir)
	if err != nil {
		t.Fatal(err)
	}
	// Records of several users, each signed with its own certificate.
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	var client *tlsnet.Net
	records := map[string]*wire.Record{}
	for _, u := range users {
		key, _ := ca.GenerateKey()
		cert, err := authority.IssueUser(u, &key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if client == nil {
			client = newClient(t, net, cert.Raw, key)
		}
		rec := &wire.Record{Kind: "presence", Name: u, Seq: 1, Expires: time.Now().Add(10 * time.Minute).Unix(), Payload: []byte(`{"status":"online"}`)}
		if err := dir.Sign(rec, key, cert.Raw); err != nil {
			t.Fatal(err)
		}
		records[u] = rec
	}

	// Put each record through a different node, retrying while the ring
	// forms (the nodes started at once, so they first merge).
	for i, u := range users {
		via := addrs[i%count]
		eventually(t, 30*time.Second, func() error {
			_, err := call(client, via, &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: records[u]}}})
			return err
		}, "put %s through %s", u, via)
	}
	// Every record is found through every node.
	for _, u := range users {
		for _, a := range addrs {
			eventually(t, 30*time.Second, func() error { return getRecord(client, a, records[u]) }, "get %s through %s", u, a)
		}
	}

	// Every record on its whole replica set (with up to 4 nodes, every
	// node) before a node dies: a record put while the ring was still
	// forming reaches its replicas at the next repair round, not with
	// the put.
	eventually(t, 30*time.Second, func() error {
		total := 0
		for _, m := range metrics {
			n, err := recordsHeld(m)
			if err != nil {
				return err
			}
			total += n
		}
		if want := len(users) * min(count, dir.DefaultReplicas+1); total < want {
			return fmt.Errorf("%d records held across the nodes, want %d", total, want)
		}
		return nil
	}, "replication of every record")

	// kill -9 the node that holds alice's record.
	ids := make([]overlay.Node, count)
	for i, a := range addrs {
		ids[i] = overlay.NewNode(a)
	}
	primary := successorOf(overlay.KeyOf("alice"), ids)
	victim := slices.Index(addrs, primary.Addr)
	t.Logf("killing node %d (%s), the home of alice's record", victim, primary)
	procs[victim].Process.Kill()
	procs[victim].Wait()
	for _, u := range users {
		for i, a := range addrs {
			if i == victim {
				continue
			}
			eventually(t, 30*time.Second, func() error { return getRecord(client, a, records[u]) }, "after kill -9: get %s through %s", u, a)
		}
	}

	// SIGTERM another node: it hands its records over, tells its
	// neighbours and exits 0; nothing is lost.
	leaver := (victim + 1) % count
	stopServe(t, procs[leaver])
	for _, u := range users {
		for i, a := range addrs {
			if i == victim || i == leaver {
				continue
			}
			eventually(t, 30*time.Second, func() error { return getRecord(client, a, records[u]) }, "after SIGTERM: get %s through %s", u, a)
		}
	}
}

func successorOf(key overlay.ID, nodes []overlay.Node) overlay.Node {
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b overlay.Node) int { return a.ID.Cmp(b.ID) })
	for _, n := range sorted {
		if n.ID.Cmp(key) >= 0 {
			return n
		}
	}
	return sorted[0]
}

func newClient(t *testing.T, n *bootstrap.Network, certDER []byte, key *ecdsa.PrivateKey) *tlsnet.Net {
	t.Helper()
	c, err := tlsnet.New(tlsnet.Config{
		Certificate: tls.Certificate{Certificate: [][]byte{certDER}, PrivateKey: key},
		Roots:       n.CAPool(),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func call(c *tlsnet.Net, addr string, req *wire.Envelope) (*wire.Envelope, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Call(ctx, addr, req)
}

func getRecord(c *tlsnet.Net, addr string, want *wire.Record) error {
	resp, err := call(c, addr, &wire.Envelope{Body: &wire.Envelope_Get{Get: &wire.GetRequest{Kind: want.Kind, Name: want.Name}}})
	if err != nil {
		return err
	}
	recs := resp.GetGetResult().GetRecords()
	if len(recs) != 1 || recs[0].Seq != want.Seq || string(recs[0].Signature) != string(want.Signature) {
		return errors.New("wrong record")
	}
	return nil
}

// recordsHeld reads soitto_node_records from a node's metrics.
func recordsHeld(addr string) (int, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "soitto_node_records "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("no soitto_node_records at %s", addr)
}

// eventually retries f every 200 ms until it succeeds or the time is up.
func eventually(t *testing.T, within time.Duration, f func() error, format string, a ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after %v: %v", fmt.Sprintf(format, a...), within, err)
}

func startProc(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s %s log:\n%s", filepath.Base(name), strings.Join(args[:4], " "), b)
		}
	})
	return cmd
}
