package node_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/overlay"
	"soitto/overlay/node/nodetest"
	"soitto/overlay/tlsnet"
	"soitto/overlay/wire"
)

var stormClients = flag.Int("storm-clients", 5000, "clients in each BenchmarkAttachStorm storm")

// stormLimit is how long a storm may take before the clients still
// trying give up and count as lost.
const stormLimit = 2 * time.Minute

// BenchmarkAttachStorm starts -storm-clients clients (5,000) at the same
// instant against a network of 1 and of 3 super-peers, all in this
// process on 127.0.0.1, and reports the time from the start until each
// client was attached: p50, p95, p99 and max, in milliseconds (+Inf
// where the percentile falls on a client that was still not attached
// after two minutes). lost is the clients not attached at the end,
// counted on the nodes' side (node.Clients()); it should be 0, and the
// benchmark logs the reasons when it is not. dropped is the clients whose
// link failed after they attached (a ping unanswered, the link closed);
// it should be 0 too.
//
// Each client is a bare tlsnet.Net with its own link, behaving as
// overlay/peer does: it tries the nodes in a random order (its host cache,
// seeded from the network file), each dial bounded by peer's 3 s
// DialTimeout, and after a round in which none accepted it waits 250 ms,
// doubling to 5 s, and tries again. retries/client counts attempts beyond
// the first; dial-fails/client the attempts that got no link (TCP, TLS or
// Hello failed or timed out), attach-fails/client those whose link came
// up but whose attach was not answered in tlsnet.DefaultCallTimeout.
// The clients share 100 user certificates, so no node's per-certificate
// request rate (tlsnet.DefaultPeerRate) is reached. Attached clients ping
// at the keepalive the node names (15 s), as overlay/peer's do, since a
// storm can outlast the node's idle timeout (three keepalives).
//
// Clients and nodes share the machine's cores: both ends of every TLS
// 1.3 handshake (ECDSA P-256 signatures and certificate checks, X25519
// with ML-KEM) run here, so the times are CPU-bound. Run it alone, with a
// fixed count:
//
//	go test ./overlay/node/ -run '^$' -bench AttachStorm -benchtime 1x
func BenchmarkAttachStorm(b *testing.B) {
	for _, nodes := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d/clients=%d", nodes, *stormClients), func(b *testing.B) {
			benchStorm(b, nodes, *stormClients)
		})
	}
}

func benchStorm(b *testing.B, nodes, clients int) {
	ignore := goleak.IgnoreCurrent()
	// Both ends of every link live in this process.
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if need := uint64(2*clients + 200*nodes); lim.Cur < need {
		b.Skipf("RLIMIT_NOFILE is %d; %d clients need about %d descriptors", lim.Cur, clients, need)
	}
	cl := nodetest.Start(b, nodes, nodetest.Options{MaxClients: clients, KeepAlive: 15 * time.Second})
	addrs := make([]string, len(cl.Nodes))
	for i, n := range cl.Nodes {
		addrs[i] = n.Addr
	}
	certs := make([]tls.Certificate, 100)
	for i := range certs {
		certs[i] = cl.User(fmt.Sprintf("storm%03d", i))
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	var (
		lat                              []time.Duration // +Inf for a client that gave up
		attempts, dialFails, attachFails int
		lost, dropped                    int
		gaveUp                           []error
	)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s, err := newStorm(clients, certs, cl, quiet)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s.run(addrs)
		b.StopTimer()
		attached := 0
		for _, n := range cl.Nodes {
			attached += n.Clients()
		}
		lost += clients - attached
		for _, c := range s.clients {
			attempts += c.attempts
			dialFails += c.dialFails
			attachFails += c.attachFails
			if c.dropped.Load() {
				dropped++
			}
			if c.err != nil {
				lat = append(lat, time.Duration(math.MaxInt64))
				gaveUp = append(gaveUp, c.err)
				continue
			}
			lat = append(lat, c.took)
		}
		if err := s.close(cl); err != nil {
			b.Fatal(err)
		}
	}
	cl.StopAll()
	if lost > 0 {
		b.Logf("LOST: %d of %d clients not attached after %v (node side); %d gave up, e.g. %v",
			lost, b.N*clients, stormLimit, len(gaveUp), gaveUp[:min(3, len(gaveUp))])
	}
	slices.Sort(lat)
	ms := func(p float64) float64 {
		d := lat[int(p*float64(len(lat)-1))]
		if d == time.Duration(math.MaxInt64) {
			return math.Inf(1)
		}
		return float64(d) / 1e6
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.95), "p95-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(ms(1), "max-ms")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dropped), "dropped")
	n := float64(b.N * clients)
	b.ReportMetric(float64(attempts)/n-1, "retries/client")
	b.ReportMetric(float64(dialFails)/n, "dial-fails/client")
	b.ReportMetric(float64(attachFails)/n, "attach-fails/client")
	goleak.VerifyNone(b, ignore)
}

// storm is one round of clients attaching at once.
type storm struct {
	clients []*stormClient
	stop    chan struct{}  // closed to end the pings
	pingers sync.WaitGroup // a client's pings, from its attach to stop
}

type stormClient struct {
	net      *tlsnet.Net
	instance [16]byte
	conn     overlay.Conn
	took     time.Duration // from the start to attached
	attempts int
	// dialFails: no link (TCP or TLS handshake, Hello); attachFails: a
	// link, but no accepted attach (the call timed out or was refused).
	dialFails, attachFails int
	err                    error // set if it gave up
	keep                   time.Duration
	dropped                atomic.Bool // its link failed after it attached
}

func newStorm(n int, certs []tls.Certificate, cl *nodetest.Cluster, log *slog.Logger) (*storm, error) {
	s := &storm{clients: make([]*stormClient, n), stop: make(chan struct{})}
	for i := range s.clients {
		// overlay/peer's transport settings.
		tn, err := tlsnet.New(tlsnet.Config{
			Certificate: certs[i%len(certs)], Roots: cl.Roots(), Logger: log,
			DialTimeout: 3 * time.Second, IdleTimeout: time.Minute,
		})
		if err != nil {
			return nil, err
		}
		c := &stormClient{net: tn}
		rand.Read(c.instance[:])
		s.clients[i] = c
	}
	return s, nil
}

// run lets every client go at the same instant and returns when each is
// attached or has given up.
func (s *storm) run(addrs []string) {
	ctx, cancel := context.WithTimeout(context.Background(), stormLimit)
	defer cancel()
	start := make(chan struct{})
	var ready, wg sync.WaitGroup
	var t0 time.Time
	for _, c := range s.clients {
		order := slices.Clone(addrs)
		mrand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		ready.Add(1)
		wg.Go(func() {
			ready.Done()
			<-start
			if c.attach(ctx, order, t0) {
				// Attached clients ping, as overlay/peer's do: a
				// storm may last longer than the node's idle timeout.
				s.pingers.Go(func() { c.ping(s.stop) })
			}
		})
	}
	ready.Wait()
	t0 = time.Now()
	close(start)
	wg.Wait()
}

// attach tries the nodes in order until one accepts, and the whole list
// again after a backoff, as overlay/peer.Run does. It reports whether it
// attached.
func (c *stormClient) attach(ctx context.Context, order []string, t0 time.Time) bool {
	var backoff time.Duration
	var last error
	for ctx.Err() == nil {
		for _, addr := range order {
			c.attempts++
			conn, keep, err := c.attachTo(ctx, addr)
			if err == nil {
				c.conn, c.keep, c.took = conn, keep, time.Since(t0)
				return true
			}
			last = err
		}
		backoff = min(max(2*backoff, 250*time.Millisecond), 5*time.Second)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
	}
	c.err = fmt.Errorf("after %d attempts: %w", c.attempts, errors.Join(last, ctx.Err()))
	return false
}

// ping pings every keepalive until stop; a failed ping or a closed link
// marks the client dropped.
func (c *stormClient) ping(stop <-chan struct{}) {
	t := time.NewTicker(c.keep)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-c.conn.Done():
			c.dropped.Store(true)
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.keep)
		_, err := c.conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Ping{Ping: &wire.PingRequest{}}})
		cancel()
		if err != nil {
			c.dropped.Store(true)
			return
		}
	}
}

func (c *stormClient) attachTo(ctx context.Context, addr string) (overlay.Conn, time.Duration, error) {
	conn, err := c.net.Dial(ctx, addr)
	if err != nil {
		c.dialFails++
		return nil, 0, err
	}
	resp, err := conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Attach{Attach: &wire.AttachRequest{Instance: c.instance[:], Receive: true}}})
	if err == nil && !resp.GetAttachResult().GetAccepted() {
		err = fmt.Errorf("%s refused the attach", addr)
	}
	if err != nil {
		c.attachFails++
		conn.Close()
		return nil, 0, err
	}
	keep := time.Duration(resp.GetAttachResult().GetKeepaliveSeconds()) * time.Second
	if keep <= 0 {
		keep = 15 * time.Second
	}
	return conn, keep, nil
}

// close detaches every client and waits until the nodes have dropped
// them all, so that the next round starts from none.
func (s *storm) close(cl *nodetest.Cluster) error {
	close(s.stop)
	s.pingers.Wait()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range s.clients {
		sem <- struct{}{}
		wg.Go(func() { defer func() { <-sem }(); c.net.Close() })
	}
	wg.Wait()
	for deadline := time.Now().Add(30 * time.Second); ; {
		left := 0
		for _, n := range cl.Nodes {
			left += n.Clients()
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d clients still attached 30 s after closing", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
