package nat

import (
	"fmt"
	"net/netip"
	"slices"
)

// refusedPrefixes are the special-purpose ranges a relay on the public
// Internet never sends to: the hosts behind it, the node itself, and
// addresses that are not unicast hosts on the Internet. Relaying there is
// the hole behind coturn's CVE-2020-26262 and Slack's TURN SSRF.
var refusedPrefixes = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (private)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// Prefixes whose addresses embed an IPv4 address, which is checked in
// turn: IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4
// (2002:AABB:CCDD::/48).
var (
	compatPrefix = netip.MustParsePrefix("::/96")
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
)

// CheckPeer returns nil if a relay may send to ip, else why not in one
// line. Outside a test lab it refuses every special-purpose address
// (loopback, private, link-local, CGNAT, multicast, unspecified,
// benchmarking, documentation, reserved), their IPv4-mapped, -compatible,
// NAT64 and 6to4 IPv6 forms, and the node's own IPs (own). In a lab
// (lab set) it allows them all; CheckPeerPort still refuses the node's
// own service ports.
func CheckPeer(ip netip.Addr, own []netip.Addr, lab bool) error {
	if !ip.IsValid() {
		return fmt.Errorf("nat: refusing to relay to an invalid address")
	}
	ip = ip.WithZone("")
	if lab {
		return nil
	}
	for _, o := range own {
		if ip.Unmap() == o.Unmap() {
			return fmt.Errorf("nat: refusing to relay to %v: this node's own address", ip)
		}
	}
	if why := special(ip); why != "" {
		return fmt.Errorf("nat: refusing to relay to %v: %s", ip, why)
	}
	return nil
}

// CheckPeerPort is CheckPeer for a destination with its port: in a lab
// too, the node's own service addresses (own) are refused, so the relay
// cannot be turned on the node itself.
func CheckPeerPort(dst netip.AddrPort, own []netip.AddrPort, lab bool) error {
	d := netip.AddrPortFrom(dst.Addr().Unmap().WithZone(""), dst.Port())
	ips := make([]netip.Addr, 0, len(own))
	for _, o := range own {
		ips = append(ips, o.Addr().Unmap())
	}
	// A packet to the unspecified address lands on this host (Linux sends
	// it to the socket's own IP, or loopback), as one to loopback or to
	// one of the node's IPs does: there it reaches a service bound to
	// every address, and, for the unspecified address, any service on
	// that port.
	local := d.Addr().IsLoopback() || d.Addr().IsUnspecified() || slices.Contains(ips, d.Addr())
	for _, o := range own {
		oa := netip.AddrPortFrom(o.Addr().Unmap(), o.Port())
		if oa.Port() != d.Port() {
			continue
		}
		if d == oa || (local && (oa.Addr().IsUnspecified() || d.Addr().IsUnspecified())) {
			return fmt.Errorf("nat: refusing to relay to %v: a service of this node", dst)
		}
	}
	return CheckPeer(dst.Addr(), ips, lab)
}

// special says why ip is a special-purpose address, or "".
func special(ip netip.Addr) string {
	if ip.Is4In6() {
		if why := special(ip.Unmap()); why != "" {
			return why + ", IPv4-mapped"
		}
		return ""
	}
	if ip.Is6() {
		b := ip.As16()
		var v4 [4]byte
		switch {
		case nat64Prefix.Contains(ip):
			copy(v4[:], b[12:])
			if why := special(netip.AddrFrom4(v4)); why != "" {
				return why + ", NAT64"
			}
		case compatPrefix.Contains(ip) && ip != netip.IPv6Unspecified() && ip != netip.IPv6Loopback():
			copy(v4[:], b[12:])
			return "IPv4-compatible " + netip.AddrFrom4(v4).String()
		case sixToFour.Contains(ip):
			copy(v4[:], b[2:6])
			if why := special(netip.AddrFrom4(v4)); why != "" {
				return why + ", 6to4"
			}
		}
	}
	if ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "broadcast"
	}
	for _, p := range refusedPrefixes {
		if p.prefix.Contains(ip) {
			return p.why
		}
	}
	return ""
}
