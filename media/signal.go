package media

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// MaxMessage bounds an encoded signalling message. An offer with one
// audio track and data channels, without candidates (they trickle), is
// about 1 KiB; the overlay carries at most 16 KiB per signal.
const MaxMessage = 12 << 10

// Message kinds.
const (
	KindOffer      = "offer"
	KindAnswer     = "answer"
	KindCandidate  = "candidate"
	KindCandidates = "end-of-candidates"
	KindClose      = "close"
)

// Message is one signalling message of a session, which someone else
// (the overlay's signed signals) carries between the two users.
type Message struct {
	// Session is the offerer's random session ID (32 hex digits).
	Session   string                   `json:"session"`
	Kind      string                   `json:"kind"`
	SDP       string                   `json:"sdp,omitempty"`
	Candidate *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	// Reason says why, for close.
	Reason string `json:"reason,omitempty"`
}

// Encode returns the message's JSON form.
func (m Message) Encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("media: %s message of %d bytes, at most %d", m.Kind, len(b), MaxMessage)
	}
	return b, nil
}

// DecodeMessage reads a message Encode made, refusing anything larger
// than MaxMessage, unknown fields and kinds, and incomplete messages.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) > MaxMessage {
		return Message{}, fmt.Errorf("media: signalling message of %d bytes, at most %d", len(b), MaxMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("media: signalling message: %v", err)
	}
	if dec.More() {
		return Message{}, errors.New("media: signalling message: data after the JSON object")
	}
	return m, m.check()
}

func (m Message) check() error {
	if len(m.Session) != 32 || strings.Trim(m.Session, "0123456789abcdef") != "" {
		return errors.New("media: signalling message: session is not 32 hex digits")
	}
	switch m.Kind {
	case KindOffer, KindAnswer:
		if m.SDP == "" || m.Candidate != nil {
			return fmt.Errorf("media: %s without an SDP", m.Kind)
		}
	case KindCandidate:
		if m.Candidate == nil || m.Candidate.Candidate == "" || m.SDP != "" {
			return errors.New("media: candidate message without a candidate")
		}
	case KindCandidates, KindClose:
		if m.SDP != "" || m.Candidate != nil {
			return fmt.Errorf("media: %s message with an SDP or candidate", m.Kind)
		}
	default:
		return fmt.Errorf("media: unknown signalling message kind %q", m.Kind)
	}
	if len(m.Reason) > 200 {
		return errors.New("media: close reason longer than 200 bytes")
	}
	return nil
}
