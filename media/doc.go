// Package media opens peer-to-peer WebRTC sessions between two users of
// the network, which calls, chat and file transfers run over; it checks
// each side's identity end to end, so that whoever carries the signalling
// (a super-peer) cannot sit in the middle.
//
// # Signalling
//
// A session is set up with Messages that someone else carries between the
// two users (the overlay's signed signals); this package never dials the
// carrier. Each is JSON of at most MaxMessage bytes:
//
//	{"session":"<32 hex>","kind":"offer","sdp":"v=0…"}
//	{"session":"<32 hex>","kind":"answer","sdp":"v=0…"}
//	{"session":"<32 hex>","kind":"candidate","candidate":{"candidate":"candidate:…","sdpMid":"0","sdpMLineIndex":0}}
//	{"session":"<32 hex>","kind":"end-of-candidates"}
//	{"session":"<32 hex>","kind":"close","reason":"closed"}
//
// The offerer picks the session ID (16 random bytes, lowercase hex) and
// sends the offer first, then its candidates as it gathers them
// (trickle ICE), then end-of-candidates. The answerer sends the answer,
// then its candidates. Candidates that arrive before the remote
// description are kept (up to 64) and applied after it. Either side may
// send close at any time, with a one-line reason of at most 200 bytes;
// a side whose setup fails sends close saying why (for instance that the
// other side's certificate names someone else). DecodeMessage refuses
// unknown fields and kinds, and a kind's missing or extra fields.
//
// Flow: the caller runs Dial (or Offer, then Open); the callee, given the
// offer, runs Accept (or Answer, then Open); each routes the other's
// messages for the session ID to Session.Handle. Dial and Accept return
// once the session is open: ICE connected, DTLS done, the other side's
// certificate verified, and the control channel open.
//
// # Identity
//
// Each side's DTLS certificate is its own user certificate from the
// network's CA (the one it logs in to super-peers with), and the SDP's
// fingerprint binds the DTLS handshake to it. After the handshake each
// side checks the other's certificate: it must chain to the network's CA
// as a user certificate, be valid now, and name the user this side meant
// to reach (Config.Remote). A carrier that rewrites the offer or answer
// can make the handshake reach someone else, but not with a certificate
// that names the intended user, so the session fails with, for example:
//
//	media: remote certificate names "mallory", expected "bob"
//	media: remote certificate not issued by this network's CA: …
//
// DTLS is limited to the ECDHE_ECDSA AES-GCM suites, SRTP to
// AEAD_AES_256_GCM.
//
// Nothing a data channel delivers is acted on before the check: the
// control channel's handler runs Session.Verify first and drops the
// message unless it passed. Data channels that later features add must do
// the same in their OnMessage handlers (Verify is cheap after the first
// call), or wait on Session.Verified.
//
// # Control channel
//
// The offerer opens a reliable, ordered data channel labelled "control".
// Its messages are binary: one kind byte and a 64-bit big-endian request
// ID, 9 bytes in all.
//
//	'p' id   ping: the other side answers with 'P' and the same id
//	'P' id   pong
//
// Anything else is ignored, so later versions can add kinds.
//
// # Paths
//
// ICE uses host, server-reflexive and relay candidates, so a session goes
// direct wherever the two NATs allow it and through a TURN relay where not
// (a symmetric NAT against a symmetric or port-restricted one).
// Session.Path tells which. Config.RelayWait is how long ICE prefers
// waiting for a direct pair over taking a relayed one; see
// DefaultRelayWait.
package media
