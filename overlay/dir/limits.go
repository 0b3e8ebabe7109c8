package dir

import (
	"fmt"
	"time"
)

// KindPresence is the kind of a user's presence record: where the user is
// attached and their status. Its name is the normalized username, and only
// that user may sign it.
const KindPresence = "presence"

// KindMail is the kind of a sealed message left for a user who may be
// offline. Its name is "<recipient>/<id>"; see mail.go and doc.go.
const KindMail = "mail"

// Size limits every record must meet, whatever its kind.
const (
	MaxKind      = 32      // bytes of Record.kind
	MaxName      = 161     // bytes of Record.name: a username is up to 32 runes of up to 4 bytes, and a mail's name adds "/" and 32 hex digits
	MaxCert      = 4 << 10 // bytes of Record.cert (DER)
	MaxSignature = 128     // bytes of Record.signature (ASN.1 ECDSA P-256 is at most 72)
)

// Defaults for the zero fields of Limits.
const (
	DefaultMaxPerOwner         = 16
	DefaultMaxRecords          = 100_000
	DefaultMaxMailPerRecipient = 100
	DefaultMaxMailBytes        = 1 << 20
	DefaultMaxMailStoreBytes   = 256 << 20
)

// maxPayloadCap is the largest Limits.MaxPayload New accepts: a record at
// every limit must still fit, with room to spare, in one 64 KiB frame.
const maxPayloadCap = 32 << 10

// clockSkew is how much further than MaxTTL a record's expiry may lie,
// so that a verifier whose clock is a little behind the signer's does not
// refuse a record published with the whole TTL.
const clockSkew = 5 * time.Minute

// kindRule is what a kind of record allows.
type kindRule struct {
	maxPayload int           // default Limits.MaxPayload
	maxTTL     time.Duration // default Limits.MaxTTL
	// ownerIsName: the certificate's username must equal the record's
	// name, so only the owner can change the record.
	ownerIsName bool
	// mail: the rules of KindMail apply (checkMail): an anonymous seq 1
	// and a tombstone, seq 2, signed by the recipient.
	mail bool
}

// kinds is every kind this version stores; a record of another kind is
// refused with ErrBadRecord.
var kinds = map[string]kindRule{
	KindPresence: {maxPayload: 2 << 10, maxTTL: time.Hour, ownerIsName: true},
	KindMail:     {maxPayload: maxPayloadCap, maxTTL: MaxMailTTL, mail: true},
}

// Limits bound what a node accepts and holds.
type Limits struct {
	// MaxPayload is the largest payload, in bytes, of a record of any
	// kind. If zero, the kind's own limit: 2 KiB for presence, 32 KiB
	// for mail.
	MaxPayload int
	// MaxTTL is how far past now a record's expiry may lie (plus 5
	// minutes for clock skew). If zero, the kind's own limit: 1 h for
	// presence, 30 days for mail.
	MaxTTL time.Duration
	// MaxPerOwner is how many records one certificate subject may have
	// on a node. Mail records do not count. If zero,
	// DefaultMaxPerOwner.
	MaxPerOwner int
	// MaxRecords is how many records a node holds in all, primary and
	// replica. If zero, DefaultMaxRecords.
	MaxRecords int
	// MaxMailPerRecipient is how many mails (not tombstones) one
	// recipient may have waiting on a node. If zero,
	// DefaultMaxMailPerRecipient.
	MaxMailPerRecipient int
	// MaxMailBytes is how many payload bytes of mail one recipient may
	// have waiting on a node. If zero, DefaultMaxMailBytes.
	MaxMailBytes int
	// MaxMailRecords is how many mail records, mails and tombstones, a
	// node holds in all, so that anonymous mail cannot crowd out
	// presence records. If zero, half of MaxRecords (or of its
	// default).
	MaxMailRecords int
	// MaxMailStoreBytes is how many payload bytes of mail a node holds
	// in all. If zero, DefaultMaxMailStoreBytes.
	MaxMailStoreBytes int
}

func (l Limits) validate() error {
	switch {
	case l.MaxPayload < 0 || l.MaxPayload > maxPayloadCap:
		return fmt.Errorf("dir: Limits.MaxPayload %d not in 0..%d", l.MaxPayload, maxPayloadCap)
	case l.MaxTTL < 0:
		return fmt.Errorf("dir: Limits.MaxTTL %v is negative", l.MaxTTL)
	case l.MaxPerOwner < 0:
		return fmt.Errorf("dir: Limits.MaxPerOwner %d is negative", l.MaxPerOwner)
	case l.MaxRecords < 0:
		return fmt.Errorf("dir: Limits.MaxRecords %d is negative", l.MaxRecords)
	case l.MaxMailPerRecipient < 0 || l.MaxMailBytes < 0 || l.MaxMailRecords < 0 || l.MaxMailStoreBytes < 0:
		return fmt.Errorf("dir: a Limits.MaxMail* field is negative: %+v", l)
	}
	return nil
}

func (l Limits) payload(k kindRule) int {
	if l.MaxPayload > 0 {
		return l.MaxPayload
	}
	return k.maxPayload
}

func (l Limits) ttl(k kindRule) time.Duration {
	if l.MaxTTL > 0 {
		return l.MaxTTL
	}
	return k.maxTTL
}

func (l Limits) perOwner() int {
	if l.MaxPerOwner > 0 {
		return l.MaxPerOwner
	}
	return DefaultMaxPerOwner
}

func (l Limits) records() int {
	if l.MaxRecords > 0 {
		return l.MaxRecords
	}
	return DefaultMaxRecords
}

func (l Limits) mailPerRecipient() int {
	if l.MaxMailPerRecipient > 0 {
		return l.MaxMailPerRecipient
	}
	return DefaultMaxMailPerRecipient
}

func (l Limits) mailBytes() int {
	if l.MaxMailBytes > 0 {
		return l.MaxMailBytes
	}
	return DefaultMaxMailBytes
}

func (l Limits) mailRecords() int {
	if l.MaxMailRecords > 0 {
		return l.MaxMailRecords
	}
	return max(1, l.records()/2)
}

func (l Limits) mailStoreBytes() int {
	if l.MaxMailStoreBytes > 0 {
		return l.MaxMailStoreBytes
	}
	return DefaultMaxMailStoreBytes
}
