package nat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pion/turn/v5"
)

// CheckRelay allocates a relayed address on the TURN server s, to show
// that calls can fall back to it, and frees it again. It uses the
// server's UDP URL, or its TCP URL when tcp is set (UDP blocked) or the
// server has no UDP URL. It returns the relayed address.
func CheckRelay(ctx context.Context, s ICEServer, tcp bool) (netip.AddrPort, error) {
	addr, useTCP, err := pickTURNURL(s.URLs, tcp)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var conn net.PacketConn
	if useTCP {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("nat: TURN over TCP at %s: %w", addr, err)
		}
		conn = turn.NewSTUNConn(c)
	} else {
		// The socket's family is the relayed address's family: IPv4
		// towards an IPv4 server.
		network := "udp4"
		if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().Is6() && !ap.Addr().Is4In6() {
			network = "udp6"
		}
		c, err := net.ListenPacket(network, ":0")
		if err != nil {
			return netip.AddrPort{}, err
		}
		conn = c
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cl, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr,
		TURNServerAddr: addr,
		Username:       s.Username,
		Password:       s.Credential,
		Conn:           conn,
	})
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("nat: TURN client: %w", err)
	}
	defer cl.Close()
	if err := cl.Listen(); err != nil {
		return netip.AddrPort{}, fmt.Errorf("nat: TURN client: %w", err)
	}
	relay, err := cl.AllocateWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return netip.AddrPort{}, fmt.Errorf("nat: allocating on %s: %w", addr, err)
	}
	defer relay.Close()
	ap, err := netip.ParseAddrPort(relay.LocalAddr().String())
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("nat: relayed address %q: %w", relay.LocalAddr(), err)
	}
	return ap, nil
}

// pickTURNURL returns the host:port of the first turn: URL with the
// wanted transport, or of the first turn: URL of the other transport.
func pickTURNURL(urls []string, tcp bool) (addr string, useTCP bool, err error) {
	var other string
	var otherTCP bool
	for _, u := range urls {
		rest, ok := strings.CutPrefix(u, "turn:")
		if !ok {
			continue // stun:, or turns: which this check does not speak
		}
		hostport, query, _ := strings.Cut(rest, "?")
		isTCP := query == "transport=tcp"
		if isTCP == tcp {
			return hostport, isTCP, nil
		}
		if other == "" {
			other, otherTCP = hostport, isTCP
		}
	}
	if other == "" {
		return "", false, errors.New("nat: no turn: URL to check")
	}
	return other, otherTCP, nil
}
