package node_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/ring"
	"soitto/overlay/tlsnet"
	"soitto/overlay/wire"
)

// BenchmarkLoopbackLookup measures iterative lookups over the real
// transport: N ring nodes in one process, each with its own TLS listener
// on 127.0.0.1, mutual certificate checks on every link. It reports mean
// hops and p50/p95 lookup latency. Run with a fixed count, e.g.
// -benchtime 2000x. N stops at 128: iterative lookups open links from
// the asker to every node on the path, and with both ends of every link in
// one process 256 nodes run past 20,000 file descriptors; larger rings are
// measured over memnet by cmd/soitto-sim.
func BenchmarkLoopbackLookup(b *testing.B) {
	for _, n := range []int{64, 96, 128} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchLoopback(b, n) })
	}
}

func benchLoopback(b *testing.B, n int) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Both ends of every link live in this process.
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	authority, err := ca.Create(b.TempDir(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	roots := authority.Cert
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	rings := make([]*ring.Ring, n)
	nets := make([]*tlsnet.Net, n)
	defer func() {
		cancel()
		for _, t := range nets {
			if t != nil {
				t.Close()
			}
		}
		wg.Wait()
	}()
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		self := overlay.NewNode(ln.Addr().String())
		key, _ := ca.GenerateKey()
		cert, err := authority.IssueNode(self.Addr, &key.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		pool := authorityPool(roots)
		var r *ring.Ring
		t, err := tlsnet.New(tlsnet.Config{
			Self:        self,
			Certificate: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key},
			Roots:       pool,
			Logger:      quiet,
			PeerRate:    1e6,
			PeerBurst:   1e6,
			Handler: overlay.HandlerFunc(func(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
				return r.Handle(ctx, from, req)
			}),
		})
		if err != nil {
			b.Fatal(err)
		}
		r, err = ring.New(ring.Config{Self: self, Transport: t, Logger: quiet, Rand: rand.New(rand.NewPCG(uint64(i), 1))})
		if err != nil {
			b.Fatal(err)
		}
		rings[i], nets[i] = r, t
		wg.Add(1)
		go func() { defer wg.Done(); t.Serve(ctx, ln) }()
		if i == 0 {
			r.Create()
		} else if err := r.Join(ctx, []string{rings[0].Self().Addr}); err != nil {
			b.Fatal(err)
		}
	}
	// Converge by explicit rounds rather than waiting on timers.
	oracle := make([]overlay.Node, n)
	for i, r := range rings {
		oracle[i] = r.Self()
	}
	slices.SortFunc(oracle, func(a, c overlay.Node) int { return a.ID.Cmp(c.ID) })
	for round := 0; ; round++ {
		parallel(rings, func(r *ring.Ring) { r.Stabilize(ctx) })
		if successorsRight(rings, oracle) {
			break
		}
		if round > 4*n {
			b.Fatalf("ring did not converge in %d rounds", round)
		}
	}
	parallel(rings, func(r *ring.Ring) { r.RefreshFingers(ctx) })

	rnd := rand.New(rand.NewPCG(7, 7))
	randomKey := func() (key overlay.ID) {
		for j := range key {
			key[j] = byte(rnd.IntN(256))
		}
		return key
	}
	// Warm up: steady-state nodes keep their links to fingers and
	// successors open, so the measured lookups pay no TLS handshakes.
	for range 4 * n {
		rings[rnd.IntN(n)].Lookup(ctx, randomKey())
	}
	lat := make([]time.Duration, 0, b.N)
	hops, msgs := 0, 0
	b.ResetTimer()
	for range b.N {
		key := randomKey()
		from := rings[rnd.IntN(n)]
		t0 := time.Now()
		res, err := from.Lookup(ctx, key)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if want := trueSuccessor(oracle, key); res.Successors[0] != want {
			b.Fatalf("lookup of %s: got %s, want %s", key, res.Successors[0], want)
		}
		hops += res.Hops
		msgs += res.Messages
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(float64(hops)/float64(b.N), "hops/lookup")
	b.ReportMetric(float64(msgs)/float64(b.N), "msgs/lookup")
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
}

func parallel(rings []*ring.Ring, f func(*ring.Ring)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, r := range rings {
		wg.Add(1)
		sem <- struct{}{}
		go func() { defer wg.Done(); f(r); <-sem }()
	}
	wg.Wait()
}

func successorsRight(rings []*ring.Ring, oracle []overlay.Node) bool {
	for _, r := range rings {
		i, _ := slices.BinarySearchFunc(oracle, r.Self().ID, func(a overlay.Node, id overlay.ID) int { return a.ID.Cmp(id) })
		if r.Successors()[0] != oracle[(i+1)%len(oracle)] {
			return false
		}
	}
	return true
}

func trueSuccessor(oracle []overlay.Node, key overlay.ID) overlay.Node {
	i, _ := slices.BinarySearchFunc(oracle, key, func(a overlay.Node, id overlay.ID) int { return a.ID.Cmp(id) })
	return oracle[i%len(oracle)]
}

func authorityPool(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}
