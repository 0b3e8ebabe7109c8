package media

import (
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// ErrNotVerified is the error of OpenChannel before the other side's
// certificate has been verified (Open has not returned yet).
var ErrNotVerified = errors.New("media: the other side is not verified yet")

// OpenChannel opens a reliable, ordered data channel with label on an
// open session. The other side gets it through its Config.OnChannel.
// Labels are the caller's protocol ("chat", "file:ID"); the control
// channel's label is taken.
func (s *Session) OpenChannel(label string) (*webrtc.DataChannel, error) {
	if label == ControlLabel || label == "" {
		return nil, fmt.Errorf("media: channel label %q is not free", label)
	}
	select {
	case <-s.verified:
	default:
		return nil, ErrNotVerified
	}
	if s.ended() {
		return nil, s.Err()
	}
	dc, err := s.pc.CreateDataChannel(label, nil)
	if err != nil {
		return nil, fmt.Errorf("media: channel %q: %s", label, oneLine(err.Error()))
	}
	return dc, nil
}

// onDataChannel takes a channel the other side opened: the control
// channel for the answerer, and every other one for Config.OnChannel,
// which is only given channels once the other side's certificate has
// passed; a channel from a refused certificate is closed.
func (s *Session) onDataChannel(dc *webrtc.DataChannel) {
	if dc.Label() == ControlLabel {
		if !s.offerer {
			s.useControl(dc)
		}
		return
	}
	if s.cfg.OnChannel == nil {
		dc.Close()
		return
	}
	// The channel's first messages may follow its opening at once, and
	// pion drops messages that come before OnChannel sets a handler:
	// verify now (SCTP runs over DTLS, so the handshake is done) and
	// hand the channel over on this goroutine.
	switch err := s.Verify(); {
	case err == nil:
		s.cfg.OnChannel(dc)
		return
	case !errors.Is(err, errNotYet):
		dc.Close()
		return
	}
	go func() {
		select {
		case <-s.verified:
			s.cfg.OnChannel(dc)
		case <-s.done:
			dc.Close()
		}
	}()
}
