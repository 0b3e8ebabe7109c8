package dir

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/login/username"
	"soitto/overlay/wire"
)

// FuzzVerify feeds arbitrary bytes, as a Record off the wire, to Verify
// and the Store: neither may panic, every refusal names a wire sentinel,
// and only the record signed here verifies.
func FuzzVerify(f *testing.F) {
	authority, roots := newAuthority(f)
	now := time.Now()
	alice := newUser(f, authority, "alice")
	valid := alice.record(f, 1, now.Add(30*time.Minute), `{"status":"online"}`)
	m := mail(f, "alice", "sealed", now.Add(24*time.Hour))
	tomb := alice.tombstone(f, m, now.Add(time.Hour))
	signed := []*wire.Record{valid, tomb}
	for _, r := range []*wire.Record{valid, m, tomb} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	sentinels := []error{wire.ErrBadRecord, wire.ErrTooLarge, wire.ErrExpired, wire.ErrForbidden}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r wire.Record
		if proto.Unmarshal(data, &r) != nil {
			return
		}
		_ = SignedBytes(&r)
		err := Verify(&r, roots, now, Limits{})
		if err == nil {
			c := cleanCopy(&r)
			signedHere := slices.ContainsFunc(signed, func(s *wire.Record) bool { return proto.Equal(c, s) })
			if !signedHere && !anonymousMail(c, now) {
				t.Fatalf("a record not signed here verifies: %v", &r)
			}
		} else if !slicesContainsIs(err, sentinels) {
			t.Fatalf("refusal %v names no sentinel", err)
		}
		s := NewStore(roots, Limits{})
		if serr := s.Put(&r, now); (serr == nil) != (err == nil) {
			t.Fatalf("Verify says %v, Store.Put %v", err, serr)
		}
	})
}

// anonymousMail is the rule for a mail that verifies with no signature,
// written out again: kind "mail", seq 1, no certificate or signature, a
// payload of 1 byte to 32 KiB, named "<normalized username>/" and the
// first 16 bytes of its SHA-256 in lowercase hex, expiring after now and
// at most 30 days and 5 minutes from now.
func anonymousMail(r *wire.Record, now time.Time) bool {
	recipient, id, ok := strings.Cut(r.Name, "/")
	sum := sha256.Sum256(r.Payload)
	n, err := username.Normalize(recipient)
	return ok && err == nil && n == recipient && id == hex.EncodeToString(sum[:16]) &&
		r.Kind == "mail" && r.Seq == 1 && len(r.Cert) == 0 && len(r.Signature) == 0 &&
		len(r.Payload) >= 1 && len(r.Payload) <= 32<<10 &&
		r.Expires > now.Unix() && r.Expires <= now.Add(30*24*time.Hour+5*time.Minute).Unix()
}

// FuzzMailHeaders feeds arbitrary bytes, as a GetResponse off the wire,
// to MailHeaders: it may not panic, refuses with ErrBadRecord, and what it
// returns is a listing of the mailbox asked for.
func FuzzMailHeaders(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	id := mailID([]byte("x"))
	good := &wire.GetResponse{Records: []*wire.Record{
		{Kind: KindMail, Name: "bob/" + id, Seq: 1, Expires: now.Unix() + 3600},
		{Kind: KindMail, Name: "bob/" + id, Seq: 2, Expires: now.Unix() + 60},
		{Kind: KindMail, Name: "bob/" + mailID([]byte("y")), Seq: 2, Expires: now.Unix() + 60},
	}}
	for _, r := range []*wire.GetResponse{good, {}} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var res wire.GetResponse
		if proto.Unmarshal(data, &res) != nil {
			return
		}
		hs, err := MailHeaders("bob", res.Records, now)
		if err != nil {
			if !errors.Is(err, wire.ErrBadRecord) {
				t.Fatalf("refusal %v is not %v", err, wire.ErrBadRecord)
			}
			return
		}
		if len(hs) > MaxList {
			t.Fatalf("%d headers, limit %d", len(hs), MaxList)
		}
		seen := map[string]bool{}
		for _, h := range hs {
			if h.Recipient != "bob" || !validID(h.ID) || h.Seq < MailSeq || h.Seq > TombstoneSeq || !h.Expires.After(now) || seen[h.ID] {
				t.Fatalf("header %+v", h)
			}
			seen[h.ID] = true
			if MailID(h.Record()) != h.ID {
				t.Fatalf("header %+v: its record has id %q", h, MailID(h.Record()))
			}
		}
	})
}

func slicesContainsIs(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
