// Package nodetest runs a network of super-peers in one process for
// tests: a CA, a network file naming every node as bootstrap, and nodes
// on 127.0.0.1 with real TLS and short maintenance intervals.
package nodetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"soitto/bootstrap"
	"soitto/login/ca"
	"soitto/nat"
	"soitto/overlay/node"
	"soitto/overlay/ring"
)

// Options tune a Cluster.
type Options struct {
	// MaxClients per node; if zero, node's default.
	MaxClients int
	// KeepAlive for attached clients; if zero, 1 s.
	KeepAlive time.Duration
	// CA and Base: use this CA, and Base's login server and name in the
	// network file (a logintest server's), instead of new ones.
	CA   *ca.CA
	Base *bootstrap.Network
	// Logger; if nil, warnings and errors to stderr when
	// SOITTO_TEST_LOG is set, else nothing.
	Logger *slog.Logger
	// NAT: each node runs a STUN server and a TURN relay on loopback
	// (a lab: relaying between loopback addresses allowed).
	NAT bool
}

// Cluster is a running network of nodes.
type Cluster struct {
	t       testing.TB
	CA      *ca.CA
	Network *bootstrap.Network
	Nodes   []*Node
	opts    Options
}

// Node is one running super-peer.
type Node struct {
	*node.Node
	Addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

// Stopped reports whether the node has stopped.
func (n *Node) Stopped() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Start runs n nodes and waits until their ring is whole: every node's
// successor is the next by ID. Everything stops at the test's end.
func Start(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	if opts.KeepAlive == 0 {
		opts.KeepAlive = time.Second
	}
	if opts.Logger == nil {
		level := slog.Level(100)
		if os.Getenv("SOITTO_TEST_LOG") != "" {
			level = slog.LevelInfo
		}
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
		if level == 100 {
			opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		}
	}
	authority := opts.CA
	if authority == nil {
		var err error
		if authority, err = ca.Create(t.TempDir(), "nodetest"); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	lns := make([]net.Listener, n)
	addrs := make([]string, n)
	for i := range n {
		if lns[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		addrs[i] = lns[i].Addr().String()
	}
	var network *bootstrap.Network
	if opts.Base != nil {
		cp := *opts.Base
		cp.Bootstrap = addrs
		network = &cp
	} else if network, err = bootstrap.New("nodetest", "https://127.0.0.1:1/", authority.Cert, authority.Cert, addrs); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, CA: authority, Network: network, opts: opts}
	for i := range n {
		c.Nodes = append(c.Nodes, c.start(lns[i]))
	}
	t.Cleanup(c.StopAll)
	if err := c.WaitRing(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *Cluster) start(ln net.Listener) *Node {
	c.t.Helper()
	addr := ln.Addr().String()
	key, err := ca.GenerateKey()
	if err != nil {
		c.t.Fatal(err)
	}
	cert, err := c.CA.IssueNode(addr, &key.PublicKey)
	if err != nil {
		c.t.Fatal(err)
	}
	nd, err := node.New(node.Config{
		Network:        c.Network,
		Certificate:    tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key},
		Advertise:      addr,
		Ring:           ring.Config{Stabilize: 100 * time.Millisecond, FixFingers: 100 * time.Millisecond, CheckPredecessor: 200 * time.Millisecond, CallTimeout: time.Second},
		RejoinInterval: 300 * time.Millisecond,
		MaxClients:     c.opts.MaxClients,
		KeepAlive:      c.opts.KeepAlive,
		Logger:         c.opts.Logger.With("node", addr),
		NAT:            c.startNAT(addr),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Node{Node: nd, Addr: addr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		nd.Run(ctx, ln)
	}()
	return h
}

// WaitRing waits until the running nodes form one ring.
func (c *Cluster) WaitRing(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var live []*Node
		for _, n := range c.Nodes {
			if !n.Stopped() {
				live = append(live, n)
			}
		}
		if ringWhole(live) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nodetest: %d nodes did not form a ring in %v", len(live), limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ringWhole(nodes []*Node) bool {
	if len(nodes) == 0 {
		return true
	}
	next := map[string]string{}
	for _, n := range nodes {
		succ := n.Ring().Successors()
		if len(succ) == 0 {
			return false
		}
		next[n.Addr] = succ[0].Addr
	}
	seen := map[string]bool{}
	cur := nodes[0].Addr
	for range nodes {
		if seen[cur] {
			return false
		}
		seen[cur] = true
		if cur = next[cur]; cur == "" {
			return false
		}
	}
	return cur == nodes[0].Addr && len(seen) == len(nodes)
}

// Stop stops node i gracefully (it hands records over and leaves).
func (c *Cluster) Stop(i int) {
	c.Nodes[i].cancel()
	<-c.Nodes[i].done
}

// Crash stops node i abruptly: links closed, nothing handed over.
func (c *Cluster) Crash(i int) {
	c.Nodes[i].Crash()
	c.Nodes[i].cancel()
	<-c.Nodes[i].done
}

// StopAll stops every node.
func (c *Cluster) StopAll() {
	for _, n := range c.Nodes {
		n.cancel()
	}
	for _, n := range c.Nodes {
		<-n.done
	}
}

// User returns a user certificate for name with a fresh key.
func (c *Cluster) User(name string) tls.Certificate {
	c.t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		c.t.Fatal(err)
	}
	cert, err := c.CA.IssueUser(name, &key.PublicKey)
	if err != nil {
		c.t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

// Roots is the CA pool.
func (c *Cluster) Roots() *x509.CertPool { return c.Network.CAPool() }

// startNAT starts a node's STUN server and TURN relay when the options
// ask for them; they stop at the end of the test.
func (c *Cluster) startNAT(addr string) *node.NATServices {
	if !c.opts.NAT {
		return nil
	}
	host, _, _ := net.SplitHostPort(addr)
	st, err := nat.ListenSTUN(nat.STUNConfig{Listen: net.JoinHostPort(host, "0"), Logger: c.opts.Logger})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { st.Close() })
	tr, err := nat.NewTURN(nat.TURNConfig{
		ListenUDP: net.JoinHostPort(host, "0"), ListenTCP: net.JoinHostPort(host, "0"),
		RelayIP: host, Lab: true, Logger: c.opts.Logger,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { tr.Close() })
	return &node.NATServices{STUN: st, TURN: tr}
}
