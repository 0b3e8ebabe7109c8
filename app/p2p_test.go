package app

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"soitto/media"
)

func TestSessionSignalRoundTrip(t *testing.T) {
	m := media.Message{Session: strings.Repeat("ab", 16), Kind: media.KindCandidate,
		Candidate: &webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"}}
	call := strings.Repeat("cd", 16)
	b, err := encodeSessionSignal("127.0.0.1:7600", m, call)
	if err != nil {
		t.Fatal(err)
	}
	via, gotCall, got, err := decodeSessionSignal(b)
	if err != nil || via != "127.0.0.1:7600" || gotCall != call || got.Session != m.Session || got.Candidate.Candidate != m.Candidate.Candidate {
		t.Fatalf("round trip: %q %q %+v %v", via, gotCall, got, err)
	}
	for _, bad := range []string{
		`{"via":"nowhere","m":{}}`,
		`{"via":"127.0.0.1:1","m":{"session":"x","kind":"offer","sdp":"v=0"}}`,
		`{"via":"127.0.0.1:1","m":{},"extra":1}`,
		`{"via":"127.0.0.1:1","m":{"session":"` + strings.Repeat("ab", 16) + `","kind":"close"},"call":"XYZ"}`,
		`{"via":"127.0.0.1:1","m":` + strings.Repeat(" ", media.MaxMessage+600) + `{}}`,
	} {
		if _, _, _, err := decodeSessionSignal([]byte(bad)); err == nil {
			t.Errorf("%.60q decoded", bad)
		}
	}
}

func FuzzDecodeSessionSignal(f *testing.F) {
	m := media.Message{Session: strings.Repeat("0f", 16), Kind: media.KindOffer, SDP: "v=0\r\n"}
	b, _ := encodeSessionSignal("198.18.0.10:7600", m, strings.Repeat("12", 16))
	f.Add(b)
	f.Add([]byte(`{"via":"[::1]:7600","m":{"session":"00000000000000000000000000000000","kind":"close"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		via, call, m, err := decodeSessionSignal(b)
		if err != nil {
			return
		}
		// What decodes encodes again, to the same message.
		out, err := encodeSessionSignal(via, m, call)
		if err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
		via2, call2, m2, err := decodeSessionSignal(out)
		if err != nil || via2 != via || call2 != call || m2.Kind != m.Kind || m2.Session != m.Session || m2.SDP != m.SDP {
			t.Fatalf("re-decode differs: %v", err)
		}
	})
}
