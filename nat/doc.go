// Package nat is the STUN server and client, NAT behaviour discovery, the
// TURN server and its credentials, and the ICE server lists that calls
// use; it lets two clients behind NATs find a path to each other, direct
// when their NATs allow it and through a super-peer's relay when not.
//
// Nothing here knows about calls or the overlay: a super-peer runs a
// STUNServer and a TURN relay, a client runs Discover against the STUN
// servers of super-peers, and media gets ICEServer lists.
//
// # STUN server
//
// ListenSTUN answers STUN Binding requests (RFC 8489) with what an RFC
// 5780 behaviour-discovery client needs. It listens on up to four UDP
// sockets:
//
//	IP1:P1   primary (STUNConfig.Listen)
//	IP1:P2   alternate port (STUNConfig.AltPort; default P1+1, else any)
//	IP2:P1   alternate IP (STUNConfig.AltIP), only if set
//	IP2:P2   alternate IP and port, only if AltIP is set
//
// A success response carries XOR-MAPPED-ADDRESS and MAPPED-ADDRESS (the
// request's source), RESPONSE-ORIGIN (the socket it is sent from),
// OTHER-ADDRESS (only with a second IP: the socket differing in both IP
// and port from the one the request came to), SOFTWARE "soitto" and
// FINGERPRINT. CHANGE-REQUEST (RFC 5780 §7.2) moves the response to the
// socket with the other IP and/or port; change-IP on a server without a
// second IP is answered 420 (Unknown Attribute) naming CHANGE-REQUEST,
// as RFC 5780 §6.1 asks. A request with a comprehension-required
// attribute (type below 0x8000) the server does not know gets 420 with
// UNKNOWN-ATTRIBUTES. RESPONSE-PORT and PADDING are understood and
// ignored: the server answers only to where a request came from, and
// never with more bytes than a small fixed response, so it cannot be
// used to reflect or amplify traffic. Error responses leave from the
// socket the request came to.
//
// Anything that is not a Binding request (other methods, indications,
// responses, garbage) gets no answer at all, nor does a datagram over
// MaxSTUNRequest bytes or one from a source IP over its rate
// (STUNConfig.RatePerIP). STUNServer.Stats counts what was answered,
// refused with an error, dropped and rate-limited.
//
// # NAT behaviour discovery
//
// Discover runs the RFC 5780 tests from one local UDP socket, so that
// every test sees the same NAT mapping (§4.3, §4.4):
//
//   - Test I: Binding to servers[0]. No answer after the retransmissions
//     is "UDP blocked". The XOR-MAPPED-ADDRESS is the mapped address; if it
//     equals the local address there is no NAT (MappingNone).
//   - Filtering, run before the mapping tests II and III so that packets
//     sent to the server's other IP and port do not open the filter they
//     are meant to probe: with a server that has a second IP (an
//     OTHER-ADDRESS with another IP), an answer to change-IP-and-port means
//     endpoint-independent filtering; else an answer to change-port means
//     address-dependent; else address-and-port-dependent. With single-IP
//     servers only change-port can be asked: an answer means the filter
//     does not depend on the port (endpoint-independent or
//     address-dependent, FilteringNotPortDependent), none means
//     address-and-port-dependent.
//   - Mapping test II: Binding to a different IP, the server's
//     OTHER-ADDRESS IP with the primary port, else servers[1] (another
//     super-peer). The same mapped address as test I means
//     endpoint-independent mapping. Test III, to the same IP as test II
//     and another port (OTHER-ADDRESS, or servers[1]'s alternate port),
//     then tells address-dependent (same mapping as test II) from
//     address-and-port-dependent. With no other IP to send to (one
//     single-IP server) the mapping stays unknown; with no test III
//     destination a mapping that changed in test II is reported
//     address-and-port-dependent (symmetric either way). A test that gets
//     no answer leaves the mapping unknown.
//
// What two single-IP servers (the usual pair of super-peers) can and
// cannot tell: the mapping fully, since tests II and III go to one IP on
// two ports; the filtering only as port-dependent or not, since no
// answer can come from an IP the client has not sent to.
//
// Report.Type names the result in the classic (RFC 3489) terms people
// know:
//
//	no NAT, EI filtering (or EI-or-AD, or unknown)   open
//	no NAT, AD or address+port-dependent filtering   firewalled
//	EI mapping, EI filtering                         full cone
//	EI mapping, address-dependent filtering          restricted cone
//	EI mapping, address+port-dependent filtering     port-restricted cone
//	EI mapping, EI or AD filtering (single-IP pair)  restricted or full cone
//	EI mapping, filtering unknown                    cone
//	address- or address+port-dependent mapping       symmetric
//	no answer to test I                              UDP blocked
//	mapping unknown                                  unknown
//
// Each test retransmits with a doubling interval and a bounded number of
// sends within DiscoverConfig.Timeout; responses are matched by
// transaction ID, and anything else arriving on the socket is skipped.
//
// # TURN relay and credentials
//
// NewTURN runs a TURN relay (RFC 8656, pion/turn) over UDP and TCP for the
// clients attached to a super-peer. Credentials are short-lived, in the
// TURN REST API format coturn also accepts (RESTCredentials,
// ParseRESTUsername). The relay never sends to loopback, private,
// link-local or other special-purpose addresses, nor to the node's own
// services, outside a test lab (CheckPeer, CheckPeerPort).
//
// # ICE server lists
//
// ICEServer is one entry of the list given to a WebRTC peer connection,
// with stun: and turn: URLs (STUNURL, TURNURLs); CheckRelay proves a relay
// in such a list works by allocating on it.
package nat
