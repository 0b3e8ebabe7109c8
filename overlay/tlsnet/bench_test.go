package tlsnet

import (
	"io"
	"log/slog"
	"sync"
	"testing"
)

// BenchmarkCall measures round trips over one link: a Get answered with a
// small record, sequentially and from 16 callers at once.
func BenchmarkCall(b *testing.B) {
	ctx := testCtx(b)
	c := newCA(b)
	quiet := func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		cfg.PeerRate, cfg.PeerBurst = 1e9, 1e9
	}
	srv := startNode(b, c, &echo{}, quiet)
	cli := startNode(b, c, &echo{}, quiet)
	if err := callGet(ctx, cli.Net, srv.addr, "warm-up"); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, callers int) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		per := b.N/callers + 1
		b.ResetTimer()
		for range callers {
			wg.Go(func() {
				for range per {
					if err := callGet(ctx, cli.Net, srv.addr, "alice"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(per*callers)/b.Elapsed().Seconds(), "calls/s")
	}
	b.Run("sequential", func(b *testing.B) { run(b, 1) })
	b.Run("concurrent16", func(b *testing.B) { run(b, 16) })
	if s := cli.Stats(); s.LinksDialled != 1 {
		b.Errorf("got %d links, want 1", s.LinksDialled)
	}
}
