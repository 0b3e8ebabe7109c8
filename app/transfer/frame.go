package transfer

import (
	"encoding/binary"
	"fmt"
)

// MaxFrame is the largest data-channel message either side sends or
// accepts. pion sends messages up to the peer's advertised
// max-message-size and assumes 65535 bytes when it is not advertised, as
// browsers do; staying under it keeps any WebRTC peer able to read us.
const MaxFrame = 64 << 10

// Frame kinds on a transfer's data channel.
const (
	frameList   = 'L' // receiver → sender: from u32, count u32: send chunk hashes
	frameHashes = 'H' // sender → receiver: from u32, then 32-byte hashes
	frameReq    = 'R' // receiver → sender: from u32, to u32: send chunks [from, to)
	frameData   = 'D' // sender → receiver: chunk u32, offset u32, payload
	frameAck    = 'A' // receiver → sender: verified bytes u64
)

const (
	dataHeader = 9
	// hashesPerFrame fills a frame with chunk hashes.
	hashesPerFrame = (MaxFrame - 5) / 32
)

// frame is one decoded data-channel message. Payload aliases the
// decoded buffer.
type frame struct {
	Kind    byte
	A, B    uint32 // from/to, from/count, chunk/offset
	N       uint64 // frameAck
	Payload []byte // frameHashes, frameData
}

// decodeFrame parses one data-channel message; it checks sizes and
// shapes, not meaning (the transfer checks indices against the offer).
func decodeFrame(b []byte) (frame, error) {
	if len(b) > MaxFrame {
		return frame{}, fmt.Errorf("transfer: frame of %d bytes, limit %d: %w", len(b), MaxFrame, ErrTooLarge)
	}
	if len(b) == 0 {
		return frame{}, fmt.Errorf("transfer: empty frame")
	}
	f := frame{Kind: b[0]}
	switch f.Kind {
	case frameList, frameReq:
		if len(b) != 9 {
			return frame{}, fmt.Errorf("transfer: %c frame of %d bytes, want 9", f.Kind, len(b))
		}
		f.A = binary.BigEndian.Uint32(b[1:])
		f.B = binary.BigEndian.Uint32(b[5:])
		if f.Kind == frameReq && f.B <= f.A {
			return frame{}, fmt.Errorf("transfer: request for chunks [%d, %d) is empty", f.A, f.B)
		}
		if f.Kind == frameList && f.B == 0 {
			return frame{}, fmt.Errorf("transfer: request for no hashes")
		}
	case frameHashes:
		if len(b) < 5+32 || (len(b)-5)%32 != 0 {
			return frame{}, fmt.Errorf("transfer: hash frame of %d bytes is not 5 + a multiple of 32", len(b))
		}
		f.A = binary.BigEndian.Uint32(b[1:])
		f.Payload = b[5:]
	case frameData:
		if len(b) < dataHeader {
			return frame{}, fmt.Errorf("transfer: data frame of %d bytes, shorter than its header", len(b))
		}
		f.A = binary.BigEndian.Uint32(b[1:])
		f.B = binary.BigEndian.Uint32(b[5:])
		f.Payload = b[dataHeader:]
	case frameAck:
		if len(b) != 9 {
			return frame{}, fmt.Errorf("transfer: ack frame of %d bytes, want 9", len(b))
		}
		f.N = binary.BigEndian.Uint64(b[1:])
	default:
		return frame{}, fmt.Errorf("transfer: unknown frame kind 0x%02x", f.Kind)
	}
	return f, nil
}

func encodePair(kind byte, a, b uint32) []byte {
	m := make([]byte, 9)
	m[0] = kind
	binary.BigEndian.PutUint32(m[1:], a)
	binary.BigEndian.PutUint32(m[5:], b)
	return m
}

func encodeAck(n uint64) []byte {
	m := make([]byte, 9)
	m[0] = frameAck
	binary.BigEndian.PutUint64(m[1:], n)
	return m
}

// putDataHeader writes a data frame's header into m[:dataHeader].
func putDataHeader(m []byte, chunk, off uint32) {
	m[0] = frameData
	binary.BigEndian.PutUint32(m[1:], chunk)
	binary.BigEndian.PutUint32(m[5:], off)
}
