// Package dir is the directory stored on the super-peer ring: signed
// records put and got by name, each kept by the node responsible for its
// key and copied to the nodes after it. It exists so that finding a user
// needs no central server, and so that no super-peer can forge or alter
// what a user published.
//
// # Records
//
// A record (wire.Record) is about one name and has a kind:
//
//	kind       "presence" or "mail" (a sealed offline message; see Mail)
//	name       what the record is about; for presence the normalized username,
//	           for mail "<recipient>/<id>"
//	seq        grows with every update by the owner
//	expires    Unix seconds; the record is dropped at that time
//	payload    kind-specific content
//	cert       the owner's X.509 user certificate, DER, issued by the network's CA
//	signature  ECDSA P-256 by the certificate's key, ASN.1 DER, over SHA-256 of
//	           the signed bytes below
//
// The owner of a record is the username in its certificate. For
// "presence" the owner must be the name itself, so only a user can write
// their own presence record. A mail (seq 1) has no certificate and no
// owner; its tombstone (seq 2) is owned by the recipient.
//
// # Signed bytes
//
// The signature covers a byte string built from the record's fields, not
// its protobuf encoding (which is not canonical). In order:
//
//	"soitto-record-v1"          16 ASCII bytes
//	0x00                        1 byte
//	len(kind)    kind           uint32 big-endian, then the UTF-8 bytes
//	len(name)    name           uint32 big-endian, then the UTF-8 bytes
//	len(payload) payload        uint32 big-endian, then the bytes
//	len(cert)    cert           uint32 big-endian, then the DER bytes
//	seq                         uint64 big-endian
//	expires                     int64 big-endian, two's complement
//
// There is no padding and nothing after expires. An empty field is its
// 4-byte zero length. The signature is ECDSA over SHA-256 of this string
// (as crypto/ecdsa.SignASN1 and ecdsa.VerifyASN1 compute it, and as
// X.509's ecdsa-with-SHA256 does). SignedBytes and Sign implement it.
//
// Example: kind "presence", name "alice", payload "hi", cert of the 3
// bytes 01 02 03, seq 7, expires 1700000000 gives
//
//	736f6974746f2d7265636f72642d763100   "soitto-record-v1" 00
//	00000008 70726573656e6365            "presence"
//	00000005 616c696365                  "alice"
//	00000002 6869                        "hi"
//	00000003 010203                      cert
//	0000000000000007                     seq
//	000000006553f100                     expires
//
// # Verification
//
// Every node checks a record before it stores it, and every reader before
// it believes it (Verify), in this order, refusing with the first failure:
//
//  1. Shape: kind non-empty, at most 32 bytes, UTF-8, and a kind this
//     version knows; name 1 to 161 bytes of UTF-8; payload at most the
//     kind's limit (presence: 2 KiB, mail: 32 KiB); for mail the rules of
//     Mail below; cert 1 byte to 4 KiB; signature 1 to 128 bytes (a
//     mail, seq 1, has neither, and steps 3 to 5 do not apply to it).
//     Too long is ErrTooLarge; anything else ErrBadRecord.
//  2. Expiry: expires > now (in Unix seconds), else ErrExpired; and
//     expires ≤ now + the kind's longest lifetime (presence: 1 h, mail:
//     30 days) + 5 minutes of clock skew, else ErrBadRecord.
//  3. Certificate: it parses, chains to the network's CA and is a user
//     certificate valid now (login/ca.VerifyUser), else ErrBadRecord. A
//     node certificate is not a user certificate.
//  4. Owner: for presence, the certificate's username equals name; for a
//     mail tombstone, it equals the recipient (the part of name before
//     "/"); else ErrForbidden.
//  5. Signature: verifies with the certificate's key over the signed
//     bytes, else ErrBadRecord.
//
// A reader also refuses a record whose kind and name are not the ones it
// asked for. Fields a sender added that the schema does not know are not
// signed, so a node stores and passes on only the known fields.
//
// # Storage
//
// A record lives on the ring under key SHA-1(name) (overlay.KeyOf), a
// mail under SHA-1(recipient), the key of the recipient's presence
// record (RingKey). Its primary is successor(key), the node whose arc (predecessor, self]
// holds the key; its replica set is the primary and the next r nodes
// after it (r = Config.Replicas, default 3: four copies in all on a ring
// of at least four nodes). Records of different kinds with one name share
// the key.
//
// A node holds at most one record per (kind, name): the one with the
// highest seq. A record with the same or a lower seq than the one held is
// refused with ErrStale, so an owner that updates a record, or refreshes
// it before it expires, signs it again with seq + 1. A node holds at most
// 16 records per owner (ErrQuota), mail not counted, and 100 000 in all
// (ErrQuota for a new key); for mail's quotas see Mail. A record is
// dropped when it expires, or when its certificate does, whichever is
// first.
//
// # Put
//
// Any node can put a record. It looks up successor(key) and sends it
// PutRequest{record, replica: false}. That node answers ErrNotResponsible
// unless the key is in its arc; the putter then looks up again (3 times
// at most). Otherwise it verifies and stores the record, sends
// PutRequest{record, replica: true} to its first r successors in
// parallel (best effort, 5 s each), and then answers Ok. A node stores a
// replica put without the responsibility check and never forwards it;
// it takes replica puts and Replicate requests only from ring members
// (ErrForbidden for a client).
//
// If the primary cannot be reached, the putter tries the rest of the
// replica set in order, first as a primary put and, when a node answers
// ErrNotResponsible because it has not yet noticed the failure, as a
// replica put. Errors that refuse the record itself (ErrBadRecord,
// ErrExpired, ErrStale, ErrQuota, ErrTooLarge, ErrForbidden,
// ErrBadRequest) end the put at once.
//
// # Get
//
// A node that wants a record looks up the key's replica set and sends
// GetRequest{kind, name} to the primary. The answer is a GetResponse with
// the record, or with no records when the node holds none. If the primary
// fails, holds nothing, or answers with a record that does not verify,
// the reader asks the rest of the replica set in parallel and takes the
// verified record with the highest seq. For a mail it asks the rest of
// the set even when the primary answered, so that a tombstone anywhere
// in the set wins over a stale mail. It reports ErrNotFound when a node
// answered that it holds nothing and none had a record.
//
// A GetRequest of kind "mail" whose name has no "/" is a listing of that
// recipient's mailbox instead: see Mail.
//
// # Repair
//
// Each node runs a repair round every 10 s (Config.RepairInterval), and
// half a second after the ring reports a change of predecessor or
// successors or a Replicate request brought it records it is primary
// for. A round:
//
//   - drops expired records;
//   - for each record it is primary for, sends it with ReplicateRequest to
//     each node of its replica set not known to hold that seq;
//   - for each record it holds and is not primary for, looks up the key
//     (one lookup per arc of held keys) and sends the record to the
//     primary if the primary is not known to hold it: a node that joined
//     in front of a record's old primary receives its records this way;
//   - a record it holds outside its replica set is handed to the primary
//     as above and dropped after a grace period (3 rounds), once the
//     primary took it, in case the ring moves back.
//
// While a node does not know its predecessor (and is not alone) it only
// drops expired records: it cannot tell which keys are its own.
//
// A node knows another holds a record's seq when it sent it there, or got
// it from there, and forgets it when that node leaves the record's replica
// set, so a node that leaves and comes back gets the records again. A
// node that restarts so quickly that no ring change is seen gets them
// back when their owners refresh them.
//
// A node receiving ReplicateRequest verifies every record and keeps those
// newer than what it holds; it answers Ok even when some were refused.
// Each ReplicateRequest fits, envelope included, in one 64 KiB frame;
// more records go in more requests.
//
// # Mail
//
// A mail is a sealed message left in the ring for a user who may be
// offline, held by the recipient key's replica set until the recipient
// collects it or it expires. The payload is opaque: the app seals it to
// the recipient's key, and nothing in the record names the sender, so
// the nodes learn neither the text nor who sent it. A record of kind
// "mail" has one of two forms, by seq:
//
//	seq 1, the mail        anonymous: cert and signature empty; payload 1
//	                       byte to 32 KiB, the sealed message; name
//	                       "<recipient>/<id>", recipient a normalized
//	                       username (login/username), id the first 16
//	                       bytes of SHA-256(payload) in lowercase hex
//	                       (32 digits), so no one can swap the payload
//	                       under an id
//	seq 2, the tombstone   "collected": empty payload, signed as any record
//	                       by the recipient's certificate
//
// Both expire at most 30 days (+ 5 minutes) after now. Any other seq, a
// mail with a certificate or signature, a tombstone with a payload, a
// name not of that form, or an id that is not the payload's hash is
// refused with ErrBadRecord; a tombstone signed by anyone but the
// recipient with ErrForbidden. As a node keeps the highest seq, a
// tombstone replaces the mail on every node it reaches, repair spreads
// it, and a node that still holds the mail (it was down) cannot bring
// it back: its seq is lower. A tombstone, like any record, is dropped
// when its certificate expires (user certificates last a day), which may
// be long before the mail would have; by then it has replaced the mail
// on every node that was up.
//
// Flow:
//
//	Leave: NewMail(recipient, sealed, expires); Put it (a client sends
//	       PutRequest to its super-peer). The same sealed bytes again
//	       are the same mail: ErrStale.
//	List:  GetRequest{kind "mail", name recipient}. A node answers with
//	       header-only records of the mails and tombstones it holds for
//	       the recipient (kind, name, seq, expires; no payload, cert or
//	       signature), at most 200 (MaxList), mails first, each group in
//	       order of name; a full mailbox would not fit one frame
//	       otherwise. List asks every node of the replica set and unites
//	       the answers, the highest seq of each name winning; a client's
//	       super-peer does that for it. A listing that holds anything
//	       but headers of that mailbox is refused whole (ErrBadRecord).
//	Fetch: Get of kind "mail", name "<recipient>/<id>": an ordinary,
//	       verified record.
//	Collect: the recipient puts NewMailTombstone(recipient, id, ...),
//	       with the mail's own expiry.
//	Sender: a Get of the name shows the tombstone once it is collected.
//
// Quota, per node: a recipient may have at most 100 mails waiting
// (Limits.MaxMailPerRecipient) and 1 MiB of their payloads
// (MaxMailBytes); beyond either a new mail is refused with ErrQuota,
// "mailbox of "bob" is full (...)". A node holds at most half of
// MaxRecords in mail records (MaxMailRecords) and 256 MiB of mail
// payload (MaxMailStoreBytes), so anonymous mail cannot crowd out
// presence records or exhaust memory. Tombstones count toward
// MaxRecords and MaxMailRecords only (only the recipient can make one);
// a tombstone releases what its mail held.
//
// Privacy: anyone can list anyone's mailbox and fetch its mails: the
// ids, sizes and expiry times of the mails, and which were collected,
// are public. The contents (sealed) and the senders are not in the
// records, so the nodes that hold them learn neither. The super-peer a
// client puts a mail through does see who put it: the client's TLS
// certificate names the user, and the mail's name the recipient.
//
// # Leaving
//
// A node that leaves gracefully sends all its records to its first
// successor that takes them (HandOff) before it leaves the ring. The
// successor becomes primary for the leaving node's arc and its repair
// restores the replica sets.
package dir
