package ring_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"soitto/overlay"
	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/wire"
)

// newRing returns a lone ring node at addr on net.
func newRing(t *testing.T, net *memnet.Network, addr string) *ring.Ring {
	t.Helper()
	var r *ring.Ring
	tr := net.Listen(addr, overlay.HandlerFunc(func(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
		return r.Handle(ctx, from, req)
	}))
	r, err := ring.New(ring.Config{Self: overlay.NewNode(addr), Transport: tr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func peerOf(addr string) overlay.Peer {
	return overlay.Peer{Node: overlay.NewNode(addr), Name: "node:" + addr}
}

func notify(n *wire.NodeInfo) *wire.Envelope {
	return &wire.Envelope{Body: &wire.Envelope_Notify{Notify: &wire.NotifyRequest{Node: n}}}
}

func TestHandleRefuses(t *testing.T) {
	net := memnet.New(memnet.Options{})
	r := newRing(t, net, "198.18.0.1:7000")
	a, b := overlay.NewNode("198.18.0.2:7000"), overlay.NewNode("198.18.0.3:7000")
	forged := &wire.NodeInfo{Id: a.ID[:], Addr: b.Addr} // a's ID, b's address
	tests := []struct {
		name string
		from overlay.Peer
		req  *wire.Envelope
		want error
	}{
		{"notify for another node", peerOf(a.Addr), notify(b.ToWire()), wire.ErrForbidden},
		{"notify with a forged ID", peerOf(b.Addr), notify(forged), wire.ErrBadID},
		{"notify with no node", peerOf(a.Addr), notify(nil), wire.ErrBadRequest},
		{"leave for another node", peerOf(a.Addr), &wire.Envelope{Body: &wire.Envelope_Leave{Leave: &wire.LeaveRequest{Node: b.ToWire()}}}, wire.ErrForbidden},
		{"leave naming a forged successor", peerOf(a.Addr), &wire.Envelope{Body: &wire.Envelope_Leave{Leave: &wire.LeaveRequest{Node: a.ToWire(), Successors: []*wire.NodeInfo{forged}}}}, wire.ErrBadID},
		{"find step with a short key", peerOf(a.Addr), &wire.Envelope{Body: &wire.Envelope_FindStep{FindStep: &wire.FindStepRequest{Key: []byte{1, 2}, Count: 3}}}, wire.ErrBadRequest},
		{"a directory request", peerOf(a.Addr), &wire.Envelope{Body: &wire.Envelope_Get{Get: &wire.GetRequest{Kind: "presence", Name: "alice"}}}, wire.ErrBadRequest},
		{"no body", peerOf(a.Addr), &wire.Envelope{}, wire.ErrBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Handle(context.Background(), tc.from, tc.req)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if p := r.Predecessor(); !p.IsZero() {
				t.Errorf("predecessor %v after a refused request", p)
			}
		})
	}

	// Over the network the sender is who memnet says it is.
	tr := net.Listen(a.Addr, overlay.HandlerFunc(func(context.Context, overlay.Peer, *wire.Envelope) (*wire.Envelope, error) {
		return nil, wire.ErrInternal
	}))
	_, err := tr.Call(context.Background(), r.Self().Addr, notify(b.ToWire()))
	if !errors.Is(err, wire.ErrForbidden) {
		t.Errorf("notify over memnet claiming another node: got %v, want %v", err, wire.ErrForbidden)
	}
	if _, err := tr.Call(context.Background(), r.Self().Addr, notify(a.ToWire())); err != nil {
		t.Fatalf("notify as itself: %v", err)
	}
	if got := r.Predecessor(); got != a {
		t.Errorf("predecessor %v, want %v", got, a)
	}
}

// TestJoinRefusesForgedNodes joins through a bootstrap node that answers
// with a node whose ID is not SHA-1 of its address.
func TestJoinRefusesForgedNodes(t *testing.T) {
	net := memnet.New(memnet.Options{})
	r := newRing(t, net, "198.18.0.1:7000")
	honest := overlay.NewNode("198.18.0.9:7000")
	self := r.Self()
	forged := &wire.NodeInfo{Id: self.ID[:], Addr: honest.Addr}
	for name, resp := range map[string]*wire.FindStepResponse{
		"done":     {Done: true, Nodes: []*wire.NodeInfo{forged}},
		"not done": {Nodes: []*wire.NodeInfo{forged}},
	} {
		t.Run(name, func(t *testing.T) {
			net.Listen("198.18.0.2:7000", overlay.HandlerFunc(func(context.Context, overlay.Peer, *wire.Envelope) (*wire.Envelope, error) {
				return &wire.Envelope{Body: &wire.Envelope_FindStepResult{FindStepResult: resp}}, nil
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := r.Join(ctx, []string{r.Self().Addr, "198.18.0.2:7000"})
			if !errors.Is(err, ring.ErrNoBootstrap) || !errors.Is(err, ring.ErrLookupFailed) {
				t.Errorf("got %v, want %v and %v", err, ring.ErrNoBootstrap, ring.ErrLookupFailed)
			}
			if s := r.Successors(); len(s) != 1 || s[0] != r.Self() {
				t.Errorf("successors %v after a failed join, want only itself", s)
			}
		})
	}
}

func TestNewChecksConfig(t *testing.T) {
	net := memnet.New(memnet.Options{})
	self := overlay.NewNode("198.18.0.1:7000")
	tr := net.Listen(self.Addr, overlay.HandlerFunc(nil))
	tests := []struct {
		name string
		cfg  ring.Config
	}{
		{"no self", ring.Config{Transport: tr}},
		{"ID not SHA-1 of the address", ring.Config{Self: overlay.Node{ID: overlay.IDOf("x"), Addr: self.Addr}, Transport: tr}},
		{"no transport", ring.Config{Self: self}},
		{"successor list too long", ring.Config{Self: self, Transport: tr, Successors: 33}},
		{"jitter of a whole period", ring.Config{Self: self, Transport: tr, Jitter: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ring.New(tc.cfg); err == nil {
				t.Error("got no error")
			}
		})
	}
}
