package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
)

// The control data channel: the session's own small protocol (ping,
// pong), opened by the offerer with the session; nothing on it is acted
// on before the other side's identity is verified.

// useControl takes dc as the session's control channel.
func (s *Session) useControl(dc *webrtc.DataChannel) {
	s.mu.Lock()
	if s.control != nil {
		s.mu.Unlock()
		return // only the first control channel counts
	}
	s.control = dc
	s.mu.Unlock()
	dc.OnOpen(func() { s.openOnce.Do(func() { close(s.opened) }) })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		if s.Verify() != nil {
			return // nothing is taken before the identity is checked
		}
		if msg.IsString {
			return
		}
		kind, id, ok := parseControl(msg.Data)
		switch {
		case !ok:
		case kind == ctlPing:
			if err := dc.Send(controlMessage(ctlPong, id)); err != nil {
				s.log.Debug("pong not sent", "err", err)
			}
		case kind == ctlPong:
			now := time.Now()
			s.mu.Lock()
			ch := s.pings[id]
			delete(s.pings, id)
			s.mu.Unlock()
			if ch != nil {
				ch <- now
			}
		}
	})
	dc.OnClose(func() { s.remoteEnded(fmt.Errorf("media: %s closed the session", s.cfg.Remote)) })
}

// Control channel messages: a kind byte and a 64-bit big-endian request
// ID. Anything else is ignored, so later versions can add kinds.
const (
	ctlPing = 'p' // echo the ID back in a pong
	ctlPong = 'P'
	ctlLen  = 9
)

func controlMessage(kind byte, id uint64) []byte {
	b := make([]byte, ctlLen)
	b[0] = kind
	binary.BigEndian.PutUint64(b[1:], id)
	return b
}

// parseControl reads a control message; ok is false for anything that
// is not one.
func parseControl(b []byte) (kind byte, id uint64, ok bool) {
	if len(b) != ctlLen || (b[0] != ctlPing && b[0] != ctlPong) {
		return 0, 0, false
	}
	return b[0], binary.BigEndian.Uint64(b[1:]), true
}

// Ping measures a round trip over the control channel: a request the
// other side's session answers by itself.
func (s *Session) Ping(ctx context.Context) (time.Duration, error) {
	if err := s.Open(ctx); err != nil {
		return 0, err
	}
	var idb [8]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint64(idb[:])
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.pings[id] = ch
	dc := s.control
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pings, id)
		s.mu.Unlock()
	}()
	start := time.Now()
	if err := dc.Send(controlMessage(ctlPing, id)); err != nil {
		return 0, fmt.Errorf("media: ping: %w", err)
	}
	select {
	case t := <-ch:
		return t.Sub(start), nil
	case <-s.done:
		return 0, s.Err()
	case <-ctx.Done():
		return 0, fmt.Errorf("media: ping %s: %w", s.cfg.Remote, ctx.Err())
	}
}
