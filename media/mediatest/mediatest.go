// Package mediatest opens media sessions between test users in one
// process, with signalling carried in memory, over loopback or a network
// that delays, loses, duplicates and reorders packets: for the tests and
// benchmarks of what rides on sessions (chat, file transfer).
package mediatest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"testing"
	"time"

	"soitto/login/ca"
	"soitto/media"
)

// User is a user certificate of a test CA, and the CA as roots.
type User struct {
	Cert  tls.Certificate
	Roots *x509.CertPool
}

// Users makes a CA and a certificate for each name.
func Users(t testing.TB, names ...string) map[string]User {
	t.Helper()
	c, err := ca.Create(t.TempDir(), "test network")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Cert)
	out := map[string]User{}
	for _, n := range names {
		key, err := ca.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		cert, err := c.IssueUser(n, key.Public())
		if err != nil {
			t.Fatal(err)
		}
		out[n] = User{tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, roots}
	}
	return out
}

// Config is the session configuration of self with remote, kept to
// 127.0.0.1 candidates.
func (u User) Config(remote string) media.Config {
	return media.Config{Certificate: u.Cert, Roots: u.Roots, Remote: remote, IPFilter: Loopback}
}

// Loopback keeps candidates to 127.0.0.1, so tests send nothing off the
// machine.
func Loopback(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil }

// Pair opens a session from a (the offerer) to b and waits until both
// are open. Pair sets Send and Started; the sessions close when the test
// ends (or earlier, by the caller).
func Pair(t testing.TB, a, b media.Config) (sa, sb *media.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	toA, toB := make(chan media.Message, 512), make(chan media.Message, 512)
	stop := make(chan struct{})
	send := func(to chan media.Message) func(context.Context, media.Message) error {
		return func(ctx context.Context, m media.Message) error {
			select {
			case to <- m:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-stop:
				return context.Canceled
			}
		}
	}
	a.Send, b.Send = send(toB), send(toA)
	sa, err := media.Offer(a)
	if err != nil {
		t.Fatal(err)
	}
	var early []media.Message
	for sb == nil {
		select {
		case m := <-toB:
			if m.Kind != media.KindOffer {
				early = append(early, m)
				continue
			}
			if sb, err = media.Answer(b, m); err != nil {
				sa.Close()
				t.Fatal(err)
			}
		case <-ctx.Done():
			sa.Close()
			t.Fatal("no offer")
		}
	}
	for _, m := range early {
		sb.Handle(m)
	}
	var wg sync.WaitGroup
	route := func(from chan media.Message, s *media.Session) {
		for {
			select {
			case m := <-from:
				s.Handle(m)
			case <-stop:
				return
			}
		}
	}
	wg.Go(func() { route(toA, sa) })
	wg.Go(func() { route(toB, sb) })
	t.Cleanup(func() {
		sa.Close()
		sb.Close()
		close(stop)
		wg.Wait()
	})
	var ea, eb error
	var owg sync.WaitGroup
	owg.Go(func() { ea = sa.Open(ctx) })
	owg.Go(func() { eb = sb.Open(ctx) })
	owg.Wait()
	if ea != nil || eb != nil {
		t.Fatalf("open: %s %v, %s %v", b.Remote, ea, a.Remote, eb)
	}
	return sa, sb
}
