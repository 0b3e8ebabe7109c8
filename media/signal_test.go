package media

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestMessageRefuses(t *testing.T) {
	id := strings.Repeat("a1", 16)
	for name, b := range map[string]string{
		"short id":       `{"session":"abc","kind":"close"}`,
		"upper hex":      `{"session":"` + strings.ToUpper(id) + `","kind":"close"}`,
		"unknown kind":   `{"session":"` + id + `","kind":"hello"}`,
		"offer no sdp":   `{"session":"` + id + `","kind":"offer"}`,
		"empty cand":     `{"session":"` + id + `","kind":"candidate","candidate":{"candidate":""}}`,
		"unknown field":  `{"session":"` + id + `","kind":"close","x":1}`,
		"trailing":       `{"session":"` + id + `","kind":"close"}{}`,
		"close with sdp": `{"session":"` + id + `","kind":"close","sdp":"v=0"}`,
		"too large":      `{"session":"` + id + `","kind":"offer","sdp":"` + strings.Repeat("a", MaxMessage) + `"}`,
	} {
		if _, err := DecodeMessage([]byte(b)); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := (Message{Session: id, Kind: KindOffer, SDP: strings.Repeat("a", MaxMessage)}).Encode(); err == nil {
		t.Error("an oversized offer encoded")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	id := strings.Repeat("0b", 16)
	for _, m := range []Message{
		{Session: id, Kind: KindOffer, SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"},
		{Session: id, Kind: KindAnswer, SDP: "v=0\r\n"},
		{Session: id, Kind: KindCandidate, Candidate: &webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}},
		{Session: id, Kind: KindCandidates},
		{Session: id, Kind: KindClose, Reason: "hung up"},
	} {
		b, err := m.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		out, err := m.Encode()
		if err != nil && len(b) <= MaxMessage && len(out) == 0 && !strings.Contains(err.Error(), "bytes, at most") {
			t.Fatalf("decoded message does not encode: %v", err)
		}
	})
}
