package tlsnet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every test; go test's -timeout is the backstop.
const testTimeout = 20 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

type testCA struct {
	*ca.CA
	roots *x509.CertPool
}

func newCA(t testing.TB) *testCA {
	t.Helper()
	c, err := ca.Create(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Cert)
	return &testCA{CA: c, roots: roots}
}

func (c *testCA) nodeCert(t testing.TB, addr string) tls.Certificate {
	t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.IssueNode(addr, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
}

func (c *testCA) userCert(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.IssueUser(name, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
}

// testLogger writes to t.Log, shown when a test fails or with -v.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

type testNode struct {
	*Net
	addr    string
	self    overlay.Node
	stopped chan struct{} // closed when Serve returned
}

// serveNet serves ln with a Net made from cfg until the test ends.
func serveNet(t testing.TB, cfg Config, ln net.Listener) *testNode {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	n, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	tn := &testNode{Net: n, addr: ln.Addr().String(), self: cfg.Self, stopped: make(chan struct{})}
	go func() {
		defer close(tn.stopped)
		if err := n.Serve(context.Background(), ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(tn.stop)
	return tn
}

// stop closes the node and waits for Serve to return.
func (tn *testNode) stop() {
	tn.Close()
	<-tn.stopped
}

// startNode runs a node on a fresh loopback port with a certificate for
// it; mod adjusts the Config.
func startNode(t testing.TB, c *testCA, h overlay.Handler, mod func(*Config)) *testNode {
	t.Helper()
	ln := listen(t, "127.0.0.1:0")
	addr := ln.Addr().String()
	cfg := Config{Self: overlay.NewNode(addr), Certificate: c.nodeCert(t, addr), Roots: c.roots, Handler: h}
	if mod != nil {
		mod(&cfg)
	}
	return serveNet(t, cfg, ln)
}

// startClient makes a client Net (user certificate, no Self).
func startClient(t testing.TB, c *testCA, name string) *Net {
	t.Helper()
	n, err := New(Config{Certificate: c.userCert(t, name), Roots: c.roots, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// echo is the handler of most tests. Get{name} answers a record naming
// the name and, in Kind, the asking peer; some names do more.
type echo struct {
	mu    sync.Mutex
	peers []overlay.Peer

	started  chan string   // if set, gets the name of each slow request
	finished chan error    // if set, gets how each slow request ended
	release  chan struct{} // "slow" waits for this (or ctx)
}

func (e *echo) Handle(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
	e.mu.Lock()
	e.peers = append(e.peers, from)
	e.mu.Unlock()
	switch b := req.Body.(type) {
	case *wire.Envelope_Ping:
		return nil, nil
	case *wire.Envelope_Get:
		switch name := b.Get.Name; name {
		case "missing":
			return nil, wire.Errorf(wire.ErrNotFound, "no record for %q", name)
		case "panic":
			panic("handler bug")
		case "big":
			return getResult(&wire.Record{Payload: make([]byte, wire.MaxFrame)}), nil
		case "slow", "stubborn":
			if e.started != nil {
				e.started <- name
			}
			if name == "stubborn" { // ignores ctx: only release ends it
				<-e.release
				return nil, nil
			}
			var err error
			select {
			case <-e.release:
			case <-ctx.Done():
				err = ctx.Err()
			}
			if e.finished != nil {
				e.finished <- err
			}
			return nil, err
		default:
			return getResult(&wire.Record{Name: name, Kind: from.Name}), nil
		}
	}
	return nil, wire.Errorf(wire.ErrBadRequest, "unexpected %T", req.Body)
}

func (e *echo) lastPeer() overlay.Peer {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.peers[len(e.peers)-1]
}

func getResult(r *wire.Record) *wire.Envelope {
	return &wire.Envelope{Body: &wire.Envelope_GetResult{GetResult: &wire.GetResponse{Records: []*wire.Record{r}}}}
}

func get(name string) *wire.Envelope {
	return &wire.Envelope{Body: &wire.Envelope_Get{Get: &wire.GetRequest{Kind: "presence", Name: name}}}
}

func ping() *wire.Envelope {
	return &wire.Envelope{Body: &wire.Envelope_Ping{Ping: &wire.PingRequest{}}}
}

// callGet asks addr for name and checks the echo.
func callGet(ctx context.Context, n *Net, addr, name string) error {
	resp, err := n.Call(ctx, addr, get(name))
	if err != nil {
		return err
	}
	recs := resp.GetGetResult().GetRecords()
	if len(recs) != 1 || recs[0].Name != name {
		return fmt.Errorf("got %v, want the record for %q", resp, name)
	}
	return nil
}

// rawHello dials addr with cert, as a peer written elsewhere might, sends
// hello and returns the listener's refusal as an error, or the open
// connection after a HelloAck.
func rawHello(t testing.TB, addr string, cert tls.Certificate, hello *wire.Hello) (*tls.Conn, error) {
	t.Helper()
	d := tls.Dialer{Config: &tls.Config{
		MinVersion: tls.VersionTLS13, NextProtos: []string{wire.ALPN},
		InsecureSkipVerify: true, Certificates: []tls.Certificate{cert},
	}}
	ctx, cancel := context.WithTimeout(testCtx(t), 5*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := c.(*tls.Conn)
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := wire.WriteFrame(conn, &wire.Envelope{Body: &wire.Envelope_Hello{Hello: hello}}); err != nil {
		conn.Close()
		return nil, err
	}
	resp, err := wire.ReadFrame(conn)
	if err == nil && resp.Error != nil {
		err = wire.ErrorFromWire(resp.Error)
	}
	if err == nil && resp.GetHelloAck() == nil {
		err = fmt.Errorf("got %v, want HelloAck", resp)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// eventually polls cond until it holds or the test's time is up.
func eventually(t testing.TB, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not after %v", what, testTimeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// wantErr fails unless err matches every target.
func wantErr(t testing.TB, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("got %v, want %v", err, target)
		}
	}
}
