package app

import (
	"bytes"
	"encoding/json"
	"fmt"

	"soitto/bootstrap"
)

// kindCall is the signal kind of call control.
const kindCall = "call"

// Call control, in "call" signals between the two users' programs:
//
//	{"call":"<32 hex>","action":"invite","via":"host:port"}
//	{"call":"<32 hex>","action":"ringing"}
//	{"call":"<32 hex>","action":"accept","via":"host:port"}
//	{"call":"<32 hex>","action":"decline"}
//	{"call":"<32 hex>","action":"busy"}
//	{"call":"<32 hex>","action":"cancel"}          the caller gave up before an answer
//	{"call":"<32 hex>","action":"cancel","reason":"no answer"}   … because it rang too long
//	{"call":"<32 hex>","action":"hangup","reason":"…"}
//
// The caller picks the ID and sends invite, naming the super-peer its
// program is attached to (where replies go). The callee's program
// answers busy when it is in a call, else ringing, then accept or
// decline. After accept the caller opens a session with an audio track
// (a "session" signal whose offer names the call); the callee answers
// only an offer for a call it accepted. Either side ends the call with
// hangup (or cancel, before the answer).
const (
	actInvite  = "invite"
	actRinging = "ringing"
	actAccept  = "accept"
	actDecline = "decline"
	actBusy    = "busy"
	actCancel  = "cancel"
	actHangup  = "hangup"
)

// maxCallSignal bounds a call signal's payload.
const maxCallSignal = 1024

type callSignal struct {
	Call   string `json:"call"`
	Action string `json:"action"`
	Via    string `json:"via,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (m callSignal) encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

func decodeCallSignal(b []byte) (callSignal, error) {
	var m callSignal
	if len(b) > maxCallSignal {
		return m, fmt.Errorf("call signal of %d bytes (at most %d)", len(b), maxCallSignal)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("call signal: %v", err)
	}
	if dec.More() {
		return m, fmt.Errorf("call signal: data after the object")
	}
	return m, m.check()
}

func (m callSignal) check() error {
	if !validCallID(m.Call) {
		return fmt.Errorf("call signal: call ID %q is not 32 lowercase hex digits", m.Call)
	}
	switch m.Action {
	case actInvite, actAccept:
		if err := bootstrap.CheckHostPort(m.Via); err != nil {
			return fmt.Errorf("call signal: %s with reply address %q: %v", m.Action, m.Via, err)
		}
	case actRinging, actDecline, actBusy, actCancel, actHangup:
		if m.Via != "" {
			return fmt.Errorf("call signal: %s with a reply address", m.Action)
		}
	default:
		return fmt.Errorf("call signal: unknown action %q", m.Action)
	}
	if len(m.Reason) > 200 {
		return fmt.Errorf("call signal: reason of %d bytes (at most 200)", len(m.Reason))
	}
	return nil
}

func validCallID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, r := range id {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}
