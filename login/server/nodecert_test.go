package server_test

import (
	"crypto/ecdsa"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"soitto/login/api"
	"soitto/login/ca"
	"soitto/login/client"
	"soitto/login/logintest"
)

// The node certificate for a promoted client: issued only to a holder of
// a current user certificate, for the address the request comes from,
// after a TCP connection there succeeded; valid a day.
func TestNodeCertForPromotedClient(t *testing.T) {
	env := logintest.Serve(t)
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)
	if _, err := c.Register(ctx, "carol", "correct horse"); err != nil {
		t.Fatal(err)
	}
	userKey := newKey(t)
	userCert, err := c.Login(ctx, "carol", "correct horse", &userKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	nodeKey := newKey(t)

	cert, err := c.NodeCert(ctx, userCert, userKey, addr, &nodeKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ca.VerifyNode(env.Network.CAPool(), cert, time.Now(), addr); err != nil || got != addr {
		t.Fatalf("VerifyNode: %q %v", got, err)
	}
	if d := time.Until(cert.NotAfter); d > 24*time.Hour || d < 23*time.Hour {
		t.Errorf("node certificate valid %v more, want a day", d)
	}

	// Refusals, each with its reason.
	other := newKey(t) // a key that is not the certificate's
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := free.Addr().String()
	free.Close()
	for name, tc := range map[string]struct {
		key  *ecdsa.PrivateKey
		addr string
		code error
		msg  string
	}{
		"wrong key":      {other, addr, api.ErrBadCredentials, "signature does not verify"},
		"not the sender": {userKey, "127.0.0.2:" + strings.Split(addr, ":")[1], api.ErrNotReachable, "not the address the request came from"},
		"nothing there":  {userKey, closedAddr, api.ErrNotReachable, "no inbound connection"},
	} {
		_, err := c.NodeCert(ctx, userCert, tc.key, tc.addr, &nodeKey.PublicKey)
		if !errors.Is(err, tc.code) || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want %v saying %q", name, err, tc.code, tc.msg)
		}
	}
}
