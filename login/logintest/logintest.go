// Package logintest runs a real login server on loopback for tests in
// other packages: real TLS, a real SQLite store, the real CA.
package logintest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"soitto/bootstrap"
	"soitto/login/password"
	"soitto/login/server"
	"soitto/login/setup"
	"soitto/login/store"
)

// FastParams makes argon2id cheap for tests that are not about its cost.
var FastParams = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Env is a running login server.
type Env struct {
	Dir         string             // the server's folder (CA, keys, network.json)
	Network     *bootstrap.Network // its network file
	NetworkPath string
	Server      *server.Server
	Store       store.Store
}

// Option changes the server's Config before it starts.
type Option func(*server.Config)

// Serve starts a login server on 127.0.0.1 with a fresh CA and SQLite
// store, and stops it when the test ends. Unless an option says otherwise
// it uses FastParams and no per-IP limits.
func Serve(t testing.TB, opts ...Option) *Env {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Init(dir, setup.InitOptions{Listen: ln.Addr().String(), Name: "test"}); err != nil {
		t.Fatal(err)
	}
	d, err := setup.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "accounts.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		Store:      st,
		CA:         d.CA,
		Hasher:     password.NewHasher(password.HasherConfig{Params: FastParams}),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		NoIPLimits: true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, ln, d.TLS)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		cfg.Store.Close()
		if cfg.Store != st {
			st.Close()
		}
	})
	return &Env{Dir: dir, Network: d.Network, NetworkPath: filepath.Join(dir, setup.NetworkFile), Server: srv, Store: cfg.Store}
}
