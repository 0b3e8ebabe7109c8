// Package tlsnet is the overlay's Transport over TLS 1.3 on TCP: one
// mutually authenticated connection per peer, multiplexing requests in
// both directions. It exists so that the ring and directory code can call
// any super-peer by address while every peer is checked against the
// network's CA and against the address and ring ID it claims.
//
// The protocol it speaks — framing, the Hello handshake, request IDs,
// error codes, limits — is specified in package overlay/wire. This
// package adds the local policy: how long to wait, how many requests a
// peer may send, when to drop an idle link.
//
// Links. Call dials the address once and keeps the link; concurrent calls
// share it, matched by request ID. A node that accepts a link from
// another node also uses it for its own calls to that node, so two nodes
// normally share one connection. A link that breaks fails the calls
// waiting on it at once with ErrLinkClosed, and the next Call dials
// again. A link with nothing to do for Config.IdleTimeout is closed.
//
// Limits. A peer may have at most Config.MaxInflight requests being
// handled per link (advertised in the handshake; Call waits for a free
// slot rather than exceed the other side's) and Config.PeerRate requests
// per second across its links; beyond either it is answered
// wire.CodeRateLimited. Frames over wire.MaxFrame are refused before
// they are read, and close the link.
//
// Trust. The dialler verifies that the listener's certificate is a node
// certificate of the network's CA for exactly the address it dialled; the
// listener requires a client certificate from the same CA, and checks
// that a node's Hello names the address its certificate names and the ID
// derived from it. Clients (user certificates, no node in Hello) are
// accepted only with Config.AcceptClients.
package tlsnet
