package peer_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/overlay/node/nodetest"
	"soitto/overlay/peer"
	"soitto/overlay/presence"
	"soitto/overlay/search"
	"soitto/overlay/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// client is a running peer.
type client struct {
	*peer.Peer
	cancel context.CancelFunc
	done   chan struct{}
	got    chan *wire.Signal
}

func (c *client) stop() {
	c.cancel()
	<-c.done
}

func startPeer(t *testing.T, cl *nodetest.Cluster, name string, tune func(*peer.Config)) *client {
	t.Helper()
	c := &client{done: make(chan struct{}), got: make(chan *wire.Signal, 100)}
	cfg := peer.Config{
		Network:     cl.Network,
		Certificate: cl.User(name),
		Publish:     true,
		Receive:     true,
		OnSignal: func(s *wire.Signal) error {
			c.got <- s
			return nil
		},
		Logger: quiet,
	}
	if tune != nil {
		tune(&cfg)
	}
	p, err := peer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Peer = p
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		p.Run(ctx)
	}()
	t.Cleanup(c.stop)
	return c
}

func waitAttached(t *testing.T, c *client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.WaitAttached(ctx); err != nil {
		t.Fatal(err)
	}
}

// eventually retries f until it returns nil or limit passes.
func eventually(t *testing.T, limit time.Duration, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("after %v: %v", limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func findOnline(c *client, user string, want presence.Status) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := c.Search(ctx, user)
		if err != nil {
			return err
		}
		if res.Info.Status != want || (want != presence.Offline && !res.Info.Online()) {
			return fmt.Errorf("%s is %v at %q, want %v", user, res.Info.Status, res.Info.SuperPeer.Addr, want)
		}
		return nil
	}
}

// Five super-peers and twenty clients on loopback: every client finds
// every other; a client that logs out shows offline at once, and one that
// vanishes without a word drops out of search when its record expires.
func TestEveryoneFindsEveryone(t *testing.T) {
	cl := nodetest.Start(t, 5, nodetest.Options{})
	const n = 20
	ttl := 4 * time.Second
	clients := make([]*client, n)
	for i := range n {
		clients[i] = startPeer(t, cl, fmt.Sprintf("user%02d", i), func(c *peer.Config) { c.TTL = ttl })
	}
	for _, c := range clients {
		waitAttached(t, c)
	}
	// Everyone's first publish has landed when each can find itself.
	for _, c := range clients {
		eventually(t, 10*time.Second, findOnline(c, c.User(), presence.Online))
	}
	rounds := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n*n)
	for _, a := range clients {
		wg.Go(func() {
			for _, b := range clients {
				if a == b {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				res, err := a.Search(ctx, b.User())
				cancel()
				if err != nil {
					errs <- fmt.Errorf("%s searching %s: %w", a.User(), b.User(), err)
					continue
				}
				if !res.Info.Online() || res.Info.User != b.User() || res.Info.SuperPeer != b.Home() {
					errs <- fmt.Errorf("%s found %s as %+v, attached to %s", a.User(), b.User(), res.Info, b.Home())
				}
				if res.Rounds < 1 || len(res.Asked) < 1 {
					errs <- fmt.Errorf("search reports %d rounds, %d asked", res.Rounds, len(res.Asked))
				}
				mu.Lock()
				rounds[res.Rounds]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("searches by rounds: %v", rounds)

	// Logging out publishes offline: seen at once.
	clients[0].stop()
	eventually(t, 3*time.Second, findOnline(clients[1], clients[0].User(), presence.Offline))

	// A client that crashes publishes nothing more: its record, put
	// here as it would have been, drops out of search when it expires.
	ghost := cl.User("ghost")
	key := ghost.PrivateKey.(*ecdsa.PrivateKey)
	rec, err := presence.Record("ghost", presence.Online, cl.Nodes[0].Self(), 1, time.Now().Add(ttl), key, ghost.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Nodes[0].Directory().Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	put := time.Now()
	eventually(t, 3*time.Second, findOnline(clients[1], "ghost", presence.Online))
	eventually(t, ttl+5*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := clients[1].Search(ctx, "ghost")
		if !errors.Is(err, search.ErrNoSuchUser) {
			return fmt.Errorf("ghost: %v, want no such user", err)
		}
		return nil
	})
	if d := time.Since(put); d < ttl-time.Second {
		t.Errorf("record gone after %v, before its TTL %v", d, ttl)
	}
}
