package tlsnet

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"
)

// Serve accepts links on ln until ctx is done, Close is called, or ln
// fails; Serve closes ln. It returns nil when stopped by ctx or Close.
// Handshakes and links run on goroutines Close waits for.
func (n *Net) Serve(ctx context.Context, ln net.Listener) error {
	if n.cfg.Self.IsZero() {
		ln.Close()
		return errors.New("tlsnet: a client (no Config.Self) does not serve")
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	n.listeners[ln] = struct{}{}
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.listeners, ln)
		n.mu.Unlock()
		ln.Close()
	}()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || n.ctx.Err() != nil { // stopped
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			n.log.Warn("accept", "err", err, "retry in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			case <-n.ctx.Done():
			}
			continue
		}
		backoff = 0
		if !n.goroutine(func() { n.accept(c) }) {
			c.Close()
		}
	}
}

// handshakeQueue is how long an accepted connection may wait for its turn
// to handshake; by then its dialler has probably given up.
const handshakeQueue = 2 * time.Second

// accept runs the listener's handshake on c and then reads the link.
//
// At most cap(n.handshakes) handshakes run at once. In a storm of new
// connections (every client of a failed super-peer arriving together)
// each then finishes in milliseconds, instead of all sharing the CPU until
// every dialler's timeout has passed and each retries elsewhere, wasting
// the work: measured with 5,000 clients against 3 nodes, 4,130 were still
// not attached after 2 minutes without the limit, none with it.
func (n *Net) accept(c net.Conn) {
	queued := time.Now()
	select {
	case n.handshakes <- struct{}{}:
	case <-n.ctx.Done():
		c.Close()
		return
	}
	if time.Since(queued) > handshakeQueue {
		<-n.handshakes
		n.stats.failed.Add(1)
		c.Close()
		return
	}
	l, refused, err := n.handshakeIn(c)
	<-n.handshakes
	if err != nil {
		n.stats.failed.Add(1)
		level := slog.LevelDebug // scanners, dialers that gave up
		if refused {
			level = slog.LevelInfo
		}
		n.log.Log(n.ctx, level, "no link", "from", c.RemoteAddr().String(), "err", err)
		return
	}
	n.adopt(l)
}
