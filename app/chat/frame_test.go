package chat

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFrameRoundTrip(t *testing.T) {
	id := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	when := time.UnixMilli(1_700_000_000_123)
	for _, tc := range []struct {
		name string
		f    Frame
	}{
		{"message", Frame{Kind: KindMessage, ID: id, Seq: 7, Floor: 3, Time: when, Text: "hei 👋"}},
		{"message at MaxText", Frame{Kind: KindMessage, ID: id, Seq: 1, Floor: 1, Time: when, Text: strings.Repeat("x", MaxText)}},
		{"ack", Frame{Kind: KindAck, Acks: [][16]byte{id, {9}}}},
		{"ack at MaxAcks", Frame{Kind: KindAck, Acks: make([][16]byte, MaxAcks)}},
		{"typing on", Frame{Kind: KindTyping, On: true}},
		{"typing off", Frame{Kind: KindTyping}},
		{"app", Frame{Kind: KindApp, Data: []byte(`{"t":"offer"}`)}},
		{"app at MaxApp", Frame{Kind: KindApp, Data: bytes.Repeat([]byte{0}, MaxApp)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > MaxFrame {
				t.Fatalf("got %d bytes, want at most %d", len(b), MaxFrame)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tc.f.Kind || got.ID != tc.f.ID || got.Seq != tc.f.Seq || got.Floor != tc.f.Floor ||
				!got.Time.Equal(tc.f.Time) && tc.f.Kind == KindMessage || got.Text != tc.f.Text || got.On != tc.f.On ||
				!bytes.Equal(got.Data, tc.f.Data) || len(got.Acks) != len(tc.f.Acks) {
				t.Fatalf("got %+v, want %+v", got, tc.f)
			}
			for i := range got.Acks {
				if got.Acks[i] != tc.f.Acks[i] {
					t.Fatalf("ack %d: got %x, want %x", i, got.Acks[i], tc.f.Acks[i])
				}
			}
		})
	}
}

func TestFrameRefused(t *testing.T) {
	msg := func(seq, floor uint64, text string) []byte {
		f := Frame{Kind: KindMessage, Seq: 1, Text: "x"}
		b, _ := f.Encode()
		b = b[:msgHeader]
		b[24] = byte(seq)
		b[32] = byte(floor)
		return append(b, text...)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrBadFrame},
		{"unknown kind", []byte{'Z', 0}, ErrBadFrame},
		{"over MaxFrame", append([]byte{byte(KindApp)}, make([]byte, MaxFrame)...), ErrTooLarge},
		{"message header short", []byte{byte(KindMessage), 1, 2, 3}, ErrBadFrame},
		{"message seq 0", msg(0, 0, "x"), ErrBadFrame},
		{"message floor above seq", msg(2, 3, "x"), ErrBadFrame},
		{"message without text", msg(1, 0, ""), ErrBadFrame},
		{"message not UTF-8", msg(1, 0, "\xff\xfe"), ErrBadFrame},
		{"message seq over int64", append(append([]byte{byte(KindMessage)}, make([]byte, 16)...), append(bytes.Repeat([]byte{0xff}, 8), append(make([]byte, 16), 'x')...)...), ErrBadFrame},
		{"ack empty", []byte{byte(KindAck)}, ErrBadFrame},
		{"ack not 16·n", append([]byte{byte(KindAck)}, make([]byte, 17)...), ErrBadFrame},
		{"ack over MaxAcks", append([]byte{byte(KindAck)}, make([]byte, 16*(MaxAcks+1))...), ErrBadFrame},
		{"typing short", []byte{byte(KindTyping)}, ErrBadFrame},
		{"typing 2", []byte{byte(KindTyping), 2}, ErrBadFrame},
		{"typing long", []byte{byte(KindTyping), 1, 0}, ErrBadFrame},
		{"app empty", []byte{byte(KindApp)}, ErrBadFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
	for _, f := range []Frame{
		{Kind: KindMessage, Seq: 1, Text: strings.Repeat("x", MaxText+1)},
		{Kind: KindMessage, Seq: 1},
		{Kind: KindAck},
		{Kind: KindApp},
		{Kind: 'Z'},
	} {
		if _, err := f.Encode(); err == nil {
			t.Errorf("Encode(%v with %d bytes of text): got nil error, want one", f.Kind, len(f.Text))
		}
	}
}

// FuzzDecode checks that Decode never panics and that what it accepts
// encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, fr := range []Frame{
		{Kind: KindMessage, ID: [16]byte{1}, Seq: 3, Floor: 2, Time: time.UnixMilli(1700000000000), Text: "hello"},
		{Kind: KindAck, Acks: [][16]byte{{1}, {2}}},
		{Kind: KindTyping, On: true},
		{Kind: KindApp, Data: []byte("{}")},
	} {
		b, _ := fr.Encode()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line", err)
			}
			return
		}
		out, err := fr.Encode()
		if err != nil {
			t.Fatalf("decoded %v does not encode: %v", fr.Kind, err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("got %x, want %x", out, b)
		}
	})
}
