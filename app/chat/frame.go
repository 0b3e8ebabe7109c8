package chat

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// Limits of the chat channel's frames (the spec is in doc.go).
const (
	// MaxFrame is the largest frame either side sends or accepts: pion,
	// like browsers, assumes a peer takes data-channel messages up to
	// 65535 bytes when it does not advertise a max-message-size.
	MaxFrame = 1<<16 - 1
	// MaxText is the largest message text in bytes of UTF-8: what fits
	// in one message frame.
	MaxText = MaxFrame - msgHeader
	// MaxApp is the largest payload of an app frame.
	MaxApp = MaxFrame - 1
	// MaxAcks is the most message IDs one ack frame carries.
	MaxAcks = 1024
	// MaxPeer is the longest peer name in bytes.
	MaxPeer = 128
)

// msgHeader is a message frame's size without its text: kind, ID, seq,
// floor and time.
const msgHeader = 1 + 16 + 8 + 8 + 8

// Kind is a frame's first byte.
type Kind byte

// The frame kinds.
const (
	KindMessage Kind = 'M'
	KindAck     Kind = 'A'
	KindTyping  Kind = 'T'
	KindApp     Kind = 'P'
)

func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindAck:
		return "ack"
	case KindTyping:
		return "typing"
	case KindApp:
		return "app"
	}
	return fmt.Sprintf("kind 0x%02x", byte(k))
}

// Frame is one message on the chat data channel. Which fields count
// depends on Kind.
type Frame struct {
	Kind Kind

	// KindMessage.
	ID    [16]byte
	Seq   uint64 // 1, 2, … per sender and conversation
	Floor uint64 // every seq below it is acknowledged; ≤ Seq
	Time  time.Time
	Text  string

	// KindAck: the IDs of messages committed by the receiver.
	Acks [][16]byte

	// KindTyping.
	On bool

	// KindApp: opaque to the chat engine. Decode's Data aliases its input.
	Data []byte
}

// Encode returns the frame's bytes, or an error if it breaks a limit of
// the spec (the same ones Decode checks).
func (f *Frame) Encode() ([]byte, error) {
	switch f.Kind {
	case KindMessage:
		if err := checkMessage(f.Seq, f.Floor, f.Text); err != nil {
			return nil, err
		}
		b := make([]byte, msgHeader, msgHeader+len(f.Text))
		b[0] = byte(KindMessage)
		copy(b[1:], f.ID[:])
		binary.BigEndian.PutUint64(b[17:], f.Seq)
		binary.BigEndian.PutUint64(b[25:], f.Floor)
		binary.BigEndian.PutUint64(b[33:], uint64(f.Time.UnixMilli()))
		return append(b, f.Text...), nil
	case KindAck:
		if len(f.Acks) == 0 || len(f.Acks) > MaxAcks {
			return nil, fmt.Errorf("%w: ack of %d IDs, want 1 to %d", ErrBadFrame, len(f.Acks), MaxAcks)
		}
		b := make([]byte, 1, 1+16*len(f.Acks))
		b[0] = byte(KindAck)
		for _, id := range f.Acks {
			b = append(b, id[:]...)
		}
		return b, nil
	case KindTyping:
		b := []byte{byte(KindTyping), 0}
		if f.On {
			b[1] = 1
		}
		return b, nil
	case KindApp:
		if len(f.Data) == 0 || len(f.Data) > MaxApp {
			return nil, fmt.Errorf("%w: app payload of %d bytes, want 1 to %d", ErrTooLarge, len(f.Data), MaxApp)
		}
		return append([]byte{byte(KindApp)}, f.Data...), nil
	}
	return nil, fmt.Errorf("%w: unknown %v", ErrBadFrame, f.Kind)
}

// Decode parses one frame and checks every limit of the spec. Errors
// wrap ErrBadFrame or ErrTooLarge and fit on one line.
func Decode(b []byte) (Frame, error) {
	if len(b) > MaxFrame {
		return Frame{}, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, len(b), MaxFrame)
	}
	if len(b) == 0 {
		return Frame{}, fmt.Errorf("%w: empty frame", ErrBadFrame)
	}
	f := Frame{Kind: Kind(b[0])}
	switch f.Kind {
	case KindMessage:
		if len(b) < msgHeader {
			return Frame{}, fmt.Errorf("%w: message frame of %d bytes, shorter than its %d-byte header", ErrBadFrame, len(b), msgHeader)
		}
		copy(f.ID[:], b[1:17])
		f.Seq = binary.BigEndian.Uint64(b[17:])
		f.Floor = binary.BigEndian.Uint64(b[25:])
		f.Time = time.UnixMilli(int64(binary.BigEndian.Uint64(b[33:])))
		f.Text = string(b[msgHeader:])
		if err := checkMessage(f.Seq, f.Floor, f.Text); err != nil {
			return Frame{}, err
		}
	case KindAck:
		n := len(b) - 1
		if n == 0 || n%16 != 0 || n/16 > MaxAcks {
			return Frame{}, fmt.Errorf("%w: ack frame of %d bytes, want 1 + 16·n with n from 1 to %d", ErrBadFrame, len(b), MaxAcks)
		}
		f.Acks = make([][16]byte, n/16)
		for i := range f.Acks {
			copy(f.Acks[i][:], b[1+16*i:])
		}
	case KindTyping:
		if len(b) != 2 || b[1] > 1 {
			return Frame{}, fmt.Errorf("%w: typing frame must be 2 bytes ending in 0 or 1", ErrBadFrame)
		}
		f.On = b[1] == 1
	case KindApp:
		if len(b) < 2 {
			return Frame{}, fmt.Errorf("%w: empty app frame", ErrBadFrame)
		}
		f.Data = b[1:]
	default:
		return Frame{}, fmt.Errorf("%w: unknown kind 0x%02x", ErrBadFrame, b[0])
	}
	return f, nil
}

// checkMessage applies the limits of a message frame.
func checkMessage(seq, floor uint64, text string) error {
	switch {
	case seq == 0 || seq > math.MaxInt64:
		return fmt.Errorf("%w: message seq %d out of range", ErrBadFrame, seq)
	case floor > seq:
		return fmt.Errorf("%w: message floor %d above its seq %d", ErrBadFrame, floor, seq)
	case text == "":
		return fmt.Errorf("%w: message without text", ErrBadFrame)
	}
	return checkText(text)
}

// checkText applies the limits of a message's text.
func checkText(text string) error {
	switch {
	case text == "":
		return ErrEmpty
	case len(text) > MaxText:
		return fmt.Errorf("%w: text of %d bytes, limit %d", ErrTooLarge, len(text), MaxText)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: text is not UTF-8", ErrBadFrame)
	}
	return nil
}

// checkPeer applies the limits of a peer name.
func checkPeer(name string) error {
	if name == "" || len(name) > MaxPeer || !utf8.ValidString(name) {
		return fmt.Errorf("%w: %q", ErrBadPeer, truncate(name, 40))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
