package ring_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"soitto/overlay"
	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
	"soitto/overlay/wire"
)

// TestLookupRefusesLiars makes one ring member answer every FindStep with
// a lie and checks that lookups from every other node still find the
// true successor, refusing the liar's answers.
func TestLookupRefusesLiars(t *testing.T) {
	lies := []struct {
		name string
		lie  func(self, pred overlay.Node, succs []overlay.Node) *wire.FindStepResponse
	}{
		{"points backwards", func(self, pred overlay.Node, succs []overlay.Node) *wire.FindStepResponse {
			// Its predecessor is further from any key than itself.
			return &wire.FindStepResponse{Nodes: []*wire.NodeInfo{pred.ToWire()}}
		}},
		{"names itself", func(self, pred overlay.Node, succs []overlay.Node) *wire.FindStepResponse {
			return &wire.FindStepResponse{Nodes: []*wire.NodeInfo{self.ToWire()}}
		}},
		{"names nobody", func(self, pred overlay.Node, succs []overlay.Node) *wire.FindStepResponse {
			return &wire.FindStepResponse{}
		}},
		{"done with its predecessor", func(self, pred overlay.Node, succs []overlay.Node) *wire.FindStepResponse {
			// "key ∈ (me, pred]" is false for nearly every key.
			return &wire.FindStepResponse{Done: true, Nodes: []*wire.NodeInfo{pred.ToWire()}}
		}},
		{"forged ID", func(self, pred overlay.Node, succs []overlay.Node) *wire.FindStepResponse {
			w := succs[0].ToWire()
			w.Id = make([]byte, overlay.IDBytes) // not SHA-1 of the address
			return &wire.FindStepResponse{Nodes: []*wire.NodeInfo{w}}
		}},
	}
	for _, tc := range lies {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := ringtest.New(memnet.New(memnet.Options{}), ring.Config{Logger: quiet}, 7)
			liar := overlay.NewNode(ringtest.Addr(5))
			var lying atomic.Bool
			var liarRing atomic.Pointer[ring.Ring]
			c.Intercept = func(self overlay.Node, h overlay.Handler) overlay.Handler {
				if self != liar {
					return h
				}
				return overlay.HandlerFunc(func(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
					if _, ok := req.Body.(*wire.Envelope_FindStep); ok && lying.Load() {
						r := liarRing.Load()
						resp := tc.lie(self, r.Predecessor(), r.Successors())
						return &wire.Envelope{Body: &wire.Envelope_FindStepResult{FindStepResult: resp}}, nil
					}
					return h.Handle(ctx, from, req)
				})
			}
			if err := c.Grow(ctx, 40); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Converge(ctx, 4, 50); err != nil {
				t.Fatal(err)
			}
			for _, r := range c.Rings() {
				if r.Self() == liar {
					liarRing.Store(r)
				}
			}
			lying.Store(true)

			o := c.Oracle()
			rejected, lookups := 0, 0
			for _, r := range c.Rings() {
				if r.Self() == liar {
					continue
				}
				for range 20 {
					res, err := ringtest.CheckLookup(ctx, o, r, c.Key())
					if err != nil {
						t.Fatal(err)
					}
					rejected += res.Rejected
					lookups++
				}
			}
			t.Logf("%d lookups, %d answers refused", lookups, rejected)
			if rejected == 0 {
				t.Error("the liar was never asked, or never refused")
			}
		})
	}
}
