package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"soitto/app"
)

// net prints the NAT type, the mapped address, the super-peer and whether
// a relay is available.
func (x *cli) net(ctx context.Context) error {
	if err := x.online(ctx, app.OnlineOptions{}); err != nil {
		return fmt.Errorf("net: %w", err)
	}
	defer x.client.Logout()
	nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := x.client.Net(nctx)
	if err != nil {
		return fmt.Errorf("net: %w", err)
	}
	if x.json {
		return x.print(r)
	}
	fmt.Fprintf(x.out, "super-peer  %s\n", r.SuperPeer)
	if r.Observed != "" {
		fmt.Fprintf(x.out, "seen as     %s (overlay link, TCP)\n", r.Observed)
	}
	if r.NATError != "" {
		fmt.Fprintf(x.out, "NAT         unknown: %s\n", r.NATError)
	} else {
		fmt.Fprintf(x.out, "NAT         %s (mapping %s, filtering %s)\n", r.NAT.Type(), r.NAT.Mapping, r.NAT.Filtering)
		if r.NAT.Mapped.IsValid() {
			fmt.Fprintf(x.out, "mapped      %s (local %s)\n", r.NAT.Mapped, r.NAT.Local)
		}
	}
	fmt.Fprintf(x.out, "STUN        %s\n", orNone(r.STUN))
	switch {
	case r.Relay:
		fmt.Fprintf(x.out, "relay       available: %s (relayed address %s)\n", strings.Join(r.TURN, " "), r.Relayed)
	default:
		fmt.Fprintf(x.out, "relay       unavailable: %s\n", r.RelayError)
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// ping opens a P2P session to user and prints the path it took and the
// round-trip times over it.
func (x *cli) ping(ctx context.Context, user string, count int) error {
	if err := x.online(ctx, app.OnlineOptions{Receive: true}); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	defer x.client.Logout()
	pctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	r, err := x.client.Ping(pctx, user, count)
	if err != nil {
		return fmt.Errorf("ping %s: %w", user, err)
	}
	if x.json {
		return x.print(r)
	}
	fmt.Fprintf(x.out, "session with %s open in %v\n", r.User, r.Setup.Round(time.Millisecond))
	fmt.Fprintf(x.out, "path  %s\n", r.Path)
	for i, rtt := range r.RTTs {
		fmt.Fprintf(x.out, "rtt   %v (%d of %d)\n", rtt.Round(10*time.Microsecond), i+1, len(r.RTTs))
	}
	return nil
}
