package ring_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"soitto/overlay/memnet"
	"soitto/overlay/ring"
	"soitto/overlay/ring/ringtest"
)

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// grown returns a converged ring of n nodes, fingers filled, built
// without Run.
func grown(t *testing.T, ctx context.Context, n int, seed uint64, tmpl ring.Config) *ringtest.Cluster {
	t.Helper()
	if tmpl.Logger == nil {
		tmpl.Logger = quiet
	}
	c := ringtest.New(memnet.New(memnet.Options{}), tmpl, seed)
	if err := c.Grow(ctx, n); err != nil {
		t.Fatalf("grow to %d: %v", n, err)
	}
	if rounds, err := c.Converge(ctx, 4, 50); err != nil {
		t.Fatalf("not converged after %d rounds: %v", rounds, err)
	}
	if err := c.CheckFingers(); err != nil {
		t.Fatalf("fingers: %v", err)
	}
	return c
}

func TestLookupHops(t *testing.T) {
	for _, n := range []int{2, 16, 64, 256} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := grown(t, ctx, n, uint64(n), ring.Config{})
			o := c.Oracle()
			const lookups = 300
			total, most := 0, 0
			for range lookups {
				res, err := ringtest.CheckLookup(ctx, o, c.Random(), c.Key())
				if err != nil {
					t.Fatal(err)
				}
				total += res.Hops
				most = max(most, res.Hops)
				if res.Rejected != 0 || res.Failed != 0 {
					t.Errorf("rejected %d, failed %d in a healthy ring", res.Rejected, res.Failed)
				}
			}
			logN := math.Log2(float64(n))
			mean := float64(total) / lookups
			t.Logf("N=%d: mean hops %.2f (½·log2 N = %.2f), max %d", n, mean, logN/2, most)
			if mean > logN || float64(most) > 2*logN+2 {
				t.Errorf("mean hops %.2f, max %d; want mean ≤ log2 N = %.1f, max ≤ 2·log2 N + 2", mean, most, logN)
			}
		})
	}
}
