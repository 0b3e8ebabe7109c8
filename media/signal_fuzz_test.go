package media

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// FuzzMessageRoundTrip: whatever DecodeMessage takes is well formed, its
// errors are one line, and a message it took, encoded again (when that
// fits), decodes to the same message. (FuzzDecodeMessage, in
// signal_test.go, checks that a taken message encodes.)
func FuzzMessageRoundTrip(f *testing.F) {
	id := strings.Repeat("5e", 16)
	mid, idx := "0", uint16(0)
	for _, m := range []Message{
		{Session: id, Kind: KindOffer, SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"},
		{Session: id, Kind: KindAnswer, SDP: "v=0\r\n"},
		{Session: id, Kind: KindCandidate, Candidate: &webrtc.ICECandidateInit{
			Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", SDPMid: &mid, SDPMLineIndex: &idx}},
		{Session: id, Kind: KindCandidates},
		{Session: id, Kind: KindClose, Reason: `remote certificate names "mallory", expected "bob"`},
	} {
		b, err := m.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"session":"` + id + `","kind":"close","reason":"a\u0000b"}`))
	f.Add([]byte(`{"session":"` + id + `","kind":"candidate","candidate":{"candidate":"x","sdpMLineIndex":70000}}`))
	f.Add([]byte(`{"session":"` + id + `","kind":"offer","sdp":"v=0","sdp":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") || !strings.HasPrefix(err.Error(), "media: ") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if len(b) > MaxMessage {
			t.Fatalf("took %d bytes", len(b))
		}
		if err := m.check(); err != nil {
			t.Fatalf("took an ill-formed message: %v", err)
		}
		if m.Kind == KindClose && strings.ContainsAny(m.Reason, "\r\n") {
			t.Fatalf("took a reason of more than one line: %q", m.Reason)
		}
		out, err := m.Encode()
		if err != nil {
			// JSON escapes can make the encoding longer than the input.
			if !strings.Contains(err.Error(), "bytes, at most") {
				t.Fatalf("taken message does not encode: %v", err)
			}
			return
		}
		again, err := DecodeMessage(out)
		if err != nil {
			t.Fatalf("%s does not decode: %v", out, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip: %+v became %+v", m, again)
		}
	})
}

// FuzzControlMessage: the control channel's parser takes exactly the
// 9-byte ping and pong, and what it takes is what controlMessage makes.
func FuzzControlMessage(f *testing.F) {
	f.Add(controlMessage(ctlPing, 1))
	f.Add(controlMessage(ctlPong, 1<<63))
	f.Add([]byte("p"))
	f.Add([]byte("x12345678"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, id, ok := parseControl(b)
		if !ok {
			return
		}
		if !bytes.Equal(controlMessage(kind, id), b) {
			t.Fatalf("%x parsed as %c %d", b, kind, id)
		}
	})
}
