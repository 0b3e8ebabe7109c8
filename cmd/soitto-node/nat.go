package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"soitto/nat"
	"soitto/overlay/node"
)

// natFlags are soitto-node's STUN and TURN flags.
type natFlags struct {
	stun, stunAltIP  string
	stunAltPort      int
	turn, turnPorts  string
	turnLab          bool
	turnSecret       string
	externalSecret   string
	turnAllocations  int
	turnRate, nodeRt int
}

func addNATFlags(fs *flag.FlagSet) *natFlags {
	f := new(natFlags)
	fs.StringVar(&f.stun, "stun", "", `UDP HOST:PORT for STUN, or "off" (default: --listen's port, on the advertised IP when --listen has none)`)
	fs.StringVar(&f.stunAltIP, "stun-alt-ip", "", "a second IP of this host for RFC 5780 change-IP tests (default: none; then a second super-peer is used)")
	fs.IntVar(&f.stunAltPort, "stun-alt-port", 0, "alternate STUN port (default: STUN port + 1)")
	fs.StringVar(&f.turn, "turn", "", `HOST:PORT for the TURN relay, UDP and TCP, or "off" (default: the STUN host, --listen's port + 2)`)
	fs.StringVar(&f.turnPorts, "turn-ports", "49152-65535", "relay port range MIN-MAX")
	fs.BoolVar(&f.turnLab, "turn-lab", false, "TEST LAB ONLY: relay to private, loopback and other special addresses too")
	fs.StringVar(&f.turnSecret, "turn-secret-file", "", "file with this node's TURN credential secret (default: a new random secret at each start)")
	fs.StringVar(&f.externalSecret, "turn-external-secret-file", "", "file with the TURN REST secret shared with the network file's TURN servers (coturn's static-auth-secret)")
	fs.IntVar(&f.turnAllocations, "turn-allocations", 8, "relay allocations per user")
	fs.IntVar(&f.turnRate, "turn-rate", 256, "relay bandwidth per allocation and direction, KiB/s")
	fs.IntVar(&f.nodeRt, "turn-node-rate", 64<<10, "relay bandwidth of the whole node, KiB/s")
	return f
}

// start starts the STUN server and TURN relay the flags ask for and
// returns them for node.Config, with a function that stops them.
func (f *natFlags) start(log *slog.Logger, listen, advertise string, turnURLs []string) (*node.NATServices, func(), error) {
	advHost, _, err := net.SplitHostPort(advertise)
	if err != nil {
		return nil, nil, err
	}
	lhost, lport, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, nil, err
	}
	port, err := strconv.Atoi(lport)
	if err != nil {
		return nil, nil, fmt.Errorf("--listen port %q", lport)
	}
	host := lhost
	if ip, err := netip.ParseAddr(lhost); lhost == "" || (err == nil && ip.IsUnspecified()) {
		host = advHost
	}
	s := &node.NATServices{Host: advHost}
	var closers []func()
	stop := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*node.NATServices, func(), error) {
		stop()
		return nil, nil, err
	}
	if f.stun != "off" {
		addr := f.stun
		if addr == "" {
			if port == 0 {
				addr = net.JoinHostPort(host, "0")
			} else {
				addr = net.JoinHostPort(host, lport)
			}
		}
		st, err := nat.ListenSTUN(nat.STUNConfig{Listen: addr, AltIP: f.stunAltIP, AltPort: f.stunAltPort, Logger: log})
		if err != nil {
			return fail(fmt.Errorf("STUN: %w", err))
		}
		closers = append(closers, func() { st.Close() })
		s.STUN = st
		log.Info("STUN", "addr", st.Addr().String(), "other", st.OtherAddr().String())
	}
	if f.turn != "off" {
		addr := f.turn
		if addr == "" {
			p := 0
			if port != 0 {
				p = port + 2
			}
			addr = net.JoinHostPort(host, strconv.Itoa(p))
		}
		min, max, err := parsePortRange(f.turnPorts)
		if err != nil {
			return fail(fmt.Errorf("--turn-ports: %w", err))
		}
		var secret []byte
		if f.turnSecret != "" {
			if secret, err = readSecret(f.turnSecret); err != nil {
				return fail(err)
			}
		}
		thost, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fail(fmt.Errorf("--turn: %w", err))
		}
		own := ownAddrs(listen, advertise, s)
		t, err := nat.NewTURN(nat.TURNConfig{
			ListenUDP: addr, ListenTCP: addr,
			RelayIP: advHost, RelayBind: thost,
			PortMin: min, PortMax: max,
			Secret:                secret,
			MaxAllocationsPerUser: f.turnAllocations,
			AllocationRate:        f.turnRate << 10,
			NodeRate:              f.nodeRt << 10,
			Lab:                   f.turnLab,
			OwnAddrs:              own,
			Logger:                log,
		})
		if err != nil {
			return fail(fmt.Errorf("TURN: %w", err))
		}
		closers = append(closers, func() { t.Close() })
		s.TURN = t
		if f.turnLab {
			log.Warn("TURN test-lab mode: relaying to private and loopback addresses is allowed")
		}
		log.Info("TURN", "udp", t.UDPAddr(), "tcp", t.TCPAddr(), "relay", advHost, "ports", f.turnPorts)
	}
	if f.externalSecret != "" {
		if len(turnURLs) == 0 {
			return fail(errors.New("--turn-external-secret-file given but the network file names no TURN servers"))
		}
		secret, err := readSecret(f.externalSecret)
		if err != nil {
			return fail(err)
		}
		s.External = append(s.External, node.ExternalTURN{URLs: turnURLs, Secret: secret})
	}
	return s, stop, nil
}

// ownAddrs are the node's own service addresses, which its relay must
// never send to.
func ownAddrs(listen, advertise string, s *node.NATServices) []netip.AddrPort {
	var out []netip.AddrPort
	add := func(a string) {
		if ap, err := netip.ParseAddrPort(a); err == nil {
			out = append(out, ap)
		}
	}
	add(listen)
	add(advertise)
	if s.STUN != nil {
		add(s.STUN.Addr().String())
		add(s.STUN.OtherAddr().String())
	}
	return out
}

func parsePortRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	min, err1 := strconv.Atoi(a)
	max, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || min < 1024 || max > 65535 || min > max {
		return 0, 0, fmt.Errorf("%q is not MIN-MAX within 1024-65535", s)
	}
	return min, max, nil
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 16 {
		return nil, fmt.Errorf("%s: a secret of at least 16 bytes is needed", path)
	}
	return b, nil
}
