package node

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"time"

	"soitto/nat"
	"soitto/overlay"
	"soitto/overlay/wire"
)

// NATServices are the node's STUN server and TURN relay (package nat),
// which the node describes to clients in NatInfo answers. The caller
// starts and closes them.
type NATServices struct {
	// STUN answers Binding requests; nil if the node runs none.
	STUN *nat.STUNServer
	// TURN relays for clients attached to this node; nil if the node
	// runs none (it has no public address).
	TURN *nat.TURN
	// Host is the IP clients reach the services at: the node's public
	// address. If empty, the host of Config.Advertise.
	Host string
	// External are TURN servers the network file names (an operator's
	// coturn, say), with the REST secret this node shares with them.
	External []ExternalTURN
	// CredentialTTL is how long the credentials handed out are good for
	// new allocations. If zero, 10 minutes.
	CredentialTTL time.Duration
}

// ExternalTURN is a TURN server the node hands its clients credentials
// for: URLs such as "turn:198.51.100.7:3478?transport=udp", and the
// server's TURN REST API secret (coturn's static-auth-secret).
type ExternalTURN struct {
	URLs   []string
	Secret []byte
}

func (n *Node) natHost() string {
	if s := n.cfg.NAT; s != nil && s.Host != "" {
		return s.Host
	}
	host, _, _ := net.SplitHostPort(n.cfg.Advertise)
	return host
}

// handleNatInfo tells a client where the node answers STUN and, if the
// client is attached here, gives it TURN credentials.
func (n *Node) handleNatInfo(ctx context.Context, from overlay.Peer) (*wire.Envelope, error) {
	resp := &wire.NatInfoResponse{}
	conn := overlay.ConnFrom(ctx)
	if ra, ok := conn.(interface{ RemoteAddr() net.Addr }); ok {
		resp.Observed = ra.RemoteAddr().String()
	}
	s := n.cfg.NAT
	if s == nil {
		return natEnvelope(resp), nil
	}
	host := n.natHost()
	if s.STUN != nil {
		resp.Stun = net.JoinHostPort(host, strconv.Itoa(s.STUN.Addr().Port))
		other := s.STUN.OtherAddr()
		otherHost := host
		if !other.IP.Equal(s.STUN.Addr().IP) {
			// A second IP of the node's own: tell it as it is.
			otherHost = other.IP.String()
		}
		resp.StunOther = net.JoinHostPort(otherHost, strconv.Itoa(other.Port))
	}
	if !from.Node.IsZero() || conn == nil || !n.clients.attached(conn) {
		return natEnvelope(resp), nil
	}
	ttl := s.CredentialTTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	expires := time.Now().Add(ttl)
	if t := s.TURN; t != nil {
		user, pass, exp := t.Credentials(from.Name)
		expires = exp
		var udp, tcp string
		if a := t.UDPAddr(); a != nil {
			udp = net.JoinHostPort(host, strconv.Itoa(addrPort(a)))
		}
		if a := t.TCPAddr(); a != nil {
			tcp = net.JoinHostPort(host, strconv.Itoa(addrPort(a)))
		}
		if urls := nat.TURNURLs(udp, tcp); len(urls) > 0 {
			resp.IceServers = append(resp.IceServers, &wire.IceServer{Urls: urls, Username: user, Credential: pass})
		}
	}
	for _, e := range s.External {
		user, pass := nat.RESTCredentials(e.Secret, from.Name, expires)
		resp.IceServers = append(resp.IceServers, &wire.IceServer{Urls: e.URLs, Username: user, Credential: pass})
	}
	resp.Expires = expires.Unix()
	return natEnvelope(resp), nil
}

func natEnvelope(r *wire.NatInfoResponse) *wire.Envelope {
	return &wire.Envelope{Body: &wire.Envelope_NatInfoResult{NatInfoResult: r}}
}

func addrPort(a net.Addr) int {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return int(ap.Port())
	}
	return 0
}
