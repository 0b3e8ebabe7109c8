package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// kindContact is the signal kind of contact requests and their answers:
//
//	{"action":"request","message":"Hi, it's Alice from work"}
//	{"action":"accept"}
//	{"action":"decline"}
//	{"action":"remove"}
//
// Both sides must accept before they are contacts: A's request makes B's
// entry for A "pending" (A's for B is "requested"); B's accept makes both
// "contact". A request to someone who has asked too, or who has the
// sender as a contact already, is accepted at once. A blocked user's
// signals are dropped without an answer; remove ends the contact on both
// sides.
const kindContact = "contact"

const (
	actRequest  = "request"
	actAcceptC  = "accept"
	actDeclineC = "decline"
	actRemove   = "remove"
)

// Bounds of a contact signal.
const (
	MaxRequestMessage = 200 // bytes of a request's message
	maxContactSignal  = 512
)

type contactSignal struct {
	Action  string `json:"action"`
	Message string `json:"message,omitempty"`
}

func (m contactSignal) encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func decodeContactSignal(b []byte) (contactSignal, error) {
	var m contactSignal
	if len(b) > maxContactSignal {
		return m, fmt.Errorf("contact signal of %d bytes (at most %d)", len(b), maxContactSignal)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("contact signal: %v", err)
	}
	if dec.More() {
		return m, fmt.Errorf("contact signal: data after the object")
	}
	return m, m.check()
}

func (m contactSignal) check() error {
	switch m.Action {
	case actRequest:
		if err := checkRequestMessage(m.Message); err != nil {
			return fmt.Errorf("contact signal: %v", err)
		}
	case actAcceptC, actDeclineC, actRemove:
		if m.Message != "" {
			return fmt.Errorf("contact signal: %s with a message", m.Action)
		}
	default:
		return fmt.Errorf("contact signal: unknown action %q", m.Action)
	}
	return nil
}

// checkRequestMessage refuses a request message that is too long or
// not text.
func checkRequestMessage(s string) error {
	if len(s) > MaxRequestMessage {
		return fmt.Errorf("a request message of %d bytes (at most %d)", len(s), MaxRequestMessage)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("a request message that is not UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return fmt.Errorf("a request message with control characters")
		}
	}
	return nil
}
