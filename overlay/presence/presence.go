// Package presence is the presence record: where a user can be reached
// (the super-peer they are attached to, never their own address) and
// their status, signed by the user and stored on the ring under their
// name (record kind "presence", see overlay/dir).
package presence

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/wire"
)

// TTL is how long a published presence record lives unless refreshed.
const TTL = 10 * time.Minute

// MaxPayload is the largest presence payload a decoder accepts; the
// directory's limit for the kind is the same.
const MaxPayload = 2 << 10

// Status is what others see of a user.
type Status int

// Statuses. Invisible is never published: an invisible user's record says
// offline and names no super-peer. Hidden is not a user's choice but how
// a user who shows their status to contacts only publishes: the record
// says offline, as to anyone, and names the super-peer, so that contact
// requests and the contacts' own signals still reach them (the status
// itself goes to contacts in signed signals).
const (
	Offline Status = iota
	Online
	Away
	DND
	Invisible
	Hidden
)

var names = [...]string{Offline: "offline", Online: "online", Away: "away", DND: "dnd", Invisible: "invisible", Hidden: "hidden"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(names) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return names[s]
}

// ParseStatus reads a status as the command line and the profile write it.
func ParseStatus(s string) (Status, error) {
	for i, n := range names {
		if n == s && Status(i) != Hidden {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want online, away, dnd, invisible or offline)", s)
}

// Published is the status others see for s.
func (s Status) Published() Status {
	if s == Invisible || s == Hidden {
		return Offline
	}
	return s
}

func (s Status) toWire() wire.Status {
	switch s.Published() {
	case Online:
		return wire.Status_STATUS_ONLINE
	case Away:
		return wire.Status_STATUS_AWAY
	case DND:
		return wire.Status_STATUS_DND
	}
	return wire.Status_STATUS_OFFLINE
}

func fromWire(s wire.Status) (Status, error) {
	switch s {
	case wire.Status_STATUS_OFFLINE:
		return Offline, nil
	case wire.Status_STATUS_ONLINE:
		return Online, nil
	case wire.Status_STATUS_AWAY:
		return Away, nil
	case wire.Status_STATUS_DND:
		return DND, nil
	}
	return 0, fmt.Errorf("%w: unknown presence status %d", wire.ErrBadRecord, s)
}

// Info is a presence record, decoded and verified.
type Info struct {
	User      string
	Status    Status
	SuperPeer overlay.Node // zero when offline
	Seq       uint64
	Expires   time.Time
	// Cert is the user's certificate the record was signed with.
	Cert *x509.Certificate
}

// Online reports whether the user can be reached: a status other than
// offline and a super-peer to relay through.
func (i Info) Online() bool { return i.Status != Offline && !i.SuperPeer.IsZero() }

// Hidden reports a record that says offline but names a super-peer: the
// user is connected and shows their status to their contacts only.
func (i Info) Hidden() bool { return i.Status == Offline && !i.SuperPeer.IsZero() }

// Record builds and signs the presence record of the user of certDER.
// status Invisible and Offline publish "offline" with no super-peer;
// Hidden publishes "offline" with the super-peer.
func Record(user string, status Status, sp overlay.Node, seq uint64, expires time.Time, key *ecdsa.PrivateKey, certDER []byte) (*wire.Record, error) {
	p := &wire.Presence{Status: status.toWire()}
	if status.Published() != Offline || status == Hidden {
		if sp.IsZero() {
			return nil, errors.New("presence: an online record needs a super-peer")
		}
		p.SuperPeer = sp.ToWire()
	}
	payload, err := proto.Marshal(p)
	if err != nil {
		return nil, err
	}
	r := &wire.Record{Kind: dir.KindPresence, Name: user, Seq: seq, Expires: expires.Unix(), Payload: payload}
	if err := dir.Sign(r, key, certDER); err != nil {
		return nil, err
	}
	return r, nil
}

// Decode verifies r as a presence record at now (dir.Verify: certificate
// from roots, owner, signature, expiry) and decodes its payload.
func Decode(r *wire.Record, roots *x509.CertPool, now time.Time) (Info, error) {
	if err := dir.Verify(r, roots, now, dir.Limits{}); err != nil {
		return Info{}, err
	}
	if r.Kind != dir.KindPresence {
		return Info{}, wire.Errorf(wire.ErrBadRecord, "record of kind %q, want presence", r.Kind)
	}
	p, err := DecodePayload(r.Payload)
	if err != nil {
		return Info{}, err
	}
	info := Info{User: r.Name, Seq: r.Seq, Expires: time.Unix(r.Expires, 0)}
	if info.Status, err = fromWire(p.Status); err != nil {
		return Info{}, err
	}
	if info.SuperPeer, err = overlay.NodeFromWire(p.SuperPeer); err != nil {
		return Info{}, fmt.Errorf("%w: presence super-peer: %w", wire.ErrBadRecord, err)
	}
	if info.Status != Offline && info.SuperPeer.IsZero() {
		return Info{}, wire.Errorf(wire.ErrBadRecord, "presence of %q is %v but names no super-peer", r.Name, info.Status)
	}
	info.Cert, _ = x509.ParseCertificate(r.Cert) // dir.Verify parsed it
	return info, nil
}

// DecodePayload decodes a presence payload of at most MaxPayload bytes.
func DecodePayload(b []byte) (*wire.Presence, error) {
	if len(b) > MaxPayload {
		return nil, wire.Errorf(wire.ErrTooLarge, "presence payload of %d bytes, limit %d", len(b), MaxPayload)
	}
	p := new(wire.Presence)
	if err := proto.Unmarshal(b, p); err != nil {
		return nil, wire.Errorf(wire.ErrBadRecord, "presence payload: %v", err)
	}
	return p, nil
}
