package dir

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"soitto/login/ca"
	"soitto/overlay/wire"
)

func TestSignedBytesExample(t *testing.T) {
	// The example in doc.go.
	r := &wire.Record{Kind: "presence", Name: "alice", Payload: []byte("hi"), Cert: []byte{1, 2, 3}, Seq: 7, Expires: 1700000000, Signature: []byte("not covered")}
	want := "736f6974746f2d7265636f72642d763100" +
		"00000008" + "70726573656e6365" +
		"00000005" + "616c696365" +
		"00000002" + "6869" +
		"00000003" + "010203" +
		"0000000000000007" +
		"000000006553f100"
	if got := hex.EncodeToString(SignedBytes(r)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// Negative expiry is two's complement; empty fields are a zero length.
	got := SignedBytes(&wire.Record{Expires: -1})
	wantNeg := append([]byte("soitto-record-v1\x00"), make([]byte, 16+8)...)
	wantNeg = append(wantNeg, bytes.Repeat([]byte{0xff}, 8)...)
	if !bytes.Equal(got, wantNeg) {
		t.Errorf("got %x, want %x", got, wantNeg)
	}
	// Moving bytes between fields changes the signed bytes.
	a := SignedBytes(&wire.Record{Kind: "ab", Name: "c"})
	b := SignedBytes(&wire.Record{Kind: "a", Name: "bc"})
	if bytes.Equal(a, b) {
		t.Error("field boundaries are not part of the signed bytes")
	}
}

func TestSignRefusesMismatchedKey(t *testing.T) {
	authority, _ := newAuthority(t)
	alice, mallory := newUser(t, authority, "alice"), newUser(t, authority, "mallory")
	r := &wire.Record{Kind: KindPresence, Name: "alice", Seq: 1, Expires: time.Now().Add(time.Minute).Unix()}
	if err := Sign(r, mallory.key, alice.cert); !errors.Is(err, wire.ErrBadRecord) {
		t.Errorf("got %v, want %v", err, wire.ErrBadRecord)
	}
	if err := Sign(r, alice.key, []byte("junk")); err == nil {
		t.Error("got nil error for a certificate that does not parse")
	}
}

// forge signs r's signed bytes with key, whatever cert r carries.
func forge(t *testing.T, r *wire.Record, key *ecdsa.PrivateKey) {
	t.Helper()
	d := sha256.Sum256(SignedBytes(r))
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	r.Signature = sig
}

func TestVerify(t *testing.T) {
	authority, roots := newAuthority(t)
	otherCA, _ := newAuthority(t)
	now := time.Now()
	exp := now.Add(30 * time.Minute)
	alice, bob := newUser(t, authority, "alice"), newUser(t, authority, "bob")
	impostor := newUser(t, otherCA, "alice") // right name, wrong CA
	nodeKey, _ := ca.GenerateKey()
	nodeCert, err := authority.IssueNode("10.0.0.1:7000", &nodeKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		rec  func() *wire.Record
		now  time.Time // if zero, now
		lim  Limits
		want error // nil: valid
	}{
		{name: "valid", rec: func() *wire.Record { return alice.record(t, 1, exp, `{"status":"online"}`) }},
		{name: "valid at the TTL limit", rec: func() *wire.Record { return alice.record(t, 1, now.Add(time.Hour), "") }},
		{name: "nil", rec: func() *wire.Record { return nil }, want: wire.ErrBadRecord},
		{name: "forged signature", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "x")
			forge(t, r, bob.key)
			return r
		}},
		{name: "signature of another record", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "x")
			r.Signature = alice.record(t, 2, exp, "x").Signature
			return r
		}},
		{name: "tampered payload", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "online")
			r.Payload = []byte("away")
			return r
		}},
		{name: "tampered seq", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "x")
			r.Seq = 99
			return r
		}},
		{name: "tampered expiry", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "x")
			r.Expires++
			return r
		}},
		{name: "tampered name, presence", want: wire.ErrForbidden, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "x")
			r.Name = "bob"
			return r
		}},
		{name: "tampered name, any-name kind", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := alice.signed(t, &wire.Record{Kind: kindNote, Name: "n1", Seq: 1, Expires: exp.Unix()})
			r.Name = "n2"
			return r
		}},
		{name: "cert swapped for another user's", want: wire.ErrForbidden, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "x")
			r.Cert = bob.cert
			return r
		}},
		{name: "expired", want: wire.ErrExpired, rec: func() *wire.Record { return alice.record(t, 1, now.Add(-time.Second), "x") }},
		{name: "expires now", want: wire.ErrExpired, rec: func() *wire.Record { return alice.record(t, 1, now, "x") }},
		{name: "expiry too far", want: wire.ErrBadRecord, rec: func() *wire.Record { return alice.record(t, 1, now.Add(2*time.Hour), "x") }},
		{name: "expiry too far under a smaller MaxTTL", lim: Limits{MaxTTL: 10 * time.Minute}, want: wire.ErrBadRecord,
			rec: func() *wire.Record { return alice.record(t, 1, exp, "x") }},
		{name: "wrong CA", want: wire.ErrBadRecord, rec: func() *wire.Record { return impostor.record(t, 1, exp, "x") }},
		{name: "node certificate", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := &wire.Record{Kind: KindPresence, Name: "alice", Seq: 1, Expires: exp.Unix(), Cert: nodeCert.Raw}
			forge(t, r, nodeKey)
			return r
		}},
		{name: "certificate expired", now: now.Add(ca.UserCertValidity + time.Minute), want: wire.ErrBadRecord,
			rec: func() *wire.Record {
				return alice.record(t, 1, now.Add(ca.UserCertValidity+30*time.Minute), "x")
			}},
		{name: "certificate garbage", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "x")
			r.Cert = []byte("not a certificate")
			return r
		}},
		{name: "someone else's name", want: wire.ErrForbidden, rec: func() *wire.Record {
			return bob.signed(t, &wire.Record{Kind: KindPresence, Name: "alice", Seq: 1, Expires: exp.Unix()})
		}},
		{name: "payload at limit", rec: func() *wire.Record { return alice.record(t, 1, exp, strings.Repeat("x", 2048)) }},
		{name: "oversized payload", want: wire.ErrTooLarge, rec: func() *wire.Record { return alice.record(t, 1, exp, strings.Repeat("x", 2049)) }},
		{name: "payload over a smaller MaxPayload", lim: Limits{MaxPayload: 10}, want: wire.ErrTooLarge,
			rec: func() *wire.Record { return alice.record(t, 1, exp, strings.Repeat("x", 11)) }},
		{name: "no kind", want: wire.ErrBadRecord, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Kind = ""; return r }},
		{name: "unknown kind", want: wire.ErrBadRecord, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Kind = "mystery"; return r }},
		{name: "long kind", want: wire.ErrTooLarge, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Kind = strings.Repeat("k", 33); return r }},
		{name: "no name", want: wire.ErrBadRecord, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Name = ""; return r }},
		{name: "long name", want: wire.ErrTooLarge, rec: func() *wire.Record {
			r := alice.record(t, 1, exp, "")
			r.Name = strings.Repeat("n", MaxName+1)
			return r
		}},
		{name: "name not UTF-8", want: wire.ErrBadRecord, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Name = "al\xffce"; return r }},
		{name: "no cert", want: wire.ErrBadRecord, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Cert = nil; return r }},
		{name: "long cert", want: wire.ErrTooLarge, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Cert = make([]byte, 4097); return r }},
		{name: "no signature", want: wire.ErrBadRecord, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Signature = nil; return r }},
		{name: "long signature", want: wire.ErrTooLarge, rec: func() *wire.Record { r := alice.record(t, 1, exp, ""); r.Signature = make([]byte, 129); return r }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.now
			if at.IsZero() {
				at = now
			}
			err := Verify(tt.rec(), roots, at, tt.lim)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("got %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("got %v, want %v", err, tt.want)
			case err != nil && strings.ContainsAny(err.Error(), "\n\r"):
				t.Errorf("got a multi-line reason %q", err)
			}
		})
	}
	if err := Verify(alice.record(t, 1, exp, ""), nil, now, Limits{}); !errors.Is(err, wire.ErrBadRecord) {
		t.Errorf("nil roots: got %v, want %v", err, wire.ErrBadRecord)
	}
}
