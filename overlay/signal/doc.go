// Package signal signs and verifies the messages one user sends another
// through the super-peers (wire.Signal): contact requests, call offers and
// answers, ICE candidates. The sender signs them so that no relay can
// forge, alter, redirect or replay one, and the receiver accepts each
// signal once.
//
// # Signals
//
// A signal (wire.Signal) has these fields:
//
//	from          the sender's normalized username
//	to            the recipient's normalized username
//	timestamp_ms  Unix milliseconds when the sender signed it
//	nonce         16 random bytes, fresh for every signal
//	kind          what the payload is: "ping", "contact-request", "offer", ...
//	payload       kind-specific content, at most 16 KiB
//	cert          the sender's X.509 user certificate, DER, issued by the network's CA
//	signature     ECDSA P-256 by the certificate's key, ASN.1 DER, over SHA-256
//	              of the signed bytes below
//
// The meaning of kind and payload is up to the packages that send them;
// this package checks only their size.
//
// # Signed bytes
//
// The signature covers a byte string built from the fields, not their
// protobuf encoding (which is not canonical). In order:
//
//	"soitto-signal-v1"          16 ASCII bytes
//	0x00                        1 byte
//	len(from)    from           uint32 big-endian, then the UTF-8 bytes
//	len(to)      to             uint32 big-endian, then the UTF-8 bytes
//	len(kind)    kind           uint32 big-endian, then the UTF-8 bytes
//	len(payload) payload        uint32 big-endian, then the bytes
//	len(cert)    cert           uint32 big-endian, then the DER bytes
//	len(nonce)   nonce          uint32 big-endian, then the bytes
//	timestamp_ms                int64 big-endian, two's complement
//
// There is no padding and nothing after timestamp_ms. An empty field is
// its 4-byte zero length. The prefix differs from a directory record's
// ("soitto-record-v1", package overlay/dir), so a signature over one can
// never pass as a signature over the other. The signature is ECDSA over
// SHA-256 of this string (as crypto/ecdsa.SignASN1 and ecdsa.VerifyASN1
// compute it, and as X.509's ecdsa-with-SHA256 does). SignedBytes and New
// implement it.
//
// Example: from "alice", to "bob", kind "ping", payload "hi", cert of the
// 3 bytes 01 02 03, nonce 00 01 … 0f, timestamp_ms 1700000000000 gives
//
//	736f6974746f2d7369676e616c2d763100   "soitto-signal-v1" 00
//	00000005 616c696365                  "alice"
//	00000003 626f62                      "bob"
//	00000004 70696e67                    "ping"
//	00000002 6869                        "hi"
//	00000003 010203                      cert
//	00000010 000102030405060708090a0b0c0d0e0f  nonce
//	0000018bcfe56800                     timestamp_ms
//
// # Sending
//
// The sender sets from to the username of its certificate, to, kind and
// payload, timestamp_ms to its clock, and nonce to 16 bytes from a
// cryptographic random source; then it signs (New). It never reuses a
// nonce. It sends the signal in a RelayRequest to its super-peer, which
// forwards it to the recipient's, which hands it over in a DeliverRequest
// (package wire). Relays MAY run the checks below, except the recipient's
// own, to drop forgeries early; they pass on only the known fields
// (Clean), since fields the schema does not know are not signed.
//
// # Verification
//
// A receiver checks, in this order, and refuses the signal with the
// first failure (Check does 1 to 3, a Verifier all of them):
//
//  1. Shape: from and to 1 to 128 bytes of UTF-8; kind 1 to 32 bytes of
//     UTF-8; payload at most 16 KiB; nonce exactly 16 bytes; cert 1 byte
//     to 4 KiB; signature 1 to 128 bytes. Too long is ErrTooLarge;
//     anything else ErrBadRecord.
//  2. Time: timestamp_ms within 2 minutes (MaxSkew) of the receiver's
//     clock, either way, compared in milliseconds; else ErrReplayed.
//  3. Sender: the certificate parses, chains to the network's CA and is a
//     user certificate valid now (login/ca.VerifyUser): ErrExpired if it
//     is outside its validity period, else ErrBadRecord; it names from,
//     else ErrForbidden; and the signature verifies with its key over the
//     signed bytes, else ErrBadRecord.
//  4. Recipient: to is the receiver's own username, else ErrForbidden.
//  5. Once: the receiver has not accepted a signal with the same from and
//     nonce before, else ErrReplayed.
//
// The Verifier does 4 before 3, and looks for a replay also before 3 so
// that a flood of replays costs no signature checks; the outcome is the
// same but for which error a signal failing several checks gets.
//
// A receiver remembers (from, nonce) for at least MaxSkew past
// timestamp_ms (this package: 5 minutes, 2*MaxSkew + 1 minute, so a clock
// stepping back a little does not matter), and at most 100,000 pairs
// (MaxRemembered). When it forgets a pair, on time or early because it
// is full, it refuses from then on every signal whose timestamp_ms is
// not greater than that pair's, with ErrReplayed. So a signal is accepted
// at most once, whatever the receiver forgets. Replay protection does not
// rest on the signature bytes, which ECDSA lets anyone alter without
// invalidating them.
//
// Every error is one line and wraps the wire sentinel named above, so
// that wire.ErrorToWire sends its code back to the relay and the sender.
package signal
