package signal

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"soitto/login/ca"
	"soitto/overlay/wire"
)

// TestSignedBytesExample checks the example in doc.go byte for byte.
func TestSignedBytesExample(t *testing.T) {
	s := &wire.Signal{
		From: "alice", To: "bob", Kind: "ping", Payload: []byte("hi"),
		Cert:        []byte{1, 2, 3},
		Nonce:       []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
		TimestampMs: 1700000000000,
		Signature:   []byte("not covered"),
	}
	want := "736f6974746f2d7369676e616c2d763100" +
		"00000005616c696365" +
		"00000003626f62" +
		"0000000470696e67" +
		"000000026869" +
		"00000003010203" +
		"00000010000102030405060708090a0b0c0d0e0f" +
		"0000018bcfe56800"
	if got := hex.EncodeToString(SignedBytes(s)); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	s.TimestampMs = -1
	if got := SignedBytes(s); !bytes.HasSuffix(got, bytes.Repeat([]byte{0xff}, 8)) {
		t.Fatalf("timestamp -1 encodes as %x, want two's complement", got[len(got)-8:])
	}
}

// TestSignedBytesUnambiguous: moving bytes from one field to the next
// changes the signed bytes.
func TestSignedBytesUnambiguous(t *testing.T) {
	a := &wire.Signal{From: "ab", To: "c", Kind: "k", Nonce: make([]byte, NonceSize)}
	b := &wire.Signal{From: "a", To: "bc", Kind: "k", Nonce: make([]byte, NonceSize)}
	if bytes.Equal(SignedBytes(a), SignedBytes(b)) {
		t.Fatal("different signals have the same signed bytes")
	}
}

func TestRoundTrip(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	now := time.Now()
	s := alice.signal(t, "bob", "contact-request", "hello bob", now)
	if s.From != "alice" || s.To != "bob" || s.Kind != "contact-request" || string(s.Payload) != "hello bob" ||
		s.TimestampMs != now.UnixMilli() || len(s.Nonce) != NonceSize || !bytes.Equal(s.Cert, alice.cert) {
		t.Fatalf("New made %v", s)
	}
	wantErr(t, Check(s, roots, now), nil)
	// Through the wire and back.
	b, err := proto.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got wire.Signal
	if err := proto.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	wantErr(t, Check(&got, roots, now.Add(time.Second)), nil)
	wantErr(t, NewVerifier(roots, "bob", func() time.Time { return now }).Accept(&got), nil)
	// An empty payload is allowed.
	wantErr(t, Check(alice.signal(t, "bob", "ping", "", now), roots, now), nil)
	// Two signals never share a nonce.
	if t2 := alice.signal(t, "bob", "contact-request", "hello bob", now); bytes.Equal(t2.Nonce, s.Nonce) {
		t.Fatal("New reused a nonce")
	}
}

// TestTamper: changing any one field of a signed signal makes Check refuse it.
func TestTamper(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	alice2 := newUser(t, authority, "alice") // same user, another key
	now := time.Now()
	tests := []struct {
		name   string
		tamper func(s *wire.Signal)
		want   error
	}{
		{"from", func(s *wire.Signal) { s.From = "mallory" }, wire.ErrForbidden},
		{"from with newline", func(s *wire.Signal) { s.From = "alice\nbob" }, wire.ErrForbidden},
		{"to", func(s *wire.Signal) { s.To = "carol" }, wire.ErrBadRecord},
		{"timestamp +1 ms", func(s *wire.Signal) { s.TimestampMs++ }, wire.ErrBadRecord},
		{"timestamp -1 ms", func(s *wire.Signal) { s.TimestampMs-- }, wire.ErrBadRecord},
		{"nonce", func(s *wire.Signal) { s.Nonce[7] ^= 1 }, wire.ErrBadRecord},
		{"kind", func(s *wire.Signal) { s.Kind = "offer" }, wire.ErrBadRecord},
		{"payload byte", func(s *wire.Signal) { s.Payload[0] ^= 0x20 }, wire.ErrBadRecord},
		{"payload longer", func(s *wire.Signal) { s.Payload = append(s.Payload, 0) }, wire.ErrBadRecord},
		{"payload empty", func(s *wire.Signal) { s.Payload = nil }, wire.ErrBadRecord},
		{"cert byte", func(s *wire.Signal) { s.Cert[len(s.Cert)-10] ^= 1 }, wire.ErrBadRecord},
		{"cert of another key", func(s *wire.Signal) { s.Cert = alice2.cert }, wire.ErrBadRecord},
		{"signature byte", func(s *wire.Signal) { s.Signature[len(s.Signature)-1] ^= 1 }, wire.ErrBadRecord},
		{"signature of another signal", func(s *wire.Signal) {
			s.Signature = alice.signal(t, "bob", "ping", "hello", now).Signature
		}, wire.ErrBadRecord},
		{"signed by another key", func(s *wire.Signal) { resign(t, s, alice2.key) }, wire.ErrBadRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := alice.signal(t, "bob", "ping", "hello", now)
			wantErr(t, Check(s, roots, now), nil)
			tt.tamper(s)
			wantErr(t, Check(s, roots, now), tt.want)
		})
	}
}

func TestCertificate(t *testing.T) {
	authority, roots := newAuthority(t)
	other, _ := newAuthority(t)
	now := time.Now()
	alice := newUser(t, authority, "alice")
	bob := newUser(t, authority, "bob")
	foreign := newUser(t, other, "alice")

	authority.SetClock(func() time.Time { return now.Add(-ca.UserCertValidity - time.Hour) })
	expired := newUser(t, authority, "alice")
	authority.SetClock(func() time.Time { return now.Add(time.Hour) })
	future := newUser(t, authority, "alice")
	authority.SetClock(time.Now)

	nodeKey, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	nodeCert, err := authority.IssueNode("192.0.2.1:7000", &nodeKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		s    *wire.Signal
		at   time.Time
		want error
	}{
		{"valid", alice.signal(t, "bob", "ping", "", now), now, nil},
		{"other CA", foreign.signal(t, "bob", "ping", "", now), now, wire.ErrBadRecord},
		{"expired", expired.signal(t, "bob", "ping", "", now), now, wire.ErrExpired},
		{"not yet valid", future.signal(t, "bob", "ping", "", now), now, wire.ErrExpired},
		{"expired by now", alice.signal(t, "bob", "ping", "", now.Add(ca.UserCertValidity+time.Minute)),
			now.Add(ca.UserCertValidity + time.Minute), wire.ErrExpired},
		{"another user's", resign(t, &wire.Signal{From: "alice", To: "carol", Kind: "ping",
			TimestampMs: now.UnixMilli(), Nonce: make([]byte, NonceSize), Cert: bob.cert}, bob.key), now, wire.ErrForbidden},
		{"node certificate", resign(t, &wire.Signal{From: ca.NodeName("192.0.2.1:7000"), To: "bob", Kind: "ping",
			TimestampMs: now.UnixMilli(), Nonce: make([]byte, NonceSize), Cert: nodeCert.Raw}, nodeKey), now, wire.ErrBadRecord},
		{"not DER", resign(t, &wire.Signal{From: "alice", To: "bob", Kind: "ping",
			TimestampMs: now.UnixMilli(), Nonce: make([]byte, NonceSize), Cert: []byte{0x30, 1, 2}}, alice.key), now, wire.ErrBadRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, Check(tt.s, roots, tt.at), tt.want)
		})
	}
	t.Run("no roots", func(t *testing.T) {
		wantErr(t, Check(alice.signal(t, "bob", "ping", "", now), nil, now), wire.ErrBadRecord)
	})
}

func TestNew(t *testing.T) {
	authority, _ := newAuthority(t)
	alice := newUser(t, authority, "alice")
	bob := newUser(t, authority, "bob")
	now := time.Now()
	tests := []struct {
		name    string
		from    string
		payload []byte
		kind    string
		u       user
		cert    []byte
		want    error
	}{
		{"ok", "alice", []byte("x"), "ping", alice, alice.cert, nil},
		{"payload at limit", "alice", make([]byte, MaxPayload), "ping", alice, alice.cert, nil},
		{"payload over limit", "alice", make([]byte, MaxPayload+1), "ping", alice, alice.cert, wire.ErrTooLarge},
		{"kind at limit", "alice", nil, strings.Repeat("k", MaxKind), alice, alice.cert, nil},
		{"kind over limit", "alice", nil, strings.Repeat("k", MaxKind+1), alice, alice.cert, wire.ErrTooLarge},
		{"no kind", "alice", nil, "", alice, alice.cert, wire.ErrBadRecord},
		{"from another user", "bob", nil, "ping", alice, alice.cert, wire.ErrForbidden},
		{"key of another user", "alice", nil, "ping", bob, alice.cert, wire.ErrBadRecord},
		{"no cert", "alice", nil, "ping", alice, nil, wire.ErrBadRecord},
		{"bad cert", "alice", nil, "ping", alice, []byte{0x30, 0}, wire.ErrBadRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.from, "bob", tt.kind, tt.payload, tt.u.key, tt.cert, now)
			wantErr(t, err, tt.want)
		})
	}
	if _, err := New("alice", "bob", "ping", nil, nil, alice.cert, now); err == nil {
		t.Fatal("New signed with a nil key")
	}
	// New copies what it is given.
	payload := []byte("abc")
	s, err := New("alice", "bob", "ping", payload, alice.key, alice.cert, now)
	if err != nil {
		t.Fatal(err)
	}
	payload[0] = 'X'
	if string(s.Payload) != "abc" {
		t.Fatal("New kept the caller's payload slice")
	}
}

// TestShape: Check refuses each malformed field, validly signed, with the
// right sentinel.
func TestShape(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	now := time.Now()
	tests := []struct {
		name   string
		change func(s *wire.Signal)
		want   error
	}{
		{"no from", func(s *wire.Signal) { s.From = "" }, wire.ErrBadRecord},
		{"long from", func(s *wire.Signal) { s.From = strings.Repeat("a", MaxName+1) }, wire.ErrTooLarge},
		{"from not UTF-8", func(s *wire.Signal) { s.From = "al\xffce" }, wire.ErrBadRecord},
		{"no to", func(s *wire.Signal) { s.To = "" }, wire.ErrBadRecord},
		{"long to", func(s *wire.Signal) { s.To = strings.Repeat("b", MaxName+1) }, wire.ErrTooLarge},
		{"to not UTF-8", func(s *wire.Signal) { s.To = "\xc0" }, wire.ErrBadRecord},
		{"no kind", func(s *wire.Signal) { s.Kind = "" }, wire.ErrBadRecord},
		{"long kind", func(s *wire.Signal) { s.Kind = strings.Repeat("k", MaxKind+1) }, wire.ErrTooLarge},
		{"kind not UTF-8", func(s *wire.Signal) { s.Kind = "\xff" }, wire.ErrBadRecord},
		{"long payload", func(s *wire.Signal) { s.Payload = make([]byte, MaxPayload+1) }, wire.ErrTooLarge},
		{"no nonce", func(s *wire.Signal) { s.Nonce = nil }, wire.ErrBadRecord},
		{"short nonce", func(s *wire.Signal) { s.Nonce = s.Nonce[:NonceSize-1] }, wire.ErrBadRecord},
		{"long nonce", func(s *wire.Signal) { s.Nonce = append(s.Nonce, 0) }, wire.ErrBadRecord},
		{"no cert", func(s *wire.Signal) { s.Cert = nil }, wire.ErrBadRecord},
		{"long cert", func(s *wire.Signal) { s.Cert = make([]byte, MaxCert+1) }, wire.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := alice.signal(t, "bob", "ping", "", now)
			tt.change(s)
			resign(t, s, alice.key)
			wantErr(t, Check(s, roots, now), tt.want)
		})
	}
	t.Run("no signature", func(t *testing.T) {
		s := alice.signal(t, "bob", "ping", "", now)
		s.Signature = nil
		wantErr(t, Check(s, roots, now), wire.ErrBadRecord)
	})
	t.Run("long signature", func(t *testing.T) {
		s := alice.signal(t, "bob", "ping", "", now)
		s.Signature = make([]byte, MaxSignature+1)
		wantErr(t, Check(s, roots, now), wire.ErrTooLarge)
	})
	t.Run("nil", func(t *testing.T) {
		wantErr(t, Check(nil, roots, now), wire.ErrBadRecord)
	})
}

func TestTimestamp(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	now := time.Now()
	tests := []struct {
		name string
		ts   int64
		want error
	}{
		{"now", now.UnixMilli(), nil},
		{"MaxSkew old", now.Add(-MaxSkew).UnixMilli(), nil},
		{"MaxSkew ahead", now.Add(MaxSkew).UnixMilli(), nil},
		{"too old", now.Add(-MaxSkew).UnixMilli() - 1, wire.ErrReplayed},
		{"too far ahead", now.Add(MaxSkew).UnixMilli() + 1, wire.ErrReplayed},
		{"an hour old", now.Add(-time.Hour).UnixMilli(), wire.ErrReplayed},
		{"zero", 0, wire.ErrReplayed},
		{"min int64", math.MinInt64, wire.ErrReplayed},
		{"max int64", math.MaxInt64, wire.ErrReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := alice.signal(t, "bob", "ping", "", now)
			s.TimestampMs = tt.ts
			resign(t, s, alice.key)
			wantErr(t, Check(s, roots, now), tt.want)
		})
	}
}

func TestClean(t *testing.T) {
	authority, roots := newAuthority(t)
	alice := newUser(t, authority, "alice")
	now := time.Now()
	s := alice.signal(t, "bob", "ping", "hello", now)
	b, err := proto.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	// A relay appends a field the schema does not know; the signature
	// still verifies, since it does not cover it.
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	b = protowire.AppendBytes(b, bytes.Repeat([]byte("x"), 1000))
	var got wire.Signal
	if err := proto.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.ProtoReflect().GetUnknown()) == 0 {
		t.Fatal("the unknown field did not survive Unmarshal")
	}
	wantErr(t, Check(&got, roots, now), nil)
	c := Clean(&got)
	if len(c.ProtoReflect().GetUnknown()) != 0 {
		t.Fatal("Clean kept an unknown field")
	}
	if !proto.Equal(c, s) {
		t.Fatalf("got %v, want %v", c, s)
	}
	c.Payload[0] = 'X'
	c.Nonce[0] ^= 1
	if got.Payload[0] != 'h' || !bytes.Equal(got.Nonce, s.Nonce) {
		t.Fatal("Clean shares memory with its input")
	}
	if Clean(nil) != nil {
		t.Fatal("Clean(nil) is not nil")
	}
}
