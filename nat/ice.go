package nat

import (
	"net"
	"strings"
)

// ICEServer is one STUN or TURN server for ICE, in the shape of WebRTC's
// RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// STUNURL is the stun: URL (RFC 7064) of a server at "host:port".
func STUNURL(addr string) string { return "stun:" + urlHostPort(addr) }

// TURNURLs are the turn: URLs (RFC 7065) of a relay listening for UDP
// at udp and TCP at tcp ("host:port"; either may be empty).
func TURNURLs(udp, tcp string) []string {
	var out []string
	if udp != "" {
		out = append(out, "turn:"+urlHostPort(udp)+"?transport=udp")
	}
	if tcp != "" {
		out = append(out, "turn:"+urlHostPort(tcp)+"?transport=tcp")
	}
	return out
}

// urlHostPort writes an IPv6 host in brackets.
func urlHostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}
