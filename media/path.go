package media

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/pion/webrtc/v4"
)

// Candidate is one end of the path a session uses.
type Candidate struct {
	// Type is host, srflx, prflx or relay.
	Type string `json:"type"`
	// Protocol is the ICE transport, udp or tcp.
	Protocol string `json:"protocol"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	// RelayProtocol, for this side's relay candidate, is how it reaches
	// its TURN server: udp, tcp or tls.
	RelayProtocol string `json:"relay_protocol,omitempty"`
}

// Path is the candidate pair a session uses, as this side sees it.
type Path struct {
	Local  Candidate `json:"local"`
	Remote Candidate `json:"remote"`
}

// Relayed says whether a TURN relay is on the path.
func (p Path) Relayed() bool { return p.Local.Type == "relay" || p.Remote.Type == "relay" }

// Direct says whether the path goes straight between the two sides.
func (p Path) Direct() bool { return !p.Relayed() }

// String describes the path in one line that starts with "direct" or
// "relay", for example
//
//	direct (host 192.168.1.20:51419 → srflx 203.0.113.9:33913, udp)
//	relay (relay 198.51.100.7:50123 → prflx 203.0.113.9:40001, udp; our relay over tcp)
func (p Path) String() string {
	kind := "direct"
	if p.Relayed() {
		kind = "relay"
	}
	s := fmt.Sprintf("%s (%s %s → %s %s, %s", kind,
		p.Local.Type, net.JoinHostPort(p.Local.Address, strconv.Itoa(p.Local.Port)),
		p.Remote.Type, net.JoinHostPort(p.Remote.Address, strconv.Itoa(p.Remote.Port)),
		p.Local.Protocol)
	if p.Local.Type == "relay" && p.Local.RelayProtocol != "" {
		s += "; our relay over " + p.Local.RelayProtocol
	}
	return s + ")"
}

// Path returns the candidate pair the session uses now.
func (s *Session) Path() (Path, error) {
	pair, err := s.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil {
		return Path{}, fmt.Errorf("media: %w", err)
	}
	if pair == nil || pair.Local == nil || pair.Remote == nil {
		return Path{}, errors.New("media: no candidate pair selected yet")
	}
	p := Path{Local: candidate(pair.Local), Remote: candidate(pair.Remote)}
	if p.Local.Type == "relay" {
		// Only the stats say how the relay is reached.
		for _, st := range s.pc.GetStats() {
			if c, ok := st.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeLocalCandidate &&
				c.CandidateType == webrtc.ICECandidateTypeRelay && c.IP == p.Local.Address && int(c.Port) == p.Local.Port {
				p.Local.RelayProtocol = c.RelayProtocol
			}
		}
	}
	return p, nil
}

func candidate(c *webrtc.ICECandidate) Candidate {
	return Candidate{Type: c.Typ.String(), Protocol: c.Protocol.String(), Address: c.Address, Port: int(c.Port)}
}
