// Package wire is the Soitto overlay protocol, version 1: the messages
// super-peers and clients exchange (wire.proto), how they are framed, and
// the error codes. It is the one description of the protocol, so that the
// ring, the directory and any other implementation agree byte for byte.
//
// This comment is the specification; wire.proto is the schema it refers
// to. "MUST", "SHOULD" and "MAY" are used as in RFC 2119.
//
// # Transport
//
// A link is one TCP connection carrying TLS 1.3 (no earlier version), with
// the ALPN protocol "soitto-overlay/1" (constant ALPN), which the dialler MUST
// offer and the listener MUST select.
//
// Both sides present a certificate issued directly by the network's CA
// (the CA certificate in the network file), with an ECDSA P-256 key:
//
//   - A ring member (super-peer) holds a node certificate for its public
//     "ip:port" ADDR: subject common name "node:ADDR", one URI SAN
//     "soitto:node:ADDR" (ADDR percent-encoded), extended key usages
//     clientAuth and serverAuth. It presents it on both sides of its links.
//   - A client holds a 24-hour user certificate: common name the
//     normalized username, one URI SAN "soitto:user:NAME", clientAuth.
//
// The dialler MUST verify the listener's certificate chain to the CA and
// its validity, and that it is a node certificate for exactly the ADDR it
// dialled (not a host name match). The listener MUST require a client
// certificate chaining to the CA; which kind it must be depends on the
// Hello (below). Package login/ca has VerifyNode and VerifyUser.
//
// # Frames
//
// Each direction of a link is a sequence of frames: a 4-byte big-endian
// length N, then N bytes that are a protobuf Envelope. 1 ≤ N ≤ MaxFrame
// (65,536). A receiver MUST refuse a larger N before reading the body,
// and an N of 0, a body that is not an Envelope (including strings that
// are not UTF-8) or an envelope that encodes to nothing: it sends a link
// error (below) with CodeTooLarge or CodeBadRequest and closes the link,
// since the stream cannot be trusted after it. Fields a receiver does not
// know MUST be ignored (and are kept when a record is passed on).
//
// # Handshake
//
// After TLS, the dialler sends Envelope{hello: Hello{version: 1, node,
// max_inflight}} with id 0. node is the dialler's NodeInfo if it is a
// ring member (id = SHA-1 of addr, addr its public "ip:port"), and unset
// for a client. The listener checks, in this order:
//
//  1. the ALPN protocol, and that the first frame is a Hello
//     (else CodeBadRequest);
//  2. version == 1 (else CodeVersion);
//  3. if node is set: addr is not empty and id is the 20 bytes of SHA-1(addr)
//     (else CodeBadID), and the dialler's certificate is a node certificate
//     for exactly that addr (else CodeForbidden);
//  4. if node is unset: the listener accepts clients and the certificate
//     is a user certificate (else CodeForbidden).
//
// A refusal is Envelope{id: 0, response: true, error}, after which the
// listener closes the link. Otherwise the listener answers
// Envelope{hello_ack: HelloAck{version: 1, node, max_inflight}} with its
// own NodeInfo, and the dialler checks version == 1 and that node is the
// node it dialled (addr equal to the address dialled, id its SHA-1). The
// whole handshake, TCP to HelloAck, SHOULD be given at most 5 seconds.
//
// The peer's identity for the rest of the link is its NodeInfo (none for
// a client) and its certificate's common name.
//
// # Requests and responses
//
// After the handshake either side MAY send requests, also on a link the
// other side dialled; a node SHOULD use an existing link to a node, in
// either direction, rather than dial a second.
//
//   - A request is an Envelope with a request body and an id ≠ 0 chosen
//     by its sender, unique among that sender's requests outstanding on
//     the link. The two directions have separate id spaces.
//   - A response is an Envelope with response set and the request's id,
//     and either a response body (ok when there is nothing to return) or
//     error; never both. Responses MAY come in any order.
//   - A response whose id matches no outstanding request (one given up
//     on) is dropped.
//   - An error with id 0 is a link error: its sender closes the link
//     after it, and the receiver fails its outstanding requests with it.
//   - A request without an id is a link error (CodeBadRequest). A request
//     whose body is unset (a request type this version does not know) or
//     is hello or hello_ack is answered with CodeBadRequest; the link
//     stays up.
//
// # Timeouts and retries
//
// No deadline travels on the wire. A requester SHOULD give up on a
// request after 5 seconds, dialling included; a responder SHOULD abandon
// work whose link has closed, and work older than 5 seconds, answering
// CodeTimeout if it answers at all. A link with no frame in either
// direction for 2 minutes and nothing outstanding SHOULD be closed (a TLS
// close_notify first); the next request dials again.
//
// When a link breaks, a request outstanding on it may or may not have
// been acted on. Every request of version 1 is safe to repeat: lookups,
// Get and Ping change nothing; Notify, Leave and Replicate converge; a
// repeated Put of the same seq is refused with CodeStale, which tells its
// sender that the first arrived. A requester MUST NOT retry a request
// refused with CodeRateLimited without waiting first, and SHOULD pick
// another node after CodeShuttingDown.
//
// # Limits
//
//   - Frames: at most MaxFrame (64 KiB) of Envelope.
//   - In flight: Hello.max_inflight and HelloAck.max_inflight say how
//     many of the other side's requests their sender handles at once on
//     the link (0 means 64). A requester MUST NOT have more outstanding
//     than that; a responder MAY refuse the excess with CodeRateLimited.
//   - Rate: a responder MAY limit the requests it accepts from one peer,
//     keyed by certificate name across all of that peer's links, and
//     refuse the excess with CodeRateLimited. The reference
//     implementation (overlay/tlsnet) accepts 200 per second with bursts
//     of 400.
//   - FindStep.count is 1 to 32.
//   - A presence record's payload is at most 2 KiB; a record over its
//     kind's limit is refused with CodeTooLarge.
//
// # Messages
//
// Ring (Chord; only ring members may send these):
//
//   - Ping → ok. Liveness: check-predecessor, and keepalive.
//   - FindStep{key, count} → FindStepResult{done, nodes}: one step of an
//     iterative lookup. If key lies in (answerer, its successor], done is
//     set and nodes are the answerer's successor list, which starts with
//     successor(key). Otherwise nodes are up to count nodes the answerer
//     knows that most closely precede key, closest first, each strictly
//     closer to key than the answerer. The requester asks the closest
//     node that answers next, so a lookup ends after O(log N) steps.
//   - Neighbours → NeighboursResult{predecessor, successors}: the
//     answerer's predecessor (unset if it has none) and successor list,
//     for stabilize.
//   - Notify{node} → ok: "I think I am your predecessor". node MUST be
//     the requester itself (else CodeForbidden). The receiver takes it as
//     predecessor if it has none or node lies in (predecessor, receiver).
//   - Leave{node, predecessor, successors} → ok: node (the requester)
//     leaves. A receiver whose predecessor is node takes predecessor in its
//     place; one whose successor is node splices successors into its
//     successor list.
//
// Directory (between ring members; a client may send Put, Get and Ping,
// and the node it is linked to carries its Put and Get out on the ring
// for it):
//
//   - Put{record, replica} → ok: store record. Its home is
//     successor(SHA-1(record.name)); a node that is not the home of a
//     non-replica Put refuses it with CodeNotResponsible. The home stores
//     it, passes it on to its next successors with replica set, which
//     store it without passing it on, and then answers. A record is
//     refused if its signature, certificate or shape is wrong
//     (CodeBadRecord), it has expired (CodeExpired), a record with this
//     or a newer seq is held (CodeStale), it is too large (CodeTooLarge),
//     its owner may not write it (CodeForbidden) or has too many
//     (CodeQuota).
//   - Get{kind, name} → GetResult{records}: the record the answerer holds
//     under kind and name, or none. A node asked by a client looks the
//     record up for it and answers CodeNotFound when no replica has it.
//   - Replicate{records} → ok: a batch of records handed over on leave or
//     repair of the replica sets; each is checked as for Put and kept if
//     newer than the one held, and the answer is ok even if some were
//     refused.
//
// Clients (ordinary peers) and super-peers:
//
//   - Attach{instance, receive} → AttachResult{accepted, redirect,
//     super_peers, keepalive_seconds}: a client (user certificate) asks
//     to be attached to the answering super-peer over this link. instance
//     (16 random bytes) names the client program, so one user may be
//     attached from several; an attachment of the same user and instance
//     replaces the older one, whose link is closed. receive asks for
//     Deliver requests on this link. A super-peer at capacity answers
//     accepted = false with redirect: other super-peers to try.
//     super_peers (up to 32) refresh the client's host cache. The client
//     pings every keepalive_seconds; the attachment ends with the link,
//     which the super-peer closes after three intervals of silence.
//   - Search{name, count, proxy} → SearchResult{record, nodes,
//     responsible, cached}, from a client or a ring member, to any
//     super-peer. The answerer returns the presence record of name if it
//     holds one (store or cache, cached set for the latter). Else, with
//     proxy, it looks the record up on the ring itself (Get), caches what
//     it finds until the record's expiry, and answers the record or
//     responsible = true when the ring holds none. Else, if the answerer
//     is successor(SHA-1(name)), it answers responsible = true: an
//     authoritative "no such user online". Else, with count > 0 (at most
//     32), nodes are up to count super-peers nearest the key: successor(key)
//     and the nodes after it, which hold the record and its replicas; with
//     count = 0 nothing. A client searches in rounds: count 4 to its own
//     super-peer, the nodes answered asked in parallel with count 0; if
//     none answers a record or responsible, again with 8, then 16; if it
//     reaches none of a round's nodes, it asks its own with proxy.
//     Searches are limited per certificate name (CodeRateLimited).
//   - Relay{signal, via} → ok: deliver a Signal to its recipient, who is
//     attached to the super-peer at via (from their presence record). A
//     client sends it to its own super-peer, which must be attached to it
//     and checks that signal.from is the client's certificate name (else
//     CodeForbidden) and the signature and time (CodeBadRecord,
//     CodeExpired, CodeReplayed); if via is another node it forwards the
//     Relay there, and answers CodeUnreachable if that node cannot be
//     reached. A ring member may only send a Relay whose via is the
//     receiver (signals cross at most two super-peers). The super-peer at
//     via sends Deliver to every endpoint of signal.to attached with
//     receive, and answers ok as soon as one accepted it, CodeOffline if
//     none is attached, or the endpoint's refusal.
//   - Deliver{signal} → ok: from a super-peer to an attached client,
//     over the client's link. The client checks the signal (package
//     overlay/signal: certificate, signer = from, to = itself, signature,
//     timestamp within 2 minutes, nonce not seen before) and answers ok
//     once it has taken it, or the refusal (CodeReplayed for a second
//     copy), so a signal resent after a lost answer is acted on once.
//   - Peers{count} → PeersResult{nodes}: up to count (at most 32) ring
//     members the answerer knows, for host caches.
//   - NatInfo{} → NatInfoResult{stun, stun_other, ice_servers, expires,
//     observed}, from a client to any super-peer: where the node answers
//     STUN (package nat; with stun_other, its RFC 5780 OTHER-ADDRESS) and
//     the address the request came from. Only a client attached to the
//     answerer gets ice_servers: TURN URLs with REST credentials made
//     with this node's own secret (good for new allocations until
//     expires), plus servers the network file names with credentials
//     from the operator's shared secret.
//
// A Presence payload (message Presence in wire.proto) names the super-peer
// the user is attached to and their status; an offline record names none.
// It never holds the user's own address. Signal.signature is over
// SignedBytes(signal) as defined in package overlay/signal.
//
// A Record is owned by the user its certificate names (for presence,
// record.name is that user's normalized name), and only the owner can
// change it. Record.signature is over SignedBytes(record) as defined in
// package overlay/dir, made with the certificate's key. A node keeps
// the record with the highest seq and drops it after expires (Unix
// seconds). The rules for records (their shape, limits, lifetimes and
// quotas) and for the replica sets are in package overlay/dir.
//
// # Error codes
//
// Error.code is one of these, with a one-line message of at most 200
// bytes. A code a receiver does not know is treated as CodeInternal.
//
//	code  name               meaning
//	   1  CodeInternal       the other side failed
//	   2  CodeBadRequest     malformed or unexpected message
//	   3  CodeVersion        protocol version not spoken
//	   4  CodeBadID          a node ID that is not SHA-1 of its address
//	   5  CodeForbidden      the peer may not do this
//	   6  CodeRateLimited    too many requests from this peer
//	   7  CodeNotFound       no such record
//	   8  CodeBadRecord      signature, certificate or shape refused
//	   9  CodeExpired        record or certificate expired
//	  10  CodeStale          a record with this or a newer seq is held
//	  11  CodeQuota          too many records for this owner
//	  12  CodeTooLarge       frame or record over its limit
//	  13  CodeTimeout        the other side gave up waiting
//	  14  CodeNotResponsible the key is not this node's
//	  15  CodeShuttingDown   the node is leaving
//	  16  CodeOffline        the user is not online (not attached there)
//	  17  CodeUnreachable    the user's super-peer cannot be reached
//	  18  CodeReplayed       a signal seen before, or too old or new
//
// ErrorToWire and ErrorFromWire map them to this package's sentinel
// errors and back.
//
// # Flows
//
// Join: a new node N, holding a node certificate for its public address,
// links to a bootstrap node from the network file and looks up its own ID
// with FindStep, step by step, which gives its successor S and the nodes
// after it: N's successor list. N sends Notify to S, and S takes N as its
// predecessor; N's old predecessor learns of N at its next stabilize.
// The records N is now the home of reach it with Replicate when the
// nodes that held them repair their replica sets.
//
// Steady state: every node, periodically, stabilizes (Neighbours to its
// successor; if the successor's predecessor lies between the two it
// becomes the successor; then Notify to the successor), fixes fingers
// (FindStep for ID + 2^i), checks its predecessor (Ping; forgotten on
// failure), drops expired records and repairs the replica sets
// (Replicate). A successor that fails is dropped
// from the list and the next one takes its place. Clients re-Put their
// presence before it expires.
//
// Leave: a leaving node hands its records to its first successor that
// takes them, with Replicate, sends Leave to its successor and its predecessor, answers
// further requests with CodeShuttingDown, and closes its links. A node
// that vanishes without leaving is found out by failing calls and Pings;
// its records are still at its successors, which hold the replicas.
package wire
