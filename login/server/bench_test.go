package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"soitto/login/client"
	"soitto/login/logintest"
	"soitto/login/password"
	"soitto/login/server"
	"soitto/login/store"
	"soitto/login/username"
)

// BenchmarkLogin measures logins per second and p50/p99 latency with 1, 16
// and 200 concurrent clients, over real TLS on loopback, with the real
// argon2id cost (password.DefaultParams), on SQLite and on PostgreSQL.
// Run it with a fixed count, e.g. make bench (-benchtime 200x).
func BenchmarkLogin(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, clients := range []int{1, 16, 200} {
			b.Run(fmt.Sprintf("%s/clients=%d", backend, clients), func(b *testing.B) {
				benchLogin(b, backend, clients)
			})
		}
	}
}

func benchLogin(b *testing.B, backend string, clients int) {
	opts := []logintest.Option{func(c *server.Config) {
		c.Hasher = password.NewHasher(password.HasherConfig{})
	}}
	if backend == "postgres" {
		dsn := logintest.PostgresDSN(b)
		opts = append(opts, func(c *server.Config) {
			st, err := store.Open(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			c.Store = st
		})
	}
	env := logintest.Serve(b, opts...)
	ctx := context.Background()
	const pw = "benchmark password"
	hash, err := password.Hash(pw, password.DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	users := make([]string, clients)
	for i := range users {
		users[i] = fmt.Sprintf("user%03d", i)
		if err := env.Store.CreateAccount(ctx, store.Account{Name: users[i], Skeleton: username.Skeleton(users[i]), PasswordHash: hash, Created: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	c := client.New(env.Network)
	defer c.Close()
	key := newKey(b)

	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if _, err := c.Login(ctx, users[w], pw, &key.PublicKey); err != nil {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d logins failed", f, b.N)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
