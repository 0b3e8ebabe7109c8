package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/tlsnet"
	"soitto/overlay/wire"
)

type clientOptions struct {
	caDir, addr string
	n, users    int
	concurrency int
}

// benchClient is one attached client: its own tlsnet.Net and link, as
// overlay/peer has.
type benchClient struct {
	net  *tlsnet.Net
	conn overlay.Conn
	keep time.Duration
}

// maxAttempts bounds the attaches a client tries before the run fails.
const maxAttempts = 8

// runClients is the clients process: it attaches o.n clients to o.addr,
// at most o.concurrency at a time, and keeps them attached and pinging
// until told to quit.
func runClients(ctx context.Context, o clientOptions, stdin io.Reader, stdout io.Writer) error {
	out := newEmitter(stdout)
	authority, err := ca.Load(o.caDir)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	certs := make([]tls.Certificate, o.users)
	for i := range certs {
		key, err := ca.GenerateKey()
		if err != nil {
			return err
		}
		c, err := authority.IssueUser(fmt.Sprintf("bench%03d", i), &key.PublicKey)
		if err != nil {
			return err
		}
		certs[i] = tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: key, Leaf: c}
	}
	quiet := slog.New(slog.DiscardHandler)

	clients := make([]*benchClient, o.n)
	defer closeAll(clients)
	// Each client pings at the keepalive the node named as soon as it is
	// attached, from a random phase so that the pings spread over the
	// period, as overlay/peer does; the node closes a link idle for three
	// periods.
	var pings, pingErrs, lost atomic.Int64
	pctx, stopPings := context.WithCancel(ctx)
	var pingers sync.WaitGroup
	defer func() { stopPings(); pingers.Wait() }()
	var retries atomic.Int64
	errs := make(chan error, 1)
	sem := make(chan struct{}, o.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c, tries, err := attach(ctx, certs[i%len(certs)], roots, o.addr, quiet)
			retries.Add(int64(tries - 1))
			if err != nil {
				select {
				case errs <- fmt.Errorf("client %d: %w", i, err):
				default:
				}
				return
			}
			clients[i] = c
			pingers.Go(func() { c.pingLoop(pctx, &pings, &pingErrs, &lost) })
		})
	}
	wg.Wait()
	took := time.Since(start)
	select {
	case err := <-errs:
		return err
	default:
	}

	live := func() int {
		n := 0
		for _, c := range clients {
			select {
			case <-c.conn.Done():
			default:
				n++
			}
		}
		return n
	}
	out.emit(report{Event: "attached", Attached: live(), Retries: int(retries.Load()), Secs: took.Seconds(), FDLimit: fdLimit()})

	cmds := commands(stdin)
	for {
		var cmd []string
		select {
		case <-ctx.Done():
			return nil
		case c, ok := <-cmds:
			if !ok {
				return nil
			}
			cmd = c
		}
		switch cmd[0] {
		case "status":
			out.emit(report{Event: "status", Attached: live(), Pings: pings.Load(), PingErrors: pingErrs.Load(), Lost: lost.Load()})
		case "quit":
			return nil
		default:
			out.emit(report{Event: "error", Err: fmt.Sprintf("unknown command %q", cmd[0])})
		}
	}
}

// attach makes a client and attaches it, retrying as overlay/peer does
// (250 ms, doubling up to 5 s); it returns how many attempts it made.
func attach(ctx context.Context, cert tls.Certificate, roots *x509.CertPool, addr string, log *slog.Logger) (*benchClient, int, error) {
	tn, err := tlsnet.New(tlsnet.Config{
		Certificate: cert, Roots: roots, Logger: log,
		DialTimeout: 10 * time.Second, CallTimeout: 10 * time.Second,
	})
	if err != nil {
		return nil, 1, err
	}
	var instance [16]byte
	rand.Read(instance[:])
	var backoff time.Duration
	for attempt := 1; ; attempt++ {
		conn, keep, err := attachOnce(ctx, tn, addr, instance[:])
		if err == nil {
			return &benchClient{net: tn, conn: conn, keep: keep}, attempt, nil
		}
		if attempt == maxAttempts || ctx.Err() != nil {
			tn.Close()
			return nil, attempt, err
		}
		backoff = min(max(2*backoff, 250*time.Millisecond), 5*time.Second)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
	}
}

func attachOnce(ctx context.Context, tn *tlsnet.Net, addr string, instance []byte) (overlay.Conn, time.Duration, error) {
	conn, err := tn.Dial(ctx, addr)
	if err != nil {
		return nil, 0, err
	}
	resp, err := conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Attach{Attach: &wire.AttachRequest{Instance: instance, Receive: true}}})
	if err != nil {
		conn.Close()
		return nil, 0, err
	}
	r := resp.GetAttachResult()
	if !r.GetAccepted() {
		conn.Close()
		return nil, 0, fmt.Errorf("%s did not accept the attach (full?)", addr)
	}
	keep := time.Duration(r.GetKeepaliveSeconds()) * time.Second
	if keep <= 0 {
		keep = 15 * time.Second
	}
	return conn, keep, nil
}

// pingLoop pings every c.keep until ctx ends or the link does.
func (c *benchClient) pingLoop(ctx context.Context, pings, errs, lost *atomic.Int64) {
	t := time.NewTimer(mrand.N(c.keep))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.conn.Done():
			lost.Add(1)
			return
		case <-t.C:
		}
		if _, err := c.conn.Call(ctx, &wire.Envelope{Body: &wire.Envelope_Ping{Ping: &wire.PingRequest{}}}); err != nil {
			if ctx.Err() != nil {
				return
			}
			errs.Add(1)
		} else {
			pings.Add(1)
		}
		t.Reset(c.keep)
	}
}

// closeAll closes every client's Net, many at once: a TLS close waits
// for close_notify to go out.
func closeAll(clients []*benchClient) {
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for _, c := range clients {
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() { defer func() { <-sem }(); c.net.Close() })
	}
	wg.Wait()
}
