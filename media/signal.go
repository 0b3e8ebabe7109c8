package media

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"
)

// MaxMessage bounds an encoded signalling message. An offer with data
// channels and one audio track, without candidates (they trickle), is
// about 1 KiB; the overlay carries at most 16 KiB per signal.
const MaxMessage = 12 << 10

// maxReason bounds a close message's reason, in bytes.
const maxReason = 200

// Message kinds.
const (
	KindOffer      = "offer"
	KindAnswer     = "answer"
	KindCandidate  = "candidate"
	KindCandidates = "end-of-candidates"
	KindClose      = "close"
)

// Message is one signalling message of a session, which someone else
// (the overlay's signed signals) carries between the two users. The
// carrier is not trusted: see the package documentation.
type Message struct {
	// Session is the offerer's random session ID (32 lowercase hex
	// digits).
	Session string `json:"session"`
	// Kind is offer, answer, candidate, end-of-candidates or close.
	Kind string `json:"kind"`
	// SDP is the offer's or answer's session description.
	SDP string `json:"sdp,omitempty"`
	// Candidate is one trickled ICE candidate.
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	// Reason says why, for close: one line of at most 200 bytes.
	Reason string `json:"reason,omitempty"`
}

// Encode returns the message's JSON form. It refuses a message that
// DecodeMessage would refuse, and one larger than MaxMessage.
func (m Message) Encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("media: %s message: %v", m.Kind, err)
	}
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("media: %s message of %d bytes, at most %d", m.Kind, len(b), MaxMessage)
	}
	return b, nil
}

// DecodeMessage reads a message Encode made. It refuses anything larger
// than MaxMessage, unknown fields and kinds, data after the message, and
// messages missing what their kind needs or carrying what it must not.
// Errors are one line.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) > MaxMessage {
		return Message{}, fmt.Errorf("media: signalling message of %d bytes, at most %d", len(b), MaxMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("media: signalling message: %s", oneLine(err.Error()))
	}
	if dec.More() {
		return Message{}, errors.New("media: signalling message: data after the JSON object")
	}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// check says what is wrong with m, in one line, or nil.
func (m Message) check() error {
	if !validID(m.Session) {
		return errors.New("media: signalling message: session is not 32 lowercase hex digits")
	}
	// JSON would replace other bytes, so what arrived would differ from
	// what was sent (and a close reason could grow past maxReason).
	if !m.utf8() {
		return errors.New("media: signalling message with text that is not UTF-8")
	}
	switch m.Kind {
	case KindOffer, KindAnswer:
		if m.SDP == "" {
			return fmt.Errorf("media: %s message without an SDP", m.Kind)
		}
		if m.Candidate != nil || m.Reason != "" {
			return fmt.Errorf("media: %s message with a candidate or reason", m.Kind)
		}
	case KindCandidate:
		if m.Candidate == nil || m.Candidate.Candidate == "" {
			return errors.New("media: candidate message without a candidate")
		}
		if m.SDP != "" || m.Reason != "" {
			return errors.New("media: candidate message with an SDP or reason")
		}
	case KindCandidates:
		if m.SDP != "" || m.Candidate != nil || m.Reason != "" {
			return fmt.Errorf("media: %s message with an SDP, candidate or reason", m.Kind)
		}
	case KindClose:
		if m.SDP != "" || m.Candidate != nil {
			return errors.New("media: close message with an SDP or candidate")
		}
		if len(m.Reason) > maxReason {
			return fmt.Errorf("media: close reason longer than %d bytes", maxReason)
		}
		if strings.ContainsFunc(m.Reason, unicode.IsControl) {
			return errors.New("media: close reason with control characters")
		}
	default:
		return fmt.Errorf("media: unknown signalling message kind %q", truncate(m.Kind, 32))
	}
	return nil
}

// utf8 says whether all of m's text is UTF-8 (as decoded JSON always
// is).
func (m Message) utf8() bool {
	text := []string{m.Kind, m.SDP, m.Reason}
	if c := m.Candidate; c != nil {
		text = append(text, c.Candidate)
		for _, p := range []*string{c.SDPMid, c.UsernameFragment} {
			if p != nil {
				text = append(text, *p)
			}
		}
	}
	for _, s := range text {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// validID says whether id is a session ID: 32 lowercase hex digits.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// oneLine replaces line breaks and other control characters with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
