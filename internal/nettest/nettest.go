// Package nettest runs a whole Soitto network in one test process: a
// login server (logintest) and super-peers (nodetest) sharing its CA, and
// a network file naming them, on 127.0.0.1.
package nettest

import (
	"path/filepath"
	"testing"

	"soitto/login/logintest"
	"soitto/login/setup"
	"soitto/overlay/node/nodetest"
)

// Env is a running network.
type Env struct {
	Login   *logintest.Env
	Cluster *nodetest.Cluster
	// NetworkPath is the network file naming the login server and the
	// nodes, for clients.
	NetworkPath string
}

// Start runs a login server and n super-peers until the test ends.
func Start(t testing.TB, n int, opts nodetest.Options) *Env {
	t.Helper()
	login := logintest.Serve(t)
	d, err := setup.Open(login.Dir)
	if err != nil {
		t.Fatal(err)
	}
	opts.CA, opts.Base = d.CA, login.Network
	cl := nodetest.Start(t, n, opts)
	path := filepath.Join(t.TempDir(), "network.json")
	if err := cl.Network.Save(path); err != nil {
		t.Fatal(err)
	}
	return &Env{Login: login, Cluster: cl, NetworkPath: path}
}
