// Package netlab builds small networks out of Linux network namespaces
// for tests: a public segment (a bridge) with hosts on it, and hosts
// behind real Linux NAT routers (iptables MASQUERADE). Only addresses of
// 198.18.0.0/15 are used, inside namespaces the lab creates and deletes;
// nothing touches the host's own network.
//
// It needs root (CAP_NET_ADMIN), ip(8) and iptables(8); Available says
// whether they are there.
package netlab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// NAT is the behaviour of a host's router.
type NAT int

const (
	// Public: no NAT; the host sits on the public segment.
	Public NAT = iota
	// PortRestricted: MASQUERADE. Linux keeps the source port where it
	// can, so the mapping is endpoint-independent, and conntrack lets
	// in only replies from the exact address and port sent to:
	// a port-restricted cone.
	PortRestricted
	// Symmetric: MASQUERADE --random-fully: a new random port for every
	// new destination (address-and-port-dependent mapping).
	Symmetric
	// UDPBlocked: MASQUERADE for TCP, and every forwarded UDP packet
	// dropped, as on networks that allow only web traffic.
	UDPBlocked
)

func (n NAT) String() string {
	switch n {
	case Public:
		return "public"
	case PortRestricted:
		return "port-restricted"
	case Symmetric:
		return "symmetric"
	case UDPBlocked:
		return "udp-blocked"
	}
	return fmt.Sprintf("NAT(%d)", int(n))
}

// Available reports why the lab cannot run here, or "" if it can.
func Available() string {
	if os.Geteuid() != 0 {
		return "needs root for network namespaces"
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed (iproute2, iptables)"
		}
	}
	return ""
}

// Lab is a set of namespaces with one public segment.
type Lab struct {
	t      testing.TB
	prefix string
	inet   string // the namespace holding the public bridge

	mu     sync.Mutex
	spaces []string
	hosts  int
	nats   int
}

// Host is a namespace with one address, public or behind a router.
type Host struct {
	// NS is the namespace name, for ip netns exec.
	NS string
	// IP is the host's own address; Public is its address on the public
	// segment: IP itself, or its router's public address.
	IP, Public string
	NAT        NAT
}

// New creates the public segment 198.18.0.0/24. Everything is deleted at
// the end of the test.
func New(t testing.TB) *Lab {
	t.Helper()
	if why := Available(); why != "" {
		t.Fatalf("netlab: %s", why)
	}
	l := &Lab{t: t, prefix: fmt.Sprintf("sl%d", os.Getpid()%100000)}
	l.inet = l.newNS("inet")
	l.run("ip", "-n", l.inet, "link", "add", "br0", "type", "bridge")
	l.run("ip", "-n", l.inet, "link", "set", "br0", "up")
	return l
}

func (l *Lab) newNS(name string) string {
	ns := l.prefix + name
	// A namespace left by a killed earlier run of the same pid is
	// removed first.
	exec.Command("ip", "netns", "del", ns).Run()
	l.run("ip", "netns", "add", ns)
	l.mu.Lock()
	l.spaces = append(l.spaces, ns)
	first := len(l.spaces) == 1
	l.mu.Unlock()
	if first {
		l.t.Cleanup(l.close)
	}
	l.run("ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

func (l *Lab) close() {
	l.mu.Lock()
	spaces := l.spaces
	l.spaces = nil
	l.mu.Unlock()
	for i := len(spaces) - 1; i >= 0; i-- {
		// Deleting a namespace deletes its veths; processes still in it
		// were stopped by their own cleanups (registered later, run
		// earlier).
		if out, err := exec.Command("ip", "netns", "del", spaces[i]).CombinedOutput(); err != nil {
			l.t.Logf("netlab: deleting %s: %v %s", spaces[i], err, out)
		}
	}
}

func (l *Lab) run(args ...string) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("netlab: %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

// plug connects namespace ns to the public bridge as dev with address
// ip/24.
func (l *Lab) plug(ns, dev, ip string) {
	l.mu.Lock()
	l.hosts++
	port := fmt.Sprintf("p%d", l.hosts)
	l.mu.Unlock()
	l.run("ip", "-n", l.inet, "link", "add", port, "type", "veth", "peer", "name", dev, "netns", ns)
	l.run("ip", "-n", l.inet, "link", "set", port, "master", "br0")
	l.run("ip", "-n", l.inet, "link", "set", port, "up")
	l.run("ip", "-n", ns, "addr", "add", ip+"/24", "dev", dev)
	l.run("ip", "-n", ns, "link", "set", dev, "up")
}

// Public adds a host at ip (in 198.18.0.0/24) on the public segment.
// extra are more addresses of the same host (a node's second IP).
func (l *Lab) Public(name, ip string, extra ...string) *Host {
	ns := l.newNS(name)
	l.plug(ns, "eth0", ip)
	for _, x := range extra {
		l.run("ip", "-n", ns, "addr", "add", x+"/24", "dev", "eth0")
	}
	return &Host{NS: ns, IP: ip, Public: ip, NAT: Public}
}

// Behind adds a host behind a router of kind nat whose public address is
// wanIP; the host gets 198.19.N.2 on a segment of its own. For Public it
// is the same as l.Public(name, wanIP).
func (l *Lab) Behind(name string, kind NAT, wanIP string) *Host {
	if kind == Public {
		return l.Public(name, wanIP)
	}
	l.mu.Lock()
	l.nats++
	n := l.nats
	l.mu.Unlock()
	if n > 250 {
		l.t.Fatalf("netlab: too many routers")
	}
	router := l.newNS(name + "r")
	l.plug(router, "wan", wanIP)
	host := l.newNS(name)
	lanNet := fmt.Sprintf("198.19.%d", n)
	l.run("ip", "-n", router, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", host)
	l.run("ip", "-n", router, "addr", "add", lanNet+".1/24", "dev", "lan")
	l.run("ip", "-n", router, "link", "set", "lan", "up")
	l.run("ip", "-n", host, "addr", "add", lanNet+".2/24", "dev", "eth0")
	l.run("ip", "-n", host, "link", "set", "eth0", "up")
	l.run("ip", "-n", host, "route", "add", "default", "via", lanNet+".1")
	l.run("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// As on any home router, new connections from the WAN to the router
	// itself are dropped. Without it, a hole-punching packet that
	// arrives before the host's own has left leaves a conntrack entry
	// (for a packet to the router, answered with an ICMP error) that
	// clashes with the host's mapping, and MASQUERADE moves the host to
	// another port: the NAT turns symmetric by accident.
	l.run("ip", "netns", "exec", router, "iptables", "-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP")
	masq := []string{"ip", "netns", "exec", router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE"}
	switch kind {
	case PortRestricted:
		l.run(masq...)
	case Symmetric:
		l.run(append(masq, "--random-fully")...)
	case UDPBlocked:
		l.run(masq...)
		l.run("ip", "netns", "exec", router, "iptables", "-A", "FORWARD", "-p", "udp", "-j", "DROP")
	default:
		l.t.Fatalf("netlab: unknown NAT %v", kind)
	}
	return &Host{NS: host, IP: lanNet + ".2", Public: wanIP, NAT: kind}
}

// Command returns a command that runs name with args inside the host's
// namespace.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}
