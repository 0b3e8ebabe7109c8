package dir

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"soitto/login/ca"
	"soitto/login/username"
	"soitto/overlay"
	"soitto/overlay/wire"
)

// The two forms of a mail record, by seq.
const (
	// MailSeq is a mail waiting: anonymous, its payload the sealed
	// message.
	MailSeq = 1
	// TombstoneSeq marks a mail collected: no payload, signed by the
	// recipient. It replaces the mail wherever it arrives.
	TombstoneSeq = 2
)

const (
	// MaxMailTTL is how far past now a mail's or a tombstone's expiry may
	// lie (plus 5 minutes of clock skew).
	MaxMailTTL = 30 * 24 * time.Hour
	// MaxList is the most headers one mailbox listing carries: a full
	// listing fits in one frame with room to spare.
	MaxList = 200
	// mailIDLen is the length of a mail's id: 16 bytes of SHA-256, in
	// lowercase hex.
	mailIDLen = 32
)

// IsListing reports whether a GetRequest for kind and name asks for a
// mailbox's listing (kind "mail", name a bare recipient) rather than for
// one record.
func IsListing(kind, name string) bool {
	return kind == KindMail && !strings.Contains(name, "/")
}

// splitMail splits a mail's name into recipient and id; ok is false
// unless it has the form "<recipient>/<32 lowercase hex digits>" with a
// normalized username as recipient.
func splitMail(name string) (recipient, id string, ok bool) {
	recipient, id, found := strings.Cut(name, "/")
	if !found || !validID(id) || checkRecipient(recipient) != nil {
		return "", "", false
	}
	return recipient, id, true
}

func validID(id string) bool {
	if len(id) != mailIDLen {
		return false
	}
	for i := range len(id) {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkRecipient accepts only a normalized username: mail for a name no
// user can have would never be collected.
func checkRecipient(recipient string) error {
	n, err := username.Normalize(recipient)
	if err != nil {
		return err
	}
	if n != recipient {
		return fmt.Errorf("recipient %q is not normalized (%q)", recipient, n)
	}
	return nil
}

// mailID is the id of a mail with payload: the first 16 bytes of its
// SHA-256, in lowercase hex.
func mailID(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:mailIDLen/2])
}

// checkMail checks what only mail records must meet; checkShape has
// checked the sizes of every field but cert and signature.
func checkMail(r *wire.Record) error {
	_, id, ok := splitMail(r.Name)
	if !ok {
		return wire.Errorf(wire.ErrBadRecord, "mail name %q is not <normalized username>/<32 lowercase hex digits>", r.Name)
	}
	switch r.Seq {
	case MailSeq:
		switch {
		case len(r.Cert) != 0 || len(r.Signature) != 0:
			return wire.Errorf(wire.ErrBadRecord, "mail %q: a mail (seq 1) is anonymous, it has no certificate or signature", r.Name)
		case len(r.Payload) == 0:
			return wire.Errorf(wire.ErrBadRecord, "mail %q: no payload", r.Name)
		}
		if want := mailID(r.Payload); id != want {
			return wire.Errorf(wire.ErrBadRecord, "mail %q: id is not its payload's hash %s", r.Name, want)
		}
	case TombstoneSeq:
		if len(r.Payload) != 0 {
			return wire.Errorf(wire.ErrBadRecord, "mail %q: a tombstone (seq 2) has no payload, got %d bytes", r.Name, len(r.Payload))
		}
	default:
		return wire.Errorf(wire.ErrBadRecord, "mail %q: seq %d, want 1 (mail) or 2 (tombstone)", r.Name, r.Seq)
	}
	return nil
}

// NewMail returns the mail record that leaves sealed for recipient (a
// normalized username) until expires, at most MaxMailTTL from now.
// sealed is the message as the app sealed it to the recipient's key,
// 1 byte to 32 KiB; the nodes learn neither its text nor its sender. The
// record's name is recipient + "/" + its id, a hash of sealed (MailID),
// so the same sealed bytes are the same mail: putting it again is
// refused with ErrStale.
func NewMail(recipient string, sealed []byte, expires time.Time) (*wire.Record, error) {
	if err := checkRecipient(recipient); err != nil {
		return nil, fmt.Errorf("%w: mail: %w", wire.ErrBadRecord, err)
	}
	switch {
	case len(sealed) == 0:
		return nil, wire.Errorf(wire.ErrBadRecord, "mail: empty payload")
	case len(sealed) > maxPayloadCap:
		return nil, wire.Errorf(wire.ErrTooLarge, "mail: payload of %d bytes, limit %d", len(sealed), maxPayloadCap)
	}
	return &wire.Record{
		Kind:    KindMail,
		Name:    recipient + "/" + mailID(sealed),
		Seq:     MailSeq,
		Expires: expires.Unix(),
		Payload: bytes.Clone(sealed),
	}, nil
}

// MailID is the id part of a mail record's (or a tombstone's, or a
// header record's) name, or "" if rec is not of kind mail with a
// well-formed name.
func MailID(rec *wire.Record) string {
	if rec.GetKind() != KindMail {
		return ""
	}
	_, id, ok := splitMail(rec.GetName())
	if !ok {
		return ""
	}
	return id
}

// NewMailTombstone returns the tombstone that marks the mail id of
// recipient collected, signed with key and its certificate, which must
// be recipient's. Putting it replaces the mail on every replica; its
// sender sees it with a Get. Give it the mail's own expiry, so that it
// outlives every copy of the mail; it is dropped sooner if the
// certificate expires first.
func NewMailTombstone(recipient, id string, expires time.Time, key *ecdsa.PrivateKey, certDER []byte) (*wire.Record, error) {
	if err := checkRecipient(recipient); err != nil {
		return nil, fmt.Errorf("%w: tombstone: %w", wire.ErrBadRecord, err)
	}
	if !validID(id) {
		return nil, wire.Errorf(wire.ErrBadRecord, "tombstone: id %q is not 32 lowercase hex digits", id)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("%w: tombstone: certificate: %v", wire.ErrBadRecord, err)
	}
	if owner, err := ca.UserName(cert); err != nil || owner != recipient {
		return nil, wire.Errorf(wire.ErrForbidden, "tombstone for %q: the certificate is not the recipient's", recipient)
	}
	r := &wire.Record{Kind: KindMail, Name: recipient + "/" + id, Seq: TombstoneSeq, Expires: expires.Unix()}
	if err := Sign(r, key, certDER); err != nil {
		return nil, err
	}
	return r, nil
}

// MailHeader is what a mailbox listing tells of one mail: its name, seq
// and expiry, not its content. Anyone can list a mailbox.
type MailHeader struct {
	Recipient string
	ID        string // 32 lowercase hex digits
	// Seq is MailSeq for a mail waiting, TombstoneSeq for one collected.
	Seq     uint64
	Expires time.Time // to the second
}

// Name is the mail record's name, Recipient + "/" + ID.
func (h MailHeader) Name() string { return h.Recipient + "/" + h.ID }

// Collected reports whether the header is a tombstone's.
func (h MailHeader) Collected() bool { return h.Seq == TombstoneSeq }

// Record is the header-only record a listing answers with: kind, name,
// seq and expiry, nothing else.
func (h MailHeader) Record() *wire.Record {
	return &wire.Record{Kind: KindMail, Name: h.Name(), Seq: h.Seq, Expires: h.Expires.Unix()}
}

// MailHeaders reads the records a node answered a listing of
// recipient's mailbox with. Headers that expired by now are left out,
// and of two for one name the higher seq is kept. A record that is not a
// header of that mailbox (wrong kind or recipient, malformed id, seq
// neither 1 nor 2, or with a payload, certificate or signature) or more
// than MaxList of them refuse the whole answer with ErrBadRecord.
func MailHeaders(recipient string, recs []*wire.Record, now time.Time) ([]MailHeader, error) {
	if len(recs) > MaxList {
		return nil, wire.Errorf(wire.ErrBadRecord, "listing of %q: %d headers, limit %d", recipient, len(recs), MaxList)
	}
	out := make([]MailHeader, 0, len(recs))
	for _, r := range recs {
		rcpt, id, ok := splitMail(r.GetName())
		switch {
		case r.GetKind() != KindMail || !ok || rcpt != recipient:
			return nil, wire.Errorf(wire.ErrBadRecord, "listing of %q holds %s/%q", recipient, r.GetKind(), r.GetName())
		case r.GetSeq() != MailSeq && r.GetSeq() != TombstoneSeq:
			return nil, wire.Errorf(wire.ErrBadRecord, "listing of %q: %q has seq %d", recipient, r.GetName(), r.GetSeq())
		case len(r.GetPayload()) != 0 || len(r.GetCert()) != 0 || len(r.GetSignature()) != 0:
			return nil, wire.Errorf(wire.ErrBadRecord, "listing of %q: %q is more than a header", recipient, r.GetName())
		case r.GetExpires() <= now.Unix():
			continue
		}
		out = append(out, MailHeader{Recipient: rcpt, ID: id, Seq: r.GetSeq(), Expires: time.Unix(r.GetExpires(), 0)})
	}
	return mergeHeaders(out), nil
}

// mergeHeaders keeps, per name, the header with the highest seq, and
// returns at most MaxList of them: mails waiting first, then tombstones,
// each in order of name.
func mergeHeaders(hs []MailHeader) []MailHeader {
	best := make(map[string]MailHeader, len(hs))
	for _, h := range hs {
		if b, ok := best[h.ID]; !ok || h.Seq > b.Seq || h.Seq == b.Seq && h.Expires.After(b.Expires) {
			best[h.ID] = h
		}
	}
	out := make([]MailHeader, 0, len(best))
	for _, h := range best {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b MailHeader) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), strings.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), MaxList)]
}

// List lists recipient's mailbox: the mails waiting for recipient and
// the tombstones of those collected, without their contents. It asks
// every node of the recipient key's replica set in parallel and unites
// their answers (the highest seq of each name wins), at most MaxList
// headers, mails first. It fails only if no node answered. Each mail is
// then fetched with Get(ctx, KindMail, header.Name()).
func (d *Directory) List(ctx context.Context, recipient string) ([]MailHeader, error) {
	if err := checkRecipient(recipient); err != nil {
		return nil, fmt.Errorf("%w: list: %w", wire.ErrBadRequest, err)
	}
	nodes, err := d.candidates(ctx, overlay.KeyOf(recipient))
	if err != nil {
		return nil, fmt.Errorf("dir: list mail of %q: %w", recipient, err)
	}
	lists := make([][]MailHeader, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { lists[i], errs[i] = d.listFrom(ctx, n, recipient) })
	}
	wg.Wait()
	var all []MailHeader
	answered := false
	for i := range nodes {
		if errs[i] == nil {
			answered = true
			all = append(all, lists[i]...)
		}
	}
	if !answered {
		return nil, fmt.Errorf("dir: list mail of %q: %w", recipient, errors.Join(errs...))
	}
	return mergeHeaders(all), nil
}

// listFrom asks n for its listing of recipient's mailbox.
func (d *Directory) listFrom(ctx context.Context, n overlay.Node, recipient string) ([]MailHeader, error) {
	resp, err := d.call(ctx, n, &wire.Envelope{Body: &wire.Envelope_Get{Get: &wire.GetRequest{Kind: KindMail, Name: recipient}}})
	if err != nil {
		return nil, err
	}
	res, ok := resp.GetBody().(*wire.Envelope_GetResult)
	if !ok {
		return nil, wire.Errorf(wire.ErrBadRequest, "node %s answered a listing with %T", n.Addr, resp.GetBody())
	}
	hs, err := MailHeaders(recipient, res.GetResult.GetRecords(), d.cfg.Now())
	if err != nil {
		d.log.Warn("a node answered a listing with bad headers", "node", n.String(), "err", err)
		return nil, fmt.Errorf("node %s answered: %w", n.Addr, err)
	}
	return hs, nil
}
