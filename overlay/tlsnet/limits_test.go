package tlsnet

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"soitto/overlay"
	"soitto/overlay/wire"
)

func TestPeerRateLimit(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	frozen := time.Now() // no tokens come back during the test
	b := startNode(t, c, &echo{}, func(cfg *Config) {
		cfg.PeerRate, cfg.PeerBurst = 1, 5
		cfg.Now = func() time.Time { return frozen }
	})
	a := startNode(t, c, &echo{}, nil)
	for i := range 5 {
		if _, err := a.Call(ctx, b.addr, ping()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := a.Call(ctx, b.addr, ping())
	wantErr(t, err, wire.ErrRateLimited)
	// Another peer has its own bucket.
	other := startNode(t, c, &echo{}, nil)
	if _, err := other.Call(ctx, b.addr, ping()); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.RateLimited != 1 {
		t.Errorf("got %d rate limited, want 1", s.RateLimited)
	}
}

// TestMaxInflight: a caller keeps within the in-flight requests the
// other side advertised, and a peer that does not is refused, not queued.
func TestMaxInflight(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	hb := &echo{started: make(chan string, 10), release: make(chan struct{})}
	b := startNode(t, c, hb, func(cfg *Config) { cfg.MaxInflight = 2 })

	t.Run("caller waits for a slot", func(t *testing.T) {
		hb.release = make(chan struct{})
		a := startNode(t, c, &echo{}, nil)
		errs := make(chan error, 3)
		for range 3 {
			go func() { _, err := a.Call(ctx, b.addr, get("slow")); errs <- err }()
		}
		<-hb.started
		<-hb.started
		select {
		case name := <-hb.started:
			t.Fatalf("a third request (%s) reached the handler", name)
		case <-time.After(100 * time.Millisecond):
		}
		close(hb.release)
		for range 3 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		<-hb.started // the third, once a slot was free
		if s := b.Stats(); s.RateLimited != 0 {
			t.Errorf("got %d refused, want 0", s.RateLimited)
		}
	})

	t.Run("peer over the limit is refused", func(t *testing.T) {
		hb.release = make(chan struct{})
		addr := "127.0.0.1:9"
		conn, err := rawHello(t, b.addr, c.nodeCert(t, addr), &wire.Hello{Version: wire.Version, Node: overlay.NewNode(addr).ToWire()})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for id := range uint64(3) {
			req := get("slow")
			req.Id = id + 1
			if err := wire.WriteFrame(conn, req); err != nil {
				t.Fatal(err)
			}
			if id < 2 {
				<-hb.started
			}
		}
		resp := readFrame(t, conn)
		if resp.Id != 3 || !errors.Is(wire.ErrorFromWire(resp.Error), wire.ErrRateLimited) {
			t.Fatalf("got %v, want request 3 refused as rate limited", resp)
		}
		close(hb.release)
		for range 2 {
			if resp := readFrame(t, conn); resp.Error != nil || resp.GetOk() == nil {
				t.Errorf("got %v, want Ok", resp)
			}
		}
	})
}

func readFrame(t *testing.T, conn *tls.Conn) *wire.Envelope {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	e, err := wire.ReadFrame(conn)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestProtocolViolationsCloseTheLink: a frame over the limit, one that
// does not decode, or a request without an ID closes the link, after a
// link error (ID 0) saying why; the node carries on.
func TestProtocolViolationsCloseTheLink(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	b := startNode(t, c, &echo{}, nil)
	a := startNode(t, c, &echo{}, nil)
	addr := "127.0.0.1:9"
	cert := c.nodeCert(t, addr)
	for _, tc := range []struct {
		name  string
		frame []byte
		want  error
	}{
		{"oversized", binary.BigEndian.AppendUint32(nil, wire.MaxFrame+1), wire.ErrTooLarge},
		{"4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, wire.ErrTooLarge},
		{"not protobuf", []byte{0, 0, 0, 2, 0xff, 0xff}, wire.ErrBadRequest},
		{"request without ID", []byte{0, 0, 0, 3, 0xca, 0x01, 0}, wire.ErrBadRequest}, // ping{}
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := rawHello(t, b.addr, cert, &wire.Hello{Version: wire.Version, Node: overlay.NewNode(addr).ToWire()})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			resp := readFrame(t, conn)
			if resp.Id != 0 || !resp.Response || !errors.Is(wire.ErrorFromWire(resp.Error), tc.want) {
				t.Fatalf("got %v, want a link error %v", resp, tc.want)
			}
			if _, err := wire.ReadFrame(conn); err != io.EOF {
				t.Fatalf("after the link error: got %v, want EOF", err)
			}
			eventually(t, ctx, "b drops the link", func() bool { return b.Stats().LinksOpen == 0 })
		})
	}
	if err := callGet(ctx, a.Net, b.addr, "still here"); err != nil {
		t.Fatal(err)
	}
}

func TestOversizedMessagesAreRefusedNotSent(t *testing.T) {
	ctx := testCtx(t)
	c := newCA(t)
	a := startNode(t, c, &echo{}, nil)
	b := startNode(t, c, &echo{}, nil)

	big := &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: &wire.Record{Payload: make([]byte, wire.MaxFrame)}}}}
	_, err := a.Call(ctx, b.addr, big)
	wantErr(t, err, wire.ErrTooLarge)
	_, err = a.Call(ctx, b.addr, get("big")) // the handler's answer is too large
	wantErr(t, err, wire.ErrTooLarge)
	var re *wire.RemoteError
	if !errors.As(err, &re) {
		t.Errorf("got %v, want the refusal from b", err)
	}
	if err := callGet(ctx, a.Net, b.addr, "after"); err != nil {
		t.Fatal(err)
	}
	if s := a.Stats(); s.LinksDialled != 1 || s.LinksOpen != 1 {
		t.Errorf("got %+v, want the one link still up", s)
	}
}
