package tlsnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/overlay"
	"soitto/overlay/wire"
)

func TestCallsBothWaysOnOneLink(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	ha, hb := &echo{}, &echo{}
	a := startNode(t, c, ha, nil)
	b := startNode(t, c, hb, nil)

	if err := callGet(ctx, a.Net, b.addr, "from-a"); err != nil {
		t.Fatal(err)
	}
	if got, want := hb.lastPeer(), (overlay.Peer{Node: a.self, Name: "node:" + a.addr}); got != want {
		t.Errorf("b saw %+v, want %+v", got, want)
	}
	// b answers a over the link a dialled.
	if err := callGet(ctx, b.Net, a.addr, "from-b"); err != nil {
		t.Fatal(err)
	}
	if got, want := ha.lastPeer(), (overlay.Peer{Node: b.self, Name: "node:" + b.addr}); got != want {
		t.Errorf("a saw %+v, want %+v", got, want)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.LinksOpen != 1 || sb.LinksOpen != 1 || sa.LinksDialled != 1 || sb.LinksDialled != 0 || sb.LinksAccepted != 1 {
		t.Errorf("got a %+v, b %+v; want one link, dialled by a", sa, sb)
	}
	// a's response to b is counted just after b has it.
	eventually(t, ctx, "2 messages each way and matching bytes", func() bool {
		sa, sb := a.Stats(), b.Stats()
		return sa.MessagesOut == 2 && sa.MessagesIn == 2 && sb.BytesIn == sa.BytesOut && sb.BytesOut == sa.BytesIn
	})
}

func TestConcurrentCallsShareALink(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	a := startNode(t, c, &echo{}, nil)
	b := startNode(t, c, &echo{}, nil)

	const calls = 100
	shared := get("shared") // one request sent by many calls at once
	errs := make(chan error, calls)
	for i := range calls {
		go func() {
			if i%2 == 0 {
				_, err := a.Call(ctx, b.addr, shared)
				errs <- err
				return
			}
			errs <- callGet(ctx, a.Net, b.addr, fmt.Sprint("user", i))
		}()
	}
	for range calls {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if shared.Id != 0 || shared.Response {
		t.Errorf("Call changed its request: %v", shared)
	}
	if s := b.Stats(); s.LinksAccepted != 1 || s.MessagesIn != calls {
		t.Errorf("got %+v, want 1 link and %d requests", s, calls)
	}
}

func TestHandlerErrorIsTheSentinel(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	a := startNode(t, c, &echo{}, nil)
	b := startNode(t, c, &echo{}, nil)

	_, err := a.Call(ctx, b.addr, get("missing"))
	wantErr(t, err, wire.ErrNotFound)
	var re *wire.RemoteError
	if !errors.As(err, &re) || re.Code != wire.CodeNotFound || re.Message != `not found: no record for "missing"` {
		t.Errorf("got %#v", err)
	}
	_, err = a.Call(ctx, b.addr, get("panic"))
	wantErr(t, err, wire.ErrInternal)
	_, err = a.Call(ctx, b.addr, &wire.Envelope{Body: &wire.Envelope_Hello{Hello: &wire.Hello{}}})
	wantErr(t, err, wire.ErrBadRequest)
	_, err = a.Call(ctx, b.addr, &wire.Envelope{})
	wantErr(t, err, wire.ErrBadRequest)
	// The link survived all of it.
	if err := callGet(ctx, a.Net, b.addr, "alice"); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.LinksDialled != 1 {
		t.Errorf("got %d links dialled, want 1", s.LinksDialled)
	}
}

func TestCallToDeadAddressFails(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	a := startNode(t, c, &echo{}, func(cfg *Config) { cfg.CallTimeout = 300 * time.Millisecond })

	t.Run("nothing listening", func(t *testing.T) {
		ln := listen(t, "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		_, err := a.Call(ctx, addr, ping())
		if err == nil || ctx.Err() != nil {
			t.Fatalf("got %v, want an error before the test's deadline", err)
		}
	})
	t.Run("accepts and says nothing", func(t *testing.T) {
		ln := listen(t, "127.0.0.1:0")
		done := make(chan struct{})
		go func() {
			defer close(done)
			var held []net.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				held = append(held, c)
			}
		}()
		defer func() { ln.Close(); <-done }()
		_, err := a.Call(ctx, ln.Addr().String(), ping())
		wantErr(t, err, wire.ErrTimeout, context.DeadlineExceeded)
		if ctx.Err() != nil {
			t.Fatal("the call outlived the test's deadline")
		}
	})
	t.Run("caller's deadline first", func(t *testing.T) {
		ln := listen(t, "127.0.0.1:0")
		defer ln.Close()
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := a.Call(short, ln.Addr().String(), ping())
		wantErr(t, err, wire.ErrTimeout)
	})
}

func TestRestartedPeerIsRedialled(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	a := startNode(t, c, &echo{}, nil)
	b := startNode(t, c, &echo{}, nil)
	if err := callGet(ctx, a.Net, b.addr, "before"); err != nil {
		t.Fatal(err)
	}
	b.stop()
	eventually(t, ctx, "a sees the link close", func() bool { return a.Stats().LinksOpen == 0 })
	_, err := a.Call(ctx, b.addr, ping())
	if err == nil {
		t.Fatal("call to a stopped node succeeded")
	}

	// The same node comes back on the same address.
	cfg := b.cfg
	cfg.Handler = &echo{}
	serveNet(t, cfg, listen(t, b.addr))
	if err := callGet(ctx, a.Net, b.addr, "after"); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.LinksDialled != 2 {
		t.Errorf("got %d links dialled, want 2", s.LinksDialled)
	}
}

func TestBrokenLinkFailsPendingCalls(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	hb := &echo{started: make(chan string, 1), release: make(chan struct{})}
	a := startNode(t, c, &echo{}, nil)
	b := startNode(t, c, hb, nil)

	errc := make(chan error, 1)
	go func() { _, err := a.Call(ctx, b.addr, get("stubborn")); errc <- err }()
	<-hb.started
	closed := make(chan struct{})
	go func() { b.stop(); close(closed) }() // waits for the handler
	select {
	case err := <-errc:
		wantErr(t, err, ErrLinkClosed)
	case <-ctx.Done():
		t.Fatal("the pending call did not fail when the link closed")
	}
	close(hb.release)
	<-closed
}

func TestHandlerContextEndsWithTheLink(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	hb := &echo{started: make(chan string, 1), finished: make(chan error, 1), release: make(chan struct{})}
	a := startNode(t, c, &echo{}, nil)
	b := startNode(t, c, hb, nil)

	errc := make(chan error, 1)
	go func() { _, err := a.Call(ctx, b.addr, get("slow")); errc <- err }()
	<-hb.started
	a.Close()
	wantErr(t, <-errc, ErrLinkClosed)
	select {
	case err := <-hb.finished:
		wantErr(t, err, context.Canceled)
	case <-ctx.Done():
		t.Fatal("the handler's ctx was not cancelled when its link closed")
	}
	eventually(t, ctx, "b drops the link", func() bool { return b.Stats().LinksOpen == 0 })
}

func TestIdleLinksClose(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	idle := func(cfg *Config) { cfg.IdleTimeout = 100 * time.Millisecond }
	hb := &echo{started: make(chan string, 1), release: make(chan struct{})}
	a := startNode(t, c, &echo{}, idle)
	b := startNode(t, c, hb, idle)

	// A call longer than the idle timeout keeps the link.
	errc := make(chan error, 1)
	go func() { _, err := a.Call(ctx, b.addr, get("slow")); errc <- err }()
	<-hb.started
	time.Sleep(300 * time.Millisecond)
	close(hb.release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "both ends close the idle link", func() bool {
		return a.Stats().LinksOpen == 0 && b.Stats().LinksOpen == 0
	})
	if err := callGet(ctx, a.Net, b.addr, "again"); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.LinksDialled != 2 {
		t.Errorf("got %d links dialled, want 2", s.LinksDialled)
	}
}

func TestCloseLeaksNothing(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	hb := &echo{started: make(chan string, 10), release: make(chan struct{})}
	b := startNode(t, c, hb, nil)
	nodes := []*testNode{b}
	for range 5 {
		n := startNode(t, c, &echo{}, nil)
		nodes = append(nodes, n)
		if err := callGet(ctx, n.Net, b.addr, "x"); err != nil {
			t.Fatal(err)
		}
		if err := callGet(ctx, b.Net, n.addr, "y"); err != nil {
			t.Fatal(err)
		}
		go n.Call(ctx, b.addr, get("slow")) // still running at Close
		<-hb.started
	}
	for _, n := range nodes {
		n.stop()
	}
	if _, err := b.Call(ctx, nodes[1].addr, ping()); !errors.Is(err, ErrClosed) {
		t.Errorf("Call after Close: got %v, want ErrClosed", err)
	}
	goleak.VerifyNone(t)
}
