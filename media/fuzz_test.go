package media

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"
)

// fuzzKinds are the kinds FuzzMessageEncode builds messages of; the
// last is none.
var fuzzKinds = []string{KindOffer, KindAnswer, KindCandidate, KindCandidates, KindClose, "hello"}

// FuzzMessageEncode builds messages from fuzzed fields, as a program
// sending them would, rather than from bytes as FuzzDecodeMessage
// (signal_test.go) and FuzzMessageRoundTrip do: the seeds are a valid
// message of each kind. What Encode takes, DecodeMessage takes back, the
// same message, which encodes to the same bytes again. Encode refuses
// only what DecodeMessage would (check: text that is not UTF-8 among
// it, which JSON would replace) and what is larger than MaxMessage.
// With grow set, the SDP is padded to around MaxMessage, so that sizes
// either side of the bound are tried; and every encoding is padded with
// trailing spaces to exactly MaxMessage, which must decode, and one byte
// more, which must be refused.
func FuzzMessageEncode(f *testing.F) {
	id := strings.Repeat("c0", 16)
	f.Add(uint8(0), id, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "", "", false, uint16(0), false, "", "", uint16(0))
	f.Add(uint8(1), id, "v=0\r\n", "", "", false, uint16(0), false, "", "", uint16(0))
	f.Add(uint8(2), id, "", "candidate:1 1 udp 2130706431 192.168.1.2 5000 typ host", "0", true, uint16(0), true, "abcd", "", uint16(0))
	f.Add(uint8(3), id, "", "", "", false, uint16(0), false, "", "", uint16(0))
	f.Add(uint8(4), id, "", "", "", false, uint16(0), false, "", "remote certificate names \"mallory\", expected \"bob\"", uint16(0))
	f.Add(uint8(4), id, "", "", "", false, uint16(0), false, "", strings.Repeat("r", maxReason-1)+"\xff", uint16(0))
	f.Add(uint8(0), id, "<&>\u2028\xff", "", "", false, uint16(0), false, "", "", uint16(300))
	f.Fuzz(func(t *testing.T, kind uint8, session, sdp, cand, mid string, hasMid bool, idx uint16, hasIdx bool,
		ufrag, reason string, grow uint16) {
		if grow != 0 {
			sdp += strings.Repeat("a", MaxMessage-256+int(grow%512))
		}
		m := Message{Session: session, Kind: fuzzKinds[int(kind)%len(fuzzKinds)], SDP: sdp, Reason: reason}
		if cand != "" || hasMid || hasIdx || ufrag != "" {
			c := &webrtc.ICECandidateInit{Candidate: cand}
			if hasMid {
				c.SDPMid = &mid
			}
			if hasIdx {
				c.SDPMLineIndex = &idx
			}
			if ufrag != "" {
				c.UsernameFragment = &ufrag
			}
			m.Candidate = c
		}
		out, err := m.Encode()
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "media: ") {
				t.Fatalf("error %q", msg)
			}
			if m.check() == nil {
				// Then only the size refuses it.
				if b, _ := json.Marshal(m); len(b) <= MaxMessage {
					t.Fatalf("refused a well-formed message of %d bytes: %v", len(b), err)
				}
			}
			return
		}
		if len(out) > MaxMessage {
			t.Fatalf("encoded %d bytes", len(out))
		}
		got, err := DecodeMessage(out)
		if err != nil {
			t.Fatalf("%q does not decode: %v", out, err)
		}
		if !validUTF8(m) {
			t.Fatalf("encoded text that is not UTF-8: %+v", m)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip: %+v became %+v", m, got)
		}
		if again, err := got.Encode(); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("the decoded message encodes to %q (%v), not %q", again, err, out)
		}

		// The bound, exactly.
		padded := append(bytes.Clone(out), bytes.Repeat([]byte(" "), MaxMessage-len(out))...)
		if p, err := DecodeMessage(padded); err != nil || !reflect.DeepEqual(p, got) {
			t.Fatalf("%d bytes, padded with spaces: %v", len(padded), err)
		}
		padded = append(padded, ' ')
		if _, err := DecodeMessage(padded); err == nil || strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("took %d bytes (%v)", len(padded), err)
		}
	})
}

// validUTF8 says whether all of m's strings are UTF-8.
func validUTF8(m Message) bool {
	s := []string{m.Session, m.Kind, m.SDP, m.Reason}
	if c := m.Candidate; c != nil {
		s = append(s, c.Candidate)
		for _, p := range []*string{c.SDPMid, c.UsernameFragment} {
			if p != nil {
				s = append(s, *p)
			}
		}
	}
	for _, x := range s {
		if !utf8.ValidString(x) {
			return false
		}
	}
	return true
}
