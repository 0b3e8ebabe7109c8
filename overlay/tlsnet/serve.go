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

// accept runs the listener's handshake on c and then reads the link.
func (n *Net) accept(c net.Conn) {
	l, refused, err := n.handshakeIn(c)
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
